#!/bin/sh
# daemon-basic.sh - the folder watch end to end: start-up catch-up, slow
# writers, renames, ignored names, replaced files, reload, stop, restart.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
counting_config ot.xml "" 'existing="run"'
echo "from before" >inbox/old.txt
touch -d '1 minute ago' inbox/old.txt
start_daemon ot.xml

# Files that arrived while the daemon was down are processed at start.
wait_until 20 has_files outbox 1 || fail "old.txt was not processed"
cmp inbox/old.txt outbox/old.txt || fail "old.txt differs"

# A slow writer is processed once, after it closes the file.
(printf 'part 1\n'; sleep 1; printf 'part 2\n'; sleep 1; printf 'part 3\n') \
    >inbox/slow.txt &
writer=$!
sleep 1.5
[ ! -e outbox/slow.txt ] || fail "slow.txt was taken before it was closed"
wait $writer
wait_until 20 test -e outbox/slow.txt || fail "slow.txt was not processed"
cmp inbox/slow.txt outbox/slow.txt || fail "slow.txt differs"

# A file renamed into place is processed under its final name only.
printf 'renamed\n' >inbox/.incoming
mv inbox/.incoming inbox/renamed.txt
wait_until 20 test -e outbox/renamed.txt || fail "a rename was missed"

# Temporary and hidden names are ignored.
for n in .hidden x.tmp x.part x.partial x.swp 'x~' .rsync.AbC123; do
	printf 'temp\n' >"inbox/$n"
done

# A file replaced with new content runs again; a close without a change
# (same inode, size and time) does not.
printf 'version 1\n' >inbox/r.txt
wait_until 20 test -e outbox/r.txt || fail "r.txt was not processed"
printf 'version 2, longer\n' >inbox/r.txt
wait_until 20 grep -q 'version 2' outbox/r.txt || fail "r.txt did not run again"
: >>inbox/r.txt
sleep 1.5
[ "$(runs r.txt)" = 2 ] || fail "r.txt ran $(runs r.txt) times, not 2"
for n in old.txt slow.txt renamed.txt; do
	[ "$(runs "$n")" = 1 ] || fail "$n ran $(runs "$n") times"
done
[ "$(wc -l <runs.log)" = 5 ] || { cat runs.log; fail "extra runs"; }

# One log line per job end.
expect daemon.log "job 2 done: trigger=count key=slow.txt attempts=1 duration="

# SIGHUP with a broken config: every error logged, the old one in force.
cp ot.xml good.xml
printf '<objtrigger>\n  <bogus/>\n</objtrigger>\n' >ot.xml
kill -HUP "$DAEMON_PID"
wait_until 20 grep -q 'the old one stays in force' daemon.log ||
    fail "a broken reload was not refused"
expect daemon.log "ot.xml:2: unknown element <bogus> in <objtrigger>"
printf 'after\n' >inbox/after-bad-reload.txt
wait_until 20 test -e outbox/after-bad-reload.txt ||
    fail "the old config is not in force"

# SIGHUP with a good config: the new one is in force.
sed 's|{dir}/{name}|{dir}/v2-{name}|' good.xml >ot.xml
kill -HUP "$DAEMON_PID"
wait_until 20 grep -q 'reloaded' daemon.log || fail "no reload"
printf 'new\n' >inbox/after-reload.txt
wait_until 20 test -e outbox/v2-after-reload.txt || fail "the new config is not in force"

# SIGTERM stops it; what lands while it is down runs at the next start,
# and nothing that ran runs again.
stop_daemon
expect daemon.log "info: stopped"
printf 'while down\n' >inbox/down.txt
touch -d '1 minute ago' inbox/down.txt
before=$(wc -l <runs.log)
start_daemon ot.xml
wait_until 20 test -e outbox/v2-down.txt || fail "down.txt was not processed"
sleep 1
[ "$(wc -l <runs.log)" = $((before + 1)) ] || { cat runs.log; fail "re-runs after a restart"; }
stop_daemon

# objtrigger status counts the jobs.
run 0 "$OBJTRIGGER" status -c ot.xml
expect "$T/stdout" "count"
run 0 "$OBJTRIGGER" status -c ot.xml --json
expect "$T/stdout" '"done": 8'
no_sanitizer_report
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report in the daemon"
exit 0
