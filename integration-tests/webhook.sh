#!/bin/sh
# webhook.sh - the s3-webhook watch's HTTP side, end to end with curl (no
# store: the jobs only wait): each sample notification (RGW, AWS, MinIO,
# SNS) is queued under its bucket and key, decoded on its store's terms;
# bad requests get their answer and cost nothing; a slow client holds up
# no one; /metrics is well formed and counts what happened.
. "$top_srcdir/integration-tests/lib.sh"

ev=$top_srcdir/watcher/tests/events
PORT=$(free_port) && DEAD=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$PORT
HOOK=$URL/events/in
TOKEN=tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN" >token
printf 'access-key = AK\nsecret-key = SK\n' >cred
chmod 600 token cred
# The store is a closed port: every job fails to fetch and waits up to a
# minute (full jitter), again and again: never dead, however long the test
# runs on a busy machine.
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="5s"/>
  <http listen="127.0.0.1:$PORT" max-body="4MiB" timeout="30s"/>
  <store name="s3" endpoint="http://127.0.0.1:$DEAD" region="default"
         credentials-file="$T/cred" timeout="2s" connect-timeout="1s"/>
  <watch name="in" type="s3-webhook" path="/events/in" store="s3"
         token-file="$T/token"/>
  <watch name="sns" type="s3-webhook" path="/events/sns" store="s3"
         token-file="$T/token" sns-confirm="yes"/>
  <watch name="busy" type="s3-webhook" path="/events/busy" store="s3"
         max-pending="100"/>
  <trigger name="t" watch="in">
    <transform plugin="copy"/>
    <output path="$T/out/{key}"/>
    <retry attempts="1000" backoff="60s" max-backoff="60s"/>
  </trigger>
  <trigger name="gone" watch="in" events="removed">
    <transform plugin="copy"/>
    <output path="$T/gone/{key}"/>
    <retry attempts="1000" backoff="60s" max-backoff="60s"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml

# The bodies: the samples as they are, and made from them.
python3 - "$ev" <<'PY' || fail "cannot make the bodies"
import json, struct, sys
ev = sys.argv[1]
def load(name):
    with open("%s/%s.json" % (ev, name)) as f:
        return json.load(f)
def save(name, body):
    with open(name + ".json", "w") as f:
        json.dump(body, f, separators=(",", ":"))
def record(src, key, seq=None, name="ObjectCreated:Put", bucket=None):
    r = json.loads(json.dumps(load(src)["Records"][0]))
    r["s3"]["object"]["key"] = key
    r["eventName"] = name
    if seq is not None:
        r["s3"]["object"]["sequencer"] = seq
    if bucket is not None:
        r["s3"]["bucket"]["name"] = bucket
    # Each record its own request and event ids, as each upload has.
    global serial
    serial += 1
    r["responseElements"]["x-amz-request-id"] = "TESTREQ%08d" % serial
    if "eventId" in r:
        r["eventId"] = "1795715168.%06d.test" % serial
    return r
serial = 0
def rgw_seq(sec, nsec):  # RGW: the hex of a little-endian utime_t
    return struct.pack("<II", sec, nsec).hex().upper()
def sns(message):  # the envelope of the sample, around another message
    env = load("sns-notification-aws-put")
    env["Message"] = json.dumps(message, separators=(",", ":"))
    return env
save("sns-put", sns({"Records": [record("aws-s3-put", "uploads/via+sns+%281%29.jpg")]}))
save("passwd", {"Records": [record("ceph-rgw-http-put", "../../etc/passwd")]})
# One good record, three bad ones, one of a kind we do not act on.
empty = record("aws-s3-put", "")
nul = record("ceph-rgw-http-put", "nul/a\u0000b.jpg")
other = record("aws-s3-put", "mixed/gcs.jpg")
other["eventSource"] = "gcs:storage"
save("mixed", {"Records": [record("aws-s3-put", "mixed/ok.jpg"), empty, nul,
                           other, record("aws-s3-put", "mixed/tag.jpg", name="ObjectTagging:Put")]})
