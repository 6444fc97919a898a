# lib.sh - shared by the integration tests: a scratch folder and checks.
# Exit codes follow automake: 0 pass, 77 skip, 99 hard error, else fail.

set -u
: "${OBJTRIGGER:?run through make check}"
: "${top_srcdir:?run through make check}"

T=$(mktemp -d "${TMPDIR:-/tmp}/objtrigger-test.XXXXXX") || exit 99
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 99

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# run EXPECTED-STATUS CMD...: runs CMD, keeps its output in $T/stdout and
# $T/stderr, and fails unless it exits with EXPECTED-STATUS.
run() {
	_want=$1
	shift
	"$@" >"$T/stdout" 2>"$T/stderr"
	_got=$?
	if [ "$_got" != "$_want" ]; then
		echo "--- stdout"; cat "$T/stdout"
		echo "--- stderr"; cat "$T/stderr"
		fail "'$*' exited $_got, expected $_want"
	fi
}

# expect FILE TEXT: FILE holds TEXT (a fixed string).
expect() {
	grep -qF -- "$2" "$1" || {
		echo "--- $1"; cat "$1"
		fail "no '$2' in $1"
	}
}

# no_sanitizer_report: nothing in $T/stderr came from ASan or UBSan.
no_sanitizer_report() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/stderr"; then
		cat "$T/stderr"
		fail "sanitizer report"
	fi
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; fails after SECONDS,
# however long CMD itself takes.
wait_until() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# start_daemon CONFIG: runs objtrigger in the background, logging to
# $T/daemon.log, and waits until it watches its folders. DAEMON_OPTS: the
# options before "run" (-v: debug lines too).
start_daemon() {
	_starts=$(grep -c 'info: watching' "$T/daemon.log" 2>/dev/null)
	"$OBJTRIGGER" ${DAEMON_OPTS:-} run -c "$1" >>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_until 30 daemon_started "${_starts:-0}" || {
		cat "$T/daemon.log"
		fail "the daemon did not start"
	}
}
daemon_started() {
	[ "$(grep -c 'info: watching' "$T/daemon.log")" -gt "$1" ]
}

# stop_daemon: SIGTERM, and the daemon must exit 0 within 30 s.
stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait_until 30 daemon_gone || fail "the daemon did not stop"
	wait "$DAEMON_PID"
	_st=$?
	DAEMON_PID=
	[ "$_st" = 0 ] || { cat "$T/daemon.log"; fail "the daemon exited $_st"; }
}
daemon_gone() {
	! kill -0 "$DAEMON_PID" 2>/dev/null ||
	    grep -q "^State:.*zombie" "/proc/$DAEMON_PID/status" 2>/dev/null
}

# log_value TEXT: TEXT as the log writes a value: quoted (with \\ and \")
# if it holds a space, a quote, a backslash, = or a tab, or is empty.
log_value() {
	case $1 in
	'' | *[' "\\=	']*)
		printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')" ;;
	*) printf '%s' "$1" ;;
	esac
}

# queued_line TRIGGER FOLDER KEY: the daemon logged a job queued for them
# (with -v).
queued_line() {
	sed -n 's/^objtrigger: debug: job [0-9]* queued: //p' "$T/daemon.log" |
	    grep -qxF -- "trigger=$(log_value "$1") key=$(log_value "$3") folder=$(log_value "$2")"
}

# files DIR: how many visible files are under DIR.
files() {
	find "$1" -type f ! -name '.*' 2>/dev/null | wc -l
}

# has_files DIR N: DIR holds at least N visible files.
has_files() {
	[ "$(files "$1")" -ge "$2" ]
}

# runs KEY: how many times the counting transform ran on KEY.
runs() {
	grep -cxF -- "$1" "$T/runs.log" 2>/dev/null
}

# ran KEY N: the counting transform ran N times on KEY (for wait_until).
ran() {
	[ "$(runs "$1")" = "$2" ]
}

# logged N PATTERN: daemon.log has at least N lines matching PATTERN.
logged() {
	[ "$(grep -cE -- "$2" "$T/daemon.log")" -ge "$1" ]
}

# counting_config FILE [WATCH-ATTRIBUTES] [TRIGGER-ATTRIBUTES]: a config
# copying $T/inbox to $T/outbox with the counting transform.
counting_config() {
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="2" timeout="20s" grace="5s"/>
  <watch name="in" type="folder" path="$T/inbox" recursive="yes" ${2:-}/>
  <trigger name="count" watch="in" ${3:-}>
    <transform plugin="counting">
      <param name="log" value="$T/runs.log"/>
    </transform>
    <output path="$T/outbox/{dir}/{name}"/>
  </trigger>
</objtrigger>
XML
}

