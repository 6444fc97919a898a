#!/bin/sh
# status-forget.sh - status shows running jobs and for how long, one job's
# whole history (each attempt's start and end, how it ended, its outputs)
# and one trigger's jobs; forget dismisses dead letters while the daemon
# runs: gone from status and from the dead-letter gauge, kept in the
# journal, and back with retry ID.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
PORT=$(free_port) || fail "no free port"
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="3" timeout="60s" grace="2s"/>
  <http listen="127.0.0.1:$PORT"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="slow" watch="in" match="slow-*">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="while [ ! -e $T/go ]; do sleep 0.1; done; cp &quot;\$OBJTRIGGER_INPUT&quot; out"/>
    </transform>
    <output path="$T/outbox/slow/{name}"/>
  </trigger>
  <trigger name="fail" watch="in" match="fail-*">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="echo bad input >&amp;2; exit 3"/>
    </transform>
    <output path="$T/outbox/fail/{name}"/>
  </trigger>
  <trigger name="ok" watch="in" match="ok-*">
    <transform plugin="copy"/>
    <output path="$T/outbox/ok/{name}"/>
  </trigger>
</objtrigger>
XML
dead_gauge() {
	[ "$(http_code "http://127.0.0.1:$PORT/metrics")" = 200 ] || return 1
	cp "$T/body" metrics.txt
	metric metrics.txt objtrigger_dead_letters
}
gauge_is() {
	[ "$(dead_gauge)" = "$1" ]
}
job_of() {
	sed -n "s/.*job \([0-9]*\) $2: trigger=[a-z]* key=$1 .*/\1/p" daemon.log |
	    tail -n 1
}
start_daemon ot.xml
echo 1 >inbox/slow-1.txt
echo 2 >inbox/ok-1.txt
echo 3 >inbox/fail-1.txt
echo 4 >inbox/fail-2.txt
wait_until 30 logged 2 ' dead: trigger=fail' || fail "no dead letters"
wait_until 30 logged 1 ' done: trigger=ok' || fail "ok-1 did not run"
ok=$(job_of ok-1.txt done)
f1=$(job_of fail-1.txt dead)
f2=$(job_of fail-2.txt dead)

# The running job, and for how long.
run 0 "$OBJTRIGGER" status -c ot.xml
expect stdout "running:"
grep -q "^  job [0-9]* slow $T/inbox/slow-1.txt, attempt 1, for [0-9.]*m*s (since 20[0-9-]*T[0-9:]*Z)$" stdout ||
    { cat stdout; fail "status does not show the running job"; }
expect stdout "forget ID dismisses it"
run 0 "$OBJTRIGGER" status -c ot.xml --json
python3 - stdout <<'PY' || fail "status --json: running is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["running"]
assert len(r) == 1 and r[0]["key"] == "slow-1.txt", r
a = r[0]["history"][-1]
assert a["result"] == "running" and a["ended"] is None and a["seconds"] >= 0, a
PY

# One job's whole history: its attempt from start to end, its output.
run 0 "$OBJTRIGGER" status -c ot.xml "$ok"
expect stdout "job $ok"
expect stdout "  trigger  ok (watch in)"
expect stdout "  input    $T/inbox/ok-1.txt (created, 2 bytes)"
expect stdout "  state    done since "
grep -q "^    1\. 20[0-9-]*T[0-9:]*Z to 20[0-9-]*T[0-9:]*Z ([0-9.]*m*s) done$" stdout ||
    { cat stdout; fail "status ID does not show the attempt's start and end"; }
expect stdout "    $T/outbox/ok/ok-1.txt"
run 0 "$OBJTRIGGER" status -c ot.xml "$f1" --json
python3 - stdout "$f1" <<'PY' || fail "status ID --json is wrong"
import json, sys
j = json.load(open(sys.argv[1]))["jobs"]
assert len(j) == 1 and j[0]["id"] == int(sys.argv[2]), j
j = j[0]
assert j["state"] == "dead" and j["key"] == "fail-1.txt", j
a = j["history"]
assert len(a) == 1 and a[0]["result"] == "dead", a
assert a[0]["started"] <= a[0]["ended"] and a[0]["seconds"] >= 0, a
assert "bad input" in a[0]["error"] and "bad input" in j["error"], j
assert j["outputs"] == [], j
PY
run 1 "$OBJTRIGGER" status -c ot.xml 99999
expect stderr "no job 99999"
run 2 "$OBJTRIGGER" status -c ot.xml 12x

# One trigger's jobs.
run 0 "$OBJTRIGGER" status -c ot.xml --trigger fail
[ "$(grep -c '^fail ' stdout)" = 1 ] && ! grep -q '^ok ' stdout ||
    { cat stdout; fail "status --trigger shows other triggers"; }
expect stdout "last jobs:"
expect stdout "  job $f1 fail $T/inbox/fail-1.txt, dead since "
expect stdout "  job $f2 fail $T/inbox/fail-2.txt, dead since "
run 1 "$OBJTRIGGER" status -c ot.xml --trigger nosuch
expect stderr "no trigger nosuch"
run 2 "$OBJTRIGGER" status -c ot.xml --trigger fail "$f1"

# forget, while the daemon runs: the gauge follows.
wait_until 30 gauge_is 2 || fail "the dead-letter gauge is $(dead_gauge), not 2"
run 2 "$OBJTRIGGER" forget -c ot.xml
run 0 "$OBJTRIGGER" forget -c ot.xml "$f1"
expect stdout "1 dead letter forgotten"
wait_until 30 gauge_is 1 || fail "the dead-letter gauge is $(dead_gauge) after forget"
run 0 "$OBJTRIGGER" status -c ot.xml
grep -q "job $f1 " stdout && { cat stdout; fail "a forgotten job is in status"; }
expect stdout "job $f2 fail"
run 0 "$OBJTRIGGER" status -c ot.xml "$f1"
expect stdout "  state    forgotten since "
run 1 "$OBJTRIGGER" forget -c ot.xml "$f1"
expect stderr "job $f1 is not a dead letter"
run 0 "$OBJTRIGGER" forget -c ot.xml --trigger fail
expect stdout "1 dead letter forgotten"
wait_until 30 gauge_is 0 || fail "the dead-letter gauge is $(dead_gauge) after forget --trigger"
run 0 "$OBJTRIGGER" status -c ot.xml --trigger fail
grep -q "job $f2 " stdout && { cat stdout; fail "forget --trigger left a job in status"; }
# retry does not take forgotten jobs back, unless named.
run 0 "$OBJTRIGGER" retry -c ot.xml
expect stdout "0 dead letters back in line"
run 0 "$OBJTRIGGER" retry -c ot.xml "$f1"
wait_until 30 gauge_is 1 || fail "job $f1 did not come back"

# A job interrupted by the daemon's end: its attempt says so, and the
# next one runs to its end.
run 0 "$OBJTRIGGER" status -c ot.xml --json
slow=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["running"][0]["id"])' stdout)
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
touch go
start_daemon ot.xml
wait_until 30 test -e outbox/slow/out || fail "slow-1 did not run again"
wait_until 30 logged 1 "job $slow done" || fail "slow-1 did not end"
run 0 "$OBJTRIGGER" status -c ot.xml "$slow"
grep -q "^    1\. 20[0-9-]*T[0-9:]*Z interrupted$" stdout ||
    { cat stdout; fail "the interrupted attempt is not shown as such"; }
grep -q "^    2\. .* to .* done$" stdout || { cat stdout; fail "no second attempt"; }
stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
