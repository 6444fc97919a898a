/* cmd-check.c - "objtrigger check": validates a config, plugins included. */

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "cfg.h"

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

	v = xcalloc(t->nparams, sizeof *v);
	for (j = 0; j < t->nparams; j++) {
		v[j].name = t->params[j].name ?: "";
		v[j].value = t->params[j].value ?: "";
	}
	info = worker_pool_describe(pool, t->plugin, v, t->nparams, &cause);
	if (info == NULL) {
		cfg_error(cfg, t->plugin_line, "%s", cause);
		free(cause);
		free(v);
		return;
	}
	/* The plugin's own check of the values, once their types are right. */
	if (param_check(info, v, t->nparams, check_report_param, &r) == 0 &&
	    info->invalid != NULL)
		cfg_error(cfg, t->plugin_line, "<transform plugin=\"%s\">: %s",
		    t->plugin, info->invalid);
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

	if (w == NULL || w->type != CFG_WATCH_FOLDER || w->path == NULL ||
	    t->allow_loop)
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

/* Refuses bucket outputs that land where the trigger's own watch lists:
 * the key's fixed start and the watch's prefix, one inside the other. */
static void
check_loop_s3(struct cfg *cfg, const struct cfg_trigger *t)
{
	const struct cfg_watch *w = cfg_find_watch(cfg, t->watch);
	const struct cfg_output *o;
	size_t i, fixed, len;

	if (w == NULL || w->type == CFG_WATCH_FOLDER || w->bucket == NULL ||
	    t->allow_loop)
		return;
	for (i = 0; i < t->noutputs; i++) {
		o = &t->outputs[i];
		if (o->store == NULL || w->store == NULL ||
		    strcmp(o->store, w->store) != 0 ||
		    strcmp(o->bucket, w->bucket) != 0)
			continue;
		fixed = strcspn(o->key, "{");
		len = strlen(w->prefix) < fixed ? strlen(w->prefix) : fixed;
		if (strncmp(o->key, w->prefix, len) == 0 &&
		    check_could_match(t, w, o->key))
			cfg_error(cfg, o->line,
			    "<output bucket=\"%s\" key=\"%s\"> puts objects "
			    "where the trigger's own watch '%s' lists (prefix "
			    "\"%s\"): it would run on its own outputs. Put "
			    "them elsewhere, make match= leave them out, or "
			    "set "
			    "allow-loop=\"yes\" on the trigger",
			    o->bucket, o->key, w->name, w->prefix);
	}
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
	const struct cfg_watch *w;
	const struct cfg_output *o;
	size_t before = cfg->nerrors, i, k;
	char *cause;

	for (i = 0; i < cfg->ntriggers; i++) {
		t = &cfg->triggers[i];
		if (t->plugin != NULL)
			check_plugin(cfg, t, pool);
		w = cfg_find_watch(cfg, t->watch);
		if ((t->events & CFG_EVENT_REMOVED) && w != NULL &&
		    w->type == CFG_WATCH_FOLDER)
			cfg_error(cfg, t->line,
			    "<trigger events=\"removed\">: "
			    "folder watches report new files only");
		for (k = 0; k < t->noutputs; k++) {
			o = &t->outputs[k];
			if (template_check(o->path != NULL ? o->path : o->key,
				&cause) != 0) {
				cfg_error(cfg, o->line, "<output %s>: %s",
				    o->path != NULL ? "path" : "key", cause);
				free(cause);
			}
		}
		check_loop(cfg, t);
		check_loop_s3(cfg, t);
	}
	return (int)(cfg->nerrors - before);
}

struct check_bucket {
	const char *store, *bucket, *prefix;
};

static int
check_count(void *arg, const struct s3_object *o)
{
	(*(unsigned *)arg)++;
	return 0;
}

/* Lists one bucket a config uses; prints the store's answer. */
static int
check_connect_one(const struct cfg *cfg, const struct check_bucket *b)
{
	const struct cfg_store *store = cfg_find_store(cfg, b->store);
	struct s3_error err = { 0 };
	unsigned n = 0;
	char *next = NULL, *what, *text;

	if (s3_list_page(store, b->bucket, b->prefix, NULL, check_count, &n,
		&next, &err) == 0) {
		printf("store %s: bucket %s: OK (%s, signature %s, listed "
		       "%u%s object%s)\n",
		    store->name, b->bucket, store->endpoint,
		    store->v2 ? "v2" : "v4", n, next != NULL ? "+" : "",
		    n == 1 && next == NULL ? "" : "s");
		free(next);
		return 0;
	}
	xasprintf(&what, "bucket %s", b->bucket);
	text = s3_error_text(store, what, &err);
	printf("%s\n", text);
	free(text);
	free(what);
	return -1;
}

