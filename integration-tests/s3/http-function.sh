# http-function.sh - uploads to a bucket call an HTTP function (the http
# transform); its JSON answers land in another bucket. The function gets
# each object as a CloudEvent whose source is the bucket, and the event
# of one as a structured CloudEvent whose data is its S3 record.
. "$top_srcdir/integration-tests/s3lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/http.so" ] || skip "built without libcurl"
rgw_bucket uploads && rgw_bucket summaries || fail "no buckets"
/usr/bin/python3 "$top_srcdir/integration-tests/http-function.py" port \
    requests.log 2>function.log &
function_pid=$!
trap 'kill "$function_pid" 2>/dev/null; cleanup' EXIT
wait_until 30 test -s port || fail "the function did not start"
F="http://127.0.0.1:$(cat port)"

s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="uploads" prefix="in/" interval="1s"' \
    '' \
    "<transform plugin=\"http\"><param name=\"url\" value=\"$F/ok/{key}\"/></transform>" \
    '<output store="rgw" bucket="summaries" key="{dir}/{stem}.json"/>'
start_daemon ot.xml
sleep 2
printf 'hello, function\n' >a.txt
k='in/sub dir/a+b é.txt'
run 0 s3 s3 cp a.txt "s3://uploads/$k"
wait_until 60 s3_has summaries 1 in/ || { cat daemon.log; fail "no summary"; }
run 0 s3 s3 cp "s3://summaries/in/sub dir/a+b é.json" got.json
expect got.json "$(sha256sum a.txt | cut -c1-64)"
stop_daemon

/usr/bin/python3 - requests.log "$RGW_ENDPOINT" "$k" <<'PY' || fail "the request was wrong"
import json, sys, urllib.parse
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 1, r
h = r[0]["headers"]
assert r[0]["path"] == "/ok/" + urllib.parse.quote(sys.argv[3], safe=""), r[0]["path"]
assert h["ce-source"] == sys.argv[2] + "/uploads", h["ce-source"]
assert urllib.parse.unquote(h["ce-subject"]) == sys.argv[3], h["ce-subject"]
assert h["ce-type"] == "com.amazonaws.s3.ObjectCreated:Put", h
assert h["ce-specversion"] == "1.0" and h["ce-id"] and h["ce-time"], h
assert r[0]["body"] == "hello, function\n"
PY
exit 0
