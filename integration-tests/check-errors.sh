#!/bin/sh
# check-errors.sh - bad configs: every error, each with its file and line.
# Each file in config/tests/bad/ lists what check must say in comments:
#   <!-- expect: LINE: TEXT -->
. "$top_srcdir/integration-tests/lib.sh"

n=0
for f in "$top_srcdir"/config/tests/bad/*.xml; do
	run 1 "$OBJTRIGGER" check -c "$f"
	no_sanitizer_report
	want=$(grep -c '<!-- expect: ' "$f")
	[ "$want" -ge 1 ] || fail "$f expects nothing"
	grep -o '<!-- expect: .* -->' "$f" | sed 's/<!-- expect: \(.*\) -->/\1/' |
	while IFS= read -r e; do
		expect "$T/stderr" "$f:$e"
	done || exit 1
	expect "$T/stderr" "$f: $want error"
	n=$((n + 1))
done
echo "checked $n bad configs"

# Five distinct errors in one file: all five, with their lines.
cat >five.xml <<'XML'
<objtrigger>
  <workers timeout="5 seconds"/>
  <watch name="in" type="folder"/>
  <trigger name="t" watch="in">
    <transform plugin="exec"><param name="arg" value="true"/><param name="colour" value="red"/></transform>
  </trigger>
  <trigger name="t" watch="in">
    <transform plugin="thumbnailer"/>
  </trigger>
</objtrigger>
XML
run 1 "$OBJTRIGGER" check -c five.xml
expect "$T/stderr" "five.xml:2: <workers timeout=\"5 seconds\">: '5 seconds' is not a duration"
expect "$T/stderr" "five.xml:3: <watch> needs the attribute 'path'"
expect "$T/stderr" "five.xml:5: plugin 'exec' has no parameter 'colour'"
expect "$T/stderr" "five.xml:7: a trigger named 't' is already defined at line 4"
expect "$T/stderr" "five.xml:8: no plugin named 'thumbnailer'"
expect "$T/stderr" "five.xml: 5 errors"

# A file that is not there, and a folder.
run 1 "$OBJTRIGGER" check -c missing.xml
expect "$T/stderr" "missing.xml: cannot read"
mkdir adir
run 1 "$OBJTRIGGER" check -c adir
no_sanitizer_report

# check verifies what it can without running: a state folder whose parent
# is missing or not writable is an error; a watched folder that does not
# exist is a warning if the daemon can make it, else an error.
cat >paths.xml <<XML
<objtrigger>
  <state path="$T/no/such/state"/>
  <watch name="later" type="folder" path="$T/later"/>
  <watch name="never" type="folder" path="$T/none/inbox"/>
</objtrigger>
XML
run 1 "$OBJTRIGGER" check -c paths.xml
expect stderr "paths.xml:2: <state path=\"$T/no/such/state\">: its parent folder does not exist"
expect stderr "paths.xml:3: warning: watch later: $T/later does not exist: the daemon makes it when it starts"
expect stderr "paths.xml:4: <watch name=\"never\">: $T/none/inbox does not exist, nor its parent folder"
: >afile
sed "s|$T/no/such/state|$T/afile/state|" paths.xml >paths2.xml
run 1 "$OBJTRIGGER" check -c paths2.xml
expect stderr "$T/afile is not a folder"
