# thumbnails.sh - 1,000 images uploaded in parallel by awscli give 1,000
# thumbnails in the output bucket; a sample is downloaded and checked.
. "$top_srcdir/integration-tests/s3lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] || skip "built without libvips"
command -v vips >/dev/null || skip "no vips command"
N=${S3_THUMBNAILS:-1000}
rgw_bucket photos && rgw_bucket thumbs || fail "no buckets"
mkdir up
vips gaussnoise n.v 320 240 && vips bandjoin "n.v n.v n.v" rgb.v &&
    vips cast rgb.v up/img-0.jpg uchar || fail "vips"
i=1
while [ $i -lt "$N" ]; do
	cp up/img-0.jpg "up/img-$i.jpg"
	i=$((i + 1))
done
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="photos" prefix="in/" interval="1s"' \
    'match="*.jpg"' \
    '<transform plugin="thumbnail"><param name="size" value="64"/><param name="format" value="webp"/></transform>' \
    '<output store="rgw" bucket="thumbs" key="{dir}/{stem}.webp"/>'
start_daemon ot.xml
# Uploaded after the daemon's first listing: start="now" takes them.
sleep 2
start=$(date +%s)
aws configure set default.s3.max_concurrent_requests 20
run 0 s3 s3 cp --recursive --quiet up "s3://photos/in/"
wait_until 300 s3_has thumbs "$N" in/ || { tail daemon.log; fail "only $(s3_count thumbs in/) of $N thumbnails"; }
echo "# $N uploads to $N thumbnails in $(($(date +%s) - start)) s"
for i in 0 $((N / 2)) $((N - 1)); do
	# The transform names its output STEM.SIZE.FORMAT: {stem} is img-N.64.
	run 0 s3 s3api get-object --bucket thumbs --key "in/img-$i.64.webp" t.webp
	expect "$T/stdout" '"ContentType": "image/webp"'
	run 0 vipsheader -f width t.webp
	[ "$(cat "$T/stdout")" = 64 ] || fail "in/img-$i.64.webp is not 64 wide"
done
stop_daemon
[ "$(grep -c ' done: ' daemon.log)" = "$N" ] || fail "not $N jobs done"
exit 0
