#!/bin/sh
# hostile-input.sh - a writer who swaps what a job reads: a watched file
# replaced with a link to a private file while a command runs, and a
# watched folder exchanged with a link to a private folder while jobs are
# sent ahead. No output holds a byte of the private files.
. "$top_srcdir/integration-tests/lib.sh"

: "${RACER:?run through make check}"
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
# Both attacks run, whatever the first gives; their verdicts come last.
failures=

# ended TRIGGER KEY: a job of TRIGGER on KEY has ended (for wait_until).
ended() {
	grep -qE " job [0-9]+ (done|dead|retry|skipped): trigger=$1 key=$2 " \
	    daemon.log
}

# idle CONFIG TRIGGER: no job of TRIGGER waits or runs.
idle() {
	"$OBJTRIGGER" status -c "$1" 2>/dev/null |
	    awk -v t="$2" '$1 == t { n = $2 + $3; f = 1 } END { exit !(f && n == 0) }'
}

# still_idle CONFIG TRIGGER: idle, and still so once files that arrived
# last have settled.
still_idle() {
	idle "$1" "$2" && sleep 1.5 && idle "$1" "$2"
}

use_test_plugins
: >probe-a
: >probe-b
"$RACER" probe-a probe-b 0.01 >/dev/null
case $? in
0) ;;
2) skip "this file system cannot exchange names" ;;
*) fail "the racer does not work" ;;
esac

# 1. {input} is a path that the command opens again, later: the writer
# replaces the file with a link to one only the daemon may read while the
# command waits. It must read the file its job opened, or nothing.
mkdir inbox outbox sync
printf 'SECRET-MARKER of the daemon\n' >secret
chmod 600 secret
# (One line: XML turns line breaks in an attribute into spaces.)
script='touch "$SYNC/$2.started"; n=0;'
script="$script"' while [ ! -e "$SYNC/$2.go" ] && [ $n -lt 200 ]; do'
script="$script"' sleep 0.05; n=$((n + 1)); done;'
script="$script"' case $2 in env-*) f=$OBJTRIGGER_INPUT ;; *) f=$1 ;; esac;'
script="$script"' cat "$f" >"$2.out"'
script=$(printf '%s' "$script" |
    sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
cat >exec.xml <<XML
<objtrigger>
  <state path="$T/state-exec"/>
  <workers count="1"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="cat" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="$script"/>
      <param name="arg" value="sh"/>
      <param name="arg" value="{input}"/>
      <param name="arg" value="{name}"/>
      <param name="env" value="SYNC=$T/sync"/>
    </transform>
    <output path="$T/outbox/{name}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
start_daemon exec.xml
# arg-*: the command reads {input}; env-*: $OBJTRIGGER_INPUT.
rounds="arg-1 arg-2 arg-3 env-1 env-2"
for r in $rounds; do
	printf 'original %s\n' "$r" >inbox/.new
	mv inbox/.new "inbox/$r"
	wait_until 20 test -e "sync/$r.started" || {
		cat daemon.log
		fail "the command did not start on $r"
	}
	ln -s "$T/secret" inbox/.link
	mv -f inbox/.link "inbox/$r"
	touch "sync/$r.go"
	wait_until 20 ended cat "$r" || fail "the job on $r did not end"
done
wait_until 20 still_idle exec.xml cat || fail "the exec jobs did not end"
stop_daemon
arg_leaks=0
env_leaks=0
read_own=0
for r in $rounds; do
	[ -e "outbox/$r.out" ] || continue
	if grep -qF SECRET-MARKER "outbox/$r.out"; then
		echo "  $r: the command read the secret"
		case $r in
		arg-*) arg_leaks=$((arg_leaks + 1)) ;;
		*) env_leaks=$((env_leaks + 1)) ;;
		esac
	elif [ "$(cat "outbox/$r.out")" = "original $r" ]; then
		read_own=$((read_own + 1))
	else
		failures="$failures
the command on $r read neither its file nor the secret"
	fi
