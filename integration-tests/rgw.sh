# rgw.sh - a real Ceph RADOS Gateway (S3) on loopback for the S3 tests:
# one monitor, one in-memory (memstore) OSD and radosgw, every file of them
# in one folder. Sourced by the tests; binds and talks to 127.0.0.1 only.
#
#   rgw_install        installs the Ceph packages and S3 clients if missing
#   rgw_start DIR      starts the cluster with its state in DIR, makes a user
#                      and exports RGW_ENDPOINT, RGW_PORT, RGW_ACCESS_KEY,
#                      RGW_SECRET_KEY, RGW_S3CMD_CFG, RGW_DIR and what
#                      aws(1) needs (AWS_*), so that plain
#                      `aws --endpoint-url "$RGW_ENDPOINT" s3 ...` and
#                      `s3cmd -c "$RGW_S3CMD_CFG" ...` work
#   rgw_stop           stops radosgw, the OSD and the monitor by their pids
#   rgw_stop_gateway   stops radosgw only
#   rgw_start_gateway  starts radosgw again, on the same port
#   rgw_bucket NAME    a fresh, empty bucket NAME
#   rgw_curl PATH ARG...  curl to the gateway, the request signed
#   rgw_rss            the resident memory of each daemon
#
# They return non-zero after a message (and the tail of the log of the
# daemon concerned) on stderr; they never exit, so that a caller can clean
# up. The pid files are found through RGW_DIR, which subshells inherit.

. "$top_srcdir/build-aux/deps.sh"

# How long each step may take, in seconds (the environment may say).
: "${RGW_MON_WAIT:=30}"
: "${RGW_OSD_WAIT:=60}"
: "${RGW_GATEWAY_WAIT:=90}"
: "${RGW_STOP_WAIT:=15}"

rgw_install() {
	ot_install_missing $OT_RGW_PACKAGES
}

# _rgw_say MESSAGE [LOG...]: MESSAGE and the last lines of each LOG that
# has any, on stderr; returns 1.
_rgw_say() {
	echo "rgw: $1" >&2
	shift
	for _rgw_log in "$@"; do
		[ -s "$_rgw_log" ] || continue
		echo "rgw: --- last lines of $_rgw_log" >&2
		tail -n 25 "$_rgw_log" >&2
	done
	return 1
}

# _rgw_port_used PORT [STATE]: something on this machine holds TCP PORT,
# in any state (listening, or connections lingering in TIME_WAIT) or only
# in STATE as /proc/net/tcp writes it (0A: listening).
_rgw_port_used() {
	_rgw_hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
	    awk -v p=":$_rgw_hex" -v st="${2:-}" '
		$2 ~ p"$" && (st == "" || $4 == st) { found = 1 }
		END { exit !found }'
}

# _rgw_pick_port VAR: sets VAR to a TCP port in 20000-31999 that nothing
# uses and that this start has not taken yet.
_rgw_pick_port() {
	_rgw_n=0
	while [ "$_rgw_n" -lt 100 ]; do
		_rgw_n=$((_rgw_n + 1))
		# Below the kernel's ephemeral ports (32768 up): while the
		# gateway is down, a client connecting to its port again and
		# again can be given that very port as its own and connect to
		# itself, and then the gateway cannot bind it to come back
		# (store-down failed so: "Address already in use").
		_rgw_p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_rgw_p=$((20000 + _rgw_p % 12000))
		case " $_rgw_taken " in *" $_rgw_p "*) continue ;; esac
		_rgw_port_used "$_rgw_p" && continue
		_rgw_taken="$_rgw_taken $_rgw_p"
		eval "$1=\$_rgw_p"
		return 0
	done
	return 1
}

# _rgw_random BYTES: that many random bytes, as upper-case hex.
_rgw_random() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n' | tr 'a-f' 'A-F'
}

# _rgw_wait SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
_rgw_wait() {
	_rgw_limit=$(($1 * 5))
	shift
	_rgw_i=0
	until "$@" >/dev/null 2>&1; do
		_rgw_i=$((_rgw_i + 1))
		[ "$_rgw_i" -le "$_rgw_limit" ] || return 1
		sleep 0.2
	done
}

# _rgw_ceph ARGS: the ceph command on this cluster, never blocking long.
_rgw_ceph() {
	timeout 20 ceph -c "$RGW_DIR/ceph.conf" --connect-timeout 10 "$@"
}

