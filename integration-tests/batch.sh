#!/bin/sh
# batch.sh - batching triggers: 2,500 files with batch-size 1000 become
# three archives holding exactly those files; a crash mid-batch loses none.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/archive.so" ] || skip "built without libarchive"
command -v bsdtar >/dev/null || skip "no bsdtar"

mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="pack" watch="in" batch-size="1000" batch-window="2s"
      existing="run">
    <transform plugin="archive">
      <param name="format" value="tar"/>
      <param name="name" value="{trigger}-{job}.{format}"/>
    </transform>
    <output path="$T/packed/{name}"/>
  </trigger>
</objtrigger>
XML
i=0
while [ $i -lt 2500 ]; do
	printf 'file %s\n' $i >"inbox/f$i.txt"
	i=$((i + 1))
done
touch -d '1 minute ago' inbox/*

# entries: every entry of every archive, sorted.
entries() {
	for a in packed/*.tar; do
		[ -e "$a" ] && bsdtar -tf "$a"
	done | sort
}
all_in() {
	[ "$(entries | sort -u | wc -l)" -ge 2500 ]
}

# Killed as soon as the first batch is under way, then started again.
start_daemon ot.xml
wait_until 30 grep -q 'job .* done\|"job"' daemon.log || true
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
start_daemon ot.xml
wait_until 60 all_in || fail "only $(entries | sort -u | wc -l) files packed"
sleep 3
stop_daemon

ls inbox | sort >want
entries | sort -u >got
cmp want got || fail "the archives do not hold exactly the 2500 files"
[ "$(entries | wc -l)" = 2500 ] || fail "$(entries | wc -l) entries: some twice"
[ "$(ls packed | wc -l)" = 3 ] || { ls -l packed; fail "not 3 archives"; }
expect daemon.log "done: trigger=pack key=f"
exit 0
