#!/bin/sh
# daemon-held.sh - many held files (settle=): the start-up scan and a
# rescan after an overflow queue each file once, and the loop answers
# HTTP while it releases them, not only once they are all queued. What
# is checked is that each file is queued, once (the journal and /metrics
# say so): the jobs run meanwhile, but the test does not wait for them all.
. "$top_srcdir/integration-tests/lib.sh"

N=${N:-10000} # files in phase 1, a multiple of 10
command -v curl >/dev/null || skip "curl is missing"
command -v python3 >/dev/null || skip "python3 is missing"
use_test_plugins
mkdir inbox
port=$(free_port) || exit 99
counting_config ot.xml 'settle="3s"'
awk -v http="  <http listen=\"127.0.0.1:$port\"/>" \
    '{ print } NR == 1 { print http }' ot.xml >ot.new && mv ot.new ot.xml

# make_files NAME COUNT: files NAME-I.txt in inbox/0/ inbox/1/ ... (1000
# a folder, made if missing), as fast as may be.
make_files() {
	python3 - "$1" "$2" <<'PY' || exit 99
import os, sys
name, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = "inbox/%d" % (i // 1000)
    os.makedirs(d, exist_ok=True)
    with open("%s/%s-%d.txt" % (d, name, i), "w") as f:
        f.write("%s %d\n" % (name, i))
PY
}

# events OUTCOME: how many events had OUTCOME (accepted: queued;
# duplicate: the journal had it), from /metrics.
events() {
	[ "$(http_code "http://127.0.0.1:$port/metrics")" = 200 ] || return 1
	metric "$T/body" objtrigger_events_total watch=in outcome="$1" ||
	    echo 0
}

# events_are OUTCOME N: /metrics counts N events with OUTCOME (for
# wait_until); events_over OUTCOME N: N or more.
events_are() {
	[ "$(events "$1")" = "$2" ]
}
events_over() {
	[ "$(events "$1")" -ge "$2" ]
}

# journal_jobs: how many jobs the journal holds, in any state (what its
# last commit holds: a turn's jobs are committed at its end).
journal_jobs() {
	"$OBJTRIGGER" status -c ot.xml 2>/dev/null |
	    awk '$1 == "count" { for (i = 2; i <= NF; i++) n += $i } END { print n + 0 }'
}
jobs_are() {
	[ "$(journal_jobs)" = "$1" ]
}

# poll_accepted N: asks /metrics again and again, on one connection, and
# prints the events queued as each answer says, until N.
poll_accepted() {
	python3 - "$port" "$1" <<'PY'
import http.client, re, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
line = re.compile(r'^objtrigger_events_total\{(.*)\} (\S+)$', re.M)
end = time.time() + 300
conn = None
while time.time() < end:
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
    except (OSError, http.client.HTTPException):
        conn = None
        time.sleep(0.01)
        continue
    v = sum(int(float(m.group(2))) for m in line.finditer(body)
            if 'outcome="accepted"' in m.group(1))
    print(v, flush=True)
    if v >= n:
        sys.exit(0)
sys.exit(1)
PY
}

# Phase 1: the scan at start holds every file for 3 s. The daemon is
# stopped before they are due, and continued once all are: it must
# answer requests while it queues them, not once all are queued.
make_files a "$N"

# A small event queue overflows with few files in phase 2: lower it if we
# may (it applies to inotify instances made after the change, so before
# the start), as daemon-overflow.sh does.
queued=/proc/sys/fs/inotify/max_queued_events
old=$(cat $queued)
queue=$old # the daemon's
M=$N # files in phase 2
if [ -w $queued ] && echo 256 2>/dev/null >$queued; then
	trap 'echo "$old" >$queued; cleanup' EXIT
	queue=256
	M=2000
fi
: >daemon.log
start_daemon ot.xml
[ "$queue" = "$old" ] || echo "$old" >$queued
kill -STOP "$DAEMON_PID"
sleep 4
poll_accepted "$N" >seen.txt &
client=$!
sleep 1 # its first request waits in the kernel for the stopped daemon
kill -CONT "$DAEMON_PID"
wait $client || { cat seen.txt; fail "/metrics did not answer"; }
between=$(awk -v n="$N" '$1 > 0 && $1 < n' seen.txt | wc -l)
[ "$between" -gt 0 ] || {
	uniq -c seen.txt
	fail "/metrics was not answered while the $N held files were queued"
}
[ "$(events accepted)" = "$N" ] || fail "$(events accepted) events queued for $N files"
[ "$(events duplicate)" = 0 ] || fail "$(events duplicate) files found twice"
wait_until 30 jobs_are "$N" ||
    fail "the journal has $(journal_jobs) jobs for $N files"

# Phase 2: more events than the kernel's queue holds, in the watched
# folders while the daemon is stopped: it reads what the queue kept, then
# rescans (in slices) with a backlog of the held files of both phases, and
# queues each new file once; the journal drops the old ones found again.
# A file makes two events.
kill -STOP "$DAEMON_PID"
make_files b "$M"
kill -CONT "$DAEMON_PID"
all=$((N + M))
wait_until 120 events_are accepted $all ||
    fail "$(events accepted) events queued for $all files"
if [ "$queue" -lt $((2 * M)) ]; then
	expect daemon.log "the kernel's event queue overflowed: rescanning"
	wait_until 60 events_over duplicate "$N" ||
	    fail "the rescan found $(events duplicate) of the $N old files"
fi
sleep 1
[ "$(events accepted)" = $all ] || fail "$(events accepted) events queued for $all files"
wait_until 30 jobs_are $all ||
    fail "the journal has $(journal_jobs) jobs for $all files"
stop_daemon
dup=$(sort runs.log | uniq -d | wc -l)
[ "$dup" = 0 ] || fail "$dup files ran more than once"
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log; then
	cat daemon.log
	fail "sanitizer report"
fi
echo "$N + $M files, a queue of $queue events; $between answers while the $N were queued; $(wc -l <runs.log) jobs ran"
exit 0