_rgw_osd_up() {
	_rgw_ceph osd stat 2>/dev/null | grep -q ' 1 up'
}

_rgw_http_200() {
	[ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' \
	    --max-time 2 "http://127.0.0.1:$RGW_PORT/")" = 200 ]
}

# _rgw_pid NAME: the pid in run/NAME.pid if that process is one of this
# cluster's (its command line names our ceph.conf), else nothing.
_rgw_pid() {
	_rgw_pp=$(cat "$RGW_DIR/run/$1.pid" 2>/dev/null) || return 1
	case "$_rgw_pp" in '' | *[!0-9]*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$_rgw_pp/cmdline" 2>/dev/null |
	    grep -qF -- "$RGW_DIR/ceph.conf" || return 1
	echo "$_rgw_pp"
}

_rgw_alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null
}

# _rgw_kill NAME: SIGTERM to the daemon NAME, SIGKILL if it is still there
# after RGW_STOP_WAIT seconds; then its pid file goes.
_rgw_kill() {
	_rgw_victim=$(_rgw_pid "$1") || { rm -f "$RGW_DIR/run/$1.pid"; return 0; }
	kill -TERM "$_rgw_victim" 2>/dev/null
	if ! _rgw_wait "$RGW_STOP_WAIT" eval '! _rgw_alive $_rgw_victim'; then
		echo "rgw: $1 ($_rgw_victim) ignored SIGTERM; killing it" >&2
		kill -KILL "$_rgw_victim" 2>/dev/null
		_rgw_wait 5 eval '! _rgw_alive $_rgw_victim'
	fi
	rm -f "$RGW_DIR/run/$1.pid"
}

# _rgw_write_conf: ceph.conf for a one-OSD cluster without authentication,
# every address 127.0.0.1 and every file under RGW_DIR. The monitor
# batches its map changes for "paxos propose interval" (1 s by default);
# radosgw creates its pools one change at a time, so 0.05 s brings its
# first start from about 9 s down to under 1 s. Without tcp_nodelay, the
# gateway writes a small object's body after its headers only once the
# client has acked them, which Linux delays by 40 ms: each GET of a small
# object took 45 ms (bucket listing jobs, 2 workers: 42 a second, then
# 220).
_rgw_write_conf() {
	cat >"$RGW_DIR/ceph.conf" <<EOF
[global]
fsid = $RGW_FSID
mon host = [v2:127.0.0.1:$RGW_MON_PORT2,v1:127.0.0.1:$RGW_MON_PORT1]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
pid file = $RGW_DIR/run/\$name.pid
keyring = $RGW_DIR/keyring
[mon]
mon data = $RGW_DIR/\$name
paxos propose interval = 0.05
[osd]
osd data = $RGW_DIR/\$name
osd objectstore = memstore
memstore device bytes = 2147483648
[client]
ms mon client mode = crc
admin socket = $RGW_DIR/run/\$name.\$pid.asok
[client.rgw.0]
admin socket = $RGW_DIR/run/\$name.asok
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $RGW_DIR/rgw.0
rgw dns name = localhost
EOF
}

# _rgw_write_clients: the aws(1) and s3cmd settings, in RGW_DIR, with the
# Debian-packaged clients first on PATH, whatever else a developer has
# (pyenv's aws 1.x, say). Newer SDKs than Debian's add a checksum to every
# upload; the config asks for them only where S3 requires one. A request
# the gateway fails (a 503 on a loaded machine) is tried up to 10 times,
# not 3: an upload of a thousand files must not fail a case on one.
_rgw_write_clients() {
	mkdir -p "$RGW_DIR/bin" "$RGW_DIR/aws" || return 1
	for _rgw_c in aws s3cmd; do
		[ -x "/usr/bin/$_rgw_c" ] &&
		    ln -sf "/usr/bin/$_rgw_c" "$RGW_DIR/bin/$_rgw_c"
	done
	case ":$PATH:" in
	*":$RGW_DIR/bin:"*) ;;
	*) PATH=$RGW_DIR/bin:$PATH; export PATH ;;
	esac
	cat >"$RGW_DIR/aws/config" <<EOF
[default]
region = default
output = json
cli_pager =
request_checksum_calculation = when_required
response_checksum_validation = when_required
retry_mode = standard
max_attempts = 10
s3 =
    addressing_style = path
