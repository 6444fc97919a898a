/* scheduler.c - events to jobs: matching, queues, retries, batches, runs. */

/*
 * An event becomes a job in the journal for each trigger it matches. Jobs
 * are taken from the journal as triggers and workers have room, and sent
 * to workers as runs (one job, or a batch). When a run ends, its outputs
 * are committed to their folders and recorded before the jobs are marked
 * done: a crash in between runs them again, and the second run writes the
 * same names with the same bytes. Every journal write goes into the
 * caller's transaction (hooks.write), which the daemon commits once per
 * turn.
 */

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "scheduler.h"

#define SCHEDULER_AHEAD_MS 200 /* runs this short get jobs sent ahead */

/* A journal write follows: in the turn's transaction, whose number is
 * returned. */
uint64_t
scheduler_write(struct scheduler *s)
{
	return s->hooks.write(s->hooks.arg);
}

/* Whether an event is for a trigger: its watch, events, size and
 * globs. */
int
scheduler_match(const struct cfg_trigger *t, const struct journal_event *e)
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

/* Says that a job ended for good, to whom asked (hooks.ended). */
void
scheduler_ended(struct scheduler *s, int64_t id, const char *trigger,
    const char *result, int attempts, const char *error)
{
	if (s->hooks.ended != NULL)
		s->hooks.ended(s->hooks.arg, id, trigger, result, attempts,
		    error);
}

static void
scheduler_hold_id(int64_t **ids, size_t *n, int64_t id)
{
	*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
	(*ids)[(*n)++] = id;
}

/* The job a trigger had for an event, if it has not ended: into *ids.
 * A dead one runs again (its event came again: sent back from a
 * dead-letter queue). -1 if the journal failed. */
static int
scheduler_hold_job(struct scheduler *s, const struct journal_event *e,
    const char *trigger, int64_t **ids, size_t *n)
{
	char state[16];
	int64_t id;
	int rc;

	if ((rc = journal_find(s->journal, e, trigger, &id, state,
		 sizeof state)) <= 0)
		return rc;
	if (strcmp(state, "dead") == 0) {
		if (journal_revive(s->journal, trigger, id, wall_ms()) < 0)
			return -1;
		log_info("trigger %s: %s/%s: came again: runs again", trigger,
		    e->folder, e->key);
	} else if (strcmp(state, "pending") != 0 &&
	    strcmp(state, "running") != 0 && strcmp(state, "retry") != 0)
		return 0; /* it ended: done, skipped, forgotten */
	scheduler_hold_id(ids, n, id);
	return 0;
}

/* A job for each trigger an event matches; with ids, the ids of those
 * that have not ended yet (new or known) go there. An object a scan
 * found where it was is, for a trigger whose first scan this is, queued
 * or recorded as skipped as its existing= says. */
static int
scheduler_add(struct scheduler *s, const struct journal_event *e, int64_t **ids,
    size_t *n)
{
	struct scheduler_trigger *t;
	const char *skip;
	int rc, matched = 0, added = 0, failed = 0;
	size_t i;

	for (i = 0; i < s->ntriggers; i++) {
		t = &s->triggers[i];
		if (!scheduler_match(t->cfg, e))
			continue;
		if (e->existing == JOURNAL_EXISTING_LISTED && !t->fresh)
			continue; /* unchanged since its last listing */
		skip = e->existing && t->fresh && !t->cfg->run_existing ?
		    JOURNAL_SKIPPED_EXISTING :
		    NULL;
		scheduler_write(s);
		matched++;
		if ((rc = journal_add(s->journal, e, t->cfg->name, skip,
			 wall_ms())) == 1) {
			added++;
			t->existing += e->existing && t->fresh;
			log_job_note(LEVEL_DEBUG, journal_added(s->journal),
			    t->cfg->name, e->folder, e->key,
			    skip != NULL ? "skipped" : "queued");
		} else if (rc < 0)
			failed = 1;
		if (ids == NULL || rc < 0)
			continue;
		if (rc == 1 && skip == NULL) /* queued */
			scheduler_hold_id(ids, n, journal_added(s->journal));
		else if (rc == 0 &&
		    scheduler_hold_job(s, e, t->cfg->name, ids, n) != 0)
			failed = 1;
	}
	if (matched == 0)
		log_debug("watch %s: %s matched no trigger", e->watch, e->key);
	if (failed)
		return -1;
	return matched == 0 || added > 0;
}

