#!/bin/sh
# run.sh - runs each fuzz target for FUZZ_SECONDS seconds (make fuzz).
#
#   run.sh SRCDIR TARGET...
#
# Each target starts from its committed corpus, SRCDIR/corpus/NAME, and
# writes what it finds to a scratch corpus, fuzz/work/NAME/corpus, never
# into the source tree. Prints the final stats line of each; fails if any
# target crashed, leaked, timed out or printed a sanitizer report, and
# then names the input (fuzz/work/NAME/crash-..., leak-..., timeout-...).
set -u
srcdir=$1
shift
seconds=${FUZZ_SECONDS:-}
if [ -z "$seconds" ]; then
	echo "fuzz: built $*; make fuzz FUZZ_SECONDS=N runs each for N seconds"
	exit 0
fi
case $seconds in
*[!0-9]*) echo "fuzz: FUZZ_SECONDS=$seconds is not a number" >&2; exit 2 ;;
esac

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

failed=0
ntargets=$#
for target in "$@"; do
	name=$(basename "$target")
	work=fuzz/work/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" || exit 2
	set -- -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/"
	[ -f "$srcdir/$name.dict" ] && set -- "$@" -dict="$srcdir/$name.dict"
	# shellcheck disable=SC2046 # the options are words, split on purpose
	[ -f "$srcdir/$name.options" ] && set -- "$@" $(cat "$srcdir/$name.options")
	"$target" "$@" "$work/corpus" "$srcdir/corpus/$name" \
	    >"$work/log" 2>&1
	rc=$?
	stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1)
	[ -n "$stats" ] ||
	    stats=$(grep -E '^#[0-9]+[[:space:]]' "$work/log" | tail -n 1)
	corpus=$(find "$work/corpus" -type f | wc -l)
	echo "$name: ${stats:-no stats} (new: $corpus)"
	if [ "$rc" != 0 ] ||
	    grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|fuzz: broken promise' \
	    "$work/log"; then
		echo "$name: FAILED (exit $rc); the report, from $work/log:"
		sed -n '/ERROR: \|runtime error:\|broken promise/,/^SUMMARY/p' \
		    "$work/log" | sed 's/ (BuildId: [0-9a-f]*)//' | head -n 40
		for input in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		    "$work"/oom-* "$work"/slow-unit-*; do
			[ -f "$input" ] && echo "$name: input: $input"
		done
		failed=$((failed + 1))
	fi
done
if [ "$failed" != 0 ]; then
	echo "fuzz: $failed of $ntargets targets failed"
	exit 1
fi
echo "fuzz: $ntargets targets ran ${seconds}s each, nothing found"
