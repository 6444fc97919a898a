#!/bin/sh
# daemon-crash.sh - SIGKILL three times during a run of 2,000 files: every
# output present and whole, and no more re-runs than jobs were in flight:
# those the journal held running at the kill (in workers, or whose outputs
# were being committed; the daemon's next start says how many), and, a
# worker, the one it ran and the one sent ahead to it before their start
# was committed.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir -p inbox
counting_config ot.xml "" 'existing="run"'
workers=2
total=2000
# 64 KiB files, so that a partial output would show.
head -c $((64 * 1024)) /dev/urandom >seed
i=0
while [ $i -lt $total ]; do
	mkdir -p "inbox/d$((i / 100))"
	{ printf '%s\n' $i; cat seed; } >"inbox/d$((i / 100))/$i.bin"
	i=$((i + 1))
done
touch -d '1 minute ago' inbox/*/*

kills=0
for at in 300 900 1500; do
	start_daemon ot.xml
	wait_until 300 has_files outbox $at || fail "stuck at $(files outbox)"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	kills=$((kills + 1))
	echo "killed at $(files outbox) outputs"
done
start_daemon ot.xml
wait_until 300 has_files outbox $total || fail "only $(files outbox) outputs"
sleep 1
stop_daemon

diff -r -x '.objtrigger-*' inbox outbox >/dev/null || fail "outputs differ"
[ "$(sort -u runs.log | wc -l)" = $total ] || fail "files never ran"
reruns=$(($(wc -l <runs.log) - total))
held=$(sed -n 's/.*info: \([0-9]*\) jobs\{0,1\} that ran when objtrigger stopped.*/\1/p' \
    daemon.log | awk '{ n += $1 } END { print n + 0 }')
echo "$reruns re-runs after $kills kills with $workers workers, $held jobs running"
[ "$reruns" -le $((held + kills * workers * 2)) ] || fail "$reruns re-runs"
expect daemon.log "that ran when objtrigger stopped"
exit 0
