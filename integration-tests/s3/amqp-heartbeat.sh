# amqp-heartbeat.sh - a turn of the daemon's loop held up for seconds
# (here the journal locked by another process, as objtrigger forget, a
# backfill or an admin's sqlite3 may hold it) does not cost the broker's
# connection: the daemon sends heartbeats while it waits, so the broker,
# which closes a connection silent for two heartbeats, keeps it, and the
# messages that came meanwhile run once, on the same connection.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
amqp_config ot.xml 'heartbeat="1s"' 'queue="beat.q" bind="beat"' 'fetch="no"' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
amqp_instance 1 ot.xml
amqp_start 1
# done N: N runs or more were logged.
done_runs() {
	[ "$(wc -l <runs1.log 2>/dev/null || echo 0)" -ge "$1" ]
}
"$AMQP_CLIENT" "$RABBITMQ_PORT" publish objtrigger beat 1 0 >/dev/null ||
    fail "cannot publish"
wait_until 30 done_runs 1 || { cat d1.log; fail "the first message did not run"; }

# Another process takes the journal's write lock for 6 s: each message
# that comes meanwhile waits for it, in the loop.
python3 - "$T/state1/journal.db" "$T/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(6)
db.execute("COMMIT")
PY
holder=$!
wait_until 10 test -e "$T/locked" || fail "the journal was not locked"
"$AMQP_CLIENT" "$RABBITMQ_PORT" publish objtrigger beat 5 0 >/dev/null ||
    fail "cannot publish"
wait "$holder" || fail "the lock's holder failed"
wait_until 30 done_runs 6 ||
    { cat d1.log; fail "only $(wc -l <runs1.log) of 6 messages ran"; }
sleep 2
[ "$(sort -u runs1.log | wc -l)" = 6 ] && [ "$(wc -l <runs1.log)" = 6 ] ||
    { cat runs1.log; fail "6 messages did not run once each"; }
[ "$(grep -c 'info: broker .*: connected to' d1.log)" = 1 ] ||
    { cat d1.log; fail "the connection was lost while the loop waited"; }
amqp_stop 1
exit 0
