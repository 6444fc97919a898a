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
# TRANSFORM and OUTPUT as XML; $S3_EXTRA, XML put in as it is (an <http>).
s3_config() {
	s3_credentials
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="5s"/>
  ${S3_EXTRA:-}
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

# s3_count BUCKET [PREFIX]: how many objects BUCKET holds under PREFIX,
# summed over the pages of a listing made with rgw_curl: a poll of
# wait_until costs no start of aws(1), a second of CPU.
s3_count() {
	_s3_n=0 _s3_after=
	while :; do
		_s3_page=$(rgw_curl "/$1?list-type=2&prefix=$(s3_escape "${2:-}")$_s3_after") ||
		    return 1
		_s3_n=$((_s3_n + $(printf '%s\n' "$_s3_page" |
		    sed -n 's|.*<KeyCount>\([0-9]*\)</KeyCount>.*|\1|p')))
		_s3_last=$(printf '%s\n' "$_s3_page" |
		    sed -n 's|.*<IsTruncated>true</IsTruncated>.*<Key>\([^<]*\)</Key>.*|\1|p')
		[ -n "$_s3_last" ] || break
		_s3_after="&start-after=$(s3_escape "$_s3_last" xml)"
	done
	echo "$_s3_n"
}

# s3_escape STRING [path|xml]: STRING percent-encoded for a query, or with
# "path" for a path (its slashes kept), or with "xml" first unescaped from
# XML text.
s3_escape() {
	case $1 in
	*[!A-Za-z0-9._~/-]*)
		python3 -c 'import html, sys, urllib.parse
s, how = sys.argv[1], sys.argv[2]
s = html.unescape(s) if how == "xml" else s
print(urllib.parse.quote(s, safe="-_.~/" if how == "path" else "-_.~"))' \
		    "$1" "${2:-}" ;;
	*)
		if [ "${2:-}" = path ]; then
			printf '%s\n' "$1"
		else
			printf '%s\n' "$1" | sed 's|/|%2F|g'
		fi ;;
	esac
}

# s3_has BUCKET N [PREFIX]: BUCKET holds at least N objects (for
# wait_until); after a second's pause when not, as a listing of many keys
# costs the gateway a good part of a core.
s3_has() {
	[ "$(s3_count "$1" "${3:-}")" -ge "$2" ] 2>/dev/null && return
	sleep 1
	return 1
}

# s3_keys BUCKET [PREFIX]: the keys, one a line, sorted.
s3_keys() {
	s3 s3api list-objects-v2 --bucket "$1" --prefix "${2:-}" \
	    --query 'Contents[].Key' --output json |
	    python3 -c 'import json,sys; [print(k) for k in sorted(json.load(sys.stdin) or [])]'
}


# s3_topic NAME URL: makes (or points again) the RGW topic NAME, pushing
# to URL over HTTP, and prints its ARN. Non-persistent: RGW posts each
# event before it answers the upload, and drops it if URL does not answer
# (a persistent topic's queue stalls on RGW 16 after one failed push).
# RGW posts with no credentials: it refuses a user:password URL over
# plain HTTP, and sends no other header a webhook could check.
s3_topic() {
	s3 sns create-topic --name "$1" --attributes "$(python3 -c '
import json, sys
print(json.dumps({"push-endpoint": sys.argv[1], "persistent": "false"}))' "$2")" \
	    --query TopicArn --output text
}

