#!/bin/sh
# http-limits.sh - the HTTP server holds against slow and greedy clients:
# a client trickling its headers is cut at header-timeout, one address
# cannot take every connection (/healthz still answers), and paths are
# matched as sent (no %XX decoding: /events/%69n is not /events/in).
. "$top_srcdir/integration-tests/lib.sh"

command -v curl >/dev/null || skip "no curl"
port=$(free_port) || fail "no free port"
url=http://127.0.0.1:$port
printf 'access-key = a\nsecret-key = b\n' >cred
chmod 600 cred
use_test_plugins
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="20s" grace="2s"/>
  <http listen="127.0.0.1:$port" max-connections="64"
        max-connections-per-client="32" header-timeout="2s"
        body-timeout="2s"/>
  <store name="s" endpoint="http://127.0.0.1:1" credentials-file="$T/cred"/>
  <watch name="hook" type="s3-webhook" path="/events/in" store="s"/>
  <trigger name="t" watch="hook">
    <transform plugin="copy"/>
    <output path="$T/out/{key}"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml
start_daemon ot.xml
wait_until 20 http_up "$url/healthz" || fail "no server"

# Paths are matched as sent.
test_event='{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}'
[ "$(http_code "$url/events/in" --data-binary "$test_event")" = 200 ] ||
    fail "the webhook's own path: $(cat "$T/body")"
for p in '/events/%69n' '/events/in%00x' '/events/in%2F' '/%65vents/in'; do
	code=$(http_code "$url$p" --data-binary "$test_event")
	[ "$code" = 404 ] || fail "$p was taken for /events/in ($code)"
done

# slow SOURCE-ADDRESS N SECONDS PART: N clients from that address, each
# sending a request a byte every 0.2 s for SECONDS; prints how many were
# cut off by the server before they were done.
slow() {
	/usr/bin/python3 - "$port" "$@" <<'PY'
import socket, sys, threading, time
port, src, n, secs, part = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
head = b"POST /events/in HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
if part == "body":
    head += b"\r\n"
trickle = b"X-A: b\r\n" if part == "headers" else b"x"
cut = []
def client():
    try:
        s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0))
    except OSError:
        cut.append(1)
        return
    end = time.time() + secs
    i = 0
    try:
        s.sendall(head)
        while time.time() < end:
            s.sendall(trickle[i % len(trickle):i % len(trickle) + 1])
            i += 1
            time.sleep(0.2)
        s.settimeout(1)
        if s.recv(1) == b"":
            cut.append(1)
    except socket.timeout:
        pass
    except OSError:
        cut.append(1)
threads = [threading.Thread(target=client) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(len(cut))
PY
}

# 64 clients of one address trickle headers; meanwhile another address
# gets /healthz answered, and so does that address once they are cut.
slow 127.0.0.1 64 12 headers >cut1 &
slow_pid=$!
sleep 1
curl --noproxy '*' -s --max-time 10 --interface 127.0.0.2 -o /dev/null \
    -w '%{http_code}' "$url/healthz" >code || true
[ "$(cat code)" = 200 ] || fail "/healthz did not answer while one address trickled ($(cat code))"
wait "$slow_pid"
[ "$(cat cut1)" = 64 ] || fail "only $(cat cut1) of 64 header tricklers were cut off or refused"
[ "$(http_code "$url/healthz")" = 200 ] || fail "/healthz after the tricklers"

# A body trickled past body-timeout is cut too.
[ "$(slow 127.0.0.3 4 12 body)" = 4 ] || fail "a trickled body was not cut off"
[ "$(http_code "$url/healthz")" = 200 ] || fail "/healthz after the body tricklers"
# A body of tiny JSON elements is refused past the memory budget (16
# times its size), not parsed into some 40 times its size.
/usr/bin/python3 -c 'import sys; sys.stdout.write("[" + "0," * 499999 + "0]")' >zeros.json
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
before=$(hwm)
code=$(http_code "$url/events/in" --data-binary @zeros.json)
[ "$code" = 400 ] || fail "a body of 500,000 zeros: $code $(cat "$T/body")"
expect "$T/body" "times its size in memory"
echo "peak RSS of the daemon: $before kB before, $(hwm) kB after a 1 MB body of zeros"
stop_daemon
no_sanitizer_report