save("all-bad", {"Records": [empty, nul]})
# Sequencers: AWS's are big-endian hex, RGW's little-endian, where the
# newer (sec 0x100) reads as the smaller number.
save("aws-new", {"Records": [record("aws-s3-put", "seq/aws.jpg", "00000000000000000B")]})
save("aws-old", {"Records": [record("aws-s3-put", "seq/aws.jpg", "00000000000000000A")]})
save("rgw-new", {"Records": [record("ceph-rgw-http-put", "seq/rgw.jpg", rgw_seq(0x100, 0))]})
save("rgw-old", {"Records": [record("ceph-rgw-http-put", "seq/rgw.jpg", rgw_seq(0xFF, 999999999))]})
for i in range(8):
    save("during-%d" % i, {"Records": [record("ceph-rgw-http-put", "during/%d.jpg" % i)]})
for i in range(2):
    save("slow-%d" % i, {"Records": [record("ceph-rgw-http-put", "slow/%d.jpg" % i)]})
# 10,000 records in one body, as short as RGW's records get.
bulk = []
for i in range(10000):
    bulk.append({"eventVersion": "2.2", "eventSource": "ceph:s3",
                 "eventTime": "2026-11-26T17:46:08.019569Z",
                 "eventName": "ObjectCreated:Put",
                 "s3": {"bucket": {"name": "bulk"},
                        "object": {"key": "bulk/k%05d" % i, "size": 10,
                                   "eTag": "9023402ddf388851d184bb3a6a077928",
                                   "versionId": "", "sequencer": rgw_seq(1795715168, i)}},
                 "eventId": "1795715168.%06d.9023402ddf388851d184bb3a6a077928" % i})
save("bulk", {"Records": bulk})
PY
[ "$(wc -c <bulk.json)" -lt 4194304 ] || fail "the 10,000 records are over 4 MiB"

DAEMON_OPTS=-v start_daemon ot.xml
wait_until 20 http_up "$URL/healthz" || { cat daemon.log; fail "no /healthz"; }

# The totals the metrics must show at the end.
accepted=0 duplicate=0 stale=0 rejected=0 jobs_t=0 jobs_gone=0 codes=

# post FILE [CURL-ARGS...]: POSTs FILE to the watch with the token.
post() {
	_p=$1
	shift
	code=$(http_code "$HOOK" -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' --data-binary "@$_p" "$@")
	codes="$codes $code"
}

# answered ACCEPTED DUPLICATE STALE REJECTED IGNORED: the last POST got
# 200 with those counts, as JSON.
answered() {
	_a=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(*(a[k] for k in ("accepted", "duplicate", "stale", "rejected", "ignored")))' \
	    "$T/body" 2>/dev/null)
	if [ "$code" != 200 ] || [ "$_a" != "$*" ]; then
		cat "$T/headers" "$T/body"
		fail "answer $code '$_a', expected 200 '$*'"
	fi
	grep -qi '^content-type: application/json' "$T/headers" ||
	    fail "the answer is not application/json"
	accepted=$((accepted + $1)) duplicate=$((duplicate + $2))
	stale=$((stale + $3)) rejected=$((rejected + $4))
}

# refused CODE WHAT: the last request got CODE and {"error": "..."}.
refused() {
	if [ "$code" != "$1" ]; then
		cat "$T/headers" "$T/body"
		fail "$2: answered $code, expected $1"
	fi
	python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert isinstance(e, str) and e' "$T/body" 2>/dev/null || {
		cat "$T/body"
		fail "$2: the $1 answer is not {\"error\": \"...\"}"
	}
}

# queued TRIGGER BUCKET KEY: the daemon queued a job for that object.
queued() {
	queued_line "$1" "$2" "$3" || {
		grep ' queued: ' daemon.log | tail -n 20
		fail "no job of trigger $1 for bucket '$2' key '$3'"
	}
}

