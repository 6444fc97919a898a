/* daemon.c - the daemon: sources, journal, workers, outputs, one loop. */

/*
 * One thread, one poll loop. Sources turn what they see into jobs in the
 * journal (one per matching trigger), inside a transaction that the loop
 * commits once per turn, so a burst costs one commit per turn, not one per
 * file. Jobs are taken from the journal as triggers and workers have room;
 * their ends are recorded the same way. The outputs of a job are committed
 * before the job is marked done: a crash in between runs it again, and the
 * second run overwrites the same names with the same bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"
#include "units.h"

#define DAEMON_IDLE_MS 1000 /* look at the journal at least this often */
#define DAEMON_TX_MAX 2000 /* journal writes per transaction at most */
#define DAEMON_RETRY_MS 5000 /* after the journal failed */
#define DAEMON_REPLAY_MS 1000 /* job ends a failed commit lost: again */
#define DAEMON_DEPTH_MS 1000 /* how old the queue's depth may be */
#define DAEMON_AHEAD_MS 200 /* runs shorter than this get jobs sent ahead */

struct daemon_trigger {
	const struct cfg_trigger *cfg;
	const struct cfg_watch *watch;
	struct param_value *params;
	unsigned running;
	unsigned ended; /* runs that ended */
	uint64_t run_ms; /* how long they took, a moving average */
};

/* A webhook request waiting for the journal's commit. */
struct daemon_wait {
	struct http_request *req;
	struct source_webhook *hook;
	struct webhook_tally tally;
	uint64_t failures; /* the daemon's count when it came */
	uint64_t sync; /* the WAL sync it waits for, once committed */
};

/* A run of a worker: one journal job, or a batch of them. */
struct daemon_job {
	struct job job;
	struct daemon *d;
	struct daemon_trigger *trigger;
	size_t n;
	struct job_input *inputs; /* n of each */
	int64_t *ids;
	int *attempts;
	uint64_t started;
	char *dir;
	struct wire_msg extra; /* the stores and bucket outputs */
	char idbuf[24]; /* the first id */
	uint64_t tx; /* the journal transaction that started it */
	int lost; /* that transaction failed: its ids are not its own */
	int queued; /* sent behind a running job, not started yet */
	struct daemon_job *prev, *next; /* the running ones */
};

struct daemon {
	struct cfg *cfg;
	const char *config_file;
	struct journal *journal;
	struct worker_pool *pool;
	struct source_folder **sources;
	size_t nsources;
	struct source_s3 **polls;
	size_t npolls;
	struct source_webhook **hooks;
	size_t nhooks;
	struct http_server *http;
	struct daemon_wait *waits; /* answered at the next commit */
	size_t nwaits;
	struct daemon_wait *syncing; /* committed, waiting for their sync */
	size_t nsyncing;
	struct syncer *syncer;
	uint64_t failures; /* journal commits that failed */
	uint64_t tx; /* transactions committed or failed so far */
	struct daemon_job *jobs; /* running */
	uint64_t depth, depth_at; /* jobs waiting, as of depth_at */
	struct daemon_trigger *triggers;
	size_t ntriggers;
	char *jobs_dir;
	int sigfd;

	int in_tx;
	unsigned tx_writes;
	int again; /* work is ready now: do not wait in the next poll */
	unsigned running; /* jobs sent to workers */
	unsigned queued; /* of them, those waiting behind another */
	int stopping;
	uint64_t stop_deadline;
	int aborting;
	struct cfg *next_cfg; /* a reload waiting for running jobs */
	int64_t batch_due; /* when a waiting batch is due; 0: none */
	uint64_t replay_at; /* when lost job ends may be written again */
};

/* A commit failed: the jobs its transaction started had their journal
 * rows rolled back, and their ids may be given to other jobs. Their ends
 * are not recorded; their events are taken again (a rescan, a listing, a
 * sender's retry) and run then. */
static void
daemon_lose_jobs(struct daemon *d)
{
	struct daemon_job *dj;

	for (dj = d->jobs; dj != NULL; dj = dj->next) {
		if (dj->tx == d->tx)
			dj->lost = 1;
	}
}

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
static void
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
static void
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
	for (i = 0; i < d->nsyncing; i++) {
		if (d->syncing[i].sync <= gen)
			daemon_answer(d, &d->syncing[i]);
		else
			d->syncing[kept++] = d->syncing[i];
	}
	d->nsyncing = kept;
}

/* Waits for the syncs asked for, and answers their requests. */
static void
daemon_drain_syncs(struct daemon *d)
{
	syncer_drain(d->syncer);
	daemon_synced(d);
}

static void
daemon_tx(struct daemon *d)
{
	if (!d->in_tx && journal_begin(d->journal) == 0)
		d->in_tx = 1;
	d->tx_writes++;
}

/* Commits what the turn wrote. If the journal cannot take it, the events
 * are lost from memory but not from the folders: rescan them later. */
static void
daemon_flush(struct daemon *d)
{
	int committed = 1;
	size_t i;

	if (d->in_tx) {
		d->in_tx = 0;
		d->tx_writes = 0;
		if (journal_commit(d->journal) != 0) {
			committed = 0;
			d->failures++;
			daemon_lose_jobs(d);
			log_error("the journal did not take the last events: "
				  "rescanning in %ds",
			    DAEMON_RETRY_MS / 1000);
			for (i = 0; i < d->nsources; i++)
				source_folder_plan_rescan(d->sources[i],
				    DAEMON_RETRY_MS);
		}
	}
	d->tx++;
	daemon_answer_waits(d, committed);
}

static int
daemon_matches(const struct cfg_trigger *t, const struct journal_event *e)
{
	const char *slash = strrchr(e->key, '/');
	const char *name = slash != NULL ? slash + 1 : e->key;
	unsigned kind = strcmp(e->event, "removed") == 0 ? CFG_EVENT_REMOVED :
							   CFG_EVENT_CREATED;
	int fold = t->match_case ? 0 : FNM_CASEFOLD;
	size_t i;

	if (strcmp(t->watch, e->watch) != 0 || !(t->events & kind))
		return 0;
	if (e->size < t->min_size ||
	    (t->max_size != 0 && e->size > t->max_size))
		return 0;
	if (t->match[0] == NULL)
		return 1;
	for (i = 0; t->match[i] != NULL; i++) {
		if (strchr(t->match[i], '/') != NULL ?
			fnmatch(t->match[i], e->key, FNM_PATHNAME | fold) == 0 :
			fnmatch(t->match[i], name, fold) == 0)
			return 1;
	}
	return 0;
}

