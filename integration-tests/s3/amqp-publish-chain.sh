# amqp-publish-chain.sh - objtrigger to objtrigger through the broker: an
# s3-poll watch publishes a bucket's new objects, two instances consume
# the queue with an amqp watch and run a trigger on them. The publisher
# is killed with SIGKILL while objects keep coming, and started again:
# every object still gets its output, with its bytes.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"
. "$top_srcdir/integration-tests/publish-lib.sh"

use_test_plugins
N=200
rgw_bucket chain || fail "no bucket"
amqp_config ot.xml '' 'queue="chain.q" bind="chain" bucket="chain"' '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
for n in 1 2; do
	amqp_instance $n ot.xml
	amqp_start $n
done
port=$(free_port) || fail "no free port"
publish_config pub.xml "$port" chain \
    'type="s3-poll" store="rgw" bucket="chain" interval="200ms" start="beginning"'
sed -i "s|$T/state|$T/pubstate|" pub.xml
(
	i=0
	while [ "$i" -lt "$N" ]; do
		i=$((i + 1))
		put chain "k/$i" || echo "upload $i failed" >>upload-errors
	done
) &
uploader=$!
start_daemon pub.xml
ran() {
	[ "$(cat runs1.log runs2.log 2>/dev/null | wc -l)" -ge "$1" ]
}
wait_until 120 ran 30 || { tail daemon.log d1.log d2.log; fail "nothing ran"; }
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
echo "# publisher killed after $(cat runs1.log runs2.log | wc -l) runs"
start_daemon pub.xml
wait "$uploader"
[ ! -s upload-errors ] || { cat upload-errors; fail "uploads failed"; }
outputs() {
	[ "$(files "$T/out")" -ge "$N" ]
}
wait_until 300 outputs ||
    { tail daemon.log d1.log d2.log; fail "only $(files "$T/out") of $N outputs"; }
stop_daemon
amqp_stop 1
amqp_stop 2
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	[ "$(cat "out/k/$i")" = "k/$i" ] || fail "out/k/$i is not the object's bytes"
done
echo "# $(cat runs1.log runs2.log | wc -l) runs for $N objects: $(wc -l <runs1.log) and $(wc -l <runs2.log)"
exit 0
