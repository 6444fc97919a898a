/* broker-queue.c - an amqp watch's queues: declared, looked at, replayed. */

/*
 * A watch's queue QUEUE is a durable quorum queue with a delivery limit,
 * whose dead letters go, at least once, to the quorum queue QUEUE.dead
 * (through the default exchange), and which refuses new messages when
 * full rather than dropping its oldest (reject-publish: at-least-once
 * dead-lettering needs it). What exists already is used as it is: a queue
 * declared by hand with other arguments is not declared again (that
 * would be refused).
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "cfg.h"

#define BQ_CHANNEL 1

static void bq_report(broker_queue_report_cb report, void *arg, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
bq_report(broker_queue_report_cb report, void *arg, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (report == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	report(arg, line);
	free(line);
}

/* After a refused call: 0 if the broker said 404 (the channel, closed by
 * it, is open again), else -1 with *cause. */
static int
bq_missing(amqp_connection_state_t conn, const char *what, char **cause)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(conn);
	amqp_channel_close_t *cc;
	amqp_channel_close_ok_t ok;

	if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		cc = r.reply.decoded;
		if (cc->reply_code == AMQP_NOT_FOUND) {
			amqp_send_method(conn, BQ_CHANNEL,
			    AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
			amqp_channel_open(conn, BQ_CHANNEL);
			return broker_reply_ok(conn, "channel 1", cause);
		}
	}
	*cause = broker_reply_text(conn, what);
	return -1;
}

/* Whether a queue exists: 1 (with its counts), 0, or -1 with *cause. */
int
broker_queue_exists(amqp_connection_state_t conn, const char *queue,
    uint32_t *messages, uint32_t *consumers, char **cause)
{
	amqp_queue_declare_ok_t *ok;
	char *what;
	int rc;

	ok = amqp_queue_declare(conn, BQ_CHANNEL, amqp_cstring_bytes(queue), 1,
	    0, 0, 0, amqp_empty_table);
	if (ok != NULL) {
		*messages = ok->message_count;
		*consumers = ok->consumer_count;
		return 1;
	}
	xasprintf(&what, "queue %s", queue);
	rc = bq_missing(conn, what, cause);
	free(what);
	return rc;
}

static int
bq_exchange_exists(amqp_connection_state_t conn, const char *exchange,
    char **cause)
{
	char *what;
	int rc;

	if (amqp_exchange_declare(conn, BQ_CHANNEL,
		amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"), 1, 1,
		0, 0, amqp_empty_table) != NULL)
		return 1;
	xasprintf(&what, "exchange %s", exchange);
	rc = bq_missing(conn, what, cause);
	free(what);
	return rc;
}

/* The dead-letter queue's name (allocated). */
char *
broker_queue_dead(const struct cfg_watch *w)
{
	char *dead;

	xasprintf(&dead, "%s.dead", w->queue);
	return dead;
}

static amqp_table_entry_t
bq_text(const char *name, const char *value)
{
	amqp_table_entry_t e = { amqp_cstring_bytes(name),
		{ AMQP_FIELD_KIND_UTF8,
		    { .bytes = amqp_cstring_bytes(value) } } };

	return e;
}

/* Declares a quorum queue: the work queue if dead is not NULL (its dead
 * letters go there), else a dead-letter queue. */
static int
bq_declare_queue(amqp_connection_state_t conn, const struct cfg_watch *w,
    const char *queue, const char *dead, char **cause)
{
	amqp_table_entry_t args[6];
	char *what;
	int n = 0, rc;

	args[n++] = bq_text("x-queue-type", "quorum");
	if (dead != NULL) {
		args[n].key = amqp_cstring_bytes("x-delivery-limit");
		args[n].value.kind = AMQP_FIELD_KIND_I64;
		args[n++].value.value.i64 = w->delivery_limit;
		args[n++] = bq_text("x-dead-letter-exchange", "");
		args[n++] = bq_text("x-dead-letter-routing-key", dead);
		args[n++] = bq_text("x-dead-letter-strategy", "at-least-once");
		args[n++] = bq_text("x-overflow", "reject-publish");
	}
	amqp_queue_declare(conn, BQ_CHANNEL, amqp_cstring_bytes(queue), 0, 1, 0,
	    0, broker_table(args, n));
	xasprintf(&what, "declaring queue %s", queue);
	rc = broker_reply_ok(conn, what, cause);
	free(what);
	return rc;
}

