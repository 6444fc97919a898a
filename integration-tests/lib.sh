# lib.sh - shared by the integration tests: a scratch folder and checks.
# Exit codes follow automake: 0 pass, 77 skip, 99 hard error, else fail.

set -u
: "${OBJTRIGGER:?run through make check}"
: "${top_srcdir:?run through make check}"

T=$(mktemp -d "${TMPDIR:-/tmp}/objtrigger-test.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
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
	want=$1
	shift
	"$@" >"$T/stdout" 2>"$T/stderr"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$T/stdout"
		echo "--- stderr"; cat "$T/stderr"
		fail "'$*' exited $got, expected $want"
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
