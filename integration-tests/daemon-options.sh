#!/bin/sh
# daemon-options.sh - settle, ignore replacing the defaults, fan-out to two
# triggers, size limits, and a folder moved out of the watch.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox outside
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"
         ignore="*.skip" settle="700ms"/>
  <trigger name="all" watch="in">
    <transform plugin="counting"><param name="log" value="$T/runs.log"/></transform>
    <output path="$T/all/{key}"/>
  </trigger>
  <trigger name="small" watch="in" min-size="1" max-size="100">
    <transform plugin="copy"/>
    <output path="$T/small/{key}"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml

# settle: a file rewritten within the settle time runs once, in its last
# version, and not before it has been still for 700ms.
printf 'one\n' >inbox/settled.txt
sleep 0.3
printf 'one two\n' >>inbox/settled.txt
sleep 0.3
[ ! -e all/settled.txt ] || fail "taken before it settled"
wait_until 20 test -e all/settled.txt || fail "settled.txt was not processed"
[ "$(cat all/settled.txt)" = "$(printf 'one\none two')" ] || fail "an old version"
[ "$(runs settled.txt)" = 1 ] || fail "settled.txt ran $(runs settled.txt) times"

# ignore= replaces the default list: a hidden name is taken, *.skip not.
printf 'hidden\n' >inbox/.hidden
printf 'skip\n' >inbox/x.skip
wait_until 20 test -e all/.hidden || fail ".hidden was not taken"

# Fan-out and sizes: one file, two triggers; a big one and an empty one
# only reach the trigger without limits.
head -c 1000 /dev/zero >inbox/big.bin
: >inbox/empty.txt
wait_until 20 test -e all/big.bin -a -e all/empty.txt || fail "fan-out"
[ -e small/settled.txt ] && [ -e small/.hidden ] || fail "small missed files"
[ ! -e small/big.bin ] && [ ! -e small/empty.txt ] || fail "sizes not kept"
[ ! -e all/x.skip ] || fail "x.skip was taken"

# A folder moved out of the watch is no longer watched.
mkdir inbox/sub
sleep 1
mv inbox/sub outside/
printf 'gone\n' >outside/sub/late.txt
sleep 2
[ ! -e all/sub/late.txt ] || fail "a moved-away folder is still watched"
stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
