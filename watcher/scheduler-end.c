/* scheduler-end.c - the end of a run: its outputs, then its jobs' ends. */

/*
 * When a worker ends a run, its outputs are committed to their folders
 * and recorded in the journal before its jobs are marked done: a crash in
 * between runs them again, and the second run writes the same names with
 * the same bytes. A failed run is retried with the trigger's backoff, or
 * ends dead.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "scheduler.h"

/* The wait before attempt n + 1: exponential, with full jitter. */
static int64_t
scheduler_backoff(const struct cfg_retry *r, int n)
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

/* The wait before a retry: the backoff, or longer if the worker said
 * so (a server's Retry-After), up to max-backoff. */
static int64_t
scheduler_retry_wait(const struct cfg_retry *r, int n, const struct wire_msg *m)
{
	const char *v = wire_get(m, "retry-after");
	int64_t wait = scheduler_backoff(r, n), after;

	after = v != NULL ? strtoll(v, NULL, 10) : 0;
	if (after > (int64_t)r->max_backoff_ms)
		after = (int64_t)r->max_backoff_ms;
	return after > wait ? after : wait;
}

struct scheduler_commit {
	struct scheduler *s;
	struct scheduler_run *dj;
	enum ot_status status; /* how a failure should end the job */
};

/* Records an output in the journal before it appears as name in the
 * folder dirfd, by the folder's real path (its descriptor's). */
static int
scheduler_output_hook(void *arg, int dirfd, const char *name,
    const struct stat *sb, char **cause)
{
	struct scheduler_commit *c = arg;
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
	rc = journal_add_output(c->s->journal, path, sb, c->dj->ids[0]);
	free(path);
	if (rc != 0)
		*cause = xstrdup("the journal did not take the output");
	return rc;
}

/* Whether output i is the trigger's last one that is a folder. */
static int
scheduler_last_folder_output(const struct cfg_trigger *t, size_t i)
{
	while (++i < t->noutputs) {
		if (t->outputs[i].path != NULL)
			return 0;
	}
	return 1;
}

/* Remembers an output a run wrote (taking what), for its batch's line. */
static void
scheduler_wrote(struct scheduler_run *dj, char *what)
{
	dj->outputs =
	    xreallocarray(dj->outputs, dj->noutputs + 1, sizeof *dj->outputs);
	dj->outputs[dj->noutputs++] = what;
}

/* Commits one output file to each of the trigger's outputs. */
static int
scheduler_output(void *arg, const char *rel, const char *path, char **cause)
{
	struct scheduler_commit *c = arg;
	const struct cfg_trigger *t = c->dj->trigger->cfg;
	struct template_vars v = { c->dj->inputs[0].key, rel, t->name,
		time(NULL), *c->dj->period != '\0' ? c->dj->period : NULL };
	struct sink_put put = { 0, scheduler_output_hook, c, c->dj };
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
		put.flags =
		    scheduler_last_folder_output(t, i) ? SINK_PUT_LAST : 0;
		scheduler_write(c->s);
		rc = sink_folder_put(root, dest, path, &put, cause);
		if (rc == 0) {
			c->dj->staged++;
			scheduler_wrote(c->dj, xstrdup(dest));
		}
		free(root);
		free(dest);
	}
	return rc;
}

/* Why the worker skipped input i, or NULL if it did not. */
static const char *
scheduler_skipped(const struct wire_msg *reply, size_t i)
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
scheduler_record_puts(struct scheduler *s, struct scheduler_run *dj)
{
	const struct wire_msg *r = &dj->job.reply;
	char *what;
	size_t k;

	for (k = 0; k + 3 < r->nfields; k++) {
		if (strcmp(r->fields[k].name, "put-store") != 0)
			continue;
		journal_add_s3_output(s->journal, r->fields[k].value,
		    r->fields[k + 1].value, r->fields[k + 2].value,
		    r->fields[k + 3].value, dj->ids[0]);
		xasprintf(&what, "s3://%s/%s/%s", r->fields[k].value,
		    r->fields[k + 1].value, r->fields[k + 2].value);
		scheduler_wrote(dj, what);
	}
}

/* The S3 requests a worker made for a job: "s3-count" fields of
 * "STORE REQUESTS ERRORS". */
static void
scheduler_s3_counts(const struct wire_msg *reply)
{
	char store[256];
	uint64_t requests, errors;
	size_t i;

	for (i = 0; i < reply->nfields; i++) {
		if (strcmp(reply->fields[i].name, "s3-count") == 0 &&
		    sscanf(reply->fields[i].value, "%255s %" SCNu64 " %" SCNu64,
			store, &requests, &errors) == 3)
			metrics_s3_count(NULL, store, requests, errors);
	}
}

/* Counts how long a run of a trigger took. */
static void
scheduler_run_time(struct scheduler_trigger *t, uint64_t ms)
{
	t->run_ms = t->ended++ == 0 ? ms : (t->run_ms * 7 + ms) / 8;
}

/* A run's outputs are committed (or it wrote none): record how its jobs
 * ended. */
