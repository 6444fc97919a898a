/* sink-broker.c - a broker's outbox, published with confirms. */

/*
 * A watch with publish= runs no trigger: each event it takes goes into
 * the journal's outbox, in the transaction that took it (with its
 * sequencer, or its listing). A publisher per broker sends the outbox on
 * a connection of its own, its channel in confirm mode: persistent,
 * mandatory, the watch's name as routing key, the event's identity as
 * message_id, the AWS record shape as body. A message leaves the outbox
 * only when the broker confirms it (basic.ack). A nack, a basic.return
 * (no queue is bound for it: the broker acks it after returning it) or a
 * connection that goes away before the confirm leaves it there, to be
 * sent again; at start every message not confirmed is sent again.
 *
 * rabbitmq-c 0.11 blocks in basic.publish while the socket's send buffer
 * is full (a broker under flow control stops reading), which would stop
 * the daemon's loop. So at most SINK_BROKER_WINDOW messages, and about
 * SINK_BROKER_WINDOW_BYTES, are sent and not confirmed at once, less than
 * the send buffer asked for: what is unconfirmed fits in it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "broker.h"
#include "cfg.h"

#define SINK_BROKER_CHANNEL 1
#define SINK_BROKER_WINDOW 64 /* messages sent, not confirmed */
#define SINK_BROKER_WINDOW_BYTES (128 << 10)
#define SINK_BROKER_SNDBUF (256 << 10)
#define SINK_BROKER_AGAIN_MS 5000 /* a nacked or returned one: again */

/* A message sent and not confirmed yet. */
struct sink_broker_flight {
	uint64_t seq; /* its publish sequence number on the connection */
	int64_t id; /* its outbox row */
	char message_id[2 * EVP_MAX_MD_SIZE + 1];
	size_t len;
	int returned; /* a basic.return came for it */
};

struct sink_broker {
	const struct cfg_broker *cfg;
	struct journal *journal;
	struct sink_broker_hooks hooks;
	struct broker *broker;
	struct sink_broker_flight flight[SINK_BROKER_WINDOW];
	size_t nflight, flight_bytes;
	uint64_t seq; /* the last sequence number used */
	int more; /* the outbox may hold messages due now */
	int64_t again_at; /* when a message put off is due (wall ms); 0:
			     none, or not known until the outbox is read */
	int returning; /* messages come back unrouted (said once) */
	int stopping; /* the daemon stops: nothing more is sent */
};

/* The event's identity, as its message_id: the SHA-256, in hex, of what
 * makes a job's identity (bucket, key, event, ETag, size) and its
 * sequencer, so that the same event always has the same id. */
