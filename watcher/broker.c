/* broker.c - one AMQP connection, driven from the daemon's loop. */

/*
 * rabbitmq-c 0.11 does nothing by itself: it sends and checks heartbeats
 * only inside its wait calls, it never reconnects, and it reads a message
 * (a method, a header, body frames) only when asked. So the loop asks for
 * frames without waiting each turn (at least every quarter heartbeat), a
 * message is put together here across turns, and a connection that went
 * away is made again after a backoff with full jitter, like a job's
 * retries. What is set up on a connection (queues, consumers, confirm
 * mode) belongs to the user of this file, through its up hook.
 */

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cfg.h"

#define BROKER_FRAMES_PER_RUN 256 /* then the loop goes on */
#define BROKER_BACKOFF_MS 500 /* the first wait after a failure at most */
#define BROKER_MAX_BACKOFF_MS 30000
#define BROKER_MAX_BODY (4 << 20) /* a larger message comes without body */
#define BROKER_FRAME_MAX 131072

struct broker {
	const struct cfg_broker *cfg;
	char *role; /* the connection's name, as the broker shows it */
	struct broker_hooks hooks;
	amqp_connection_state_t conn; /* NULL while down */
	char *why; /* why it is down */
	unsigned failures; /* attempts to connect that failed in a row */
	uint64_t retry_at;
	uint64_t kept_at; /* the last heartbeat broker_keepalive sent */

	/* A message whose frames are coming. */
	int reading;
	struct broker_message msg;
	uint64_t body_size, got;
	char *body; /* NULL if too big: its bytes are skipped */
};

