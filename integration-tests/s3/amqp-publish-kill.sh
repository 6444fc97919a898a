# amqp-publish-kill.sh - an s3-poll publisher killed with SIGKILL while
# objects keep coming, then started again, with two consumers on its
# queue: every object uploaded reaches a consumer at least once. Then a
# webhook that publishes: its sender's 200 comes once the records are in
# the outbox, and they reach the queue.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"
. "$top_srcdir/integration-tests/publish-lib.sh"

N=300
rgw_bucket killed || fail "no bucket"
port=$(free_port) || fail "no free port"
publish_config ot.xml "$port" killed \
    'type="s3-poll" store="rgw" bucket="killed" interval="200ms" start="beginning"'
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" declare killed.q objtrigger killed
"$AMQP_CLIENT" "$RABBITMQ_PORT" consume killed.q 20000 1 >c1.out &
c1=$!
"$AMQP_CLIENT" "$RABBITMQ_PORT" consume killed.q 20000 1 >c2.out &
c2=$!

# Uploads all along: the kill lands in the middle of them.
(
	i=0
	while [ "$i" -lt "$N" ]; do
		i=$((i + 1))
		put killed "k/$i" || echo "upload $i failed" >>upload-errors
	done
) &
uploader=$!
start_daemon ot.xml
wait_until 60 eval '[ "$(cat c1.out c2.out | wc -l)" -ge 30 ]' ||
    { cat daemon.log; fail "nothing consumed"; }
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
killed_at=$(cat c1.out c2.out | wc -l)
echo "# killed after $killed_at messages consumed"
sleep 1
start_daemon ot.xml
wait "$uploader"
[ ! -s upload-errors ] || { cat upload-errors; fail "uploads failed"; }
# Every object listed (the last listing has them all) and confirmed.
wait_until 120 eval '[ "$(python3 -c "import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    \"SELECT count(*) FROM listed\").fetchone()[0])" "$T/state/journal.db")" = "$N" ]' ||
    { cat daemon.log; fail "the publisher did not list them all"; }
wait_until 60 outbox_empty || { cat daemon.log; fail "the outbox kept $(outbox)"; }
stop_daemon
wait "$c1" "$c2"
consumed c1.out c2.out | sort -u >got.txt
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	echo "created killed k/$i"
done | sort >want.txt
comm -23 want.txt got.txt >lost.txt
[ ! -s lost.txt ] || { head lost.txt; fail "$(wc -l <lost.txt) events lost"; }
echo "# $(cat c1.out c2.out | wc -l) messages for $N events; consumers: $(wc -l <c1.out) and $(wc -l <c2.out)"

# A webhook that publishes answers 200 once the outbox holds its records.
rm -f daemon.log
publish_config hook.xml "$port" hooked 'type="s3-webhook" path="/hook" store="rgw"'
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" declare hooked.q objtrigger hooked
start_daemon hook.xml
python3 - >event.json <<'PY'
import json
print(json.dumps({"Records": [{"eventVersion": "2.2", "eventSource": "ceph:s3",
    "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"},
    "object": {"key": "hook one.jpg", "size": 7, "eTag": "abc",
               "sequencer": "0102030405060708"}}}]}))
PY
[ "$(http_code "http://127.0.0.1:$port/hook" --data-binary @event.json)" = 200 ] ||
    { cat "$T/body"; fail "the webhook did not take the event"; }
expect "$T/body" '"accepted":1'
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" consume hooked.q 3000
[ "$(consumed "$T/stdout")" = "created b hook one.jpg" ] ||
    { cat "$T/stdout"; fail "the webhook's event was not published"; }
grep -q '"sequencer":"0' "$T/stdout" || fail "the sequencer was not kept"
stop_daemon
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" daemon.log ||
    fail "sanitizer report"
exit 0