/* A job for each trigger an event matches. Returns 1 if it queued one
 * (or matched none), 0 if every job it matched was queued before (a
 * duplicate), -1 if the journal failed. */
static int
daemon_queue(struct daemon *d, const struct journal_event *e)
{
	int rc, matched = 0, added = 0, failed = 0;
	size_t i;

	for (i = 0; i < d->ntriggers; i++) {
		if (!daemon_matches(d->triggers[i].cfg, e))
			continue;
		daemon_tx(d);
		matched++;
		if ((rc = journal_add(d->journal, e, d->triggers[i].cfg->name,
			 wall_ms())) == 1) {
			added++;
			log_debug("trigger %s: %s/%s queued",
			    d->triggers[i].cfg->name, e->folder, e->key);
		} else if (rc < 0)
			failed = 1;
	}
	if (matched == 0)
		log_debug("watch %s: %s matched no trigger", e->watch, e->key);
	if (d->tx_writes >= DAEMON_TX_MAX) {
		daemon_flush(d);
		daemon_tx(d); /* what follows is written in one again */
	}
	if (failed)
		return -1;
	return matched == 0 || added > 0;
}

/* Counts an event of a folder or a listing by what became of it. */
static void
daemon_count_event(const struct journal_event *e, int rc)
{
	metrics_add(M_EVENTS, 1, "watch", e->watch, "outcome",
	    rc < 0      ? "failed" :
		rc == 0 ? "duplicate" :
			  "accepted",
	    NULL);
}

/* A folder watch found a file. */
static void
daemon_emit(void *arg, const struct journal_event *e, const char *path,
    const struct stat *sb)
{
	struct daemon *d = arg;

	if (journal_is_output(d->journal, path, sb)) {
		log_debug("%s: written by objtrigger: skipped", path);
		return;
	}
	daemon_count_event(e, daemon_queue(d, e));
}

/* A bucket watch (a listing or a notification) found an object, or
 * found one gone; as daemon_queue. */
static int
daemon_emit_object(void *arg, const struct journal_event *e)
{
	struct daemon *d = arg;
	const struct cfg_watch *w = cfg_find_watch(d->cfg, e->watch);

	daemon_tx(d);
	if (journal_is_s3_output(d->journal, w->store, e->folder, e->key,
		e->etag)) {
		log_debug("%s/%s: put by objtrigger: skipped", e->folder,
		    e->key);
		return 1;
	}
	return daemon_queue(d, e);
}

static void
daemon_emit_listed(void *arg, const struct journal_event *e)
{
	daemon_count_event(e, daemon_emit_object(arg, e));
}

/* A bucket watch's page is done: make it durable, and go on. */
static void
daemon_page(void *arg)
{
	struct daemon *d = arg;

	daemon_flush(d);
	daemon_tx(d);
}

/* The wait before attempt n + 1: exponential, with full jitter. */
static int64_t
daemon_backoff(const struct cfg_retry *r, int n)
{
	uint64_t cap = r->backoff_ms;
	int i;

	for (i = 1; i < n && cap < r->max_backoff_ms; i++)
		cap *= 2;
	if (cap > r->max_backoff_ms)
		cap = r->max_backoff_ms;
	return cap == 0 ?
	    0 :
	    (int64_t)arc4random_uniform(
		cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap + 1);
}

struct daemon_commit {
	struct daemon *d;
	struct daemon_job *dj;
	enum ot_status status; /* how a failure should end the job */
};

/* Records an output in the journal before it appears as name in the
 * folder dirfd, by the folder's real path (its descriptor's). */
static int
daemon_output_hook(void *arg, int dirfd, const char *name,
    const struct stat *sb, char **cause)
{
	struct daemon_commit *c = arg;
	char link[64], real[PATH_MAX], *path;
	ssize_t n;
	int rc;

	snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
	if ((n = readlink(link, real, sizeof real - 1)) < 0) {
		xasprintf(cause, "%s: %s", link, strerror(errno));
		return -1;
	}
	real[n] = '\0';
	xasprintf(&path, "%s/%s", strcmp(real, "/") != 0 ? real : "", name);
	rc = journal_add_output(c->d->journal, path, sb, c->dj->ids[0]);
	free(path);
	if (rc != 0)
		*cause = xstrdup("the journal did not take the output");
	return rc;
}

/* Whether output i is the trigger's last one that is a folder. */
static int
daemon_last_folder_output(const struct cfg_trigger *t, size_t i)
{
	while (++i < t->noutputs) {
		if (t->outputs[i].path != NULL)
			return 0;
	}
	return 1;
}

/* Commits one output file to each of the trigger's outputs. */
static int
daemon_output(void *arg, const char *rel, const char *path, char **cause)
{
	struct daemon_commit *c = arg;
	const struct cfg_trigger *t = c->dj->trigger->cfg;
	struct template_vars v = { c->dj->inputs[0].key, rel, t->name,
		time(NULL) };
	char *dest, *root, *why;
	size_t i;
	int rc = 0;

	for (i = 0; i < t->noutputs && rc == 0; i++) {
		if (t->outputs[i].path == NULL) /* a bucket: the worker's */
			continue;
		if ((dest = template_expand(t->outputs[i].path, &v, &why)) ==
		    NULL) {
			xasprintf(cause, "output %s of line %u: %s", rel,
			    t->outputs[i].line, why);
			free(why);
			c->status = OT_REJECT; /* it would fail every time */
			return -1;
		}
		root = template_root(t->outputs[i].path);
		daemon_tx(c->d);
		rc = sink_folder_put(root, dest, path,
		    daemon_last_folder_output(t, i), daemon_output_hook, c,
		    cause);
		free(root);
		free(dest);
	}
	return rc;
}

