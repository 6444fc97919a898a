#!/bin/sh
# example-plugin.sh - the example transform builds out of tree against the
# installed header alone, and the installed objtrigger runs it.
. "$top_srcdir/integration-tests/lib.sh"

command -v "${CC:-cc}" >/dev/null || skip "no C compiler"
unset MAKEFLAGS MFLAGS
make -s -C "$top_builddir" install DESTDIR="$T/root" prefix=/usr \
    >"$T/stdout" 2>&1 || { cat "$T/stdout"; fail "make install"; }
[ -f root/usr/include/objtrigger-transform.h ] || fail "header not installed"
[ -x root/usr/bin/objtrigger ] || fail "objtrigger not installed"

cp -R "$top_srcdir/transforms/example" example
chmod -R u+w example
# No -I into the source tree: only the installed header is found.
run 0 make -C example PREFIX="$T/root/usr" CFLAGS="-O2 -Wall -Werror"
mkdir plugins
cp example/linecount.so plugins/

printf 'one\ntwo\nthree\n' >notes.txt
OBJTRIGGER_PLUGIN_DIR=$T/plugins run 0 root/usr/bin/objtrigger once \
    linecount notes.txt out -p suffix=.count
[ "$(cat out/notes.txt.count)" = 3 ] || fail "wrong count: $(cat out/notes.txt.count)"
expect "$T/stderr" "linecount: job once trigger=once: notes.txt has 3 lines"
OBJTRIGGER_PLUGIN_DIR=$T/plugins run 0 root/usr/bin/objtrigger plugins
expect "$T/stdout" "linecount 1.0: writes the number of lines of each input"
no_sanitizer_report
