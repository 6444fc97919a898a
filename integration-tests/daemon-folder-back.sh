#!/bin/sh
# daemon-folder-back.sh - a watched folder that is removed, or renamed
# away, is found again as soon as a folder of its name is made in its
# parent (not only at the next look, a minute later): the log says so,
# and files dropped into the new folder run.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir -p top/inbox
counting_config ot.xml
sed -i "s|$T/inbox|$T/top/inbox|" ot.xml
start_daemon ot.xml
echo a >top/inbox/a
wait_until 30 ran a 1 || fail "a did not run"

# Removed, then made again.
rm -r top/inbox
wait_until 30 logged 1 "watch in: $T/top/inbox is gone: looking for it again every 60s" ||
    { cat daemon.log; fail "the removal is not logged"; }
mkdir top/inbox
wait_until 30 logged 1 "info: watch in: $T/top/inbox is back: watching it again" ||
    { cat daemon.log; fail "the folder's return is not logged"; }
echo b >top/inbox/b
wait_until 30 ran b 1 || fail "b in the new folder did not run"

# Renamed away, and another folder put in its place by a rename.
mv top/inbox top/old
wait_until 30 logged 1 "watch in: $T/top/inbox was moved away" ||
    { cat daemon.log; fail "the rename is not logged"; }
mkdir top/new
echo c >top/new/c
mv top/new top/inbox
wait_until 30 logged 2 "info: watch in: $T/top/inbox is back" ||
    { cat daemon.log; fail "the second return is not logged"; }
wait_until 30 ran c 1 || fail "c, there before the folder came back, did not run"
echo d >top/old/d
echo e >top/inbox/e
wait_until 30 ran e 1 || fail "e did not run"
[ "$(runs d)" = 0 ] || fail "a file in the folder moved away ran"
stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
