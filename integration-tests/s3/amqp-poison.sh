# amqp-poison.sh - a poison object: the transform crashes on it. Its job
# dies after its attempts and the message goes to the dead-letter queue
# with why (the error, the trigger, the attempts), the other objects go
# on; status shows it, retry --watch puts it back, and only the job that
# died runs again. A message that kills the instances holding it is
# dead-lettered by the broker's delivery limit.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
amqp_bucket poison || fail "no bucket"
s3_credentials
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="1s"/>
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred"/>
  <broker name="mq" url="$RABBITMQ_URL" exchange="objtrigger"/>
  <watch name="in" type="amqp" broker="mq" queue="poison" bind="$AMQP_TOPIC" store="rgw"/>
  <watch name="lim" type="amqp" broker="mq" queue="poison-limit" bind="poison-limit"
         store="rgw" delivery-limit="1"/>
  <trigger name="count" watch="in">
    <transform plugin="counting"><param name="log" value="$T/runs.log"/></transform>
    <output path="$T/out/{key}"/>
  </trigger>
  <trigger name="crash" watch="in" match="poison*">
    <transform plugin="crash"/>
    <retry attempts="2" backoff="100ms" max-backoff="200ms"/>
  </trigger>
  <trigger name="hang" watch="lim">
    <transform plugin="hang"/>
  </trigger>
</objtrigger>
XML
amqp_instance 1 ot.xml
amqp_start 1
mkdir up
for f in a b c poison.bin d e; do
	echo "$f" >"up/$f"
done
run 0 amqp_upload up poison
outputs() {
	[ "$(files "$T/out")" -ge 6 ]
}
wait_until 120 outputs || { tail d1.log; fail "only $(files "$T/out") outputs"; }
dead() {
	[ "$(rabbitmq_depth poison.dead)" = "$1" ] && [ "$(rabbitmq_depth poison)" = 0 ]
}
wait_until 60 dead 1 || { tail d1.log; fail "no dead letter"; }
run 0 "$OBJTRIGGER" status -c ot-1.xml
expect "$T/stdout" "watch in: dead-letter queue poison.dead on broker mq: 1 message (objtrigger retry --watch in puts them back)"
expect "$T/stdout" "  poison/poison.bin, trigger crash, 2 attempts, since "
expect "$T/stdout" ": worker crashed: signal 11"
run 0 "$OBJTRIGGER" status --json -c ot-1.xml
python3 -c '
import json, sys
q = json.load(open(sys.argv[1]))["queues"][0]
assert q["queue"] == "poison.dead" and q["depth"] == 1, q
e = q["newest"][0]
assert e["object"] == "poison/poison.bin" and e["trigger"] == "crash" and e["attempts"] == 2, e
' "$T/stdout" || fail "status --json: $(cat "$T/stdout")"
[ "$(grep -cxF poison.bin runs1.log)" = 1 ] || fail "counted $(grep -cxF poison.bin runs1.log) times"

# Back in the queue: the dead job runs again (and dies again); the one
# that was done is not run again.
run 0 "$OBJTRIGGER" retry --watch in -c ot-1.xml
expect "$T/stdout" "1 dead letter of poison.dead back in poison"
d1_deaths() {
	[ "$(grep -c 'a message went to poison.dead' d1.log)" -ge 2 ]
}
wait_until 60 d1_deaths || { tail d1.log; fail "the message did not come back"; }
wait_until 30 dead 1 || fail "not back in the dead letters"
[ "$(grep -cxF poison.bin runs1.log)" = 1 ] || fail "the done job ran again"
expect d1.log "trigger crash: poison/poison.bin: came again: runs again"

# A message that kills the instance holding it, twice (two instances that
# die, each with a state of its own): the broker dead-letters it.
amqp_stop 1
cat >msg.json <<'JSON'
{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put",
 "s3":{"bucket":{"name":"poison"},"object":{"key":"a","size":2,"eTag":"60b725f10c9c85c70d97880dfe8191b3"}}}]}
JSON
run 0 rabbitmq_publish poison-limit msg.json
held() {
	[ "$(rabbitmq_unacked poison-limit)" = 1 ]
}
for n in 2 3; do
	amqp_instance $n ot.xml
	amqp_start $n
	wait_until 60 held || fail "instance $n does not hold the message"
	amqp_kill $n
done
limit_dead() {
	[ "$(rabbitmq_depth poison-limit.dead)" = 1 ]
}
wait_until 60 limit_dead || fail "the broker did not dead-letter it"
run 0 "$OBJTRIGGER" status -c ot-1.xml
expect "$T/stdout" "watch lim: dead-letter queue poison-limit.dead on broker mq: 1 message"
expect "$T/stdout" "  poison/a, since "
expect "$T/stdout" ": dead-lettered by the broker: delivery_limit"
exit 0
