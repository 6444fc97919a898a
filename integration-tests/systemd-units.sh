#!/bin/sh
# systemd-units.sh - the units make install puts in place pass systemd-
# analyze verify (objtrigger@.service as an instance), with the notify
# type, a reload through objtrigger reload and the sandbox; the sysusers.d
# file makes the user they run as.
. "$top_srcdir/integration-tests/lib.sh"

command -v systemd-analyze >/dev/null ||
    skip "no systemd-analyze: the units were not verified"
units=$top_builddir/systemd
# The units name the installed program: here, the one just built.
bin=$(sed -n 's|^ExecStart=\([^ ]*\)/objtrigger .*|\1|p' "$units/objtrigger.service")
[ -n "$bin" ] || fail "no ExecStart in objtrigger.service"
sed "s|$bin/objtrigger |$OBJTRIGGER |" "$units/objtrigger.service" >objtrigger.service
sed "s|$bin/objtrigger |$OBJTRIGGER |" "$units/objtrigger@.service" >objtrigger@demo.service
for u in objtrigger.service objtrigger@demo.service; do
	run 0 systemd-analyze verify --man=no "./$u"
	[ ! -s "$T/stdout" ] && [ ! -s "$T/stderr" ] ||
	    { cat "$T/stdout" "$T/stderr"; fail "systemd-analyze verify $u: not clean"; }
	for line in Type=notify "ExecStart=$OBJTRIGGER run -c " \
	    "ExecReload=$OBJTRIGGER reload -c " KillMode=mixed User=objtrigger \
	    WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
	    StateDirectory=objtrigger; do
		grep -q "^$line" "$u" || fail "$u: no $line"
	done
done
grep -q '^ExecStart=.* -c .*/objtrigger/%i.xml$' objtrigger@demo.service ||
    fail "objtrigger@.service does not run NAME.xml"
grep -q '^StateDirectory=objtrigger/%i$' objtrigger@demo.service ||
    fail "objtrigger@.service does not keep NAME's state apart"

if command -v systemd-sysusers >/dev/null; then
	mkdir -p root/etc
	run 0 systemd-sysusers --dry-run --root="$T/root" "$units/objtrigger.conf"
	expect "$T/stderr" "Creating user 'objtrigger'"
fi
