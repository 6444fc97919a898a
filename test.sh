#!/bin/sh
# test.sh - installs what is missing, builds with ASan and UBSan, and runs
# every test, then each fuzz target for FUZZ_SECONDS (10) seconds, then
# make distcheck (with a few tests; all of them when FULL=1). Its last
# line is the tally.
set -u
cd "$(dirname "$0")" || exit 1
top=$PWD
build=$top/_build/test

tally() {
	echo "$1 passed, $2 failed, $3 skipped"
	exit "$4"
}

. ./build-aux/deps.sh
ot_install_missing $OT_BUILD_PACKAGES $OT_TEST_PACKAGES ||
    { echo "test.sh: cannot install the packages"; tally 0 1 0 1; }
[ -x configure ] || autoreconf -fi || tally 0 1 0 1
mkdir -p "$build" && cd "$build" || tally 0 1 0 1
if [ ! -f Makefile ]; then
	"$top/configure" --enable-sanitizers --enable-werror ||
	    { echo "test.sh: configure failed"; tally 0 1 0 1; }
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" || { echo "test.sh: the build failed"; tally 0 1 0 1; }
make -j"$jobs" check
rc=$?

count() {
	sed -n "s/^# $1: *//p" test-suite.log 2>/dev/null | head -n 1
}
pass=$(count PASS) fail=$(count FAIL) error=$(count ERROR)
xpass=$(count XPASS) xfail=$(count XFAIL) skip=$(count SKIP)
pass=$((${pass:-0} + ${xfail:-0}))
failed=$((${fail:-0} + ${error:-0} + ${xpass:-0}))
[ "$rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1

# why: what each failed test said (its "not ok" lines with the comments
# under them, or the end of its log), printed again at the end of the
# run, where a reader of a long run's last lines finds it.
why() {
	find . -name '*.trs' -exec grep -l '^:test-result: \(FAIL\|ERROR\|XPASS\)' {} + |
	    sort | while read -r trs; do
		log=${trs%.trs}.log
		echo "== ${log#./}"
		if grep -q '^not ok' "$log"; then
			awk '/^not ok/ { p = 1; print; next }
			    /^ok / { p = 0 } p && /^#/' "$log" | head -n 80
		else
			tail -n 30 "$log"
		fi
	done
}
why >failed.txt 2>&1

# A sanitizer report anywhere fails the run, even in a test that passed.
reports=$(grep -rlE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    --include='*.log' . 2>/dev/null | grep -v '^./config.log$')
if [ -n "$reports" ]; then
	echo "test.sh: sanitizer reports in: $reports"
	failed=$((failed + 1))
fi

if command -v clang-format >/dev/null 2>&1; then
	make check-format || { echo "test.sh: run make format"; failed=$((failed + 1)); }
fi
# The fuzz targets, each for a few seconds from its corpus, in a build of
# their own (clang, libFuzzer); one failure in the tally if any finds one.
if command -v clang >/dev/null 2>&1; then
	fuzz=$top/_build/fuzz
	if mkdir -p "$fuzz" && cd "$fuzz" &&
	    { [ -f Makefile ] ||
		"$top/configure" --enable-fuzzing CC=clang >/dev/null; } &&
	    make -j"$jobs" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"; then
		pass=$((pass + 1))
	else
		echo "test.sh: make fuzz failed (logs in $fuzz/fuzz/work)"
		failed=$((failed + 1))
	fi
	cd "$build" || failed=$((failed + 1))
else
	echo "test.sh: no clang: the fuzz targets did not run"
	skip=$((${skip:-0} + 1))
fi
# make distcheck, one test in the tally: with a few tests (make
# distcheck-quick: the suite above already ran), or with every test when
# FULL=1.
if [ "${FULL:-0}" = 1 ]; then
	target=distcheck
else
	target=distcheck-quick
fi
if make -j"$jobs" $target >distcheck.log 2>&1; then
	pass=$((pass + 1))
else
	tail -n 40 distcheck.log
	echo "test.sh: make $target failed (all of its output in $build/distcheck.log)"
	failed=$((failed + 1))
fi
if [ -s failed.txt ]; then
	echo "test.sh: the failed tests said:"
	cat failed.txt
fi
[ "$failed" = 0 ]
tally "$pass" "$failed" "${skip:-0}" $?
