#!/bin/sh
# check-plugin-params.sh - plugins check their parameters' values when the
# config is loaded (plugin ABI 1.1, check()): values that would fail every
# job, or an archive name whose unknown placeholder would make every
# archive replace the one before, are refused by check and by once; a
# plugin built for ABI 1.0 (no check()) still loads.
. "$top_srcdir/integration-tests/lib.sh"

use_test_plugins
mkdir inbox
trigger() { # NAME PLUGIN PARAMS...
	_n=$1 _p=$2
	shift 2
	printf '  <trigger name="%s" watch="in">\n    <transform plugin="%s">' "$_n" "$_p"
	for _kv in "$@"; do
		printf '<param name="%s" value="%s"/>' "${_kv%%=*}" "${_kv#*=}"
	done
	printf '</transform>\n    <output path="%s/out-%s/{name}"/>\n  </trigger>\n' "$T" "$_n"
}
{
	echo '<objtrigger>'
	echo "  <state path=\"$T/state\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox\"/>"
	trigger big thumbnail size=big
	trigger sizes thumbnail size=256,512 'name={stem}.webp'
	trigger day archive 'name={day}.zip'
	trigger typo thumbnail 'name={stem}-{sise}.{format}'
	echo '</objtrigger>'
} >bad.xml
run 1 "$OBJTRIGGER" check -c bad.xml
expect stderr 'bad.xml:5: <transform plugin="thumbnail">: size="big": each size is 256, 640x480, w=800 or h=600'
expect stderr 'bad.xml:9: <transform plugin="thumbnail">: with several sizes, name= needs {size}'
expect stderr 'bad.xml:13: <transform plugin="archive">: name="{day}.zip": unknown placeholder at "{day}.zip"'
expect stderr 'bad.xml:17: <transform plugin="thumbnail">: name="{stem}-{sise}.{format}": unknown placeholder'
expect stderr 'bad.xml: 4 errors'

{
	echo '<objtrigger>'
	echo "  <state path=\"$T/state\"/>"
	echo "  <watch name=\"in\" type=\"folder\" path=\"$T/inbox\"/>"
	trigger sizes thumbnail size=256,512 'name={stem}.{size}.{format}'
	trigger day archive 'name={trigger}-{date}.{format}'
	trigger old old10
	trigger old11 old11
	echo '</objtrigger>'
} >good.xml
run 0 "$OBJTRIGGER" check -c good.xml

echo x >in.txt
run 1 "$OBJTRIGGER" once archive in.txt out -p 'name={day}.zip'
expect stderr "once: archive: name=\"{day}.zip\": unknown placeholder"
[ ! -e out ] || [ -z "$(ls -A out)" ] || fail "once wrote an output with a bad name"
run 0 "$OBJTRIGGER" once old10 in.txt out2
run 0 "$OBJTRIGGER" once old11 in.txt out3
no_sanitizer_report
