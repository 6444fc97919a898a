#!/bin/sh
# http-transform.sh - the http transform against a real HTTP function:
# each class of answer, the CloudEvents the function gets, keys encoded
# once, and a 100 MiB object sent without being read into memory.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/http.so" ] || skip "built without libcurl"
FUNCTION_PID=
trap 'kill "$FUNCTION_PID" 2>/dev/null; cleanup' EXIT

/usr/bin/python3 "$top_srcdir/integration-tests/http-function.py" port \
    requests.log 2>function.log &
FUNCTION_PID=$!
wait_until 30 test -s port || fail "the function did not start"
F="http://127.0.0.1:$(cat port)"
# The same function over TLS, with a certificate for 127.0.0.1.
TLS_PID=
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem \
	    2>openssl.log || fail "openssl: $(cat openssl.log)"
	/usr/bin/python3 "$top_srcdir/integration-tests/http-function.py" \
	    tls-port requests.log cert.pem key.pem 2>tls-function.log &
	TLS_PID=$!
	wait_until 30 test -s tls-port || fail "the TLS function did not start"
fi
trap 'kill "$FUNCTION_PID" $TLS_PID 2>/dev/null; cleanup' EXIT

printf 's3cr3t-t0ken\n' >token
chmod 600 token
mkdir inbox

# trigger NAME URL [PARAMS] [ATTEMPTS] [TIMEOUT] [TRIGGER-ATTRIBUTES]: a
# trigger of the files NAME-*.
trigger() {
	cat <<XML
  <trigger name="$1" watch="in" match="$1-*" ${6:-}>
    <transform plugin="http">
      <param name="url" value="$2"/>
      <param name="timeout" value="${5:-30s}"/>
      <param name="max-response" value="1MiB"/>
      ${3:-}
    </transform>
    <output path="$T/out/$1/{dir}/{name}"/>
    <retry attempts="${4:-4}" backoff="100ms" max-backoff="10s"/>
  </trigger>
XML
}
{
	echo "<objtrigger>"
	echo "  <state path=\"$T/state\"/>"
	# A job may not take 48 MiB of memory: a 100 MiB object is streamed.
	echo "  <workers count=\"2\" timeout=\"60s\" memory=\"48MiB\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox\" recursive=\"yes\"/>"
	trigger ok "$F/ok/{key}?name={name}&amp;dir={dir}"
	trigger empty "$F/empty/{key}"
	trigger blank "$F/blank/{key}"
	trigger missing "$F/missing/{key}"
	trigger busy "$F/busy/{key}"
	trigger flaky "$F/flaky/{key}"
	trigger hang "$F/hang/{key}" "" 2 1s
	trigger big "$F/big/{key}"
	trigger moved "$F/moved/{key}"
	trigger follow "$F/moved/{key}" '<param name="follow" value="yes"/>'
	trigger tls "$F/tls/{key}" '<param name="follow" value="yes"/>'
	trigger event "$F/ok/event" '<param name="send" value="event"/>'
	# fetch="no": the event alone can go, the object cannot.
	trigger meta "$F/ok/meta" '<param name="send" value="event"/>' 4 "" 'fetch="no"'
	trigger nofetch "$F/ok/nofetch" '' 4 "" 'fetch="no"'
	# A batch: one request, and one output, per input.
	trigger batch "$F/ok/{key}" '' 4 "" 'batch-size="3" batch-window="5s"'
	if [ -n "$TLS_PID" ]; then
		S="https://127.0.0.1:$(cat tls-port)"
		trigger tlsok "$S/ok/{key}" '<param name="ca-file" value="'"$T"'/cert.pem"/>'
		trigger tlsbad "$S/ok/{key}" '' 1
		trigger tlsoff "$S/ok/{key}" '<param name="verify-tls" value="no"/>'
	fi
	trigger put "$F/ok/put" '<param name="send" value="none"/>
      <param name="method" value="PUT"/>
      <param name="header" value="X-Api-Key: abc"/>
      <param name="token-file" value="'"$T"'/token"/>'
	echo "</objtrigger>"
} >ot.xml
run 0 "$OBJTRIGGER" check -c ot.xml

