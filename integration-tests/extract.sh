#!/bin/sh
# extract.sh - the extract transform: a round trip per format, and hostile
# archives (zip slip, absolute paths, links, bombs, overlapping zips,
# damaged zips, broken, encrypted), each refused with its reason and
# nothing written outside the job.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/extract.so" ] || skip "built without libarchive"
for tool in bsdtar zip 7z perl; do
	command -v $tool >/dev/null || skip "no $tool"
done

# A tree of files of mixed sizes, and one archive of it per format.
mkdir -p src/d1/d2 src/e
i=0
while [ $i -lt 40 ]; do
	head -c $((i * 997)) /dev/urandom >"src/d1/f$i"
	printf 'small %s\n' $i >"src/e/s $i.txt"
	i=$((i + 1))
done
head -c 300000 /dev/urandom >src/d1/d2/big
(cd src && bsdtar -czf ../tree.tar.gz . && bsdtar -cJf ../tree.tar.xz . &&
    bsdtar -cf ../tree.tar . && zip -qr ../tree.zip . &&
    7z a ../tree.7z . >/dev/null && bsdtar --format cpio -cf ../tree.cpio .)
for a in tree.tar.gz tree.tar.xz tree.tar tree.zip tree.7z tree.cpio; do
	run 0 "$OBJTRIGGER" once extract "$a" "out-$a"
	diff -r src "out-$a/tree" >/dev/null || fail "$a did not round-trip"
done
no_sanitizer_report

# An archive whose entries sit in a folder named as the archive
# (proj.tar.gz holding proj/a.txt) does not repeat it: out/proj/a.txt.
mkdir -p top/proj/sub
printf 'a\n' >top/proj/a.txt
printf 'b\n' >top/proj/sub/b.txt
(cd top && bsdtar -czf ../proj.tar.gz proj)
run 0 "$OBJTRIGGER" once extract proj.tar.gz out-proj
cmp top/proj/a.txt out-proj/proj/a.txt || fail "proj/a.txt is not out-proj/proj/a.txt"
cmp top/proj/sub/b.txt out-proj/proj/sub/b.txt || fail "proj/sub/b.txt moved"
[ ! -e out-proj/proj/proj ] || fail "the top folder was repeated"

# listing: every path under $T but the output of the last command.
listing() {
	find "$T" ! -path "$T/stdout" ! -path "$T/stderr" ! -path "$T/out-bad" |
	    sort
}

# rejects ARCHIVE TEXT: refused with TEXT, and nothing left anywhere.
rejects() {
	_before=$(listing)
	run 1 "$OBJTRIGGER" once extract "$1" "out-bad"
	expect "$T/stderr" "failed (reject): $2"
	[ -z "$(ls -A out-bad 2>/dev/null)" ] || fail "$1 left output"
	[ "$(listing)" = "$_before" ] || fail "$1 wrote outside its job"
}

# timed CMD...: runs CMD; says how long it took in $ms and on stdout.
timed() {
	_t0=$(date +%s%N)
	"$@"
	ms=$((($(date +%s%N) - _t0) / 1000000))
	echo "$2: $ms ms"
}
echo x >x
bsdtar -cf slip.tar -P -s ',^,../../escaped-,' x
rejects slip.tar "entry ../../escaped-x: an absolute path, or one with '..'"
bsdtar -cf abs.tar -P -s ",^,$T/abs-," x
rejects abs.tar "entry $T/abs-x: an absolute path"
ln -s /tmp l
bsdtar -cf link.tar l
bsdtar -rf link.tar -s ',^x$,l/escape,' x
rejects link.tar "entry l/escape goes through l, a link the archive made"
# A hard link (whatever its target): skipped and listed, never made.
echo innocent >innocent
ln innocent link
bsdtar -cf hard.tar innocent link
run 0 "$OBJTRIGGER" once extract hard.tar out-hard
expect "$T/stderr" "skipped hard link link -> innocent"
[ ! -e out-hard/hard/link ] || fail "a hard link was made"
cmp innocent out-hard/hard/innocent || fail "innocent was not extracted"
# Backslashes, as a zip from Windows may hold: refused.
bsdtar -cf back.tar -s ',^x$,..\\\\evil,' x
rejects back.tar "entry ..\\"
# A zip bomb: 200 MB of zeros in about 200 KB.
head -c 200000000 /dev/zero >zeros
zip -q bomb.zip zeros
rm zeros
rejects bomb.zip "a bomb: zeros made"
# 20,000 tiny entries against max-entries 10,000.
mkdir many
(cd many && seq 20000 | xargs touch)
(cd many && bsdtar -czf ../many.tar.gz .)
rm -rf many
rejects many.tar.gz "more than max-entries (10000) entries"

# Zips written byte by byte, for what zip tools refuse to make.
mkzip() {
	perl "$top_srcdir/integration-tests/make-zip.pl" "$@" ||
	    fail "make-zip.pl $*"
}
# An overlapping zip bomb: 100 entries of 1 MB each, one kernel in 10 KB.
mkzip overlap overlap.zip 100
[ "$(bsdtar -tf overlap.zip | wc -l)" = 100 ] ||
    fail "overlap.zip does not list 100 entries"
timed rejects overlap.zip "entries 0000 and 0001 overlap at offset 39: not \
a well-formed zip (an overlapping zip bomb)"
# 10 GB of zeros in a 10 MB zip: refused at max-total, in seconds.
mkzip expand ten.zip 10
[ "$(wc -c <ten.zip)" -lt 11000000 ] &&
    bsdtar -tvf ten.zip | grep -q ' 10737418240 ' ||
    fail "ten.zip is not 10 GB in 10 MB"
timed rejects ten.zip "a bomb: zeros made"
expect "$T/stderr" "over max-total"
[ "$ms" -lt 60000 ] || fail "ten.zip took $ms ms to refuse"
# 100,000 entries (zip64 end records) against max-entries 10,000; 50 pass.
mkzip many entries.zip 100000
timed rejects entries.zip "more than max-entries (10000) entries"
mkzip many fifty.zip 50
run 0 "$OBJTRIGGER" once extract fifty.zip out-fifty
[ "$(files out-fifty/fifty)" = 50 ] || fail "fifty.zip did not give 50 files"
# A damaged central directory: refused with its reason.
head -c $(($(wc -c <tree.zip) - 22)) tree.zip >cut.zip
rejects cut.zip "a damaged zip: no end of central directory record"
cp tree.zip moved.zip
perl -e 'open(F, "+<", $ARGV[0]) or die; seek(F, -6, 2); read(F, $o, 4);
    seek(F, -6, 2); print F pack("V", unpack("V", $o) - 1)' moved.zip
rejects moved.zip "a damaged zip: no central header at offset"

head -c 4000 tree.tar.gz >truncated.tar.gz
rejects truncated.tar.gz ""
printf 'not an archive at all' >junk.tar
rejects junk.tar "not an archive of formats="
7z a -psecret enc.7z x >/dev/null
rejects enc.7z "entry x is encrypted (passphrase-file opens it)"
run 1 "$OBJTRIGGER" once extract tree.zip out-f -p formats=tar
expect "$T/stderr" "not an archive of formats=\"tar\""
[ ! -e "$T/../escaped-x" ] && [ ! -e "$T/abs-x" ] && [ ! -e /tmp/escape ] ||
    fail "something was written outside"
no_sanitizer_report
exit 0
