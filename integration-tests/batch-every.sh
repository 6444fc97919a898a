#!/bin/sh
# batch-every.sh - calendar batches: with batch-every, a trigger's inputs
# are batched by the local period they were queued in (periods start at
# local midnight: batch-every="day" is one archive per local day), each
# batch runs once its period has ended, with all of that period's inputs,
# and {period} names its output; the daemon logs one line per batch
# naming what it produced. Periods of 2 s stand in for days here (the
# unit test test-clock checks days, of 23 and 25 hours too).
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/archive.so" ] || skip "built without libarchive"
command -v bsdtar >/dev/null || skip "no bsdtar"

# Values check refuses.
for bad in 'batch-every="7s"' 'batch-every="1500ms"' 'batch-every="week"' \
    'batch-every="day" batch-window="1m"'; do
	cat >bad.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="pack" watch="in" $bad>
    <transform plugin="archive"/>
    <output path="$T/packed/{period}.tar.gz"/>
  </trigger>
</objtrigger>
XML
	run 1 "$OBJTRIGGER" check -c bad.xml
	expect "$T/stderr" "batch-"
done

mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="pack" watch="in" batch-every="2s">
    <transform plugin="archive">
      <param name="format" value="tar"/>
    </transform>
    <output path="$T/packed/{period}.tar"/>
  </trigger>
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml
start_daemon ot.xml
# Files in three bursts, a period or more apart.
for burst in 1 2 3; do
	for i in 1 2 3 4 5; do
		echo "$burst $i" >"inbox/b$burst-$i.txt"
	done
	sleep 2.5
done
wait_until 30 logged 15 'done: trigger=pack' || { cat daemon.log; fail "not 15 jobs done"; }
stop_daemon

# Every file in exactly one archive, each named after its period, made
# after that period's end, holding files queued in that period.
python3 - daemon.log packed <<'PY' || { cat daemon.log; ls -l --full-time packed; fail "the batches are wrong"; }
import datetime, os, re, subprocess, sys
log, packed = open(sys.argv[1]).read(), sys.argv[2]
seen = []
for a in sorted(os.listdir(packed)):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d{6})\.tar", a)
    assert m, "archive %r is not named after a 2 s period" % a
    start = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H%M%S").timestamp()
    assert start % 2 == 0, "period %s does not start on an even second" % a
    made = os.stat(os.path.join(packed, a)).st_mtime
    assert made >= start + 2, "%s was made before its period ended" % a
    names = subprocess.run(["bsdtar", "-tf", os.path.join(packed, a)],
        capture_output=True, text=True, check=True).stdout.split()
    bursts = {n.split("-")[0] for n in names}
    assert len(bursts) == 1, "%s mixes bursts: %r" % (a, names)
    seen += names
    # Its batch's line names it.
    line = re.search(r"info: batch of (\d+) jobs? from job \d+ done: "
                     r"trigger=pack period=%s outputs=(\S+)" % m.group(1), log)
    assert line, "no batch line for %s" % a
    assert int(line.group(1)) == len(names), line.group(0)
    assert line.group(2).endswith("/" + a), line.group(0)
want = ["b%d-%d.txt" % (b, i) for b in (1, 2, 3) for i in range(1, 6)]
assert sorted(seen) == sorted(want), sorted(seen)
PY
expect daemon.log "done: trigger=pack key=b1-1.txt"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
