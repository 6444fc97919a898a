#!/bin/sh
# thumbnail.sh - the thumbnail transform: every default input format, fits,
# crops, several sizes, EXIF orientation, and hostile inputs refused with
# their reason while the daemon goes on.
. "$top_srcdir/integration-tests/lib.sh"

[ -e "$OBJTRIGGER_PLUGIN_DIR/thumbnail.so" ] || skip "built without libvips"
command -v vips >/dev/null || skip "no vips command (libvips-tools)"

# dims FILE: "WxH FORMAT" as read back by libvips.
dims() {
	vipsheader "$1" 2>/dev/null |
	    sed -n 's/^[^:]*: \([0-9]*x[0-9]*\) .*, \([a-z]*\)load.*/\1 \2/p'
}
# expect_dims FILE "WxH FORMAT"
expect_dims() {
	[ "$(dims "$1")" = "$2" ] || fail "$1 is '$(dims "$1")', not '$2'"
}
thumb() {
	run "$1" "$OBJTRIGGER" once thumbnail "$2" out -p format=png "$@"
}

vips gaussnoise photo.jpg 1200 800
for f in png webp gif tif heic; do
	vips copy photo.jpg "photo.$f"
done
for f in jpg png webp gif tif heic; do
	run 0 "$OBJTRIGGER" once thumbnail "photo.$f" "out-$f" \
	    -p size=256,100x100,h=50 -p format=png
	expect_dims "out-$f/photo.256.png" "256x171 png"
	expect_dims "out-$f/photo.100x100.png" "100x67 png"
	expect_dims "out-$f/photo.h=50.png" "75x50 png"
done

# Fits and crops; output formats; no enlarging unless asked.
for crop in centre attention entropy; do
	run 0 "$OBJTRIGGER" once thumbnail photo.jpg "cover-$crop" -p fit=cover \
	    -p size=100x100 -p crop=$crop -p format=jpeg
	expect_dims "cover-$crop/photo.100x100.jpeg" "100x100 jpeg"
done
run 0 "$OBJTRIGGER" once thumbnail photo.jpg fill -p fit=fill -p size=300x50
expect_dims fill/photo.300x50.webp "300x50 webp"
run 0 "$OBJTRIGGER" once thumbnail photo.jpg avif -p format=avif -p size=64
expect_dims avif/photo.64.avif "64x43 heif"
run 0 "$OBJTRIGGER" once thumbnail photo.jpg same -p format=same -p size=64
expect_dims same/photo.64.jpeg "64x43 jpeg"
run 0 "$OBJTRIGGER" once thumbnail photo.jpg small -p size=5000
expect_dims small/photo.5000.webp "1200x800 webp"
run 0 "$OBJTRIGGER" once thumbnail photo.jpg big -p size=1800 -p enlarge=yes
expect_dims big/photo.1800.webp "1800x1200 webp"

# Animations: the first frame, unless animated=yes (then max-frames at
# most); a format without frames takes the first.
vips black f1.png 64 48
vips gaussnoise f2.png 64 48
vips gaussnoise f3.png 64 48
vips arrayjoin "f1.png f2.png f3.png" strip.png --across 1
vips copy strip.png 'anim.gif[page-height=48]'
# pages FILE: frames of FILE, as libvips reads them
pages() {
	vipsheader -f n-pages "$1" 2>/dev/null || echo 1
}
for a in "no 3 1" "yes 3 3" "yes 2 2"; do
	set -- $a
	run 0 "$OBJTRIGGER" once thumbnail anim.gif "anim-$1-$2" -p size=32 \
	    -p animated=$1 -p max-frames=$2
	expect_dims "anim-$1-$2/anim.32.webp" "32x24 webp"
	[ "$(pages "anim-$1-$2/anim.32.webp")" = "$3" ] ||
	    fail "animated=$1 max-frames=$2: $(pages "anim-$1-$2/anim.32.webp") frames, not $3"
done
run 0 "$OBJTRIGGER" once thumbnail anim.gif anim-jpeg -p size=32 \
    -p animated=yes -p format=jpeg
expect_dims anim-jpeg/anim.32.jpeg "32x24 jpeg"

# EXIF orientation 6 (turn 90 degrees clockwise): upright, unless asked.
vips gaussnoise wide.jpg 300 200
{
	printf '\377\330\377\341\000\042Exif\000\000MM\000\052\000\000\000\010'
	printf '\000\001\001\022\000\003\000\000\000\001\000\006\000\000'
	printf '\000\000\000\000'
	tail -c +3 wide.jpg
} >rotated.jpg
run 0 "$OBJTRIGGER" once thumbnail rotated.jpg up -p size=100 -p format=png
expect_dims up/rotated.100.png "67x100 png"
run 0 "$OBJTRIGGER" once thumbnail rotated.jpg asis -p size=100 -p orient=no
expect_dims asis/rotated.100.webp "100x67 webp"

# A name libvips would parse as options is only a name here.
cp photo.jpg 'odd[Q=1,strip].jpg'
run 0 "$OBJTRIGGER" once thumbnail 'odd[Q=1,strip].jpg' odd -p size=64
expect_dims 'odd/odd[Q=1,strip].64.webp' "64x43 webp"

