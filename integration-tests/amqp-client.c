/* amqp-client.c - a plain RabbitMQ client for the broker tests and bench. */

/*
 * amqp-client PORT COMMAND ARGS..., talking to 127.0.0.1:PORT as
 * guest/guest on vhost /:
 *
 *   declare QUEUE EXCHANGE KEY [MAX]
 *                                a durable classic queue, bound with KEY;
 *                                with MAX, it holds at most MAX messages
 *                                and refuses more (basic.nack)
 *   quorum QUEUE EXCHANGE KEY    a quorum queue, bound with KEY
 *   delete QUEUE                 the queue, gone
 *   consume QUEUE IDLE_MS [PREFETCH]
 *                                acks every message and prints a line
 *                                for each, "MESSAGE_ID<TAB>BODY", until
 *                                none came for IDLE_MS; then exits 0
 *   publish EXCHANGE KEY COUNT RATE
 *                                COUNT messages in the AWS record shape,
 *                                persistent, with confirms (256 in
 *                                flight), RATE a second (0: as fast as
 *                                it can); message I's key is
 *                                "bench/I.PUBLISH_TIME_US"; prints the
 *                                seconds it took
 *   bare QUEUE COUNT PREFETCH    consumes and acks COUNT messages, as
 *                                fast as it can; prints the seconds from
 *                                the first to the last
 *
 * Exits 1 on an error, with a message on stderr.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_RABBITMQ_C_AMQP_H
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif

#define CHANNEL 1

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "amqp-client: %s: %s\n", what, why);
	exit(1);
}

/* Dies unless the last blocking call worked. */
static void
check_reply(amqp_connection_state_t conn, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
	char buf[256];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
		die(what, amqp_error_string2(r.library_error));
	if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_channel_close_t *c = r.reply.decoded;
		snprintf(buf, sizeof buf, "%u %.*s", c->reply_code,
		    (int)c->reply_text.len, (char *)c->reply_text.bytes);
		die(what, buf);
	}
	die(what, "the broker refused");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static amqp_connection_state_t
connect_to(int port)
{
	amqp_connection_state_t conn = amqp_new_connection();
	amqp_socket_t *sock = amqp_tcp_socket_new(conn);

	if (sock == NULL || amqp_socket_open(sock, "127.0.0.1", port) != 0)
		die("connect", "cannot connect");
	if (amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest",
		"guest")
		.reply_type != AMQP_RESPONSE_NORMAL)
		die("login", "refused");
	amqp_channel_open(conn, CHANNEL);
	check_reply(conn, "channel.open");
	return conn;
}

/* Declares the durable queue argv[0] with arguments, and binds it to
 * exchange argv[1] with routing key argv[2]. */
static void
declare_bound(amqp_connection_state_t conn, char **argv, amqp_table_t table)
{
	amqp_queue_declare(conn, CHANNEL, amqp_cstring_bytes(argv[0]), 0, 1, 0,
	    0, table);
	check_reply(conn, "queue.declare");
	amqp_queue_bind(conn, CHANNEL, amqp_cstring_bytes(argv[0]),
	    amqp_cstring_bytes(argv[1]), amqp_cstring_bytes(argv[2]),
	    amqp_empty_table);
	check_reply(conn, "queue.bind");
}

static void
cmd_declare(amqp_connection_state_t conn, char **argv, int argc)
{
	amqp_table_entry_t args[2];
	amqp_table_t table = { 0, args };

	if (argc > 3) {
		args[0].key = amqp_cstring_bytes("x-max-length");
		args[0].value.kind = AMQP_FIELD_KIND_I64;
		args[0].value.value.i64 = atol(argv[3]);
		args[1].key = amqp_cstring_bytes("x-overflow");
		args[1].value.kind = AMQP_FIELD_KIND_UTF8;
		args[1].value.value.bytes =
		    amqp_cstring_bytes("reject-publish");
		table.num_entries = 2;
	}
	declare_bound(conn, argv, table);
}

static void
cmd_quorum(amqp_connection_state_t conn, char **argv)
{
	amqp_table_entry_t arg = { amqp_cstring_bytes("x-queue-type"),
		{ AMQP_FIELD_KIND_UTF8,
		    { .bytes = amqp_cstring_bytes("quorum") } } };
	amqp_table_t table = { 1, &arg };

	declare_bound(conn, argv, table);
}

static void
cmd_delete(amqp_connection_state_t conn, char **argv)
{
	amqp_queue_delete(conn, CHANNEL, amqp_cstring_bytes(argv[0]), 0, 0);
	check_reply(conn, "queue.delete");
}

