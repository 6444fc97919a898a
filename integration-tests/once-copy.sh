#!/bin/sh
# once-copy.sh - "objtrigger once copy": the bytes, the names, the listing,
# and the inputs and output folders that cannot work.
. "$top_srcdir/integration-tests/lib.sh"

# Hostile names reach the output untouched and nothing else appears.
head -c 300000 /dev/urandom >"in put;\$(touch pwned)'\"x.bin"
run 0 "$OBJTRIGGER" once copy "in put;\$(touch pwned)'\"x.bin" out
cmp "in put;\$(touch pwned)'\"x.bin" "out/in put;\$(touch pwned)'\"x.bin" ||
    fail "copy changed the bytes"
expect "$T/stdout" "$T/out/in put;\$(touch pwned)'\"x.bin"
[ "$(ls -A out | wc -l)" = 1 ] || fail "extra files in out: $(ls -A out)"
[ ! -e pwned ] && [ ! -e out/pwned ] || fail "a name reached a shell"
no_sanitizer_report

# An empty file copies to an empty file; OUTDIR is made when missing.
: >empty
run 0 "$OBJTRIGGER" once copy empty deep/er/out
[ -f deep/er/out/empty ] && [ ! -s deep/er/out/empty ] || fail "empty file"

# An input that is not there.
run 1 "$OBJTRIGGER" once copy vanished.txt out
expect "$T/stderr" "vanished.txt: No such file or directory"

# An OUTDIR that is a file, and one that cannot be written to.
echo x >afile
run 1 "$OBJTRIGGER" once copy empty afile
expect "$T/stderr" "afile: Not a directory"
mkdir locked
chmod 555 locked
as_nobody=
if [ "$(id -u)" = 0 ]; then
	# root writes anywhere: try as nobody, if nobody can run the build.
	chmod 755 "$T"
	chmod 644 empty
	as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$as_nobody "$OBJTRIGGER" -V >/dev/null 2>&1 || as_nobody=none
fi
if [ "$as_nobody" = none ]; then
	echo "note: nobody cannot run $OBJTRIGGER: read-only OUTDIR not tried"
else
	run 1 $as_nobody "$OBJTRIGGER" once copy "$T/empty" "$T/locked"
	expect "$T/stderr" "cannot write to $T/locked: Permission denied"
	no_sanitizer_report
fi

# Usage errors.
run 2 "$OBJTRIGGER" once copy
run 2 "$OBJTRIGGER" once copy empty out -p novalue
expect "$T/stderr" "-p novalue: expected NAME=VALUE"
run 1 "$OBJTRIGGER" once copy empty out -p colour=red
expect "$T/stderr" "plugin 'copy' has no parameter 'colour' (it takes: none)"