# Each sample, decoded as its store wrote it.
post "$ev/ceph-rgw-http-put.json"
answered 1 0 0 0 0
queued t notifbucket incoming/photo1.jpg
post "$ev/ceph-rgw-http-ObjectCreated-Put-key-with-space.json"
answered 1 0 0 0 0
queued t spacekeys 'dir/my photo+1 é.jpg' # RGW: raw, a '+' is a '+'
post "$ev/ceph-rgw-http-ObjectCreated-CompleteMultipartUpload.json"
answered 1 0 0 0 0
queued t notifbucket incoming/big-multipart.bin
post "$ev/ceph-rgw-http-ObjectCreated-Copy.json"
answered 1 0 0 0 0
queued t notifbucket incoming/photo1-copy.jpg
post "$ev/ceph-rgw-http-ObjectRemoved-Delete.json"
answered 1 0 0 0 0
queued gone notifbucket incoming/photo1-copy.jpg
post "$ev/ceph-rgw-amqp-put.json"
answered 1 0 0 0 0
queued t amqpbucket in/a1.png
post "$ev/aws-s3-put.json"
answered 1 0 0 0 0
queued t photos-in 'uploads/red flower (1).jpg' # AWS: form-encoded
post "$ev/minio-put.json"
answered 1 0 0 0 0
queued t images 'uploads/my photo.jpg' # MinIO: even '/' is %2F
post sns-put.json
answered 1 0 0 0 0
queued t photos-in 'uploads/via sns (1).jpg'
jobs_t=$((jobs_t + 8)) jobs_gone=$((jobs_gone + 1))

# AWS's test message, bare or in SNS: 200, nothing queued.
n=$(grep -c ' queued: trigger=' daemon.log)
for f in "$ev/aws-s3-test-event.json" "$ev/sns-notification-test-event.json"; do
	post "$f"
	[ "$code" = 200 ] || { cat "$T/body"; fail "$f: answered $code"; }
done
# SNS's subscription confirmation: 200, and the URL to visit is logged.
post "$ev/sns-subscription-confirmation.json"
[ "$code" = 200 ] || { cat "$T/body"; fail "SubscriptionConfirmation: answered $code"; }
grep -qF "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" daemon.log ||
    fail "the SubscribeURL was not logged"
[ "$(grep -c ' queued: trigger=' daemon.log)" = "$n" ] || fail "a test message queued a job"
# With sns-confirm="yes", only SNS's own https URL is fetched: a forged
# confirmation cannot make the daemon fetch another one.
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
m["SubscribeURL"] = "http://127.0.0.1:" + sys.argv[2] + "/steal"
json.dump(m, open("forged.json", "w"))
' "$ev/sns-subscription-confirmation.json" "$DEAD" || fail "cannot forge"
code=$(http_code "$URL/events/sns" -H "Authorization: Bearer $TOKEN" \
    --data-binary @forged.json)
[ "$code" = 200 ] || fail "a forged SubscriptionConfirmation: answered $code"
wait_until 5 logged 1 'watch sns: not confirmed: the URL is not https://sns' ||
    fail "a forged SubscribeURL was not refused"

# The same record again is a duplicate, bare or in SNS; an older
# sequencer for a key after a newer one is stale, by each store's
# reading of it.
post "$ev/ceph-rgw-http-put.json"
answered 0 1 0 0 0
post "$ev/sns-notification-aws-put.json"
answered 0 1 0 0 0
post aws-new.json
answered 1 0 0 0 0
post aws-old.json
answered 0 0 1 0 0
post rgw-new.json
answered 1 0 0 0 0
post rgw-old.json
answered 0 0 1 0 0
jobs_t=$((jobs_t + 2))

# A key is a key, never a path: accepted as it is, nothing written.
[ -e /tmp/etc ] && tmp_etc=yes || tmp_etc=no
sum_passwd=$(cksum </etc/passwd)
post passwd.json
answered 1 0 0 0 0
queued t notifbucket ../../etc/passwd
jobs_t=$((jobs_t + 1))