static struct timeval
broker_timeval(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
		(suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

/* A table of entries, as rabbitmq-c takes them. */
amqp_table_t
broker_table(amqp_table_entry_t *entries, int n)
{
	amqp_table_t t = { n, entries };

	return t;
}

/* Says what a reply holds (allocated), or NULL if it is a success; a
 * channel.close or connection.close in it is answered. */
static char *
broker_describe(amqp_connection_state_t conn, amqp_rpc_reply_t r,
    const char *what)
{
	amqp_channel_close_t *cc;
	amqp_connection_close_t *xc;
	amqp_channel_close_ok_t cok;
	amqp_connection_close_ok_t xok;
	char *text;

	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return NULL;
	case AMQP_RESPONSE_NONE:
		xasprintf(&text, "%s: no answer", what);
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		xasprintf(&text, "%s: %s", what,
		    amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
	default:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			cc = r.reply.decoded;
			xasprintf(&text, "%s: %u %.*s", what, cc->reply_code,
			    (int)cc->reply_text.len,
			    (const char *)cc->reply_text.bytes);
			amqp_send_method(conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD,
			    &cok);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			xc = r.reply.decoded;
			xasprintf(&text, "%s: %u %.*s", what, xc->reply_code,
			    (int)xc->reply_text.len,
			    (const char *)xc->reply_text.bytes);
			amqp_send_method(conn, 0,
			    AMQP_CONNECTION_CLOSE_OK_METHOD, &xok);
		} else
			xasprintf(&text, "%s: unexpected method 0x%08x", what,
			    r.reply.id);
	}
	return text;
}

/* What the last blocking call's reply says (allocated), or NULL if it
 * worked. */
char *
broker_reply_text(amqp_connection_state_t conn, const char *what)
{
	return broker_describe(conn, amqp_get_rpc_reply(conn), what);
}

/* 0 if the last blocking call worked, else -1 with *cause. */
int
broker_reply_ok(amqp_connection_state_t conn, const char *what, char **cause)
{
	return (*cause = broker_reply_text(conn, what)) == NULL ? 0 : -1;
}

/* A TCP connection to host:port, made within timeout_ms; its descriptor
 * (nonblocking, as rabbitmq-c keeps it), or -1 with *cause. */
static int
broker_socket(const char *host, unsigned port, uint64_t timeout_ms,
    char **cause)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	struct pollfd pfd;
	char service[16];
	int fd = -1, rc, error = 0;
	socklen_t len = sizeof error;

	snprintf(service, sizeof service, "%u", port);
	if ((rc = getaddrinfo(host, service, &hints, &ai)) != 0) {
		xasprintf(cause, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family,
		    a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    a->ai_protocol);
		if (fd < 0) {
			error = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		error = errno;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (error == EINPROGRESS &&
		    (rc = poll(&pfd, 1, (int)timeout_ms)) > 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
		    error == 0)
			break;
		if (error == EINPROGRESS && rc == 0)
			error = ETIMEDOUT;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		xasprintf(cause, "cannot connect to %s port %u: %s", host, port,
		    strerror(error));
	return fd;
}

/*
 * Connects, logs in and opens channel 1, waiting at most connect-timeout
 * for each step; NULL with *cause. The connection advertises
 * consumer_cancel_notify (else a deleted queue leaves a silent consumer)
 * and authentication_failure_close (else a wrong password is only a
 * closed socket).
 */
amqp_connection_state_t
broker_connect(const struct cfg_broker *b, const char *role, char **cause)
{
	struct timeval tv = broker_timeval(b->connect_timeout_ms);
	amqp_table_entry_t caps[] = {
		{ amqp_cstring_bytes("consumer_cancel_notify"),
		    { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
		{ amqp_cstring_bytes("authentication_failure_close"),
		    { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
		{ amqp_cstring_bytes("publisher_confirms"),
		    { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
		{ amqp_cstring_bytes("basic.nack"),
		    { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } },
	};
	amqp_table_entry_t props[] = {
		{ amqp_cstring_bytes("product"),
		    { AMQP_FIELD_KIND_UTF8,
			{ .bytes = amqp_cstring_bytes("objtrigger") } } },
		{ amqp_cstring_bytes("connection_name"),
		    { AMQP_FIELD_KIND_UTF8,
			{ .bytes = amqp_cstring_bytes(role) } } },
		{ amqp_cstring_bytes("capabilities"),
		    { AMQP_FIELD_KIND_TABLE, { .table = { 4, caps } } } },
	};
	amqp_table_t table = broker_table(props, 3);
	amqp_connection_state_t conn = amqp_new_connection();
	amqp_socket_t *sock = amqp_tcp_socket_new(conn);
	amqp_rpc_reply_t r;
	char *what, *text;
	int fd;

	xasprintf(&what, "broker %s (%s)", b->name, b->url);
	if (sock == NULL) {
		xasprintf(cause, "%s: out of memory", what);
		goto fail;
	}
	if ((fd = broker_socket(b->host, b->port, b->connect_timeout_ms,
		 &text)) < 0) {
		xasprintf(cause, "%s: %s", what, text);
		free(text);
		goto fail;
	}
	amqp_tcp_socket_set_sockfd(sock, fd);
	amqp_set_rpc_timeout(conn, &tv);
	r = amqp_login_with_properties(conn, b->vhost, 0, BROKER_FRAME_MAX,
	    (int)((b->heartbeat_ms + 999) / 1000), &table,
	    AMQP_SASL_METHOD_PLAIN, b->user, b->password);
	if ((text = broker_describe(conn, r, "login refused")) != NULL) {
		xasprintf(cause, "%s: %s", what, text);
		free(text);
		goto fail;
	}
	amqp_channel_open(conn, 1);
	if ((text = broker_reply_text(conn, "channel 1")) != NULL) {
		xasprintf(cause, "%s: %s", what, text);
		free(text);
		goto fail;
	}
	free(what);
	return conn;
fail:
	free(what);
	amqp_destroy_connection(conn);
	return NULL;
}

/* Closes a connection politely (if the broker answers in time). */
void
broker_disconnect(amqp_connection_state_t conn)
{
	if (conn == NULL)
		return;
	amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(conn);
}

struct broker *
broker_new(const struct cfg_broker *cfg, const char *role,
    const struct broker_hooks *hooks)
{
	struct broker *b = xcalloc(1, sizeof *b);

	b->cfg = cfg;
	b->role = xstrdup(role);
	b->hooks = *hooks;
	b->why = xstrdup("not connected yet");
	return b;
}

static void
broker_drop_message(struct broker *b)
{
	free(b->body);
	b->body = NULL;
	b->reading = 0;
}

void
broker_free(struct broker *b)
{
	if (b == NULL)
		return;
	broker_disconnect(b->conn);
	broker_drop_message(b);
	free(b->why);
	free(b->role);
	free(b);
}

/* The connection, or NULL while it is down. */
amqp_connection_state_t
broker_conn(const struct broker *b)
{
	return b->conn;
}

/* Why it is down (borrowed), or NULL while it is up. */
const char *
broker_down_why(const struct broker *b)
{
	return b->conn == NULL ? b->why : NULL;
}

/* Plans the next attempt to connect: full jitter over a cap that doubles
 * with each failure in a row. */
static uint64_t
broker_backoff(struct broker *b)
{
	uint64_t cap = BROKER_BACKOFF_MS;
	unsigned i;

	for (i = 0; i < b->failures && cap < BROKER_MAX_BACKOFF_MS; i++)
		cap *= 2;
	if (cap > BROKER_MAX_BACKOFF_MS)
		cap = BROKER_MAX_BACKOFF_MS;
	return 50 + arc4random_uniform((uint32_t)cap);
}

/* The connection failed (why): it is dropped, its user told, and made
 * again later. */
void
broker_fail(struct broker *b, const char *why)
{
	uint64_t wait = broker_backoff(b);

	free(b->why);
	b->why = xstrdup(why);
	if (b->conn != NULL) {
		amqp_destroy_connection(b->conn);
		b->conn = NULL;
		broker_drop_message(b);
		if (b->hooks.down != NULL)
			b->hooks.down(b->hooks.arg, why);
	}
	b->failures++;
	b->retry_at = now_ms() + wait;
	log_warn("%s: connecting again in %.1fs", why, (double)wait / 1000);
}

static void
broker_up(struct broker *b)
{
	char *cause = NULL;

	if ((b->conn = broker_connect(b->cfg, b->role, &cause)) == NULL) {
		broker_fail(b, cause);
		free(cause);
		return;
	}
	if (b->hooks.up != NULL && b->hooks.up(b->hooks.arg, b, &cause) != 0) {
		broker_fail(b, cause);
		free(cause);
		return;
	}
	log_info("broker %s: connected to %s as %s", b->cfg->name, b->cfg->url,
	    b->role);
	b->failures = 0;
}

/* The descriptor to poll for input, or -1 while down. */
int
broker_fd(const struct broker *b)
{
	return b->conn != NULL ? amqp_get_sockfd(b->conn) : -1;
}

/* How long the loop may sleep (ms): 0 if frames are read already, a
 * quarter heartbeat while up, until the next attempt while down. */
int
broker_wait(struct broker *b)
{
	uint64_t now = now_ms();
	int beat;

	if (b->conn == NULL)
		return b->retry_at > now ? (int)(b->retry_at - now) : 0;
	if (amqp_frames_enqueued(b->conn) || amqp_data_in_buffer(b->conn))
		return 0;
	beat = amqp_get_heartbeat(b->conn);
	return beat > 0 ? beat * 1000 / 4 : -1;
}

/* A message is whole: to the user, then its memory goes. */
static void
broker_message_done(struct broker *b)
{
	b->msg.body = b->body;
	b->msg.len = b->body != NULL ? b->got : 0;
	if (b->hooks.message != NULL)
		b->hooks.message(b->hooks.arg, b, &b->msg);
	broker_drop_message(b);
	if (b->conn != NULL)
		amqp_maybe_release_buffers(b->conn);
}

/* A method frame; -1 if it closed the connection. */
static int
broker_method(struct broker *b, const amqp_frame_t *f)
{
	const amqp_method_t *m = &f->payload.method;
	amqp_basic_deliver_t *d;
	amqp_basic_return_t *r;
	amqp_rpc_reply_t reply = { AMQP_RESPONSE_SERVER_EXCEPTION, *m, 0 };
	char *text, *what;

	switch (m->id) {
	case AMQP_BASIC_DELIVER_METHOD:
	case AMQP_BASIC_RETURN_METHOD:
		memset(&b->msg, 0, sizeof b->msg);
		b->msg.channel = f->channel;
		b->msg.method = m->id;
		if (m->id == AMQP_BASIC_DELIVER_METHOD) {
			d = m->decoded;
			b->msg.delivery_tag = d->delivery_tag;
			b->msg.redelivered = d->redelivered;
			b->msg.exchange = d->exchange;
			b->msg.routing_key = d->routing_key;
		} else {
			r = m->decoded;
			b->msg.reply_code = r->reply_code;
			b->msg.exchange = r->exchange;
			b->msg.routing_key = r->routing_key;
		}
		b->reading = 1;
		b->body_size = b->got = 0;
		return 0;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		xasprintf(&what, "broker %s: %s closed by the broker",
		    b->cfg->name,
		    m->id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" :
							 "connection");
		text = broker_describe(b->conn, reply, what);
		broker_fail(b, text);
		free(text);
		free(what);
		return -1;
	case AMQP_BASIC_CANCEL_METHOD:
		xasprintf(&text,
		    "broker %s: the broker cancelled the consumer (its queue "
		    "was deleted?)",
		    b->cfg->name);
		broker_fail(b, text);
		free(text);
		return -1;
	default:
		if (b->hooks.method != NULL)
			b->hooks.method(b->hooks.arg, b, f->channel, m);
		return 0;
	}
}

/* A content frame of the message being read. */
static void
broker_content(struct broker *b, const amqp_frame_t *f)
{
	size_t n;

	if (f->frame_type == AMQP_FRAME_HEADER) {
		b->body_size = f->payload.properties.body_size;
		b->msg.properties = f->payload.properties.decoded;
		if (b->body_size <= BROKER_MAX_BODY)
			b->body = xmalloc(b->body_size + 1);
	} else {
		n = f->payload.body_fragment.len;
		if (n > b->body_size - b->got)
			n = b->body_size - b->got;
		if (b->body != NULL)
			memcpy(b->body + b->got, f->payload.body_fragment.bytes,
			    n);
		b->got += n;
	}
	if (b->got == b->body_size) {
		if (b->body != NULL)
			b->body[b->got] = '\0';
		broker_message_done(b);
	}
}

/*
 * A heartbeat, at most each quarter heartbeat, while the loop is held up
 * in a turn (the journal waits for a lock): the broker closes a connection
 * that said nothing for two heartbeats. It only writes; what the broker
 * sent meanwhile is read by the next broker_run, which finds a write that
 * failed here too.
 */
void
broker_keepalive(struct broker *b)
{
	uint64_t now = now_ms();
	amqp_frame_t f;
	int beat;

	if (b->conn == NULL || (beat = amqp_get_heartbeat(b->conn)) <= 0 ||
	    now - b->kept_at < (uint64_t)beat * 1000 / 4)
		return;
	b->kept_at = now;
	memset(&f, 0, sizeof f);
	f.frame_type = AMQP_FRAME_HEARTBEAT;
	f.channel = 0;
	(void)amqp_send_frame(b->conn, &f);
}

/* Connects if due; reads what came, without waiting; heartbeats. */
void
broker_run(struct broker *b)
{
	struct timeval zero = { 0, 0 };
	amqp_frame_t f;
	char *text;
	int i, rc;

	if (b->conn == NULL) {
		if (now_ms() >= b->retry_at)
			broker_up(b);
		return;
	}
	for (i = 0; i < BROKER_FRAMES_PER_RUN; i++) {
		rc = amqp_simple_wait_frame_noblock(b->conn, &f, &zero);
		if (rc == AMQP_STATUS_TIMEOUT)
			return;
		if (rc != AMQP_STATUS_OK) {
			xasprintf(&text, "broker %s: connection lost: %s",
			    b->cfg->name, amqp_error_string2(rc));
			broker_fail(b, text);
			free(text);
			return;
		}
		if (f.frame_type == AMQP_FRAME_METHOD && !b->reading) {
			if (broker_method(b, &f) != 0)
				return;
		} else if ((f.frame_type == AMQP_FRAME_HEADER &&
			       b->reading == 1) ||
		    (f.frame_type == AMQP_FRAME_BODY && b->reading == 2)) {
			b->reading = 2;
			broker_content(b, &f);
		} else {
			xasprintf(&text,
			    "broker %s: a frame of type %u came out of turn",
			    b->cfg->name, f.frame_type);
			broker_fail(b, text);
			free(text);
			return;
		}
		if (b->conn == NULL) /* a hook found the connection broken */
			return;
	}
}
