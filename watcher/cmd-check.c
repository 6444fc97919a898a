/* cmd-check.c - "objtrigger check": validates a config, plugins included. */

#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"

struct check_report {
	struct cfg *cfg;
	const struct cfg_trigger *trigger;
};

static void
check_report_param(void *arg, size_t i, const char *message)
{
	struct check_report *r = arg;

	cfg_error(r->cfg,
	    i == SIZE_MAX ? r->trigger->plugin_line :
			    r->trigger->params[i].line,
	    "%s", message);
}

/* Describes a trigger's plugin through a worker and checks its
 * parameters against what it declares. */
static void
check_plugin(struct cfg *cfg, const struct cfg_trigger *t,
    struct worker_pool *pool)
{
	struct check_report r = { cfg, t };
	struct plugin_info *info;
	struct param_value *v;
	char *cause;
	size_t j;

	info = worker_pool_describe(pool, t->plugin, &cause);
	if (info == NULL) {
		cfg_error(cfg, t->plugin_line, "%s", cause);
		free(cause);
		return;
	}
	v = xcalloc(t->nparams, sizeof *v);
	for (j = 0; j < t->nparams; j++) {
		v[j].name = t->params[j].name ?: "";
		v[j].value = t->params[j].value ?: "";
	}
	param_check(info, v, t->nparams, check_report_param, &r);
	free(v);
	plugin_info_free(info);
}

/* An absolute path without "." or ".." or repeated '/' (allocated): the
 * real path if it exists, else the path as written made absolute. */
static char *
check_absolute(const char *path)
{
	char real[PATH_MAX], *out, *p, *q;
	size_t len;

	if (realpath(path, real) != NULL)
		return xstrdup(real);
	if (path[0] == '/' || getcwd(real, sizeof real) == NULL)
		real[0] = '\0';
	xasprintf(&out, "%s/%s/", real, path);
	for (p = q = out; *p != '\0';) { /* q writes, p reads */
		len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.')) {
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (q > out && *--q != '/')
				;
		} else {
			*q++ = '/';
			memmove(q, p, len);
			q += len;
		}
		p += len + (p[len] == '/');
	}
	*q = '\0';
	if (q == out) { /* the root itself */
		out[0] = '/';
		out[1] = '\0';
	}
	return out;
}

/* Whether a fixed final name part could match the trigger again: names
 * made from the input's ({name}, {key}, {ext}) always could. */
static int
check_could_match(const struct cfg_trigger *t, const struct cfg_watch *w,
    const char *tmpl)
{
	const char *last = strrchr(tmpl, '/');
	char sample[NAME_MAX + 1], *p;
	size_t i;

	last = last != NULL ? last + 1 : tmpl;
	if (strstr(last, "{name}") != NULL || strstr(last, "{key}") != NULL ||
	    strstr(last, "{ext}") != NULL)
		return 1;
	snprintf(sample, sizeof sample, "%s", last);
	while ((p = strchr(sample, '{')) != NULL) { /* {stem} etc.: "x" */
		char *end = strchr(p, '}');
		if (end == NULL)
			break;
		*p = 'x';
		memmove(p + 1, end + 1, strlen(end + 1) + 1);
	}
	if (source_folder_ignores(w, sample))
		return 0;
	if (t->match[0] == NULL)
		return 1;
	for (i = 0; t->match[i] != NULL; i++) {
		if (fnmatch(t->match[i], sample, 0) == 0)
			return 1;
	}
	return 0;
}

/* Refuses outputs that land where the trigger's own watch looks. */
static void
check_loop(struct cfg *cfg, const struct cfg_trigger *t)
{
	const struct cfg_watch *w = cfg_find_watch(cfg, t->watch);
	char *watched, *root, *tmp;
	size_t i, len;
	int inside;

	if (w == NULL || w->path == NULL || t->allow_loop)
		return;
	watched = check_absolute(w->path);
	len = strlen(watched);
	for (i = 0; i < t->noutputs; i++) {
		if (t->outputs[i].path == NULL)
			continue;
		tmp = template_root(t->outputs[i].path);
		root = check_absolute(tmp);
		free(tmp);
		inside = strcmp(root, watched) == 0 ||
		    (w->recursive && strncmp(root, watched, len) == 0 &&
			(root[len] == '/' || strcmp(watched, "/") == 0));
		if (inside && check_could_match(t, w, t->outputs[i].path))
			cfg_error(cfg, t->outputs[i].line,
			    "<output path=\"%s\"> "
			    "writes into %s, which the trigger's own watch "
			    "'%s' "
			    "watches: it would run on its own outputs. Write "
			    "elsewhere, make match= leave the outputs out, or "
			    "set allow-loop=\"yes\" on the trigger",
			    t->outputs[i].path, root, w->name);
		free(root);
	}
	free(watched);
}

/*
 * Checks what the config reader cannot: each trigger's plugin and its
 * parameters (through a worker), its output templates, and that it does
 * not feed on its own outputs. Adds config errors; returns how many.
 */
int
config_check(struct cfg *cfg, struct worker_pool *pool)
{
	const struct cfg_trigger *t;
	size_t before = cfg->nerrors, i, k;
	char *cause;

	for (i = 0; i < cfg->ntriggers; i++) {
		t = &cfg->triggers[i];
		if (t->plugin != NULL)
			check_plugin(cfg, t, pool);
		if (t->events & CFG_EVENT_REMOVED)
			cfg_error(cfg, t->line,
			    "<trigger events=\"removed\">: "
			    "folder watches report new files only");
		for (k = 0; k < t->noutputs; k++) {
			if (t->outputs[k].path != NULL &&
			    template_check(t->outputs[k].path, &cause) != 0) {
				cfg_error(cfg, t->outputs[k].line,
				    "<output "
				    "path>: %s",
				    cause);
				free(cause);
			}
		}
		check_loop(cfg, t);
	}
	return (int)(cfg->nerrors - before);
}

/* The config to use when -c is not given. */
const char *
config_default_file(void)
{
	return access("objtrigger.xml", F_OK) == 0 ? "objtrigger.xml" :
						     DEFAULT_CONFIG;
}

struct worker_limits
config_worker_limits(const struct cfg *cfg)
{
	struct worker_limits l = {
		.timeout_ms = cfg->workers.timeout_ms,
		.memory = cfg->workers.memory,
		.cpu_ms = cfg->workers.cpu_ms,
		.file_size = cfg->workers.file_size,
		.open_files = cfg->workers.open_files,
	};

	return l;
}

int
cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	struct worker_pool *pool;
	struct worker_limits limits;
	struct cfg *cfg;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		default:
			fprintf(stderr, "usage: objtrigger check [-c FILE]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: objtrigger check [-c FILE]\n");
		return 2;
	}
	cfg = cfg_load(file != NULL ? file : config_default_file());
	limits = config_worker_limits(cfg);
	pool = pool_for_commands(&limits);
	config_check(cfg, pool);
	worker_pool_free(pool);
	if (cfg->nerrors > 0) {
		cfg_print_errors(cfg, stderr);
		fprintf(stderr, "%s: %zu error%s\n", cfg->file, cfg->nerrors,
		    cfg->nerrors == 1 ? "" : "s");
		rc = 1;
	} else {
		printf("%s: OK: %zu watch%s, %zu trigger%s, %u worker%s\n",
		    cfg->file, cfg->nwatches, cfg->nwatches == 1 ? "" : "es",
		    cfg->ntriggers, cfg->ntriggers == 1 ? "" : "s",
		    cfg->workers.count, cfg->workers.count == 1 ? "" : "s");
		rc = 0;
	}
	cfg_free(cfg);
	return rc;
}
