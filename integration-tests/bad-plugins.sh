#!/bin/sh
# bad-plugins.sh - plugin files that must not be loaded, with the reason.
. "$top_srcdir/integration-tests/lib.sh"

echo data >in.txt
mkdir plugins
OBJTRIGGER_PLUGIN_DIR=$T/plugins
export OBJTRIGGER_PLUGIN_DIR

# Not a shared object.
echo "not an ELF file" >plugins/text.so
run 1 "$OBJTRIGGER" once text in.txt out
expect "$T/stderr" "plugin 'text' is not a loadable shared object"

# World-writable.
cp "$top_builddir/transforms/.libs/copy.so" plugins/loose.so
chmod 666 plugins/loose.so
run 1 "$OBJTRIGGER" once loose in.txt out
expect "$T/stderr" "plugins/loose.so is world-writable: refusing to load it"
chmod 644 plugins/loose.so
run 0 "$OBJTRIGGER" once loose in.txt out

# A path or ".." in the name: never looked for outside the folder.
for name in ../plugins/loose /tmp/loose loose/.. .. Loose "lo ose"; do
	run 1 "$OBJTRIGGER" once "$name" in.txt out
	expect "$T/stderr" "is not a plugin name"
done

# Not a regular file; absent.
mkdir plugins/folder.so
run 1 "$OBJTRIGGER" once folder in.txt out
expect "$T/stderr" "folder.so is not a regular file"
run 1 "$OBJTRIGGER" once absent in.txt out
expect "$T/stderr" "no plugin named 'absent'"

# Built for another ABI, or without the entry point.
for p in major2 minor noentry; do
	cp "$BROKEN_PLUGIN_DIR/$p.so" plugins/
done
run 1 "$OBJTRIGGER" once major2 in.txt out
expect "$T/stderr" "plugin 'major2' is built for plugin ABI 2; this objtrigger speaks ABI 1"
run 1 "$OBJTRIGGER" once minor in.txt out
expect "$T/stderr" "plugin 'minor' needs plugin ABI 1.3; this objtrigger provides 1.2"
run 1 "$OBJTRIGGER" once noentry in.txt out
expect "$T/stderr" "plugin 'noentry' has no entry point objtrigger_transform_v1()"

# "plugins" lists the good one and names each bad one.
run 1 "$OBJTRIGGER" plugins
expect "$T/stdout" "loose "
expect "$T/stderr" "plugin 'text' is not a loadable shared object"
expect "$T/stderr" "plugin 'major2' is built for plugin ABI 2"
no_sanitizer_report
