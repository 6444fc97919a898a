#!/bin/sh
# daemon-lock.sh - the state folder's lock: a second daemon names the pid
# of the first; a state folder that cannot be made is reported with its
# real cause, never as another daemon.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
counting_config ot.xml
start_daemon ot.xml
[ "$(cat state/lock)" = "$DAEMON_PID" ] || fail "STATE/lock does not hold the pid"
run 1 "$OBJTRIGGER" run -c ot.xml
expect "$T/stderr" "another objtrigger (pid $DAEMON_PID) runs with the state folder $T/state"
stop_daemon

sed "s|$T/state|$T/no/such/parent/state|" ot.xml >bad.xml
run 1 "$OBJTRIGGER" run -c bad.xml
expect "$T/stderr" "mkdir $T/no/such/parent/state: No such file or directory"
! grep -q "another objtrigger" "$T/stderr" || fail "a missing parent was reported as another daemon"
no_sanitizer_report
