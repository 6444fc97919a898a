#!/bin/sh
# log-escape.sh - no file name, key or sender's value can forge a log line
# or send a terminal escape sequence: in text logs control bytes and bytes
# that are not UTF-8 are written as \xNN, and each line starts with the
# daemon's own prefix; in JSON logs every line is one valid JSON object,
# even for a name that is not UTF-8.
. "$top_srcdir/integration-tests/lib.sh"

ESC=$(printf '\033')
FORGED='2026-01-01 objtrigger: error: forged'

# only_own_lines LOG: every line of LOG starts with the daemon's prefix,
# none with the forged text, and none holds an ESC byte.
only_own_lines() {
	if grep -a -q -v -E '^objtrigger( worker)?: (error|warning|info|debug): ' "$1"; then
		grep -a -n -v -E '^objtrigger( worker)?: (error|warning|info|debug): ' "$1" | cat -v
		fail "a line of $1 does not start with the daemon's prefix"
	fi
	if grep -a -q -E -- "^$FORGED" "$1"; then
		grep -a -n -E -- "^$FORGED" "$1" | cat -v
		fail "a forged line in $1"
	fi
	if grep -a -q -F -- "$ESC" "$1"; then
		grep -a -n -F -- "$ESC" "$1" | cat -v
		fail "an escape sequence went through to $1"
	fi
}

# logged_json TEXT: json.log has a line holding TEXT (for wait_until).
logged_json() {
	grep -qF -- "$1" json.log
}

# 1. A folder watch, text logs with the debug lines (which name each file
# queued), and a name holding a newline, a fake line and an ESC sequence.
use_test_plugins
mkdir inbox
counting_config ot.xml
DAEMON_OPTS=-v start_daemon ot.xml
name=$(printf 'x\n%s\033[31m by a name\377.txt' "$FORGED")
printf 'data\n' >"inbox/$name" || exit 99
wait_until 20 has_files outbox 1 || { cat daemon.log; fail "the file was not processed"; }
wait_until 20 logged 1 'job [0-9]+ done' || { cat daemon.log; fail "no job end logged"; }
stop_daemon
cp daemon.log stderr && no_sanitizer_report
only_own_lines daemon.log
expect daemon.log 'queued: trigger=count key="x\x0a2026-01-01 objtrigger: error: forged\x1b[31m by a name\xff.txt"'
expect daemon.log 'key="x\x0a2026-01-01 objtrigger: error: forged\x1b[31m by a name\xff.txt"'
mv daemon.log text.log

# 2. The same daemon with JSON logs, on a name that is not UTF-8 and holds
# a newline: every line valid JSON, the name's bytes in it as \xNN.
name=$(printf 'y\n%s \376\377.txt' "$FORGED")
printf 'data\n' >"inbox/$name" || exit 99
OBJTRIGGER_LOG_FORMAT=json "$OBJTRIGGER" -v run -c ot.xml >json.log 2>&1 &
DAEMON_PID=$!
wait_until 30 logged_json 'job ended' ||
    { cat json.log; fail "the JSON daemon ran no job"; }
stop_daemon
cp json.log stderr && no_sanitizer_report
python3 - json.log "$name" <<'PY' || { cat json.log; fail "the JSON log is wrong"; }
import json, sys
want = sys.argv[2].encode("utf-8", "surrogateescape")
want = "".join(chr(b) if b < 0x80 else "\\x%02x" % b for b in want)
queued = ended = 0
with open(sys.argv[1], "rb") as f:
    for n, raw in enumerate(f, 1):
        try:
            line = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (n, e, raw))
        if not isinstance(line, dict) or "msg" not in line:
            sys.exit("line %d is not a log object: %r" % (n, raw))
        if line["msg"] == "job queued" and line.get("key") == want:
            queued += 1
        if line["msg"] == "job ended" and line.get("key") == want:
            ended += 1
