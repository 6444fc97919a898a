#!/bin/sh
# plugins.sh - "objtrigger plugins" lists the transforms and their parameters.
. "$top_srcdir/integration-tests/lib.sh"

run 0 "$OBJTRIGGER" plugins
expect "$T/stdout" "copy $(cd "$top_srcdir" && sed -n 's/^AC_INIT(\[objtrigger\], \[\([^]]*\)\].*/\1/p' configure.ac): outputs each input unchanged"
expect "$T/stdout" "exec "
expect "$T/stdout" "    arg            string, required, repeatable"
expect "$T/stdout" "    stderr-limit   size, default \"4KiB\""
expect "$T/stdout" "how much of the command's stderr to keep"
no_sanitizer_report

# An empty plugin folder says so.
mkdir empty
OBJTRIGGER_PLUGIN_DIR=$T/empty run 1 "$OBJTRIGGER" plugins
expect "$T/stderr" "no plugins in $T/empty"
