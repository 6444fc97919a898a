/* tally.c - the amqp benchmark's transform: counts, and times the start. */

/*
 * For each input, appends one line "DELAY_US START_US" to the file named
 * by the "log" parameter, in one write to a file opened for appending
 * (lines of parallel workers never mix): the time from the message's
 * publication to this run() call, and the time of the call, in
 * microseconds of CLOCK_REALTIME. The publisher
 * (amqp-client publish) writes that time in each key, as
 * "bench/I.PUBLISHED_US". Nothing else: no output, no read of the input,
 * so that the benchmark measures the pipeline. Built by the benchmark
 * against the installed ABI header.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "objtrigger-transform.h"

static enum ot_status
tally_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	struct timeval tv;
	long long now, sent;
	const char *dot;
	char line[64];
	size_t i;
	int fd, len;

	gettimeofday(&tv, NULL);
	now = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	fd = open(host->param(ctx, "log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return host->fail(ctx, OT_RETRY, "cannot open the log");
	for (i = 0; i < job->count; i++) {
		dot = strrchr(job->inputs[i].key, '.');
		sent = dot != NULL ? strtoll(dot + 1, NULL, 10) : now;
		len = snprintf(line, sizeof line, "%lld %lld\n", now - sent,
		    now);
		if (write(fd, line, (size_t)len) != len) {
			close(fd);
			return host->fail(ctx, OT_RETRY, "cannot write the log");
		}
	}
	close(fd);
	return OT_OK;
}

static const struct ot_param tally_params[] = {
	{ "log", OT_PARAM_STRING, OT_PARAM_REQUIRED, NULL,
	    "the file each input appends its start delay to", NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform tally_transform = {
	OT_TRANSFORM_HEADER,
	.name = "tally",
	.version = "1",
	.summary = "counts its inputs and logs each one's start delay",
	.params = tally_params,
	.run = tally_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &tally_transform;
}
