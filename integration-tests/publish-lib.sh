# publish-lib.sh - shared by the cases of watches that publish to a broker
# (integration-tests/s3/amqp-publish*.sh): their config, uploads, the
# journal's outbox, and what a consumer got.

# publish_config FILE HTTP-PORT WATCH ATTRIBUTES: a config with the store
# "rgw", the broker "mq" (exchange objtrigger, short heartbeats) and the
# watch WATCH (ATTRIBUTES: its type and more) publishing to it.
publish_config() {
	s3_credentials
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="30s" grace="2s"/>
  <http listen="127.0.0.1:$2"/>
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred" timeout="5s" connect-timeout="2s"/>
  <broker name="mq" url="$RABBITMQ_URL" exchange="objtrigger"
          heartbeat="2s" connect-timeout="1s"/>
  <watch name="$3" $4 publish="mq"/>
</objtrigger>
XML
}

# put BUCKET KEY: uploads KEY's own name as KEY (any characters), with
# rgw_curl: much faster than a client that starts a Python each time.
put() {
	echo "$2" | rgw_curl "/$1/$(s3_escape "$2" path)" -S -o /dev/null \
	    -X PUT --data-binary @-
}

# outbox: how many messages the journal's outbox holds.
outbox() {
	python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM outbox").fetchone()[0])' "$T/state/journal.db"
}

outbox_empty() {
	[ "$(outbox)" = 0 ]
}

# outbox_holds N: it holds at least N (for wait_until).
outbox_holds() {
	[ "$(outbox)" -ge "$1" ]
}

# consumed FILE...: the events of what amqp-client consume printed, a line
# each: "EVENT BUCKET KEY", decoded as objtrigger's consumers decode them.
consumed() {
	python3 -c 'import json, sys, urllib.parse
names = {"ObjectCreated": "created", "ObjectRemoved": "removed"}
for f in sys.argv[1:]:
    for line in open(f, encoding="utf-8"):
        body = json.loads(line.rstrip("\n").split("\t", 1)[1])
        for r in body["Records"]:
            o = r["s3"]["object"]
            print(names[r["eventName"].split(":")[0]], r["s3"]["bucket"]["name"],
                  urllib.parse.unquote_plus(o["key"]))' "$@"
}