# use_test_plugins: one plugin folder with the built transforms and the
# test ones (counting, the broken ones).
# sleeper_config TRIGGER GRACE [EXTRA-PARAM] [FIRST]: ot.xml with one worker,
# a watch on $T/inbox and an exec trigger whose job runs the shell command
# FIRST, notes its key in $T/started, sleeps as many seconds as its file
# says and copies it to $T/outbox/TRIGGER-KEY.
sleeper_config() {
	cat >ot.xml <<XML
<objtrigger>
  <state path="$T/state"/>
  <workers count="1" timeout="30s" grace="$2"/>
  <watch name="in" type="folder" path="$T/inbox"/>
  <trigger name="$1" watch="in">
    <transform plugin="exec">
      <param name="arg" value="/bin/sh"/>
      <param name="arg" value="-c"/>
      <param name="arg" value="${4:-}echo \$OBJTRIGGER_KEY >>$T/started; sleep \$(cat \$OBJTRIGGER_INPUT); cp \$OBJTRIGGER_INPUT out"/>
      ${3:-}
    </transform>
    <output path="$T/outbox/$1-{key}"/>
  </trigger>
</objtrigger>
XML
}

use_test_plugins() {
	mkdir -p "$T/plugins"
	for f in "$OBJTRIGGER_PLUGIN_DIR"/*.so "$BROKEN_PLUGIN_DIR"/*.so; do
		ln -sf "$f" "$T/plugins/"
	done
	OBJTRIGGER_PLUGIN_DIR=$T/plugins
	export OBJTRIGGER_PLUGIN_DIR
}

# free_port: a TCP port in 20000-31999 that nothing on this machine holds,
# in any state: below the kernel's ephemeral ports (32768 and up), which a
# client's connection elsewhere could take between this check and the
# bind.
free_port() {
	_fp_n=0
	while [ "$_fp_n" -lt 100 ]; do
		_fp_n=$((_fp_n + 1))
		_fp=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_fp=$((20000 + _fp % 12000))
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		    awk -v p=":$(printf '%04X' "$_fp")" '$2 ~ p"$" { f = 1 } END { exit !f }' ||
		    { echo "$_fp"; return 0; }
	done
	return 1
}

# http_code URL [CURL-ARGS...]: the HTTP status of a request (000 if none
# came); the body in $T/body, the headers in $T/headers.
http_code() {
	_hc_url=$1
	shift
	curl --noproxy '*' -s --max-time 30 -o "$T/body" -D "$T/headers" \
	    -w '%{http_code}' "$@" "$_hc_url"
}

# http_up URL: GET URL answers 200 (for wait_until).
http_up() {
	[ "$(curl --noproxy '*' -s --max-time 2 -o /dev/null -w '%{http_code}' "$1")" = 200 ]
}

# promtool_path: the path of Prometheus's own promtool ($PROMTOOL, or on
# PATH). Debian has it only in the package "prometheus", which would start
# a server if installed: so the first call downloads that package into
# $top_builddir/.cache and takes promtool alone out of it. Returns 1 (with
# the reason on stderr) if it cannot be had.
promtool_path() {
	if [ -n "${PROMTOOL:-}" ]; then
		echo "$PROMTOOL"
		return 0
	fi
	command -v promtool && return 0
	_pt=${top_builddir:?}/.cache/promtool
	if [ ! -x "$_pt" ]; then
		mkdir -p "${_pt%/*}" && _ptd=$(mktemp -d "$_pt.XXXXXX") || return 1
		if (cd "$_ptd" && apt-get download prometheus &&
		    dpkg-deb --fsys-tarfile prometheus_*.deb |
		    tar -x ./usr/bin/promtool) >"$_ptd.log" 2>&1; then
			mv -f "$_ptd/usr/bin/promtool" "$_pt"
		else
			cat "$_ptd.log" >&2
		fi
		rm -rf "$_ptd" "$_ptd.log"
		[ -x "$_pt" ] || return 1
	fi
	echo "$_pt"
}

# check_metrics FILE: FILE is the Prometheus text format, as promtool
# reads it (parse and lint), and as prom.py reads it (what promtool lets
# through: the same series twice, families apart, bad histograms). The
# reasons on stderr.
check_metrics() {
	python3 "$top_srcdir/integration-tests/prom.py" check "$1" || return 1
	_cm=$(promtool_path) || {
		echo "promtool cannot be had: checked by prom.py alone" >&2
		return 0
	}
	"$_cm" check metrics <"$1" >&2
}

# metric FILE NAME [LABEL=VALUE...]: the value of that one series in the
# metrics text FILE; fails if there is none.
metric() {
	python3 "$top_srcdir/integration-tests/prom.py" value "$@"
}

# metric_sum FILE NAME [LABEL=VALUE...]: the sum over the series NAME
# with those labels (and any others); 0 if none.
metric_sum() {
	python3 "$top_srcdir/integration-tests/prom.py" sum "$@"
}
