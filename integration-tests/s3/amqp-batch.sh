# amqp-batch.sh - a batch trigger on an amqp watch gets whole batches: the
# prefetch holds three batches a worker slot (one running, the next
# filling, the one before waiting for its sync). With 16 messages a slot,
# a batch larger than the prefetch never filled, and ran only when its
# window ran out, with what the prefetch let in.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

cat >count.sh <<'SH'
echo "$OBJTRIGGER_COUNT" >>"$1"
SH
amqp_config ot.xml '' "queue=\"batch.q\" bind=\"$AMQP_TOPIC\"" \
    'fetch="no" batch-size="40" batch-window="5m"' \
    "<transform plugin=\"exec\"><param name=\"arg\" value=\"/bin/sh\"/><param name=\"arg\" value=\"$T/count.sh\"/><param name=\"arg\" value=\"$T/runs.log\"/></transform>"
amqp_instance 1 ot.xml
amqp_start 1
"$AMQP_CLIENT" "$RABBITMQ_PORT" publish objtrigger "$AMQP_TOPIC" 80 0 \
    >/dev/null || fail "cannot publish"
# ran N: N batches ran.
ran() {
	[ "$(wc -l 2>/dev/null <runs1.log || echo 0)" -ge "$1" ]
}
wait_until 60 ran 2 ||
    { tail d1.log; fail "two batches of 40 did not run in 60 s (ran: $(cat runs1.log 2>/dev/null))"; }
[ "$(tr '\n' ' ' <runs1.log)" = "40 40 " ] ||
    fail "batches of $(tr '\n' ' ' <runs1.log), not two of 40"
acked() {
	[ "$(rabbitmq_depth batch.q)" = 0 ]
}
wait_until 30 acked || fail "$(rabbitmq_depth batch.q) messages not acked"
amqp_stop 1
exit 0
