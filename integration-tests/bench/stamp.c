/* stamp.c - the folder benchmark's transform: when did the job start? */

/*
 * As copy, but each output begins with a line "start NS", NS being
 * CLOCK_MONOTONIC when run() was called, which the timer (latency.c)
 * reads back: the time from a file's close to its job starting in a
 * worker. Built by the benchmark against the installed ABI header.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "objtrigger-transform.h"

static enum ot_status
stamp_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	struct timespec ts;
	const char *name;
	char path[4096], line[64];
	ssize_t n;
	size_t i;
	int len, out;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	len = snprintf(line, sizeof line, "start %lld\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	for (i = 0; i < job->count; i++) {
		name = strrchr(job->inputs[i].path, '/');
		name = name != NULL ? name + 1 : job->inputs[i].path;
		snprintf(path, sizeof path, "%s/%s", job->outdir, name);
		out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (out < 0 || write(out, line, (size_t)len) != len)
			return host->fail(ctx, OT_RETRY, "%s: cannot write",
			    path);
		do
			n = copy_file_range(job->inputs[i].fd, NULL, out, NULL,
			    1 << 30, 0);
		while (n > 0);
		if (n < 0 || close(out) != 0)
			return host->fail(ctx, OT_RETRY, "%s: cannot copy",
			    path);
	}
	return OT_OK;
}

static const struct ot_transform stamp_transform = {
	OT_TRANSFORM_HEADER,
	.name = "stamp",
	.version = "1",
	.summary = "copy, with the job's start time in a first line",
	.run = stamp_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &stamp_transform;
}
