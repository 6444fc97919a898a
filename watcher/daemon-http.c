/* daemon-http.c - what the daemon serves: webhooks, /metrics, /healthz. */

/*
 * A webhook request's records go into the turn's transaction; the request
 * waits for its commit, then for the WAL's sync (the syncer, beside the
 * loop), and is answered only then, so that a 2xx means the records are on
 * disk. /metrics and /healthz are answered at once.
 */

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "daemon.h"

#define DAEMON_DEPTH_MS 1000 /* how old the queue's depth may be */

static void
daemon_answer(struct daemon *d, const struct daemon_wait *w)
{
	source_webhook_answer(w->hook, w->req, &w->tally,
	    d->failures == w->failures);
}

/*
 * After the turn's commit: the webhook requests whose records it holds
 * wait for the WAL's sync (the syncer, beside the loop), and are
 * answered when it is done; those it could not take are answered now
 * (503: they are sent again).
 */
void
daemon_answer_waits(struct daemon *d, int committed)
{
	uint64_t gen;
	size_t i;

	if (d->nwaits == 0)
		return;
	if (!committed) {
		for (i = 0; i < d->nwaits; i++)
			daemon_answer(d, &d->waits[i]);
		d->nwaits = 0;
		return;
	}
	gen = syncer_ask(d->syncer);
	d->syncing = xreallocarray(d->syncing, d->nsyncing + d->nwaits,
	    sizeof *d->syncing);
	for (i = 0; i < d->nwaits; i++) {
		d->waits[i].sync = gen;
		d->syncing[d->nsyncing++] = d->waits[i];
	}
	d->nwaits = 0;
}

/* A sync ended: answers the requests it made durable (or 503 if it
 * failed). */
void
daemon_synced(struct daemon *d)
{
	size_t i, kept = 0;
	uint64_t gen;
	int error;

	gen = syncer_synced(d->syncer, &error);
	if (error != 0) {
		log_error("journal: the sync of its WAL failed: %s",
		    strerror(error));
		d->failures++;
	}
	daemon_amqp_synced(d, gen, error);
	for (i = 0; i < d->nsyncing; i++) {
		if (d->syncing[i].sync <= gen)
			daemon_answer(d, &d->syncing[i]);
		else
			d->syncing[kept++] = d->syncing[i];
	}
	d->nsyncing = kept;
}

/* Waits for the syncs asked for, and answers their requests. */
void
daemon_drain_syncs(struct daemon *d)
{
	syncer_drain(d->syncer);
	daemon_synced(d);
}

/* The queue's depth of a webhook: the messages in its broker's outbox
 * if it publishes, else the jobs waiting, at most DAEMON_DEPTH_MS old. */
static uint64_t
daemon_depth(struct daemon *d, const struct cfg_watch *w)
{
	uint64_t now = now_ms(), dead, n = 0;

	if (w->publish != NULL) {
		journal_outbox_count(d->journal, w->publish, &n);
		return n;
	}
	if (d->depth_at == 0 || now - d->depth_at >= DAEMON_DEPTH_MS) {
		if (journal_counts(d->journal, &d->depth, &dead) == 0)
			d->depth_at = now;
	}
	return d->depth;
}

