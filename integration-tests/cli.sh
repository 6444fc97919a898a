#!/bin/sh
# cli.sh - the command line a user expects: --help, -h, help, help COMMAND
# and COMMAND --help print usage and exit 0; --version prints the version;
# every command that reads a config takes --config FILE as well as -c FILE;
# the usage lists every option there is.
. "$top_srcdir/integration-tests/lib.sh"

for a in --help -h help; do
	run 0 "$OBJTRIGGER" $a
	expect stdout "usage: objtrigger [-v] COMMAND [ARGS]"
	expect stdout "objtrigger check [-c FILE] [-v] [--connect]"
	expect stdout "objtrigger -V | --version"
done
for c in run check status retry reload stop plugins once; do
	run 0 "$OBJTRIGGER" help $c
	expect stdout "usage: objtrigger $c"
	run 0 "$OBJTRIGGER" $c --help
	expect stdout "usage: objtrigger $c"
done
run 2 "$OBJTRIGGER" help nope
expect stderr "unknown command 'nope'"
run 0 "$OBJTRIGGER" --version
expect stdout "objtrigger "
abi=$(sed -n 's/^#define OT_ABI_M[AI][JN]OR //p' \
    "$top_srcdir/transforms/objtrigger-transform.h" | paste -sd.)
expect stdout "(plugin ABI $abi)"
run 0 "$OBJTRIGGER" -V

use_test_plugins
mkdir inbox
counting_config ot.xml
run 0 "$OBJTRIGGER" check --config ot.xml
expect stdout "ot.xml: OK"
run 0 "$OBJTRIGGER" check --verbose --config ot.xml
expect stdout "state: $T/state"
run 1 "$OBJTRIGGER" status --config ot.xml
expect stderr "objtrigger has not run with ot.xml"
run 1 "$OBJTRIGGER" retry --config ot.xml --trigger count
expect stderr "objtrigger has not run with ot.xml"
no_sanitizer_report
