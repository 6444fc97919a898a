# amqp-kill.sh - of two instances sharing a queue, one is killed with
# SIGKILL twice mid-run and started again: nothing is lost (every object
# has its output, the queue empties), and no more runs are repeated than
# the killed instance held (its prefetch: the broker gives those messages
# again, and its journal runs their jobs again at the next start).
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
N=${S3_AMQP_KILL:-500}
amqp_bucket kill || fail "no bucket"
mkdir up
i=0
while [ $i -lt "$N" ]; do
	echo "object $i" >"up/o$i"
	i=$((i + 1))
done
amqp_config ot.xml '' "queue=\"kill\" bind=\"$AMQP_TOPIC\" bucket=\"kill\"" '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
for n in 1 2; do
	amqp_instance $n ot.xml
	amqp_start $n
done
amqp_upload up kill >upload.log 2>&1 &
upload=$!
ran1() {
	[ "$(cat runs1.log 2>/dev/null | wc -l)" -ge "$1" ]
}
for kill in 1 2; do
	at=$(cat runs1.log 2>/dev/null | wc -l)
	wait_until 120 ran1 $((at + 40)) || { tail d1.log; fail "no progress before kill $kill"; }
	amqp_kill 1
	amqp_start 1
done
wait "$upload" || { cat upload.log; fail "the upload failed"; }
outputs() {
	[ "$(files "$T/out")" -ge "$N" ]
}
wait_until 300 outputs || { tail d1.log d2.log; fail "only $(files "$T/out") of $N outputs"; }
empty() {
	[ "$(rabbitmq_depth kill)" = 0 ]
}
wait_until 60 empty || fail "$(rabbitmq_depth kill) messages left"
amqp_stop 1
amqp_stop 2
diff -r up out/ >/dev/null || fail "the outputs are not the objects' bytes"
dead=$(rabbitmq_depth kill.dead)
[ "$dead" = 0 ] || fail "kill.dead holds $dead messages"
runs=$(cat runs1.log runs2.log | wc -l)
again=$((runs - N))
# A message held at a kill runs at most twice more: once where the broker
# gives it again, once from the killed instance's journal; it held at
# most its prefetch, 16 messages for each of its 2 worker slots.
echo "# $runs runs for $N objects: $again again after 2 kills"
[ "$again" -ge 0 ] && [ "$again" -le $((2 * 2 * 16 * 2)) ] ||
    fail "$again runs again, more than the killed instance held"
exit 0
