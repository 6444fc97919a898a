# amqp-errors.sh - check --connect logs in to the broker and says what the
# watch finds there and would declare; a wrong password and a broker that
# does not answer are named, with the broker's or the system's reason.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

amqp_config ot.xml '' 'queue="errors.q" bind="errors"' '' \
    '<transform plugin="copy"/>'
run 0 "$OBJTRIGGER" check --connect -c ot.xml
expect "$T/stdout" "broker mq: OK ($RABBITMQ_URL as guest)"
expect "$T/stdout" "broker mq: watch in: exchange objtrigger: exists"
expect "$T/stdout" "broker mq: watch in: queue errors.q.dead: missing: would be declared (quorum)"
expect "$T/stdout" "broker mq: watch in: queue errors.q: missing: would be declared (quorum, delivery limit 5, dead letters to errors.q.dead at least once)"
expect "$T/stdout" "binding errors.q to objtrigger with key errors: would be made if missing"
# check declares nothing.
[ -z "$(rabbitmq_depth errors.q)" ] || fail "check declared the queue"

printf 'user = guest\npassword = not-the-password\n' >"$T/mq.cred"
chmod 600 "$T/mq.cred"
amqp_config ot.xml "credentials-file=\"$T/mq.cred\"" 'queue="errors.q"' '' \
    '<transform plugin="copy"/>'
run 1 "$OBJTRIGGER" check --connect -c ot.xml
expect "$T/stdout" "broker mq ($RABBITMQ_URL): login refused: 403 ACCESS_REFUSED"

_rgw_taken=
_rgw_pick_port nobody || fail "no free port"
amqp_config ot.xml "url=\"amqp://127.0.0.1:$nobody/%2F\" connect-timeout=\"1s\"" \
    'queue="errors.q"' '' '<transform plugin="copy"/>'
sed -i "s|url=\"$RABBITMQ_URL\" ||" ot.xml
run 1 "$OBJTRIGGER" check --connect -c ot.xml
expect "$T/stdout" "broker mq (amqp://127.0.0.1:$nobody/%2F): cannot connect to 127.0.0.1 port $nobody: Connection refused"

chmod 644 "$T/mq.cred"
amqp_config ot.xml "credentials-file=\"$T/mq.cred\"" 'queue="errors.q"' '' \
    '<transform plugin="copy"/>'
run 1 "$OBJTRIGGER" check -c ot.xml
expect "$T/stderr" "can be read by others than its owner: chmod 600"
exit 0
