#!/bin/sh
# existing.sh - what a new trigger does with the files already in its
# watch: existing="skip" (the default) runs none and says how many; a
# restart still runs what came while the daemon was down; a trigger added
# by reload with existing="run" runs what is there, and only it does.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
for i in 1 2 3; do echo "$i" >"inbox/old$i.txt"; done
touch -d '1 minute ago' inbox/*

counting_config ot.xml
start_daemon ot.xml
wait_until 10 logged 1 "trigger count: 3 objects already in watch in skipped \(existing=skip; objtrigger backfill count runs them\)" ||
    fail "no line about the skipped files"
# Moved in with an old time: a scan takes a file changed in the last
# second as a new event (it may still be being written), and the reload
# below must find this one among those there, however slow the machine.
echo new >new.txt
touch -d '1 minute ago' new.txt
mv new.txt inbox/
wait_until 20 ran new.txt 1 || { cat daemon.log; fail "new.txt did not run"; }
stop_daemon
[ "$(wc -l <runs.log)" = 1 ] || fail "files there before the trigger ran: $(cat runs.log)"

# Down, then up: what came meanwhile runs; what was skipped does not.
echo late >inbox/late.txt
touch -d '1 minute ago' inbox/late.txt
start_daemon ot.xml
wait_until 20 ran late.txt 1 || fail "late.txt did not run"
! logged 2 "trigger count: " || fail "the trigger was new again at restart"

# A second trigger added by reload with existing="run": the five files
# run for it, none again for the first.
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="20s" grace="5s"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="count" watch="in">
    <transform plugin="counting"><param name="log" value="$T/runs.log"/></transform>
    <output path="$T/outbox/{name}"/>
  </trigger>
  <trigger name="all" watch="in" existing="run">
    <transform plugin="counting"><param name="log" value="$T/all.log"/></transform>
    <output path="$T/all/{name}"/>
  </trigger>
</objtrigger>
XML
kill -HUP "$DAEMON_PID"
wait_until 20 logged 1 "trigger all: 5 objects already in watch in queued \(existing=run\)" ||
    { cat daemon.log; fail "no line about the queued files"; }
wait_until 20 has_files all 5 || fail "only $(files all) of the 5 files ran for the new trigger"
stop_daemon
[ "$(wc -l <runs.log)" = 2 ] || fail "the first trigger ran again: $(cat runs.log)"
[ "$(sort -u all.log | wc -l)" = 5 ] && [ "$(wc -l <all.log)" = 5 ] ||
    fail "the new trigger did not run each file once: $(cat all.log)"
exit 0
