/* cmd-once.c - "objtrigger once": one transform on one file, in a worker. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "objtrigger.h"
#include "units.h"

#define ONCE_USAGE \
	"usage: objtrigger once [-t TIMEOUT] [-m MEMORY] " \
	"[-C CPU] [-f FILESIZE] PLUGIN INPUT OUTDIR [-p NAME=VALUE]...\n"

static const char *status_words[] = { "ok", "retry", "reject", "fatal" };

static void
once_report_param(void *arg, size_t i, const char *message)
{
	const struct param_value *v = arg;

	if (i == SIZE_MAX)
		fprintf(stderr, "objtrigger: once: %s\n", message);
	else
		fprintf(stderr, "objtrigger: once: -p %s=%s: %s\n", v[i].name,
		    v[i].value, message);
}

struct once_commit {
	const char *outdir;
	char **dests; /* listed once they are in place */
	size_t outputs;
};

/* Stages one output file for OUTDIR under the same name. */
static int
once_commit_one(void *arg, const char *rel, const char *path, char **cause)
{
	struct once_commit *c = arg;
	struct sink_put put = { SINK_PUT_LAST, NULL, NULL, NULL };
	char *dest;

	xasprintf(&dest, "%s/%s", c->outdir, rel);
	if (sink_folder_put(c->outdir, dest, path, &put, cause) != 0) {
		free(dest);
		return -1;
	}
	c->dests = xreallocarray(c->dests, c->outputs + 1, sizeof *c->dests);
	c->dests[c->outputs++] = dest;
	return 0;
}

/* Adds a -p NAME=VALUE; -1 (reported) if it has no name or no '='. */
static int
once_add_param(char *arg, struct param_value **v, size_t *n)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg) {
		fprintf(stderr,
		    "objtrigger: once: -p %s: expected NAME=VALUE\n", arg);
		return -1;
	}
	*eq = '\0';
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[*n].name = arg;
	(*v)[(*n)++].value = eq + 1;
	return 0;
}

/* Reads the options; -1 (reported) on a bad one. */
static int
once_parse_options(int argc, char **argv, struct worker_limits *l,
    struct param_value **params, size_t *nparams)
{
	char *cause = NULL;
	int ch, rc = 0;

	while (rc == 0 && (ch = getopt(argc, argv, "t:m:C:f:p:")) != -1) {
		switch (ch) {
		case 't':
			rc = units_parse_duration(optarg, &l->timeout_ms,
			    &cause);
			break;
		case 'm':
			rc = units_parse_size(optarg, &l->memory, &cause);
			break;
		case 'C':
			rc = units_parse_duration(optarg, &l->cpu_ms, &cause);
			break;
		case 'f':
			rc = units_parse_size(optarg, &l->file_size, &cause);
			break;
		case 'p':
			if (once_add_param(optarg, params, nparams) != 0)
				return -1;
			break;
		default:
			fprintf(stderr, ONCE_USAGE);
			return -1;
		}
	}
	if (rc != 0) {
		fprintf(stderr, "objtrigger: once: -%c: %s\n", ch, cause);
		free(cause);
	}
	return rc;
}

/* Runs the job and commits its outputs to outdir; returns the exit code. */
static int
once_run(struct worker_pool *pool, struct job *job, const char *outdir)
{
	struct once_commit c = { outdir, NULL, 0 };
	char *cause;
	size_t i;
	int rc = 0;

	worker_pool_run(pool, job);
	if (job->status != OT_OK) {
		fprintf(stderr, "objtrigger: once: %s on %s failed (%s): %s\n",
		    job->plugin, job->inputs[0].path, status_words[job->status],
		    job->message);
		rc = 1;
	} else if (sink_folder_walk(job->outdir, once_commit_one, &c, &cause) !=
		0 ||
	    sink_folder_sync(&cause) != 0) {
		fprintf(stderr, "objtrigger: once: %s\n", cause);
		free(cause);
		rc = 1;
	} else if (c.outputs == 0)
		fprintf(stderr, "objtrigger: once: %s wrote no output\n",
		    job->plugin);
	for (i = 0; i < c.outputs; i++) { /* in place, if all went well */
		if (rc == 0)
			printf("%s\n", c.dests[i]);
		free(c.dests[i]);
	}
	free(c.dests);
	free(job->message);
	wire_clear(&job->reply);
	return rc;
}

