# webhook.sh - RGW pushes its bucket notifications to objtrigger's
# webhook: 500 images uploaded in parallel by awscli give 500 thumbnails,
# and the delay from each upload to its thumbnail is printed (p50, p99).
# RGW posts without credentials (it refuses a user:password URL over plain
# HTTP), so the watch has no token here; webhook.sh tests tokens.
. "$top_srcdir/integration-tests/s3lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] || skip "built without libvips"
command -v vips >/dev/null || skip "no vips command"
N=${S3_WEBHOOK:-500}
rgw_bucket hook-in && rgw_bucket hook-out || fail "no buckets"
PORT=$(free_port) || fail "no free port"
arn=$(s3_topic objtrigger-hook "http://127.0.0.1:$PORT/events/hook") ||
    fail "no topic"
s3_notify hook-in "$arn" in/ || fail "no notification"

# N images of 64x64 pixels, each its own noise: one vips run cuts them.
cols=25
rows=$(((N + cols - 1) / cols))
vips gaussnoise n.v $((cols * 64)) $((rows * 64)) &&
    vips bandjoin "n.v n.v n.v" rgb.v && vips cast rgb.v rgb8.v uchar &&
    vips dzsave rgb8.v tiles --tile-size 64 --overlap 0 --depth one \
    --suffix .jpg || fail "vips"
mkdir up
ls tiles_files/0 | grep '\.jpg$' | head -n "$N" | while read -r f; do
	mv "tiles_files/0/$f" "up/img-$f"
done
[ "$(ls up | wc -l)" = "$N" ] || fail "not $N images"

S3_EXTRA="<http listen=\"127.0.0.1:$PORT\"/>"
s3_config ot.xml \
    'type="s3-webhook" path="/events/hook" store="rgw" bucket="hook-in" prefix="in/"' \
    'match="*.jpg"' \
    '<transform plugin="thumbnail"><param name="size" value="256"/><param name="enlarge" value="yes"/><param name="format" value="webp"/></transform>' \
    '<output store="rgw" bucket="hook-out" key="{dir}/{stem}.webp"/>'
start_daemon ot.xml
wait_until 20 http_up "http://127.0.0.1:$PORT/healthz" || fail "no /healthz"
start=$(date +%s)
aws configure set default.s3.max_concurrent_requests 20
run 0 s3 s3 cp --recursive --quiet up "s3://hook-in/in/"
up=$(($(date +%s) - start))
wait_until 300 s3_has hook-out "$N" in/ ||
    { tail daemon.log; fail "only $(s3_count hook-out in/) of $N thumbnails"; }

# Each image has its thumbnail, named STEM.SIZE.FORMAT by the transform.
s3_keys hook-in in/ | sed 's/\.jpg$/.256.webp/' | LC_ALL=C sort >want.txt
s3_keys hook-out in/ | LC_ALL=C sort >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt | head; fail "the thumbnails are not one an image"; }
run 0 s3 s3api get-object --bucket hook-out --key "in/$(ls up | head -n 1 | sed 's/\.jpg$/.256.webp/')" t.webp
run 0 vipsheader -f width t.webp
[ "$(cat "$T/stdout")" = 256 ] || fail "the thumbnail is not 256 wide"

# The delay of each, from the upload's to the thumbnail's LastModified
# (RGW gives milliseconds).
s3 s3api list-objects-v2 --bucket hook-in --prefix in/ --output json >in.json &&
    s3 s3api list-objects-v2 --bucket hook-out --prefix in/ --output json >out.json ||
    fail "cannot list"
delays=$(python3 - <<'PY'
import datetime, json
def times(f):
    return {o["Key"]: datetime.datetime.fromisoformat(o["LastModified"])
            for o in json.load(open(f))["Contents"]}
src, out = times("in.json"), times("out.json")
d = sorted((out[k[:-4] + ".256.webp"] - t).total_seconds() for k, t in src.items())
pick = lambda p: d[min(len(d) - 1, int(p * len(d)))]
print("p50 %.2f s, p99 %.2f s, max %.2f s" % (pick(0.50), pick(0.99), d[-1]))
PY
) || fail "no delays"
code=$(http_code "http://127.0.0.1:$PORT/metrics")
[ "$code" = 200 ] || fail "/metrics answered $code"
accepted=$(metric "$T/body" objtrigger_events_total watch=in outcome=accepted) ||
    fail "no events counted"
# The delay is mostly the queue: 2 workers, and a job takes this long.
job=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' \
    "$(metric_sum "$T/body" objtrigger_job_duration_seconds_sum trigger=t)" \
    "$(metric_sum "$T/body" objtrigger_job_duration_seconds_count trigger=t)") ||
    fail "no job durations"
echo "# webhook: $N uploads in $up s, delay $delays; $accepted events accepted; a job $job s on average, 2 workers"
[ "$accepted" -ge "$N" ] || fail "only $accepted events accepted"
stop_daemon
[ "$(grep -c ' done: ' daemon.log)" = "$N" ] || fail "not $N jobs done"
exit 0
