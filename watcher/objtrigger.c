/* objtrigger.c - the command line: dispatches to the commands. */

#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objtrigger.h"

#define WORKER_FD 3

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} commands[] = { { "run", cmd_run, "run [-c FILE] [--log-format text|json]" },
	{ "check", cmd_check, "check [-c FILE] [-v] [--connect]" },
	{ "status", cmd_status,
	    "status [-c FILE] [--json] [--trigger T | ID...]" },
	{ "retry", cmd_retry,
	    "retry [-c FILE] [--trigger T] [ID...] | --watch WATCH" },
	{ "reload", cmd_reload, "reload [-c FILE]" },
	{ "stop", cmd_stop, "stop [-c FILE]" },
	{ "forget", cmd_forget, "forget [-c FILE] ID... | --trigger T" },
	{ "backfill", cmd_backfill,
	    "backfill [-c FILE] [--prefix P] [--since TIME] [--until TIME] "
	    "[--match GLOB] [--dry-run] [--rerun] [--wait] [--quiet] "
	    "TRIGGER | --cancel TRIGGER" },
	{ "plugins", cmd_plugins, "plugins" },
	{ "once", cmd_once,
	    "once [-t TIMEOUT] [-m MEMORY] [-C CPU] "
	    "[-f FILESIZE] PLUGIN INPUT OUTDIR [-p NAME=VALUE]..." },
	{ NULL, NULL, NULL } };

static void
usage(FILE *f)
{
	const struct command *c;

	fprintf(f,
	    "usage: objtrigger [-v] COMMAND [ARGS]\n"
	    "       objtrigger -h | --help | help [COMMAND]\n"
	    "       objtrigger -V | --version\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "       objtrigger %s\n", c->usage);
	fprintf(f,
	    "-c FILE is also --config FILE; COMMAND --help prints its "
	    "usage.\n");
}

static const struct command *
command_find(const char *name)
{
	const struct command *c;

	for (c = commands; c->name != NULL; c++) {
		if (strcmp(name, c->name) == 0)
			return c;
	}
	return NULL;
}

/* help [COMMAND], and COMMAND --help: the usage, on stdout. */
static int
command_help(const char *name)
{
	const struct command *c = name != NULL ? command_find(name) : NULL;

	if (name == NULL) {
		usage(stdout);
		return 0;
	}
	if (c == NULL) {
		fprintf(stderr, "objtrigger: unknown command '%s'\n", name);
		return 2;
	}
	printf("usage: objtrigger %s\n", c->usage);
	return 0;
}

/* The plugin folder: $OBJTRIGGER_PLUGIN_DIR, else the build tree's, else
 * the one installed. */
const char *
plugins_dir(void)
{
	static char built[PATH_MAX + 32];
	const char *dir = getenv("OBJTRIGGER_PLUGIN_DIR");
	char exe[PATH_MAX], *slash;
	struct stat sb;
	ssize_t n;

	if (dir != NULL && *dir != '\0')
		return dir;
	/* A binary in its build tree (./start.sh's) takes the plugins built
	 * beside it, not those of an installed objtrigger. */
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		snprintf(built, sizeof built, "%s/transforms/.libs", exe);
		if (stat(built, &sb) == 0 && S_ISDIR(sb.st_mode))
			return built;
	}
	return PLUGINDIR;
}

/* A pool of one worker for the commands that describe or run plugins. */
struct worker_pool *
pool_for_commands(const struct worker_limits *limits)
{
	return worker_pool_new("/proc/self/exe", 1, limits, plugins_dir());
}

/*
 * The environment the kernel shows in /proc/PID/environ is the one copied
 * in at exec: a secret given there (OBJTRIGGER_S3_SECRET_KEY) could be
 * read by any process of the same user, a command among them. So it is
 * copied to the heap, where getenv then finds it, and the original is
 * wiped.
 */
static char **main_environ; /* the copy: never freed */

static void
main_hide_environment(void)
{
	char **copy;
	size_t n, i;

	for (n = 0; environ[n] != NULL; n++)
		;
	copy = xcalloc(n + 1, sizeof *copy);
	for (i = 0; i < n; i++) {
		copy[i] = xstrdup(environ[i]);
		explicit_bzero(environ[i], strlen(environ[i]));
	}
	environ = main_environ = copy;
}

int
main(int argc, char **argv)
{
	const struct command *c;
	enum log_level level = LEVEL_INFO;
	int ch;

	main_hide_environment();
	/* SQLite takes and frees 64 KiB for each upsert's statement journal:
	 * with glibc's default, the heap's top went back to the kernel and
	 * was faulted in again on every job. */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	s3_events_init();
	signal(SIGPIPE, SIG_IGN);
	/* No descriptor of whoever started us reaches a command. */
	close_range(argc == 2 && strcmp(argv[1], "worker") == 0 ?
		WORKER_FD + 1 :
		3,
	    ~0U, 0);
	if (getenv("OBJTRIGGER_LOG_FORMAT") != NULL &&
	    strcmp(getenv("OBJTRIGGER_LOG_FORMAT"), "json") == 0)
		log_set_json(1);
	if (argc == 2 && strcmp(argv[1], "worker") == 0) {
		if (getenv("OBJTRIGGER_LOG_LEVEL") != NULL &&
		    strcmp(getenv("OBJTRIGGER_LOG_LEVEL"), "debug") == 0)
			level = LEVEL_DEBUG;
		log_open(level, "objtrigger worker");
		return worker_main(WORKER_FD);
	}
	static const struct option options[] = { { "help", no_argument, NULL,
						     'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

	while ((ch = getopt_long(argc, argv, "+hvV", options, NULL)) != -1) {
		switch (ch) {
		case 'v':
			level = LEVEL_DEBUG;
			break;
		case 'V':
			printf("objtrigger %s (plugin ABI %d.%d)\n",
			    PACKAGE_VERSION, OT_ABI_MAJOR, OT_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	log_open(level, "objtrigger");
	if (argc == 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "help") == 0)
		return command_help(argc > 1 ? argv[1] : NULL);
	if ((c = command_find(argv[0])) != NULL) {
		if (argc > 1 &&
		    (strcmp(argv[1], "--help") == 0 ||
			strcmp(argv[1], "-h") == 0))
			return command_help(c->name);
		optind = 0; /* each command parses its own options */
		return c->fn(argc, argv);
	}
	fprintf(stderr, "objtrigger: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}
