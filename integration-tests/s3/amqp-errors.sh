# amqp-errors.sh - check --connect logs in to the broker and says what the
# watch finds there and would declare; a wrong password and a broker that
# does not answer are named, with the broker's or the system's reason, by
# check --connect and by the daemon, which tries again with backoff
# (without spinning) and says in /healthz which broker is out of reach.
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
port=$(free_port) || fail "no free port"
# daemon_says TEXT: the daemon, started with ot.xml and an HTTP server,
# logs TEXT and /healthz answers 503 naming the broker; it tries again
# meanwhile, without spinning.
daemon_says() {
	sed -i "s|<objtrigger>|<objtrigger><http listen=\"127.0.0.1:$port\"/>|" ot.xml
	start_daemon ot.xml
	wait_until 20 grep -qF "$1" daemon.log || { cat daemon.log; fail "no '$1'"; }
	sleep 3
	ticks=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
	curl --noproxy '*' -s -o health.txt -w '%{http_code}' \
	    "http://127.0.0.1:$port/healthz" >code.txt
	stop_daemon
	[ "$(cat code.txt)" = 503 ] || fail "/healthz answered $(cat code.txt)"
	expect health.txt "a broker is out of reach: $1"
	expect daemon.log "connecting again in"
	[ "$ticks" -lt 200 ] || fail "the daemon used $ticks ticks of CPU"
	: >daemon.log
}
daemon_says "broker mq ($RABBITMQ_URL): login refused: 403 ACCESS_REFUSED"

_rgw_taken=
_rgw_pick_port nobody || fail "no free port"
amqp_config ot.xml "url=\"amqp://127.0.0.1:$nobody/%2F\" connect-timeout=\"1s\"" \
    'queue="errors.q"' '' '<transform plugin="copy"/>'
sed -i "s|url=\"$RABBITMQ_URL\" ||" ot.xml
run 1 "$OBJTRIGGER" check --connect -c ot.xml
expect "$T/stdout" "broker mq (amqp://127.0.0.1:$nobody/%2F): cannot connect to 127.0.0.1 port $nobody: Connection refused"
daemon_says "broker mq (amqp://127.0.0.1:$nobody/%2F): cannot connect to 127.0.0.1 port $nobody: Connection refused"

chmod 644 "$T/mq.cred"
amqp_config ot.xml "credentials-file=\"$T/mq.cred\"" 'queue="errors.q"' '' \
    '<transform plugin="copy"/>'
run 1 "$OBJTRIGGER" check -c ot.xml
expect "$T/stderr" "can be read by others than its owner: chmod 600"
exit 0
