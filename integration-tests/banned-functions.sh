#!/bin/sh
# banned-functions.sh - the C sources call none of the functions that are
# unbounded or reach a shell.
. "$top_srcdir/integration-tests/lib.sh"

cd "$top_srcdir" || exit 99
hits=$(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|gets|system|popen)[[:space:]]*\(' \
    $(find watcher config transforms -name '*.c' -o -name '*.h') |
    grep -vE '(snprintf|vsnprintf|asprintf|vasprintf)[[:space:]]*\(' )
[ -z "$hits" ] || { echo "$hits"; fail "banned functions"; }
