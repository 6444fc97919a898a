/* cmd-check.c - "objtrigger check": validates a config, plugins included. */

#include <getopt.h>
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

/* Describes each trigger's plugin through a worker and checks its
 * parameters; adds config errors. Returns the number of errors added. */
int
config_check_plugins(struct cfg *cfg, struct worker_pool *pool)
{
	struct check_report r = { cfg, NULL };
	struct plugin_info *info;
	struct param_value *v;
	size_t before = cfg->nerrors, i, j;
	char *cause;

	for (i = 0; i < cfg->ntriggers; i++) {
		r.trigger = &cfg->triggers[i];
		if (r.trigger->plugin == NULL)
			continue;
		info = worker_pool_describe(pool, r.trigger->plugin, &cause);
		if (info == NULL) {
			cfg_error(cfg, r.trigger->plugin_line, "%s", cause);
			free(cause);
			continue;
		}
		v = xcalloc(r.trigger->nparams, sizeof *v);
		for (j = 0; j < r.trigger->nparams; j++) {
			v[j].name = r.trigger->params[j].name ?: "";
			v[j].value = r.trigger->params[j].value ?: "";
		}
		param_check(info, v, r.trigger->nparams, check_report_param,
		    &r);
		free(v);
		plugin_info_free(info);
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
	config_check_plugins(cfg, pool);
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
