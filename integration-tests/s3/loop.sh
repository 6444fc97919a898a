# loop.sh - a trigger putting into its own watched prefix is refused by
# check; with allow-loop="yes" it runs, and never on what it put.
. "$top_srcdir/integration-tests/s3lib.sh"

use_test_plugins
rgw_bucket loop || fail "no bucket"
counting="<transform plugin=\"counting\"><param name=\"log\" value=\"$T/runs.log\"/></transform>"
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="loop" prefix="in/" interval="300ms"' '' \
    "$counting" '<output store="rgw" bucket="loop" key="{dir}/{stem}.out"/>'
run 1 "$OBJTRIGGER" check -c ot.xml
expect "$T/stderr" "where the trigger's own watch 'in' lists (prefix \"in/\")"
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="loop" prefix="in/" interval="300ms"' \
    'allow-loop="yes"' \
    "$counting" '<output store="rgw" bucket="loop" key="{dir}/{stem}.out"/>'
run 0 "$OBJTRIGGER" check -c ot.xml
start_daemon ot.xml
sleep 1
echo a >a.txt
run 0 s3 s3api put-object --bucket loop --key in/a.txt --body a.txt
wait_until 30 s3_has loop 2 in/ || fail "no output"
sleep 3 # several listings see the output
stop_daemon
[ "$(runs in/a.txt)" = 1 ] || fail "in/a.txt ran $(runs in/a.txt) times"
[ "$(runs in/a.out)" = 0 ] || fail "the output was processed"
exit 0