/* A job for each trigger an event matches. Returns 1 if it queued one
 * (or matched none), 0 if every job it matched was queued before (a
 * duplicate), -1 if the journal failed. */
int
scheduler_queue(struct scheduler *s, const struct journal_event *e)
{
	return scheduler_add(s, e, NULL, NULL);
}

/* As scheduler_queue, for a source that must know when the event's jobs
 * end (hooks.ended): the ids of those that have not ended yet, new or
 * queued before, are added to *ids (n of them). */
int
scheduler_queue_held(struct scheduler *s, const struct journal_event *e,
    int64_t **ids, size_t *n)
{
	return scheduler_add(s, e, ids, n);
}

/* Frees a run, and its folder. */
void
scheduler_cleanup_job(struct scheduler_run *dj)
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
		free(dj->inputs[i].source);
	}
	for (i = 0; i < dj->noutputs; i++)
		free(dj->outputs[i]);
	free(dj->outputs);
	free(dj->inputs);
	free(dj->ids);
	free(dj->attempts);
	free(dj);
}

/* Whether a job's file is still the version it was queued for; if not,
 * says why (allocated): a newer version has its own job. Its device goes
 * to *dev, for the worker's check. */
static char *
scheduler_stale(const struct journal_job *jj, uint64_t *dev)
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
scheduler_take(struct scheduler *s, struct scheduler_run *dj,
    const struct journal_job *jj)
{
	struct job_input *in = &dj->inputs[dj->n];
	int folder = dj->trigger->watch->type == CFG_WATCH_FOLDER;
	char *stale;
	int attempt;

	if (folder && (stale = scheduler_stale(jj, &in->dev)) != NULL) {
		scheduler_write(s);
		s->again = 1; /* its room is free for the next one */
		journal_skip(s->journal, jj->id, stale, wall_ms());
		scheduler_ended(s, jj->id, dj->trigger->cfg->name, "skipped",
		    (int)jj->attempts, stale);
		log_job(LEVEL_INFO, jj->id, dj->trigger->cfg->name, jj->key,
		    "skipped", (int)jj->attempts, 0, stale);
		metrics_add(M_JOBS, 1, "trigger", dj->trigger->cfg->name,
		    "result", "skipped", NULL);
		free(stale);
		return 1;
	}
	scheduler_write(s);
	if ((attempt = journal_start(s->journal, jj->id, wall_ms())) < 0)
		return 0; /* it stays in the journal for later */
	if (folder && dj->trigger->cfg->fetch) {
		xasprintf(&in->path, "%s/%s", jj->folder, jj->key);
		in->has_version = 1;
		in->inode = (uint64_t)jj->inode;
		in->mtime = jj->mtime;
	}
	in->size = jj->size;
	in->key = xstrdup(jj->key);
	in->bucket = xstrdup(jj->folder);
	in->event = xstrdup(jj->event);
	if (*jj->etag != '\0')
		in->etag = xstrdup(jj->etag);
	if (!folder)
		xasprintf(&in->source, "%s/%s",
		    cfg_find_store(s->cfg, dj->trigger->watch->store)->endpoint,
		    jj->folder);
	in->time_ms = folder ? jj->mtime / 1000000 : jj->created;
	dj->ids[dj->n] = jj->id;
	dj->attempts[dj->n++] = attempt;
	return 1;
}

