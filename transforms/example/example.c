/* example.c - a minimal objtrigger transform: counts the lines of a file. */

/*
 * Build it with the Makefile beside it, against the installed header:
 *	make PREFIX=/usr/local
 * then copy linecount.so into the plugin folder (objtrigger plugins shows
 * it) and try it:
 *	objtrigger once linecount notes.txt out/ -p suffix=.count
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <objtrigger-transform.h>

static enum ot_status
linecount_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	const struct ot_input *in = &job->inputs[0];
	const char *name, *slash;
	unsigned long long lines = 0;
	char buf[65536], path[4096];
	ssize_t n, i;
	FILE *out;

	while ((n = read(in->fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	if (n < 0)
		return host->fail(ctx, OT_RETRY, "cannot read %s", in->key);

	slash = strrchr(in->key, '/');
	name = slash != NULL ? slash + 1 : in->key;
	snprintf(path, sizeof path, "%s/%s%s", job->outdir, name,
	    host->param(ctx, "suffix"));
	if ((out = fopen(path, "w")) == NULL)
		return host->fail(ctx, OT_RETRY, "cannot write %s", path);
	fprintf(out, "%llu\n", lines);
	if (fclose(out) != 0)
		return host->fail(ctx, OT_RETRY, "cannot write %s", path);
	host->log(ctx, OT_LOG_INFO, "%s has %llu lines", in->key, lines);
	return OT_OK;
}

static const struct ot_param linecount_params[] = {
	{ "suffix", OT_PARAM_STRING, 0, ".lines",
	    "added to the input's name to name the output", NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform linecount = {
	OT_TRANSFORM_HEADER,
	.name = "linecount",
	.version = "1.0",
	.summary = "writes the number of lines of each input",
	.params = linecount_params,
	.run = linecount_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &linecount;
}
