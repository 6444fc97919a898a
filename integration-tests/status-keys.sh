#!/bin/sh
# status-keys.sh - status lists every dead letter, whatever its key holds:
# bytes that are not UTF-8 and control characters are shown escaped, in
# the text and in --json, never dropped.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="2s"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="fail" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="printf 'no \\377 way\\n' >&amp;2; exit 3"/>
    </transform>
    <output path="$T/outbox/{name}"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml
printf x >"inbox/$(printf 'latin1-\351t\351.txt')"
printf x >"inbox/$(printf 'new\nline.txt')"
printf x >inbox/plain.txt
wait_until 30 logged 3 ' dead: ' || { cat daemon.log; fail "3 dead letters expected"; }
stop_daemon

run 0 "$OBJTRIGGER" status -c ot.xml
[ "$(grep -c '^  job ' stdout)" = 3 ] || { cat stdout; fail "status does not list 3 dead letters"; }
expect stdout 'latin1-\xe9t\xe9.txt'
expect stdout 'new\x0aline.txt'
expect stdout 'no \xff way'
run 0 "$OBJTRIGGER" status --json -c ot.xml
/usr/bin/python3 - "$T/stdout" <<'PY' || fail "status --json is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
dead = d["dead"] if isinstance(d, dict) and "dead" in d else None
keys = sorted(x["key"] for x in dead)
assert keys == ["latin1-\\xe9t\\xe9.txt", "new\\x0aline.txt", "plain.txt"], keys
PY