static void
daemon_cleanup_job(struct daemon_job *dj)
{
	size_t i;

	if (dj->dir != NULL) /* NULL when every job was skipped */
		sink_folder_scratch_done(dj->dir);
	free(dj->job.outdir);
	free(dj->job.tmpdir);
	free(dj->job.message);
	wire_clear(&dj->job.reply);
	wire_clear(&dj->extra);
	for (i = 0; i < dj->n; i++) {
		free(dj->inputs[i].path);
		free(dj->inputs[i].key);
		free(dj->inputs[i].bucket);
		free(dj->inputs[i].event);
		free(dj->inputs[i].etag);
	}
	free(dj->inputs);
	free(dj->ids);
	free(dj->attempts);
	free(dj);
}

/* Why the worker skipped input i, or NULL if it did not. */
static const char *
daemon_skipped(const struct wire_msg *reply, size_t i)
{
	size_t k;

	for (k = 0; k + 1 < reply->nfields; k++) {
		if (strcmp(reply->fields[k].name, "skip") == 0 &&
		    strtoull(reply->fields[k].value, NULL, 10) == i &&
		    strcmp(reply->fields[k + 1].name, "skip-why") == 0)
			return reply->fields[k + 1].value;
	}
	return NULL;
}

/* Remembers the objects the worker put, so that no watch takes them. */
static void
daemon_record_puts(struct daemon *d, const struct daemon_job *dj)
{
	const struct wire_msg *r = &dj->job.reply;
	size_t k;

	for (k = 0; k + 3 < r->nfields; k++) {
		if (strcmp(r->fields[k].name, "put-store") == 0)
			journal_add_s3_output(d->journal, r->fields[k].value,
			    r->fields[k + 1].value, r->fields[k + 2].value,
			    r->fields[k + 3].value, dj->ids[0]);
	}
}

static void daemon_dispatch(struct daemon *);

/* Adds a store's S3 request counts (a worker's, or this process's). */
static void
daemon_s3_count(void *arg, const char *store, uint64_t requests,
    uint64_t errors)
{
	(void)arg;
	metrics_add(M_S3_REQUESTS, (double)requests, "store", store, NULL);
	metrics_add(M_S3_ERRORS, (double)errors, "store", store, NULL);
}

/* The S3 requests a worker made for a job: "s3-count" fields of
 * "STORE REQUESTS ERRORS". */
static void
daemon_s3_counts(const struct wire_msg *reply)
{
	char store[256];
	uint64_t requests, errors;
	size_t i;

	for (i = 0; i < reply->nfields; i++) {
		if (strcmp(reply->fields[i].name, "s3-count") == 0 &&
		    sscanf(reply->fields[i].value, "%255s %" SCNu64 " %" SCNu64,
			store, &requests, &errors) == 3)
			daemon_s3_count(NULL, store, requests, errors);
	}
}

/* Counts how long a run of a trigger took. */
static void
daemon_run_time(struct daemon_trigger *t, uint64_t ms)
{
	t->run_ms = t->ended++ == 0 ? ms : (t->run_ms * 7 + ms) / 8;
}

/* A worker finished a job: commit its outputs, then record how it ended. */
static void
daemon_job_done(struct job *job)
{
	struct daemon_job *dj = job->arg;
	struct daemon *d = dj->d;
	const struct cfg_retry *retry = &dj->trigger->cfg->retry;
	struct daemon_commit c = { d, dj, OT_RETRY };
	enum ot_status status = job->status;
	char *cause = NULL;
	const char *result, *skip;
	int64_t now, next_at = 0;
	int dead = 0;
	size_t i;

	d->running--;
	if (dj->queued)
		d->queued--;
	else {
		dj->trigger->running--;
		daemon_run_time(dj->trigger, now_ms() - dj->started);
	}
	if (dj->prev != NULL)
		dj->prev->next = dj->next;
	else
		d->jobs = dj->next;
	if (dj->next != NULL)
		dj->next->prev = dj->prev;
	if (d->aborting) { /* left running in the journal: runs again */
		daemon_cleanup_job(dj);
		return;
	}
	if (dj->lost) {
		log_warn("job %s: the journal lost its start (a failed "
			 "commit): its end is not recorded",
		    dj->idbuf);
		daemon_cleanup_job(dj);
		return;
	}
	/* Its worker is idle: its next job first, then the commit. */
	if (status == OT_OK)
		daemon_dispatch(d);
	if (status == OT_OK &&
	    sink_folder_walk(job->outdir, daemon_output, &c, &cause) != 0) {
		status = c.status;
		free(job->message);
		job->message = cause;
	}
	now = wall_ms();
	daemon_tx(d);
	if (status == OT_OK)
		daemon_record_puts(d, dj);
	/* A batch ends as one: every input done, or every one retried; but
	 * an input the worker skipped (its object changed) ends skipped. */
	for (i = 0; i < dj->n; i++) {
		if ((skip = daemon_skipped(&job->reply, i)) != NULL) {
			journal_skip(d->journal, dj->ids[i], skip, now);
			log_job(LEVEL_INFO, dj->ids[i], dj->trigger->cfg->name,
			    dj->inputs[i].key, "skipped", dj->attempts[i],
			    now_ms() - dj->started, skip);
			metrics_add(M_JOBS, 1, "trigger",
			    dj->trigger->cfg->name, "result", "skipped", NULL);
			continue;
		}
		if (status == OT_OK) {
			journal_done(d->journal, dj->ids[i], now);
			result = "done";
		} else {
			dead = status == OT_REJECT ||
			    dj->attempts[i] >= (int)retry->attempts;
			next_at = now + daemon_backoff(retry, dj->attempts[i]);
			journal_failed(d->journal, dj->ids[i], dead, next_at,
			    job->message, now);
			result = dead ? "dead" : "retry";
		}
		log_job(dead            ? LEVEL_ERROR :
			status == OT_OK ? LEVEL_INFO :
					  LEVEL_WARN,
		    dj->ids[i], dj->trigger->cfg->name, dj->inputs[i].key,
		    result, dj->attempts[i], now_ms() - dj->started,
		    job->message);
		metrics_add(M_JOBS, 1, "trigger", dj->trigger->cfg->name,
		    "result", result, NULL);
	}
	metrics_observe(M_JOB_SECONDS, (double)(now_ms() - dj->started) / 1000,
	    "trigger", dj->trigger->cfg->name, NULL);
	daemon_s3_counts(&job->reply);
	daemon_cleanup_job(dj);
}

