#!/bin/sh
# daemon-reload.sh - a reload that passes check but cannot be applied (its
# HTTP port is taken, a watched folder cannot be made) keeps the old
# config running and says why; one that can be applied is.
. "$top_srcdir/integration-tests/lib.sh"

command -v curl >/dev/null || skip "no curl"
use_test_plugins
mkdir inbox
port=$(free_port) || fail "no free port"
taken=$(free_port) || fail "no free port"
config() { # PORT WATCHED-FOLDER
	cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="2s"/>
  <http listen="127.0.0.1:$1"/>
  <watch name="in" type="folder" path="$2"/>
  <trigger name="count" watch="in">
    <transform plugin="counting">
      <param name="log" value="$T/runs.log"/>
    </transform>
    <output path="$T/outbox/{name}"/>
  </trigger>
</objtrigger>
XML
}
# listening PORT: something listens on 127.0.0.1:PORT.
listening() {
	curl --noproxy '*' -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"
	[ $? != 7 ]
}
# works N: a new file in inbox runs, and /healthz answers on $port.
works() {
	echo "$1" >"inbox/f$1.txt"
	wait_until 20 ran "f$1.txt" 1 || fail "step $1: the folder watch stopped"
	http_up "http://127.0.0.1:$port/healthz" ||
	    fail "step $1: the old HTTP server stopped"
}

config "$port" "$T/inbox"
start_daemon ot.xml
wait_until 20 http_up "http://127.0.0.1:$port/healthz" || fail "no server"
works 1

# Another process holds the new port.
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
time.sleep(120)' "$taken" &
holder=$!
wait_until 10 listening "$taken" || fail "the port holder did not start"
config "$taken" "$T/inbox"
run 0 "$OBJTRIGGER" check -c ot.xml
kill -HUP "$DAEMON_PID"
wait_until 20 logged 1 'cannot be applied' ||
    { cat daemon.log; fail "a reload onto a taken port was not refused"; }
expect daemon.log "the old one stays in force"
kill -0 "$DAEMON_PID" || fail "the daemon exited"
works 2
kill "$holder"

# A watched folder that cannot be made.
config "$port" /proc/objtrigger-none/inbox
kill -HUP "$DAEMON_PID"
wait_until 20 logged 2 'cannot be applied' ||
    { cat daemon.log; fail "a reload with a folder that cannot be made was not refused"; }
expect daemon.log "/proc/objtrigger-none/inbox"
works 3

# A reload that can be applied is, on its new port.
new=$(free_port) || fail "no free port"
config "$new" "$T/inbox"
kill -HUP "$DAEMON_PID"
wait_until 20 http_up "http://127.0.0.1:$new/healthz" || fail "the good reload was not applied"
port=$new
works 4
stop_daemon
no_sanitizer_report
