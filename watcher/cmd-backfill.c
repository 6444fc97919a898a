/* cmd-backfill.c - "objtrigger backfill": run a trigger over what exists. */

/*
 * The backfill lists the trigger's watch itself, in this process, never
 * in the daemon's loop: a folder is walked as the watch's scans walk it
 * (source_folder_walk), a bucket is listed page by page. Each object the
 * trigger takes is queued in the journal (journal-backfill.c), a
 * transaction per BACKFILL_TX objects, so memory stays bounded whatever
 * the size of the watch. The daemon, which looks at the journal at least
 * every second, runs the jobs; --wait follows them until they end. With
 * no daemon running, the jobs wait in the journal for its next start.
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"
#include "units.h"

#define BACKFILL_TX 1000 /* objects queued per transaction */
#define BACKFILL_WAIT_MS 250 /* between looks at the jobs, with --wait */

static const char backfill_usage[] =
    "usage: objtrigger backfill [-c FILE] [--prefix P] [--since TIME] "
    "[--until TIME] [--match GLOB] [--dry-run] [--rerun] [--wait] "
    "[--quiet] TRIGGER\n"
    "       objtrigger backfill [-c FILE] --cancel TRIGGER\n";

struct backfill {
	struct cfg *cfg;
	const struct cfg_trigger *trigger;
	const struct cfg_watch *watch;
	struct journal *journal;
	struct journal_backfill *jb;
	struct progress *progress;
	const char *prefix, *match;
	int64_t since, until; /* ms since the epoch; 0: none */
	int dry, rerun, cancelled, failed;
	unsigned in_tx; /* objects in the open transaction */
	struct backfill_counts c;
	struct backfill_jobs jobs; /* as last looked at */
	uint64_t started; /* now_ms() */
	uint64_t listed_ms; /* how long the listing took */
};

/* Reads a time: a date (2026-01-31), a date and time in UTC
 * (2026-01-31T12:00:00Z), or a duration before now (2h, 7d); in ms. */
