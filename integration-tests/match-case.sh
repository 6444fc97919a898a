#!/bin/sh
# match-case.sh - match-case="no" lets *.jpg take IMG_001.JPG; by default
# globs tell case apart; a file that matches no trigger is logged at debug
# level.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
counting_config ot.xml '' 'match="*.jpg" match-case="no"'
DAEMON_OPTS=-v start_daemon ot.xml
: >inbox/IMG_001.JPG
: >inbox/b.jpg
: >inbox/c.png
wait_until 20 ran IMG_001.JPG 1 || { cat daemon.log; fail "IMG_001.JPG did not match *.jpg"; }
wait_until 20 ran b.jpg 1 || fail "b.jpg did not run"
wait_until 20 logged 1 'watch in: c.png matched no trigger' || fail "no debug line for c.png"
stop_daemon
[ "$(runs c.png)" = 0 ] || fail "c.png ran"

# The files are there before this start: existing="run" takes them.
rm -rf state runs.log daemon.log
counting_config ot.xml '' 'match="*.jpg" existing="run"'
start_daemon ot.xml
wait_until 20 ran b.jpg 1 || fail "b.jpg did not run (case kept)"
sleep 1
stop_daemon
[ "$(runs IMG_001.JPG)" = 0 ] || fail "*.jpg took IMG_001.JPG by default"
