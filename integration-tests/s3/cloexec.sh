# cloexec.sh - every descriptor the daemon and its workers hold, libcurl's
# connections to the store included, is close-on-exec: none can reach a
# command or a process started later.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket fds-in && rgw_bucket fds-out || fail "no buckets"
printf 'x\n' >x
run 0 s3 s3api put-object --bucket fds-in --key a.txt --body x
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="fds-in" interval="500ms" start="beginning"' \
    '' '<transform plugin="exec"><param name="arg" value="sleep"/><param name="arg" value="3"/></transform>' \
    '<output store="rgw" bucket="fds-out" key="{key}"/>'
start_daemon ot.xml
wait_until 30 pgrep -P "$DAEMON_PID" >/dev/null || fail "no worker"
sleep 1 # the worker fetched the object: its connection is open
# open_fds PID: "fd flags" of each descriptor from 3 up.
bad=
for pid in "$DAEMON_PID" $(pgrep -P "$DAEMON_PID"); do
	for f in /proc/"$pid"/fdinfo/*; do
		fd=${f##*/}
		[ "$fd" -ge 3 ] || continue
		flags=$(awk '/^flags:/ { print $2 }' "$f" 2>/dev/null) || continue
		[ -n "$flags" ] || continue
		# O_CLOEXEC is 02000000 in fdinfo's octal flags.
		[ $(( 0$flags & 02000000 )) -ne 0 ] ||
		    bad="$bad $pid:$fd($(readlink "/proc/$pid/fd/$fd"))"
	done
done
stop_daemon
[ -z "$bad" ] || fail "descriptors without close-on-exec:$bad"
