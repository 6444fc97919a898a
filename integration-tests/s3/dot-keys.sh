# dot-keys.sh - keys with "." and ".." segments, legal in S3: with
# signature v4 each runs once and its output lands under the same bytes,
# fetched as itself and never as the other object its path resolves to
# ("k/a/../b.txt" is not "k/b.txt", which exists too): the segment goes
# out as %2E%2E, signed as the store reads it. With signature v2 (libs3,
# under which libcurl resolves the segment) such keys end as dead letters
# that name the fix, and nothing is written under another key.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket dots-in && rgw_bucket dots-out && rgw_bucket dots-v2 ||
    fail "no buckets"
printf 'the dotted one\n' >dotted
printf 'the plain one\n' >plain
printf 'the dot one\n' >dot
run 0 s3 s3api put-object --bucket dots-in --key 'k/a/../b.txt' --body dotted
run 0 s3 s3api put-object --bucket dots-in --key 'k/b.txt' --body plain
run 0 s3 s3api put-object --bucket dots-in --key 'k/./c.txt' --body dot
printf '%s\n' 'k/./c.txt' 'k/a/../b.txt' 'k/b.txt' >want.txt
s3_keys dots-in >got.txt
cmp -s want.txt got.txt ||
    { diff want.txt got.txt; fail "the store did not keep the keys as they are"; }

s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="dots-in" prefix="k/" interval="500ms" start="beginning"' \
    '' '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="dots-out" key="{key}"/>'
start_daemon ot.xml
wait_until 60 s3_has dots-out 3 || { cat daemon.log; fail "not every key ran"; }
stop_daemon
s3_keys dots-out >got.txt
cmp -s want.txt got.txt ||
    { diff want.txt got.txt; fail "the output keys are not the input keys"; }
# check_object KEY FILE: the object KEY of dots-out holds FILE's bytes.
check_object() {
	run 0 s3 s3api get-object --bucket dots-out --key "$1" got
	cmp -s "$2" got || { cat got; fail "'$1' holds other bytes than $2"; }
}
check_object 'k/a/../b.txt' dotted
check_object 'k/b.txt' plain
check_object 'k/./c.txt' dot
[ "$(grep -c ' done: ' daemon.log)" = 3 ] ||
    { cat daemon.log; fail "a key ran twice or not at all"; }

# Signature v2: the plain key runs, the others are dead letters that say
# why and name the fix.
rm -rf state daemon.log
s3_config ot2.xml \
    'type="s3-poll" store="rgw" bucket="dots-in" prefix="k/" interval="500ms" start="beginning"' \
    '' '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="dots-v2" key="{key}"/>' 'signature="v2"'
start_daemon ot2.xml
wait_until 60 logged 3 ' (done|dead): ' ||
    { cat daemon.log; fail "v2: not every key ended"; }
stop_daemon
for k in 'k/a/../b.txt' 'k/./c.txt'; do
	grep -F "dead: trigger=t key=$k " daemon.log |
	    grep 'dot segment' | grep -q 'use signature=\\"v4\\"' ||
	    { cat daemon.log; fail "v2: '$k' is not a dead letter naming the fix"; }
done
[ "$(s3_keys dots-v2)" = k/b.txt ] ||
    { s3_keys dots-v2; fail "v2: dots-v2 holds other keys than k/b.txt"; }
exit 0
