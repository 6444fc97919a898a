#!/bin/sh
# start.sh - installs what is missing, builds, and runs objtrigger on the
# bundled default config: watch ./inbox, results into ./outbox, state in
# ./.objtrigger. A ./objtrigger.xml of your own is used instead if present.
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

OBJTRIGGER_PLUGIN_DIR=$build/transforms/.libs
export OBJTRIGGER_PLUGIN_DIR
config=config/objtrigger.xml
[ -f objtrigger.xml ] && config=objtrigger.xml
mkdir -p inbox outbox
"$build/objtrigger" check -c "$config" || exit 1
echo "objtrigger: drop files into $top/inbox; results land in $top/outbox." \
    "Ctrl-C stops it."
exec "$build/objtrigger" run -c "$config"