# A bad record costs itself only; if all are bad, the body is refused.
post mixed.json
answered 1 0 0 3 1
queued t photos-in mixed/ok.jpg
jobs_t=$((jobs_t + 1))
post all-bad.json
refused 400 "every record bad"
rejected=$((rejected + 2))

# From here, a request refused whole (a bad token, a body that is no
# notification) counts as one rejected event: its records are unknown.
# A 413 or a 404 counts none.

# Bodies that are no notification.
echo 'this is not JSON' >notjson
post notjson
refused 400 "not JSON"
echo '{"hello": "world"}' >other.json
post other.json
refused 400 "JSON of another shape"
echo '[1, 2]' >array.json
post array.json
refused 400 "a JSON array"
rejected=$((rejected + 3))

# The token: missing, wrong, or another scheme.
code=$(http_code "$HOOK" --data-binary "@$ev/ceph-rgw-http-put.json")
codes="$codes $code"
refused 401 "no token"
grep -qi '^www-authenticate: bearer' "$T/headers" || fail "401 without WWW-Authenticate: Bearer"
code=$(http_code "$HOOK" -H "Authorization: Bearer ${TOKEN}x" \
    --data-binary "@$ev/ceph-rgw-http-put.json")
codes="$codes $code"
refused 401 "a wrong token"
code=$(http_code "$HOOK" -u "user:$TOKEN" --data-binary "@$ev/ceph-rgw-http-put.json")
codes="$codes $code"
refused 401 "basic authentication"
rejected=$((rejected + 3))

# Other paths and methods.
code=$(http_code "$URL/events/nope" -H "Authorization: Bearer $TOKEN" \
    --data-binary "@$ev/ceph-rgw-http-put.json")
codes="$codes $code"
[ "$code" = 404 ] || fail "an unknown path answered $code"
code=$(http_code "$HOOK" -H "Authorization: Bearer $TOKEN")
codes="$codes $code"
[ "$code" = 405 ] || fail "GET on the watch answered $code"
code=$(http_code "$URL/metrics" --data-binary x)
codes="$codes $code"
[ "$code" = 405 ] && grep -qi '^allow: GET' "$T/headers" ||
    fail "POST /metrics answered $code, or without Allow: GET"

# 50 MB: refused, as a whole body and sent in chunks; the daemon is fine.
head -c 52428800 /dev/zero | tr '\0' ' ' >big.json
post big.json
refused 413 "a 50 MB body"
post big.json -H 'Transfer-Encoding: chunked'
refused 413 "a 50 MB body in chunks"
kill -0 "$DAEMON_PID" || fail "the daemon died of a big body"
rm big.json

