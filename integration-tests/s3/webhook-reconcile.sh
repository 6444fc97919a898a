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
start_daemon ot.xml
wait_until 20 http_up "http://127.0.0.1:$PORT/healthz" || fail "no /healthz"
# Uploaded after the first listing, which only records.
sleep 2
run 0 s3 s3 cp --recursive --quiet a s3://rec-in/a/
wait_until 60 s3_has rec-out 20 a/ ||
    { tail daemon.log; fail "only $(s3_count rec-out a/) of 20 pushed objects ran"; }
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
events=$(metric_sum "$T/body" objtrigger_events_total watch=in)
sleep 2 # anything queued twice would run by now
stop_daemon
# The 200 came from the listing: RGW pushed nothing again.
[ "$events" = 0 ] || fail "$events events came in after the restart"
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
