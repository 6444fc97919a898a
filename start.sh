#!/bin/sh
# start.sh - installs what is missing, builds, and runs objtrigger on
# ./objtrigger.xml, a copy of the bundled default made at the first start:
# watch ./inbox, results into ./outbox, state in ./.objtrigger.
set -u
cd "$(dirname "$0")" || exit 1
top=$PWD
build=$top/_build/start

. ./build-aux/deps.sh
ot_install_missing $OT_BUILD_PACKAGES || exit 1
[ -x configure ] || autoreconf -fi || exit 1
mkdir -p "$build" && cd "$build" || exit 1
[ -f Makefile ] || "$top/configure" -q || exit 1
make -s -j"$(nproc 2>/dev/null || echo 2)" || exit 1
cd "$top" || exit 1

# The config is ./objtrigger.xml, made from the bundled default the first
# time: the commands typed here without -c read the same one, and the
# binary finds the plugins built beside it.
[ -f objtrigger.xml ] || cp config/objtrigger.xml objtrigger.xml || exit 1
config=objtrigger.xml
mkdir -p inbox outbox
"$build/objtrigger" check -c "$config" || exit 1
echo "objtrigger: drop files into $top/inbox; results land in $top/outbox." \
    "Ctrl-C stops it. From $top, in another terminal: _build/start/objtrigger status"
exec "$build/objtrigger" run -c "$config"
