/* counting.c - a copy that also counts its runs, for the daemon's tests. */

/*
 * Copies each input to the output folder, like copy, and appends the key
 * and a newline to the file named by the "log" parameter, in one write to
 * a file opened for appending, so that lines from parallel workers never
 * mix. A test counts the lines to know how often each file ran.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "objtrigger-transform.h"

static enum ot_status
counting_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	const struct ot_input *in = &job->inputs[0];
	const char *slash = strrchr(in->key, '/');
	char path[4096], line[4096];
	ssize_t n;
	int out, log;

	snprintf(path, sizeof path, "%s/%s", job->outdir,
	    slash != NULL ? slash + 1 : in->key);
	if ((out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return host->fail(ctx, OT_RETRY, "%s: %s", path, strerror(errno));
	do
		n = copy_file_range(in->fd, NULL, out, NULL, 1 << 30, 0);
	while (n > 0);
	close(out);
	log = open(host->param(ctx, "log"), O_WRONLY | O_CREAT | O_APPEND,
	    0644);
	if (log < 0)
		return host->fail(ctx, OT_RETRY, "log: %s", strerror(errno));
	n = snprintf(line, sizeof line, "%s\n", in->key);
	if (write(log, line, (size_t)n) != n) {
		close(log);
		return host->fail(ctx, OT_RETRY, "log: %s", strerror(errno));
	}
	close(log);
	return n < 0 ? OT_RETRY : OT_OK;
}

static const struct ot_param counting_params[] = {
	{ "log", OT_PARAM_STRING, OT_PARAM_REQUIRED, NULL,
	    "the file each run appends its key to", NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform counting = {
	OT_TRANSFORM_HEADER,
	.name = "counting",
	.version = "1",
	.summary = "copies each input and counts the runs in a log",
	.params = counting_params,
	.run = counting_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &counting;
}