static void
scheduler_run_end(struct scheduler_run *dj)
{
	struct scheduler *s = dj->s;
	struct job *job = &dj->job;
	const struct cfg_retry *retry = &dj->trigger->cfg->retry;
	enum ot_status status = job->status;
	const char *result, *skip;
	int64_t now = wall_ms(), next_at = 0;
	int dead = 0;
	size_t i;

	scheduler_write(s);
	if (status == OT_OK)
		scheduler_record_puts(s, dj);
	/* A batch ends as one: every input done, or every one retried; but
	 * an input the worker skipped (its object changed) ends skipped. */
	for (i = 0; i < dj->n; i++) {
		if ((skip = scheduler_skipped(&job->reply, i)) != NULL) {
			journal_skip(s->journal, dj->ids[i], skip, now);
			scheduler_ended(s, dj->ids[i], dj->trigger->cfg->name,
			    "skipped", dj->attempts[i], skip);
			log_job(LEVEL_INFO, dj->ids[i], dj->trigger->cfg->name,
			    dj->inputs[i].key, "skipped", dj->attempts[i],
			    now_ms() - dj->started, skip);
			metrics_add(M_JOBS, 1, "trigger",
			    dj->trigger->cfg->name, "result", "skipped", NULL);
			continue;
		}
		if (status == OT_OK) {
			journal_done(s->journal, dj->ids[i], now);
			result = "done";
		} else {
			dead = status == OT_REJECT ||
			    dj->attempts[i] >= (int)retry->attempts;
			next_at = now +
			    scheduler_retry_wait(retry, dj->attempts[i],
				&job->reply);
			journal_failed(s->journal, dj->ids[i], dead, next_at,
			    job->message, now);
			result = dead ? "dead" : "retry";
		}
		if (status == OT_OK || dead)
			scheduler_ended(s, dj->ids[i], dj->trigger->cfg->name,
			    result, dj->attempts[i], job->message);
		log_job(dead            ? LEVEL_ERROR :
			status == OT_OK ? LEVEL_INFO :
					  LEVEL_WARN,
		    dj->ids[i], dj->trigger->cfg->name, dj->inputs[i].key,
		    result, dj->attempts[i], now_ms() - dj->started,
		    job->message);
		metrics_add(M_JOBS, 1, "trigger", dj->trigger->cfg->name,
		    "result", result, NULL);
	}
	if (dj->trigger->cfg->batch_size > 1)
		log_batch(status == OT_OK ? LEVEL_INFO : LEVEL_WARN, dj->ids[0],
		    dj->n, dj->trigger->cfg->name,
		    status == OT_OK ? "done" : "failed",
		    *dj->period != '\0' ? dj->period : NULL, dj->outputs,
		    dj->noutputs);
	metrics_observe(M_JOB_SECONDS, (double)(now_ms() - dj->started) / 1000,
	    "trigger", dj->trigger->cfg->name, NULL);
	scheduler_s3_counts(&job->reply);
	scheduler_cleanup_job(dj);
}

/* An output of a run was committed (why: NULL), or failed: the run ends
 * once its last one is. */
static void
scheduler_output_committed(void *owner, const char *why)
{
	struct scheduler_run *dj = owner;

	if (why != NULL && dj->job.status == OT_OK) {
		dj->job.status = OT_RETRY;
		free(dj->job.message);
		dj->job.message = xstrdup(why);
	}
	if (--dj->staged > 0)
		return;
	dj->s->ending--;
	scheduler_run_end(dj);
}

/* Records the ends of the runs whose outputs were committed since the
 * last call. Returns 0, or -1 with *cause if their sync failed. */
int
scheduler_outputs_committed(char **cause)
{
	return sink_folder_committed(scheduler_output_committed, cause);
}

/* A worker finished a job: its outputs are staged, and it ends once they
 * are committed. */
void
scheduler_job_done(struct job *job)
{
	struct scheduler_run *dj = job->arg;
	struct scheduler *s = dj->s;
	struct scheduler_commit c = { s, dj, OT_RETRY };
	char *cause = NULL;

	s->running--;
	if (dj->queued)
		s->queued--;
	else {
		dj->trigger->running--;
		scheduler_run_time(dj->trigger, now_ms() - dj->started);
	}
	if (dj->prev != NULL)
		dj->prev->next = dj->next;
	else
		s->jobs = dj->next;
	if (dj->next != NULL)
		dj->next->prev = dj->prev;
	if (s->aborting) { /* left running in the journal: runs again */
		scheduler_cleanup_job(dj);
		return;
	}
	if (dj->lost) {
		log_warn("job %s: the journal lost its start (a failed "
			 "commit): its end is not recorded",
		    dj->idbuf);
		scheduler_cleanup_job(dj);
		return;
	}
	/* Its worker is idle: its next job first, then the outputs. */
	if (job->status == OT_OK)
		scheduler_dispatch(s);
	if (job->status == OT_OK &&
	    sink_folder_walk(job->outdir, scheduler_output, &c, &cause) != 0) {
		job->status = c.status;
		free(job->message);
		job->message = cause;
	}
	if (dj->staged > 0)
		s->ending++;
	else
		scheduler_run_end(dj);
}
