#!/bin/sh
# hostile-output.sh - a writer who exchanges a folder under an output root
# with a symbolic link, over and over, while outputs are put there: no
# output (nor temporary file) lands outside the root.
. "$top_srcdir/integration-tests/lib.sh"

: "${RACER:?run through make check}"
N=100
RACER_PID=
stop_racer() {
	[ -n "$RACER_PID" ] || return 0
	kill -TERM "$RACER_PID" 2>/dev/null
	wait "$RACER_PID"
	_rs=$?
	RACER_PID=
	return $_rs
}
trap 'stop_racer; cleanup' EXIT

use_test_plugins
: >probe-a
: >probe-b
"$RACER" probe-a probe-b 0.01 >/dev/null
case $? in
0) ;;
2) skip "this file system cannot exchange names" ;;
*) fail "the racer does not work" ;;
esac
mkdir -p inbox/d pub/d elsewhere
ln -s "$T/elsewhere" pub/dlink
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"/>
  <trigger name="pub" watch="in">
    <transform plugin="copy"/>
    <output path="$T/pub/{dir}/{name}"/>
    <retry attempts="3" backoff="50ms" max-backoff="200ms"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml

# The writer may write in pub, the output root: its folder d and a link
# to elsewhere trade places every few hundred microseconds.
(cd pub && exec "$RACER" d dlink 50) >racer.out 2>&1 &
RACER_PID=$!
sleep 0.2
kill -0 "$RACER_PID" 2>/dev/null || {
	RACER_PID=
	cat racer.out
	fail "the racer did not start"
}

# Inputs arrive spread over a few seconds, each a chance to escape.
i=0
while [ $i -lt $N ]; do
	printf 'output %d\n' $i >inbox/d/.new
	mv inbox/d/.new "inbox/d/file$i"
	sleep 0.02
	i=$((i + 1))
done

# last_results: "KEY RESULT" for each job, as its last end was logged.
last_results() {
	sed -n 's/.* job [0-9]* \([a-z]*\): trigger=pub key=\([^ ]*\) .*/\2 \1/p' \
	    daemon.log | awk '{ r[$1] = $2 } END { for (k in r) print k, r[k] }'
}
# ended PATTERN: every input's job has a last end matching PATTERN.
ended() {
	[ "$(last_results | grep -cE " ($1)\$")" -ge $N ]
}

# Every job has run once at least while the racer ran; then the racer
# puts d back, and retries (if any) end, or wait their turn.
wait_until 40 ended 'done|dead|retry|skipped' || {
	last_results | sort
	fail "$(last_results | wc -l) of $N jobs ended while the racer ran"
}
stop_racer || { cat racer.out; fail "the racer failed"; }
cat racer.out
wait_until 20 ended 'done|dead|skipped' ||
    ended 'done|dead|retry|skipped' || fail "jobs did not end"
stop_daemon
[ -d pub/d ] && [ ! -L pub/d ] && [ -L pub/dlink ] ||
    fail "the racer did not put d back"

# Nothing outside the root: not an output, not a temporary file.
escaped=$(find elsewhere -mindepth 1 | wc -l)
if [ "$escaped" != 0 ]; then
	find elsewhere -mindepth 1 | sed 's/^/  escaped: /'
	fail "$escaped of $N outputs escaped through the swapped folder" \
	    "into $T/elsewhere ($(last_results | grep -c ' done$') jobs done)"
fi
# Whatever is under pub is in its real folder d, as it was put there, and
# every job that says done has its output there.
find pub -type f | sort >found
grep -v '^pub/d/file[0-9]*$' found && fail "outputs outside pub/d"
for f in $(cat found); do
	cmp -s "$f" "inbox/d/${f#pub/d/}" || fail "$f differs from its input"
done
last_results | awk '$2 == "done" { print "pub/" $1 }' | sort >done
comm -23 done found | grep . && fail "jobs done without their output"
echo "$(wc -l <found) of $N outputs in place;" \
    "$(last_results | grep -c ' dead$') dead letters"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log &&
    fail "sanitizer report in the daemon"
exit 0
