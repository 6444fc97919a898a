#!/bin/sh
# exec-batch.sh - an exec trigger with a batch runs its command once on
# the whole batch: the inputs as arguments ({inputs}: descriptors 3, 4,
# ...), listed in $OBJTRIGGER_INPUTS and, keys with a line break too, in
# $OBJTRIGGER_KEYS; the batch's line names the outputs.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
# The command checks what it was given, and writes the inputs' bytes and
# their keys.
# (One line: XML turns the line breaks of an attribute into spaces.)
script='[ $# = "$OBJTRIGGER_COUNT" ] || { echo "$# args, count $OBJTRIGGER_COUNT" >&2; exit 3; };'
script="$script"' [ "$(wc -l <"$OBJTRIGGER_INPUTS")" = $# ] || { echo inputs list >&2; exit 3; };'
script="$script"' [ "$(tr -cd "\\000" <"$OBJTRIGGER_KEYS" | wc -c)" = $# ] || { echo keys list >&2; exit 3; };'
script="$script"' [ "$(cat "$OBJTRIGGER_INPUTS")" = "$(printf "%s\\n" "$@")" ] || { echo lists differ >&2; exit 3; };'
script="$script"' cat "$@" >data.txt; tr "\\000\\n" "/|" <"$OBJTRIGGER_KEYS" >keys.txt; echo run >>"$0"'
script=$(printf '%s' "$script" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g')
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="all" watch="in" batch-every="2s">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="$script"/>
      <param name="arg" value="$T/runs.log"/>
      <param name="arg" value="{inputs}"/>
    </transform>
    <output path="$T/out/{period}/{name}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml
start_daemon ot.xml
echo one >inbox/a.txt
echo two >"inbox/b c.txt"
echo three >"inbox/$(printf 'new\nline.txt')"
echo four >inbox/-d.txt
wait_until 30 logged 4 'done: trigger=all' || { cat daemon.log; fail "not 4 jobs done"; }
stop_daemon
batches=$(grep -c 'info: batch of ' daemon.log)
[ "$(wc -l <runs.log)" = "$batches" ] || { cat daemon.log; fail "$(wc -l <runs.log) runs for $batches batches"; }
[ "$batches" -le 2 ] || fail "$batches batches for one burst"
[ "$(cat out/*/data.txt | sort | tr '\n' ' ')" = "four one three two " ] ||
    fail "the inputs' bytes: $(cat out/*/data.txt)"
[ "$(cat out/*/keys.txt | tr '/' '\n' | grep . | sort | tr '\n' ' ')" = "-d.txt a.txt b c.txt new|line.txt " ] ||
    fail "the keys: $(cat out/*/keys.txt)"
for d in out/*; do
	grep -q "outputs=$T/$d/data.txt,$T/$d/keys.txt\|outputs=$T/$d/keys.txt,$T/$d/data.txt" daemon.log ||
	    { cat daemon.log; fail "no batch line names the outputs of $d"; }
done
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
