/* cmd-queues.c - the dead-letter queues of amqp watches, in their brokers:
 * "status" shows them, "retry --watch" puts them back. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker.h"
#include "cfg.h"

#define QUEUES_SHOWN 5 /* the newest dead letters shown */
#define QUEUES_BROWSE 10000 /* read at most, to find them */

/* A header of a message, or NULL. */
static const amqp_field_value_t *
queues_header(const amqp_table_t *t, const char *name)
{
	int i;

	for (i = 0; i < t->num_entries; i++) {
		if (t->entries[i].key.len == strlen(name) &&
		    memcmp(t->entries[i].key.bytes, name, strlen(name)) == 0)
			return &t->entries[i].value;
	}
	return NULL;
}

/* A text value as a JSON string (escaped), or null. */
static json_t *
queues_text(const amqp_field_value_t *v)
{
	char *raw, *text;
	json_t *j;

	if (v == NULL ||
	    (v->kind != AMQP_FIELD_KIND_UTF8 &&
		v->kind != AMQP_FIELD_KIND_BYTES) ||
	    v->value.bytes.len == 0)
		return json_null();
	raw = xstrndup(v->value.bytes.bytes, v->value.bytes.len);
	text = log_escape(raw, 1);
	j = json_string(text);
	free(text);
	free(raw);
	return j;
}

static json_t *
queues_time(uint64_t seconds)
{
	time_t t = (time_t)seconds;
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* The newest dead letters, kept as they are read (oldest first). */
struct queues_browse {
	json_t *newest;
};

/* One dead letter: its object, and why it is there (our headers, or
 * the broker's x-death when the broker dead-lettered it). */
static void
queues_entry(void *arg, const amqp_message_t *m)
{
	struct queues_browse *b = arg;
	const amqp_basic_properties_t *p = &m->properties;
	const amqp_table_t *h =
	    (p->_flags & AMQP_BASIC_HEADERS_FLAG) ? &p->headers : NULL;
	const amqp_field_value_t *v, *death;
	struct s3_events evs;
	json_t *e = json_pack("{s:n}", "object");
	char *why = NULL, *key;

	if (s3_events_decode(m->body.bytes, m->body.len, &evs, &why) == 0) {
		if (evs.n > 0) {
			xasprintf(&why, "%s/%s", evs.records[0].bucket,
			    evs.records[0].key);
			key = log_escape(why, 1);
			json_object_set_new(e, "object", json_string(key));
			free(key);
		}
		s3_events_clear(&evs);
	}
	free(why);
	if (h != NULL && (v = queues_header(h, "x-objtrigger-error")) != NULL) {
		json_object_set_new(e, "error", queues_text(v));
		json_object_set_new(e, "trigger",
		    queues_text(queues_header(h, "x-objtrigger-trigger")));
		v = queues_header(h, "x-objtrigger-attempts");
		json_object_set_new(e, "attempts",
		    v != NULL && v->kind == AMQP_FIELD_KIND_I64 ?
			json_integer(v->value.i64) :
			json_null());
	} else if (h != NULL && (death = queues_header(h, "x-death")) != NULL &&
	    death->kind == AMQP_FIELD_KIND_ARRAY &&
	    death->value.array.num_entries > 0 &&
	    death->value.array.entries[0].kind == AMQP_FIELD_KIND_TABLE) {
		h = &death->value.array.entries[0].value.table;
		v = queues_header(h, "reason");
		xasprintf(&why, "dead-lettered by the broker: %.*s",
		    v != NULL && v->kind == AMQP_FIELD_KIND_UTF8 ?
			(int)v->value.bytes.len :
			7,
		    v != NULL && v->kind == AMQP_FIELD_KIND_UTF8 ?
			(const char *)v->value.bytes.bytes :
			"unknown");
		json_object_set_new(e, "error", json_string(why));
		free(why);
		json_object_set_new(e, "trigger", json_null());
		json_object_set_new(e, "attempts", json_null());
		if ((v = queues_header(h, "time")) != NULL &&
		    v->kind == AMQP_FIELD_KIND_TIMESTAMP)
			json_object_set_new(e, "since",
			    queues_time(v->value.u64));
	}
	if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
		json_object_set_new(e, "since", queues_time(p->timestamp));
	json_array_append_new(b->newest, e);
	if (json_array_size(b->newest) > QUEUES_SHOWN)
		json_array_remove(b->newest, 0);
}

/* One watch's dead-letter queue: its depth and newest entries. */
static json_t *
queues_one(const struct cfg *cfg, const struct cfg_watch *w)
{
	const struct cfg_broker *b = cfg_find_broker(cfg, w->broker);
	struct queues_browse br = { json_array() };
	amqp_connection_state_t conn;
	uint32_t depth, consumers;
	char *dead = broker_queue_dead(w), *cause = NULL;
	json_t *q;
	int found;

	q = json_pack("{s:s, s:s, s:s}", "watch", w->name, "broker", b->name,
	    "queue", dead);
	if ((conn = broker_connect(b, "objtrigger status", &cause)) == NULL)
		goto fail;
	found = broker_queue_exists(conn, dead, &depth, &consumers, &cause);
	if (found < 0 ||
	    (found &&
		broker_queue_browse(conn, dead, QUEUES_BROWSE, queues_entry,
		    &br, &cause) < 0)) {
		broker_disconnect(conn);
		goto fail;
	}
	broker_disconnect(conn); /* what was read goes back */
	json_object_set_new(q, "depth", json_integer(found ? depth : 0));
	json_object_set_new(q, "newest", br.newest);
	free(dead);
	return q;
fail:
	json_object_set_new(q, "error", json_string(cause));
	free(cause);
	free(dead);
	json_decref(br.newest);
	return q;
}

/* The dead-letter queues of the config's amqp watches, or NULL if it has
 * none. */
json_t *
queues_dead(const struct cfg *cfg)
{
	json_t *all = NULL;
	size_t i;

	for (i = 0; i < cfg->nwatches; i++) {
		if (cfg->watches[i].type != CFG_WATCH_AMQP)
			continue;
		if (all == NULL)
			all = json_array();
		json_array_append_new(all, queues_one(cfg, &cfg->watches[i]));
	}
	return all;
}

static const char *
queues_get(json_t *o, const char *name, const char *none)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v != NULL ? v : none;
}

