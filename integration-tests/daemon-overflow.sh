#!/bin/sh
# daemon-overflow.sh - the kernel's inotify queue overflows while the daemon
# is stopped (SIGSTOP); after SIGCONT the rescan finds every file, once.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
counting_config ot.xml
queued=/proc/sys/fs/inotify/max_queued_events
old=$(cat $queued)
n=$((old + 2000))
# A small queue overflows with few files: lower it if we may (it applies
# to inotify instances made after the change, so before the start).
if [ -w $queued ] && echo 256 2>/dev/null >$queued; then
	trap 'echo "$old" >$queued; cleanup' EXIT
	n=2000
elif [ "$old" -gt 100000 ]; then
	skip "cannot lower $queued (read-only) and its $old events take too many files"
fi
start_daemon ot.xml
[ -w $queued ] && echo "$old" >$queued

# The folder is watched before the stop, so its events queue up.
mkdir -p inbox/a/b
sleep 1
kill -STOP "$DAEMON_PID"
i=0
while [ $i -lt $n ]; do
	printf 'file %s\n' $i >"inbox/a/b/$i.txt"
	i=$((i + 1))
done
kill -CONT "$DAEMON_PID"
wait_until 600 has_files outbox "$n" || fail "only $(files outbox) of $n"
sleep 1
expect daemon.log "the kernel's event queue overflowed: rescanning"
[ "$(files outbox)" = "$n" ] || fail "$(files outbox) outputs for $n files"
diff -r -x '.objtrigger-*' inbox outbox >/dev/null || fail "outputs differ"
[ "$(wc -l <runs.log)" = "$n" ] || fail "$(wc -l <runs.log) runs for $n files"
stop_daemon
echo "$n files, queue of $(cat $queued) events after restore"
exit 0