# What cannot work is refused at load, each with its line; the token is
# never shown.
printf 's3cr3t-t0ken\n' >open-token
chmod 644 open-token
{
	echo "<objtrigger>"
	echo "  <state path=\"$T/state\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox\"/>"
	trigger a "ftp://127.0.0.1/{key}"
	trigger b "http://{bucket}.example/{key}"
	trigger c "$F/{nope}"
	trigger d "$F/" '<param name="header" value="Authorization: Basic x"/>'
	trigger e "$F/" '<param name="header" value="ce-id: 1"/>'
	trigger f "$F/" '<param name="token-file" value="'"$T"'/open-token"/>'
	trigger g "$F/" '<param name="name" value="{key}"/>'
	trigger h "$F/" '<param name="send" value="all"/>'
	trigger i "http://user:pa55@127.0.0.1/"
	echo "</objtrigger>"
} >bad.xml
run 1 "$OBJTRIGGER" check -c bad.xml
expect stderr 'url="ftp://127.0.0.1/{key}": the URL must start with http:// or https://'
expect stderr 'url="http://{bucket}.example/{key}": placeholders may only be in the URL'"'"'s path and query'
expect stderr '/{nope}": unknown placeholder at "{nope}"'
expect stderr 'header="Authorization: Basic x": Authorization comes from token-file'
expect stderr 'header="ce-id: 1": ce- headers are the event'"'"'s attributes'
expect stderr "open-token can be read by others than its owner: chmod 600"
expect stderr 'name="{key}": unknown placeholder at "{key}"'
expect stderr "send"
expect stderr 'no user or password in the URL'
expect stderr 'bad.xml: 9 errors'
if grep -qF s3cr3t-t0ken stderr; then
	fail "check showed the token"
fi

start_daemon ot.xml

mkdir inbox/sub
for k in ok-plain.txt 'ok-sp ace%25?#..ü.txt' sub/ok-deep.json empty-1 \
    blank-1 missing-1 busy-1 flaky-1 hang-1 big-1 moved-1 follow-1 tls-1 \
    event-1.txt put-1 meta-1.txt nofetch-1 batch-1 batch-2 batch-3 \
    ${TLS_PID:+tlsok-1 tlsbad-1 tlsoff-1}; do
	printf 'body of %s\n' "$k" >"inbox/$k.tmp"
	mv "inbox/$k.tmp" "inbox/$k"
done

# ended KEY: the job of KEY is done or dead.
ended() {
	grep -qE "(done|dead): trigger=[a-z]+ key=\"?$1" daemon.log
}
for k in ok-plain.txt 'ok-sp ace' sub/ok-deep.json empty-1 blank-1 \
    missing-1 busy-1 flaky-1 hang-1 big-1 moved-1 follow-1 tls-1 event-1 \
    put-1 meta-1 nofetch-1 batch-1 batch-2 batch-3 \
    ${TLS_PID:+tlsok-1 tlsbad-1 tlsoff-1}; do
	wait_until 180 ended "$k" || { cat daemon.log; fail "$k did not end"; }
done
# A new version of a file is another event, with another id.
printf 'body of ok-plain.txt\n' >inbox/ok-plain.txt.tmp
touch -d '1 hour ago' inbox/ok-plain.txt.tmp
mv inbox/ok-plain.txt.tmp inbox/ok-plain.txt
wait_until 180 logged 2 "done: trigger=ok key=ok-plain.txt" ||
    fail "the new version was not sent"
no_sanitizer_report

# 2xx with a body: the function's answer is the output.
expect out/ok/ok-plain.txt '"bytes": 21'
expect out/ok/ok-plain.txt "$(printf 'body of ok-plain.txt\n' | sha256sum | cut -c1-64)"
test -s "out/ok/ok-sp ace%25?#..ü.txt" || fail "no output for the odd key"
test -s out/ok/sub/ok-deep.json || fail "no output for sub/ok-deep.json"
expect daemon.log "done: trigger=follow key=follow-1"
test -s out/follow/follow-1 || fail "no output through the redirect"
# 204 and an empty 200: done, no output.
expect daemon.log "done: trigger=empty key=empty-1"
expect daemon.log "done: trigger=blank key=blank-1"
[ "$(files out/empty)" = 0 ] && [ "$(files out/blank)" = 0 ] ||
    fail "an empty answer gave an output"
# 404: a dead letter at once, with the status line and 1 KiB of body.
expect daemon.log "dead: trigger=missing key=missing-1 attempts=1"
expect daemon.log "HTTP/1.1 404 Not Found: no such function xxx"
grep "trigger=missing" daemon.log | grep -q "x\{1007\}" ||
    fail "the 404's message lost the start of its body"
