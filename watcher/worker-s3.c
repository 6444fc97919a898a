/* worker-s3.c - a job's objects: inputs fetched, outputs put, in a worker. */

/*
 * A job whose inputs are objects gets the stores it needs in its request.
 * Each input is downloaded into the job's folder with If-Match on the
 * ETag its event saw: if the object changed or went away since, the input
 * is skipped (the newer version has its own event). An object that this
 * trigger made is skipped too. After the transform, each file it made is
 * put into every bucket output, tagged with the trigger that made it.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"

struct worker_s3_output {
	const struct cfg_store *store;
	const char *bucket, *key, *content_type;
};

struct worker_s3 {
	struct cfg_store **stores;
	size_t nstores;
	const struct cfg_store *source; /* the inputs' store, or NULL */
	uint64_t max_input;
	const char *max_input_limit; /* which limit it is */
	struct worker_s3_output *outputs;
	size_t noutputs;
	const char *period; /* a calendar batch's, or NULL */
};

static const struct cfg_store *
worker_s3_store(const struct worker_s3 *ws, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ws->nstores; i++) {
		if (strcmp(ws->stores[i]->name, name) == 0)
			return ws->stores[i];
	}
	return NULL;
}

/* Reads the S3 part of a request; NULL if it has none. */
struct worker_s3 *
worker_s3_parse(const struct wire_msg *m)
{
	struct worker_s3 *ws = xcalloc(1, sizeof *ws);
	struct worker_s3_output *o = NULL;
	struct cfg_store *store;
	const struct wire_field *f;
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (strcmp(f->name, "store") == 0 &&
		    (store = s3_store_from_wire(m, &i)) != NULL) {
			ws->stores = xreallocarray(ws->stores, ws->nstores + 1,
			    sizeof *ws->stores);
			ws->stores[ws->nstores++] = store;
		} else if (strcmp(f->name, "source-store") == 0)
			ws->source = worker_s3_store(ws, f->value);
		else if (strcmp(f->name, "max-input") == 0)
			ws->max_input = strtoull(f->value, NULL, 10);
		else if (strcmp(f->name, "max-input-limit") == 0)
			ws->max_input_limit = f->value;
		else if (strcmp(f->name, "period") == 0)
			ws->period = f->value;
		else if (strcmp(f->name, "output-store") == 0) {
			ws->outputs = xreallocarray(ws->outputs,
			    ws->noutputs + 1, sizeof *ws->outputs);
			o = &ws->outputs[ws->noutputs++];
			memset(o, 0, sizeof *o);
			o->store = worker_s3_store(ws, f->value);
		} else if (o != NULL && strcmp(f->name, "output-bucket") == 0)
			o->bucket = f->value;
		else if (o != NULL && strcmp(f->name, "output-key") == 0)
			o->key = f->value;
		else if (o != NULL && strcmp(f->name, "output-type") == 0)
			o->content_type = f->value;
	}
	return ws;
}

void
worker_s3_free(struct worker_s3 *ws)
{
	size_t i;

	if (ws == NULL)
		return;
	for (i = 0; i < ws->nstores; i++)
		s3_store_free(ws->stores[i]);
	free(ws->stores);
	free(ws->outputs);
	free(ws);
}

int
worker_s3_fetches(const struct worker_s3 *ws)
{
	return ws->source != NULL;
}

/* Creates the file at path, an input of the job's (in/N/NAME in its
 * folder), and the two folders above it: the daemon names them, the
 * worker makes them, beside the daemon's loop. The file is the spare the
 * folder's last job left (sink-folder.c), if there is one: already
 * renamed to path as the folder was emptied, or renamed now.
 * Returns a descriptor open for writing, or -1 with errno. */
int
worker_s3_input_file(const char *path)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	char *dir = xstrdup(path), *name = strrchr(dir, '/'), *n = NULL;
	char *spare;
	int fd;

	if (name != NULL) {
		*name = '\0';
		n = strrchr(dir, '/');
	}
	if (n == NULL) { /* not in/N/NAME below a folder */
		free(dir);
		errno = EINVAL;
		return -1;
	}
	/* Emptying the folder left nothing there but a file of ours; what
	 * else came since (a pipe) is refused, not waited on. */
	fd = open(path,
	    O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT) {
		free(dir);
		return fd;
	}
	xasprintf(&spare, "%s/%s", dir, SINK_SPARE_FILE);
	if (rename(spare, path) == 0)
		fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	else if ((fd = open(path, flags, 0600)) < 0 && errno == ENOENT) {
		/* The folders are kept between jobs: made when missing. */
		*n = '\0';
		if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
			*n = '/';
			if (mkdir(dir, 0700) == 0 || errno == EEXIST)
				fd = open(path, flags, 0600);
		}
	}
	free(spare);
	free(dir);
	return fd;
}

/* Downloads one input to its path. Returns OT_OK, or a status with *why;
 * *skip is set when the input should be skipped rather than failed. */