if queued != 1 or ended != 1:
    sys.exit("%d queued and %d ended lines for %r" % (queued, ended, want))
PY

# 3. A webhook: an SNS subscription whose TopicArn and SubscribeURL hold a
# fake line (with CR LF) and escape sequences, an event of an unknown
# source named so, and a record whose key (URL-encoded, as AWS sends it)
# does the same. Whatever the daemon makes of them, no line is forged.
PORT=$(free_port) && DEAD=$(free_port) || fail "no free port"
printf 'access-key = AK\nsecret-key = SK\n' >cred
chmod 600 cred
cat >hook.xml <<XML
<objtrigger>
  <state path="$T/hook-state"/>
  <workers count="1" timeout="20s" grace="5s"/>
  <http listen="127.0.0.1:$PORT"/>
  <store name="s3" endpoint="http://127.0.0.1:$DEAD" region="default"
         credentials-file="$T/cred" timeout="2s" connect-timeout="1s"/>
  <watch name="in" type="s3-webhook" path="/events/in" store="s3"/>
  <trigger name="t" watch="in">
    <transform plugin="copy"/>
    <output path="$T/hook-out/{key}"/>
    <retry attempts="5" backoff="60s" max-backoff="60s"/>
  </trigger>
</objtrigger>
XML
python3 - "$top_srcdir/watcher/tests/events" "$FORGED" <<'PY' || fail "cannot make the bodies"
import json, sys
ev, forged = sys.argv[1], sys.argv[2]
def load(name):
    with open("%s/%s.json" % (ev, name)) as f:
        return json.load(f)
def save(name, body):
    with open(name + ".json", "w") as f:
        json.dump(body, f)
m = load("sns-subscription-confirmation")
m["TopicArn"] = "arn:aws:sns:us-west-2:1:t\n" + forged + " by TopicArn\033]0;title\007"
m["SubscribeURL"] = "https://sns.us-west-2.amazonaws.com/?x\r\n" + forged + " by SubscribeURL\033[2J"
save("sns", m)
save("source", {"Records": [{"eventName": "ObjectCreated:Put",
                             "eventSource": "x\n" + forged}]})
save("type", {"Type": "x\n" + forged, "TopicArn": "arn"})
r = load("aws-s3-put")
r["Records"][0]["s3"]["object"]["key"] = (
    "k%0A2026-01-01+objtrigger%3A+error%3A+forged+by+a+key%1B%5B2J")
save("key", r)
PY
DAEMON_OPTS=-v start_daemon hook.xml
wait_until 20 http_up "http://127.0.0.1:$PORT/healthz" ||
    { cat daemon.log; fail "no /healthz"; }
for body in sns source type key; do
	code=$(http_code "http://127.0.0.1:$PORT/events/in" \
	    -H 'Content-Type: application/json' --data-binary "@$body.json")
	case $code in
	2??|400) ;;
	*) cat "$T/body"; fail "$body: answered $code" ;;
	esac
done
wait_until 10 logged 1 'SNS asks to confirm' ||
    { cat daemon.log; fail "the subscription was not logged"; }
wait_until 10 logged 1 'unknown eventSource' ||
    { cat daemon.log; fail "the unknown eventSource was not logged"; }
wait_until 10 logged 1 'unknown SNS Type' ||
    { cat daemon.log; fail "the unknown SNS Type was not logged"; }
stop_daemon
cp daemon.log stderr && no_sanitizer_report
only_own_lines daemon.log
expect daemon.log 'confirm the subscription to arn:aws:sns:us-west-2:1:t\x0a2026-01-01 objtrigger: error: forged by TopicArn\x1b]0;title\x07: https://sns.us-west-2.amazonaws.com/?x\x0d\x0a2026-01-01 objtrigger: error: forged by SubscribeURL\x1b[2J'
expect daemon.log 'queued: trigger=t key="k\x0a2026-01-01 objtrigger: error: forged by a key\x1b[2J"'
exit 0