/* GET /metrics: the counters, and the gauges read now. */
static void
daemon_metrics(void *arg, struct http_request *r)
{
	struct daemon *d = arg;
	uint64_t waiting, dead;
	const char *broker;
	char *text;
	size_t len, i;

	if (journal_counts(d->journal, &waiting, &dead) == 0) {
		metrics_set(M_QUEUE_DEPTH, (double)waiting, NULL);
		metrics_set(M_DEAD_LETTERS, (double)dead, NULL);
	}
	for (i = 0; i < d->npublishers; i++) {
		broker = sink_broker_name(d->publishers[i]);
		if (journal_outbox_count(d->journal, broker, &waiting) == 0)
			metrics_set(M_OUTBOX, (double)waiting, "broker", broker,
			    NULL);
	}
	metrics_set(M_RUNNING, scheduler_running(d->sched), NULL);
	s3_counts_take(metrics_s3_count, NULL);
	text = metrics_render(&len);
	http_answer(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
	free(text);
}

/* Why a broker published to is down (allocated), or NULL. */
static char *
daemon_publishers_down(struct daemon *d)
{
	const char *name, *down;
	uint64_t waiting = 0;
	char *why;
	size_t i;

	for (i = 0; i < d->npublishers; i++) {
		if ((down = sink_broker_down_why(d->publishers[i])) == NULL)
			continue;
		name = sink_broker_name(d->publishers[i]);
		journal_outbox_count(d->journal, name, &waiting);
		xasprintf(&why,
		    "broker %s, published to, is down: %s (%llu event%s wait "
		    "in the outbox)",
		    name, down, (unsigned long long)waiting,
		    waiting == 1 ? "" : "s");
		return why;
	}
	return NULL;
}

/* GET /healthz: the journal takes writes, workers can start, the
 * brokers of amqp watches are there, and those published to are up. */
static void
daemon_health(void *arg, struct http_request *r)
{
	struct daemon *d = arg;
	const char *broken = worker_pool_broken(d->pool);
	const char *down = daemon_amqp_down(d);
	const char *failing = journal_failing(d->journal);
	char *why;

	/* The write lock taken and let go: unless the turn holds it. */
	if (failing == NULL && !d->in_tx &&
	    (journal_begin(d->journal) != 0 || journal_commit(d->journal) != 0))
		failing = journal_failing(d->journal);
	if (failing != NULL)
		xasprintf(&why, "the journal cannot take writes: %s", failing);
	else if (broken != NULL)
		xasprintf(&why, "workers cannot start: %s", broken);
	else if (down != NULL)
		xasprintf(&why, "a broker is out of reach: %s", down);
	else if ((why = daemon_publishers_down(d)) == NULL) {
		http_answer(r, 200, "text/plain", "ok\n", 3);
		return;
	}
	http_answer(r, 503, "text/plain", why, strlen(why));
	free(why);
}

static struct source_webhook *
daemon_find_hook(struct daemon *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->nhooks; i++) {
		if (strcmp(source_webhook_watch(d->hooks[i])->path, path) == 0)
			return d->hooks[i];
	}
	return NULL;
}

/* A webhook request's headers are in: answer what needs no body. */
static void
daemon_http_begin(void *arg, struct http_request *r)
{
	struct source_webhook *hook = daemon_find_hook(arg, http_path(r));

	if (hook != NULL)
		source_webhook_begin(hook, r);
	else
		http_answer_error(r, 404, "no webhook has this path");
}

/* A webhook's body is in: queue its records, answer at the commit. */
static void
daemon_http_end(void *arg, struct http_request *r)
{
	struct daemon *d = arg;
	struct source_webhook *hook = daemon_find_hook(d, http_path(r));
	struct daemon_wait *wait;
	struct webhook_tally tally;
	uint64_t failures = d->failures; /* a commit may fail midway */

	if (hook == NULL) /* answered in begin */
		return;
	if (daemon_depth(d, source_webhook_watch(hook)) >=
	    source_webhook_watch(hook)->max_pending) {
		http_header_add(r, "Retry-After", "5");
		http_answer_error(r, 503,
		    "the queue is over its high mark (max-pending): send "
		    "again later");
		return;
	}
	/* The records' sequencers and jobs go in one transaction. */
	daemon_tx(d);
	if (!source_webhook_take(hook, r, &tally))
		return;
	d->waits = xreallocarray(d->waits, d->nwaits + 1, sizeof *d->waits);
	wait = &d->waits[d->nwaits++];
	wait->req = r;
	wait->hook = hook;
	wait->tally = tally;
	wait->failures = failures;
	daemon_tx(d); /* a commit is due, even if nothing was written */
}

struct http_server *
daemon_http_new(struct daemon *d, const struct cfg *cfg, char **cause)
{
	struct http_hooks http = { daemon_http_begin, daemon_http_end,
		daemon_metrics, daemon_health, d };

	return http_new(&cfg->http, &http, cause);
}

int
daemon_same_http(const struct cfg_http *a, const struct cfg_http *b)
{
	return a->listen != NULL && b->listen != NULL &&
	    strcmp(a->listen, b->listen) == 0 &&
	    (a->cert_file == NULL) == (b->cert_file == NULL) &&
	    (a->cert_file == NULL ||
		(strcmp(a->cert_file, b->cert_file) == 0 &&
		    strcmp(a->key_file, b->key_file) == 0)) &&
	    a->max_body == b->max_body && a->timeout_ms == b->timeout_ms &&
	    a->max_connections == b->max_connections;
}
