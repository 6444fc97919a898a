#!/bin/sh
# once-failures.sh - a command or a plugin that crashes, hangs or eats
# memory fails its job with a plain reason; the next run works.
. "$top_srcdir/integration-tests/lib.sh"

echo data >in.txt
works() {
	run 0 "$OBJTRIGGER" once copy in.txt ok
	cmp in.txt ok/in.txt || fail "copy after a failure"
}

run 1 "$OBJTRIGGER" once exec in.txt out -p arg=/bin/sh -p arg=-c \
    -p 'arg=kill -SEGV $$'
expect "$T/stderr" "failed (retry): /bin/sh was killed by signal 11 (Segmentation fault)"
works
run 1 "$OBJTRIGGER" once -t 1s exec in.txt out -p arg=sleep -p arg=60
expect "$T/stderr" "failed (retry): timed out after 1s and was killed"
works
run 1 "$OBJTRIGGER" once -m 128MiB exec in.txt out -p arg=perl -p arg=-e \
    -p 'arg=$x = "x" x (100 * 2**30)'
expect "$T/stderr" "failed (reject): perl exited with status"
expect "$T/stderr" "Out of memory"
works

# CPU time and file size limits.
run 1 "$OBJTRIGGER" once -C 1s -t 30s exec in.txt out -p arg=/bin/sh \
    -p arg=-c -p 'arg=while :; do :; done'
expect "$T/stderr" "failed (retry): /bin/sh was killed by signal 24 (CPU time limit exceeded)"
run 1 "$OBJTRIGGER" once -f 1MiB exec in.txt out -p arg=/bin/sh -p arg=-c \
    -p 'arg=exec head -c 2000000 /dev/zero >big'
expect "$T/stderr" "failed (retry): /bin/sh was killed by signal 25 (File size limit exceeded)"
works

# A hung command is killed with its worker: nothing is left running.
run 1 "$OBJTRIGGER" once -t 1s exec in.txt out -p arg=/bin/sh -p arg=-c \
    -p "arg=sleep 41$$ & sleep 42$$"
sleep 0.2
pgrep -f "sleep 4[12]$$" >/dev/null && fail "a command outlived its timeout"

# An output that cannot be put in place (a folder of its name is in the
# way) fails the run, and its path is not printed as if it were there.
mkdir -p blocked/in.txt/x
run 1 "$OBJTRIGGER" once copy in.txt blocked
expect "$T/stderr" "blocked/in.txt: Is a directory"
[ ! -s "$T/stdout" ] || { cat "$T/stdout"; fail "an output not in place was listed"; }

# The same for plugins that misbehave themselves.
OBJTRIGGER_PLUGIN_DIR=$BROKEN_PLUGIN_DIR
export OBJTRIGGER_PLUGIN_DIR
run 1 "$OBJTRIGGER" once crash in.txt out
expect "$T/stderr" "failed (retry): worker crashed: signal 11 (Segmentation fault)"
run 1 "$OBJTRIGGER" once -t 1s hang in.txt out
expect "$T/stderr" "failed (retry): timed out after 1s and was killed"
run 1 "$OBJTRIGGER" once -C 1s -t 30s spin in.txt out
expect "$T/stderr" "failed (retry): used more than its CPU time (limit 1s)"
run 1 "$OBJTRIGGER" once -m 128MiB hog in.txt out
expect "$T/stderr" "failed (retry): ran out of memory (limit 128MiB"
[ -z "$(ls -A out 2>/dev/null)" ] || fail "a failed job left output"
