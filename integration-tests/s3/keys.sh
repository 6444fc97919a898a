# keys.sh - keys are bytes: each odd key uploaded by awscli runs once and
# its output lands under the same bytes (signature v4); on a v2 store the
# keys libs3 2.0 cannot address end as dead letters that name the fix.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket keys-in && rgw_bucket keys-out && rgw_bucket keys-v2 ||
    fail "no buckets"
long=k/$(printf '%01022d' 0 | tr 0 x) # 1,024 bytes, S3's longest key
cat >keys.txt <<KEYS
k/with space.txt
k/plus+sign.txt
k/percent%41.txt
k/hash#.txt
k/question?.txt
k/amp&.txt
k/unicodé ünï.txt
k/double//slash.txt
k/trailing/
k/(parens) [brackets] {braces}.txt
$long
KEYS
echo payload >payload
while IFS= read -r k; do
	run 0 s3 s3api put-object --bucket keys-in --key "$k" --body payload
done <keys.txt
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="keys-in" prefix="k/" interval="500ms" start="beginning"' \
    '' '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="keys-out" key="{key}"/>'
start_daemon ot.xml
n=$(wc -l <keys.txt)
wait_until 60 s3_has keys-out "$n" || { cat daemon.log; fail "not every key ran"; }
LC_ALL=C sort keys.txt >want.txt
s3_keys keys-out | LC_ALL=C sort >got.txt
cmp -s want.txt got.txt || { diff want.txt got.txt; fail "the output keys are not the input keys"; }
run 0 s3 s3api get-object --bucket keys-out --key "k/unicodé ünï.txt" got
cmp payload got || fail "other bytes came back"
run 0 s3 s3api head-object --bucket keys-out --key "k/with space.txt"
expect "$T/stdout" '"objtrigger-trigger": "t"'
expect "$T/stdout" '"objtrigger-source-key": "k/with%20space.txt"'
stop_daemon
[ "$(grep -c ' done: ' daemon.log)" = "$n" ] || fail "a key ran twice or not at all"

# Signature v2 (libs3 2.0): what it can address runs, the rest is dead
# with the reason and the fix.
rm -rf state daemon.log
s3_config ot2.xml \
    'type="s3-poll" store="rgw" bucket="keys-in" prefix="k/" interval="500ms" start="beginning"' \
    '' '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="keys-v2" key="{key}"/>' 'signature="v2"'
start_daemon ot2.xml
wait_until 60 logged "$n" ' (done|dead): ' ||
    { cat daemon.log; fail "v2: not every key ended"; }
stop_daemon
# libs3 2.0's listing also cuts the 1,024-byte key to 1,023 bytes.
for k in "\"k/with space.txt\"" "\"k/unicodé ünï.txt\"" \
    "\"k/(parens) [brackets] {braces}.txt\"" "$(echo "$long" | cut -c1-1023)"; do
	grep -F "dead: trigger=t key=$k " daemon.log | grep -q 'use signature=\\"v4\\"' ||
	    { cat daemon.log; fail "v2: '$k' is not a dead letter naming the fix"; }
done
[ "$(grep -c ' done: ' daemon.log)" = $((n - 4)) ] || { cat daemon.log; fail "v2: the others did not all run"; }
exit 0
