#!/bin/sh
# examples-run.sh - every shipped example that needs no store runs a real
# job end to end, each started in a folder of its own with its relative
# state folder (./.objtrigger, the default where it names none): relative
# paths are resolved once, at load, from the working directory (check -v
# shows them), so a command's {outdir}, OBJTRIGGER_OUTDIR and TMPDIR are
# absolute. The S3 examples run in the S3 tests (s3/examples.sh).
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
ex=$top_srcdir/config/examples

# example NAME: a folder NAME holding the example NAME.xml as ot.xml, made
# the working directory, with its daemon started.
example() {
	mkdir "$T/$1" && cd "$T/$1" || exit 99
	cp "$ex/$1.xml" ot.xml
	run 0 "$OBJTRIGGER" check -v -c ot.xml
	expect "$T/stdout" "state: $T/$1/.objtrigger"
	start_daemon ot.xml
}

# done_example: stops its daemon; the state folder is where it was said.
done_example() {
	stop_daemon
	test -e .objtrigger/journal.db || fail "no journal in ./.objtrigger"
	cd "$T" || exit 99
}

# fan-out.xml: a backup, and a checksum written by a command.
example fan-out
expect "$T/stdout" "watch uploads: $T/fan-out/inbox"
expect "$T/stdout" "trigger checksum: output $T/fan-out/sums/{key}.sha256"
printf 'hello\n' >inbox/a.txt
wait_until 20 test -e sums/a.txt.sha256 ||
    { cat "$T/daemon.log"; fail "the checksum trigger did not run"; }
wait_until 20 test -e backup/a.txt || fail "the backup trigger did not run"
[ "$(cut -d' ' -f1 sums/a.txt.sha256)" = "$(sha256sum <inbox/a.txt | cut -d' ' -f1)" ] ||
    fail "the checksum is wrong: $(cat sums/a.txt.sha256)"
done_example

# mirror.xml: a copy, under the same folders.
example mirror
mkdir -p inbox/2026/05
printf 'report\n' >inbox/2026/05/report.txt
wait_until 20 test -e backup/2026/05/report.txt ||
    { cat "$T/daemon.log"; fail "mirror.xml did not copy"; }
cmp -s inbox/2026/05/report.txt backup/2026/05/report.txt || fail "the copy differs"
done_example

# thumbnails.xml: a WebP thumbnail of an image named in capitals.
if [ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] && command -v vips >/dev/null; then
	example thumbnails
	mkdir -p inbox/trip
	vips gaussnoise inbox/trip/.IMG_001.JPG 640 480 &&
	    mv inbox/trip/.IMG_001.JPG inbox/trip/IMG_001.JPG || exit 99
	wait_until 60 test -e outbox/trip/IMG_001.256.webp ||
	    { cat "$T/daemon.log"; fail "thumbnails.xml made no thumbnail"; }
	run 0 vipsheader -f width outbox/trip/IMG_001.256.webp
	[ "$(cat "$T/stdout")" = 256 ] || fail "the thumbnail is not 256 wide"
	done_example
else
	echo "thumbnails.xml not run: no thumbnail plugin or no vips command"
fi

# exec-command.xml: pdftotext on a PDF.
if command -v pdftotext >/dev/null; then
	example exec-command
	python3 - inbox/.note.pdf <<'PY' || exit 99
import sys
text = b"BT /F1 24 Tf 72 720 Td (objtrigger example) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offsets = b"%PDF-1.4\n", []
for i, o in enumerate(objs, 1):
    offsets.append(len(out))
    out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
open(sys.argv[1], "wb").write(out)
PY
	mv inbox/.note.pdf inbox/note.pdf
	wait_until 30 test -e text/note.pdf.txt ||
	    { cat "$T/daemon.log"; fail "exec-command.xml made no text"; }
	expect text/note.pdf.txt "objtrigger example"
	done_example
else
	echo "exec-command.xml not run: no pdftotext (poppler-utils)"
fi
cp daemon.log stderr
no_sanitizer_report
