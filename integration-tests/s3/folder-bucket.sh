# folder-bucket.sh - the copy transform uploads what lands in a folder
# (a large file as a multipart upload) and mirrors a bucket into a folder.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket mirror || fail "no bucket"
mkdir inbox
s3_config up.xml \
    "type=\"folder\" path=\"$T/inbox\" recursive=\"yes\"" '' \
    '<transform plugin="copy"/>' \
    '<output store="rgw" bucket="mirror" key="up/{key}"/>' \
    'multipart-threshold="5MiB"'
start_daemon up.xml
mkdir inbox/d
head -c 13000000 /dev/urandom >inbox/d/big.bin
echo small >"inbox/d/small one.txt"
wait_until 60 s3_has mirror 2 up/ || { cat daemon.log; fail "no upload"; }
stop_daemon
run 0 s3 s3api get-object --bucket mirror --key up/d/big.bin big.got
cmp inbox/d/big.bin big.got || fail "the multipart upload has other bytes"
expect "$T/stdout" '"ETag": "\"'
grep -q '"ETag": "\\"[0-9a-f]*-3\\""' "$T/stdout" || fail "not a 3-part upload"
run 0 s3 s3api get-object --bucket mirror --key "up/d/small one.txt" small.got
cmp "inbox/d/small one.txt" small.got || fail "other bytes"

rm -rf state daemon.log
# Another trigger: the one that put the objects would not take them.
S3_TRIGGER=mirror
s3_config down.xml \
    'type="s3-poll" store="rgw" bucket="mirror" prefix="up/" interval="300ms" start="beginning"' '' \
    '<transform plugin="copy"/>' "<output path=\"$T/copy/{key}\"/>"
start_daemon down.xml
wait_until 60 test -e "$T/copy/up/d/small one.txt" -a -e "$T/copy/up/d/big.bin" ||
    { cat daemon.log; fail "the bucket was not mirrored"; }
stop_daemon
cmp inbox/d/big.bin copy/up/d/big.bin || fail "the mirror has other bytes"
exit 0