static void
sink_broker_identity(const struct journal_event *e, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	char *text;
	int len;

	len = xasprintf(&text, "%s%c%s%c%s%c%s%c%llu%c%s", e->folder, 0, e->key,
	    0, e->event, 0, e->etag != NULL ? e->etag : "", 0,
	    (unsigned long long)e->size, 0,
	    e->sequencer != NULL ? e->sequencer : "");
	if (EVP_Digest(text, (size_t)len, md, &n, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 is not available");
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	free(text);
}

/* A publishing watch took an event: into the outbox, in the caller's
 * transaction. 1 if new, 0 if it waits there already, -1 if the journal
 * failed or the event cannot be written as a message. */
int
sink_broker_queue(struct journal *j, const struct cfg_watch *w,
    const struct journal_event *e, int64_t now)
{
	char id[2 * EVP_MAX_MD_SIZE + 1], *body;
	size_t len;
	int rc;

	if ((body = s3_event_encode(e, now, &len)) == NULL) {
		log_error("watch %s: %s: not UTF-8: cannot be published",
		    w->name, e->folder);
		return -1;
	}
	sink_broker_identity(e, id);
	rc = journal_outbox_add(j, w->publish, w->name, id, body, len, now);
	free(body);
	return rc;
}

/* The connection is up: the exchange is made if missing (a durable topic
 * exchange, as the consumers declare it), and the channel confirms. */
static int
sink_broker_up(void *arg, struct broker *b, char **cause)
{
	struct sink_broker *s = arg;
	amqp_connection_state_t conn = broker_conn(b);
	int size = SINK_BROKER_SNDBUF;
	char *what;
	int rc;

	if (setsockopt(amqp_get_sockfd(conn), SOL_SOCKET, SO_SNDBUF, &size,
		sizeof size) != 0)
		log_warn("broker %s: SO_SNDBUF: %s", s->cfg->name,
		    strerror(errno));
	amqp_exchange_declare(conn, SINK_BROKER_CHANNEL,
	    amqp_cstring_bytes(s->cfg->exchange), amqp_cstring_bytes("topic"),
	    0, 1, 0, 0, amqp_empty_table);
	xasprintf(&what, "declaring exchange %s", s->cfg->exchange);
	rc = broker_reply_ok(conn, what, cause);
	free(what);
	if (rc != 0)
		return -1;
	amqp_confirm_select(conn, SINK_BROKER_CHANNEL);
	if (broker_reply_ok(conn, "confirm mode", cause) != 0)
		return -1;
	s->seq = 0;
	s->more = 1;
	return 0;
}

/* The connection went away: what was in flight is sent again on the
 * next one (the broker may have taken some: those come twice). */
static void
sink_broker_down(void *arg, const char *why)
{
	struct sink_broker *s = arg;

	s->hooks.write(s->hooks.arg);
	journal_outbox_reset(s->journal, s->cfg->name, wall_ms());
	s->nflight = s->flight_bytes = 0;
	s->more = 1;
}

/* A basic.return: no queue took the message. Its ack follows, and must
 * not take it out of the outbox. */
static void
sink_broker_message(void *arg, struct broker *b, const struct broker_message *m)
{
	struct sink_broker *s = arg;
	const amqp_basic_properties_t *p = m->properties;
	size_t i;

	if (m->method != AMQP_BASIC_RETURN_METHOD || p == NULL ||
	    !(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		return;
	for (i = 0; i < s->nflight; i++) {
		if (!s->flight[i].returned &&
		    strlen(s->flight[i].message_id) == p->message_id.len &&
		    memcmp(s->flight[i].message_id, p->message_id.bytes,
			p->message_id.len) == 0) {
			s->flight[i].returned = 1;
			break;
		}
	}
	if (!s->returning)
		log_warn("broker %s: exchange %s routes messages with key "
			 "%.*s to no queue (%u): they stay in the outbox, sent "
			 "again every %ds",
		    s->cfg->name, s->cfg->exchange, (int)m->routing_key.len,
		    (const char *)m->routing_key.bytes, m->reply_code,
		    SINK_BROKER_AGAIN_MS / 1000);
	s->returning = 1;
}

/* A confirm (ok) or a nack of the message tag, or of every one up to it
 * (multiple). */
static void
sink_broker_settle(struct sink_broker *s, uint64_t tag, int multiple, int ok)
{
	struct sink_broker_flight *f;
	int64_t now = wall_ms();
	size_t i, kept = 0, nacked = 0, routed = 0;

	s->hooks.write(s->hooks.arg);
	for (i = 0; i < s->nflight; i++) {
		f = &s->flight[i];
		if (multiple ? f->seq > tag : f->seq != tag) {
			s->flight[kept++] = *f;
			continue;
		}
		s->flight_bytes -= f->len;
		if (ok && !f->returned) {
			journal_outbox_confirmed(s->journal, f->id);
			routed++;
			continue;
		}
		nacked += !ok;
		journal_outbox_later(s->journal, f->id,
		    now + SINK_BROKER_AGAIN_MS);
	}
	s->nflight = kept;
	s->more = 1; /* room, and maybe messages put off */
	if (nacked > 0)
		log_warn("broker %s: %zu message%s refused (basic.nack): sent "
			 "again in %ds",
		    s->cfg->name, nacked, nacked == 1 ? "" : "s",
		    SINK_BROKER_AGAIN_MS / 1000);
	if (routed > 0 && s->returning) {
		log_info("broker %s: messages reach a queue again",
		    s->cfg->name);
		s->returning = 0;
	}
}

static void
sink_broker_method(void *arg, struct broker *b, amqp_channel_t channel,
    const amqp_method_t *m)
{
	struct sink_broker *s = arg;
	const amqp_basic_ack_t *ack;
	const amqp_basic_nack_t *nack;

	if (channel != SINK_BROKER_CHANNEL)
		return;
	if (m->id == AMQP_BASIC_ACK_METHOD) {
		ack = m->decoded;
		sink_broker_settle(s, ack->delivery_tag, ack->multiple, 1);
	} else if (m->id == AMQP_BASIC_NACK_METHOD) {
		nack = m->decoded;
		sink_broker_settle(s, nack->delivery_tag, nack->multiple, 0);
	}
}

/* Publishes one message; -1 if the connection failed (and was dropped). */
static int
sink_broker_publish(struct sink_broker *s, const struct journal_message *m)
{
	amqp_connection_state_t conn = broker_conn(s->broker);
	amqp_basic_properties_t p;
	amqp_bytes_t body = { m->len, m->body };
	struct sink_broker_flight *f;
	char *why;
	int rc;

	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.message_id = amqp_cstring_bytes(m->message_id);
	p.timestamp = (uint64_t)(m->created / 1000);
	p.app_id = amqp_cstring_bytes("objtrigger");
	rc = amqp_basic_publish(conn, SINK_BROKER_CHANNEL,
	    amqp_cstring_bytes(s->cfg->exchange), amqp_cstring_bytes(m->watch),
	    1, 0, &p, body);
	if (rc != AMQP_STATUS_OK) {
		xasprintf(&why, "broker %s: publishing: %s", s->cfg->name,
		    amqp_error_string2(rc));
		broker_fail(s->broker, why);
		free(why);
		return -1;
	}
	f = &s->flight[s->nflight++];
	f->seq = ++s->seq;
	f->id = m->id;
	snprintf(f->message_id, sizeof f->message_id, "%s", m->message_id);
	f->len = m->len;
	f->returned = 0;
	s->flight_bytes += m->len;
	return 0;
}

/* Whether messages can be sent now: connected, room in the window, and a
 * journal that takes writes (else the marks of what is in flight could
 * be lost, and the same messages sent again and again). */
static int
sink_broker_room(const struct sink_broker *s)
{
	return !s->stopping && broker_conn(s->broker) != NULL &&
	    s->nflight < SINK_BROKER_WINDOW &&
	    s->flight_bytes < SINK_BROKER_WINDOW_BYTES &&
	    journal_failing(s->journal) == NULL;
}

/* Sends what is due, as far as the window goes. */
static void
sink_broker_send(struct sink_broker *s)
{
	struct journal_message *m;
	size_t n, i;
	unsigned room;
	int failed = 0;

	if (s->again_at != 0 && wall_ms() >= s->again_at) {
		s->again_at = 0;
		s->more = 1;
	}
	while (s->more && sink_broker_room(s)) {
		room = SINK_BROKER_WINDOW - (unsigned)s->nflight;
		s->hooks.write(s->hooks.arg);
		if (journal_outbox_take(s->journal, s->cfg->name, wall_ms(),
			room, &m, &n) != 0)
			return;
		s->more = n == room;
		for (i = 0; i < n; i++) {
			if (!failed && sink_broker_publish(s, &m[i]) != 0)
				failed = 1; /* sent again on reconnection */
			journal_message_free(&m[i]);
		}
		free(m);
		if (failed)
			return;
		if (!s->more) /* all that is due was sent: the next due */
			s->again_at = journal_outbox_next(s->journal,
			    s->cfg->name, wall_ms());
	}
}

struct sink_broker *
sink_broker_new(const struct cfg_broker *cfg, struct journal *journal,
    const struct sink_broker_hooks *hooks)
{
	struct sink_broker *s = xcalloc(1, sizeof *s);
	struct broker_hooks bh = { sink_broker_up, sink_broker_down,
		sink_broker_message, sink_broker_method, s };
	char *role;

	s->cfg = cfg;
	s->journal = journal;
	s->hooks = *hooks;
	s->more = 1;
	xasprintf(&role, "objtrigger publisher (pid %ld)", (long)getpid());
	s->broker = broker_new(cfg, role, &bh);
	free(role);
	/* What an earlier run left in flight is sent again. */
	s->hooks.write(s->hooks.arg);
	journal_outbox_reset(journal, cfg->name, 0);
	return s;
}

void
sink_broker_free(struct sink_broker *s)
{
	if (s == NULL)
		return;
	broker_free(s->broker);
	free(s);
}

const char *
sink_broker_name(const struct sink_broker *s)
{
	return s->cfg->name;
}

/* Why the broker is down (borrowed), or NULL while it is up. */
const char *
sink_broker_down_why(const struct sink_broker *s)
{
	return broker_down_why(s->broker);
}

/* The daemon stops: nothing more is sent, and it waits for the confirms
 * of what was (sink_broker_unconfirmed), so that a clean stop sends
 * nothing twice. */
void
sink_broker_stop(struct sink_broker *s)
{
	s->stopping = 1;
}

/* Messages sent on the connection up now and not confirmed yet. */
unsigned
sink_broker_unconfirmed(const struct sink_broker *s)
{
	return broker_conn(s->broker) != NULL ? (unsigned)s->nflight : 0;
}

/* New messages wait in the outbox. */
void
sink_broker_kick(struct sink_broker *s)
{
	s->more = 1;
}

int
sink_broker_fd(const struct sink_broker *s)
{
	return broker_fd(s->broker);
}

/* How long the loop may sleep (ms, -1 for ever): 0 if messages can be
 * sent now. */
int
sink_broker_wait(struct sink_broker *s)
{
	int wait = broker_wait(s->broker), again;
	int64_t now = wall_ms();

	if (broker_conn(s->broker) == NULL)
		return wait;
	if (s->more && sink_broker_room(s))
		return 0;
	if (s->again_at != 0) {
		again = s->again_at <= now ? 0 : (int)(s->again_at - now);
		wait = wait < 0 || again < wait ? again : wait;
	}
	return wait;
}

/* The loop is held up: a heartbeat if one is due. */
void
sink_broker_keepalive(struct sink_broker *s)
{
	broker_keepalive(s->broker);
}

/* Reads what the broker sent (confirms, returns), keeps the connection
 * (heartbeats, reconnecting), and sends what is due. */
void
sink_broker_run(struct sink_broker *s)
{
	broker_run(s->broker);
	sink_broker_send(s);
}
