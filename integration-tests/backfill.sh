#!/bin/sh
# backfill.sh - existing files and backfills of a folder watch: a trigger
# added by reload with existing="skip" runs none of the 2,000 files already
# there; objtrigger backfill --wait runs each once (a progress bar on a
# terminal, plain lines elsewhere), a second queues nothing, --rerun runs
# them all again; with no daemon the jobs wait for its start, status shows
# the backfill and --cancel stops it.
. "$top_srcdir/integration-tests/lib.sh"

total=2000
use_test_plugins
mkdir inbox

# config FILE [TRIGGER-ATTRIBUTES]: the watch, and with attributes the
# trigger "count" too.
config() {
	{
		cat <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="20s" grace="5s"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"/>
  <trigger name="other" watch="in" match="*.other">
    <transform plugin="counting">
      <param name="log" value="$T/other.log"/>
    </transform>
    <output path="$T/other/{dir}/{name}"/>
  </trigger>
XML
		[ $# -lt 2 ] || cat <<XML
  <trigger name="count" watch="in" $2>
    <transform plugin="counting">
      <param name="log" value="$T/runs.log"/>
    </transform>
    <output path="$T/outbox/{dir}/{name}"/>
  </trigger>
XML
		echo "</objtrigger>"
	}>"$1"
}

# Each of the files ran N times, and no other did.
ran_each() {
	[ "$(wc -l <runs.log)" = $((total * $1)) ] &&
	    [ "$(sort runs.log | uniq -c | awk -v n="$1" '$1 != n' | wc -l)" = 0 ]
}

config ot.xml
start_daemon ot.xml
i=0
while [ $i -lt $total ]; do
	mkdir -p "inbox/d$((i / 500))"
	echo $i >"inbox/d$((i / 500))/$i.txt"
	i=$((i + 1))
done
touch -d '1 minute ago' inbox/*/*

# Added by reload, with existing="skip": nothing runs; one line says so.
config ot.xml 'existing="skip"'
kill -HUP "$DAEMON_PID"
wait_until 30 logged 1 "trigger count: $total objects already in watch in skipped \(existing=skip; objtrigger backfill count runs them\)" ||
    fail "no line about the skipped files"
sleep 2
[ ! -e runs.log ] || fail "existing files ran: $(wc -l <runs.log)"

# A dry run says what it would queue, and queues nothing.
run 0 "$OBJTRIGGER" backfill -c ot.xml --dry-run --quiet count
expect "$T/stdout" "backfill count: $total seen, $total to queue (dry run), 0 already run or queued, 0 skipped"
sleep 1
[ ! -e runs.log ] || fail "a dry run ran files"

# On a terminal: a bar redrawn in place, then the summary.
script -qec "'$OBJTRIGGER' backfill -c ot.xml --wait count" /dev/null \
    >tty.out </dev/null || fail "backfill --wait under a terminal failed: $(cat tty.out)"
ran_each 1 || fail "the backfill did not run each file once"
grep -q "$(printf '\r')backfill count: list" tty.out || fail "no bar redrawn in place: $(cat -A tty.out | head -5)"
grep -qE "jobs \[#*-+\] [0-9]+/$total, [0-9]+/s, ETA [0-9]+:[0-9]{2}" tty.out ||
    fail "no bar of the jobs: $(cat -A tty.out | tail -3)"
grep -qE "jobs \[#{20}\] $total/$total" tty.out || fail "the bar did not fill"
expect tty.out "backfill count: $total seen, $total queued, 0 already run or queued, 0 skipped; $total jobs done, 0 dead, 0 skipped in"

# Without a terminal: plain lines, no carriage return; nothing to queue.
run 0 "$OBJTRIGGER" backfill -c ot.xml --wait count
expect "$T/stdout" "backfill count: $total seen, 0 queued, $total already run or queued, 0 skipped"
grep -qE "^backfill count: listed: $total seen, 0 queued, $total already run or queued, 0 skipped, [0-9]+/s; jobs: 0 of 0 ended" "$T/stderr" ||
    fail "no plain progress line: $(cat "$T/stderr")"
! grep -q "$(printf '\r')" "$T/stderr" || fail "plain progress has carriage returns"
ran_each 1 || fail "the second backfill ran files"

# --rerun runs every file again; --quiet prints the summary alone.
run 0 "$OBJTRIGGER" backfill -c ot.xml --wait --rerun --quiet count
[ ! -s "$T/stderr" ] || fail "--quiet wrote progress: $(cat "$T/stderr")"
expect "$T/stdout" "backfill count: $total seen, $total queued, 0 already run or queued, 0 skipped; $total jobs done"
ran_each 2 || fail "--rerun did not run each file once more"

# Filters: --match and --prefix take part of the files.
run 0 "$OBJTRIGGER" backfill -c ot.xml --dry-run --quiet --rerun \
    --prefix d0/ --match '1?.txt' count
expect "$T/stdout" "backfill count: $total seen, 10 to queue (dry run), 0 already run or queued, 1990 skipped"

# No daemon: the jobs wait for its start; status shows the backfill, and
# --cancel skips its jobs, which the next start does not run.
stop_daemon
run 1 "$OBJTRIGGER" backfill -c ot.xml --rerun --quiet --wait count
expect "$T/stdout" "no objtrigger runs with the state folder $T/state: the jobs run at its next start"
run 0 "$OBJTRIGGER" status -c ot.xml
expect "$T/stdout" "count: queued, $total seen, $total queued, 0 already run or queued, 0 skipped; 0 of $total jobs ended"
run 0 "$OBJTRIGGER" backfill -c ot.xml --cancel count
expect "$T/stdout" "backfill count: cancelled (1 backfill)"
run 1 "$OBJTRIGGER" backfill -c ot.xml --cancel count
expect "$T/stderr" "no backfill of count runs"
run 0 "$OBJTRIGGER" status -c ot.xml
! grep -q "^backfills" "$T/stdout" || fail "a cancelled backfill is shown"
start_daemon ot.xml
sleep 3
stop_daemon
ran_each 2 || fail "cancelled jobs ran"
[ ! -e other.log ] || fail "the other trigger ran"

no_sanitizer_report
exit 0
