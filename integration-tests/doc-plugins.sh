#!/bin/sh
# doc-plugins.sh - objtrigger.xml(5) documents every bundled plugin and
# each parameter "objtrigger plugins" lists, with its type and default.
. "$top_srcdir/integration-tests/lib.sh"

command -v man >/dev/null || skip "no man"
run 0 "$OBJTRIGGER" plugins
cp stdout plugins.txt
MANWIDTH=1000 man -l "$top_srcdir/doc/objtrigger.xml.5" 2>/dev/null |
    sed -n '/^TRANSFORMS/,/^DIAGNOSTICS/p' >page.txt
/usr/bin/python3 - plugins.txt page.txt <<'PY' || fail "objtrigger.xml(5) and objtrigger plugins differ"
import re, sys
page = " ".join(open(sys.argv[2]).read().split())
missing = []
for line in open(sys.argv[1]):
    if line.startswith("        "):
        continue
    if line.startswith("    "):
        name, spec = line.split(None, 1)
        if " ".join([name, " ".join(spec.split()) + ":"]) not in page:
            missing.append(plugin + "/" + name)
    elif line.strip():
        plugin = line.split()[0]
        if " %s " % plugin not in page:
            missing.append(plugin)
if missing:
    print("not in the page as listed:", " ".join(missing))
    sys.exit(1)
PY