static enum ot_status
worker_s3_get(const struct worker_s3 *ws, const struct ot_input *in,
    const char *trigger, int *skip, char **why)
{
	struct s3_object o = { 0 };
	struct s3_error err = { 0 };
	char *what;
	int fd, rc;

	if ((fd = worker_s3_input_file(in->path)) < 0) {
		xasprintf(why, "%s: %s", in->path, strerror(errno));
		return OT_RETRY;
	}
	if (strcmp(in->event, "removed") == 0) { /* an empty file */
		close(fd);
		return OT_OK;
	}
	rc = s3_get(ws->source, in->bucket, in->key, in->etag, ws->max_input,
	    fd, &o, &err);
	if (close(fd) != 0 && rc == 0) {
		s3_error_set(&err, 0, "WriteFailed", "%s", strerror(errno));
		rc = -1;
	}
	if (rc == 0 && o.made_by != NULL && strcmp(o.made_by, trigger) == 0) {
		xasprintf(why, "made by trigger %s itself: not run again",
		    trigger);
		*skip = 1;
	} else if (rc != 0 && (err.http == 412 || err.http == 404)) {
		xasprintf(why, "the object %s before its job ran: %s",
		    err.http == 412 ? "changed" : "went away",
		    err.http == 412 ? "the new version has its own job" :
				      "nothing to do");
		*skip = 1;
	} else if (rc != 0 && strcmp(err.code, "TooLarge") == 0) {
		xasprintf(why,
		    "GET %s/%s: the object is larger than %s (%" PRIu64
		    " bytes): not fetched",
		    in->bucket, in->key,
		    ws->max_input_limit != NULL ? ws->max_input_limit :
						  "the limit",
		    ws->max_input);
	} else if (rc != 0) {
		xasprintf(&what, "GET %s/%s", in->bucket, in->key);
		*why = s3_error_text(ws->source, what, &err);
		free(what);
	}
	s3_object_clear(&o);
	if (rc == 0 || *skip)
		return OT_OK;
	return err.retryable ? OT_RETRY : OT_REJECT;
}

/* Fetches the inputs; those to skip are taken out of the job and named in
 * the answer as "skip" (the input's index) and "skip-why". */
enum ot_status
worker_s3_fetch(const struct worker_s3 *ws, struct ot_input *inputs,
    size_t *count, const char *trigger, struct wire_msg *res, char **why)
{
	enum ot_status status;
	size_t i, kept = 0;
	int skip;

	for (i = 0; i < *count; i++) {
		skip = 0;
		status = worker_s3_get(ws, &inputs[i], trigger, &skip, why);
		if (status != OT_OK)
			return status;
		if (skip) {
			wire_add(res, "skip", "%zu", i);
			wire_add(res, "skip-why", "%s", *why);
			free(*why);
			*why = NULL;
		} else
			inputs[kept++] = inputs[i];
	}
	*count = kept;
	return OT_OK;
}

struct worker_s3_walk {
	const struct worker_s3 *ws;
	const struct worker_s3_output *out;
	const struct ot_job *job;
	struct wire_msg *res;
	enum ot_status status;
};

/* Puts one file the transform made into one bucket output. */
static int
worker_s3_put_file(void *arg, const char *rel, const char *path, char **cause)
{
	struct worker_s3_walk *w = arg;
	const struct ot_input *in = &w->job->inputs[0];
	struct template_vars v = { in->key, rel, w->job->trigger, time(NULL),
		w->ws->period };
	/* A file has no ETag: the last field is then left out. */
	struct s3_meta meta[] = { { "objtrigger-trigger", w->job->trigger },
		{ "objtrigger-source-key", in->key },
		{ "objtrigger-source-etag", in->etag } };
	struct s3_object o = { 0 };
	struct s3_error err = { 0 };
	const char *type = w->out->content_type;
	char *key, *why, *what;
	int fd, rc;

	if ((key = template_expand_key(w->out->key, &v, &why)) == NULL) {
		xasprintf(cause, "output %s: %s", rel, why);
		free(why);
		w->status = OT_REJECT;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(key);
		return -1;
	}
	if (type == NULL || strcmp(type, "auto") == 0)
		type = s3_content_type(key);
	rc = s3_put(w->out->store, w->out->bucket, key, fd, type, meta,
	    in->etag != NULL && *in->etag != '\0' ? 3 : 2, &o, &err);
	close(fd);
	if (rc != 0) {
		xasprintf(&what, "PUT %s/%s", w->out->bucket, key);
		*cause = s3_error_text(w->out->store, what, &err);
		free(what);
		w->status = err.retryable ? OT_RETRY : OT_REJECT;
	} else {
		wire_add(w->res, "put-store", "%s", w->out->store->name);
		wire_add(w->res, "put-bucket", "%s", w->out->bucket);
		wire_add(w->res, "put-key", "%s", key);
		wire_add(w->res, "put-etag", "%s",
		    o.etag != NULL ? o.etag : "");
	}
	s3_object_clear(&o);
	free(key);
	return rc;
}

/* Puts the job's outputs into its bucket outputs, naming each object put
 * in the answer ("put-store", "put-bucket", "put-key", "put-etag"). */
enum ot_status
worker_s3_put(const struct worker_s3 *ws, const struct ot_job *job,
    struct wire_msg *res, char **why)
{
	struct worker_s3_walk w = { ws, NULL, job, res, OT_RETRY };
	size_t i;

	for (i = 0; i < ws->noutputs; i++) {
		w.out = &ws->outputs[i];
		if (w.out->store == NULL || w.out->bucket == NULL ||
		    w.out->key == NULL) {
			*why = xstrdup("malformed request: an output without "
				       "its store");
			return OT_FATAL;
		}
		if (sink_folder_walk(job->outdir, worker_s3_put_file, &w,
			why) != 0)
			return w.status;
	}
	return OT_OK;
}

/* The S3 requests of a job, for the daemon's metrics. */
void
worker_s3_count(void *arg, const char *store, uint64_t requests,
    uint64_t errors)
{
	wire_add(arg, "s3-count", "%s %" PRIu64 " %" PRIu64, store, requests,
	    errors);
}
