#!/bin/sh
# webhook-full-disk.sh - a webhook whose journal is on a full disk answers
# 503 with Retry-After (the sender keeps the events), /healthz says why,
# and once there is room again both work; the daemon never stops.
. "$top_srcdir/integration-tests/lib.sh"

command -v curl >/dev/null || skip "no curl"
mkdir full
mount -t tmpfs -o size=1m tmpfs full 2>/dev/null ||
    skip "cannot mount a small tmpfs here (not root, or no mount rights)"
cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	sleep 0.2
	umount "$T/full" 2>/dev/null
	rm -rf "$T"
}

port=$(free_port) || fail "no free port"
url=http://127.0.0.1:$port
printf 'access-key = a\nsecret-key = b\n' >cred
chmod 600 cred
use_test_plugins
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/full/state"/>
  <workers count="1" timeout="20s" grace="2s"/>
  <http listen="127.0.0.1:$port"/>
  <store name="s" endpoint="http://127.0.0.1:1" credentials-file="$T/cred"/>
  <watch name="hook" type="s3-webhook" path="/events" store="s"/>
  <trigger name="t" watch="hook">
    <transform plugin="copy"/>
    <output path="$T/outbox/{key}"/>
    <retry attempts="5" backoff="1h" max-backoff="1h"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml

# event N: a notification of the object kN, with a long key so that the
# journal needs new pages for it.
event() {
	printf '{"Records":[{"eventSource":"ceph:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k%s-%0500d","size":1,"eTag":"e%s"}}}]}' \
	    "$1" 0 "$1"
}
post() {
	event "$1" | curl -s -o answer -D headers -w '%{http_code}' \
	    --data-binary @- "$url/events"
}

[ "$(post 1)" = 200 ] || fail "the first event: $(cat answer)"
dd if=/dev/zero of=full/filler bs=1k count=2048 2>/dev/null
full=0
for i in $(seq 2 40); do
	code=$(post "$i")
	[ "$code" = 200 ] && continue
	[ "$code" = 503 ] || fail "event $i on a full disk: $code $(cat answer)"
	grep -qi '^Retry-After: ' headers || fail "a 503 without Retry-After"
	full=$((full + 1))
done
[ "$full" -gt 0 ] || fail "no event was refused on a full disk"
health=$(curl -s -w ' %{http_code}' "$url/healthz")
case $health in
*"cannot take writes"*"full"*503) ;;
*) fail "/healthz on a full disk: $health" ;;
esac
kill -0 "$DAEMON_PID" || fail "the daemon died on a full disk"

rm full/filler
[ "$(post 41)" = 200 ] || fail "with room again: $(cat answer)"
[ "$(curl -s -w ' %{http_code}' "$url/healthz")" = "ok
 200" ] || fail "/healthz with room again"
stop_daemon
grep -q 'commit: database or disk is full' daemon.log ||
    fail "the log does not say the disk is full"
