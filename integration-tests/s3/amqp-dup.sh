# amqp-dup.sh - the same event published twice runs one job and makes one
# output (the second message is acked: the journal knows the job ended);
# an event naming a version the object no longer has, or an object gone,
# is skipped, not run on the newer bytes. A queue deleted under the
# consumer is declared again.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
rgw_bucket dup || fail "no bucket"
amqp_config ot.xml '' "queue=\"dup\" bind=\"$AMQP_TOPIC\" bucket=\"dup\"" '' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
amqp_instance 1 ot.xml
amqp_start 1
# event KEY ETAG SIZE: an RGW record of KEY in bucket dup, to $T/KEY.json.
event() {
	printf '{"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"dup"},"object":{"key":"%s","size":%s,"eTag":"%s"}}}]}' \
	    "$1" "$3" "$2" >"$T/$1.json"
}
etag() {
	s3 s3api head-object --bucket dup --key "$1" --query ETag --output text | tr -d '"'
}
acked() {
	[ "$(rabbitmq_depth dup)" = 0 ]
}
echo one >one
run 0 s3 s3 cp --quiet one s3://dup/one
event one "$(etag one)" 4
run 0 rabbitmq_publish "$AMQP_TOPIC" one.json
run 0 rabbitmq_publish "$AMQP_TOPIC" one.json
wait_until 60 has_files out 1 || fail "no output"
wait_until 60 acked || fail "$(rabbitmq_depth dup) messages not acked"
[ "$(grep -cxF one runs1.log)" = 1 ] || fail "ran $(grep -cxF one runs1.log) times"
cmp -s one out/one || fail "the output is not the object"
# Once more, later: the job ended long ago, and still is not run again.
run 0 rabbitmq_publish "$AMQP_TOPIC" one.json
wait_until 60 acked || fail "not acked"
[ "$(grep -cxF one runs1.log)" = 1 ] || fail "ran again"

# The object changed, then an event of its old version comes: skipped.
echo two >two
run 0 s3 s3 cp --quiet two s3://dup/two
event two "$(etag two)" 4
echo newer >two
run 0 s3 s3 cp --quiet two s3://dup/two
run 0 rabbitmq_publish "$AMQP_TOPIC" two.json
skipped() {
	grep -q "skipped: .*key=two" d1.log
}
wait_until 60 skipped || { tail d1.log; fail "not skipped"; }
wait_until 60 acked || fail "not acked"
# And one of an object that went away.
echo three >three
run 0 s3 s3 cp --quiet three s3://dup/three
event three "$(etag three)" 6
run 0 s3 s3 rm --quiet s3://dup/three
run 0 rabbitmq_publish "$AMQP_TOPIC" three.json
gone() {
	grep -q "skipped: .*key=three" d1.log
}
wait_until 60 gone || { tail d1.log; fail "not skipped"; }
wait_until 60 acked || fail "not acked"
[ "$(grep -cxF two runs1.log)$(grep -cxF three runs1.log)" = 00 ] ||
    fail "ran on a version the event did not name"
dead=$(rabbitmq_depth dup.dead)
[ "$dead" = 0 ] || fail "dup.dead holds $dead messages"

# The queue deleted under the consumer: the broker cancels it
# (consumer_cancel_notify), and the instance connects again, declares
# the queue again and goes on.
run 0 rabbitmqctl delete_queue dup
again() {
	[ "$(grep -c 'info: broker mq: connected to' d1.log)" -ge 2 ]
}
wait_until 60 again || { tail d1.log; fail "no new connection"; }
expect d1.log "broker mq: the broker cancelled the consumer"
echo four >four
run 0 s3 s3 cp --quiet four s3://dup/four
event four "$(etag four)" 5
run 0 rabbitmq_publish "$AMQP_TOPIC" four.json
wait_until 60 has_files out 2 || { tail d1.log; fail "nothing done after the queue came back"; }
amqp_stop 1
exit 0