/* Whether a job's file is still the version it was queued for; if not,
 * says why (allocated): a newer version has its own job. Its device goes
 * to *dev, for the worker's check. */
static char *
daemon_stale(const struct journal_job *jj, uint64_t *dev)
{
	struct stat sb;
	char *path, *why = NULL;

	xasprintf(&path, "%s/%s", jj->folder, jj->key);
	if (lstat(path, &sb) != 0)
		xasprintf(&why, "the file went away before its job ran (%s)",
		    strerror(errno));
	else if ((int64_t)sb.st_ino != jj->inode ||
	    (uint64_t)sb.st_size != jj->size || stat_mtime_ns(&sb) != jj->mtime)
		why = xstrdup("the file changed before its job ran: the new "
			      "version has its own job");
	else
		*dev = (uint64_t)sb.st_dev;
	free(path);
	return why;
}

/* Takes a journal job into a run, or skips it if its file changed;
 * 0 if the journal could do neither. */
static int
daemon_take(struct daemon *d, struct daemon_job *dj,
    const struct journal_job *jj)
{
	struct job_input *in = &dj->inputs[dj->n];
	int folder = dj->trigger->watch->type == CFG_WATCH_FOLDER;
	char *stale;
	int attempt;

	if (folder && (stale = daemon_stale(jj, &in->dev)) != NULL) {
		daemon_tx(d);
		d->again = 1; /* its room is free for the next one */
		journal_skip(d->journal, jj->id, stale, wall_ms());
		log_job(LEVEL_INFO, jj->id, dj->trigger->cfg->name, jj->key,
		    "skipped", (int)jj->attempts, 0, stale);
		metrics_add(M_JOBS, 1, "trigger", dj->trigger->cfg->name,
		    "result", "skipped", NULL);
		free(stale);
		return 1;
	}
	daemon_tx(d);
	if ((attempt = journal_start(d->journal, jj->id, wall_ms())) < 0)
		return 0; /* it stays in the journal for later */
	if (folder) {
		xasprintf(&in->path, "%s/%s", jj->folder, jj->key);
		in->has_version = 1;
		in->inode = (uint64_t)jj->inode;
		in->size = jj->size;
		in->mtime = jj->mtime;
	}
	in->key = xstrdup(jj->key);
	in->bucket = xstrdup(jj->folder);
	in->event = xstrdup(jj->event);
	if (*jj->etag != '\0')
		in->etag = xstrdup(jj->etag);
	dj->ids[dj->n] = jj->id;
	dj->attempts[dj->n++] = attempt;
	return 1;
}

/* Adds a store to a request once. */
static void
daemon_s3_store(struct daemon *d, struct wire_msg *m, const char *name,
    const char **sent, size_t *nsent)
{
	size_t i;

	for (i = 0; i < *nsent; i++) {
		if (strcmp(sent[i], name) == 0)
			return;
	}
	sent[(*nsent)++] = name;
	s3_store_to_wire(cfg_find_store(d->cfg, name), m);
}

/* The largest object a job may fetch, and which limit says so: the
 * trigger's max-size, or the workers' file-size (a download over it
 * would be killed by it, and retried as if that could change). */
static void
daemon_max_input(const struct daemon *d, const struct cfg_trigger *t,
    struct wire_msg *m)
{
	uint64_t fsize = d->cfg->workers.file_size;

	if (fsize != 0 && (t->max_size == 0 || fsize < t->max_size)) {
		wire_add(m, "max-input", "%" PRIu64, fsize);
		wire_add(m, "max-input-limit", "the workers' file-size");
	} else {
		wire_add(m, "max-input", "%" PRIu64, t->max_size);
		wire_add(m, "max-input-limit", "the trigger's max-size");
	}
}

/* The S3 part of a run: where its inputs come from (each downloaded to
 * IN/N/NAME in the job's folder) and the buckets its outputs go to. */
