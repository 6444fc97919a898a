# store-down.sh - the store stopped for 20 s in the middle of a run and
# started again: every object is processed, nothing is lost, and the
# outage is said once, not once a request.
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
N=300
rgw_bucket down && rgw_bucket down-out || fail "no buckets"
mkdir up
i=0
while [ $i -lt $N ]; do
	echo "$i" >"up/o$i"
	i=$((i + 1))
done
run 0 s3 s3 cp --recursive --quiet up s3://down/
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="down" interval="500ms" start="beginning"' \
    'concurrency="1"' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>" \
    '<output store="rgw" bucket="down-out" key="{key}"/>'
start_daemon ot.xml
wait_until 60 logged 20 ' done: ' || fail "no progress"
rgw_stop_gateway
sleep 20
kill -0 "$DAEMON_PID" || fail "the daemon died with the store"
rgw_start_gateway || fail "radosgw did not come back"
wait_until 180 s3_has down-out $N || { tail daemon.log; fail "only $(s3_count down-out) of $N outputs"; }
stop_daemon
[ "$(grep -c 'watch in: store rgw: listing' daemon.log)" -le 1 ] ||
    fail "the outage was logged more than once"
expect daemon.log "watch in: listing works again"
[ "$(grep -c ' done: ' daemon.log)" = $N ] || fail "not $N jobs done"
[ "$(grep -c ' dead: ' daemon.log)" = 0 ] || fail "jobs died of the outage"
exit 0