# Hostile inputs, each refused with its reason.
# A PNG whose header claims 50000x50000 (its CRC made with gzip's).
ihdr='IHDR\000\000\303\120\000\000\303\120\010\002\000\000\000'
crc=$(printf "$ihdr" | gzip -c | tail -c 8 | head -c 4 | od -An -to1 |
    awk '{ printf "\\%s\\%s\\%s\\%s", $4, $3, $2, $1 }')
{
	printf '\211PNG\r\n\032\n\000\000\000\015'
	printf "$ihdr"
	printf "$crc"
	printf '\000\000\000\000IDAT\065\257\006\036'
	printf '\000\000\000\000IEND\256\102\140\202'
} >huge.png
run 1 "$OBJTRIGGER" once thumbnail huge.png out
expect "$T/stderr" "failed (reject): the image is 50000x50000 (2500.0 megapixels), over max-pixels (50.0 megapixels)"
head -c 20000 photo.jpg >truncated.jpg
run 1 "$OBJTRIGGER" once thumbnail truncated.jpg out
expect "$T/stderr" "failed (reject): making the thumbnail: VipsJpeg: Premature end"
# A truncated PNG too, and sizes that would blow up or cannot work.
head -c 2000 photo.png >truncated.png
run 1 "$OBJTRIGGER" once thumbnail truncated.png out
expect "$T/stderr" "failed (reject)"
vips black skinny.png 2 20000
run 1 "$OBJTRIGGER" once thumbnail skinny.png out -p fit=cover \
    -p size=256 -p enlarge=yes
expect "$T/stderr" "the 256 thumbnail of a 2x20000 image would be 655.4 megapixels, over max-pixels"
run 1 "$OBJTRIGGER" once thumbnail photo.jpg out -p fit=cover -p size=w=800
expect "$T/stderr" "w= and h= sizes only go with fit=inside"
run 1 "$OBJTRIGGER" once thumbnail photo.jpg out -p size=64,128 -p name={stem}
expect "$T/stderr" "with several sizes, name= needs {size}"
long=$(printf '%0250d' 0)
cp photo.jpg "$long.jpg"
run 1 "$OBJTRIGGER" once thumbnail "$long.jpg" out
expect "$T/stderr" "failed (reject)"
expect "$T/stderr" "File name too long"
# A multi-page TIFF, written as one (libtiff reads back what it writes).
vips arrayjoin "wide.jpg wide.jpg wide.jpg" pages.tif --across 1
run 0 "$OBJTRIGGER" once thumbnail pages.tif tiff -p format=same -p size=64
head -c 5000 /dev/urandom >random.jpg
run 1 "$OBJTRIGGER" once thumbnail random.jpg out
expect "$T/stderr" "failed (reject): not an image libvips can read"
vips copy wide.jpg image.ppm
run 1 "$OBJTRIGGER" once thumbnail image.ppm out
expect "$T/stderr" "failed (reject): the image is ppm, which formats="
printf '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>' >x.svg
run 1 "$OBJTRIGGER" once thumbnail x.svg out
expect "$T/stderr" "failed (reject): the image is svg, which formats="
: >empty.jpg
run 1 "$OBJTRIGGER" once thumbnail empty.jpg out
expect "$T/stderr" "failed (reject): the file is empty"
run 1 "$OBJTRIGGER" once thumbnail photo.jpg out -p max-input=1KiB
expect "$T/stderr" "over max-input"
# A JPEG named .png is read as what its bytes are.
cp photo.jpg named.png
run 0 "$OBJTRIGGER" once thumbnail named.png lie -p format=same -p size=64
expect_dims lie/named.64.jpeg "64x43 jpeg"
# A PPM is read when listed.
run 0 "$OBJTRIGGER" once thumbnail image.ppm ppm -p formats=ppm -p size=64
expect_dims ppm/image.64.webp "64x43 webp"
no_sanitizer_report

# In the daemon: the hostile files are dead letters, the good ones done.
mkdir inbox
cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="thumbs" watch="in">
    <transform plugin="thumbnail"><param name="size" value="64"/></transform>
    <output path="$T/thumbs/{name}"/>
  </trigger>
</objtrigger>
XML
start_daemon ot.xml
for f in huge.png truncated.jpg random.jpg image.ppm x.svg photo.jpg named.png; do
	cp "$f" inbox/
done
wait_until 60 test -e thumbs/photo.64.webp -a -e thumbs/named.64.webp ||
    fail "good images were not made"
wait_until 60 logged 5 ' dead: ' || true
[ "$(grep -c ' dead: ' daemon.log)" = 5 ] || { cat daemon.log; fail "dead letters"; }
stop_daemon
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' daemon.log && fail "sanitizer report"

# libvips' warnings go through objtrigger's log, tagged with the job, not
# raw onto stderr (a raw line could split a daemon log line in two).
vips black corrupt-src.jpg 800 600 || fail "vips black"
/usr/bin/python3 -c '
import sys
d = bytearray(open("corrupt-src.jpg", "rb").read())
for i in range(600, len(d) - 10, 97):
    d[i] = 0xff if d[i] != 0xff else 0
open("corrupt.jpg", "wb").write(bytes(d))'
"$OBJTRIGGER" once thumbnail corrupt.jpg out-corrupt >stdout 2>stderr
expect stderr "thumbnail: job once trigger=once: VIPS: "
! grep -q 'VIPS-WARNING' stderr || { cat stderr; fail "a raw libvips warning"; }
exit 0
