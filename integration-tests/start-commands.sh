#!/bin/sh
# start-commands.sh - the commands the README shows beside ./start.sh work
# as typed from the folder it runs in, with no OBJTRIGGER_PLUGIN_DIR: the
# build tree's binary takes the plugins built beside it, and reads the
# ./objtrigger.xml that start.sh made from the bundled default.
. "$top_srcdir/integration-tests/lib.sh"

unset OBJTRIGGER_PLUGIN_DIR
cp "$top_srcdir/config/objtrigger.xml" objtrigger.xml
mkdir inbox outbox
run 0 "$OBJTRIGGER" plugins
expect stdout "thumbnail "
run 0 "$OBJTRIGGER" check
expect stdout "objtrigger.xml: OK"
"$OBJTRIGGER" run >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 logged 1 'info: watching' || { cat daemon.log; fail "the daemon did not start"; }
cp "$top_srcdir/integration-tests/make-zip.pl" inbox/not-an-image.jpg
wait_until 30 logged 1 'job 1 (dead|done|retry)' || { cat daemon.log; fail "no job ran"; }
run 0 "$OBJTRIGGER" status
expect stdout "thumbnails"
stop_daemon
