# rabbitmq.sh - a real RabbitMQ broker on loopback for the broker tests,
# run as an ordinary process (not the system's service) with its own
# ports, Erlang cookie and data folder. Sourced by the tests, after
# rgw.sh (whose free-port picker it uses); binds and talks to 127.0.0.1
# only.
#
#   rabbitmq_install       installs rabbitmq-server if missing
#   rabbitmq_start DIR     starts a broker with its state in DIR, with a
#                          durable topic exchange "objtrigger", and
#                          exports RABBITMQ_DIR, RABBITMQ_PORT and
#                          RABBITMQ_URL (amqp://127.0.0.1:PORT/%2F); the
#                          login is guest/guest, from loopback only
#   rabbitmq_stop          stops it (rabbitmqctl stop, then its pids)
#   rabbitmq_restart       stops it and starts it again on the same port,
#                          with the same data (queues and messages kept)
#   rabbitmq_kill          kills it with SIGKILL (its data stays)
#   rabbitmq_running       it is alive
#   rabbitmqctl ARGS       rabbitmqctl on this broker
#   rabbitmq_depth QUEUE   the messages QUEUE holds (ready and unacked),
#                          nothing if there is none, "?" if unknown
#   rabbitmq_unacked QUEUE the messages of QUEUE a consumer holds
#   rabbitmq_publish KEY FILE  FILE to the exchange objtrigger, key KEY
#
# They return non-zero after a message on stderr; they never exit.

. "$top_srcdir/integration-tests/rgw.sh"

: "${RABBITMQ_WAIT:=60}"
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

rabbitmq_install() {
	ot_install_missing $OT_BROKER_PACKAGES
}

# rabbitmq_running: the broker of RABBITMQ_DIR is alive.
rabbitmq_running() {
	_rabbitmq_pid beam >/dev/null
}

_rabbitmq_say() {
	echo "rabbitmq: $1" >&2
	if [ -n "${RABBITMQ_DIR:-}" ] && [ -s "$RABBITMQ_DIR/server.out" ]; then
		echo "rabbitmq: --- last lines of $RABBITMQ_DIR/server.out" >&2
		tail -n 25 "$RABBITMQ_DIR/server.out" >&2
	fi
	return 1
}

# _rabbitmq_env: the environment the server and its tools read, all of it
# under RABBITMQ_DIR (HOME too: the Erlang cookie is $HOME/.erlang.cookie).
_rabbitmq_env() {
	HOME=$RABBITMQ_DIR
	RABBITMQ_NODENAME=rabbit@localhost
	RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
	RABBITMQ_NODE_PORT=$RABBITMQ_PORT
	RABBITMQ_DIST_PORT=$RABBITMQ_DIST
	ERL_EPMD_ADDRESS=127.0.0.1
	ERL_EPMD_PORT=$RABBITMQ_EPMD
	RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
	RABBITMQ_MNESIA_BASE=$RABBITMQ_DIR/mnesia
	RABBITMQ_LOG_BASE=$RABBITMQ_DIR/log
	RABBITMQ_PID_FILE=$RABBITMQ_DIR/beam.pid
	RABBITMQ_CONFIG_FILE=$RABBITMQ_DIR/rabbitmq
	RABBITMQ_ENABLED_PLUGINS_FILE=$RABBITMQ_DIR/enabled_plugins
	RABBITMQ_FEATURE_FLAGS_FILE=$RABBITMQ_DIR/mnesia/feature_flags
	export HOME RABBITMQ_NODENAME RABBITMQ_NODE_IP_ADDRESS \
	    RABBITMQ_NODE_PORT RABBITMQ_DIST_PORT ERL_EPMD_ADDRESS \
	    ERL_EPMD_PORT RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS \
	    RABBITMQ_MNESIA_BASE RABBITMQ_LOG_BASE RABBITMQ_PID_FILE \
	    RABBITMQ_CONFIG_FILE RABBITMQ_ENABLED_PLUGINS_FILE \
	    RABBITMQ_FEATURE_FLAGS_FILE
}

rabbitmqctl() {
	( _rabbitmq_env && timeout 60 "$RABBITMQ_BIN/rabbitmqctl" -q "$@" )
}

_rabbitmq_listening() {
	_rgw_port_used "$RABBITMQ_PORT" 0A
}

# _rabbitmq_pid NAME: the pid in DIR/NAME.pid if it is alive.
_rabbitmq_pid() {
	_rabbitmq_p=$(cat "$RABBITMQ_DIR/$1.pid" 2>/dev/null) || return 1
	case "$_rabbitmq_p" in '' | *[!0-9]*) return 1 ;; esac
	_rgw_alive "$_rabbitmq_p" || return 1
	echo "$_rabbitmq_p"
}

# _rabbitmq_launch: starts epmd and the server, waits until AMQP answers.
_rabbitmq_launch() {
	( _rabbitmq_env
	  "$(ls /usr/lib/erlang/erts-*/bin/epmd | head -1)" \
	      -address 127.0.0.1 -port "$RABBITMQ_EPMD" \
	      >>"$RABBITMQ_DIR/epmd.out" 2>&1 &
	  echo $! >"$RABBITMQ_DIR/epmd.pid"
	  "$RABBITMQ_BIN/rabbitmq-server" >>"$RABBITMQ_DIR/server.out" 2>&1 &
	  echo $! >"$RABBITMQ_DIR/launcher.pid" ) || return 1
	_rgw_wait "$RABBITMQ_WAIT" _rabbitmq_listening ||
	    { _rabbitmq_say "the broker does not listen on $RABBITMQ_PORT"; return 1; }
	rabbitmqctl await_startup >/dev/null 2>&1 ||
	    _rabbitmq_say "the broker did not finish starting"
}

