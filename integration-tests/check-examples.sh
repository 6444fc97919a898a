#!/bin/sh
# check-examples.sh - every example config passes "objtrigger check",
# and the schema agrees with the reader on each of them.
. "$top_srcdir/integration-tests/lib.sh"

n=0
# The S3 examples take their keys from the environment.
OBJTRIGGER_S3_ACCESS_KEY=example OBJTRIGGER_S3_SECRET_KEY=example
export OBJTRIGGER_S3_ACCESS_KEY OBJTRIGGER_S3_SECRET_KEY
# The webhook example reads its token from ./webhook.token, which only its
# owner may read.
printf 'example-token\n' >webhook.token
chmod 600 webhook.token
# The http example's, ./function.token.
printf 'example-token\n' >function.token
chmod 600 function.token
# The scale-out example's broker login, ./mq.cred.
printf 'user = example\npassword = example\n' >mq.cred
chmod 600 mq.cred
for f in "$top_srcdir"/config/examples/*.xml; do
	mkdir -p inbox
	run 0 "$OBJTRIGGER" check -c "$f"
	expect "$T/stdout" "$f: OK:"
	no_sanitizer_report
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout --relaxng "$top_srcdir/config/objtrigger.rng" \
		    "$f" 2>"$T/stderr" || { cat "$T/stderr"; fail "schema refuses $f"; }
	fi
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n example configs"
echo "checked $n examples"
