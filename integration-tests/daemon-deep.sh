#!/bin/sh
# daemon-deep.sh - a folder tree deeper than the daemon's open-file limit
# is scanned and watched to its bottom; a folder that cannot be read is
# logged with its path and the reason.
. "$top_srcdir/integration-tests/lib.sh"

DEPTH=${DEPTH:-200} # levels; the daemon may open 64 files
use_test_plugins
mkdir inbox
counting_config ot.xml "" 'existing="run"'

# DEPTH levels, each a folder "d"; files at a few levels and at the bottom.
p=inbox
keys=
nkeys=0
i=1
while [ $i -le $DEPTH ]; do
	p=$p/d
	mkdir "$p" || exit 99
	case $i in 1 | 50 | 100 | 150 | $DEPTH)
		printf 'level %s\n' $i >"$p/level$i.txt"
		keys="$keys ${p#inbox/}/level$i.txt"
		nkeys=$((nkeys + 1)) ;;
	esac
	i=$((i + 1))
done
bottom=${p#inbox/}

# Folders the daemon cannot read: no permission at all, and one it may
# list but whose entries it may not look at. Root reads them anyway, so
# as root the daemon runs without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH.
mkdir inbox/locked inbox/noexec
echo locked >inbox/locked/f.txt
echo noexec >inbox/noexec/f.txt
chmod 000 inbox/locked
chmod 400 inbox/noexec
trap 'chmod 755 "$T/inbox/locked" "$T/inbox/noexec"; cleanup' EXIT
drop=
if [ "$(id -u)" = 0 ]; then
	drop="setpriv --inh-caps=-dac_override,-dac_read_search"
	drop="$drop --bounding-set=-dac_override,-dac_read_search"
	$drop true 2>/dev/null || drop=
fi
unreadable=yes
if [ "$(id -u)" = 0 ] && [ -z "$drop" ]; then
	unreadable="no (root, and setpriv cannot drop CAP_DAC_OVERRIDE)"
elif $drop ls inbox/locked >/dev/null 2>&1; then
	unreadable="no (inbox/locked can be read all the same)"
fi

# The daemon under a limit of 64 descriptors: far fewer than the levels.
: >daemon.log
( ulimit -n 64 && exec $drop "$OBJTRIGGER" run -c ot.xml ) \
    >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 60 daemon_started 0 || { cat daemon.log; fail "the daemon did not start"; }

# The scan at start found every file, to the bottom.
for k in $keys; do
	wait_until 60 ran "$k" 1 || {
		cat daemon.log
		fail "${k##*/} was not processed: ran $(runs "$k") times"
	}
done
wait_until 60 test -e "outbox/$bottom/level$DEPTH.txt" ||
    fail "the bottom file has no output"
cmp "inbox/$bottom/level$DEPTH.txt" "outbox/$bottom/level$DEPTH.txt" ||
    fail "the bottom file's output differs"

# The bottom folder is watched: a file made there now is processed.
echo after >"inbox/$bottom/after.txt"
wait_until 60 ran "$bottom/after.txt" 1 ||
    fail "a file made at the bottom after the start was not processed"

# Each unreadable folder is logged once, with the reason; no other is.
want=0
if [ "$unreadable" = yes ]; then
	want=2
	for d in locked noexec; do
		n=$(grep -cF "cannot read the folder $T/inbox/$d: Permission denied" daemon.log)
		[ "$n" = 1 ] || { cat daemon.log; fail "inbox/$d: logged $n times, not once"; }
		[ "$(runs "$d/f.txt")" = 0 ] || fail "$d/f.txt ran"
	done
fi
n=$(grep -c 'cannot read' daemon.log)
[ "$n" = $want ] || { cat daemon.log; fail "$n folders logged unreadable, not $want"; }
stop_daemon
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log; then
	cat daemon.log
	fail "sanitizer report"
fi
[ "$(wc -l <runs.log)" = $((nkeys + 1)) ] ||
    { cat runs.log; fail "$(wc -l <runs.log) runs, not $((nkeys + 1))"; }
echo "$DEPTH levels under ulimit -n 64; unreadable folders checked: $unreadable"
exit 0
