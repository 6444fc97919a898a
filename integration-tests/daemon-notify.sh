#!/bin/sh
# daemon-notify.sh - systemd's notify protocol, on a socket this test
# listens on: READY=1 once the daemon watches, STATUS= with the queue's
# counts, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 with
# MONOTONIC_USEC then READY=1 around each reload (applied or refused),
# STOPPING=1 at stop; all from the daemon's own pid. Workers do not see
# the socket or the watchdog's variables.
. "$top_srcdir/integration-tests/lib.sh"

command -v python3 >/dev/null || skip "no python3"
mkdir inbox
config() { # TRIGGER-NAME [EXTRA-PARAM]
	sleeper_config "$1" 5s "${2:-}" "env >$T/env; "
}

python3 "$top_srcdir/integration-tests/notify-listen.py" "$T/notify.sock" \
    "$T/notify.log" &
listener=$!
trap 'kill $listener 2>/dev/null; cleanup' EXIT
wait_until 10 grep -qs listening notify.log || fail "the listener did not start"

# notified N FIELD: notify.log has at least N messages with FIELD.
notified() {
	[ "$(grep -c -- "$2" notify.log)" -ge "$1" ]
}

config one
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 \
    sh -c 'WATCHDOG_PID=$$ exec "$0" run -c ot.xml' "$OBJTRIGGER" \
    >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 notified 1 'READY=1' || { cat daemon.log; fail "no READY=1"; }
expect daemon.log "info: watching 1 folder"
wait_until 10 notified 1 'STATUS=0 jobs waiting, 0 running, 0 dead letters' ||
    { cat notify.log; fail "no STATUS"; }
wait_until 10 notified 5 'WATCHDOG=1' || { cat notify.log; fail "no pings"; }

# A job: the status counts it; its worker sees none of the variables.
echo 2 >inbox/a
wait_until 20 notified 1 'STATUS=0 jobs waiting, 1 running, 0 dead letters' ||
    { cat notify.log; fail "no STATUS with the running job"; }
wait_until 20 test -e outbox/one-a || fail "a did not run"
for v in NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID; do
	! grep -q "^$v=" env || fail "the worker's command sees $v"
done
wait_until 10 notified 2 'STATUS=0 jobs waiting, 0 running, 0 dead letters' ||
    { cat notify.log; fail "no STATUS after the job"; }

# A reload, applied: RELOADING=1 and MONOTONIC_USEC, then READY=1.
config two
run 0 "$OBJTRIGGER" reload -c ot.xml
wait_until 10 notified 2 'READY=1' || { cat notify.log; fail "no READY=1 after the reload"; }
grep -n 'RELOADING=1' notify.log | grep -q '|MONOTONIC_USEC=[0-9][0-9]*$' ||
    { cat notify.log; fail "RELOADING=1 without MONOTONIC_USEC"; }
reloading=$(grep -n 'RELOADING=1' notify.log | head -n 1 | cut -d: -f1)
ready=$(grep -n 'READY=1' notify.log | sed -n 2p | cut -d: -f1)
[ "$reloading" -lt "$ready" ] || { cat notify.log; fail "READY=1 before RELOADING=1"; }

# A reload refused, by SIGHUP: RELOADING=1, then READY=1 all the same.
config three '<param name="nope" value="1"/>'
kill -HUP "$DAEMON_PID"
wait_until 20 notified 3 'READY=1' || { cat notify.log; fail "no READY=1 after a refused reload"; }
notified 2 'RELOADING=1' || { cat notify.log; fail "no RELOADING=1 for SIGHUP"; }
first=$(grep 'RELOADING=1' notify.log | sed -n 1p | sed 's/.*MONOTONIC_USEC=//')
second=$(grep 'RELOADING=1' notify.log | sed -n 2p | sed 's/.*MONOTONIC_USEC=//')
[ "$second" -gt "$first" ] || fail "MONOTONIC_USEC went back: $first, $second"
echo 0 >inbox/b
wait_until 20 test -e outbox/two-b || fail "the refused reload changed the config"

# The stop.
run 0 "$OBJTRIGGER" stop -c ot.xml
wait_until 10 notified 1 'STOPPING=1' || { cat notify.log; fail "no STOPPING=1"; }
wait "$DAEMON_PID" || { cat daemon.log; fail "the daemon exited with an error"; }
pings=$(grep -c 'WATCHDOG=1' notify.log)
[ "$pings" -ge 5 ] || fail "$pings pings"

# Every message came from the daemon itself (NotifyAccess=main).
others=$(grep -v '^listening$' notify.log | grep -v "^$DAEMON_PID " || true)
[ -z "$others" ] || { cat notify.log; fail "messages from other processes: $others"; }
DAEMON_PID=
cat daemon.log >"$T/stderr"
no_sanitizer_report
