# deps.sh - the Debian packages objtrigger needs, and installing the missing.
# Sourced by start.sh and test.sh.

# To build, and the libraries configure looks for.
OT_BUILD_PACKAGES="autoconf automake libtool pkg-config make gcc libc6-dev
 libxml2-dev libcmocka-dev libs3-dev libarchive-dev libvips-dev
 libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev
 librabbitmq-dev libsystemd-dev libssl-dev"
# A Ceph RADOS Gateway on loopback and the S3 clients the S3 tests use.
OT_RGW_PACKAGES="ceph-mon ceph-osd radosgw ceph-common uuid-runtime coreutils
 curl awscli s3cmd"
# A RabbitMQ broker, run by the broker tests as a process of their own.
OT_BROKER_PACKAGES="rabbitmq-server"
# What the tests run besides objtrigger.
OT_TEST_PACKAGES="libxml2-utils perl python3 util-linux procps strace libvips-tools gzip clang libclang-rt-dev llvm
 bash-completion systemd dpkg-dev debhelper fakeroot lintian
 libarchive-tools zip p7zip-full poppler-utils
 mate-backgrounds sway-backgrounds lomiri-wallpapers $OT_RGW_PACKAGES $OT_BROKER_PACKAGES"

# ot_install_missing PACKAGE...: installs, with apt, those not installed.
ot_install_missing() {
	missing=
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q ' installed$' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "objtrigger: installing:$missing"
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	# No package may start its service while installed: rabbitmq-server's
	# would take port 5672 as a system broker. invoke-rc.d and
	# deb-systemd-invoke ask policy-rc.d, which refuses meanwhile.
	policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' |
		    $sudo tee /usr/sbin/policy-rc.d >/dev/null &&
		    $sudo chmod 755 /usr/sbin/policy-rc.d && policy=yes
	fi
	$sudo apt-get update -qq &&
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	    --no-install-recommends $missing >/dev/null
	st=$?
	[ -z "$policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
	return $st
}
