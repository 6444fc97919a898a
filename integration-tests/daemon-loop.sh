#!/bin/sh
# daemon-loop.sh - the loop guard: check refuses a trigger fed by its own
# outputs, and files objtrigger wrote are never processed again.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
# Output inside the watched folder: refused, with the way out.
counting_config loop.xml
sed -i "s|$T/outbox/{dir}/{name}|$T/inbox/copies/{dir}/{name}|" loop.xml
run 1 "$OBJTRIGGER" check -c loop.xml
expect "$T/stderr" "writes into $T/inbox/copies, which the trigger's own watch 'in' watches"
expect "$T/stderr" 'allow-loop="yes"'

# Outputs the trigger's match leaves out are fine.
counting_config thumbs.xml "" 'match="*.jpg"'
sed -i "s|$T/outbox/{dir}/{name}|$T/inbox/thumbs/{dir}/{stem}.webp|" thumbs.xml
run 0 "$OBJTRIGGER" check -c thumbs.xml

# A non-recursive watch does not see a subfolder.
counting_config flat.xml 'recursive="no"'
sed -i "s|recursive=\"yes\" recursive=\"no\"|recursive=\"no\"|; s|$T/outbox/{dir}/{name}|$T/inbox/sub/{name}|" flat.xml
run 0 "$OBJTRIGGER" check -c flat.xml

# A literal ".." after the destination is refused before anything runs.
counting_config dots.xml
sed -i "s|$T/outbox/{dir}/{name}|$T/outbox/{dir}/../{name}|" dots.xml
run 1 "$OBJTRIGGER" check -c dots.xml
expect "$T/stderr" "has a '..' after its folder: a name may never leave it"

# No journal yet: status says so, and makes none.
run 1 "$OBJTRIGGER" status -c thumbs.xml
expect "$T/stderr" "no journal in $T/state: objtrigger has not run"
[ ! -e state ] || fail "status made a state folder"
run 2 "$OBJTRIGGER" status -c thumbs.xml extra

# allow-loop: checked, and at run time its own outputs are skipped.
counting_config allowed.xml "" 'allow-loop="yes"'
sed -i "s|$T/outbox/{dir}/{name}|$T/inbox/copies/{dir}/{name}|" allowed.xml
run 0 "$OBJTRIGGER" check -c allowed.xml
start_daemon allowed.xml
printf 'once\n' >inbox/a.txt
wait_until 20 test -e inbox/copies/a.txt || fail "a.txt was not copied"
sleep 2
[ "$(wc -l <runs.log)" = 1 ] || { cat runs.log; fail "it ran on its own output"; }
stop_daemon
exit 0
