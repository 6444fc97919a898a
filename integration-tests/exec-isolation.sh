#!/bin/sh
# exec-isolation.sh - what a command run by the exec transform under the
# daemon can see and do: no secret of the daemon's in any environment it
# can read, no descriptor but 0, 1, 2 and its input, the configured hard
# limits (memory, CPU, file size, open files) that it cannot raise, and
# nothing it started left running once its job is over.
. "$top_srcdir/integration-tests/lib.sh"

SECRET=topsecret-xyz
mkdir inbox outbox
# The probe: the command, a shell script run as "/bin/sh probe.sh INPUT".
# It writes what it finds into its output folder (its working directory)
# and always exits 0, so that its outputs are committed.
cat >probe.sh <<'SH'
env >env.txt
if ! tr '\0' '\n' </proc/$PPID/environ >worker-environ.txt 2>/dev/null; then
	echo unreadable >worker-environ.txt
fi
dpid=$(cat "$DAEMON_PID_FILE")
if ! tr '\0' '\n' </proc/$dpid/environ >daemon-environ.txt 2>/dev/null; then
	echo unreadable >daemon-environ.txt
fi
printf '%s\n' "$1" >input.txt
ls -l /proc/self/fd >fds.txt 2>&1
ulimit -aH >ulimit-hard.txt 2>&1
ulimit -aS >ulimit-soft.txt 2>&1
cat /proc/self/limits >limits.txt
# Left behind: one in the command's process group, one out of it.
sleep 1000 </dev/null >/dev/null 2>&1 &
echo $! >sleep.pid
setsid sleep 1001 </dev/null >/dev/null 2>&1 &
echo $! >setsid-sleep.pid
# Past the memory limit, after trying to lift it.
(
	ulimit -S -v unlimited 2>/dev/null
	echo "raise-soft=$?"
	python3 -c 'b = bytearray(400 << 20); b[-1] = 1' 2>/dev/null
	echo "alloc=$?"
) >memory.txt
# For the record, not checked: as root the hard limit can be raised.
(ulimit -H -v unlimited 2>/dev/null; echo "raise-hard=$?") >>memory.txt
exit 0
SH

cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="30s" grace="2s" memory="256MiB" cpu="60s"
           file-size="100MiB" open-files="64"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="probe" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="$T/probe.sh"/>
      <param name="arg" value="{input}"/>
      <param name="env" value="DAEMON_PID_FILE=$T/daemon.pid"/>
    </transform>
    <output path="$T/outbox/{name}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml

# The daemon starts with secrets in its environment and a descriptor
# (7) it did not open.
exec 7</etc/hostname
OBJTRIGGER_S3_SECRET_KEY=$SECRET AWS_SECRET_ACCESS_KEY=$SECRET
export OBJTRIGGER_S3_SECRET_KEY AWS_SECRET_ACCESS_KEY
DAEMON_OPTS=-v start_daemon ot.xml
exec 7<&-
unset OBJTRIGGER_S3_SECRET_KEY AWS_SECRET_ACCESS_KEY
echo "$DAEMON_PID" >daemon.pid

# gone PIDFILE: the process it names is gone (or a zombie), or is no
# longer the sleep the probe started.
gone() {
	_p=$(cat "$1") || return 1
	[ -r "/proc/$_p/cmdline" ] || return 0
	grep -q '^State:.*Z' "/proc/$_p/status" 2>/dev/null && return 0
	! tr '\0' ' ' <"/proc/$_p/cmdline" | grep -q '^sleep 100[01] $'
}
# On the way out: the sleeps, if they are still the probe's, go too.
trap 'for f in outbox/sleep.pid outbox/setsid-sleep.pid; do
	[ -s "$f" ] && ! gone "$f" && kill -9 "$(cat "$f")"
done 2>/dev/null; cleanup' EXIT

echo input >inbox/probe.txt
wait_until 60 logged 1 'job [0-9]+ (done|dead|retry|skipped): ' ||
    { cat daemon.log; fail "the probe's job did not end"; }
