#!/bin/sh
# daemon-stop.sh - SIGTERM lets running jobs finish within the grace period;
# one that takes longer is stopped and runs again at the next start. Logs
# in JSON are one object a line.
. "$top_srcdir/integration-tests/lib.sh"

mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="1s"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="slow" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="echo \$OBJTRIGGER_KEY >>$T/started; sleep \$(cat \$OBJTRIGGER_INPUT); cp \$OBJTRIGGER_INPUT out"/>
    </transform>
    <output path="$T/outbox/{name}-{key}"/>
  </trigger>
</objtrigger>
XML
"$OBJTRIGGER" run -c ot.xml --log-format json >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 grep -q '"msg":"watching' daemon.log || fail "no start"

# While both workers are busy, a file goes away and one changes: their
# queued jobs are skipped, and the new version has its own job.
echo 1.5 >inbox/busy1
echo 1.5 >inbox/busy2
both_busy() {
	[ "$(cat started 2>/dev/null | wc -l)" -ge 2 ]
}
wait_until 20 both_busy || fail "the busy jobs did not start"
echo 0.1 >inbox/gone
echo 0.1 >inbox/changed
sleep 0.3
rm inbox/gone
echo 0.3 >inbox/changed
wait_until 20 test -e outbox/out-changed || fail "changed was not processed"
expect daemon.log '"key":"gone","result":"skipped"'
expect daemon.log "the file went away before its job ran"
expect daemon.log '"key":"changed","result":"skipped"'
[ "$(grep -c changed started)" = 1 ] || fail "changed ran $(grep -c changed started) times"
[ "$(cat outbox/out-changed)" = 0.3 ] || fail "changed: old content"

echo 0.2 >inbox/quick
echo 5 >inbox/long
wait_until 20 test -e outbox/out-quick || fail "quick did not finish"
wait_until 20 grep -qx long started || fail "long did not start"
stop_daemon
expect daemon.log '"msg":"stopping: 1 job running, 1s to finish"'
expect daemon.log '"msg":"1 job did not finish in time: it runs again at the next start"'
expect daemon.log '"trigger":"slow","key":"quick","result":"done","attempts":1'
[ ! -e outbox/out-long ] || fail "long finished within a 1s grace"

# Restarted, the unfinished job runs again, and only it.
"$OBJTRIGGER" run -c ot.xml >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 test -e outbox/out-long || fail "long did not run again"
expect daemon.log "1 job that ran when objtrigger stopped runs again"
[ "$(grep -c quick started)" = 1 ] || fail "quick ran again"

stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
