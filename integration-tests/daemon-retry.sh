#!/bin/sh
# daemon-retry.sh - retries with backoff, dead letters, status and retry.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox fixed
long=$(printf '%0250d' 0)
# exec_trigger NAME MATCH SCRIPT DIR [ATTEMPTS]: a trigger running
# sh -c SCRIPT DIR (DIR is $0 in SCRIPT).
exec_trigger() {
	script=$(printf '%s' "$3" |
	    sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
	cat <<XML
  <trigger name="$1" watch="in" match="$2">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="$script"/>
      <param name="arg" value="$4"/>
    </transform>
    <output path="$T/outbox/$1/{name}"/>
    <retry attempts="${5:-3}" backoff="50ms" max-backoff="200ms"/>
  </trigger>
XML
}
{
	echo "<objtrigger>"
	echo "  <state path=\"$T/state\"/>"
	# One worker: the jobs take each other's folders in turn.
	echo "  <workers count=\"1\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox\"/>"
	# Fails twice, then works: a count per key in $T/tries. A failure
	# leaves files in its folders, which the next job to take them must
	# find emptied.
	exec_trigger flaky 'flaky-*' '[ -z "$(ls -A)" ] && [ -z "$(ls -A "$TMPDIR")" ] || { echo leftovers >&2; exit 3; }; echo x >>"$0.tries"; [ $(wc -l <"$0.tries") -ge 3 ] || { touch stray "$TMPDIR/stray"; echo not yet >&2; exit 75; }; cp "$OBJTRIGGER_INPUT" out' "$T/tries"
	# Asks for retries until $T/fixed/NAME exists.
	exec_trigger broken 'broken-*' 'test -e "$0/$OBJTRIGGER_KEY" || { echo store down >&2; exit 75; }; cp "$OBJTRIGGER_INPUT" out' "$T/fixed"
	# Rejects until fixed: a dead letter at once.
	exec_trigger reject 'reject-*' 'test -e "$0/$OBJTRIGGER_KEY" || { echo bad input >&2; exit 3; }; cp "$OBJTRIGGER_INPUT" out' "$T/fixed" 5
	# Names an output over 255 bytes: a dead letter that says why.
	cat <<XML
  <trigger name="long" watch="in" match="long-*">
    <transform plugin="copy"/>
    <output path="$T/outbox/long/{name}.$long"/>
  </trigger>
XML
	echo "</objtrigger>"
} >ot.xml
start_daemon ot.xml

echo 1 >inbox/flaky-1.txt
echo 2 >inbox/broken-1.txt
echo 3 >inbox/reject-1.txt
echo 4 >inbox/long-1.txt
wait_until 30 test -e outbox/flaky/out || fail "flaky-1 did not succeed"
expect daemon.log "job 1 retry: trigger=flaky key=flaky-1.txt attempts=1"
expect daemon.log "error=\"/bin/sh asked for a retry (exit 75): not yet\""
expect daemon.log "job 1 done: trigger=flaky key=flaky-1.txt attempts=3"

wait_until 30 grep -q "dead: trigger=broken" daemon.log || fail "no dead letter"
expect daemon.log "dead: trigger=broken key=broken-1.txt attempts=3"
wait_until 30 grep -q "dead: trigger=reject" daemon.log || fail "no reject"
expect daemon.log "dead: trigger=reject key=reject-1.txt attempts=1"
wait_until 30 grep -q "dead: trigger=long" daemon.log || fail "no long"
expect daemon.log "a component of the name is"

# status shows the counts and the dead letters with every attempt.
run 0 "$OBJTRIGGER" status -c ot.xml
expect "$T/stdout" "last dead letters"
expect "$T/stdout" "broken $T/inbox/broken-1.txt, 3 attempts"
expect "$T/stdout" "3. "
expect "$T/stdout" "retry: /bin/sh asked for a retry (exit 75): store down"
run 0 "$OBJTRIGGER" status -c ot.xml --json
expect "$T/stdout" '"dead": 1'
expect "$T/stdout" '"key": "reject-1.txt"'

# retry brings dead letters back: by trigger, and by id.
touch fixed/broken-1.txt fixed/reject-1.txt
run 0 "$OBJTRIGGER" retry -c ot.xml --trigger broken
expect "$T/stdout" "1 dead letter back in line"
wait_until 30 test -e outbox/broken/out || fail "retry --trigger did nothing"
id=$(sed -n 's/.*job \([0-9]*\) dead: trigger=reject.*/\1/p' daemon.log)
run 0 "$OBJTRIGGER" retry -c ot.xml "$id"
wait_until 30 test -e outbox/reject/out || fail "retry ID did nothing"
run 1 "$OBJTRIGGER" retry -c ot.xml "$id"
expect "$T/stderr" "job $id is not a dead letter"
run 2 "$OBJTRIGGER" retry -c ot.xml 12x
stop_daemon
[ -z "$(find outbox -name stray)" ] || fail "a failed run's file was committed"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