# s3_notify BUCKET ARN [PREFIX]: BUCKET sends the topic ARN every object
# created or removed (under PREFIX).
s3_notify() {
	s3 s3api put-bucket-notification-configuration --bucket "$1" \
	    --notification-configuration "$(python3 -c '
import json, sys
c = {"Id": "objtrigger", "TopicArn": sys.argv[1],
     "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
if sys.argv[2]:
    c["Filter"] = {"Key": {"FilterRules": [{"Name": "prefix", "Value": sys.argv[2]}]}}
print(json.dumps({"TopicConfigurations": [c]}))' "$2" "${3:-}")"
}

# amqp_config FILE BROKER-ATTRIBUTES WATCH-ATTRIBUTES TRIGGER-ATTRIBUTES
# TRANSFORM [MORE]: a config with the store "rgw", the broker "mq" at
# $RABBITMQ_URL on the exchange "objtrigger" (BROKER-ATTRIBUTES: more, or
# others), an amqp watch "in" on it (WATCH-ATTRIBUTES: queue= and the
# rest), one trigger "t" with TRANSFORM writing to $T/out/{key}, and MORE
# (XML: an <http>) put in as it is.
amqp_config() {
	s3_credentials
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="5s"/>
  ${6:-}
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred" timeout="5s" connect-timeout="2s"/>
  <broker name="mq" url="$RABBITMQ_URL" exchange="objtrigger" $2/>
  <watch name="in" type="amqp" broker="mq" store="rgw" $3/>
  <trigger name="t" watch="in" $4>
    $5
    <output path="$T/out/{key}"/>
    <retry attempts="3" backoff="200ms" max-backoff="1s"/>
  </trigger>
</objtrigger>
XML
}

# amqp_topic NAME: makes the RGW topic NAME pushing to the broker's
# exchange "objtrigger" with NAME as the routing key, persistent (RGW
# queues each event and sends it after answering the upload, again until
# the broker confirms it) and acked by the broker; prints its ARN.
amqp_topic() {
	s3 sns create-topic --name "$1" --attributes "$(python3 -c '
import json, sys
print(json.dumps({"push-endpoint": sys.argv[1], "amqp-exchange": "objtrigger",
                  "amqp-ack-level": "broker", "persistent": "true"}))' \
	    "amqp://127.0.0.1:$RABBITMQ_PORT")" --query TopicArn --output text
}

# amqp_instance N FILE: the config FILE with its state, counting log and
# daemon log of instance N ($T/stateN, $T/runsN.log), as ot-N.xml.
amqp_instance() {
	sed -e "s|$T/state|$T/state$1|" -e "s|$T/runs.log|$T/runs$1.log|" \
	    "$2" >"$T/ot-$1.xml"
}

# amqp_start N: starts instance N (amqp_instance) in the background,
# logging to $T/dN.log, and waits until it consumes its queue. Every
# instance is killed when the case exits.
amqp_start() {
	_amqp_n=$(grep -c 'info: broker .*: connected to' "$T/d$1.log" 2>/dev/null)
	"$OBJTRIGGER" run -c "$T/ot-$1.xml" >>"$T/d$1.log" 2>&1 &
	eval "AMQP_PID$1=\$!"
	AMQP_PIDS="${AMQP_PIDS:-} $!"
	trap 'kill -9 $AMQP_PIDS 2>/dev/null; cleanup' EXIT
	wait_until 60 _amqp_connected "$1" "${_amqp_n:-0}" ||
	    { cat "$T/d$1.log"; fail "instance $1 did not connect"; }
}
_amqp_connected() {
	[ "$(grep -c 'info: broker .*: connected to' "$T/d$1.log")" -gt "$2" ]
}

# amqp_kill N: SIGKILL to instance N.
amqp_kill() {
	eval "_amqp_p=\$AMQP_PID$1"
	kill -9 "$_amqp_p"
	wait "$_amqp_p" 2>/dev/null
}

# amqp_stop N: SIGTERM to instance N, which must exit 0 within 30 s.
amqp_stop() {
	eval "_amqp_p=\$AMQP_PID$1"
	kill -TERM "$_amqp_p"
	wait "$_amqp_p"
	_amqp_st=$?
	[ "$_amqp_st" = 0 ] ||
	    { tail "$T/d$1.log"; fail "instance $1 exited $_amqp_st"; }
}

# amqp_bucket NAME: a fresh bucket NAME whose new objects RGW sends to the
# broker through the topic named after the case (s3.tap made it, so RGW
# holds its queue by now), routing key the case's name too.
amqp_bucket() {
	rgw_bucket "$1" &&
	    s3_notify "$1" "arn:aws:sns:default::$AMQP_TOPIC"
}

# amqp_upload DIR BUCKET [PREFIX]: every file of DIR into BUCKET, 20 at once.
amqp_upload() {
	aws configure set default.s3.max_concurrent_requests 20
	s3 s3 cp --recursive --quiet "$1" "s3://$2/${3:-}"
}