/* What queues_dead found, as text. */
void
queues_print(json_t *queues)
{
	json_t *q, *e, *a;
	json_int_t depth;
	size_t i, k;

	json_array_foreach(queues, i, q)
	{
		printf("\nwatch %s: dead-letter queue %s on broker %s: ",
		    queues_get(q, "watch", ""), queues_get(q, "queue", ""),
		    queues_get(q, "broker", ""));
		if (json_object_get(q, "error") != NULL) {
			printf("%s\n", queues_get(q, "error", ""));
			continue;
		}
		depth = json_integer_value(json_object_get(q, "depth"));
		printf("%" JSON_INTEGER_FORMAT " message%s", depth,
		    depth == 1 ? "" : "s");
		if (depth > 0)
			printf(" (objtrigger retry --watch %s puts them back)",
			    queues_get(q, "watch", ""));
		printf("\n");
		json_array_foreach(json_object_get(q, "newest"), k, e)
		{
			a = json_object_get(e, "attempts");
			printf("  %s", queues_get(e, "object", "(no object)"));
			if (json_object_get(e, "trigger") != NULL &&
			    !json_is_null(json_object_get(e, "trigger")))
				printf(", trigger %s",
				    queues_get(e, "trigger", ""));
			if (json_is_integer(a) && json_integer_value(a) > 0)
				printf(", %" JSON_INTEGER_FORMAT " attempt%s",
				    json_integer_value(a),
				    json_integer_value(a) == 1 ? "" : "s");
			printf(", since %s: %s\n", queues_get(e, "since", "?"),
			    queues_get(e, "error", "?"));
		}
	}
}

/* "retry --watch NAME": moves the watch's dead letters back to its
 * queue; how many, printed. */
int
queues_retry(const struct cfg *cfg, const char *name)
{
	const struct cfg_watch *w = cfg_find_watch(cfg, name);
	const struct cfg_broker *b;
	amqp_connection_state_t conn;
	uint32_t depth, consumers;
	char *dead, *cause;
	long n = -1;

	if (w == NULL || w->type != CFG_WATCH_AMQP) {
		fprintf(stderr, "objtrigger: retry: no amqp watch %s in %s\n",
		    name, cfg->file);
		return 1;
	}
	b = cfg_find_broker(cfg, w->broker);
	dead = broker_queue_dead(w);
	if ((conn = broker_connect(b, "objtrigger retry", &cause)) != NULL) {
		/* What is there now: a message that comes back while this
		 * runs waits for the next retry. */
		if (broker_queue_exists(conn, dead, &depth, &consumers,
			&cause) > 0)
			n = broker_queue_move(conn, dead, w->queue, depth,
			    &cause);
		else if (cause == NULL)
			n = 0;
		broker_disconnect(conn);
	}
	if (n < 0) {
		fprintf(stderr, "objtrigger: retry: %s\n", cause);
		free(cause);
		free(dead);
		return 1;
	}
	printf("%ld dead letter%s of %s back in %s\n", n, n == 1 ? "" : "s",
	    dead, w->queue);
	free(dead);
	return 0;
}
