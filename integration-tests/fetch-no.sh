#!/bin/sh
# fetch-no.sh - a trigger with fetch="no" on a folder watch: its command
# gets the event (key, size, event) and an empty file named as the watched
# one, never the watched file itself; the same trigger without it gets the
# bytes.
. "$top_srcdir/integration-tests/lib.sh"

mkdir inbox outbox full
# The probe writes what it was given into NAME.txt in its output folder
# (its working directory).
cat >probe.sh <<'SH'
name=${OBJTRIGGER_KEY##*/}
printf 'key=%s size=%s event=%s bytes=%s input=%s\n' "$OBJTRIGGER_KEY" \
    "$OBJTRIGGER_SIZE" "$OBJTRIGGER_EVENT" "$(wc -c)" \
    "$(readlink /proc/self/fd/3)" >"$name.txt"
SH

# trigger NAME OUTBOX FETCH: a trigger running the probe.
trigger() {
	cat <<XML
  <trigger name="$1" watch="in" fetch="$3">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="$T/probe.sh"/>
    </transform>
    <output path="$T/$2/{name}"/>
    <retry attempts="1"/>
  </trigger>
XML
}
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="30s" grace="2s"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"/>
$(trigger empty outbox no)
$(trigger bytes full yes)
</objtrigger>
XML
run 0 "$OBJTRIGGER" check -c ot.xml

start_daemon ot.xml
mkdir inbox/d
head -c 5000 /dev/urandom >"inbox/d/a b.bin"
wait_until 30 test -s "outbox/a b.bin.txt" -a -s "full/a b.bin.txt" ||
    { cat daemon.log; fail "no output"; }
stop_daemon
cat "outbox/a b.bin.txt"
expect "outbox/a b.bin.txt" "key=d/a b.bin size=5000 event=created bytes=0 "
expect "full/a b.bin.txt" "key=d/a b.bin size=5000 event=created bytes=5000 "
# The empty input is a file of the job's, named as the watched one.
grep -q " input=$T/state/jobs/.*/in/0/a b.bin\$" "outbox/a b.bin.txt" ||
    fail "fetch=no gave another input than an empty file of the job's"
grep -q " input=$T/inbox/d/a b.bin\$" "full/a b.bin.txt" ||
    fail "without fetch=no the command did not get the watched file"

# A bad value is refused with its line.
sed 's/fetch="no"/fetch="maybe"/' ot.xml >bad.xml
run 1 "$OBJTRIGGER" check -c bad.xml
expect "$T/stderr" 'bad.xml:5: <trigger fetch="maybe">'
no_sanitizer_report
exit 0
