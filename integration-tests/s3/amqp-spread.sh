# amqp-spread.sh - RGW sends its bucket notifications to the broker
# through a persistent topic; three instances share one queue: each of
# 1,000 uploads is processed once, its output holds the object's bytes,
# and every instance did some of the work.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
N=${S3_AMQP_SPREAD:-1000}
amqp_bucket spread || fail "no bucket"
mkdir up
i=0
while [ $i -lt "$N" ]; do
	echo "object $i" >"up/o$i"
	i=$((i + 1))
done
amqp_config ot.xml '' "queue=\"spread\" bind=\"$AMQP_TOPIC\" bucket=\"spread\"" '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
for n in 1 2 3; do
	amqp_instance $n ot.xml
	amqp_start $n
done
start=$(date +%s)
run 0 amqp_upload up spread
up=$(($(date +%s) - start))
outputs() {
	[ "$(files "$T/out")" -ge "$1" ]
}
wait_until 300 outputs "$N" ||
    { tail d1.log; fail "only $(files "$T/out") of $N outputs"; }
done_at=$(($(date +%s) - start))
# Every message acked: the queue empties.
empty() {
	[ "$(rabbitmq_depth spread)" = 0 ]
}
wait_until 30 empty || fail "$(rabbitmq_depth spread) messages left in the queue"
for n in 1 2 3; do
	amqp_stop $n
done
diff -r up out/ >/dev/null || fail "the outputs are not the objects' bytes"
cat runs1.log runs2.log runs3.log | sort | uniq -d >twice.txt
[ -s twice.txt ] &&
    fail "ran twice: $(head -3 twice.txt); the logs say of $(head -1 twice.txt):
$(grep -F "$(head -1 twice.txt)" d1.log d2.log d3.log)"
[ "$(cat runs1.log runs2.log runs3.log | wc -l)" = "$N" ] ||
    fail "$(cat runs1.log runs2.log runs3.log | wc -l) runs for $N objects"
for n in 1 2 3; do
	[ -s "runs$n.log" ] || fail "instance $n ran nothing"
done
# Dead letters beside every object run once are no loss, but should not
# be: one clean-clone run of the whole suite had 6, with a cause not
# found yet. They are shown, with what status and the instances say of
# them, without failing the case.
dead=$(rabbitmq_depth spread.dead)
if [ "$dead" != 0 ]; then
	echo "# unexplained: spread.dead holds $dead messages; status says:"
	"$OBJTRIGGER" status -c "$T/ot-1.xml" 2>&1 | tail -n 30 | sed 's/^/#   /'
	echo "# the instances' warnings and errors:"
	grep -E 'warn|error' d1.log d2.log d3.log | tail -n 30 | sed 's/^/#   /'
fi
echo "# $N uploads in ${up}s, all processed in ${done_at}s;" \
    "runs per instance: $(wc -l <runs1.log), $(wc -l <runs2.log), $(wc -l <runs3.log)"
exit 0
