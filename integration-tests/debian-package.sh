#!/bin/sh
# debian-package.sh - dpkg-buildpackage builds objtrigger and objtrigger-dev
# from a copy of the source tree; lintian finds no error in them (its
# warnings are printed); dpkg -i installs them on this machine; the
# installed objtrigger checks its service config, runs a once job with an
# installed plugin, and runs the service's config as the user objtrigger
# (a file put in its inbox gets a thumbnail in its outbox, then stop);
# dpkg --purge leaves nothing behind in /etc, /usr or /var/lib. The build
# takes 30 s of both CPUs on an idle machine (4 minutes on a busy one).
. "$top_srcdir/integration-tests/lib.sh"

for c in dpkg-buildpackage dh lintian fakeroot; do
	command -v $c >/dev/null || skip "no $c (build-aux/deps.sh lists its package)"
done
[ "$(id -u)" = 0 ] || skip "installing a package needs root"
unset OBJTRIGGER_PLUGIN_DIR MAKEFLAGS MFLAGS MAKELEVEL
DEB_BUILD_OPTIONS=parallel=2
export DEB_BUILD_OPTIONS

# purge: takes both packages away, waiting for dpkg's lock (an apt-get of
# another process) for a minute at most.
dpkg_run() {
	_n=0
	until "$@" >"$T/dpkg.out" 2>&1; do
		grep -q 'lock' "$T/dpkg.out" && [ "$_n" -lt 60 ] ||
		    { cat "$T/dpkg.out"; return 1; }
		_n=$((_n + 1))
		sleep 1
	done
	cat "$T/dpkg.out"
}
purge() {
	dpkg_run dpkg --purge objtrigger-dev objtrigger
}
installed=
trap '[ -n "$installed" ] && purge; cleanup' EXIT

# A copy of the tree: the files git knows, committed or not, or all of
# them when it is not a git checkout (a dist tarball).
mkdir src
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z |
	    xargs -0 tar -c --no-recursion -f -) | tar -x -C src ||
	    fail "cannot copy the tree"
else
	tar -c -C "$top_srcdir" --exclude=./_build . | tar -x -C src ||
	    fail "cannot copy the tree"
fi
chmod -R u+w src
start=$(date +%s)
# At the lowest priority: the tests that run beside it keep the CPUs.
(cd src && nice -n 19 dpkg-buildpackage -us -uc -b) >build.log 2>&1 ||
    { tail -n 60 build.log; fail "dpkg-buildpackage failed"; }
echo "dpkg-buildpackage took $(($(date +%s) - start))s"
arch=$(dpkg --print-architecture)
deb=$(ls objtrigger_*_"$arch".deb) || fail "no objtrigger .deb"
dev=$(ls objtrigger-dev_*_all.deb) || fail "no objtrigger-dev .deb"
for d in "$deb" "$dev"; do
	echo "--- $d"
	dpkg-deb -c "$d" | awk '{ print $6, $7, $8 }'
done
dpkg-deb -c "$deb" >files
for f in ./usr/bin/objtrigger ./etc/objtrigger/objtrigger.xml \
    ./lib/systemd/system/objtrigger.service \
    ./lib/systemd/system/objtrigger@.service \
    ./usr/lib/sysusers.d/objtrigger.conf \
    ./usr/share/bash-completion/completions/objtrigger \
    ./usr/share/man/man1/objtrigger.1.gz ./usr/share/objtrigger/objtrigger.rng \
    ./usr/share/objtrigger/examples/thumbnails.xml \
    "./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/objtrigger/thumbnail.so"; do
	grep -q " $f\$" files || fail "$deb has no $f"
done
dpkg-deb -c "$dev" >files
for f in ./usr/include/objtrigger-transform.h \
    ./usr/share/doc/objtrigger-dev/examples/example.c \
    ./usr/share/doc/objtrigger-dev/examples/Makefile; do
	grep -q " $f\$" files || fail "$dev has no $f"
done
[ -n "$(dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -x /etc/objtrigger/objtrigger.xml)" ] ||
    fail "/etc/objtrigger/objtrigger.xml is not a conffile"

start=$(date +%s)
lintian -I --tag-display-limit 0 "$deb" "$dev" >lintian.log 2>&1
echo "lintian took $(($(date +%s) - start))s; what it says:"
cat lintian.log
! grep -q '^E: ' lintian.log || fail "lintian finds errors"

# Installed, the program runs from the installed files alone. One run
# of this test at a time on a machine (held until the purge); none when
# another objtrigger package is there.
exec 9>/run/lock/objtrigger-debian-package.lock
flock 9
if dpkg-query -W -f='${Status}\n' objtrigger objtrigger-dev 2>/dev/null |
    grep -q ' installed$'; then
	skip "an objtrigger package is installed already: not touched"
fi
installed=1
dpkg_run dpkg -i "$deb" "$dev" || fail "dpkg -i failed"
getent passwd objtrigger >/dev/null || fail "no user objtrigger"
[ "$(stat -c %U /var/lib/objtrigger)" = objtrigger ] ||
    fail "/var/lib/objtrigger is not objtrigger's"
run 0 /usr/bin/objtrigger check -c /etc/objtrigger/objtrigger.xml
expect "$T/stdout" "/etc/objtrigger/objtrigger.xml: OK"
run 0 /usr/bin/objtrigger plugins
expect "$T/stdout" "thumbnail"
python3 - <<'PY' || fail "cannot make a PNG"
import struct, zlib
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
rows = b"".join(b"\0" + bytes([x % 256, 40, 200]) * 64 for x in range(64))
open("in.png", "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
mkdir out
run 0 /usr/bin/objtrigger once thumbnail in.png out -p size=16
[ "$(files out)" = 1 ] || fail "once wrote $(files out) files"
expect "$T/stdout" "out/in"

# The service's config, run as its user (here without systemd).
runuser -u objtrigger -- sh -c 'cd /var/lib/objtrigger &&
    exec /usr/bin/objtrigger run -c /etc/objtrigger/objtrigger.xml' \
    >>daemon.log 2>&1 &
DAEMON_PID=$!
wait_until 30 grep -q 'info: watching' daemon.log || { cat daemon.log; fail "the service config does not run"; }
install -o objtrigger -m 644 in.png /var/lib/objtrigger/inbox/in.png
wait_until 30 has_files /var/lib/objtrigger/outbox 1 ||
    { cat daemon.log; fail "no thumbnail in the outbox"; }
run 0 runuser -u objtrigger -- /usr/bin/objtrigger stop -c /etc/objtrigger/objtrigger.xml
expect "$T/stdout" "info: stopped"
wait "$DAEMON_PID"
DAEMON_PID=

installed=
purge || fail "dpkg --purge failed"
left=$(find -H /etc /usr /var/lib /lib -name '*objtrigger*' 2>/dev/null)
[ -z "$left" ] || fail "left after the purge: $left"
dpkg-query -W objtrigger >/dev/null 2>&1 && fail "the package is still known"
exit 0
