#!/bin/sh
# examples-run.sh - shipped examples run real jobs from a relative state
# folder: relative paths are resolved once, at load, from the working
# directory (check -v shows them), so a command's {outdir}, OBJTRIGGER_OUTDIR
# and TMPDIR are absolute.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
cp "$top_srcdir/config/examples/fan-out.xml" ot.xml
run 0 "$OBJTRIGGER" check -v -c ot.xml
expect stdout "state: $T/.objtrigger"
expect stdout "watch uploads: $T/inbox"
expect stdout "trigger checksum: output $T/sums/{key}.sha256"
start_daemon ot.xml
printf 'hello\n' >inbox/a.txt
wait_until 20 test -e sums/a.txt.sha256 ||
    { cat daemon.log; fail "the checksum trigger did not run"; }
wait_until 20 test -e backup/a.txt || fail "the backup trigger did not run"
[ "$(cut -d' ' -f1 sums/a.txt.sha256)" = "$(sha256sum <inbox/a.txt | cut -d' ' -f1)" ] ||
    fail "the checksum is wrong: $(cat sums/a.txt.sha256)"
stop_daemon
no_sanitizer_report