rabbitmq_start() {
	[ -n "${1:-}" ] || { _rabbitmq_say "usage: rabbitmq_start DIR"; return 1; }
	rabbitmq_install || { _rabbitmq_say "cannot install rabbitmq-server"; return 1; }
	mkdir -p "$1/mnesia" "$1/log" && RABBITMQ_DIR=$(cd "$1" && pwd) ||
	    return 1
	export RABBITMQ_DIR
	no_proxy=127.0.0.1,localhost${no_proxy:+,$no_proxy}
	NO_PROXY=$no_proxy
	export no_proxy NO_PROXY
	# Three ports, all below the ephemeral range (see rgw.sh).
	_rgw_pick_port RABBITMQ_PORT && _rgw_pick_port RABBITMQ_DIST &&
	    _rgw_pick_port RABBITMQ_EPMD || { _rabbitmq_say "no free port"; return 1; }
	export RABBITMQ_PORT RABBITMQ_DIST RABBITMQ_EPMD
	RABBITMQ_URL=amqp://127.0.0.1:$RABBITMQ_PORT/%2F
	export RABBITMQ_URL
	printf 'listeners.tcp.default = 127.0.0.1:%s\nloopback_users.guest = true\n' \
	    "$RABBITMQ_PORT" >"$RABBITMQ_DIR/rabbitmq.conf"
	echo '[].' >"$RABBITMQ_DIR/enabled_plugins"
	_rabbitmq_launch || return 1
	rabbitmqctl eval 'rabbit_exchange:declare(rabbit_misc:r(<<"/">>,
	    exchange, <<"objtrigger">>), topic, true, false, false, [],
	    <<"test">>).' >/dev/null ||
	    _rabbitmq_say "cannot declare the exchange"
}

# _rabbitmq_kill NAME SIGNAL: the process of DIR/NAME.pid, gone.
_rabbitmq_kill() {
	_rabbitmq_victim=$(_rabbitmq_pid "$1") || { rm -f "$RABBITMQ_DIR/$1.pid"; return 0; }
	kill "-$2" "$_rabbitmq_victim" 2>/dev/null
	_rgw_wait 15 eval '! _rgw_alive $_rabbitmq_victim' ||
	    kill -KILL "$_rabbitmq_victim" 2>/dev/null
	_rgw_wait 5 eval '! _rgw_alive $_rabbitmq_victim'
	rm -f "$RABBITMQ_DIR/$1.pid"
}

rabbitmq_stop() {
	[ -n "${RABBITMQ_DIR:-}" ] && [ -d "$RABBITMQ_DIR" ] || return 0
	_rabbitmq_pid beam >/dev/null && rabbitmqctl stop >/dev/null 2>&1
	_rabbitmq_kill beam TERM
	_rabbitmq_kill launcher TERM
	_rabbitmq_kill epmd TERM
}

rabbitmq_kill() {
	: "${RABBITMQ_DIR:?rabbitmq_start first}"
	_rabbitmq_kill beam KILL
	_rabbitmq_kill launcher KILL
}

rabbitmq_restart() {
	: "${RABBITMQ_DIR:?rabbitmq_start first}"
	rabbitmq_stop
	_rgw_wait 15 eval '! _rabbitmq_listening' ||
	    { _rabbitmq_say "port $RABBITMQ_PORT still taken"; return 1; }
	_rabbitmq_launch
}

# rabbitmq_depth QUEUE: messages in QUEUE, ready or unacked; nothing if
# there is no such queue.
rabbitmq_depth() {
	_rabbitmq_column "$1" messages
}

# rabbitmq_unacked QUEUE: the messages of QUEUE a consumer holds.
rabbitmq_unacked() {
	_rabbitmq_column "$1" messages_unacknowledged
}

# _rabbitmq_column QUEUE COLUMN: COLUMN of list_queues for QUEUE. On a
# loaded machine rabbitmqctl sometimes fails to reach the node: it tries
# three times, then prints "?" (which no check takes for a count or for
# an absent queue) and the error on stderr.
_rabbitmq_column() {
	for _rabbitmq_try in 1 2 3; do
		_rabbitmq_out=$(rabbitmqctl list_queues name "$2" 2>&1) && {
			printf '%s\n' "$_rabbitmq_out" |
			    awk -v q="$1" '$1 == q { print $2 }'
			return
		}
		sleep 1
	done
	echo "rabbitmqctl list_queues: $_rabbitmq_out" >&2
	echo "?"
}

# rabbitmq_publish KEY FILE: publishes FILE's bytes to the exchange
# "objtrigger" with routing key KEY, persistent.
rabbitmq_publish() {
	rabbitmqctl eval "rabbit_basic:publish(rabbit_misc:r(<<\"/\">>,
	    exchange, <<\"objtrigger\">>), <<\"$1\">>, [{delivery_mode, 2}],
	    base64:decode(<<\"$(base64 -w0 "$2")\">>))." >/dev/null
}