done
grep -rlF SECRET-MARKER outbox | grep -v '\.out$' &&
    failures="$failures
the secret is in other outputs"
if [ $((arg_leaks + env_leaks)) != 0 ]; then
	failures="$failures
the secret escaped through {input} in $arg_leaks of 3 jobs, through \$OBJTRIGGER_INPUT in $env_leaks of 2"
fi
echo "exec: {input} leaked the secret in $arg_leaks of 3 jobs," \
    "\$OBJTRIGGER_INPUT in $env_leaks of 2; $read_own of 5 read their own file"

# 2. A job sent ahead to a busy worker is opened later, by its path: the
# writer exchanges its folder p with a link to a private folder holding
# the same names. One worker and runs of some 50 ms: every job waits
# behind another, sent ahead, and the command reads its standard input.
M=60
mkdir -p inbox2/p private outbox2
i=0
while [ $i -lt $M ]; do
	printf 'public %d\n' $i >"inbox2/p/f$i"
	printf 'PRIVATE-MARKER %d\n' $i >"private/f$i"
	i=$((i + 1))
done
chmod 600 private/*
chmod 700 private
touch -d '1 minute ago' inbox2/p/*
ln -s "$T/private" inbox2/plink
cat >ahead.xml <<XML
<objtrigger>
  <state path="$T/state-ahead"/>
  <workers count="1"/>
  <watch name="in2" type="folder" path="$T/inbox2" recursive="yes"/>
  <trigger name="ahead" watch="in2">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="sleep 0.05; cat &gt;&quot;\$1&quot;"/>
      <param name="arg" value="sh"/>
      <param name="arg" value="{name}"/>
    </transform>
    <output path="$T/outbox2/{dir}/{name}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
# The racer runs from before the start, so that it covers the first jobs
# too, and until M jobs ended (at most 15 s: the verdict does not depend
# on how many ran).
(cd inbox2 && exec "$RACER" p plink 50) >racer.out 2>&1 &
RACER_PID=$!
sleep 0.2
kill -0 "$RACER_PID" 2>/dev/null || {
	RACER_PID=
	cat racer.out
	fail "the racer did not start"
}
start_daemon ahead.xml
# ahead_ended N: N jobs of the trigger ended.
ahead_ended() {
	[ "$(grep -cE ' job [0-9]+ [a-z]+: trigger=ahead ' daemon.log)" -ge "$1" ]
}
wait_until 15 ahead_ended $M
stop_racer || { cat racer.out; fail "the racer failed"; }
cat racer.out
[ -d inbox2/p ] && [ ! -L inbox2/p ] && [ -L inbox2/plink ] ||
    fail "the racer did not put p back"
echo "$(grep -cE ' job [0-9]+ [a-z]+: trigger=ahead ' daemon.log) jobs" \
    "ended while the racer ran"
wait_until 60 still_idle ahead.xml ahead || fail "the jobs did not end"
stop_daemon
outputs=$(find outbox2 -type f | wc -l)
leaks=$(grep -rlF PRIVATE-MARKER outbox2 | wc -l)
if [ "$leaks" != 0 ]; then
	grep -rlF PRIVATE-MARKER outbox2 | sort | head -5 | sed 's/^/  leaked: /'
	failures="$failures
$leaks of $outputs outputs are private files, read through the exchanged folder ($(grep -rlF PRIVATE-MARKER outbox2/p 2>/dev/null | wc -l) under p, the rest under plink)"
fi
# What is not private is the public file of that name.
for f in $(find outbox2 -type f); do
	grep -qF PRIVATE-MARKER "$f" && continue
	cmp -s "$f" "inbox2/p/${f##*/}" || failures="$failures
$f is neither its input nor a private file"
done
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log &&
    failures="$failures
sanitizer report in the daemon"
echo "sent ahead: $leaks of $outputs outputs private;" \
    "$(grep -cE 'job [0-9]+ [a-z]+: trigger=ahead' daemon.log) jobs ended"

[ -z "$failures" ] || fail "${failures#?}"
exit 0