static void
daemon_s3_request(struct daemon *d, struct daemon_job *dj)
{
	const struct cfg_trigger *t = dj->trigger->cfg;
	const struct cfg_watch *w = dj->trigger->watch;
	const char **sent = xcalloc(t->noutputs + 1, sizeof *sent);
	const char *slash, *name;
	size_t i, nsent = 0;
	char *dir;

	wire_init(&dj->extra);
	if (w->type != CFG_WATCH_FOLDER) {
		xasprintf(&dir, "%s/in", dj->dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			fatal("job %s: %s: %s", dj->idbuf, dir,
			    strerror(errno));
		free(dir);
		daemon_s3_store(d, &dj->extra, w->store, sent, &nsent);
		wire_add(&dj->extra, "source-store", "%s", w->store);
		daemon_max_input(d, t, &dj->extra);
		for (i = 0; i < dj->n; i++) {
			slash = strrchr(dj->inputs[i].key, '/');
			name = slash != NULL ? slash + 1 : dj->inputs[i].key;
			if (*name == '\0' || strcmp(name, ".") == 0 ||
			    strcmp(name, "..") == 0)
				name = "object";
			else if (strlen(name) > 200) /* keep the extension */
				name += strlen(name) - 200;
			xasprintf(&dir, "%s/in/%zu", dj->dir, i);
			if (mkdir(dir, 0700) != 0)
				fatal("job %s: %s: %s", dj->idbuf, dir,
				    strerror(errno));
			xasprintf(&dj->inputs[i].path, "%s/%s", dir, name);
			free(dir);
		}
	}
	for (i = 0; i < t->noutputs; i++) {
		if (t->outputs[i].store == NULL)
			continue;
		daemon_s3_store(d, &dj->extra, t->outputs[i].store, sent,
		    &nsent);
		wire_add(&dj->extra, "output-store", "%s", t->outputs[i].store);
		wire_add(&dj->extra, "output-bucket", "%s",
		    t->outputs[i].bucket);
		wire_add(&dj->extra, "output-key", "%s", t->outputs[i].key);
		wire_add(&dj->extra, "output-type", "%s",
		    t->outputs[i].content_type);
	}
	free(sent);
}

/* A job sent behind another starts: it counts as running now. */
static void
daemon_job_started(struct job *job)
{
	struct daemon_job *dj = job->arg;

	dj->queued = 0;
	dj->d->queued--;
	dj->trigger->running++;
	dj->started = now_ms();
}

/* Starts journal jobs in a worker, as one run (a batch if n > 1), or
 * sends them behind a running job of the trigger if queue is set;
 * returns how many were taken or skipped. */
static size_t
daemon_start(struct daemon *d, struct daemon_trigger *t,
    const struct journal_job *jobs, size_t n, int queue)
{
	struct daemon_job *dj = xcalloc(1, sizeof *dj);
	size_t i, progress = 0;
	char *cause;

	dj->d = d;
	dj->trigger = t;
	dj->inputs = xcalloc(n, sizeof *dj->inputs);
	dj->ids = xcalloc(n, sizeof *dj->ids);
	dj->attempts = xcalloc(n, sizeof *dj->attempts);
	for (i = 0; i < n; i++)
		progress += (size_t)daemon_take(d, dj, &jobs[i]);
	if (dj->n == 0) {
		daemon_cleanup_job(dj);
		return progress;
	}
	dj->started = now_ms();
	snprintf(dj->idbuf, sizeof dj->idbuf, "%" PRId64, dj->ids[0]);
	if ((dj->dir = sink_folder_scratch(d->jobs_dir, &cause)) == NULL)
		fatal("job %s: %s", dj->idbuf, cause);
	xasprintf(&dj->job.outdir, "%s/out", dj->dir);
	xasprintf(&dj->job.tmpdir, "%s/tmp", dj->dir);
	dj->job.id = dj->idbuf;
	dj->job.trigger = (char *)t->cfg->name;
	dj->job.plugin = t->cfg->plugin;
	dj->job.params = t->params;
	dj->job.nparams = t->cfg->nparams;
	dj->job.inputs = dj->inputs;
	dj->job.ninputs = dj->n;
	daemon_s3_request(d, dj);
	dj->job.extra = &dj->extra;
	dj->job.done = daemon_job_done;
	dj->job.started = daemon_job_started;
	dj->job.arg = dj;
	dj->tx = d->tx;
	dj->next = d->jobs;
	if (d->jobs != NULL)
		d->jobs->prev = dj;
	d->jobs = dj;
	d->running++;
	if (queue) {
		dj->queued = 1;
		d->queued++;
		if (worker_pool_queue(d->pool, &dj->job) != 0)
			fatal("job %s: no worker to queue it on, though one "
			      "was found",
			    dj->idbuf);
		return progress;
	}
	t->running++;
	if (worker_pool_submit(d->pool, &dj->job) != 0) /* room <= idle */
		fatal("job %s: no idle worker, though one was counted",
		    dj->idbuf);
	return progress;
}

/* Starts a trigger's next run if it is due: a single job, a full batch,
 * or a batch whose oldest input has waited batch-window; queued behind a
 * running one if queue is set. Returns 1 if it started one (or skipped
 * jobs), 0 if nothing is due now. */
static int
daemon_dispatch_one(struct daemon *d, struct daemon_trigger *t, int queue)
{
	const struct cfg_trigger *c = t->cfg;
	struct journal_job *jobs;
	int64_t now = wall_ms(), due = 0;
	size_t k, n;
	int started = 0;

	if (journal_runnable(d->journal, c->name, now, c->batch_size, &jobs,
		&n) != 0)
		return 0;
	if (n > 0 && c->batch_size > 1 && n < c->batch_size) {
		due = jobs[0].created;
		for (k = 1; k < n; k++)
			due = jobs[k].created < due ? jobs[k].created : due;
		due += (int64_t)c->batch_window_ms;
	}
	if (n > 0 && due <= now)
		started = daemon_start(d, t, jobs, n, queue) > 0;
	else if (n > 0 && (d->batch_due == 0 || due < d->batch_due))
		d->batch_due = due;
	for (k = 0; k < n; k++)
		journal_job_free(&jobs[k]);
	free(jobs);
	return started;
}

/* Starts what the journal has ready, as far as triggers and workers
 * allow. Then, if a trigger's runs are short, sends its next jobs behind
 * its running ones, so that a worker goes on to the next without waiting
 * for a turn of this loop: that turn is a good part of a short run. A
 * job sent ahead cannot move to a worker that frees up first, so long
 * runs are not sent ahead. */
static void
daemon_dispatch(struct daemon *d)
{
	struct daemon_trigger *t;
	size_t i;

	d->batch_due = 0;
	if (d->stopping || d->next_cfg != NULL)
		return;
	for (i = 0; i < d->ntriggers; i++) {
		t = &d->triggers[i];
		while (t->running < t->cfg->concurrency &&
		    worker_pool_busy(d->pool) < worker_pool_size(d->pool) &&
		    daemon_dispatch_one(d, t, 0))
			;
		while (t->ended > 0 && t->run_ms < DAEMON_AHEAD_MS &&
		    worker_pool_can_queue(d->pool, t->cfg->name) &&
		    daemon_dispatch_one(d, t, 1))
			;
	}
}

/* The queue's depth (jobs waiting), at most DAEMON_DEPTH_MS old. */
static uint64_t
daemon_depth(struct daemon *d)
{
	uint64_t now = now_ms(), dead;

	if (d->depth_at == 0 || now - d->depth_at >= DAEMON_DEPTH_MS) {
		if (journal_counts(d->journal, &d->depth, &dead) == 0)
			d->depth_at = now;
	}
	return d->depth;
}

/* GET /metrics: the counters, and the gauges read now. */
static void
daemon_metrics(struct daemon *d, struct http_request *r)
{
	uint64_t waiting, dead;
	char *text;
	size_t len;

	if (journal_counts(d->journal, &waiting, &dead) == 0) {
		metrics_set(M_QUEUE_DEPTH, (double)waiting, NULL);
		metrics_set(M_DEAD_LETTERS, (double)dead, NULL);
	}
	metrics_set(M_RUNNING, d->running - d->queued, NULL);
	s3_counts_take(daemon_s3_count, NULL);
	text = metrics_render(&len);
	http_answer(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
	free(text);
}

/* GET /healthz: the journal takes writes, and workers can start. */
static void
daemon_health(struct daemon *d, struct http_request *r)
{
	const char *broken = worker_pool_broken(d->pool);
	char *why;

	const char *failing = journal_failing(d->journal);

	/* The write lock taken and let go: unless the turn holds it. */
	if (failing == NULL && !d->in_tx &&
	    (journal_begin(d->journal) != 0 || journal_commit(d->journal) != 0))
		failing = journal_failing(d->journal);
	if (failing != NULL)
		xasprintf(&why, "the journal cannot take writes: %s", failing);
	else if (broken != NULL)
		xasprintf(&why, "workers cannot start: %s", broken);
	else {
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

/* A request's headers are in: answer what needs no body. */
static void
daemon_http_begin(void *arg, struct http_request *r)
{
	struct daemon *d = arg;
	const char *path = http_path(r);
	struct source_webhook *hook = daemon_find_hook(d, path);

	if (hook != NULL) {
		source_webhook_begin(hook, r);
		return;
	}
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0) {
		http_answer_error(r, 404, "no webhook has this path");
		return;
	}
	if (strcmp(http_method(r), "GET") != 0 &&
	    strcmp(http_method(r), "HEAD") != 0) {
		http_header_add(r, "Allow", "GET");
		http_answer_error(r, 405, "GET only");
	} else if (strcmp(path, "/metrics") == 0)
		daemon_metrics(d, r);
	else
		daemon_health(d, r);
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
	if (daemon_depth(d) >= source_webhook_watch(hook)->max_pending) {
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

/* Starts the workers with the triggers' plugins loaded, each plugin with
 * the parameters of the first trigger that uses it, so that the first
 * files do not wait for that (libvips takes some 50 ms to load and
 * start). */
static void
daemon_warm(struct daemon *d)
{
	struct worker_warm *w = xcalloc(d->ntriggers, sizeof *w);
	size_t i, k, n = 0;

	for (i = 0; i < d->ntriggers; i++) {
		for (k = 0; k < n; k++) {
			if (strcmp(w[k].plugin, d->triggers[i].cfg->plugin) ==
			    0)
				break;
		}
		if (k < n)
			continue;
		w[n].plugin = d->triggers[i].cfg->plugin;
		w[n].params = d->triggers[i].params;
		w[n++].nparams = d->triggers[i].cfg->nparams;
	}
	if (n > 0)
		worker_pool_warm(d->pool, w, n);
	free(w);
}

/* What a config needs that may fail to be had: its HTTP server and its
 * folder watches (a port taken, a folder gone). They are made beside
 * those running, so that a reload that cannot be applied leaves the old
 * config in force. */
struct daemon_parts {
	struct http_server *http;
	int http_kept; /* the running server, whose settings are the same */
	struct source_folder **sources;
	size_t nsources;
};

static void
daemon_parts_free(struct daemon_parts *p)
{
	size_t i;

	if (!p->http_kept)
		http_free(p->http);
	for (i = 0; i < p->nsources; i++)
		source_folder_free(p->sources[i]);
	free(p->sources);
}

static struct http_server *
daemon_http_new(struct daemon *d, const struct cfg *cfg, char **cause)
{
	struct http_hooks http = { daemon_http_begin, daemon_http_end, d };

	return http_new(&cfg->http, &http, cause);
}

static int
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

/* Makes cfg's parts into p; -1 with *cause (p freed) if one fails. An
 * HTTP server on the same address with other settings cannot be made
 * beside the running one: that one is stopped first (and made again by
 * the caller if this fails). */
static int
daemon_parts_make(struct daemon *d, const struct cfg *cfg,
    struct daemon_parts *p, char **cause)
{
	const struct cfg_watch *w;
	size_t i;

	memset(p, 0, sizeof *p);
	if (d->http != NULL && daemon_same_http(&d->cfg->http, &cfg->http)) {
		p->http = d->http;
		p->http_kept = 1;
	} else if (cfg->http.listen != NULL) {
		if (d->http != NULL && d->cfg->http.listen != NULL &&
		    strcmp(d->cfg->http.listen, cfg->http.listen) == 0) {
			daemon_drain_syncs(d);
			http_free(d->http);
			d->http = NULL;
		}
		if ((p->http = daemon_http_new(d, cfg, cause)) == NULL)
			return -1;
	}
	p->sources = xcalloc(cfg->nwatches, sizeof *p->sources);
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type != CFG_WATCH_FOLDER)
			continue;
		p->sources[p->nsources] =
		    source_folder_new(w, daemon_emit, d, cause);
		if (p->sources[p->nsources] == NULL) {
			daemon_parts_free(p);
			return -1;
		}
		p->nsources++;
	}
	return 0;
}

/* Builds the triggers, the workers and the sources of a config, with the
 * parts made for it. */
static void
daemon_setup(struct daemon *d, struct cfg *cfg, struct daemon_parts *p)
{
	struct worker_limits limits = config_worker_limits(cfg);
	struct source_s3_hooks hooks = { daemon_emit_listed, daemon_page, d };
	const struct cfg_watch *w;
	struct daemon_trigger *t;
	size_t i, k;

	d->cfg = cfg;
	d->triggers = xcalloc(cfg->ntriggers, sizeof *d->triggers);
	d->ntriggers = cfg->ntriggers;
	for (i = 0; i < cfg->ntriggers; i++) {
		t = &d->triggers[i];
		t->cfg = &cfg->triggers[i];
		t->watch = cfg_find_watch(cfg, t->cfg->watch);
		t->params = xcalloc(t->cfg->nparams, sizeof *t->params);
		for (k = 0; k < t->cfg->nparams; k++) {
			t->params[k].name = t->cfg->params[k].name;
			t->params[k].value = t->cfg->params[k].value;
		}
	}
	d->pool = worker_pool_new("/proc/self/exe", cfg->workers.count, &limits,
	    plugins_dir());
	daemon_warm(d);
	d->http = p->http;
	d->sources = p->sources;
	d->nsources = p->nsources;
	d->polls = xcalloc(cfg->nwatches, sizeof *d->polls);
	d->hooks = xcalloc(cfg->nwatches, sizeof *d->hooks);
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type == CFG_WATCH_S3_WEBHOOK)
			d->hooks[d->nhooks++] = source_webhook_new(w,
			    d->journal, daemon_emit_object, d);
		if (w->interval_ms != 0) /* a poll, or a reconciliation */
			d->polls[d->npolls++] = source_s3_new(w,
			    cfg_find_store(cfg, w->store), d->journal, &hooks);
	}
	for (i = 0; i < d->nsources; i++) /* files that came while down */
		source_folder_rescan(d->sources[i]);
	daemon_flush(d);
	if (d->http != NULL && !p->http_kept)
		log_info("http: listening on %s%s", cfg->http.listen,
		    cfg->http.cert_file != NULL ? " (TLS)" : "");
	log_info("watching %zu folder%s, %zu bucket listing%s and %zu "
		 "webhook%s with %zu trigger%s and %u worker%s",
	    d->nsources, d->nsources == 1 ? "" : "s", d->npolls,
	    d->npolls == 1 ? "" : "s", d->nhooks, d->nhooks == 1 ? "" : "s",
	    d->ntriggers, d->ntriggers == 1 ? "" : "s", cfg->workers.count,
	    cfg->workers.count == 1 ? "" : "s");
}

/* Ends what daemon_setup built; the HTTP server too unless keep_http. */
static void
daemon_teardown(struct daemon *d, int keep_http)
{
	size_t i;

	for (i = 0; i < d->nsources; i++)
		source_folder_free(d->sources[i]);
	free(d->sources);
	d->sources = NULL;
	d->nsources = 0;
	for (i = 0; i < d->npolls; i++)
		source_s3_free(d->polls[i]);
	free(d->polls);
	d->polls = NULL;
	d->npolls = 0;
	daemon_drain_syncs(d); /* nothing left uncommitted: flushed */
	if (!keep_http)
		http_free(d->http);
	d->http = NULL;
	for (i = 0; i < d->nhooks; i++)
		source_webhook_free(d->hooks[i]);
	free(d->hooks);
	d->hooks = NULL;
	d->nhooks = 0;
	free(d->waits);
	d->waits = NULL;
	free(d->syncing);
	d->syncing = NULL;
	worker_pool_free(d->pool);
	d->pool = NULL;
	for (i = 0; i < d->ntriggers; i++)
		free(d->triggers[i].params);
	free(d->triggers);
	d->triggers = NULL;
	d->ntriggers = 0;
	cfg_free(d->cfg);
	d->cfg = NULL;
}

/* Loads and checks a config, logging every error; NULL if it has any. */
static struct cfg *
daemon_load(const char *file)
{
	struct cfg *cfg = cfg_load(file);
	struct worker_limits limits = config_worker_limits(cfg);
	struct worker_pool *pool = pool_for_commands(&limits);
	size_t i;

	config_check(cfg, pool);
	worker_pool_free(pool);
	if (cfg->nerrors == 0)
		return cfg;
	cfg_sort_errors(cfg);
	for (i = 0; i < cfg->nerrors; i++)
		log_error("%s:%u: %s", cfg->file, cfg->errors[i].line,
		    cfg->errors[i].message);
	log_error("%s: %zu error%s", cfg->file, cfg->nerrors,
	    cfg->nerrors == 1 ? "" : "s");
	cfg_free(cfg);
	return NULL;
}

static void
daemon_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char grace[32];
	struct cfg *cfg;

	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP && !d->stopping) {
			log_info("reloading %s", d->config_file);
			if ((cfg = daemon_load(d->config_file)) == NULL) {
				log_error("the new config has errors: the old "
					  "one stays in force");
				continue;
			}
			if (strcmp(cfg->state, d->cfg->state) != 0) {
				log_error(
				    "the state folder cannot change on "
				    "reload (restart objtrigger to move it): "
				    "the old config stays in force");
				cfg_free(cfg);
				continue;
			}
			cfg_free(d->next_cfg);
			d->next_cfg = cfg;
		} else if (si.ssi_signo != SIGHUP && !d->stopping) {
			log_info("stopping: %u job%s running, %s to finish",
			    d->running, d->running == 1 ? "" : "s",
			    units_format_duration(d->cfg->workers.grace_ms,
				grace, sizeof grace));
			d->stopping = 1;
			d->stop_deadline = now_ms() + d->cfg->workers.grace_ms;
		}
	}
}

