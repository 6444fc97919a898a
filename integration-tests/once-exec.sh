#!/bin/sh
# once-exec.sh - the exec transform: argv without a shell, placeholders,
# environment, standard input, exit statuses.
. "$top_srcdir/integration-tests/lib.sh"

name="a b  'q' \"d\";\$(touch pwned);\`touch pwned2\` & |x"
printf 'line 1\nline 2\n' >"$name"

# Each argument arrives whole: printf prints one line per argument.
run 0 "$OBJTRIGGER" once exec "$name" out \
    -p arg=/bin/sh -p arg=-c \
    -p 'arg=printf "%s\n" "$@" >args; cat >stdin; cat "$1" >byname; env >env' \
    -p arg=sh -p 'arg={input}' -p 'arg=--name={name}' -p 'arg={key}' \
    -p 'env=EXTRA=1' -p 'env=LANG=C.UTF-8'
printf '%s\n' /proc/self/fd/3 "--name=$name" "$name" >want
cmp want out/args || { cat out/args; fail "arguments were changed"; }
cmp "$name" out/stdin || fail "standard input is not the input"
cmp "$name" out/byname || fail "{input} does not open the input"
expect out/env "OBJTRIGGER_KEY=$name"
expect out/env "OBJTRIGGER_INPUT=/proc/self/fd/3"
expect out/env "OBJTRIGGER_SIZE=14"
expect out/env "OBJTRIGGER_EVENT=created"
expect out/env "OBJTRIGGER_TRIGGER=once"
expect out/env "OBJTRIGGER_BUCKET=$T"
expect out/env "OBJTRIGGER_OUTDIR=$T/out/.objtrigger-once-"
expect out/env "TMPDIR=$T/out/.objtrigger-once-"
expect out/env "EXTRA=1"
[ "$(grep -c '^LANG=' out/env)" = 1 ] && expect out/env "LANG=C.UTF-8"
[ ! -e pwned ] && [ ! -e pwned2 ] && [ ! -e out/pwned ] ||
    fail "a name reached a shell"
no_sanitizer_report

# Temporary files stay private to the job: not outputs, and removed.
run 0 "$OBJTRIGGER" once exec "$name" out4 -p arg=/bin/sh -p arg=-c \
    -p 'arg=echo scratch >"$TMPDIR/t"; cp "$TMPDIR/t" result'
[ "$(ls -A out4)" = result ] || fail "temporary files became outputs: $(ls -A out4)"

# The daemon's secrets are not in the command's environment.
SECRET_KEY=hunter2 run 0 "$OBJTRIGGER" once exec "$name" out2 \
    -p arg=/bin/sh -p arg=-c -p 'arg=env >env'
grep -q hunter2 out2/env && fail "the environment leaked into the command"

# Exit 75 asks for a retry, other statuses reject; stderr is the reason.
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=/bin/sh -p arg=-c \
    -p 'arg=echo the store is busy >&2; exit 75'
expect "$T/stderr" "failed (retry): /bin/sh asked for a retry (exit 75): the store is busy"
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=/bin/sh -p arg=-c \
    -p 'arg=echo bad input >&2; echo second line >&2; exit 4'
expect "$T/stderr" "failed (reject): /bin/sh exited with status 4: bad input | second line"
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=no-such-command-here
expect "$T/stderr" "cannot run no-such-command-here: No such file or directory"

# stderr is bounded.
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=/bin/sh -p arg=-c \
    -p 'arg=head -c 1000000 /dev/zero | tr "\0" x >&2; exit 1' \
    -p stderr-limit=100
[ "$(wc -c <"$T/stderr")" -lt 400 ] || fail "stderr was not bounded"

# An env that is not NAME=VALUE; a -p written as one word.
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=true -p env=JUSTNAME
expect "$T/stderr" "env 'JUSTNAME' is not NAME=VALUE"
run 0 "$OBJTRIGGER" once exec "$name" out5 -parg=/bin/sh -parg=-c \
    '-parg=echo joined >joined'
[ "$(cat out5/joined)" = joined ] || fail "-pNAME=VALUE was not taken"

# Parameters are checked before anything runs.
run 1 "$OBJTRIGGER" once exec "$name" out3
expect "$T/stderr" "plugin 'exec' needs the parameter 'arg'"
run 1 "$OBJTRIGGER" once exec "$name" out3 -p arg=true -p stderr-limit=big
expect "$T/stderr" "-p stderr-limit=big: parameter 'stderr-limit' of plugin 'exec' is size"
no_sanitizer_report

# What the command prints goes to the log, tagged with the job and
# escaped, never straight to objtrigger's stderr: a printed line cannot
# pass for one of objtrigger's own.
run 0 "$OBJTRIGGER" -v once exec "$name" out5 -p arg=/bin/sh -p arg=-c \
    -p 'arg=printf "out 1\nobjtrigger: error: forged\n"; printf "err\033[31m\n" >&2; echo made >made'
expect "$T/stderr" "job once trigger=once: /bin/sh stdout: out 1 | objtrigger: error: forged"
expect "$T/stderr" 'job once trigger=once: /bin/sh stderr: err\x1b[31m'
! grep -q '^objtrigger: error: forged' "$T/stderr" ||
    fail "a command forged a log line"
