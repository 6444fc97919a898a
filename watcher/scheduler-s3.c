/* scheduler-s3.c - the S3 part of a run, sent to its worker. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "objtrigger.h"

/* Adds a store to a request once. */
static void
scheduler_s3_store(const struct cfg *cfg, struct wire_msg *m, const char *name,
    const char **sent, size_t *nsent)
{
	size_t i;

	for (i = 0; i < *nsent; i++) {
		if (strcmp(sent[i], name) == 0)
			return;
	}
	sent[(*nsent)++] = name;
	s3_store_to_wire(cfg_find_store(cfg, name), m);
}

/* The largest object a job may fetch, and which limit says so: the
 * trigger's max-size, or the workers' file-size (a download over it
 * would be killed by it, and retried as if that could change). */
static void
scheduler_s3_max_input(const struct cfg *cfg, const struct cfg_trigger *t,
    struct wire_msg *m)
{
	uint64_t fsize = cfg->workers.file_size;

	if (fsize != 0 && (t->max_size == 0 || fsize < t->max_size)) {
		wire_add(m, "max-input", "%" PRIu64, fsize);
		wire_add(m, "max-input-limit", "the workers' file-size");
	} else {
		wire_add(m, "max-input", "%" PRIu64, t->max_size);
		wire_add(m, "max-input-limit", "the trigger's max-size");
	}
}

/* The path of input N of a run that is given its inputs as files of its
 * own (a bucket watch's, or one that fetches nothing): dir/in/N/NAME, NAME
 * the key's last part, or "object" if that is no file name. The worker
 * makes the folders. */
static void
scheduler_s3_input_path(const char *dir, size_t i, struct job_input *in)
{
	const char *slash = strrchr(in->key, '/');
	const char *name = slash != NULL ? slash + 1 : in->key;

	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		name = "object";
	else if (strlen(name) > 200) /* keep the extension */
		name += strlen(name) - 200;
	free(in->path);
	xasprintf(&in->path, "%s/in/%zu/%s", dir, i, name);
}

/*
 * Fills extra with the S3 part of the run job of trigger t, whose folder
 * is dir: where its inputs come from (each downloaded to dir/in/N/NAME)
 * and the buckets its outputs go to. A trigger with fetch="no" fetches
 * nothing, from a bucket or a folder: "fetch=no" asks the worker for an
 * empty file at dir/in/N/NAME instead, and the watched file is not
 * opened.
 */
void
scheduler_s3_request(const struct cfg *cfg, const struct cfg_trigger *t,
    const char *dir, struct job *job, struct wire_msg *extra)
{
	const struct cfg_watch *w = cfg_find_watch(cfg, t->watch);
	const char **sent = xcalloc(t->noutputs + 1, sizeof *sent);
	size_t i, nsent = 0;

	wire_init(extra);
	if (w->type != CFG_WATCH_FOLDER || !t->fetch) {
		for (i = 0; i < job->ninputs; i++)
			scheduler_s3_input_path(dir, i, &job->inputs[i]);
	}
	if (!t->fetch)
		wire_add(extra, "fetch", "no");
	else if (w->type != CFG_WATCH_FOLDER) {
		scheduler_s3_store(cfg, extra, w->store, sent, &nsent);
		wire_add(extra, "source-store", "%s", w->store);
		scheduler_s3_max_input(cfg, t, extra);
	}
	for (i = 0; i < t->noutputs; i++) {
		if (t->outputs[i].store == NULL)
			continue;
		scheduler_s3_store(cfg, extra, t->outputs[i].store, sent,
		    &nsent);
		wire_add(extra, "output-store", "%s", t->outputs[i].store);
		wire_add(extra, "output-bucket", "%s", t->outputs[i].bucket);
		wire_add(extra, "output-key", "%s", t->outputs[i].key);
		wire_add(extra, "output-type", "%s",
		    t->outputs[i].content_type);
	}
	free(sent);
	job->extra = extra;
}
