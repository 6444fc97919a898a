#!/bin/sh
# check-webhook.sh - "objtrigger check" warns of a webhook that anyone on
# the network could feed (no token, beyond loopback), and of no other.
. "$top_srcdir/integration-tests/lib.sh"

OBJTRIGGER_S3_ACCESS_KEY=example OBJTRIGGER_S3_SECRET_KEY=example
export OBJTRIGGER_S3_ACCESS_KEY OBJTRIGGER_S3_SECRET_KEY

# hook_config FILE LISTEN [WATCH-ATTRIBUTES]: the webhook is on line 5.
hook_config() {
	cat >"$1" <<XML
<objtrigger>
  <http listen="$2"/>
  <store name="rgw" endpoint="http://127.0.0.1:7480" region="default"
         access-key-env="OBJTRIGGER_S3_ACCESS_KEY" secret-key-env="OBJTRIGGER_S3_SECRET_KEY"/>
  <watch name="hook" type="s3-webhook" path="/events/photos" store="rgw" ${3:-}/>
</objtrigger>
XML
}

# no_warning: check said nothing on stderr, and the config is fine.
no_warning() {
	expect "$T/stdout" "$1: OK:"
	if [ -s "$T/stderr" ]; then
		cat "$T/stderr"
		fail "check warned about $1"
	fi
}

# Open to the network, no token: a warning with the watch's line, the
# path and the address, yet the config is valid and check exits 0.
hook_config open.xml 0.0.0.0:9464
run 0 "$OBJTRIGGER" check -c open.xml
no_sanitizer_report
expect "$T/stdout" "open.xml: OK: 1 watch"
expect "$T/stderr" "open.xml:5: warning: the webhook /events/photos listens on 0.0.0.0:9464"
expect "$T/stderr" "with no token and no TLS"
expect "$T/stderr" 'token-file="..."'
[ "$(grep -c warning "$T/stderr")" = 1 ] || fail "one warning expected"

# The same with a token: nothing to say.
printf 's3cr3t\n' >webhook.token
chmod 600 webhook.token
hook_config token.xml 0.0.0.0:9464 'token-file="webhook.token"'
run 0 "$OBJTRIGGER" check -c token.xml
no_sanitizer_report
no_warning token.xml

# No token, but on loopback only: nothing to say either.
for listen in 127.0.0.1:9464 '[::1]:9464' localhost:9464; do
	hook_config loopback.xml "$listen"
	run 0 "$OBJTRIGGER" check -c loopback.xml
	no_sanitizer_report
	no_warning loopback.xml
done

# A token that others may read is an error, not a warning.
chmod 644 webhook.token
run 1 "$OBJTRIGGER" check -c token.xml
expect "$T/stderr" "token.xml:5: <watch token-file=\"webhook.token\">"
expect "$T/stderr" "chmod 600 webhook.token"
