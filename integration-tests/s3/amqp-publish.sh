# amqp-publish.sh - an s3-poll watch with publish= sends each event to the
# broker's exchange (persistent, routing key = the watch's name,
# message_id = the event's identity, the AWS record shape) and keeps it in
# the journal's outbox until the broker confirms it: a message no queue
# takes (returned) or one a full queue refuses (nacked) stays and is sent
# again, and so are those of a broker that is down, once it is back;
# /healthz and /metrics say so; a reload goes on publishing. Consumed
# here by a plain client.
[ -n "${RABBITMQ_URL:-}" ] || skip "no RabbitMQ broker"
. "$top_srcdir/integration-tests/s3lib.sh"
. "$top_srcdir/integration-tests/publish-lib.sh"

rgw_bucket pub || fail "no bucket"
port=$(free_port) || fail "no free port"
publish_config ot.xml "$port" photos \
    'type="s3-poll" store="rgw" bucket="pub" interval="300ms" start="beginning"'
run 0 "$OBJTRIGGER" check -c ot.xml

# No queue is bound for "photos": the exchange returns the messages.
put pub a.jpg && put pub "dir/b c+d.jpg" || fail "no upload"
start_daemon ot.xml
wait_until 30 logged 1 'routes messages with key photos to no queue' ||
    { cat daemon.log; fail "the returns were not seen"; }
sleep 1
[ "$(outbox)" = 2 ] || { cat daemon.log; fail "the outbox lost returned messages: $(outbox)"; }

# Bound: they are sent again, confirmed, and leave the outbox.
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" declare pub.q objtrigger photos
wait_until 30 outbox_empty || { cat daemon.log; fail "the outbox kept $(outbox)"; }
expect daemon.log 'messages reach a queue again'
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" consume pub.q 1000
consumed "$T/stdout" >got.txt
printf 'created pub a.jpg\ncreated pub dir/b c+d.jpg\n' >want.txt
cmp -s want.txt got.txt || { diff want.txt got.txt; fail "other messages"; }
# The id is the SHA-256 of the event: 64 hex digits, one per event.
cut -f1 "$T/stdout" | grep -cxE '[0-9a-f]{64}' | grep -qx 2 ||
    { cat "$T/stdout"; fail "message ids are not SHA-256 digests"; }
grep -q '"eventSource":"aws:s3"' "$T/stdout" || fail "not the AWS shape"

# A full queue refuses (nack): what it refused is sent again once it has
# room, and nothing is lost.
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" delete pub.q
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" declare pub.q objtrigger photos 1
for k in n1 n2 n3; do put pub "$k.jpg" || fail "no upload"; done
wait_until 30 logged 1 'refused \(basic.nack\)' ||
    { cat daemon.log; fail "no nack"; }
"$AMQP_CLIENT" "$RABBITMQ_PORT" consume pub.q 15000 >nacked.out &
cpid=$!
wait_until 60 outbox_empty || { cat daemon.log; fail "the outbox kept $(outbox)"; }
wait "$cpid"
consumed nacked.out | sort -u >got.txt
printf 'created pub n1.jpg\ncreated pub n2.jpg\ncreated pub n3.jpg\n' >want.txt
cmp -s want.txt got.txt || { diff want.txt got.txt; fail "nacked messages were lost"; }

# The broker stops: events wait in the outbox, /healthz says why; the
# broker is back: they are sent, without a restart of the daemon.
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" delete pub.q
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" declare pub.q objtrigger photos
rabbitmq_stop || fail "the broker did not stop"
for k in d1 d2 d3; do put pub "$k.jpg" || fail "no upload"; done
wait_until 30 outbox_holds 3 || { cat daemon.log; fail "not in the outbox: $(outbox)"; }
[ "$(http_code "http://127.0.0.1:$port/healthz")" = 503 ] || fail "healthz is not 503"
expect "$T/body" "broker mq, published to, is down"
expect "$T/body" "(3 events wait in the outbox)"
[ "$(http_code "http://127.0.0.1:$port/metrics")" = 200 ] || fail "no metrics"
[ "$(metric "$T/body" objtrigger_outbox_messages broker=mq)" = 3 ] ||
    { grep outbox "$T/body"; fail "the outbox gauge is not 3"; }
check_metrics "$T/body" || fail "the metrics do not parse"
rabbitmq_restart || fail "the broker did not start again"
wait_until 60 outbox_empty || { cat daemon.log; fail "the outbox kept $(outbox)"; }
wait_until 30 http_up "http://127.0.0.1:$port/healthz" || fail "healthz stays down"
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" consume pub.q 1000
consumed "$T/stdout" | sort -u >got.txt
printf 'created pub d1.jpg\ncreated pub d2.jpg\ncreated pub d3.jpg\n' >want.txt
cmp -s want.txt got.txt || { diff want.txt got.txt; fail "messages were lost in the outage"; }

# A reload makes the publisher again: it goes on.
kill -HUP "$DAEMON_PID"
wait_until 30 logged 1 'info: reloaded' || { cat daemon.log; fail "no reload"; }
put pub r1.jpg || fail "no upload"
run 0 "$AMQP_CLIENT" "$RABBITMQ_PORT" consume pub.q 5000
[ "$(consumed "$T/stdout")" = "created pub r1.jpg" ] ||
    { cat "$T/stdout"; fail "nothing published after the reload"; }
stop_daemon
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" daemon.log || fail "sanitizer report"
exit 0