/* A job sent behind another starts: it counts as running now. */
static void
scheduler_job_started(struct job *job)
{
	struct scheduler_run *dj = job->arg;

	dj->queued = 0;
	dj->s->queued--;
	dj->trigger->running++;
	dj->started = now_ms();
}

/* Starts journal jobs in a worker, as one run (a batch if n > 1), or
 * sends them behind a running job of the trigger if queue is set;
 * returns how many were taken or skipped. */
static size_t
scheduler_start(struct scheduler *s, struct scheduler_trigger *t,
    const struct journal_job *jobs, size_t n, int64_t period, int queue)
{
	struct scheduler_run *dj = xcalloc(1, sizeof *dj);
	size_t i, progress = 0;
	char *cause;

	dj->s = s;
	dj->trigger = t;
	dj->inputs = xcalloc(n, sizeof *dj->inputs);
	dj->ids = xcalloc(n, sizeof *dj->ids);
	dj->attempts = xcalloc(n, sizeof *dj->attempts);
	for (i = 0; i < n; i++)
		progress += (size_t)scheduler_take(s, dj, &jobs[i]);
	if (dj->n == 0) {
		scheduler_cleanup_job(dj);
		return progress;
	}
	dj->started = now_ms();
	snprintf(dj->idbuf, sizeof dj->idbuf, "%" PRId64, dj->ids[0]);
	if (t->cfg->batch_every_ms != 0)
		clock_period_name(period, t->cfg->batch_every_ms, dj->period,
		    sizeof dj->period);
	if ((dj->dir = sink_folder_scratch(s->jobs_dir, &cause)) == NULL)
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
	for (i = 0; i < t->cfg->noutputs; i++)
		dj->job.flush_outputs |= t->cfg->outputs[i].path != NULL;
	scheduler_s3_request(s->cfg, t->cfg, dj->dir, &dj->job, &dj->extra);
	if (*dj->period != '\0')
		wire_add(&dj->extra, "period", "%s", dj->period);
	dj->job.done = scheduler_job_done;
	dj->job.started = scheduler_job_started;
	dj->job.arg = dj;
	dj->tx = scheduler_write(s);
	dj->next = s->jobs;
	if (s->jobs != NULL)
		s->jobs->prev = dj;
	s->jobs = dj;
	s->running++;
	if (queue) {
		dj->queued = 1;
		s->queued++;
		if (worker_pool_queue(s->pool, &dj->job) != 0)
			fatal("job %s: no worker to queue it on, though one "
			      "was found",
			    dj->idbuf);
		return progress;
	}
	t->running++;
	if (worker_pool_submit(s->pool, &dj->job) != 0) /* room <= idle */
		fatal("job %s: no idle worker, though one was counted",
		    dj->idbuf);
	return progress;
}

/* A calendar batch: keeps of jobs those of the period of the oldest one
 * (freeing the others), whose start goes to *start; returns its end,
 * when the batch is due. */
static int64_t
scheduler_period(struct journal_job *jobs, size_t *n, uint64_t every_ms,
    int64_t *start)
{
	int64_t oldest = jobs[0].created, end;
	size_t k, kept = 0;

	for (k = 1; k < *n; k++)
		oldest = jobs[k].created < oldest ? jobs[k].created : oldest;
	clock_period(oldest, every_ms, start, &end);
	for (k = 0; k < *n; k++) {
		if (jobs[k].created < end)
			jobs[kept++] = jobs[k];
		else
			journal_job_free(&jobs[k]);
	}
	*n = kept;
	return end;
}

/* Starts a trigger's next run if it is due: a single job, a full batch,
 * a batch whose oldest input has waited batch-window, or a calendar
 * batch whose period has ended; queued behind a running one if queue is
 * set. Returns 1 if it started one (or skipped jobs), 0 if nothing is due
 * now. */
