# wrong-secret.sh - a wrong secret key: check --connect and the daemon name
# the store and S3's error; the daemon neither crashes nor spins.
. "$top_srcdir/integration-tests/s3lib.sh"

rgw_bucket secret || fail "no bucket"
s3_config ot.xml \
    'type="s3-poll" store="rgw" bucket="secret" interval="200ms"' '' \
    '<transform plugin="copy"/>' "<output path=\"$T/out/{key}\"/>"
printf 'access-key = %s\nsecret-key = not-the-secret\n' "$RGW_ACCESS_KEY" >"$T/rgw.cred"
run 1 "$OBJTRIGGER" check --connect -c ot.xml
expect "$T/stdout" "store rgw: bucket secret: 403 SignatureDoesNotMatch"
start_daemon ot.xml
sleep 5
kill -0 "$DAEMON_PID" || fail "the daemon died"
ticks=$(awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat")
stop_daemon
expect daemon.log "error: watch in: store rgw: listing: 403 SignatureDoesNotMatch"
[ "$(grep -c 'SignatureDoesNotMatch' daemon.log)" = 1 ] || fail "said more than once"
# 25 listings in 5 s; a busy loop would burn the whole 5 s of CPU.
[ "$ticks" -lt 200 ] || fail "the daemon used $ticks ticks of CPU in 5 s"
chmod 644 "$T/rgw.cred"
run 1 "$OBJTRIGGER" check -c ot.xml
expect "$T/stderr" "can be read by others than its owner: chmod 600"
exit 0