/*
 * Makes sure a watch's exchange, queues and bindings exist, declaring
 * what is missing if apply is set; each finding goes to report (which
 * may be NULL) as a line. 0, or -1 with *cause.
 */
int
broker_queue_declare(amqp_connection_state_t conn, const struct cfg_broker *b,
    const struct cfg_watch *w, int apply, broker_queue_report_cb report,
    void *arg, char **cause)
{
	const char *queues[2];
	char *dead = broker_queue_dead(w), *what;
	uint32_t messages, consumers;
	int rc = -1, i, found;
	size_t k;

	if ((found = bq_exchange_exists(conn, b->exchange, cause)) < 0)
		goto out;
	if (found)
		bq_report(report, arg, "exchange %s: exists", b->exchange);
	else if (!apply)
		bq_report(report, arg,
		    "exchange %s: missing: would be declared (durable, topic)",
		    b->exchange);
	else {
		amqp_exchange_declare(conn, BQ_CHANNEL,
		    amqp_cstring_bytes(b->exchange),
		    amqp_cstring_bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
		xasprintf(&what, "declaring exchange %s", b->exchange);
		if (broker_reply_ok(conn, what, cause) != 0) {
			free(what);
			goto out;
		}
		free(what);
		log_info("broker %s: exchange %s declared", b->name,
		    b->exchange);
	}
	queues[0] = dead; /* first: the queue sends its dead letters there */
	queues[1] = w->queue;
	for (i = 0; i < 2; i++) {
		found = broker_queue_exists(conn, queues[i], &messages,
		    &consumers, cause);
		if (found < 0)
			goto out;
		if (found)
			bq_report(report, arg,
			    "queue %s: exists: %u message%s ready, %u "
			    "consumer%s",
			    queues[i], messages, messages == 1 ? "" : "s",
			    consumers, consumers == 1 ? "" : "s");
		else if (!apply && i == 0)
			bq_report(report, arg,
			    "queue %s: missing: would be declared (quorum)",
			    queues[i]);
		else if (!apply)
			bq_report(report, arg,
			    "queue %s: missing: would be declared (quorum, "
			    "delivery limit %u, dead letters to %s at least "
			    "once)",
			    queues[i], w->delivery_limit, dead);
		else if (bq_declare_queue(conn, w, queues[i],
			     i == 1 ? dead : NULL, cause) != 0)
			goto out;
		else
			log_info("watch %s: queue %s declared", w->name,
			    queues[i]);
	}
	for (k = 0; w->bind[k] != NULL; k++) {
		if (!apply) {
			bq_report(report, arg,
			    "binding %s to %s with key %s: would be made if "
			    "missing",
			    w->queue, b->exchange, w->bind[k]);
			continue;
		}
		amqp_queue_bind(conn, BQ_CHANNEL, amqp_cstring_bytes(w->queue),
		    amqp_cstring_bytes(b->exchange),
		    amqp_cstring_bytes(w->bind[k]), amqp_empty_table);
		xasprintf(&what, "binding %s to %s with key %s", w->queue,
		    b->exchange, w->bind[k]);
		if (broker_reply_ok(conn, what, cause) != 0) {
			free(what);
			goto out;
		}
		free(what);
	}
	rc = 0;
out:
	free(dead);
	return rc;
}

/* Takes the next message of a queue, unacked, into *m: 1, 0 if the queue
 * is empty, -1 with *cause. */
static int
bq_get(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue,
    amqp_message_t *m, uint64_t *tag, char **cause)
{
	amqp_rpc_reply_t r;
	char *what;
	int rc = -1;

	xasprintf(&what, "reading %s", queue);
	r = amqp_basic_get(conn, ch, amqp_cstring_bytes(queue), 0);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		*cause = broker_reply_text(conn, what);
	else if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
		rc = 0;
	else {
		*tag = ((amqp_basic_get_ok_t *)r.reply.decoded)->delivery_tag;
		r = amqp_read_message(conn, ch, m, 0);
		if (r.reply_type == AMQP_RESPONSE_NORMAL)
			rc = 1;
		else
			*cause = broker_reply_text(conn, what);
	}
	free(what);
	return rc;
}

/*
 * Shows each message a queue holds (at most max) to cb, without taking
 * it: they stay unacked until the connection closes, and go back then.
 * Returns how many were shown, or -1 with *cause.
 */
long
broker_queue_browse(amqp_connection_state_t conn, const char *queue,
    uint32_t max, void (*cb)(void *, const amqp_message_t *), void *arg,
    char **cause)
{
	amqp_message_t m;
	uint64_t tag;
	long n = 0;
	int rc;

	while ((uint32_t)n < max &&
	    (rc = bq_get(conn, BQ_CHANNEL, queue, &m, &tag, cause)) > 0) {
		cb(arg, &m);
		amqp_destroy_message(&m);
		n++;
	}
	return (uint32_t)n < max && rc < 0 ? -1 : n;
}

/* Waits for the broker's confirm of the last message published on ch:
 * 0, or -1 with *cause (refused, or not routed). */
static int
bq_confirmed(amqp_connection_state_t conn, amqp_channel_t ch, const char *queue,
    char **cause)
{
	amqp_frame_t f;
	int returned = 0;

	for (;;) {
		if (amqp_simple_wait_frame(conn, &f) != AMQP_STATUS_OK) {
			*cause =
			    broker_reply_text(conn, "waiting for a confirm");
			return -1;
		}
		if (f.channel != ch || f.frame_type != AMQP_FRAME_METHOD)
			continue; /* a returned message's content */
		if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD)
			returned = 1;
		else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
			xasprintf(cause, "%s did not take a message", queue);
			return -1;
		} else if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			if (!returned)
				return 0;
			xasprintf(cause, "no queue %s to take a message",
			    queue);
			return -1;
		}
	}
}