EOF
	cat >"$RGW_DIR/aws/credentials" <<EOF
[default]
aws_access_key_id = $RGW_ACCESS_KEY
aws_secret_access_key = $RGW_SECRET_KEY
EOF
	RGW_S3CMD_CFG=$RGW_DIR/s3cmd.cfg
	cat >"$RGW_S3CMD_CFG" <<EOF
[default]
access_key = $RGW_ACCESS_KEY
secret_key = $RGW_SECRET_KEY
host_base = 127.0.0.1:$RGW_PORT
host_bucket = 127.0.0.1:$RGW_PORT
use_https = False
signature_v2 = False
bucket_location = default
check_ssl_certificate = False
proxy_host =
proxy_port = 0
EOF
	AWS_CONFIG_FILE=$RGW_DIR/aws/config
	AWS_SHARED_CREDENTIALS_FILE=$RGW_DIR/aws/credentials
	AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY
	AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
	AWS_DEFAULT_REGION=default
	AWS_EC2_METADATA_DISABLED=true
	AWS_PAGER=
	export AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ACCESS_KEY_ID \
	    AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED \
	    AWS_PAGER RGW_S3CMD_CFG
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
}

# _rgw_do WHAT LOG CMD...: runs CMD with its output in log/setup.log; if
# it fails, says WHAT with the last lines of log/LOG and of log/setup.log.
_rgw_do() {
	_rgw_what=$1
	_rgw_log=$RGW_DIR/log/$2
	shift 2
	"$@" >>"$RGW_DIR/log/setup.log" 2>&1 ||
	    _rgw_say "$_rgw_what" "$_rgw_log" "$RGW_DIR/log/setup.log"
}

rgw_start() {
	[ -n "${1:-}" ] || { _rgw_say "usage: rgw_start DIR"; return 1; }
	rgw_install || { _rgw_say "cannot install: $OT_RGW_PACKAGES"; return 1; }
	mkdir -p "$1" && RGW_DIR=$(cd "$1" && pwd) &&
	    mkdir -p "$RGW_DIR/run" "$RGW_DIR/log" "$RGW_DIR/osd.0" \
	    "$RGW_DIR/rgw.0" &&
	    : >"$RGW_DIR/log/setup.log" || return 1
	export RGW_DIR
	# Loopback never goes through a proxy.
	no_proxy=127.0.0.1,localhost${no_proxy:+,$no_proxy}
	NO_PROXY=$no_proxy
	export no_proxy NO_PROXY

	_rgw_taken=
	_rgw_pick_port RGW_MON_PORT1 && _rgw_pick_port RGW_MON_PORT2 &&
	    _rgw_pick_port RGW_PORT || { _rgw_say "no free port"; return 1; }
	RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
	export RGW_PORT RGW_ENDPOINT
	RGW_FSID=$(uuidgen) && _rgw_uuid=$(uuidgen) && _rgw_write_conf ||
	    return 1
	_rgw_conf=$RGW_DIR/ceph.conf

	# One monitor, then one OSD kept in memory.
	_rgw_do "cannot make the monitor map" setup.log \
	    monmaptool --create --clobber --fsid "$RGW_FSID" --addv a \
	    "[v2:127.0.0.1:$RGW_MON_PORT2,v1:127.0.0.1:$RGW_MON_PORT1]" \
	    "$RGW_DIR/monmap" &&
	_rgw_do "cannot make the monitor" mon.a.log \
	    ceph-mon -c "$_rgw_conf" --mkfs -i a --monmap "$RGW_DIR/monmap" &&
	_rgw_do "the monitor did not start" mon.a.log \
	    timeout "$RGW_MON_WAIT" ceph-mon -c "$_rgw_conf" -i a &&
	_rgw_do "the monitor does not answer" mon.a.log \
	    _rgw_wait "$RGW_MON_WAIT" _rgw_ceph mon stat &&
	_rgw_do "cannot add the OSD" mon.a.log \
	    _rgw_ceph osd new "$_rgw_uuid" 0 &&
	_rgw_do "cannot make the OSD" osd.0.log \
	    timeout "$RGW_OSD_WAIT" ceph-osd -c "$_rgw_conf" -i 0 --mkfs \
	    --osd-uuid "$_rgw_uuid" &&
	_rgw_do "the OSD did not start" osd.0.log \
	    timeout "$RGW_OSD_WAIT" ceph-osd -c "$_rgw_conf" -i 0 &&
	_rgw_do "the OSD is not up after $RGW_OSD_WAIT s" osd.0.log \
	    _rgw_wait "$RGW_OSD_WAIT" _rgw_osd_up || return 1

	rgw_start_gateway || return 1

	# A user with generated keys.
	RGW_ACCESS_KEY=$(_rgw_random 10) && RGW_SECRET_KEY=$(_rgw_random 20) &&
	_rgw_do "cannot create the user" client.admin.log \
	    timeout 60 radosgw-admin -c "$_rgw_conf" user create \
	    --uid=objtrigger-test --display-name="objtrigger tests" \
	    --access-key="$RGW_ACCESS_KEY" --secret-key="$RGW_SECRET_KEY" ||
	    return 1
	export RGW_ACCESS_KEY RGW_SECRET_KEY
	_rgw_write_clients
}

