# s3lib.sh - shared by the S3 cases (integration-tests/s3/*.sh): the
# store in a config, and counting what a bucket holds.

s3() {
	aws --endpoint-url "$RGW_ENDPOINT" "$@"
}

# s3_credentials: $T/rgw.cred, a private credentials file for the store.
s3_credentials() {
	printf 'access-key = %s\nsecret-key = %s\n' "$RGW_ACCESS_KEY" \
	    "$RGW_SECRET_KEY" >"$T/rgw.cred"
	chmod 600 "$T/rgw.cred"
}

# s3_config FILE WATCH TRIGGER TRANSFORM OUTPUT [STORE]: a config with the
# store "rgw" (STORE: more attributes), a watch named "in" (WATCH: its
# attributes but the name), one trigger "t" or $S3_TRIGGER (TRIGGER: more
# attributes),
# TRANSFORM and OUTPUT as XML.
s3_config() {
	s3_credentials
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="5s"/>
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred" timeout="5s" connect-timeout="2s" ${6:-}/>
  <watch name="in" $2/>
  <trigger name="${S3_TRIGGER:-t}" watch="in" $3>
    $4
    $5
    <retry attempts="100" backoff="200ms" max-backoff="2s"/>
  </trigger>
</objtrigger>
XML
}

# s3_count BUCKET [PREFIX]: how many objects BUCKET holds under PREFIX.
s3_count() {
	# JSON: the client applies the query to all pages at once, not to
	# each as it does for text.
	s3 s3api list-objects-v2 --bucket "$1" --prefix "${2:-}" \
	    --query 'length(Contents || `[]`)' --output json 2>/dev/null
}

# s3_has BUCKET N [PREFIX]: BUCKET holds at least N objects (for wait_until).
s3_has() {
	[ "$(s3_count "$1" "${3:-}")" -ge "$2" ] 2>/dev/null
}

# s3_keys BUCKET [PREFIX]: the keys, one a line, sorted.
s3_keys() {
	s3 s3api list-objects-v2 --bucket "$1" --prefix "${2:-}" \
	    --query 'Contents[].Key' --output json |
	    python3 -c 'import json,sys; [print(k) for k in sorted(json.load(sys.stdin) or [])]'
}