static int
scheduler_dispatch_one(struct scheduler *s, struct scheduler_trigger *t,
    int queue)
{
	const struct cfg_trigger *c = t->cfg;
	struct journal_job *jobs;
	int64_t now = wall_ms(), due = 0, period = 0;
	size_t k, n;
	int started = 0;

	if (journal_runnable(s->journal, c->name, now, c->batch_size, &jobs,
		&n) != 0)
		return 0;
	if (n > 0 && c->batch_every_ms != 0)
		due = scheduler_period(jobs, &n, c->batch_every_ms, &period);
	else if (n > 0 && c->batch_size > 1 && n < c->batch_size) {
		due = jobs[0].created;
		for (k = 1; k < n; k++)
			due = jobs[k].created < due ? jobs[k].created : due;
		due += (int64_t)c->batch_window_ms;
	}
	if (n > 0 && due <= now)
		started = scheduler_start(s, t, jobs, n, period, queue) > 0;
	else if (n > 0 && (s->batch_due == 0 || due < s->batch_due))
		s->batch_due = due;
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
void
scheduler_dispatch(struct scheduler *s)
{
	struct scheduler_trigger *t;
	size_t i;

	s->batch_due = 0;
	if (s->held)
		return;
	for (i = 0; i < s->ntriggers; i++) {
		t = &s->triggers[i];
		while (t->running < t->cfg->concurrency &&
		    worker_pool_busy(s->pool) < worker_pool_size(s->pool) &&
		    scheduler_dispatch_one(s, t, 0))
			;
		while (t->ended > 0 && t->run_ms < SCHEDULER_AHEAD_MS &&
		    worker_pool_can_queue(s->pool, t->cfg->name) &&
		    scheduler_dispatch_one(s, t, 1))
			;
	}
}

/* Starts the workers with the triggers' plugins loaded, each plugin with
 * the parameters of the first trigger that uses it, so that the first
 * files do not wait for that (libvips takes some 50 ms to load and
 * start). */
static void
scheduler_warm(struct scheduler *s)
{
	struct worker_warm *w = xcalloc(s->ntriggers, sizeof *w);
	size_t i, k, n = 0;

	for (i = 0; i < s->ntriggers; i++) {
		for (k = 0; k < n; k++) {
			if (strcmp(w[k].plugin, s->triggers[i].cfg->plugin) ==
			    0)
				break;
		}
		if (k < n)
			continue;
		w[n].plugin = s->triggers[i].cfg->plugin;
		w[n].params = s->triggers[i].params;
		w[n++].nparams = s->triggers[i].cfg->nparams;
	}
	if (n > 0)
		worker_pool_warm(s->pool, w, n);
	free(w);
}

/* Where a watch looks, as the journal keeps it for its triggers: a
 * trigger whose watch looks elsewhere has its first scan again. */
char *
scheduler_place(const struct cfg_watch *w)
{
	char *place;

	if (w->type == CFG_WATCH_FOLDER)
		xasprintf(&place, "folder %s", w->path);
	else
		xasprintf(&place, "bucket %s/%s/%s", w->store,
		    w->bucket != NULL ? w->bucket : "*", w->prefix);
	return place;
}

/* How many triggers of a watch have not had their first scan. */
unsigned
scheduler_fresh(const struct scheduler *s, const char *watch)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < s->ntriggers; i++)
		n += s->triggers[i].fresh &&
		    strcmp(s->triggers[i].cfg->watch, watch) == 0;
	return n;
}

/* A watch's first scan of its place ended (listed 0: it has none, as a
 * webhook): its new triggers record it, and say what they did with the
 * objects it found. */