grep "trigger=missing" daemon.log | grep -q "x\{1008\}" &&
    fail "the 404's message kept more than 1 KiB of body"
# 429 then 200, 500 twice then 200: retries, then the output.
expect daemon.log "retry: trigger=busy key=busy-1 attempts=1"
expect daemon.log "done: trigger=busy key=busy-1 attempts=2"
expect daemon.log "done: trigger=flaky key=flaky-1 attempts=3"
test -s out/flaky/flaky-1 || fail "no output after the 500s"
# A hang: a timeout, retried, then dead.
expect daemon.log "dead: trigger=hang key=hang-1 attempts=2"
grep "trigger=hang" daemon.log | grep -q "Operation timed out" ||
    fail "the hang did not time out"
# Too large, a redirect not followed, one to another scheme: rejected.
expect daemon.log "dead: trigger=big key=big-1 attempts=1"
expect daemon.log "the answer is larger than max-response (1048576 bytes)"
[ "$(files out/big)" = 0 ] || fail "a part of the large answer was kept"
expect daemon.log "dead: trigger=moved key=moved-1 attempts=1"
expect daemon.log "HTTP/1.1 302 Found: a redirect, not followed"
expect daemon.log "dead: trigger=tls key=tls-1 attempts=1"
expect daemon.log "done: trigger=meta key=meta-1.txt"
for n in 1 2 3; do
	expect out/batch/batch-$n '"path": "/ok/batch-'$n'"'
done
# HTTPS: the server's certificate is checked, against ca-file if given.
if [ -n "$TLS_PID" ]; then
	expect daemon.log "done: trigger=tlsok key=tlsok-1"
	expect out/tlsok/tlsok-1 '"path": "/ok/tlsok-1"'
	expect daemon.log "dead: trigger=tlsbad key=tlsbad-1 attempts=1"
	grep "trigger=tlsbad" daemon.log | grep -qi "certificate" ||
	    fail "no word of the certificate"
	expect daemon.log "done: trigger=tlsoff key=tlsoff-1"
	grep "trigger=tlsbad" daemon.log | sed 's/.*error=/https without ca-file: /'
fi
expect daemon.log "dead: trigger=nofetch key=nofetch-1 attempts=1"
expect daemon.log "send=object needs the object, which the trigger does not fetch"
# The token went to the function and nowhere else.
if grep -rqF s3cr3t-t0ken daemon.log state; then
	fail "the token was written down"
fi

# What the function got: CloudEvents, keys encoded once, ids stable.
/usr/bin/python3 - requests.log "$T/inbox" <<'PY' || fail "the requests were wrong"
import json, sys, urllib.parse
reqs = [json.loads(l) for l in open(sys.argv[1])]
inbox = sys.argv[2]
def one(prefix):
    r = [q for q in reqs if q["path"].startswith(prefix)]
    assert r, prefix
    return r
def check(cond, what):
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)
required = ["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-subject",
            "ce-time"]
for key in ["ok-plain.txt", "ok-sp ace%25?#..ü.txt", "sub/ok-deep.json"]:
    enc = urllib.parse.quote(key, safe="")
    name = urllib.parse.quote(key.split("/")[-1], safe="")
    dirq = urllib.parse.quote(key.rpartition("/")[0], safe="")
    r = one("/ok/" + enc + "?")
    if key == "ok-plain.txt":
        check(len(r) == 2, "two versions of " + key)
        check(r[0]["headers"]["ce-id"] != r[1]["headers"]["ce-id"],
              "two versions share an id")
        check(r[0]["headers"]["ce-time"] != r[1]["headers"]["ce-time"],
              "two versions share a time")
    else:
        check(len(r) == 1, "one request for " + key)
    h = r[0]["headers"]
    check(r[0]["path"] == "/ok/%s?name=%s&dir=%s" % (enc, name, dirq),
          "the path of %s: %s" % (key, r[0]["path"]))
    for a in required:
        check(a in h, "%s has no %s" % (key, a))
    check(h["ce-specversion"] == "1.0", "specversion")
    check(h["ce-type"] == "com.amazonaws.s3.ObjectCreated:Put", h["ce-type"])
    check(urllib.parse.unquote(h["ce-subject"]) == key, h["ce-subject"])
    check(h["ce-source"] == "file://" + urllib.parse.quote(inbox),
          h["ce-source"])
    check(h["ce-time"].endswith("Z") and "T" in h["ce-time"], h["ce-time"])
    check(r[0]["body"] == "body of %s\n" % key, "the body of " + key)