static int
backfill_time(const char *text, int64_t *ms)
{
	struct tm tm;
	const char *end;
	uint64_t ago;
	char *cause;

	memset(&tm, 0, sizeof tm);
	if (((end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
		(*end == '\0' || strcmp(end, "Z") == 0)) ||
	    ((end = strptime(text, "%Y-%m-%d", &tm)) != NULL && *end == '\0')) {
		*ms = (int64_t)timegm(&tm) * 1000;
		return 0;
	}
	if (units_parse_duration(text, &ago, &cause) != 0) {
		fprintf(stderr,
		    "objtrigger: backfill: '%s' is not a time (2026-01-31, "
		    "2026-01-31T12:00:00Z, or a duration ago: 2h)\n",
		    text);
		free(cause);
		return -1;
	}
	*ms = wall_ms() - (int64_t)ago;
	return 0;
}

/* Whether a daemon holds the state folder's lock. */
static int
backfill_daemon_runs(const char *state)
{
	char *path;
	int fd, runs = 0;

	xasprintf(&path, "%s/lock", state);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	runs = signal_held(fd);
	close(fd);
	return runs;
}

/* The line that says how far the backfill went: on a terminal, the
 * jobs' bar first (the line is cut to the terminal's width). */
static void
backfill_show(struct backfill *b, int force, int listing)
{
	uint64_t ms = now_ms() - b->started, ended, rate, list_ms;
	char bar[32], eta[32], counts[160];

	if (!progress_due(b->progress, force))
		return;
	if (!b->dry)
		journal_backfill_jobs(b->jb, &b->jobs);
	ended = b->jobs.done + b->jobs.dead + b->jobs.skipped;
	rate = ms > 0 ? ended * 1000 / ms : 0;
	list_ms = listing ? ms : b->listed_ms;
	snprintf(counts, sizeof counts,
	    "%s: %" PRIu64 " seen, %" PRIu64 " queued, %" PRIu64
	    " already run or queued, %" PRIu64 " skipped, %" PRIu64 "/s",
	    listing ? "listing" : "listed", b->c.seen, b->c.queued,
	    b->c.already, b->c.skipped,
	    list_ms > 0 ? b->c.seen * 1000 / list_ms : b->c.seen);
	if (b->dry)
		progress_show(b->progress, force, "backfill %s: %s",
		    b->trigger->name, counts);
	else if (progress_mode(b->progress) == PROGRESS_BAR && !listing)
		progress_show(b->progress, force,
		    "backfill %s: jobs [%s] %" PRIu64 "/%" PRIu64 ", %" PRIu64
		    "/s, ETA %s | %s",
		    b->trigger->name, progress_bar(ended, b->c.queued, bar, 20),
		    ended, b->c.queued, rate,
		    rate > 0 ?
			progress_eta(b->jobs.waiting / rate, eta, sizeof eta) :
			"-",
		    counts);
	else
		progress_show(b->progress, force,
		    "backfill %s: %s; jobs: %" PRIu64 " of %" PRIu64
		    " ended, %" PRIu64 "/s",
		    b->trigger->name, counts, ended, b->c.queued, rate);
}

/* Records the progress in the open transaction, and commits it. */
static void
backfill_commit(struct backfill *b, const char *state)
{
	if (b->dry)
		return;
	if (b->in_tx == 0 && journal_begin(b->journal) != 0) {
		b->failed = 1;
		return;
	}
	if (journal_backfill_progress(b->jb, state, &b->c, wall_ms()) == 1)
		b->cancelled = 1;
	if (journal_commit(b->journal) != 0)
		b->failed = 1;
	b->in_tx = 0;
}

/* Whether the trigger and the command's filters take an object. */
static int
backfill_takes(const struct backfill *b, const struct journal_event *e,
    int64_t mtime)
{
	const char *slash = strrchr(e->key, '/');
	const char *name = slash != NULL ? slash + 1 : e->key;

	if (b->prefix != NULL &&
	    strncmp(e->key, b->prefix, strlen(b->prefix)) != 0)
		return 0;
	if (b->match != NULL &&
	    fnmatch(b->match, strchr(b->match, '/') != NULL ? e->key : name,
		strchr(b->match, '/') != NULL ? FNM_PATHNAME : 0) != 0)
		return 0;
	if ((b->since != 0 && mtime < b->since) ||
	    (b->until != 0 && mtime >= b->until))
		return 0;
	return scheduler_match(b->trigger, e);
}

/* An object of the watch: queued, if the trigger takes it and it has no
 * finished job. */
static void
backfill_object(struct backfill *b, const struct journal_event *e,
    int64_t mtime, int output)
{
	int rc;

	if (b->cancelled || b->failed)
		return;
	b->c.seen++;
	if (output || !backfill_takes(b, e, mtime)) {
		b->c.skipped++;
		backfill_show(b, 0, 1);
		return;
	}
	if (!b->dry && b->in_tx == 0) {
		if (journal_begin(b->journal) != 0) {
			b->failed = 1;
			return;
		}
		b->in_tx = 1;
		/* Cancelled meanwhile? Then nothing more is queued. */
		if (journal_backfill_progress(b->jb, "listing", &b->c,
			wall_ms()) == 1) {
			b->cancelled = 1;
			journal_commit(b->journal);
			b->in_tx = 0;
			return;
		}
	}
	rc = journal_backfill_add(b->jb, e, b->trigger->name, wall_ms());
	if (rc < 0) {
		b->failed = 1;
		return;
	}
	if (rc == BACKFILL_QUEUED)
		b->c.queued++;
	else
		b->c.already++;
	if (!b->dry && ++b->in_tx > BACKFILL_TX)
		backfill_commit(b, "listing");
	backfill_show(b, 0, 1);
}

static void
backfill_file(void *arg, const struct journal_event *e, const char *path,
    const struct stat *sb)
{
	struct backfill *b = arg;

	backfill_object(b, e, stat_mtime_ns(sb) / 1000000,
	    journal_is_output(b->journal, path, sb));
}

static int
backfill_listed(void *arg, const struct s3_object *o)
{
	struct backfill *b = arg;
	struct journal_event e = { .watch = b->watch->name,
		.folder = b->watch->bucket,
		.key = o->key,
		.event = "created",
		.size = o->size,
		.etag = o->etag };

	backfill_object(b, &e, o->mtime,
	    journal_is_s3_output(b->journal, b->watch->store, b->watch->bucket,
		o->key, o->etag));
	return b->cancelled || b->failed ? -1 : 0;
}

/* What to list of a bucket: the watch's prefix, or --prefix below it;
 * NULL if --prefix is outside the watch's. */
static const char *
backfill_list_prefix(const struct backfill *b)
{
	const char *w = b->watch->prefix, *p = b->prefix;

	if (p == NULL || strncmp(w, p, strlen(p)) == 0)
		return w;
	if (strncmp(p, w, strlen(w)) == 0)
		return p;
	return NULL;
}

/* Lists the watch's bucket page by page; 0, or -1 (reported). */
static int
backfill_bucket(struct backfill *b)
{
	const struct cfg_store *store = cfg_find_store(b->cfg, b->watch->store);
	const char *prefix = backfill_list_prefix(b);
	char *after = NULL, *next = NULL, *text;
	struct s3_error err;
	int rc;

	if (b->watch->bucket == NULL) {
		fprintf(stderr,
		    "objtrigger: backfill: watch %s takes any bucket: it "
		    "has none to list (give it bucket=)\n",
		    b->watch->name);
		return -1;
	}
	if (prefix == NULL)
		return 0; /* nothing the watch sees */
	memset(&err, 0, sizeof err);
	do {
		rc = s3_list_page(store, b->watch->bucket, prefix, after,
		    backfill_listed, b, &next, &err);
		free(after);
		after = next;
		next = NULL;
		if (b->in_tx > 0)
			backfill_commit(b, "listing");
	} while (rc == 0 && after != NULL && !b->cancelled && !b->failed);
	free(after);
	if (rc != 0 && !b->cancelled && !b->failed) {
		text = s3_error_text(store, "listing", &err);
		fprintf(stderr, "objtrigger: backfill: %s\n", text);
		free(text);
		return -1;
	}
	return 0;
}

/* Walks the watch's folder; 0, or -1 (reported). */
static int
backfill_folder(struct backfill *b)
{
	struct stat sb;
	char *cause;

	if (stat(b->watch->path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "objtrigger: backfill: %s: %s\n",
		    b->watch->path,
		    errno != 0 ? strerror(errno) : "not a folder");
		return -1;
	}
	if (source_folder_walk(b->watch, backfill_file, b, &cause) != 0) {
		fprintf(stderr, "objtrigger: backfill: %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Follows the backfill's jobs until none waits; 0 if every one ended
 * done (or skipped), 1 if some are dead letters or the daemon stopped. */
static int
backfill_wait(struct backfill *b)
{
	uint64_t ticks = 0;

	for (;;) {
		if (journal_backfill_jobs(b->jb, &b->jobs) != 0)
			return 1;
		if (b->jobs.waiting == 0)
			break;
		if (ticks++ % (1000 / BACKFILL_WAIT_MS) == 0) {
			if (journal_backfill_cancelled(b->jb) != 0) {
				b->cancelled = 1;
				return 1;
			}
			if (!backfill_daemon_runs(b->cfg->state)) {
				progress_free(b->progress);
				b->progress = NULL;
				fprintf(stderr,
				    "objtrigger: backfill: the daemon "
				    "stopped: %" PRIu64 " job%s run at its "
				    "next start\n",
				    b->jobs.waiting,
				    b->jobs.waiting == 1 ? "" : "s");
				return 1;
			}
		}
		backfill_show(b, 0, 0);
		poll(NULL, 0, BACKFILL_WAIT_MS);
	}
	backfill_show(b, 1, 0);
	return b->jobs.dead > 0;
}

static void
backfill_summary(const struct backfill *b, int waited)
{
	uint64_t ms = now_ms() - b->started;

	printf("backfill %s: %s%" PRIu64 " seen, %" PRIu64 " %s, %" PRIu64
	       " already run or queued, %" PRIu64 " skipped",
	    b->trigger->name, b->cancelled ? "cancelled: " : "", b->c.seen,
	    b->c.queued, b->dry ? "to queue (dry run)" : "queued", b->c.already,
	    b->c.skipped);
	if (waited)
		printf("; %" PRIu64 " job%s done, %" PRIu64 " dead, %" PRIu64
		       " skipped in %.1fs (%.0f/s)",
		    b->jobs.done, b->jobs.done == 1 ? "" : "s", b->jobs.dead,
		    b->jobs.skipped, (double)ms / 1000,
		    ms > 0 ? (double)(b->jobs.done + b->jobs.dead +
				 b->jobs.skipped) *
			    1000 / (double)ms :
			     0.0);
	printf("\n");
}

/* --cancel TRIGGER */
static int
backfill_cancel(struct journal *j, const char *trigger)
{
	int n = journal_backfill_cancel(j, trigger, wall_ms());

	if (n < 0)
		return 1;
	if (n == 0) {
		fprintf(stderr,
		    "objtrigger: backfill: no backfill of %s runs\n", trigger);
		return 1;
	}
	printf("backfill %s: cancelled (%d backfill%s): its jobs that had not "
	       "started are skipped\n",
	    trigger, n, n == 1 ? "" : "s");
	return 0;
}

static const struct cfg_trigger *
backfill_find(const struct cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->ntriggers; i++) {
		if (strcmp(cfg->triggers[i].name, name) == 0)
			return &cfg->triggers[i];
	}
	return NULL;
}

/* Lists, queues and (with wait) follows; the exit status. */
static int
backfill_run(struct backfill *b, int wait, int quiet)
{
	int rc, runs;

	b->started = now_ms();
	b->progress = progress_new(stderr, quiet);
	if ((b->jb = journal_backfill_new(b->journal, b->trigger->name,
		 b->rerun, b->dry, wall_ms())) == NULL)
		return 1;
	rc = b->watch->type == CFG_WATCH_FOLDER ? backfill_folder(b) :
						  backfill_bucket(b);
	b->listed_ms = now_ms() - b->started;
	backfill_commit(b, rc != 0 || b->failed ? "failed" : "queued");
	backfill_show(b, 1, 0);
	if (rc != 0 || b->failed)
		return 1;
	runs = backfill_daemon_runs(b->cfg->state);
	if (wait && runs && !b->dry && !b->cancelled)
		rc = backfill_wait(b);
	progress_free(b->progress);
	b->progress = NULL;
	backfill_summary(b, wait && runs && !b->dry && !b->cancelled);
	if (b->cancelled)
		return 1;
	if (b->dry || b->c.queued == 0)
		return rc;
	if (!runs) {
		printf("no objtrigger runs with the state folder %s: the jobs "
		       "run at its next start\n",
		    b->cfg->state);
		return wait ? 1 : 0;
	}
	if (!wait)
		printf("the daemon runs the jobs: objtrigger status shows how "
		       "far it is\n");
	return rc;
}

int
cmd_backfill(int argc, char **argv)
{
	static const struct option options[] = { { "config", required_argument,
						     NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "match", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "rerun", no_argument, NULL, 'r' },
		{ "wait", no_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "cancel", no_argument, NULL, 'C' }, { NULL, 0, NULL, 0 } };
	struct backfill b;
	const char *file = NULL;
	int ch, wait = 0, quiet = 0, cancel = 0, rc;
	char *cause;

	memset(&b, 0, sizeof b);
	while ((ch = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'p':
			b.prefix = optarg;
			break;
		case 's':
		case 'u':
			if (backfill_time(optarg,
				ch == 's' ? &b.since : &b.until) != 0)
				return 2;
			break;
		case 'm':
			b.match = optarg;
			break;
		case 'n':
			b.dry = 1;
			break;
		case 'r':
			b.rerun = 1;
			break;
		case 'w':
			wait = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'C':
			cancel = 1;
			break;
		default:
			fputs(backfill_usage, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(backfill_usage, stderr);
		return 2;
	}
	b.cfg = cfg_load(file != NULL ? file : config_default_file());
	if (b.cfg->nerrors > 0) {
		cfg_print_errors(b.cfg, stderr);
		cfg_free(b.cfg);
		return 1;
	}
	if ((b.trigger = backfill_find(b.cfg, argv[optind])) == NULL) {
		fprintf(stderr, "objtrigger: backfill: %s has no trigger %s\n",
		    b.cfg->file, argv[optind]);
		cfg_free(b.cfg);
		return 1;
	}
	b.watch = cfg_find_watch(b.cfg, b.trigger->watch);
	if ((b.journal = journal_open(b.cfg->state, &cause)) == NULL) {
		fprintf(stderr, "objtrigger: %s\n", cause);
		free(cause);
		cfg_free(b.cfg);
		return 1;
	}
	if (cancel)
		rc = backfill_cancel(b.journal, b.trigger->name);
	else
		rc = backfill_run(&b, wait, quiet);
	journal_backfill_free(b.jb);
	progress_free(b.progress);
	journal_close(b.journal);
	cfg_free(b.cfg);
	return rc;
}
