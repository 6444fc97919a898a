/* source-amqp.c - the amqp watch: S3 events from a RabbitMQ queue. */

/*
 * Each message holds S3 event records (RGW's, MinIO's, AWS's), decoded as
 * the webhook decodes them, and queued as jobs in the turn's transaction.
 * The message is held (unacked) until every job it started has ended for
 * good, that end is committed and the journal's WAL synced: then it is
 * acked. A job still waiting or running when the message comes again (a
 * redelivery) is waited for; one that ended is not run again.
 *
 * A message that cannot work (not an event, every record refused, a job
 * dead: REJECT or its retries spent) is dead-lettered here: a copy goes
 * to QUEUE.dead with headers saying why (x-objtrigger-error, -trigger,
 * -attempts), published with confirms on channel 2, and the message is
 * acked only when the broker confirmed the copy. If it cannot be put
 * there, it is rejected, and the broker dead-letters it (at least once,
 * without the headers). A message that keeps killing instances is
 * dead-lettered by the broker's delivery limit.
 *
 * The prefetch is AMQP_PER_SLOT messages for each worker slot the watch's
 * triggers can use: a slot's message is held from its job's start to the
 * WAL's sync after its end, and a sync takes milliseconds, so with one
 * message a slot the slots wait for the disk rather than run; with a few
 * more, the next jobs run meanwhile (and one sync acks them together).
 * A batch trigger's slot holds three batches: one running, the next
 * filling, the one before waiting for its sync. It stays bounded, so an
 * instance does not hoard the queue: the others get the rest. When the
 * connection goes, the messages held are forgotten: the broker gives them
 * again (to this instance or another), and their jobs go on here
 * meanwhile.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cfg.h"

#define AMQP_CONSUME_CHANNEL 1
#define AMQP_DEAD_CHANNEL 2
#define AMQP_PER_SLOT 16 /* messages held for each worker slot */
#define AMQP_PREFETCH_MAX 65535 /* basic.qos takes 16 bits */

enum amqp_msg_state {
	AMQP_MSG_JOBS, /* its jobs run */
	AMQP_MSG_COMMIT, /* they ended: waits for the commit of ready_tx */
	AMQP_MSG_SYNC, /* committed: waits for the WAL's sync */
	AMQP_MSG_CONFIRM /* its dead letter waits for the broker's confirm */
};

/* A message held: not acked yet. */
struct amqp_msg {
	uint64_t tag; /* its delivery tag on this connection */
	enum amqp_msg_state state;
	char *body; /* kept for a dead letter */
	size_t len;
	int64_t *jobs; /* those not ended yet */
	size_t njobs;
	uint64_t taken_tx; /* the transaction that queued its jobs */
	uint64_t ready_tx;
	uint64_t sync;
	uint64_t confirm; /* its dead letter's publish sequence number */
	/* Why it goes to the dead letters; NULL: it is acked. */
	char *dead_error, *dead_trigger;
	int dead_attempts;
	struct amqp_msg *next;
};

struct source_amqp {
	const struct cfg_watch *watch;
	const struct cfg_broker *cfg;
	struct journal *journal;
	struct source_amqp_hooks hooks;
	struct broker *broker;
	unsigned prefetch;
	char *dead; /* QUEUE.dead */
	char *consumer; /* the consumer's tag, while it consumes */
	struct amqp_msg *msgs;
	uint64_t published; /* dead letters published on this connection */
	int stopped;
};

static void
amqp_msg_free(struct amqp_msg *m)
{
	free(m->body);
	free(m->jobs);
	free(m->dead_error);
	free(m->dead_trigger);
	free(m);
}

/* Takes a message out of the list and frees it. */
static void
amqp_forget(struct source_amqp *s, struct amqp_msg *m)
{
	struct amqp_msg **p;

	for (p = &s->msgs; *p != NULL; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			break;
		}
	}
	amqp_msg_free(m);
}

static void
amqp_forget_all(struct source_amqp *s)
{
	while (s->msgs != NULL)
		amqp_forget(s, s->msgs);
}

static void
amqp_count(struct source_amqp *s, const char *outcome, size_t n)
{
	if (n > 0)
		metrics_add(M_EVENTS, (double)n, "watch", s->watch->name,
		    "outcome", outcome, NULL);
}

/* A method the broker refused, or a write that failed: the connection is
 * no good (its tags are void from now on). */
static void
amqp_failed(struct source_amqp *s, const char *what, int rc)
{
	char *why;

	xasprintf(&why, "broker %s: watch %s: %s: %s", s->cfg->name,
	    s->watch->name, what, amqp_error_string2(rc));
	broker_fail(s->broker, why);
	free(why);
}

