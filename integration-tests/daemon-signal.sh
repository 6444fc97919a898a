#!/bin/sh
# daemon-signal.sh - objtrigger reload and objtrigger stop find the daemon
# of a config's state folder, signal it and report what it then logged:
# a reload applied, one refused with its errors, one that waits for a
# running job; a stop that lets a job finish. No daemon, or a stale pid
# in STATE/lock, is reported and nothing is signalled.
. "$top_srcdir/integration-tests/lib.sh"

mkdir inbox
config() { # TRIGGER-NAME [EXTRA-PARAM]
	sleeper_config "$1" 10s "${2:-}"
}

# No daemon yet.
config one
run 1 "$OBJTRIGGER" reload -c ot.xml
expect stderr "reload: no objtrigger runs with the state folder $T/state (of ot.xml)"
run 1 "$OBJTRIGGER" stop --config ot.xml
expect stderr "stop: no objtrigger runs with the state folder $T/state"
run 2 "$OBJTRIGGER" stop extra
expect stderr "usage: objtrigger stop [-c FILE]"

start_daemon ot.xml
echo 0 >inbox/a
wait_until 20 test -e outbox/one-a || fail "a did not run"

# A reload that is applied: what the daemon logged, exit 0.
config two
run 0 "$OBJTRIGGER" reload -c ot.xml
expect stdout "objtrigger[$DAEMON_PID]: info: reloading ot.xml"
expect stdout "objtrigger[$DAEMON_PID]: info: reloaded ot.xml"
echo 0 >inbox/b
wait_until 20 test -e outbox/two-b || fail "the reload was not applied"

# A record of another daemon (before a reboot, the clock restarted) is
# not taken for the answer.
printf 'reload 1 99999999999999999 failed\nerror stale\n' >state/control
config two
run 0 "$OBJTRIGGER" reload -c ot.xml
expect stdout "objtrigger[$DAEMON_PID]: info: reloaded ot.xml"
! grep -q stale "$T/stdout" || fail "reload reported another daemon's record"

# A config the plugin refuses: the daemon's errors, exit 1, and the old
# config stays in force.
config three '<param name="nope" value="1"/>'
run 1 "$OBJTRIGGER" reload -c ot.xml
expect stdout "objtrigger[$DAEMON_PID]: error: ot.xml:10: plugin 'exec' has no parameter 'nope'"
expect stdout "nope"
expect stdout "error: the new config has errors: the old one stays in force"
echo 0 >inbox/c
wait_until 20 test -e outbox/two-c || fail "the old config is not in force"

# A config that does not load is not sent.
echo '<objtrigger><nope/></objtrigger>' >bad.xml
cp ot.xml good.xml
cp bad.xml ot.xml
run 1 "$OBJTRIGGER" reload -c ot.xml
expect stderr "ot.xml:1:"
expect stderr "reload: not sent: the running config stays in force"
cp good.xml ot.xml

# A reload while a job runs waits for it, and says so.
config four
echo 3 >inbox/slow
wait_until 20 grep -qx slow started || fail "slow did not start"
run 0 "$OBJTRIGGER" reload -c ot.xml
# (a job may have been sent to the worker behind it, and counts too)
grep -qE 'info: the new config takes over when the [12] running jobs? ends?$' \
    "$T/stdout" || { cat "$T/stdout"; fail "the reload did not say it waits"; }
expect stdout "info: reloaded ot.xml"
test -e outbox/two-slow || fail "the reload did not wait for the running job"
echo 0 >inbox/d
wait_until 20 test -e outbox/four-d || fail "the reload was not applied"

# A stop lets the running job finish, and ends when the daemon has let
# go of the state folder.
echo 2 >inbox/last
wait_until 20 grep -qx last started || fail "last did not start"
run 0 "$OBJTRIGGER" stop -c ot.xml
expect stdout "objtrigger[$DAEMON_PID]: info: stopping: 1 job running, 10s to finish"
expect stdout "objtrigger[$DAEMON_PID]: info: stopped"
test -e outbox/four-last || fail "the running job did not finish"
wait "$DAEMON_PID" || fail "the daemon exited $?"
DAEMON_PID=
run 1 "$OBJTRIGGER" stop -c ot.xml
expect stderr "no objtrigger runs"

# A lock file left by a daemon killed with -9 names a pid that may now
# be another process's: nothing is signalled.
start_daemon ot.xml
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
sleep 60 &
other=$!
echo "$other" >state/lock
run 1 "$OBJTRIGGER" stop -c ot.xml
expect stderr "no objtrigger runs with the state folder"
kill -0 "$other" || fail "stop signalled a process that is not objtrigger"
kill "$other"
DAEMON_PID=
cat daemon.log >"$T/stderr"
no_sanitizer_report
