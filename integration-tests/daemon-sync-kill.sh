#!/bin/sh
# daemon-sync-kill.sh - SIGKILL while a turn's output folders wait for
# their sync (held by strace): every job the journal calls done has its
# output, the turn's renamed outputs are not yet done, and after a
# restart every file has its output once, whole, with no temporary name
# left.
. "$top_srcdir/integration-tests/lib.sh"

command -v strace >/dev/null || skip "no strace"
/usr/bin/python3 -c 'import sqlite3' 2>/dev/null || skip "no python3 sqlite3"
case $(uname -m) in
x86_64) nr_fsync=74 nr_syncfs=306 ;;
aarch64) nr_fsync=82 nr_syncfs=267 ;;
*) skip "fsync's number on $(uname -m) is not known here" ;;
esac

use_test_plugins
mkdir -p inbox outbox
counting_config ot.xml "" 'existing="run"'
total=300
i=0
while [ $i -lt $total ]; do
	d=d$((i % 10))
	mkdir -p inbox/$d outbox/$d
	printf 'file %s\n' $i >"inbox/$d/$i.txt"
	i=$((i + 1))
done
touch -d '1 minute ago' inbox/*/*

# sql STATEMENT: runs it on the journal, prints what it returns.
sql() {
	/usr/bin/python3 - "$T/state/journal.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
for row in db.execute(sys.argv[2]):
    print("|".join(str(v) for v in row))
PY
}

# held: a thread of the daemon is stopped in the sync of an output folder
# (fsync, or syncfs when many folders are synced at once).
held() {
	for task in /proc/$pid/task/*; do
		set -- $(cat "$task/syscall" 2>/dev/null)
		[ "${1:-}" = "$nr_fsync" ] || [ "${1:-}" = "$nr_syncfs" ] ||
			continue
		f=$(readlink "/proc/$pid/fd/$(($2))" 2>/dev/null)
		case $f in
		"$T/outbox" | "$T/outbox/"*) [ -d "$f" ] && return 0 ;;
		esac
	done
	return 1
}

# Each sync of an output folder by the daemon (any thread) waits 0.3 s
# before it runs.
paths=
for d in outbox outbox/d*; do
	paths="$paths -P $T/$d"
done
strace -f -qq -o /dev/null $paths -e trace=fsync,syncfs \
    -e inject=fsync,syncfs:delay_enter=300000 \
    "$OBJTRIGGER" run -c ot.xml >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 daemon_started 0 || { cat daemon.log; fail "no daemon"; }
pid=$(pgrep -P "$DAEMON_PID" -x objtrigger) || fail "no daemon under strace"
wait_until 120 has_files outbox 30 || fail "stuck at $(files outbox) outputs"
# A turn's commit waits for the sync before it: under load, the first
# jobs may still wait for theirs when the 30th output is renamed.
wait_until 60 eval '[ -n "$(sql "SELECT 1 FROM jobs WHERE state = '"'done'"' LIMIT 1")" ]' ||
	fail "no job was done"
wait_until 30 held || fail "the daemon never held in a folder's sync"
kill -KILL "$pid"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=

renamed=$(files outbox)
sql "SELECT key FROM jobs WHERE state = 'done'" >done.txt
echo "killed with $renamed outputs renamed, $(wc -l <done.txt) jobs done"
[ -s done.txt ] || fail "no job was done before the kill"
while read -r key; do
	cmp -s "inbox/$key" "outbox/$key" || fail "$key is done without its output"
done <done.txt
[ "$(wc -l <done.txt)" -lt "$renamed" ] ||
	fail "no output waited for its folder's sync when killed"

start_daemon ot.xml
wait_until 120 has_files outbox $total || fail "only $(files outbox) outputs"
wait_until 30 eval '[ "$(sql "SELECT count(*) FROM jobs WHERE state = '"'done'"'")" = $total ]' ||
	fail "not every job is done: $(sql "SELECT state, count(*) FROM jobs GROUP BY state")"
stop_daemon
diff -r inbox outbox >/dev/null || fail "outputs differ"
[ "$(find outbox -name '.*' | wc -l)" = 0 ] || fail "temporary names left"
[ "$(sort -u runs.log | wc -l)" = $total ] || fail "files never ran"
expect daemon.log "that ran when objtrigger stopped"
exit 0