/* Acks a message and forgets it. */
static void
amqp_ack(struct source_amqp *s, struct amqp_msg *m)
{
	int rc = amqp_basic_ack(broker_conn(s->broker), AMQP_CONSUME_CHANNEL,
	    m->tag, 0);

	amqp_forget(s, m);
	if (rc != AMQP_STATUS_OK)
		amqp_failed(s, "ack", rc);
}

/* Rejects a message (the broker dead-letters it, or requeues it). */
static void
amqp_reject(struct source_amqp *s, struct amqp_msg *m, int requeue)
{
	int rc = amqp_basic_reject(broker_conn(s->broker), AMQP_CONSUME_CHANNEL,
	    m->tag, requeue);

	amqp_forget(s, m);
	if (rc != AMQP_STATUS_OK)
		amqp_failed(s, "reject", rc);
}

/* Its jobs ended: it waits for the commit of the transaction that holds
 * their ends (one is due). */
static void
amqp_ready(struct source_amqp *s, struct amqp_msg *m)
{
	m->state = AMQP_MSG_COMMIT;
	m->ready_tx = s->hooks.write(s->hooks.arg);
}

/* It goes to the dead letters, for this reason (the first given). */
static void
amqp_dead(struct amqp_msg *m, const char *trigger, int attempts,
    const char *error)
{
	if (m->dead_error != NULL)
		return;
	m->dead_error = xstrdup(error != NULL ? error : "failed");
	m->dead_trigger = xstrdup(trigger != NULL ? trigger : "");
	m->dead_attempts = attempts;
}

/* Queues a message's records; the ids of their jobs go into m. */
static void
amqp_take(struct source_amqp *s, struct amqp_msg *m,
    const struct s3_events *evs)
{
	const struct cfg_watch *w = s->watch;
	struct journal_event e;
	size_t i, accepted = 0, duplicate = 0, stale = 0, ignored = 0,
		  rejected = 0;
	char *why, *id;
	int rc;

	for (i = 0; i < evs->n; i++) {
		switch (s3_event_confine(&evs->records[i], w->bucket, w->prefix,
		    &why)) {
		case -1:
			log_warn("watch %s: record %zu: %s", w->name, i, why);
			rejected++;
			if (evs->n == 1)
				amqp_dead(m, NULL, 0, why);
			free(why);
			continue;
		case 1:
			ignored++;
			continue;
		}
		rc = source_webhook_event(s->journal, w, &evs->records[i], &e,
		    &id);
		if (rc == JOURNAL_SEQ_STALE)
			stale++;
		else if (rc >= 0) {
			size_t before = m->njobs;

			rc = s->hooks.emit(s->hooks.arg, &e, &m->jobs,
			    &m->njobs);
			if (rc > 0 || m->njobs > before)
				accepted++;
			else if (rc == 0)
				duplicate++;
		}
		free(id);
		if (rc < 0) /* the turn's commit will fail: requeued then */
			log_error("watch %s: the journal did not take a record",
			    w->name);
	}
	for (i = 0; i < evs->nrejected; i++)
		log_warn("watch %s: %s", w->name, evs->rejected[i]);
	if (evs->n == 0 && evs->nrejected > 0)
		amqp_dead(m, NULL, 0, evs->rejected[0]);
	amqp_count(s, "accepted", accepted);
	amqp_count(s, "duplicate", duplicate);
	amqp_count(s, "stale", stale);
	amqp_count(s, "ignored", ignored + evs->ignored);
	amqp_count(s, "rejected", rejected + evs->nrejected);
}

/* A message came: its records become jobs, and it is held until they
 * end. */
