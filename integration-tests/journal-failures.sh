#!/bin/sh
# journal-failures.sh - what the journal could not take is not lost: a
# webhook's 2xx comes after its records are synced to disk (traced); a
# record's sequencer and its job are one transaction; a job end whose
# commit failed is recorded once the journal takes writes again, with its
# outputs, without a restart. A write is made to fail by an SQLite trigger
# the test puts in the journal, the way a full disk fails it.
. "$top_srcdir/integration-tests/lib.sh"

command -v curl >/dev/null || skip "no curl"
command -v strace >/dev/null || skip "no strace"
/usr/bin/python3 -c 'import sqlite3' 2>/dev/null || skip "no python3 sqlite3"

port=$(free_port) || fail "no free port"
url=http://127.0.0.1:$port
printf 'access-key = a\nsecret-key = b\n' >cred
chmod 600 cred
use_test_plugins
mkdir inbox outbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="2s"/>
  <http listen="127.0.0.1:$port"/>
  <store name="s" endpoint="http://127.0.0.1:1" credentials-file="$T/cred"/>
  <watch name="hook" type="s3-webhook" path="/events" store="s"/>
  <trigger name="t" watch="hook">
    <transform plugin="copy"/>
    <output path="$T/hooked/{key}"/>
    <retry attempts="5" backoff="1h" max-backoff="1h"/>
  </trigger>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="copy" watch="in">
    <transform plugin="copy"/>
    <output path="$T/outbox/{name}"/>
  </trigger>
  <watch name="out" type="folder" path="$T/outbox"/>
  <trigger name="count" watch="out">
    <transform plugin="counting">
      <param name="log" value="$T/runs.log"/>
    </transform>
    <output path="$T/counted/{name}"/>
  </trigger>
</objtrigger>
XML

# sql STATEMENT: runs it on the daemon's journal, prints what it returns.
sql() {
	/usr/bin/python3 - "$T/state/journal.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
for row in db.execute(sys.argv[2]):
    print("|".join(str(v) for v in row))
PY
}
event() { # KEY SEQUENCER
	printf '{"Records":[{"eventSource":"ceph:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%s","size":1,"eTag":"e%s","sequencer":"%s"}}}]}' \
	    "$1" "$2" "$2"
}
post() { # KEY SEQUENCER
	event "$1" "$2" | curl --noproxy '*' -s -o answer -D headers \
	    -w '%{http_code}' --data-binary @- "$url/events"
}

# 1. The sync of the WAL comes before the 200 is written to the socket.
strace -f -qq -y -s 80 -o trace \
    -e trace=fsync,fdatasync,read,recvfrom,write,writev,sendto,sendmsg \
    "$OBJTRIGGER" run -c ot.xml >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 60 http_up "$url/healthz" || { cat daemon.log; fail "no daemon"; }
[ "$(post k1 0000000000000001)" = 200 ] || fail "k1: $(cat answer)"
sleep 0.5
kill -TERM "$(pgrep -P "$DAEMON_PID" -x objtrigger)"
wait_until 30 daemon_gone || fail "the daemon under strace did not stop"
DAEMON_PID=
awk '/POST \/events/ { posted = NR; synced = 0 }
     posted && /sync\([0-9]+<[^>]*journal\.db-wal>/ { synced = NR }
     posted && /HTTP\/1\.[01] 200/ && !answered { answered = NR; before = synced }
     END { if (!answered) { print "no 200 after the POST in the trace"; exit 1 }
           if (!before) { print "the 200 went out before a sync of the WAL"; exit 1 } }' \
    trace || { grep -E 'sync|HTTP|POST' trace | head -20; fail "2xx before the WAL sync"; }

start_daemon ot.xml

# 2. A record whose job cannot be written leaves no sequencer behind: the
# sender's retry is accepted, not taken for a duplicate.
sql "CREATE TRIGGER poison BEFORE INSERT ON jobs WHEN NEW.key = 'k-poison'
     BEGIN SELECT RAISE(ABORT, 'poisoned by the test'); END" >/dev/null
code=$(post k-poison 0000000000000002)
[ "$code" = 503 ] || fail "a record whose job failed: $code $(cat answer)"
sql "DROP TRIGGER poison" >/dev/null
code=$(post k-poison 0000000000000002)
[ "$code" = 200 ] || fail "the retry: $code $(cat answer)"
grep -q '"accepted":1' answer ||
    fail "the retry was not accepted: $(cat answer)"
[ "$(sql "SELECT count(*) FROM jobs WHERE key = 'k-poison'")" = 1 ] ||
    fail "no job for the retried record"

# 3. A job end the journal could not take is recorded when it can again,
# outputs included, without a restart.
sql "CREATE TRIGGER stuck BEFORE UPDATE ON jobs
     WHEN OLD.key = 'f-stuck.txt' AND NEW.state = 'done'
     BEGIN SELECT RAISE(ABORT, 'poisoned by the test'); END" >/dev/null
echo stuck >inbox/f-stuck.txt
wait_until 30 test -e outbox/f-stuck.txt || fail "f-stuck.txt was not copied"
sleep 2
[ "$(sql "SELECT state FROM jobs WHERE key = 'f-stuck.txt'")" = running ] ||
    fail "the end went in despite the trigger"
sql "DROP TRIGGER stuck" >/dev/null
wait_until 20 eval '[ "$(sql "SELECT state FROM jobs WHERE key = '"'f-stuck.txt'"'")" = done ]' ||
    { sql "SELECT key, state, error FROM jobs"; fail "the lost end was not recorded"; }
[ "$(sql "SELECT count(*) FROM outputs WHERE path = '$T/outbox/f-stuck.txt'")" = 1 ] ||
    fail "the output row was lost"
# The watch on the outputs does not take them for new files.
echo other >outbox/other.txt
wait_until 20 ran other.txt 1 || fail "the output watch does not run"
sleep 1
[ "$(runs f-stuck.txt)" = 0 ] || fail "the trigger's own output was taken as new"
stop_daemon
expect daemon.log "poisoned by the test"
