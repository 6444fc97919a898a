#!/bin/sh
# log-json-wallpapers.sh - the daemon with --log-format json over real
# images (Debian's wallpaper packages, and a truncated copy of one, which
# libvips warns about), a thumbnail trigger and a command that prints on
# its standard output and error: every line the daemon and its workers
# print (stdout and stderr) is one JSON object, and each that concerns a
# job names it.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] || skip "built without libvips"
# The wallpapers of the packages build-aux/deps.sh installs for tests.
find /usr/share/backgrounds /usr/share/wallpapers -type f \
    \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) 2>/dev/null |
    LC_ALL=C sort | head -n "${WALLPAPERS:-60}" >images.txt
N=$(grep -c . images.txt)
[ "$N" -ge 5 ] || skip "no wallpaper packages (mate-backgrounds)"

mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="60s" grace="5s"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"/>
  <trigger name="thumbs" watch="in" match="*.jpg *.jpeg *.png" match-case="no">
    <transform plugin="thumbnail">
      <param name="size" value="128"/>
      <param name="format" value="webp"/>
    </transform>
    <output path="$T/thumbs/{dir}/{name}"/>
    <retry attempts="1"/>
  </trigger>
  <trigger name="talk" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="echo &quot;read \$OBJTRIGGER_KEY&quot;; printf 'two\tlines \&quot;quoted\&quot; \\\\ \033[31m\nand \377 more\n' >&amp;2; head -c 100 &quot;\$OBJTRIGGER_INPUT&quot; >head; case \$OBJTRIGGER_KEY in *broken*) echo cannot >&amp;2; exit 3;; esac"/>
    </transform>
    <output path="$T/heads/{dir}/{name}"/>
    <retry attempts="1"/>
  </trigger>
</objtrigger>
XML
"$OBJTRIGGER" -v run -c ot.xml --log-format json >daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 grep -q '"msg":"watching' daemon.log || { cat daemon.log; fail "the daemon did not start"; }

i=0
while read -r f; do
	i=$((i + 1))
	mkdir -p "inbox/$i"
	cp "$f" "inbox/$i/"
done <images.txt
head -c 20000 "$(grep -i '\.jpe*g$' images.txt | head -n 1)" >inbox/broken.jpg
jobs=$((2 * N + 2))
wait_until 600 logged "$jobs" '"msg":"job ended"' ||
    { tail daemon.log; fail "$(grep -c '"msg":"job ended"' daemon.log) of $jobs jobs ended"; }
stop_daemon
cp daemon.log stderr && no_sanitizer_report

python3 - daemon.log images.txt <<'PY' || fail "the JSON log is wrong"
import collections, json, os, sys
names = [os.path.basename(l.strip()) for l in open(sys.argv[2]) if l.strip()]
names.append("broken.jpg")
n = len(names) - 1
ended = collections.Counter()
nameless = []
output = warnings = 0
with open(sys.argv[1], "rb") as f:
    for i, raw in enumerate(f, 1):
        try:
            line = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            sys.exit("line %d is not JSON (%s): %r" % (i, e, raw))
        if not isinstance(line, dict) or "msg" not in line or "level" not in line:
            sys.exit("line %d is not a log object: %r" % (i, raw))
        msg = line["msg"]
        # A line about a job names it, by its number: its end, its queueing,
        # what its command printed, what its plugin's library said. A
        # worker's line names its job, or what it does outside one.
        about_job = msg.startswith("job ") or any(k in msg for k in names) \
            or ("job" in line and line["job"] not in ("warm-up", "check"))
        if about_job and not (isinstance(line.get("job"), int) and line.get("trigger")):
            nameless.append("line %d concerns a job but names none: %r" % (i, raw))
        if line.get("process", "").endswith("worker") and "job" not in line:
            nameless.append("line %d of a worker names no job: %r" % (i, raw))
        if msg == "job ended":
            ended[(line["trigger"], line["result"])] += 1
        if line.get("plugin") == "exec" and "two\tlines" in msg:
            output += 1
        if line.get("trigger") == "thumbs" and line.get("level") == "warning":
            warnings += 1
if nameless:
    sys.exit("\n".join(nameless[:10] + ["%d lines in all" % len(nameless)]))
thumbs = ended[("thumbs", "done")] + ended[("thumbs", "dead")]
if ended[("talk", "done")] != n or ended[("talk", "dead")] != 1 or thumbs != n + 1:
    sys.exit("job ends: %r" % dict(ended))
if output != n + 1:
    sys.exit("%d lines of the commands' output for %d jobs" % (output, n + 1))
print("# %d lines, %d job ends, %d lines of command output, %d libvips warnings"
      % (i, sum(ended.values()), output, warnings))
PY
[ "$(find thumbs -name '*.webp' | wc -l)" -ge "$N" ] || fail "not $N thumbnails"
exit 0