static void
amqp_message(void *arg, struct broker *b, const struct broker_message *bm)
{
	struct source_amqp *s = arg;
	struct amqp_msg *m;
	struct s3_events evs;
	char *why;

	if (bm->method == AMQP_BASIC_RETURN_METHOD) {
		/* A dead letter the broker could not route: its confirm,
		 * which follows, is taken as a nack (by its message id). */
		if (bm->properties != NULL &&
		    (bm->properties->_flags & AMQP_BASIC_MESSAGE_ID_FLAG))
			for (m = s->msgs; m != NULL; m = m->next) {
				char id[32];

				snprintf(id, sizeof id, "dead-%llu",
				    (unsigned long long)m->confirm);
				if (m->state == AMQP_MSG_CONFIRM &&
				    bm->properties->message_id.len ==
					strlen(id) &&
				    memcmp(bm->properties->message_id.bytes, id,
					strlen(id)) == 0)
					m->confirm = 0;
			}
		return;
	}
	m = xcalloc(1, sizeof *m);
	m->tag = bm->delivery_tag;
	m->next = s->msgs;
	s->msgs = m;
	if (s->stopped) { /* came before the cancel was seen */
		amqp_reject(s, m, 1);
		return;
	}
	m->taken_tx = s->hooks.write(s->hooks.arg);
	if (bm->body == NULL) {
		xasprintf(&why, "a message of %zu bytes: too big", bm->len);
		log_warn("watch %s: %s", s->watch->name, why);
		amqp_dead(m, NULL, 0, why);
		free(why);
		amqp_ready(s, m);
		return;
	}
	m->body = xmalloc(bm->len + 1);
	memcpy(m->body, bm->body, bm->len + 1);
	m->len = bm->len;
	if (s3_events_decode(bm->body, bm->len, &evs, &why) != 0) {
		log_warn("watch %s: a message refused: %s", s->watch->name,
		    why);
		amqp_count(s, "rejected", 1);
		amqp_dead(m, NULL, 0, why);
		free(why);
	} else {
		if (evs.kind == S3_EVENTS_RECORDS)
			amqp_take(s, m, &evs);
		s3_events_clear(&evs);
	}
	if (m->njobs == 0)
		amqp_ready(s, m);
}

/* Puts a message's copy in the dead-letter queue, with why. */
static void
amqp_dead_letter(struct source_amqp *s, struct amqp_msg *m)
{
	amqp_table_entry_t h[3];
	amqp_basic_properties_t p;
	char id[32];
	int rc;

	h[0].key = amqp_cstring_bytes("x-objtrigger-error");
	h[0].value.kind = AMQP_FIELD_KIND_UTF8;
	h[0].value.value.bytes = amqp_cstring_bytes(m->dead_error);
	h[1].key = amqp_cstring_bytes("x-objtrigger-trigger");
	h[1].value.kind = AMQP_FIELD_KIND_UTF8;
	h[1].value.value.bytes = amqp_cstring_bytes(m->dead_trigger);
	h[2].key = amqp_cstring_bytes("x-objtrigger-attempts");
	h[2].value.kind = AMQP_FIELD_KIND_I64;
	h[2].value.value.i64 = m->dead_attempts;
	m->confirm = ++s->published;
	snprintf(id, sizeof id, "dead-%llu", (unsigned long long)m->confirm);
	memset(&p, 0, sizeof p);
	p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG |
	    AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.headers = broker_table(h, 3);
	p.message_id = amqp_cstring_bytes(id);
	p.timestamp = (uint64_t)(wall_ms() / 1000);
	p.content_type = amqp_cstring_bytes("application/json");
	m->state = AMQP_MSG_CONFIRM;
	rc = amqp_basic_publish(broker_conn(s->broker), AMQP_DEAD_CHANNEL,
	    amqp_empty_bytes, amqp_cstring_bytes(s->dead), 1, 0, &p,
	    (amqp_bytes_t){ m->len, m->body });
	if (rc != AMQP_STATUS_OK)
		amqp_failed(s, "publishing a dead letter", rc);
}

/* The broker confirmed (or refused: nack) dead letters up to seq. */
static void
amqp_confirmed(struct source_amqp *s, uint64_t seq, int multiple, int ok)
{
	struct amqp_msg *m, *next;

	for (m = s->msgs; m != NULL; m = next) {
		next = m->next;
		if (m->state != AMQP_MSG_CONFIRM ||
		    (m->confirm != 0 &&
			(multiple ? m->confirm > seq : m->confirm != seq)))
			continue;
		if (m->confirm == 0 || !ok) {
			log_warn("watch %s: %s did not take a dead letter: the "
				 "broker dead-letters the message itself",
			    s->watch->name, s->dead);
			amqp_reject(s, m, 0);
		} else {
			log_info("watch %s: a message went to %s: %s",
			    s->watch->name, s->dead, m->dead_error);
			amqp_ack(s, m);
		}
		if (broker_conn(s->broker) == NULL)
			return; /* the connection went: all forgotten */
	}
}

static void
amqp_method(void *arg, struct broker *b, amqp_channel_t channel,
    const amqp_method_t *method)
{
	struct source_amqp *s = arg;
	amqp_basic_ack_t *ack;
	amqp_basic_nack_t *nack;

	if (channel != AMQP_DEAD_CHANNEL)
		return;
	if (method->id == AMQP_BASIC_ACK_METHOD) {
		ack = method->decoded;
		amqp_confirmed(s, ack->delivery_tag, ack->multiple, 1);
	} else if (method->id == AMQP_BASIC_NACK_METHOD) {
		nack = method->decoded;
		amqp_confirmed(s, nack->delivery_tag, nack->multiple, 0);
	}
}

