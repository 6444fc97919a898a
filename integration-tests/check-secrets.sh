#!/bin/sh
# check-secrets.sh - a token-file or credentials-file is refused, with its
# reason, when it is not a regular file (a FIFO must not hang "check" nor
# a reload), when its group or others may write it, or when it is a
# symlink to such a file; a file of mode 600 is taken.
. "$top_srcdir/integration-tests/lib.sh"

command -v timeout >/dev/null || skip "no timeout(1)"

printf 'tok-s3cr3t\n' >good.token
printf 'access-key = AK\nsecret-key = SK\n' >good.cred
chmod 600 good.token good.cred

# secrets_config FILE TOKEN-FILE CREDENTIALS-FILE: the store on line 3,
# the webhook on line 5.
secrets_config() {
	cat >"$1" <<XML
<objtrigger>
  <state path="$T/state"/>
  <store name="s3" endpoint="http://127.0.0.1:1" region="default" credentials-file="$3"/>
  <http listen="127.0.0.1:${PORT:-9464}"/>
  <watch name="hook" type="s3-webhook" path="/events/in" store="s3" token-file="$2"/>
</objtrigger>
XML
}

# bad_files EXT: the refused files of each kind, made afresh, by name;
# their content is the good one, so only their kind or mode is wrong.
bad_files() {
	rm -rf "fifo.$1" "g-w.$1" "o-w.$1" "link.$1" "target.$1" "dir.$1"
	mkfifo "fifo.$1" || exit 99
	cp "good.$1" "g-w.$1" && chmod 620 "g-w.$1" || exit 99
	cp "good.$1" "o-w.$1" && chmod 602 "o-w.$1" || exit 99
	cp "good.$1" "target.$1" && chmod 666 "target.$1" || exit 99
	ln -s "target.$1" "link.$1" || exit 99
	mkdir "dir.$1" || exit 99
}

# refused ATTRIBUTE FILE REASON: check with FILE as the token-file or the
# credentials-file exits 1 within 10 seconds, with one error, on the
# line of that attribute, naming it, the file and the reason.
refused() {
	case $1 in
	token-file) secrets_config bad.xml "$2" good.cred; _at='5: <watch' ;;
	*) secrets_config bad.xml good.token "$2"; _at='3: <store' ;;
	esac
	run 1 timeout 10 "$OBJTRIGGER" check -c bad.xml
	no_sanitizer_report
	expect "$T/stderr" "bad.xml:$_at $1=\"$2\">: $2 $3"
	expect "$T/stderr" "bad.xml: 1 error"
}

for kind in token cred; do
	attr=token-file
	[ "$kind" = cred ] && attr=credentials-file
	bad_files "$kind"
	refused "$attr" "fifo.$kind" "is not a regular file"
	refused "$attr" "dir.$kind" "is not a regular file"
	refused "$attr" "g-w.$kind" "is writable by its group or others"
	refused "$attr" "o-w.$kind" "is writable by its group or others"
	refused "$attr" "link.$kind" "is writable by its group or others"
	# Readable by others is refused, as it was.
	cp "good.$kind" "o-r.$kind" && chmod 604 "o-r.$kind" || exit 99
	refused "$attr" "o-r.$kind" "can be read by others than its owner"
	# A symlink to a good file is judged by that file: taken.
	ln -sf "good.$kind" "good-link.$kind"
	if [ "$kind" = token ]; then
		secrets_config ok.xml good-link.token good.cred
	else
		secrets_config ok.xml good.token good-link.cred
	fi
	run 0 timeout 10 "$OBJTRIGGER" check -c ok.xml
	no_sanitizer_report
	expect "$T/stdout" "ok.xml: OK: 1 watch"
done

# Both good: taken.
secrets_config ok.xml good.token good.cred
run 0 timeout 10 "$OBJTRIGGER" check -c ok.xml
no_sanitizer_report
expect "$T/stdout" "ok.xml: OK: 1 watch"

# A reload onto a FIFO token-file neither hangs nor takes it: the daemon
# keeps its old config and still answers.
PORT=$(free_port) || fail "no free port"
secrets_config run.xml "$T/live.token" "$T/good.cred"
cp good.token live.token && chmod 600 live.token || exit 99
start_daemon run.xml
wait_until 20 http_up "http://127.0.0.1:$PORT/healthz" ||
    { cat daemon.log; fail "no /healthz"; }
rm -f live.token && mkfifo live.token || exit 99
kill -HUP "$DAEMON_PID"
wait_until 10 logged 1 'the new config has errors: the old one stays in force' ||
    { cat daemon.log; fail "the reload onto a FIFO did not end"; }
expect daemon.log "live.token is not a regular file"
http_up "http://127.0.0.1:$PORT/healthz" ||
    { cat daemon.log; fail "the daemon no longer answers after the reload"; }
# The same with a group-writable token.
rm -f live.token && cp good.token live.token && chmod 660 live.token || exit 99
kill -HUP "$DAEMON_PID"
wait_until 10 logged 2 'the new config has errors: the old one stays in force' ||
    { cat daemon.log; fail "the reload onto a group-writable token did not end"; }
expect daemon.log "live.token is writable by its group or others"
stop_daemon
cp daemon.log stderr && no_sanitizer_report
exit 0