int
cmd_once(int argc, char **argv)
{
	struct worker_limits limits = { .timeout_ms = 60000,
		.memory = 1ULL << 30,
		.open_files = 256 };
	struct job_input in = { 0 };
	struct job job = { 0 };
	struct worker_pool *pool = NULL;
	struct plugin_info *info = NULL;
	struct param_value *params = NULL;
	char real[PATH_MAX], outdir[PATH_MAX], *scratch, *cause, *dir;
	const char *plugin;
	size_t nparams = 0;
	int rc = 1;

	if (once_parse_options(argc, argv, &limits, &params, &nparams) != 0 ||
	    argc - optind != 3) {
		if (argc - optind != 3)
			fprintf(stderr, ONCE_USAGE);
		free(params);
		return 2;
	}
	plugin = argv[optind];
	if (plugin_check_name(plugin, &cause) != 0) {
		fprintf(stderr, "objtrigger: once: %s\n", cause);
		free(cause);
		goto out;
	}
	if (realpath(argv[optind + 1], real) == NULL) {
		fprintf(stderr, "objtrigger: once: %s: %s\n", argv[optind + 1],
		    strerror(errno));
		goto out;
	}

	pool = pool_for_commands(&limits);
	info = worker_pool_describe(pool, plugin, params, nparams, &cause);
	if (info == NULL) {
		fprintf(stderr, "objtrigger: once: %s\n", cause);
		free(cause);
		goto out;
	}
	if (param_check(info, params, nparams, once_report_param, params) != 0)
		goto out;
	if (info->invalid != NULL) {
		fprintf(stderr, "objtrigger: once: %s: %s\n", plugin,
		    info->invalid);
		goto out;
	}
	/* OUTDIR is the user's: links on its way are theirs to have. */
	if (sink_folder_mkdirs(argv[optind + 2], &cause) != 0) {
		fprintf(stderr, "objtrigger: once: %s\n", cause);
		free(cause);
		goto out;
	}
	if (realpath(argv[optind + 2], outdir) == NULL) {
		fprintf(stderr, "objtrigger: once: %s: %s\n", argv[optind + 2],
		    strerror(errno));
		goto out;
	}
	xasprintf(&scratch, "%s/.objtrigger-once-XXXXXX", outdir);
	if (mkdtemp(scratch) == NULL) {
		fprintf(stderr, "objtrigger: once: cannot write to %s: %s\n",
		    outdir, strerror(errno));
		free(scratch);
		goto out;
	}
	xasprintf(&job.outdir, "%s/out", scratch);
	xasprintf(&job.tmpdir, "%s/tmp", scratch);
	if (mkdir(job.outdir, 0700) != 0 || mkdir(job.tmpdir, 0700) != 0) {
		fprintf(stderr, "objtrigger: once: %s: %s\n", scratch,
		    strerror(errno));
		goto clean;
	}

	dir = xstrdup(real);
	in.path = real;
	in.key = basename(real);
	in.bucket = dirname(dir);
	in.event = (char *)"created";
	job.id = (char *)"once";
	job.trigger = (char *)"once";
	job.plugin = (char *)plugin;
	job.params = params;
	job.nparams = nparams;
	job.inputs = &in;
	job.ninputs = 1;
	rc = once_run(pool, &job, outdir);
	free(dir);
clean:
	sink_folder_remove_tree(scratch);
	free(scratch);
	free(job.outdir);
	free(job.tmpdir);
out:
	plugin_info_free(info);
	free(params);
	worker_pool_free(pool);
	return rc;
}
