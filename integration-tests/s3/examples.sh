# examples.sh - the shipped S3 examples run real jobs end to end against
# the gateway, each in a folder of its own with a relative state folder:
# s3-thumbnails.xml (a bucket listing) and s3-webhook.xml (a notification
# POSTed as MinIO sends it, with the token, and the listing at start that
# finds what was uploaded while the daemon was down). Only what ties them
# to a machine is changed: the store's endpoint, the state folder
# (/var/lib/objtrigger becomes ./.objtrigger) and the HTTP port.
. "$top_srcdir/integration-tests/s3lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] || skip "built without libvips"
command -v vips >/dev/null || skip "no vips command"
ex=$top_srcdir/config/examples
OBJTRIGGER_S3_ACCESS_KEY=$RGW_ACCESS_KEY
OBJTRIGGER_S3_SECRET_KEY=$RGW_SECRET_KEY
export OBJTRIGGER_S3_ACCESS_KEY OBJTRIGGER_S3_SECRET_KEY
vips gaussnoise img.jpg 640 480 || fail "vips"
DAEMON_OPTS=-v

# example NAME ENDPOINT [SED]: NAME.xml as ./NAME/ot.xml, on this machine,
# NAME made the working directory.
example() {
	mkdir "$T/$1" && cd "$T/$1" || exit 99
	sed -e "s|$2|$RGW_ENDPOINT|" -e 's|"/var/lib/objtrigger"|"./.objtrigger"|' \
	    ${3:+-e "$3"} "$ex/$1.xml" >ot.xml
	grep -q "endpoint=\"$RGW_ENDPOINT\"" ot.xml &&
	    grep -q '<state path="./.objtrigger"/>' ot.xml ||
	    fail "$1.xml does not name the endpoint $2 or the state folder"
}

# thumbnail KEY: thumbs holds KEY, a 256-pixel WebP.
thumbnail() {
	run 0 s3 s3api get-object --bucket thumbs --key "$1" t.webp
	expect "$T/stdout" '"ContentType": "image/webp"'
	run 0 vipsheader -f width t.webp
	[ "$(cat "$T/stdout")" = 256 ] || fail "$1 is not 256 wide"
}

# listed N: the daemon has made N listings of its watch (for wait_until).
listed() {
	logged "$1" 'debug: watch photos: cycle [0-9]+: '
}

# s3-thumbnails.xml: an upload under uploads/ of the bucket photos gives a
# thumbnail in thumbs.
rgw_bucket photos && rgw_bucket thumbs || fail "no buckets"
example s3-thumbnails http://127.0.0.1:7480
start_daemon ot.xml
wait_until 30 listed 1 || { cat "$T/daemon.log"; fail "no first listing"; }
run 0 s3 s3 cp ../img.jpg s3://photos/uploads/2026/a.jpg
# The transform names its output STEM.SIZE.FORMAT: {stem} is a.256.
wait_until 60 s3_has thumbs 1 uploads/ ||
    { cat "$T/daemon.log"; fail "s3-thumbnails.xml made no thumbnail"; }
thumbnail uploads/2026/a.256.webp
stop_daemon
test -e .objtrigger/journal.db || fail "no journal in ./.objtrigger"
cd "$T" || exit 99

# s3-webhook.xml: a notification, and the listing at start.
rgw_bucket photos && rgw_bucket thumbs || fail "no buckets"
PORT=$(free_port) || fail "no free port"
example s3-webhook http://127.0.0.1:9000 "s|127.0.0.1:9464|127.0.0.1:$PORT|"
TOKEN=tok-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$TOKEN" >webhook.token
chmod 600 webhook.token
: >"$T/daemon.log"
start_daemon ot.xml
wait_until 30 listed 1 || { cat "$T/daemon.log"; fail "no first listing"; }
run 0 s3 s3 cp ../img.jpg "s3://photos/uploads/b 1.jpg"
run 0 s3 s3api head-object --bucket photos --key "uploads/b 1.jpg"
python3 - "$top_srcdir/watcher/tests/events/minio-put.json" "$T/stdout" \
    >event.json <<'PY' || fail "no event"
import json, sys
ev = json.load(open(sys.argv[1]))
head = json.load(open(sys.argv[2]))
r = ev["Records"][0]
r["s3"]["bucket"]["name"] = "photos"
r["s3"]["bucket"]["arn"] = "arn:aws:s3:::photos"
r["s3"]["object"]["key"] = "uploads%2Fb+1.jpg"  # as MinIO encodes it
r["s3"]["object"]["size"] = head["ContentLength"]
r["s3"]["object"]["eTag"] = head["ETag"].strip('"')
ev["Key"] = "photos/uploads/b 1.jpg"
print(json.dumps(ev))
PY
code=$(http_code "http://127.0.0.1:$PORT/events/photos" -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary @event.json)
[ "$code" = 200 ] || fail "the notification was answered $code: $(cat "$T/body")"
wait_until 60 s3_has thumbs 1 uploads/ ||
    { cat "$T/daemon.log"; fail "s3-webhook.xml made no thumbnail of a notified upload"; }
thumbnail "uploads/b 1.256.webp"
code=$(http_code "http://127.0.0.1:$PORT/events/photos" -X POST \
    -H 'Content-Type: application/json' --data-binary @event.json)
[ "$code" = 401 ] || fail "a notification without the token was answered $code"
stop_daemon
# Uploaded while the daemon is down: the listing at its start finds it.
run 0 s3 s3 cp ../img.jpg s3://photos/uploads/c.jpg
start_daemon ot.xml
wait_until 60 s3_has thumbs 2 uploads/ ||
    { cat "$T/daemon.log"; fail "the listing at start did not find what came meanwhile"; }
thumbnail uploads/c.256.webp
stop_daemon
test -e .objtrigger/journal.db || fail "no journal in ./.objtrigger"
[ "$(grep -c ' done: ' "$T/daemon.log")" = 2 ] || fail "not 2 jobs done"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/daemon.log" && fail "sanitizer report"
exit 0