/* Whether the server listens on loopback only. */
static int
check_loopback(const char *listen_on)
{
	return strncmp(listen_on, "127.", 4) == 0 ||
	    strncmp(listen_on, "[::1]:", 6) == 0 ||
	    strncmp(listen_on, "localhost:", 10) == 0;
}

/* The nearest folder of path that exists (allocated), or NULL. */
static char *
check_existing(const char *path, struct stat *sb)
{
	char *p = xstrdup(path), *slash;

	while (lstat(p, sb) != 0) {
		if ((slash = strrchr(p, '/')) == NULL || slash == p) {
			free(p);
			return stat("/", sb) == 0 ? xstrdup("/") : NULL;
		}
		*slash = '\0';
	}
	return p;
}

/* The state folder exists and can be written, or can be made: the
 * daemon would refuse to start otherwise. */
static void
check_state(struct cfg *cfg)
{
	struct stat sb;
	char *near = check_existing(cfg->state, &sb);

	if (near == NULL)
		return;
	if (!S_ISDIR(sb.st_mode))
		cfg_error(cfg, cfg->state_line,
		    "<state path=\"%s\">: %s is not a folder", cfg->state,
		    near);
	else if (access(near, W_OK | X_OK) != 0)
		cfg_error(cfg, cfg->state_line,
		    "<state path=\"%s\">: %s cannot be written: %s", cfg->state,
		    near, strerror(errno));
	else if (strcmp(near, cfg->state) != 0 &&
	    strrchr(cfg->state + strlen(near) + 1, '/') != NULL)
		cfg_error(cfg, cfg->state_line,
		    "<state path=\"%s\">: its parent folder does not exist "
		    "(the daemon makes the state folder, not its parents)",
		    cfg->state);
	free(near);
}

/* A watched folder that is missing: made at start if its parent exists
 * (a warning), else the daemon could not start (an error). */
static void
check_folders(struct cfg *cfg)
{
	const struct cfg_watch *w;
	char *parent, *slash;
	struct stat sb;
	size_t i;

	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type != CFG_WATCH_FOLDER || stat(w->path, &sb) == 0)
			continue;
		parent = xstrdup(w->path);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
			*slash = '\0';
		if (stat(parent, &sb) == 0 && S_ISDIR(sb.st_mode))
			fprintf(stderr,
			    "%s:%u: warning: watch %s: %s does not exist: the "
			    "daemon makes it when it starts\n",
			    cfg->file, w->line, w->name, w->path);
		else
			cfg_error(cfg, w->line,
			    "<watch name=\"%s\">: %s does not exist, nor "
			    "its parent folder",
			    w->name, w->path);
		free(parent);
	}
}

/* Warns of a webhook that anyone on the network could feed. */
static void
check_webhooks_open(const struct cfg *cfg)
{
	const struct cfg_watch *w;
	size_t i;

	if (cfg->http.listen == NULL || check_loopback(cfg->http.listen))
		return;
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type != CFG_WATCH_S3_WEBHOOK || w->token != NULL)
			continue;
		fprintf(stderr,
		    "%s:%u: warning: the webhook %s listens on %s, beyond "
		    "this machine, with no token%s: anyone who reaches it can "
		    "queue jobs. Set token-file=\"...\"\n",
		    cfg->file, w->line, w->path, cfg->http.listen,
		    cfg->http.cert_file == NULL ? " and no TLS" : "");
	}
}

/* Tries each bucket the config uses, once: credentials, the bucket, the
 * right to list it. Returns how many failed. */