/* Connected: the queues are declared if missing, the dead letters'
 * channel put in confirm mode, and the queue consumed. */
static int
amqp_up(void *arg, struct broker *b, char **cause)
{
	struct source_amqp *s = arg;
	amqp_connection_state_t conn = broker_conn(b);
	amqp_basic_consume_ok_t *ok;

	s->published = 0;
	if (broker_queue_declare(conn, s->cfg, s->watch, 1, NULL, NULL,
		cause) != 0)
		return -1;
	amqp_channel_open(conn, AMQP_DEAD_CHANNEL);
	if (broker_reply_ok(conn, "channel 2", cause) != 0)
		return -1;
	amqp_confirm_select(conn, AMQP_DEAD_CHANNEL);
	if (broker_reply_ok(conn, "confirm mode", cause) != 0)
		return -1;
	amqp_basic_qos(conn, AMQP_CONSUME_CHANNEL, 0, (uint16_t)s->prefetch, 0);
	if (broker_reply_ok(conn, "prefetch", cause) != 0)
		return -1;
	if (s->stopped)
		return 0;
	ok = amqp_basic_consume(conn, AMQP_CONSUME_CHANNEL,
	    amqp_cstring_bytes(s->watch->queue), amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	if (ok == NULL)
		return broker_reply_ok(conn, "consuming", cause);
	free(s->consumer);
	s->consumer = xstrndup(ok->consumer_tag.bytes, ok->consumer_tag.len);
	return 0;
}

/* The connection went: the messages held come again from the broker. */
static void
amqp_down(void *arg, const char *why)
{
	struct source_amqp *s = arg;

	amqp_forget_all(s);
	free(s->consumer);
	s->consumer = NULL;
}

/* The prefetch: for each worker slot the watch's triggers can use,
 * AMQP_PER_SLOT messages, or three batches of its triggers' largest: one
 * running (its messages held until it ends), the next filling, and the
 * one before waiting for the disk's sync, then its ack (with two, the
 * instance waited for those acks to get more). */
static unsigned
amqp_prefetch(const struct cfg *cfg, const struct cfg_watch *w)
{
	unsigned slots = 0, per_slot = AMQP_PER_SLOT;
	size_t i;

	for (i = 0; i < cfg->ntriggers; i++) {
		if (strcmp(cfg->triggers[i].watch, w->name) != 0)
			continue;
		slots += cfg->triggers[i].concurrency;
		if (3 * cfg->triggers[i].batch_size > per_slot)
			per_slot = 3 * cfg->triggers[i].batch_size;
	}
	if (slots > cfg->workers.count)
		slots = cfg->workers.count;
	if (slots == 0)
		slots = 1;
	if (slots > AMQP_PREFETCH_MAX / per_slot)
		return AMQP_PREFETCH_MAX;
	return slots * per_slot;
}

struct source_amqp *
source_amqp_new(const struct cfg *cfg, const struct cfg_watch *w,
    struct journal *journal, const struct source_amqp_hooks *hooks)
{
	struct source_amqp *s = xcalloc(1, sizeof *s);
	struct broker_hooks bh = { amqp_up, amqp_down, amqp_message,
		amqp_method, s };
	char *role;

	s->watch = w;
	s->cfg = cfg_find_broker(cfg, w->broker);
	s->journal = journal;
	s->hooks = *hooks;
	s->prefetch = amqp_prefetch(cfg, w);
	s->dead = broker_queue_dead(w);
	xasprintf(&role, "objtrigger %ld watch %s", (long)getpid(), w->name);
	s->broker = broker_new(s->cfg, role, &bh);
	free(role);
	return s;
}

void
source_amqp_free(struct source_amqp *s)
{
	if (s == NULL)
		return;
	amqp_forget_all(s);
	broker_free(s->broker);
	free(s->consumer);
	free(s->dead);
	free(s);
}

int
source_amqp_fd(const struct source_amqp *s)
{
	return broker_fd(s->broker);
}

int
source_amqp_wait(struct source_amqp *s)
{
	return broker_wait(s->broker);
}

/* Reads what the broker sent; connects if it is time. */
void
source_amqp_run(struct source_amqp *s)
{
	broker_run(s->broker);
}

/* The loop is held up: a heartbeat if one is due. */
void
source_amqp_keepalive(struct source_amqp *s)
{
	broker_keepalive(s->broker);
}

/* Why the broker is not there, or NULL. */
const char *
source_amqp_down(const struct source_amqp *s)
{
	return broker_down_why(s->broker);
}

/* A job ended for good: the messages that wait for it learn it. */
void
source_amqp_ended(struct source_amqp *s, int64_t id, const char *trigger,
    const char *result, int attempts, const char *error)
{
	struct amqp_msg *m;
	size_t i;

	for (m = s->msgs; m != NULL; m = m->next) {
		for (i = 0; i < m->njobs && m->jobs[i] != id; i++)
			;
		if (i == m->njobs)
			continue;
		m->jobs[i] = m->jobs[--m->njobs];
		if (strcmp(result, "dead") == 0)
			amqp_dead(m, trigger, attempts, error);
		if (m->njobs == 0)
			amqp_ready(s, m);
	}
}

/*
 * The turn's transaction tx was committed (or failed): the messages whose
 * ends it holds wait for the WAL's sync now. If it failed, the messages
 * it queued are requeued (their jobs went with it), and the ends it held
 * are written again in the next one.
 */
void
source_amqp_committed(struct source_amqp *s, uint64_t tx, int committed,
    struct syncer *syncer)
{
	struct amqp_msg *m, *next;
	uint64_t gen = 0;

	for (m = s->msgs; m != NULL; m = next) {
		next = m->next;
		if (!committed && m->taken_tx == tx) {
			amqp_reject(s, m, 1);
			if (broker_conn(s->broker) == NULL)
				return;
		} else if (m->state == AMQP_MSG_COMMIT && m->ready_tx <= tx) {
			if (!committed) {
				m->ready_tx = tx + 1;
				continue;
			}
			if (gen == 0)
				gen = syncer_ask(syncer);
			m->state = AMQP_MSG_SYNC;
			m->sync = gen;
		}
	}
}

/* Whether a message is acked now that the WAL is synced up to gen. */
static int
amqp_acked_by(const struct amqp_msg *m, uint64_t gen)
{
	return m->state == AMQP_MSG_SYNC && m->sync <= gen &&
	    m->dead_error == NULL;
}

/* Acks in one the messages the sync up to gen made durable whose tags
 * are below that of every message still held (basic.ack's multiple):
 * a quorum queue writes each ack it gets into its log. */
static void
amqp_ack_together(struct source_amqp *s, uint64_t gen)
{
	uint64_t held = UINT64_MAX, upto = 0;
	struct amqp_msg *m, *next;
	size_t n = 0;
	int rc;

	for (m = s->msgs; m != NULL; m = m->next) {
		if (!amqp_acked_by(m, gen) && m->tag < held)
			held = m->tag;
	}
	for (m = s->msgs; m != NULL; m = m->next) {
		if (amqp_acked_by(m, gen) && m->tag < held) {
			n++;
			upto = m->tag > upto ? m->tag : upto;
		}
	}
	if (n < 2)
		return; /* one by one, as the others */
	rc = amqp_basic_ack(broker_conn(s->broker), AMQP_CONSUME_CHANNEL, upto,
	    1);
	for (m = s->msgs; m != NULL; m = next) {
		next = m->next;
		if (amqp_acked_by(m, gen) && m->tag <= upto)
			amqp_forget(s, m);
	}
	if (rc != AMQP_STATUS_OK)
		amqp_failed(s, "ack", rc);
}

/* The WAL is synced up to gen: those messages are acked, or go to the
 * dead letters. A sync that failed makes them wait for the next. */
void
source_amqp_synced(struct source_amqp *s, uint64_t gen, int error)
{
	struct amqp_msg *m, *next;

	if (error == 0)
		amqp_ack_together(s, gen);
	if (broker_conn(s->broker) == NULL)
		return; /* the connection went: all forgotten */
	for (m = s->msgs; m != NULL; m = next) {
		next = m->next;
		if (m->state != AMQP_MSG_SYNC || m->sync > gen)
			continue;
		if (error != 0)
			amqp_ready(s, m);
		else if (m->dead_error == NULL)
			amqp_ack(s, m);
		else
			amqp_dead_letter(s, m);
		if (broker_conn(s->broker) == NULL)
			return; /* the connection went: all forgotten */
	}
}

/* Takes no more messages (the daemon stops): the consumer is cancelled,
 * and what comes still is given back. */
void
source_amqp_stop(struct source_amqp *s)
{
	amqp_connection_state_t conn = broker_conn(s->broker);
	char *cause;

	s->stopped = 1;
	if (conn == NULL || s->consumer == NULL)
		return;
	amqp_basic_cancel(conn, AMQP_CONSUME_CHANNEL,
	    amqp_cstring_bytes(s->consumer));
	if (broker_reply_ok(conn, "cancelling the consumer", &cause) != 0) {
		broker_fail(s->broker, cause);
		free(cause);
	}
}
