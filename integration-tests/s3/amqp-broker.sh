# amqp-broker.sh - the broker killed with SIGKILL mid-run and started
# again: /healthz says which broker is out of reach meanwhile, both
# instances connect again by themselves (backoff and jitter) and go back
# to work, and nothing is lost: RGW keeps the events of the outage in its
# persistent topic, the broker its queue, and the acks abandoned at the
# kill come back as redeliveries.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
N=${S3_AMQP_BROKER:-300}
amqp_bucket outage || fail "no bucket"
mkdir up up2
i=0
while [ $i -lt "$N" ]; do
	echo "object $i" >"up/o$i"
	echo "later $i" >"up2/p$i"
	i=$((i + 1))
done
amqp_config ot.xml '' "queue=\"outage\" bind=\"$AMQP_TOPIC\" bucket=\"outage\"" '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>" \
    '<http listen="127.0.0.1:HTTP_PORT"/>'
for n in 1 2; do
	amqp_instance $n ot.xml
	port=$(free_port) || fail "no free port"
	sed -i "s/HTTP_PORT/$port/" ot-$n.xml
	eval "port$n=$port"
	amqp_start $n
done
amqp_upload up outage >upload.log 2>&1 &
upload=$!
ran() {
	[ "$(cat runs1.log runs2.log 2>/dev/null | wc -l)" -ge "$1" ]
}
wait_until 120 ran 50 || { tail d1.log; fail "no progress"; }
rabbitmq_kill
health() {
	curl --noproxy '*' -s --max-time 2 "http://127.0.0.1:$port1/healthz" >health.txt
	grep -q "a broker is out of reach: broker mq" health.txt
}
wait_until 30 health || fail "/healthz said: $(cat health.txt)"
expect d1.log "connecting again in"
wait "$upload" || { cat upload.log; fail "the upload failed during the outage"; }
run 0 rabbitmq_restart
both() {
	[ "$(grep -c 'info: broker mq: connected to' d1.log)" -ge 2 ] &&
	    [ "$(grep -c 'info: broker mq: connected to' d2.log)" -ge 2 ]
}
wait_until 120 both || { tail d1.log d2.log; fail "an instance did not connect again"; }
wait_until 30 http_up "http://127.0.0.1:$port1/healthz" || fail "/healthz still not 200"
# Both at work again: each runs some of what comes after.
before1=$(wc -l <runs1.log) before2=$(wc -l <runs2.log)
run 0 amqp_upload up2 outage
outputs() {
	[ "$(files "$T/out")" -ge $((2 * N)) ]
}
wait_until 300 outputs || { tail d1.log d2.log; fail "only $(files "$T/out") of $((2 * N)) outputs"; }
[ "$(wc -l <runs1.log)" -gt "$before1" ] || fail "instance 1 did nothing after the outage"
[ "$(wc -l <runs2.log)" -gt "$before2" ] || fail "instance 2 did nothing after the outage"
empty() {
	[ "$(rabbitmq_depth outage)" = 0 ]
}
wait_until 60 empty || fail "$(rabbitmq_depth outage) messages left"
amqp_stop 1
amqp_stop 2
for f in up/* up2/*; do
	cmp -s "$f" "out/${f#*/}" || fail "the output of ${f#*/} differs"
done
echo "# $(cat runs1.log runs2.log | wc -l) runs for $((2 * N)) objects," \
    "$(grep -c 'connecting again in' d1.log) attempts by instance 1 to connect"
exit 0
