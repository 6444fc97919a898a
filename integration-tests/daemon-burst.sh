#!/bin/sh
# daemon-burst.sh - 10,000 files from 4 parallel writers, in folders made on
# the fly with mkdir -p (depth 4): every file once, byte for byte.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
counting_config ot.xml
start_daemon ot.xml

# writer W: 25 new folders of depth 4, 100 files in each.
writer() {
	d=0
	while [ $d -lt 25 ]; do
		dir=inbox/w$1/d$d/e/f
		mkdir -p "$dir"
		f=0
		while [ $f -lt 100 ]; do
			printf 'writer %s folder %s file %s\n' "$1" $d $f >"$dir/$f.txt"
			f=$((f + 1))
		done
		d=$((d + 1))
	done
}
start=$(date +%s)
pids=
for w in 1 2 3 4; do
	writer $w &
	pids="$pids $!"
done
wait $pids
[ "$(files inbox)" = 10000 ] || fail "the writers wrote $(files inbox) files"
wait_until 600 has_files outbox 10000 || fail "only $(files outbox) outputs"
sleep 1
echo "10000 files in $(($(date +%s) - start))s"
[ "$(files outbox)" = 10000 ] || fail "$(files outbox) outputs"
diff -r -x '.objtrigger-*' inbox outbox >/dev/null || fail "outputs differ"
[ "$(wc -l <runs.log)" = 10000 ] || fail "$(wc -l <runs.log) runs for 10000 files"
[ "$(sort -u runs.log | wc -l)" = 10000 ] || fail "some file ran twice"
stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"
exit 0
