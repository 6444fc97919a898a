# backfill.sh - existing objects and backfills of a bucket watch: a
# trigger added by reload with existing="skip" runs none of the 2,000
# objects already there; objtrigger backfill --wait lists the bucket page
# by page and runs each once (a bar on a terminal, plain lines elsewhere),
# a second backfill queues nothing, --rerun runs them all again.
. "$top_srcdir/integration-tests/s3lib.sh"

N=${S3_BACKFILL:-2000}
use_test_plugins
s3_credentials
rgw_bucket backfill || fail "no bucket"
mkdir up
i=0
while [ $i -lt "$N" ]; do
	[ $((i % 500)) != 0 ] || mkdir "up/d$((i / 500))"
	echo "$i" >"up/d$((i / 500))/o$i"
	i=$((i + 1))
done
aws configure set default.s3.max_concurrent_requests 20
run 0 s3 s3 cp --recursive --quiet up s3://backfill/

# config FILE [TRIGGER-ATTRIBUTES]: the watch, and with attributes the
# trigger "t" too.
config() {
	{
		cat <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="5s"/>
  <store name="rgw" endpoint="$RGW_ENDPOINT" region="default"
         credentials-file="$T/rgw.cred" timeout="5s" connect-timeout="2s"/>
  <watch name="in" type="s3-poll" store="rgw" bucket="backfill" interval="1s"/>
  <trigger name="other" watch="in" match="*.other">
    <transform plugin="counting"><param name="log" value="$T/other.log"/></transform>
    <output path="$T/other/{key}"/>
  </trigger>
XML
		[ $# -lt 2 ] || cat <<XML
  <trigger name="t" watch="in" $2>
    <transform plugin="counting"><param name="log" value="$T/runs.log"/></transform>
    <output path="$T/outbox/{key}"/>
  </trigger>
XML
		echo "</objtrigger>"
	}>"$1"
}

# Each object ran N times, and no other did.
ran_each() {
	[ "$(wc -l <runs.log)" = $((N * $1)) ] &&
	    [ "$(sort runs.log | uniq -c | awk -v n="$1" '$1 != n' | wc -l)" = 0 ]
}

config ot.xml
start_daemon ot.xml
wait_until 60 logged 1 "trigger other: 0 objects already in watch in skipped" ||
    fail "the first listing did not end"

# Added by reload to the watch, with existing="skip": its next listing
# hands the new trigger what it finds unchanged, and it runs none of it.
config ot.xml 'existing="skip"'
kill -HUP "$DAEMON_PID"
wait_until 60 logged 1 "trigger t: $N objects already in watch in skipped \(existing=skip; objtrigger backfill t runs them\)" ||
    fail "no line about the skipped objects"
sleep 2
[ ! -e runs.log ] || fail "existing objects ran: $(wc -l <runs.log)"

# On a terminal: a bar redrawn in place, then the summary.
script -qec "'$OBJTRIGGER' backfill -c ot.xml --wait t" /dev/null \
    >tty.out </dev/null || fail "backfill --wait under a terminal failed: $(tail -c 500 tty.out)"
ran_each 1 || fail "the backfill did not run each object once: $(wc -l <runs.log) runs"
grep -q "$(printf '\r')backfill t: list" tty.out || fail "no bar redrawn in place"
grep -qE "jobs \[#{20}\] $N/$N" tty.out || fail "the bar did not fill"
expect tty.out "backfill t: $N seen, $N queued, 0 already run or queued, 0 skipped; $N jobs done, 0 dead, 0 skipped in"
sed -n 's/.*\(in [0-9.]*s ([0-9]*\/s)\).*/# terminal: &/p' tty.out | tail -1

# Without a terminal: plain lines; nothing left to queue.
run 0 "$OBJTRIGGER" backfill -c ot.xml --wait t
expect "$T/stdout" "backfill t: $N seen, 0 queued, $N already run or queued, 0 skipped"
grep -qE "^backfill t: listed: $N seen, 0 queued, $N already run or queued, 0 skipped, [0-9]+/s; jobs: 0 of 0 ended" "$T/stderr" ||
    fail "no plain progress line: $(cat "$T/stderr")"
! grep -q "$(printf '\r')" "$T/stderr" || fail "plain progress has carriage returns"

# --rerun runs every object again; --prefix lists below the watch's.
run 0 "$OBJTRIGGER" backfill -c ot.xml --wait --rerun --quiet t
[ ! -s "$T/stderr" ] || fail "--quiet wrote progress: $(cat "$T/stderr")"
expect "$T/stdout" "backfill t: $N seen, $N queued, 0 already run or queued, 0 skipped; $N jobs done"
ran_each 2 || fail "--rerun did not run each object once more"
run 0 "$OBJTRIGGER" backfill -c ot.xml --dry-run --quiet --rerun --prefix d1/ t
expect "$T/stdout" "backfill t: 500 seen, 500 to queue (dry run)"
stop_daemon
[ ! -e other.log ] || fail "the other trigger ran"
exit 0