void
scheduler_scanned(struct scheduler *s, const char *watch, int listed)
{
	struct scheduler_trigger *t;
	size_t i;

	for (i = 0; i < s->ntriggers; i++) {
		t = &s->triggers[i];
		if (!t->fresh || strcmp(t->cfg->watch, watch) != 0)
			continue;
		scheduler_write(s);
		if (journal_trigger_scanned(s->journal, t->cfg->name, t->place,
			wall_ms()) != 0)
			continue;
		t->fresh = 0;
		if (!listed)
			log_info("trigger %s: watch %s has no listing: objects "
				 "already in its bucket are not run "
				 "(objtrigger backfill %s runs them)",
			    t->cfg->name, watch, t->cfg->name);
		else if (t->cfg->run_existing)
			log_info("trigger %s: %" PRIu64 " object%s already in "
				 "watch %s queued (existing=run)",
			    t->cfg->name, t->existing,
			    t->existing == 1 ? "" : "s", watch);
		else
			log_info("trigger %s: %" PRIu64 " object%s already in "
				 "watch %s skipped (existing=skip; objtrigger "
				 "backfill %s runs them)",
			    t->cfg->name, t->existing,
			    t->existing == 1 ? "" : "s", watch, t->cfg->name);
	}
}

struct scheduler *
scheduler_new(const struct cfg *cfg, struct journal *journal,
    struct worker_pool *pool, const char *jobs_dir,
    const struct scheduler_hooks *hooks)
{
	struct scheduler *s = xcalloc(1, sizeof *s);
	struct scheduler_trigger *t;
	size_t i, k;

	s->cfg = cfg;
	s->journal = journal;
	s->pool = pool;
	s->jobs_dir = jobs_dir;
	s->hooks = *hooks;
	s->triggers = xcalloc(cfg->ntriggers, sizeof *s->triggers);
	s->ntriggers = cfg->ntriggers;
	for (i = 0; i < cfg->ntriggers; i++) {
		t = &s->triggers[i];
		t->cfg = &cfg->triggers[i];
		t->watch = cfg_find_watch(cfg, t->cfg->watch);
		t->place = scheduler_place(t->watch);
		t->fresh =
		    journal_trigger_known(journal, t->cfg->name, t->place) == 0;
		t->params = xcalloc(t->cfg->nparams, sizeof *t->params);
		for (k = 0; k < t->cfg->nparams; k++) {
			t->params[k].name = t->cfg->params[k].name;
			t->params[k].value = t->cfg->params[k].value;
		}
	}
	scheduler_warm(s);
	return s;
}

/* Frees a scheduler whose runs have all ended. */
void
scheduler_free(struct scheduler *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntriggers; i++) {
		free(s->triggers[i].params);
		free(s->triggers[i].place);
	}
	free(s->triggers);
	free(s);
}

/* Starts nothing new while held (stopping, or a reload waits). */
void
scheduler_hold(struct scheduler *s, int held)
{
	s->held = held;
}

/* Runs not ended: sent to workers (running, or queued behind a running
 * one), or whose outputs are being committed. */
unsigned
scheduler_runs(const struct scheduler *s)
{
	return s->running + s->ending;
}

/* Runs that run now. */
unsigned
scheduler_running(const struct scheduler *s)
{
	return s->running - s->queued;
}

/* When a batch waiting to fill is due (wall ms), 0 if none waits. */
int64_t
scheduler_batch_due(const struct scheduler *s)
{
	return s->batch_due;
}

/* Whether room was freed since the last call (a job skipped without
 * running): the next turn should not wait. */
int
scheduler_again(struct scheduler *s)
{
	int again = s->again;

	s->again = 0;
	return again;
}

/* The transaction tx failed: the runs it started had their journal rows
 * rolled back, and their ids may be given to other jobs. Their ends are
 * not recorded; their events are taken again (a rescan, a listing, a
 * sender's retry) and run then. */
void
scheduler_lose(struct scheduler *s, uint64_t tx)
{
	struct scheduler_run *dj;

	for (dj = s->jobs; dj != NULL; dj = dj->next) {
		if (dj->tx == tx)
			dj->lost = 1;
	}
}

/* Stops every run: the jobs stay running in the journal, and run again
 * at the next start. */
void
scheduler_abort(struct scheduler *s, const char *why)
{
	s->aborting = 1;
	worker_pool_abort(s->pool, why);
}