check(one("/ok/ok-plain.txt")[0]["headers"]["content-type"] == "text/plain",
      "the object's content type")
check(one("/ok/sub%2Fok-deep.json")[0]["headers"]["content-type"] ==
      "application/json", "the object's content type")
for kind, n in [("busy", 2), ("flaky", 3), ("hang", 2)]:
    r = one("/%s/%s-1" % (kind, kind))
    check(len(r) == n, "%d requests to %s" % (n, kind))
    check(len(set(q["headers"]["ce-id"] for q in r)) == 1,
          "the ce-id of %s changed between attempts" % kind)
ids = set(q["headers"].get("ce-id") for q in reqs if "ce-id" in q["headers"])
check(len(ids) == len(set((q["headers"]["ce-subject"], q["sha256"],
                           q["headers"]["ce-time"]) for q in reqs
                          if "ce-id" in q["headers"])),
      "two events share an id")
# Structured mode: the event in JSON, its data the S3 record.
e = one("/ok/event")[0]
check(e["headers"]["content-type"].startswith("application/cloudevents+json"),
      e["headers"]["content-type"])
check(not any(k.startswith("ce-") for k in e["headers"]), "ce- headers")
ev = json.loads(e["body"])
for a in ["specversion", "id", "source", "type", "subject", "time"]:
    check(a in ev, "the event has no " + a)
check(ev["datacontenttype"] == "application/json", "datacontenttype")
rec = ev["data"]
check(rec["eventName"] == "ObjectCreated:Put", rec)
check(rec["s3"]["object"]["key"] == "event-1.txt", rec)
check(rec["s3"]["object"]["size"] == len("body of event-1.txt\n"), rec)
check(rec["s3"]["bucket"]["name"] == inbox, rec)
for n in "123":
    b = one("/ok/batch-" + n)
    check(len(b) == 1 and b[0]["body"] == "body of batch-%s\n" % n and
          b[0]["headers"]["ce-subject"] == "batch-" + n, "batch-" + n)
check(len(set(one("/ok/batch-" + n)[0]["headers"]["ce-id"] for n in "123"))
      == 3, "the inputs of a batch share an id")
m = json.loads(one("/ok/meta")[0]["body"])
check(m["data"]["s3"]["object"]["size"] == len("body of meta-1.txt\n"), m)
check(len(one("/ok/meta")) == 1 and not any(q["path"] == "/ok/nofetch"
                                             for q in reqs), "nofetch sent")
# PUT, no body, a header of the config's, the token.
p = one("/ok/put")[0]
check(p["method"] == "PUT" and p["bytes"] == 0, "PUT without a body")
check(p["headers"]["x-api-key"] == "abc", "the header= value")
check(p["headers"]["authorization"] == "Bearer s3cr3t-t0ken", "the token")
check("content-type" not in p["headers"], "a content type for no body")
# Retry-After: 3 was honoured (the backoff alone is 100 ms).
b = one("/busy/busy-1")
check(b[1]["t"] - b[0]["t"] >= 2.9, "the retry came before Retry-After")
PY
stop_daemon

# 100 MiB through a worker that may not take 48 MiB more memory.
head -c 104857600 /dev/urandom >big.bin
{
	echo "<objtrigger>"
	echo "  <state path=\"$T/state2\"/>"
	echo "  <workers count=\"1\" timeout=\"300s\" memory=\"48MiB\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox2\"/>"
	trigger large "$F/ok/{key}" "" 1 240s
	echo "</objtrigger>"
} >large.xml
mkdir inbox2
start_daemon large.xml
mv big.bin inbox2/large-1.bin
wait_until 300 ended large-1 || { cat daemon.log; fail "large-1 did not end"; }
expect daemon.log "done: trigger=large key=large-1.bin"
expect out/large/large-1.bin '"bytes": 104857600'
expect out/large/large-1.bin "$(sha256sum inbox2/large-1.bin | cut -c1-64)"
for w in $(pgrep -P "$DAEMON_PID"); do
	echo "worker $w: $(grep VmHWM "/proc/$w/status")"
done
stop_daemon
no_sanitizer_report