/* Puts a reloaded config in force once no job runs: its parts are made
 * first, beside the running ones, and if one cannot be, the old config
 * stays in force. */
static void
daemon_apply_reload(struct daemon *d)
{
	struct cfg *cfg = d->next_cfg;
	struct daemon_parts p;
	char *cause;

	d->next_cfg = NULL;
	if (daemon_parts_make(d, cfg, &p, &cause) != 0) {
		log_error("the new config cannot be applied: %s: the old one "
			  "stays in force",
		    cause);
		free(cause);
		cfg_free(cfg);
		if (d->http == NULL && d->cfg->http.listen != NULL &&
		    (d->http = daemon_http_new(d, d->cfg, &cause)) == NULL) {
			log_error("%s", cause);
			free(cause);
		}
		return;
	}
	daemon_teardown(d, p.http_kept);
	daemon_setup(d, cfg, &p);
	log_info("reloaded %s", d->config_file);
}

static int
daemon_min_wait(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* One turn of the loop: wait for something, then handle it. */
static void
daemon_turn(struct daemon *d)
{
	size_t n = 0, i, np, nfixed, npool = worker_pool_size(d->pool);
	struct pollfd *pfd = xcalloc(4 + d->nsources + npool, sizeof *pfd);
	int wait = DAEMON_IDLE_MS, pool_wait;
	int64_t due, now;

	pfd[n].fd = d->sigfd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = syncer_fd(d->syncer);
	pfd[n++].events = POLLIN;
	if (d->http != NULL) { /* answered while stopping too */
		pfd[n].fd = http_fd(d->http);
		pfd[n++].events = POLLIN;
		wait = daemon_min_wait(wait, http_wait(d->http));
	}
	nfixed = np = n;
	if (!d->stopping && d->next_cfg == NULL) {
		for (i = 0; i < d->nsources; i++) {
			pfd[n].fd = source_folder_fd(d->sources[i]);
			pfd[n++].events = POLLIN;
			wait = daemon_min_wait(wait,
			    source_folder_tick(d->sources[i]));
		}
		for (i = 0; i < d->npolls; i++)
			wait =
			    daemon_min_wait(wait, source_s3_wait(d->polls[i]));
		/* A retry already due waits for room: the dispatch before
		 * this turn started every due job that had some. */
		now = wall_ms();
		due = journal_next_due(d->journal, now);
		if (due > now)
			wait = daemon_min_wait(wait, (int)(due - now));
		if (d->batch_due > now) /* a batch waiting to fill */
			wait = daemon_min_wait(wait, (int)(d->batch_due - now));
	}
	np = n;
	/* Ends a failed commit lost are written again, once a second. */
	if (journal_pending(d->journal) && now_ms() >= d->replay_at) {
		d->replay_at = now_ms() + DAEMON_REPLAY_MS;
		daemon_tx(d);
	}
	if (d->in_tx) /* settled files were queued: start them */
		d->again = 1;
	n += worker_pool_fds(d->pool, pfd + n, &pool_wait);
	wait = daemon_min_wait(wait, pool_wait);
	if (d->stopping)
		wait = daemon_min_wait(wait,
		    d->stop_deadline <= now_ms() ?
			0 :
			(int)(d->stop_deadline - now_ms()));
	if (d->again)
		wait = 0;
	d->again = 0; /* set by the dispatch before this turn, or above */
	if (poll(pfd, n, wait) < 0 && errno != EINTR)
		fatal("poll: %s", strerror(errno));
	if (pfd[0].revents & POLLIN)
		daemon_signal(d);
	if (pfd[1].revents & POLLIN)
		daemon_synced(d);
	for (i = nfixed; i < np; i++) {
		if (pfd[i].revents & POLLIN)
			source_folder_read(d->sources[i - nfixed]);
	}
	if (d->http != NULL)
		http_run(d->http);
	worker_pool_dispatch(d->pool, pfd + np, n - np);
	daemon_flush(d); /* ends of jobs and webhooks' records: durable now */
	for (i = 0; !d->stopping && d->next_cfg == NULL && i < d->npolls; i++)
		source_s3_poll(d->polls[i]);
	daemon_flush(d);
	if (d->http != NULL) /* send the answers of the commit */
		http_run(d->http);
	free(pfd);
}

/* The pid in a held lock file, or 0 if it holds none. */
static long
daemon_lock_owner(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Takes the state folder's lock (STATE/lock, which holds the pid of the
 * daemon that has it); the descriptor, or -1 with the reason logged. */
static int
daemon_lock(const char *state)
{
	char *path, pid[32];
	long owner;
	int fd;

	if (mkdir(state, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make the state folder: mkdir %s: %s", state,
		    strerror(errno));
		return -1;
	}
	xasprintf(&path, "%s/lock", state);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK && (owner = daemon_lock_owner(fd)) > 0)
			log_error("another objtrigger (pid %ld) runs with the "
				  "state folder %s",
			    owner, state);
		else if (errno == EWOULDBLOCK)
			log_error("another objtrigger runs with the state "
				  "folder %s",
			    state);
		else
			log_error("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		log_warn("%s: cannot write the pid: %s", path, strerror(errno));
	free(path);
	return fd;
}

/* Runs the daemon until SIGTERM or SIGINT; returns the exit status. */
int
daemon_run(const char *config_file)
{
	struct daemon d = { .config_file = config_file, .sigfd = -1 };
	struct daemon_parts parts;
	sigset_t sigs;
	char *cause;
	int lock, requeued, rc = 1;

	if ((d.cfg = daemon_load(config_file)) == NULL)
		return 1;
	if ((lock = daemon_lock(d.cfg->state)) < 0) {
		cfg_free(d.cfg);
		return 1;
	}
	if ((d.journal = journal_open(d.cfg->state, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		cfg_free(d.cfg);
		close(lock);
		return 1;
	}
	prctl(PR_SET_DUMPABLE, 0); /* as a worker: it holds the keys */
	if ((d.syncer = syncer_new(journal_path(d.journal), &cause)) == NULL)
		fatal("%s", cause);
	xasprintf(&d.jobs_dir, "%s/jobs", d.cfg->state);
	sink_folder_remove_tree(d.jobs_dir);
	mkdir(d.jobs_dir, 0700);
	if ((requeued = journal_requeue(d.journal)) > 0)
		log_info("%d job%s that ran when objtrigger stopped %s again",
		    requeued, requeued == 1 ? "" : "s",
		    requeued == 1 ? "runs" : "run");

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	d.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

	if (daemon_parts_make(&d, d.cfg, &parts, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
	} else {
		daemon_setup(&d, d.cfg, &parts);
		while (!d.stopping || d.running > 0) {
			daemon_dispatch(&d);
			daemon_flush(&d);
			daemon_turn(&d);
			if (d.stopping && d.running > 0 &&
			    now_ms() >= d.stop_deadline) {
				log_warn("%u job%s did not finish in time: %s "
					 "again at the next start",
				    d.running, d.running == 1 ? "" : "s",
				    d.running == 1 ? "it runs" : "they run");
				d.aborting = 1;
				worker_pool_abort(d.pool, "objtrigger stopped");
			}
			if (d.next_cfg != NULL && d.running == 0) {
				daemon_flush(&d);
				daemon_apply_reload(&d);
			}
		}
		daemon_flush(&d);
		log_info("stopped");
		rc = d.stopping ? 0 : 1;
	}
	daemon_teardown(&d, 0);
	cfg_free(d.next_cfg);
	syncer_free(d.syncer);
	journal_close(d.journal);
	close(d.sigfd);
	close(lock);
	free(d.jobs_dir);
	return rc;
}
