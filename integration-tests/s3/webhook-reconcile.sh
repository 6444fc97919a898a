# webhook-reconcile.sh - what RGW could not push while objtrigger was down
# is lost (RGW drops it), and found by the listing objtrigger makes at
# start: 20 objects pushed, 200 uploaded while the daemon is stopped, and
# after a start all 220 have their output, the first 20 not again.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket rec-in && rgw_bucket rec-out || fail "no buckets"
PORT=$(free_port) || fail "no free port"
arn=$(s3_topic objtrigger-rec "http://127.0.0.1:$PORT/events/rec") ||
    fail "no topic"
s3_notify rec-in "$arn" || fail "no notification"
mkdir a b
i=0
while [ $i -lt 200 ]; do
	[ $i -lt 20 ] && echo "a$i" >"a/o$i"
	echo "b$i" >"b/o$i"
	i=$((i + 1))
done

# reconcile="1h": the listing at start-up is the only one.
S3_EXTRA="<http listen=\"127.0.0.1:$PORT\"/>"
s3_config ot.xml \
    'type="s3-webhook" path="/events/rec" store="rgw" bucket="rec-in" reconcile="1h"' '' \
    '<transform plugin="copy"/>' '<output store="rgw" bucket="rec-out" key="{key}"/>'
# listed N: the watch has listed the bucket N times (for wait_until).
listed() {
	[ "$(http_code "http://127.0.0.1:$PORT/metrics")" = 200 ] &&
	    [ "$(metric "$T/body" objtrigger_poll_cycles_total watch=in)" -ge "$1" ] 2>/dev/null
}

start_daemon ot.xml
# Uploaded after the first listing, which only records.
wait_until 20 listed 1 || fail "no listing at start-up"
run 0 s3 s3 cp --recursive --quiet a s3://rec-in/a/
wait_until 60 s3_has rec-out 20 a/ ||
    { tail daemon.log; fail "only $(s3_count rec-out a/) of 20 pushed objects ran"; }
code=$(http_code "http://127.0.0.1:$PORT/metrics")
pushed=$(metric_sum "$T/body" objtrigger_events_total watch=in outcome=accepted)
[ "$pushed" = 20 ] || fail "$pushed events pushed, not 20"
stop_daemon
[ "$(grep -c ' done: ' daemon.log)" = 20 ] || fail "not 20 jobs done"
s3 s3api list-objects-v2 --bucket rec-out --prefix a/ \
    --query 'Contents[].[Key, LastModified]' --output text >before.txt ||
    fail "cannot list"

# Nobody listens: RGW takes the uploads, and drops their events.
run 0 s3 s3 cp --recursive --quiet b s3://rec-in/b/
[ "$(s3_count rec-in b/)" = 200 ] || fail "the uploads failed with the webhook down"

start_daemon ot.xml
wait_until 120 s3_has rec-out 220 ||
    { tail daemon.log; fail "only $(s3_count rec-out) of 220 outputs"; }
code=$(http_code "http://127.0.0.1:$PORT/metrics")
[ "$code" = 200 ] || fail "/metrics answered $code"
cp "$T/body" metrics.txt
sleep 2 # anything queued twice would run by now
stop_daemon
# The listing found 220 objects, 200 of them new; RGW pushed nothing
# again (each push would be one more event).
events=$(metric_sum metrics.txt objtrigger_events_total watch=in)
new=$(metric_sum metrics.txt objtrigger_events_total watch=in outcome=accepted)
[ "$events" = 220 ] && [ "$new" = 200 ] ||
    { grep events_total metrics.txt; fail "$events events after the restart, $new new"; }
s3_keys rec-in >in.txt
s3_keys rec-out >out.txt
cmp -s in.txt out.txt || { diff in.txt out.txt | head; fail "the outputs are not the inputs"; }
s3 s3api list-objects-v2 --bucket rec-out --prefix a/ \
    --query 'Contents[].[Key, LastModified]' --output text >after.txt ||
    fail "cannot list"
cmp -s before.txt after.txt || { diff before.txt after.txt | head; fail "the first 20 were written again"; }
[ "$(grep -c ' done: ' daemon.log)" = 220 ] || fail "not 220 jobs done in all"
twice=$(grep ' done: ' daemon.log | sed 's/.* key=//; s/ attempts=.*//' | sort | uniq -d)
[ -z "$twice" ] || fail "ran twice: $twice"
run 0 "$OBJTRIGGER" status -c ot.xml --json
python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["triggers"]["t"]
assert t["done"] == 220 and sum(t.values()) == 220, t' "$T/stdout" ||
    { cat "$T/stdout"; fail "the journal does not hold 220 jobs done once"; }
exit 0