# Slow clients, one in its headers and one in its body, a byte a second
# until slow.go appears: meanwhile others are answered, and in the end so
# are they.
cat >slow.py <<'PY'
import os, socket, sys, time
port, token, body, phase = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4]
head = ("POST /events/in HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (token, len(body))).encode()
data = head + body
slow_from = 0 if phase == "headers" else len(head) + 1
s = socket.create_connection(("127.0.0.1", port))
s.sendall(data[:slow_from])
i = 0
while not os.path.exists("slow.go") and i < 120:  # a byte a second
    s.sendall(data[slow_from + i:slow_from + i + 1])
    time.sleep(1)
    i += 1
s.sendall(data[slow_from + i:])
answer = s.makefile("rb").readline().decode()
print(answer.split(" ")[1] if " " in answer else "none")
PY
python3 slow.py "$PORT" "$TOKEN" slow-0.json headers >slow-0.out 2>&1 &
slow0=$!
python3 slow.py "$PORT" "$TOKEN" slow-1.json body >slow-1.out 2>&1 &
slow1=$!
sleep 1
i=0
while [ $i -lt 8 ]; do
	post "during-$i.json"
	answered 1 0 0 0 0
	sleep 0.5
	i=$((i + 1))
done
kill -0 "$slow0" && kill -0 "$slow1" || fail "the slow clients were done before the others"
touch slow.go
wait "$slow0" "$slow1"
[ "$(cat slow-0.out)" = 200 ] || fail "the client slow in its headers got: $(cat slow-0.out)"
[ "$(cat slow-1.out)" = 200 ] || fail "the client slow in its body got: $(cat slow-1.out)"
accepted=$((accepted + 2)) codes="$codes 200 200"
queued t notifbucket slow/0.jpg
queued t notifbucket slow/1.jpg
jobs_t=$((jobs_t + 10))

# 10,000 records in one body: all taken, in one answer.
post bulk.json
answered 10000 0 0 0 0
queued t bulk bulk/k00000
queued t bulk bulk/k09999
jobs_t=$((jobs_t + 10000))

# Over the queue's high mark (max-pending), the sender is told to wait.
sleep 1.1 # the depth is read at most once a second
code=$(http_code "$URL/events/busy" --data-binary @aws-new.json)
[ "$code" = 503 ] || fail "over max-pending: answered $code"
grep -qi '^Retry-After: ' "$T/headers" || fail "a 503 without Retry-After"
expect "$T/body" "max-pending"

code=$(http_code "$URL/healthz")
[ "$code" = 200 ] && [ "$(cat "$T/body")" = ok ] ||
    fail "/healthz answered $code '$(cat "$T/body")'"

# Every job is in the journal, once.
run 0 "$OBJTRIGGER" status -c ot.xml --json
python3 - "$T/stdout" "$jobs_t" "$jobs_gone" <<'PY' || fail "the journal does not hold the jobs"
import json, sys
s = json.load(open(sys.argv[1]))["triggers"]
for name, want in (("t", int(sys.argv[2])), ("gone", int(sys.argv[3]))):
    got = sum(s.get(name, {}).values())
    if got != want:
        sys.exit("trigger %s: %d jobs in the journal, %d expected: %s" % (name, got, want, s.get(name)))
PY

# The metrics: well formed, and counting what happened here.
code=$(http_code "$URL/metrics")
[ "$code" = 200 ] || fail "/metrics answered $code"
cp "$T/body" metrics.txt
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" ||
    fail "/metrics is not text/plain; version=0.0.4"
check_metrics metrics.txt || { cat metrics.txt; fail "/metrics is not well formed"; }
for o in accepted duplicate stale rejected; do
	eval "want=\$$o"
	got=$(metric metrics.txt objtrigger_events_total watch=in outcome=$o)
	[ "$got" = "$want" ] || { grep events_total metrics.txt; fail "events $o: $got, expected $want"; }
done
for c in 400 401 404 405 413; do
	want=$(echo "$codes" | tr ' ' '\n' | grep -cx "$c")
	got=$(metric metrics.txt objtrigger_http_requests_total code=$c)
	[ "$got" = "$want" ] || { grep http_requests metrics.txt; fail "HTTP $c: $got, expected $want"; }
done
# Every job of t waits, but those of the one worker: the one it may be
# running and the one sent ahead behind it (both running in the journal);
# the removal's job ran: there was nothing to fetch.
depth=$(metric metrics.txt objtrigger_queue_depth) || fail "no objtrigger_queue_depth"
[ "$depth" -le "$jobs_t" ] && [ "$depth" -ge $((jobs_t - 2)) ] ||
    fail "queue depth $depth, expected $jobs_t or up to two less"
[ "$(metric metrics.txt objtrigger_dead_letters)" = 0 ] || fail "dead letters"
echo "# webhook: ${accepted} events accepted; $(grep -c '^objtrigger_' metrics.txt) series"

stop_daemon
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log; then
	fail "sanitizer report"
fi
[ "$tmp_etc" = yes ] || [ ! -e /tmp/etc ] || fail "/tmp/etc was made"
[ "$(cksum </etc/passwd)" = "$sum_passwd" ] || fail "/etc/passwd changed"
[ -z "$(find "$T" -name passwd)" ] || fail "a file named passwd was written"
exit 0
