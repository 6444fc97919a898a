# listing-held.sh - a listing whose store does not answer (radosgw
# stopped with SIGSTOP in the middle of it) holds the listing only: the
# daemon's loop goes on answering HTTP and running the folder watch's jobs
# meanwhile; once the store answers again, the listing goes on, and the
# daemon stops cleanly.
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
rgw_bucket held || fail "no bucket"
mkdir keys inbox
i=0
while [ $i -lt 50 ]; do
	: >"keys/k$i"
	i=$((i + 1))
done
run 0 s3 s3 cp --recursive --quiet keys s3://held/
s3_credentials
PORT=$(free_port) || fail "no free port"
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" grace="5s"/>
  <http listen="127.0.0.1:$PORT"/>
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred" timeout="60s" connect-timeout="60s"/>
  <watch name="in" type="s3-poll" store="rgw" bucket="held" interval="200ms"/>
  <trigger name="t" watch="in">
    <transform plugin="copy"/>
    <output path="$T/listed/{key}"/>
  </trigger>
  <watch name="drop" type="folder" path="$T/inbox"/>
  <trigger name="copy" watch="drop">
    <transform plugin="counting"><param name="log" value="$T/runs.log"/></transform>
    <output path="$T/outbox/{name}"/>
  </trigger>
</objtrigger>
XML
cycles() {
	[ "$(http_code "http://127.0.0.1:$PORT/metrics")" = 200 ] &&
	    metric "$T/body" objtrigger_poll_cycles_total watch=in
}
listed() {
	[ "$(cycles)" -ge "$1" ] 2>/dev/null
}

start_daemon ot.xml
wait_until 30 listed 2 || fail "no listing"
gw=$(_rgw_pid client.rgw.0) || fail "no radosgw pid"
kill -STOP "$gw"
# Cycles are due every 200 ms: one is soon waiting on the stopped store,
# and the count stops.
before=$(cycles)
sleep 2
held=$(cycles)
[ -n "$held" ] || { kill -CONT "$gw"; fail "/metrics unanswered while the store is held"; }
echo "file" >inbox/f1
wait_until 20 test -e outbox/f1 || { kill -CONT "$gw"; fail "no job ran while the store is held"; }
[ "$(http_code "http://127.0.0.1:$PORT/healthz")" = 200 ] ||
	{ kill -CONT "$gw"; fail "/healthz unanswered while the store is held"; }
[ "$(cycles)" = "$held" ] || { kill -CONT "$gw"; fail "listings went on: the store was not held ($before, $held, $(cycles))"; }
kill -CONT "$gw"
wait_until 60 listed $((held + 2)) || fail "the listing did not go on"
stop_daemon
[ "$(grep -c '^f1$' runs.log)" = 1 ] || fail "f1 ran $(grep -c '^f1$' runs.log) times"
exit 0
