# overwrite.sh - an object overwritten with new bytes runs again; the same
# bytes uploaded again (the same ETag) do not; a removed object is a
# "removed" event for a trigger that asks for it.
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
rgw_bucket owr && rgw_bucket owr-out || fail "no buckets"
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="owr" interval="300ms" start="beginning"' \
    'events="created removed"' \
    "<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>" \
    '<output store="rgw" bucket="owr-out" key="{key}.{trigger}"/>'
echo one >one
echo two >two
run 0 s3 s3api put-object --bucket owr --key a.txt --body one
start_daemon ot.xml
wait_until 30 ran a.txt 1 || fail "a.txt did not run"
run 0 s3 s3api put-object --bucket owr --key a.txt --body one
sleep 2
[ "$(runs a.txt)" = 1 ] || fail "the same bytes ran again"
run 0 s3 s3api put-object --bucket owr --key a.txt --body two
wait_until 30 ran a.txt 2 || fail "new bytes did not run"
run 0 s3 s3api get-object --bucket owr-out --key a.txt.t got
cmp two got || fail "the output is not the new bytes"
run 0 s3 s3api delete-object --bucket owr --key a.txt
wait_until 30 ran a.txt 3 || fail "the removal did not run"
stop_daemon
exit 0
