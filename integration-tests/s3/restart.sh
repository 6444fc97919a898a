# restart.sh - the daemon SIGKILLed three times during a 2,000-object run
# and started again: every output is there, and no more jobs ran twice
# than were in flight at the kills (running, or sent ahead to a worker).
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
N=${S3_RESTART:-2000}
rgw_bucket many && rgw_bucket many-out || fail "no buckets"
mkdir up
i=0
while [ $i -lt "$N" ]; do
	echo "$i" >"up/o$i"
	i=$((i + 1))
done
aws configure set default.s3.max_concurrent_requests 20
run 0 s3 s3 cp --recursive --quiet up s3://many/
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="many" interval="1s" start="beginning"' '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>" \
    '<output store="rgw" bucket="many-out" key="{key}"/>'
for kill in 1 2 3; do
	start_daemon ot.xml
	wait_until 120 logged $((kill * N / 5)) ' done: ' ||
	    { tail daemon.log; fail "no progress before kill $kill"; }
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
done
start_daemon ot.xml
wait_until 300 s3_has many-out "$N" || fail "only $(s3_count many-out) of $N outputs"
stop_daemon
s3_keys many >in.txt
s3_keys many-out >out.txt
cmp -s in.txt out.txt || fail "the outputs are not the inputs"
runs=$(wc -l <runs.log)
again=$((runs - N))
# In flight at a kill: the jobs the journal held as running, which the
# next start runs again and counts ("N jobs that ran when objtrigger
# stopped run again"): with jobs sent ahead, up to two a worker.
flight=$(sed -n 's/.*info: \([0-9]*\) jobs\{0,1\} that ran when objtrigger stopped.*/\1/p' daemon.log |
    awk '{ n += $1 } END { print n + 0 }')
echo "# $runs runs for $N objects: $again again after 3 kills, $flight in flight"
[ "$again" -ge 0 ] && [ "$again" -le "$flight" ] ||
    fail "$again jobs ran again ($flight were in flight)"
exit 0
