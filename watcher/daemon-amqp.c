/* daemon-amqp.c - the daemon's amqp watches: in the loop, and acked after
 * the journal. */

#include <poll.h>
#include <stdlib.h>

#include "cfg.h"
#include "daemon.h"

/* A message's record: queued as any event, unless objtrigger put that
 * object itself; the ids of its jobs that have not ended go to *ids. */
static int
daemon_amqp_emit(void *arg, const struct journal_event *e, int64_t **ids,
    size_t *n)
{
	struct daemon *d = arg;

	if (daemon_own_object(d, e))
		return 0;
	return scheduler_queue_held(d->sched, e, ids, n);
}

static uint64_t
daemon_amqp_write(void *arg)
{
	return daemon_tx(arg);
}

/* The amqp watches of the config in force. */
void
daemon_amqp_setup(struct daemon *d)
{
	struct source_amqp_hooks hooks = { daemon_amqp_emit, daemon_amqp_write,
		d };
	size_t i;

	d->amqps = xcalloc(d->cfg->nwatches, sizeof *d->amqps);
	for (i = 0; i < d->cfg->nwatches; i++) {
		if (d->cfg->watches[i].type == CFG_WATCH_AMQP)
			d->amqps[d->namqps++] = source_amqp_new(d->cfg,
			    &d->cfg->watches[i], d->journal, &hooks);
	}
}

/* Closes their connections: what they held, the broker gives again. */
void
daemon_amqp_teardown(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_free(d->amqps[i]);
	free(d->amqps);
	d->amqps = NULL;
	d->namqps = 0;
}

/* Their descriptors into pfd (how many), and how long they may wait. */
size_t
daemon_amqp_fds(struct daemon *d, struct pollfd *pfd, int *wait)
{
	size_t i;
	int w;

	for (i = 0; i < d->namqps; i++) {
		pfd[i].fd = source_amqp_fd(d->amqps[i]);
		pfd[i].events = POLLIN;
		w = source_amqp_wait(d->amqps[i]);
		if (w >= 0 && (*wait < 0 || w < *wait))
			*wait = w;
	}
	return d->namqps;
}

/* Reads what their brokers sent (and heartbeats), each turn. */
void
daemon_amqp_run(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_run(d->amqps[i]);
}

/* The journal's hook while it waits for a lock another process holds:
 * the brokers' connections are kept alive meanwhile. */
void
daemon_amqp_keepalive(void *arg)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_keepalive(d->amqps[i]);
	for (i = 0; i < d->npublishers; i++)
		sink_broker_keepalive(d->publishers[i]);
}

/* The scheduler's hook: a job ended for good. */
void
daemon_amqp_ended(void *arg, int64_t id, const char *trigger,
    const char *result, int attempts, const char *error)
{
	struct daemon *d = arg;
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_ended(d->amqps[i], id, trigger, result, attempts,
		    error);
}

/* The turn's transaction tx was committed, or failed. */
void
daemon_amqp_committed(struct daemon *d, uint64_t tx, int committed)
{
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_committed(d->amqps[i], tx, committed, d->syncer);
}

/* The WAL was synced up to gen (or a sync failed: error). */
void
daemon_amqp_synced(struct daemon *d, uint64_t gen, int error)
{
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_synced(d->amqps[i], gen, error);
}

/* The daemon stops: they take no more messages. */
void
daemon_amqp_stop(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->namqps; i++)
		source_amqp_stop(d->amqps[i]);
}

/* Why a broker is out of reach, or NULL if all are there. */
const char *
daemon_amqp_down(const struct daemon *d)
{
	const char *why;
	size_t i;

	for (i = 0; i < d->namqps; i++) {
		if ((why = source_amqp_down(d->amqps[i])) != NULL)
			return why;
	}
	return NULL;
}