grep -E 'job [0-9]+ (done|dead|retry|skipped): ' daemon.log >&2
[ -s outbox/memory.txt ] ||
    { cat daemon.log; ls -la outbox; fail "the probe wrote no outputs"; }

# Each check is made and reported; the test fails at the end if any did.
failed=0
bad() {
	echo "FAIL: $*" >&2
	failed=$((failed + 1))
}

# No secret in any environment the command could read, nor anywhere
# else in what it wrote.
for f in env worker-environ daemon-environ; do
	echo "--- $f.txt: $(grep -c . "outbox/$f.txt") lines" >&2
done
for f in outbox/*; do
	if grep -q topsecret "$f"; then
		grep -o '^[A-Za-z_]*=topsecret' "$f" | sed 's/=.*/=.../' >&2
		bad "the secret is in ${f#outbox/}"
	fi
done

# Descriptors: 0, 1, 2 and the one {input} names, no other (the
# directory ls opened to list them aside).
input=$(cat outbox/input.txt)
case $input in
/proc/self/fd/[0-9]* | /dev/fd/[0-9]*) infd=${input##*/} ;;
/dev/stdin | -) infd=0 ;;
*)
	infd=
	bad "{input} is '$input', not a descriptor's path"
	;;
esac
cat outbox/fds.txt >&2
fds=$(awk '$9 ~ /^[0-9]+$/ && $11 !~ /^\/proc\/[0-9]+\/fd$/ { print $9 }' \
    outbox/fds.txt | sort -n | tr '\n' ' ')
for fd in $fds; do
	case $fd in
	0 | 1 | 2 | "$infd") ;;
	*) bad "descriptor $fd is open in the command: $(awk -v f="$fd" '$9 == f' outbox/fds.txt)" ;;
	esac
done

# Hard limits as configured (CPU: the hard limit may be one second above
# the soft one, so that SIGXCPU comes first), soft ones no higher.
cat outbox/limits.txt >&2
# limit NAME: "SOFT HARD" of the line "Max NAME" of /proc/self/limits.
limit() {
	awk -v n="Max $1" 'index($0, n) == 1 {
		s = substr($0, 27); split(s, f, " "); print f[1], f[2] }' \
	    outbox/limits.txt
}
check_limit() {
	_l=$(limit "$1")
	_soft=${_l% *} _hard=${_l#* }
	case " $3 " in
	*" $_hard "*) ;;
	*) bad "$1: hard limit $_hard, expected $3 ($2)" ;;
	esac
	[ "$_soft" != unlimited ] && [ "$_soft" -le "${3%% *}" ] 2>/dev/null ||
	    bad "$1: soft limit $_soft, above $2"
}
check_limit "address space" 'memory="256MiB"' 268435456
check_limit "cpu time" 'cpu="60s"' "60 61"
check_limit "file size" 'file-size="100MiB"' 104857600
check_limit "open files" 'open-files="64"' 64
cat outbox/memory.txt >&2
grep -qx 'raise-soft=0' outbox/memory.txt &&
    bad "ulimit -S -v unlimited worked"
grep -qx 'alloc=0' outbox/memory.txt &&
    bad "400 MiB could be allocated under memory=\"256MiB\""
grep -qx 'alloc=[0-9]*' outbox/memory.txt || bad "the allocation did not run"
grep -qx 'raise-hard=0' outbox/memory.txt &&
    echo "# note: as $(id -un), the command could raise its hard memory limit" >&2

# Nothing it started is left once its job is over.
for f in sleep setsid-sleep; do
	[ -s "outbox/$f.pid" ] || { bad "no $f.pid"; continue; }
	wait_until 5 gone "outbox/$f.pid" ||
	    bad "the $f the command started ($(cat "outbox/$f.pid")) still runs after its job"
done

stop_daemon
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log; then
	bad "sanitizer report"
fi
[ "$failed" = 0 ] || fail "$failed checks failed"
exit 0
