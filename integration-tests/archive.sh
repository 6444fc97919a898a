#!/bin/sh
# archive.sh - the archive transform: each format packs its input, which
# extract gives back byte for byte, with its name, mode and time.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/archive.so" ] || skip "built without libarchive"
command -v bsdtar >/dev/null || skip "no bsdtar"

head -c 100000 /dev/urandom >data.bin
chmod 640 data.bin
touch -d '2020-02-02 02:02:02 UTC' data.bin
for f in tar.gz tar.zst tar.xz tar zip 7z; do
	run 0 "$OBJTRIGGER" once archive data.bin "a-$f" -p format=$f \
	    -p name='pack.{format}' -p level=1
	[ -f "a-$f/pack.$f" ] || fail "no a-$f/pack.$f"
	run 0 "$OBJTRIGGER" once extract "a-$f/pack.$f" "x-$f"
	cmp data.bin "x-$f/pack/data.bin" || fail "$f did not round-trip"
	bsdtar -tvf "a-$f/pack.$f" >list
	expect list "data.bin"
done
expect list "100000"
bsdtar -tvf a-tar/pack.tar >list
expect list "-rw-r-----"
expect list "Feb  2  2020"
run 1 "$OBJTRIGGER" once archive data.bin bad -p format=rar
expect "$T/stderr" "'rar' is not one of tar.gz|tar.zst|tar.xz|tar|zip|7z"

# Run by the daemon, an entry is named after its key in the watch.
mkdir -p inbox/sub
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes"/>
  <trigger name="pack" watch="in">
    <transform plugin="archive">
      <param name="name" value="{trigger}-{job}.{format}"/>
    </transform>
    <output path="$T/packed/{name}"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml
sleep 1
echo nested >inbox/sub/x.txt
wait_until 20 test -e packed/pack-1.tar.gz || fail "no archive"
stop_daemon
bsdtar -tf packed/pack-1.tar.gz >list
expect list "sub/x.txt"

# A tree of 500 files of mixed sizes, packed in one batch per format by
# the daemon and unpacked by extract: the same names and bytes.
mkdir -p tree
i=0
while [ $i -lt 500 ]; do
	mkdir -p "tree/d$((i % 7))/e$((i % 3))"
	head -c $(((i * 7919) % 40000)) /dev/urandom >"tree/d$((i % 7))/e$((i % 3))/f $i"
	i=$((i + 1))
done
find tree -type f -exec touch -d '1 minute ago' {} +
for f in tar.gz tar.zst tar.xz tar zip 7z; do
	rm -rf state packed
	cat >batch.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/tree" recursive="yes"/>
  <trigger name="all" watch="in" batch-size="500" batch-window="1s"
      existing="run">
    <transform plugin="archive">
      <param name="format" value="$f"/>
      <param name="name" value="tree.{format}"/>
    </transform>
    <output path="$T/packed/{name}"/>
  </trigger>
</objtrigger>
XML
	start_daemon batch.xml
	# xz and 7z take a minute for this tree on a busy machine.
	wait_until 300 test -e "packed/tree.$f" ||
	    { cat daemon.log; fail "no $f archive"; }
	stop_daemon
	run 0 "$OBJTRIGGER" once extract "packed/tree.$f" "back-$f"
	diff -r tree "back-$f/tree" >/dev/null || fail "$f: the tree did not come back"
done
no_sanitizer_report
exit 0
