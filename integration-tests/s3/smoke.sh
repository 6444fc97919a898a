# smoke.sh - the S3 store answers the clients users upload with (awscli,
# s3cmd) and libcurl's own SigV4 signing, which objtrigger uses: odd keys
# and the exact bytes, both ways.

s3() {
	aws --endpoint-url "$RGW_ENDPOINT" "$@"
}
# sigv4_get PATH FILE: GET PATH (already URL-encoded) signed by curl.
sigv4_get() {
	curl --noproxy '*' -sS -f -o "$2" --aws-sigv4 "aws:amz:default:s3" \
	    --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
	    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$RGW_ENDPOINT$1"
}

rgw_bucket smoke || fail "no bucket"

head -c 1048576 /dev/urandom >one.bin
head -c 300000 /dev/urandom >two.bin
head -c 9437184 /dev/urandom >big.bin
k1='dir/my photo+1 é.bin'
k2='up load+2.bin'
k3='big+multipart.bin'
run 0 s3 s3 cp one.bin "s3://smoke/$k1"
run 0 s3cmd -c "$RGW_S3CMD_CFG" put two.bin "s3://smoke/$k2"
# Over aws's 8 MiB threshold: a multipart upload.
run 0 s3 s3 cp big.bin "s3://smoke/$k3"

run 0 s3 s3api list-objects-v2 --bucket smoke \
    --query 'Contents[].[Key, Size]' --output text
printf '%s\t%s\n' "$k3" 9437184 "$k1" 1048576 "$k2" 300000 >want.txt
cmp -s want.txt "$T/stdout" || {
	diff want.txt "$T/stdout"
	fail "the listing is not the three keys with their sizes"
}

# Each object back with the other client, then signed by libcurl.
run 0 s3cmd -c "$RGW_S3CMD_CFG" get "s3://smoke/$k1" got1.bin
cmp one.bin got1.bin || fail "s3cmd read back other bytes for '$k1'"
run 0 s3 s3 cp "s3://smoke/$k2" got2.bin
cmp two.bin got2.bin || fail "aws read back other bytes for '$k2'"
run 0 s3 s3 cp "s3://smoke/$k3" got3.bin
cmp big.bin got3.bin || fail "aws read back other bytes for '$k3'"

run 0 sigv4_get '/smoke/dir/my%20photo%2B1%20%C3%A9.bin' curl1.bin
cmp one.bin curl1.bin || fail "curl read back other bytes for '$k1'"
run 0 sigv4_get '/smoke/up%20load%2B2.bin' curl2.bin
cmp two.bin curl2.bin || fail "curl read back other bytes for '$k2'"
# A wrong secret is refused: the signature is really checked.
RGW_SECRET_KEY=${RGW_SECRET_KEY}x
run 22 sigv4_get '/smoke/up%20load%2B2.bin' refused.bin
expect "$T/stderr" "403"
exit 0