static void
consume_start(amqp_connection_state_t conn, const char *queue, int prefetch)
{
	amqp_basic_qos(conn, CHANNEL, 0, (uint16_t)prefetch, 0);
	check_reply(conn, "basic.qos");
	amqp_basic_consume(conn, CHANNEL, amqp_cstring_bytes(queue),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	check_reply(conn, "basic.consume");
}

/* The next message into *env: 1, or 0 if none came in timeout_ms. */
static int
next_message(amqp_connection_state_t conn, amqp_envelope_t *env, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	amqp_rpc_reply_t r;

	amqp_maybe_release_buffers(conn);
	r = amqp_consume_message(conn, env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 1;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return 0;
	die("consume",
	    r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ?
		amqp_error_string2(r.library_error) :
		"the broker closed the channel");
	return 0;
}

static void
cmd_consume(amqp_connection_state_t conn, char **argv, int argc)
{
	amqp_basic_properties_t *p;
	amqp_envelope_t env;

	consume_start(conn, argv[0], argc > 2 ? atoi(argv[2]) : 10);
	while (next_message(conn, &env, atoi(argv[1]))) {
		p = &env.message.properties;
		if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
			printf("%.*s", (int)p->message_id.len,
			    (char *)p->message_id.bytes);
		printf("\t%.*s\n", (int)env.message.body.len,
		    (char *)env.message.body.bytes);
		fflush(stdout);
		if (amqp_basic_ack(conn, CHANNEL, env.delivery_tag, 0) != 0)
			die("basic.ack", "failed");
		amqp_destroy_envelope(&env);
	}
}

static void
cmd_bare(amqp_connection_state_t conn, char **argv)
{
	long count = atol(argv[1]), n;
	amqp_envelope_t env;
	double start = 0;

	consume_start(conn, argv[0], atoi(argv[2]));
	for (n = 0; n < count; n++) {
		if (!next_message(conn, &env, 30000))
			die("bare", "no message for 30 s");
		if (n == 0)
			start = now_s();
		if (amqp_basic_ack(conn, CHANNEL, env.delivery_tag, 0) != 0)
			die("basic.ack", "failed");
		amqp_destroy_envelope(&env);
	}
	printf("%.3f\n", now_s() - start);
}

/* Reads confirms until at most `keep` are outstanding. */
static void
wait_confirms(amqp_connection_state_t conn, uint64_t sent, uint64_t *acked,
    uint64_t keep)
{
	amqp_frame_t f;

	while (sent - *acked > keep) {
		if (amqp_simple_wait_frame(conn, &f) != AMQP_STATUS_OK)
			die("confirms", "connection lost");
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		if (f.payload.method.id == AMQP_BASIC_NACK_METHOD)
			die("confirms", "a message was nacked");
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *a = f.payload.method.decoded;
			*acked = a->delivery_tag; /* in order on one channel */
		}
	}
}

static void
cmd_publish(amqp_connection_state_t conn, char **argv)
{
	long count = atol(argv[2]), i;
	double rate = atof(argv[3]), start = now_s(), due;
	uint64_t acked = 0;
	amqp_basic_properties_t p;
	char body[1024], id[32];
	int len;

	amqp_confirm_select(conn, CHANNEL);
	check_reply(conn, "confirm.select");
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.content_type = amqp_cstring_bytes("application/json");
	for (i = 0; i < count; i++) {
		if (rate > 0) {
			due = start + (double)i / rate;
			while (now_s() < due)
				usleep((useconds_t)((due - now_s()) * 1e6) + 1);
		}
		len = snprintf(body, sizeof body,
		    "{\"Records\":[{\"eventVersion\":\"2.1\","
		    "\"eventSource\":\"aws:s3\",\"eventName\":"
		    "\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":"
		    "\"bench\"},\"object\":{\"key\":\"bench/%ld.%llu\","
		    "\"size\":0,\"eTag\":\"e%ld\"}}}]}",
		    i, (unsigned long long)wall_us(), i);
		snprintf(id, sizeof id, "bench-%ld", i);
		p.message_id = amqp_cstring_bytes(id);
		if (amqp_basic_publish(conn, CHANNEL,
			amqp_cstring_bytes(argv[0]),
			amqp_cstring_bytes(argv[1]), 0, 0, &p,
			(amqp_bytes_t){ (size_t)len, body }) != 0)
			die("basic.publish", "failed");
		wait_confirms(conn, (uint64_t)i + 1, &acked, 256);
	}
	wait_confirms(conn, (uint64_t)count, &acked, 0);
	printf("%.3f\n", now_s() - start);
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t conn;
	const char *cmd;

	if (argc < 4) {
		fprintf(stderr, "usage: amqp-client PORT COMMAND ARGS...\n");
		return 2;
	}
	cmd = argv[2];
	conn = connect_to(atoi(argv[1]));
	if (strcmp(cmd, "declare") == 0 && (argc == 6 || argc == 7))
		cmd_declare(conn, argv + 3, argc - 3);
	else if (strcmp(cmd, "quorum") == 0 && argc == 6)
		cmd_quorum(conn, argv + 3);
	else if (strcmp(cmd, "delete") == 0 && argc == 4)
		cmd_delete(conn, argv + 3);
	else if (strcmp(cmd, "consume") == 0 && (argc == 5 || argc == 6))
		cmd_consume(conn, argv + 3, argc - 3);
	else if (strcmp(cmd, "publish") == 0 && argc == 7)
		cmd_publish(conn, argv + 3);
	else if (strcmp(cmd, "bare") == 0 && argc == 6)
		cmd_bare(conn, argv + 3);
	else {
		fprintf(stderr, "amqp-client: bad command or arguments\n");
		return 2;
	}
	amqp_channel_close(conn, CHANNEL, AMQP_REPLY_SUCCESS);
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
	return 0;
}
