#!/bin/sh
# webhook-confined.sh - keys with "." or ".." segments, legal in S3: a
# webhook watch confined with bucket= and prefix= refuses them (the key
# "uploads/../../other-bucket/x" starts with "uploads/", but as a path it
# names another bucket), and takes the rest; an unconfined watch takes
# them as keys, and the request the worker then sends to the store holds
# no raw dot segment that a server or proxy could resolve.
. "$top_srcdir/integration-tests/lib.sh"

ev=$top_srcdir/watcher/tests/events
PORT=$(free_port) && STORE=$(free_port) || fail "no free port"
URL=http://127.0.0.1:$PORT
printf 'access-key = AK\nsecret-key = SK\n' >cred
chmod 600 cred

# The store: answers every request 404 NoSuchKey, and writes down the
# request line as it came, in store.log.
cat >store.py <<'PY'
import http.server, sys
class Store(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open("store.log", "a") as f:
            f.write(self.requestline + "\n")
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>"
        self.send_response(404)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = answer
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Store).serve_forever()
PY
: >store.log
python3 store.py "$STORE" 2>store.err &
store_pid=$!
trap 'kill "$store_pid" 2>/dev/null; cleanup' EXIT

cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="5s"/>
  <http listen="127.0.0.1:$PORT" max-body="1MiB" timeout="30s"/>
  <store name="s3" endpoint="http://127.0.0.1:$STORE" region="default"
         credentials-file="$T/cred" timeout="2s" connect-timeout="1s"/>
  <watch name="confined" type="s3-webhook" path="/events/confined" store="s3"
         bucket="photos-in" prefix="uploads/"/>
  <watch name="open" type="s3-webhook" path="/events/open" store="s3"/>
  <trigger name="c" watch="confined">
    <transform plugin="copy"/>
    <output path="$T/out-c/{key}"/>
    <retry attempts="1"/>
  </trigger>
  <trigger name="o" watch="open">
    <transform plugin="copy"/>
    <output path="$T/out-o/{key}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml

# The bodies, made from the samples: RGW sends the key raw, AWS
# form-encoded (so the dots may come as %2E).
python3 - "$ev" <<'PY' || fail "cannot make the bodies"
import json, sys
def record(src, key, bucket="photos-in"):
    with open("%s/%s.json" % (sys.argv[1], src)) as f:
        r = json.load(f)["Records"][0]
    r["s3"]["object"]["key"] = key
    r["s3"]["bucket"]["name"] = bucket
    r["s3"]["object"].pop("sequencer", None)
    return r
def save(name, *records):
    with open(name + ".json", "w") as f:
        json.dump({"Records": list(records)}, f)
save("escape", record("ceph-rgw-http-put", "uploads/../../other-bucket/x"))
save("escape-aws", record("aws-s3-put", "uploads/%2E%2E/%2E%2E/other-bucket/x"))
save("dot", record("ceph-rgw-http-put", "uploads/./x"))
save("ok", record("ceph-rgw-http-put", "uploads/ok.jpg"))
save("dotty-name", record("ceph-rgw-http-put", "uploads/..a/.b/c../x."))
save("open", record("ceph-rgw-http-put", "a/../b.txt"))
PY

DAEMON_OPTS=-v start_daemon ot.xml
wait_until 20 http_up "$URL/healthz" || { cat daemon.log; fail "no /healthz"; }

# post WATCH FILE: POSTs FILE to the watch; code and body as http_code.
post() {
	code=$(http_code "$URL/events/$1" -H 'Content-Type: application/json' \
	    --data-binary "@$2")
}

# answered ACCEPTED DUPLICATE STALE REJECTED IGNORED: the last POST's
# answer.
answered() {
	_a=$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print(*(a[k] for k in ("accepted", "duplicate", "stale", "rejected", "ignored")))' \
	    "$T/body" 2>/dev/null)
	if [ "$code" != 200 ] || [ "$_a" != "$*" ]; then
		cat "$T/body"
		fail "answer $code '$_a', expected 200 '$*'"
	fi
}

# queued TRIGGER BUCKET KEY: whether the daemon queued that job.
queued() {
	queued_line "$1" "$2" "$3"
}

# Refused, as RGW and as AWS would send it; logged with the reason.
for f in escape escape-aws dot; do
	post confined "$f.json"
	answered 0 0 0 1 0
done
wait_until 5 logged 3 "watch confined: record 0: key has a dot segment" ||
    { cat daemon.log; fail "the refusals were not logged with their reason"; }
for k in uploads/../../other-bucket/x uploads/./x; do
	! queued c photos-in "$k" || fail "a job was queued for '$k'"
done

# The same watch takes the other keys, dots and all.
post confined ok.json
answered 1 0 0 0 0
post confined dotty-name.json
answered 1 0 0 0 0
queued c photos-in uploads/ok.jpg || fail "no job for uploads/ok.jpg"
queued c photos-in uploads/..a/.b/c../x. || fail "no job for uploads/..a/.b/c../x."

# An unconfined watch: a key is a key. Its fetch sends the dot segment
# encoded; the store decodes it back to the same key.
post open open.json
answered 1 0 0 0 0
queued o photos-in a/../b.txt || fail "no job for a/../b.txt"
wait_until 20 grep -q 'b\.txt' store.log ||
    { cat daemon.log; fail "the job of a/../b.txt asked the store nothing"; }
wait_until 20 grep -q 'ok\.jpg' store.log ||
    { cat daemon.log; fail "the job of uploads/ok.jpg asked the store nothing"; }
sleep 1 # the store has written down every request of the jobs
echo "--- what the store was sent" >&2
cat store.log >&2

# The journal holds the jobs taken, and nothing else.
run 0 "$OBJTRIGGER" status -c ot.xml --json
python3 - "$T/stdout" <<'PY' || fail "the journal does not hold the jobs taken"
import json, sys
s = json.load(open(sys.argv[1]))["triggers"]
for name, want in (("c", 2), ("o", 1)):
    got = sum(s.get(name, {}).values())
    if got != want:
        sys.exit("trigger %s: %d jobs in the journal, %d expected: %s" % (name, got, want, s.get(name)))
PY
stop_daemon
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log; then
	fail "sanitizer report"
fi

# What reached the store: no other bucket, no raw dot segment.
! grep -q other-bucket store.log || fail "a request went for other-bucket"
python3 - store.log <<'PY' || fail "a request path holds a raw dot segment"
import sys
bad = 0
for line in open(sys.argv[1]):
    path = line.split(" ")[1].split("?")[0]
    if any(seg in (".", "..") for seg in path.split("/")):
        print("raw dot segment:", line.strip())
        bad = 1
sys.exit(bad)
PY
grep -qF ' /photos-in/a/%2E%2E/b.txt ' store.log ||
    fail "a/../b.txt was not asked for as /photos-in/a/%2E%2E/b.txt"
grep -qF ' /photos-in/uploads/..a/.b/c../x. ' store.log ||
    fail "dots that are no segment were not sent as they are"
exit 0