# rgw_start_gateway: starts radosgw (it creates its pools the first time)
# and waits until it answers 200.
rgw_start_gateway() {
	: "${RGW_DIR:?rgw_start first}"
	if _rgw_pid client.rgw.0 >/dev/null; then
		_rgw_say "radosgw already runs"
		return 1
	fi
	if _rgw_port_used "$RGW_PORT" 0A; then
		_rgw_say "something else listens on port $RGW_PORT"
		return 1
	fi
	# Blocked on the monitor, radosgw would wait 300 s before giving up.
	_rgw_do "radosgw did not start" client.rgw.0.log \
	    timeout "$RGW_GATEWAY_WAIT" radosgw -c "$RGW_DIR/ceph.conf" \
	    -n client.rgw.0 &&
	_rgw_do "radosgw does not answer 200 on $RGW_ENDPOINT/" client.rgw.0.log \
	    _rgw_wait "$RGW_GATEWAY_WAIT" _rgw_http_200
}

# rgw_stop_gateway: stops radosgw; the OSD and the monitor go on.
rgw_stop_gateway() {
	: "${RGW_DIR:?rgw_start first}"
	_rgw_kill client.rgw.0
}

# rgw_gateway_running: radosgw of this cluster is alive.
rgw_gateway_running() {
	_rgw_pid client.rgw.0 >/dev/null
}

# rgw_stop: stops every daemon of the cluster, by its pid file only
# (other clusters may run on this machine).
rgw_stop() {
	[ -n "${RGW_DIR:-}" ] && [ -d "$RGW_DIR/run" ] || return 0
	_rgw_kill client.rgw.0
	_rgw_kill osd.0
	_rgw_kill mon.a
}

# rgw_rss: the resident memory of each daemon of the cluster, in MiB.
rgw_rss() {
	for _rgw_d in mon.a osd.0 client.rgw.0; do
		_rgw_p=$(_rgw_pid "$_rgw_d") || continue
		awk -v d="$_rgw_d" '/^VmRSS:/ { printf "%s %d MiB\n", d, $2 / 1024 }' \
		    "/proc/$_rgw_p/status"
	done
}

# rgw_bucket NAME: creates bucket NAME, removing first any bucket of that
# name with all its objects. (aws 2.9 turns every error of RGW, which sends
# an empty <Message>, into "argument of type 'NoneType' is not iterable";
# --debug shows the real answer.)
rgw_bucket() {
	if rgw_curl "/$1" --head -o /dev/null; then
		aws --endpoint-url "$RGW_ENDPOINT" s3 rb "s3://$1" --force \
		    >/dev/null || { _rgw_say "cannot remove bucket $1"; return 1; }
	fi
	rgw_curl "/$1" -X PUT -H "Content-Length: 0" ||
	    { _rgw_say "cannot create bucket $1"; return 1; }
}

# rgw_curl PATH [ARG...]: a request for PATH (/BUCKET/KEY?QUERY, escaped,
# the query's names in sorted order) made by curl with ARGS, signed (V4)
# as the user, its body (if any) unsigned; the answer's body on stdout,
# and non-zero for an error status. 15 ms, where aws(1) takes over a
# second to start.
rgw_curl() {
	_rgw_path=$1
	shift
	curl --noproxy '*' -s --fail --aws-sigv4 aws:amz:default:s3 \
	    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
	    --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" "$@" "$RGW_ENDPOINT$_rgw_path"
}