/*
 * Moves at most max messages from one queue to another (through the
 * default exchange), each acked in the first once the broker confirmed
 * it in the second; their headers stay behind. Returns how many moved,
 * or -1 with *cause.
 */
long
broker_queue_move(amqp_connection_state_t conn, const char *from,
    const char *to, uint32_t max, char **cause)
{
	amqp_basic_properties_t p;
	amqp_message_t m;
	uint64_t tag;
	long n = 0;
	int rc;

	amqp_confirm_select(conn, BQ_CHANNEL);
	if (broker_reply_ok(conn, "confirm mode", cause) != 0)
		return -1;
	while ((uint32_t)n < max &&
	    (rc = bq_get(conn, BQ_CHANNEL, from, &m, &tag, cause)) > 0) {
		memset(&p, 0, sizeof p);
		p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
		p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
		if (m.properties._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) {
			p._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
			p.content_type = m.properties.content_type;
		}
		rc = amqp_basic_publish(conn, BQ_CHANNEL, amqp_empty_bytes,
		    amqp_cstring_bytes(to), 1, 0, &p, m.body);
		amqp_destroy_message(&m);
		if (rc != AMQP_STATUS_OK) {
			xasprintf(cause, "publishing to %s: %s", to,
			    amqp_error_string2(rc));
			return -1;
		}
		if (bq_confirmed(conn, BQ_CHANNEL, to, cause) != 0)
			return -1;
		if ((rc = amqp_basic_ack(conn, BQ_CHANNEL, tag, 0)) !=
		    AMQP_STATUS_OK) {
			xasprintf(cause, "acking in %s: %s", from,
			    amqp_error_string2(rc));
			return -1;
		}
		n++;
	}
	return (uint32_t)n < max && rc < 0 ? -1 : n;
}
