#!/bin/sh
# start.sh - installs what is missing, builds, and runs objtrigger on the
# bundled default config: watch ./inbox, thumbnails into ./outbox, state in
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
if ! "$build/objtrigger" check -c "$config"; then
	cat >&2 <<MSG
start.sh: $config does not check out, so the daemon was not started.
The daemon (objtrigger run, with its folder watch) and the thumbnail
transform are the next pieces being built. What works today:
  $build/objtrigger plugins
  $build/objtrigger once copy FILE OUTDIR
  $build/objtrigger once exec FILE OUTDIR -p arg=COMMAND -p arg={input}
(with OBJTRIGGER_PLUGIN_DIR=$OBJTRIGGER_PLUGIN_DIR)
MSG
	exit 1
fi
exec "$build/objtrigger" run -c "$config"
