# too-large.sh - an object larger than the workers' file-size is refused
# once, as a dead letter that names the limit, not fetched and retried as
# if the worker's death were transient; a smaller one runs.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket big-in && rgw_bucket big-out || fail "no buckets"
head -c 2000000 /dev/urandom >big
printf 'small\n' >small
run 0 s3 s3api put-object --bucket big-in --key big.bin --body big
run 0 s3 s3api put-object --bucket big-in --key small.txt --body small
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="big-in" interval="500ms" start="beginning"' \
    '' '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="big-out" key="{key}"/>'
sed -i 's|<workers count="2" timeout="30s" grace="5s"/>|<workers count="2" timeout="30s" grace="5s" file-size="1MiB"/>|' ot.xml
grep -q 'file-size="1MiB"' ot.xml || fail "the config was not made"
start_daemon ot.xml
wait_until 60 logged 2 ' (done|dead): ' || { cat daemon.log; fail "the jobs did not end"; }
sleep 1
stop_daemon
grep -F 'dead: trigger=t key=big.bin attempts=1 ' daemon.log |
    grep -q "larger than the workers' file-size" ||
    { cat daemon.log; fail "big.bin is not one dead letter naming file-size"; }
[ "$(grep -c 'key=big.bin' daemon.log | tr -d ' ')" -ge 1 ] || fail "no line for big.bin"
! grep -q 'retry: trigger=t key=big.bin' daemon.log || fail "big.bin was retried"
[ "$(s3_keys big-out)" = small.txt ] || fail "the outputs are not small.txt alone"
