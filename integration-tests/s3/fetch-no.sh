# fetch-no.sh - a trigger with fetch="no" on a bucket watch downloads
# nothing: its command gets the key, bucket, size, ETag and event and an
# empty file named as the object, and runs on an object larger than the
# workers' file-size, which a download would be refused for.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket nofetch || fail "no bucket"
head -c 3000000 /dev/urandom >big
run 0 s3 s3api put-object --bucket nofetch --key "d/big one.bin" --body big
etag=$(s3 s3api head-object --bucket nofetch --key "d/big one.bin" \
    --query ETag --output text | tr -d '"')
[ -n "$etag" ] || fail "no ETag"
cat >probe.sh <<'SH'
printf 'key=%s bucket=%s size=%s etag=%s event=%s bytes=%s name=%s\n' \
    "$OBJTRIGGER_KEY" "$OBJTRIGGER_BUCKET" "$OBJTRIGGER_SIZE" \
    "$OBJTRIGGER_ETAG" "$OBJTRIGGER_EVENT" "$(wc -c)" \
    "$(basename "$(readlink /proc/self/fd/3)")" >probe.txt
SH
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="nofetch" interval="500ms" start="beginning"' \
    'fetch="no"' \
    "<transform plugin=\"exec\"><param name=\"arg\" value=\"/bin/sh\"/><param name=\"arg\" value=\"$T/probe.sh\"/></transform>" \
    "<output path=\"$T/out/{key}.txt\"/>"
sed -i 's|<workers count="2" timeout="30s" grace="5s"/>|<workers count="2" timeout="30s" grace="5s" file-size="1MiB"/>|' ot.xml
grep -q 'file-size="1MiB"' ot.xml || fail "the config was not made"
start_daemon ot.xml
wait_until 60 test -s "out/d/big one.bin.txt" || { cat daemon.log; fail "no output"; }
stop_daemon
cat "out/d/big one.bin.txt"
expect "out/d/big one.bin.txt" \
    "key=d/big one.bin bucket=nofetch size=3000000 etag=$etag event=created bytes=0 name=big one.bin"