static int
check_connect(const struct cfg *cfg)
{
	struct check_bucket *b = NULL;
	size_t n = 0, i, k, t;
	int failed = 0;

	for (i = 0; i < cfg->nwatches; i++) {
		if (cfg->watches[i].bucket == NULL)
			continue;
		b = xreallocarray(b, n + 1, sizeof *b);
		b[n].store = cfg->watches[i].store;
		b[n].bucket = cfg->watches[i].bucket;
		b[n++].prefix = cfg->watches[i].prefix;
	}
	for (t = 0; t < cfg->ntriggers; t++) {
		for (k = 0; k < cfg->triggers[t].noutputs; k++) {
			if (cfg->triggers[t].outputs[k].store == NULL)
				continue;
			b = xreallocarray(b, n + 1, sizeof *b);
			b[n].store = cfg->triggers[t].outputs[k].store;
			b[n].bucket = cfg->triggers[t].outputs[k].bucket;
			b[n++].prefix = "";
		}
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++) {
			if (strcmp(b[k].store, b[i].store) == 0 &&
			    strcmp(b[k].bucket, b[i].bucket) == 0)
				break;
		}
		if (k == i && check_connect_one(cfg, &b[i]) != 0)
			failed++;
	}
	for (i = 0; i < cfg->nstores; i++) {
		for (k = 0; k < n && strcmp(b[k].store, cfg->stores[i].name);
		     k++)
			;
		if (k < n)
			continue;
		for (k = 0; k < cfg->nwatches; k++) {
			if (cfg->watches[k].store != NULL &&
			    strcmp(cfg->watches[k].store,
				cfg->stores[i].name) == 0)
				break;
		}
		if (k < cfg->nwatches)
			printf("store %s: no bucket to list: watch %s takes "
			       "events of any bucket\n",
			    cfg->stores[i].name, cfg->watches[k].name);
		else
			printf("store %s: no watch or output uses it: not "
			       "tried\n",
			    cfg->stores[i].name);
	}
	free(b);
	return failed;
}

static void
check_print_line(void *arg, const char *line)
{
	printf("%s: %s\n", (const char *)arg, line);
}

/* Logs in to each broker, and says what each amqp watch on it finds
 * there and would declare. Returns how many failed. */
static int
check_connect_brokers(const struct cfg *cfg)
{
	const struct cfg_broker *b;
	const struct cfg_watch *w;
	amqp_connection_state_t conn;
	char *cause, *prefix;
	size_t i, k;
	int failed = 0;

	for (i = 0; i < cfg->nbrokers; i++) {
		b = &cfg->brokers[i];
		if ((conn = broker_connect(b, "objtrigger check", &cause)) ==
		    NULL) {
			printf("%s\n", cause);
			free(cause);
			failed++;
			continue;
		}
		printf("broker %s: OK (%s as %s)\n", b->name, b->url, b->user);
		for (k = 0; k < cfg->nwatches; k++) {
			w = &cfg->watches[k];
			if (w->type != CFG_WATCH_AMQP ||
			    strcmp(w->broker, b->name) != 0)
				continue;
			xasprintf(&prefix, "broker %s: watch %s", b->name,
			    w->name);
			if (broker_queue_declare(conn, b, w, 0,
				check_print_line, prefix, &cause) != 0) {
				printf("%s: %s\n", prefix, cause);
				free(cause);
				failed++;
			}
			free(prefix);
		}
		broker_disconnect(conn);
	}
	return failed;
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

/* check -v: the paths as they were resolved (relative ones from the
 * working directory). */
static void
check_print_paths(const struct cfg *cfg)
{
	size_t i, k;

	printf("state: %s\n", cfg->state);
	for (i = 0; i < cfg->nwatches; i++) {
		if (cfg->watches[i].type == CFG_WATCH_FOLDER)
			printf("watch %s: %s\n", cfg->watches[i].name,
			    cfg->watches[i].path);
	}
	for (i = 0; i < cfg->ntriggers; i++) {
		for (k = 0; k < cfg->triggers[i].noutputs; k++) {
			if (cfg->triggers[i].outputs[k].path != NULL)
				printf("trigger %s: output %s\n",
				    cfg->triggers[i].name,
				    cfg->triggers[i].outputs[k].path);
		}
	}
}

int
cmd_check(int argc, char **argv)
{
	const char *file = NULL;
	struct worker_pool *pool;
	struct worker_limits limits;
	struct cfg *cfg;
	static const struct option longopts[] = { { "connect", no_argument,
						      NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' }, { NULL, 0, NULL, 0 } };
	int ch, rc, connect = 0, verbose = 0;

	while ((ch = getopt_long(argc, argv, "c:Cv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'C':
			connect = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: objtrigger check [-c FILE] [-v] "
			    "[--connect]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
		    "usage: objtrigger check [-c FILE] [-v] [--connect]\n");
		return 2;
	}
	cfg = cfg_load(file != NULL ? file : config_default_file());
	limits = config_worker_limits(cfg);
	pool = pool_for_commands(&limits);
	config_check(cfg, pool);
	worker_pool_free(pool);
	if (cfg->nerrors == 0) {
		check_state(cfg);
		check_folders(cfg);
	}
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
		if (verbose)
			check_print_paths(cfg);
		check_webhooks_open(cfg);
		rc = connect &&
			check_connect(cfg) + check_connect_brokers(cfg) > 0 ?
		    1 :
		    0;
	}
	cfg_free(cfg);
	return rc;
}
