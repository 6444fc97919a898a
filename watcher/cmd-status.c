/* cmd-status.c - "objtrigger status" and "objtrigger retry": the journal,
 * read and mended from the command line while the daemon runs. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cfg.h"
#include "objtrigger.h"

#define STATUS_DEAD_SHOWN 10
#define STATUS_JOBS_SHOWN 20

static const char *status_states[] = { "pending", "running", "retry", "done",
	"skipped", "dead", NULL };

/* What a job's row is read with: the columns status_job_row takes. */
#define STATUS_JOB_COLUMNS \
	"id, trigger, watch, folder, key, event, size, etag, state, " \
	"attempts, error, created, updated, next_at"

/* Opens the journal named by a config; NULL (reported) on any error. */
static struct journal *
status_journal(const char *file, struct cfg **cfgp)
{
	struct cfg *cfg = cfg_load(file != NULL ? file : config_default_file());
	struct journal *j;
	char *cause, *db;

	if (cfg->nerrors > 0) {
		cfg_print_errors(cfg, stderr);
		cfg_free(cfg);
		return NULL;
	}
	xasprintf(&db, "%s/journal.db", cfg->state);
	if (access(db, F_OK) != 0) {
		fprintf(stderr,
		    "objtrigger: no journal in %s: objtrigger has "
		    "not run with %s\n",
		    cfg->state, cfg->file);
		free(db);
		cfg_free(cfg);
		return NULL;
	}
	free(db);
	if ((j = journal_open(cfg->state, &cause)) == NULL) {
		fprintf(stderr, "objtrigger: %s\n", cause);
		free(cause);
		cfg_free(cfg);
		return NULL;
	}
	*cfgp = cfg;
	return j;
}

static const char *
status_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

/* Column i as a JSON string, escaped (log_escape): a key or a message
 * that is not UTF-8, or holds control characters, still shows; null if
 * the column is. */
static json_t *
status_string(sqlite3_stmt *s, int i)
{
	char *text;
	json_t *v;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	text = log_escape(status_text(s, i), 1);
	v = json_string(text);
	free(text);
	return v;
}

/* A time of the journal (ms since the epoch), in UTC; null if none. */
static json_t *
status_time(sqlite3_stmt *s, int i)
{
	time_t t = (time_t)(sqlite3_column_int64(s, i) / 1000);
	char buf[32];
	struct tm tm;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* A duration as people write it: 250ms, 3.2s, 42s, 5m07s, 2h05m, 3d04h. */
static const char *
status_duration(double seconds, char *buf, size_t len)
{
	uint64_t s = (uint64_t)seconds;

	if (seconds < 1)
		snprintf(buf, len, "%dms", (int)(seconds * 1000));
	else if (seconds < 10)
		snprintf(buf, len, "%.1fs", seconds);
	else if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		    s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		    s % 86400 / 3600);
	return buf;
}

static const char *
status_get(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

static json_int_t
status_int(json_t *o, const char *name)
{
	return json_integer_value(json_object_get(o, name));
}

/* Counts: {"trigger": {"pending": n, ...}}, every state present. */
static void
status_count_row(void *arg, sqlite3_stmt *s)
{
	json_t *counts = arg, *t;
	const char *trigger = status_text(s, 0);
	size_t i;

	if ((t = json_object_get(counts, trigger)) == NULL) {
		t = json_object();
		for (i = 0; status_states[i] != NULL; i++)
			json_object_set_new(t, status_states[i],
			    json_integer(0));
		json_object_set_new(counts, trigger, t);
	}
	json_object_set_new(t, status_text(s, 1),
	    json_integer(sqlite3_column_int64(s, 2)));
}

/* An attempt: when it started and ended, how long it took (or has taken
 * so far, if it runs), how it ended. Column 5 says whether it runs. */
static void
status_attempt_row(void *arg, sqlite3_stmt *s)
{
	int ended = sqlite3_column_type(s, 2) != SQLITE_NULL;
	int64_t end = ended ? sqlite3_column_int64(s, 2) : wall_ms();
	const char *result = ended   ? status_text(s, 3) :
	    sqlite3_column_int(s, 5) ? "running" :
				       "interrupted";

	json_array_append_new(arg,
	    json_pack("{s:I, s:o, s:o, s:o, s:s, s:o}", "attempt",
		(json_int_t)sqlite3_column_int64(s, 0), "started",
		status_time(s, 1), "ended", status_time(s, 2), "seconds",
		ended || sqlite3_column_int(s, 5) ?
		    json_real(
			(double)(end - sqlite3_column_int64(s, 1)) / 1000) :
		    json_null(),
		"result", result, "error", status_string(s, 4)));
}

struct status_list {
	struct journal *j;
	json_t *list;
	int details; /* attempts and outputs too */
};

static void
status_output_row(void *arg, sqlite3_stmt *s)
{
	json_array_append_new(arg, status_string(s, 0));
}

/* A job (STATUS_JOB_COLUMNS), with its history if asked. */
static void
status_job_row(void *arg, sqlite3_stmt *s)
{
	struct status_list *sl = arg;
	int64_t id = sqlite3_column_int64(s, 0);
	const char *state = status_text(s, 8);
	json_t *job, *attempts, *outputs;

	job = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s, s:I, s:o, s:s, s:I, "
			"s:o, s:o, s:o}",
	    "id", (json_int_t)id, "trigger", status_text(s, 1), "watch",
	    status_text(s, 2), "folder", status_string(s, 3), "key",
	    status_string(s, 4), "event", status_text(s, 5), "size",
	    (json_int_t)sqlite3_column_int64(s, 6), "etag", status_string(s, 7),
	    "state", state, "attempts", (json_int_t)sqlite3_column_int64(s, 9),
	    "error", status_string(s, 10), "queued", status_time(s, 11),
	    "updated", status_time(s, 12));
	if (strcmp(state, "retry") == 0)
		json_object_set_new(job, "next", status_time(s, 13));
	if (sl->details || strcmp(state, "dead") == 0 ||
	    strcmp(state, "running") == 0) {
		attempts = json_array();
		journal_query(sl->j,
		    "SELECT a.n, a.started, a.ended, a.result, a.error, "
		    "j.state = 'running' AND a.n = j.tries FROM attempts a "
		    "JOIN jobs j ON j.id = a.job WHERE a.job = ?2 ORDER BY a.n",
		    NULL, id, status_attempt_row, attempts);
		json_object_set_new(job, "history", attempts);
	}
	if (sl->details) {
		outputs = json_array();
		journal_query(sl->j,
		    "SELECT path FROM outputs WHERE job = ?2 UNION ALL "
		    "SELECT 's3://' || store || '/' || bucket || '/' || key "
		    "FROM s3_outputs WHERE job = ?2 ORDER BY 1",
		    NULL, id, status_output_row, outputs);
		json_object_set_new(job, "outputs", outputs);
	}
	json_array_append_new(sl->list, job);
}

/* The jobs a query (of STATUS_JOB_COLUMNS, ?1 the trigger or NULL, ?2 an
 * id) finds. */
static json_t *
status_jobs(struct journal *j, const char *where, const char *trigger,
    int64_t id, int details, int *rc)
{
	struct status_list sl = { j, json_array(), details };
	char *sql;

	xasprintf(&sql, "SELECT " STATUS_JOB_COLUMNS " FROM jobs WHERE %s",
	    where);
	*rc |= journal_query(j, sql, trigger, id, status_job_row, &sl);
	free(sql);
	return sl.list;
}

/* A backfill under way: listing, or with jobs that wait. */
static void
status_backfill_row(void *arg, sqlite3_stmt *s)
{
	pid_t pid = (pid_t)sqlite3_column_int64(s, 7);
	const char *state = status_text(s, 2);

	if (strcmp(state, "listing") == 0 && kill(pid, 0) != 0 &&
	    errno == ESRCH)
		state = "stopped"; /* its process is gone */
	json_array_append_new(arg,
	    json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id",
		(json_int_t)sqlite3_column_int64(s, 0), "trigger",
		status_text(s, 1), "state", state, "seen",
		(json_int_t)sqlite3_column_int64(s, 3), "queued",
		(json_int_t)sqlite3_column_int64(s, 4), "already",
		(json_int_t)sqlite3_column_int64(s, 5), "skipped",
		(json_int_t)sqlite3_column_int64(s, 6), "ended",
		(json_int_t)sqlite3_column_int64(s, 8), "waiting",
		(json_int_t)sqlite3_column_int64(s, 9)));
}

/* The backfills under way (of trigger, if not NULL), as a list. */
static json_t *
status_backfills(struct journal *j, const char *trigger, int *rc)
{
	json_t *list = json_array();

	*rc |= journal_query(j,
	    "SELECT * FROM (SELECT id, trigger, state, seen, queued, already, "
	    "skipped, pid, (SELECT count(*) FROM jobs WHERE backfill = b.id "
	    "AND state IN ('done', 'dead', 'skipped', 'forgotten')), "
	    "(SELECT count(*) FROM jobs WHERE backfill = b.id AND state IN "
	    "('pending', 'running', 'retry')) AS waiting FROM backfills b "
	    "WHERE state IN ('listing', 'queued') AND (?1 IS NULL OR "
	    "trigger = ?1)) WHERE state = 'listing' OR waiting > 0 ORDER BY id",
	    trigger, -1, status_backfill_row, list);
	return list;
}

static void
status_print_backfills(json_t *list)
{
	json_t *b;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	printf("\nbackfills (objtrigger backfill --cancel TRIGGER stops "
	       "one):\n");
	json_array_foreach(list, i, b)
	{
		printf("  %s: %s, %" JSON_INTEGER_FORMAT
		       " seen, %" JSON_INTEGER_FORMAT
		       " queued, %" JSON_INTEGER_FORMAT
		       " already run or queued, %" JSON_INTEGER_FORMAT
		       " skipped; %" JSON_INTEGER_FORMAT
		       " of %" JSON_INTEGER_FORMAT " jobs ended\n",
		    json_string_value(json_object_get(b, "trigger")),
		    json_string_value(json_object_get(b, "state")),
		    json_integer_value(json_object_get(b, "seen")),
		    json_integer_value(json_object_get(b, "queued")),
		    json_integer_value(json_object_get(b, "already")),
		    json_integer_value(json_object_get(b, "skipped")),
		    json_integer_value(json_object_get(b, "ended")),
		    json_integer_value(json_object_get(b, "queued")));
	}
}

static void
status_print_attempts(json_t *job)
{
	json_t *a;
	char took[32];
	size_t i;

	json_array_foreach(json_object_get(job, "history"), i, a)
	{
		printf("    %" JSON_INTEGER_FORMAT ". %s",
		    status_int(a, "attempt"), status_get(a, "started"));
		if (status_get(a, "ended") != NULL)
			printf(" to %s", status_get(a, "ended"));
		if (json_is_real(json_object_get(a, "seconds")))
			printf(" (%s%s)",
			    strcmp(status_get(a, "result"), "running") == 0 ?
				"for " :
				"",
			    status_duration(json_real_value(
						json_object_get(a, "seconds")),
				took, sizeof took));
		printf(" %s%s%s\n", status_get(a, "result"),
		    status_get(a, "error") != NULL ? ": " : "",
		    status_get(a, "error") ?: "");
	}
}

/* A job's line in a list: its id, trigger and file. */
static void
status_print_job(json_t *job)
{
	printf("  job %" JSON_INTEGER_FORMAT " %s %s/%s", status_int(job, "id"),
	    status_get(job, "trigger"), status_get(job, "folder"),
	    status_get(job, "key"));
}

static void
status_print_counts(json_t *counts)
{
	const char *trigger;
	json_t *t;
	size_t i;

	printf("%-16s", "trigger");
	for (i = 0; status_states[i] != NULL; i++)
		printf(" %8s", status_states[i]);
	printf("\n");
	json_object_foreach(counts, trigger, t)
	{
		printf("%-16s", trigger);
		for (i = 0; status_states[i] != NULL; i++)
			printf(" %8" JSON_INTEGER_FORMAT,
			    status_int(t, status_states[i]));
		printf("\n");
	}
}

static void
status_print_text(json_t *all)
{
	json_t *d, *a, *jobs;
	char took[32];
	size_t i;

	status_print_counts(json_object_get(all, "triggers"));
	if (json_array_size(json_object_get(all, "running")) > 0)
		printf("\nrunning:\n");
	json_array_foreach(json_object_get(all, "running"), i, d)
	{
		a = json_array_get(json_object_get(d, "history"),
		    json_array_size(json_object_get(d, "history")) - 1);
		status_print_job(d);
		printf(", attempt %" JSON_INTEGER_FORMAT
		       ", for %s (since %s)\n",
		    status_int(d, "attempts"),
		    status_duration(json_real_value(
					json_object_get(a, "seconds")),
			took, sizeof took),
		    status_get(a, "started"));
	}
	if (json_array_size(json_object_get(all, "dead")) > 0)
		printf(
		    "\nlast dead letters (objtrigger retry ID puts one back, "
		    "objtrigger forget ID dismisses it):\n");
	json_array_foreach(json_object_get(all, "dead"), i, d)
	{
		status_print_job(d);
		printf(", %" JSON_INTEGER_FORMAT " attempt%s, dead since %s\n",
		    status_int(d, "attempts"),
		    status_int(d, "attempts") == 1 ? "" : "s",
		    status_get(d, "updated"));
		status_print_attempts(d);
	}
	if ((jobs = json_object_get(all, "jobs")) == NULL)
		return;
	printf("\nlast jobs:\n");
	json_array_foreach(jobs, i, d)
	{
		status_print_job(d);
		printf(", %s since %s\n", status_get(d, "state"),
		    status_get(d, "updated"));
	}
}

/* One job's whole history, as "objtrigger status ID" prints it. */
static void
status_print_history(json_t *job)
{
	json_t *o;
	size_t i;

	printf("job %" JSON_INTEGER_FORMAT "\n", status_int(job, "id"));
	printf("  trigger  %s (watch %s)\n", status_get(job, "trigger"),
	    status_get(job, "watch"));
	printf("  input    %s/%s (%s, %" JSON_INTEGER_FORMAT " bytes%s%s)\n",
	    status_get(job, "folder"), status_get(job, "key"),
	    status_get(job, "event"), status_int(job, "size"),
	    *status_get(job, "etag") != '\0' ? ", ETag " : "",
	    status_get(job, "etag"));
	printf("  queued   %s\n", status_get(job, "queued"));
	printf("  state    %s since %s", status_get(job, "state"),
	    status_get(job, "updated"));
	if (status_get(job, "next") != NULL)
		printf(", next attempt at %s", status_get(job, "next"));
	printf("\n");
	if (status_get(job, "error") != NULL)
		printf("  error    %s\n", status_get(job, "error"));
	printf("  attempts\n");
	status_print_attempts(job);
	printf("  outputs\n");
	json_array_foreach(json_object_get(job, "outputs"), i, o)
	    printf("    %s\n", json_string_value(o));
}

/* Prints v as JSON, and frees it. */
static void
status_dump(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(v);
}

/* "status ID...": each job's history. */
static int
status_history(struct journal *j, char **ids, int n, int json)
{
	json_t *all = json_array(), *one, *job;
	int i, rc = 0, missing = 0;
	size_t k;

	for (i = 0; i < n; i++) {
		one = status_jobs(j, "id = ?2", NULL, strtoll(ids[i], NULL, 10),
		    1, &rc);
		if ((job = json_array_get(one, 0)) == NULL) {
			fprintf(stderr, "objtrigger: status: no job %s\n",
			    ids[i]);
			missing = 1;
		} else
			json_array_append(all, job);
		json_decref(one);
	}
	if (json)
		status_dump(json_pack("{s:o}", "jobs", all));
	else {
		json_array_foreach(all, k, job)
		{
			if (k > 0)
				printf("\n");
			status_print_history(job);
		}
		json_decref(all);
	}
	return rc != 0 || missing ? 1 : 0;
}

/* Whether a trigger is in the config or has jobs in the journal. */
static int
status_known_trigger(const struct cfg *cfg, const char *trigger, json_t *counts)
{
	size_t i;

	for (i = 0; i < cfg->ntriggers; i++) {
		if (strcmp(cfg->triggers[i].name, trigger) == 0)
			return 1;
	}
	return json_object_get(counts, trigger) != NULL;
}

/* "status [--trigger T]": the counts, the running jobs and the last dead
 * letters (of one trigger, with its last jobs too). */
static int
status_overview(struct journal *j, const struct cfg *cfg, const char *trigger,
    int json)
{
	json_t *all, *queues, *counts = json_object();
	int rc = 0;
	char *sql;

	rc |= journal_query(j,
	    "SELECT trigger, state, count(*) FROM jobs WHERE state != "
	    "'forgotten' AND (?1 IS NULL OR trigger = ?1) "
	    "GROUP BY trigger, state ORDER BY trigger",
	    trigger, -1, status_count_row, counts);
	if (trigger != NULL && !status_known_trigger(cfg, trigger, counts)) {
		fprintf(stderr, "objtrigger: status: no trigger %s in %s\n",
		    trigger, cfg->file);
		json_decref(counts);
		return 1;
	}
	all = json_pack("{s:o, s:o}", "triggers", counts, "running",
	    status_jobs(j,
		"state = 'running' AND (?1 IS NULL OR trigger = ?1) "
		"ORDER BY updated, id",
		trigger, -1, 0, &rc));
	xasprintf(&sql,
	    "state = 'dead' AND (?1 IS NULL OR trigger = ?1) "
	    "ORDER BY updated DESC, id DESC LIMIT %d",
	    STATUS_DEAD_SHOWN);
	json_object_set_new(all, "dead",
	    status_jobs(j, sql, trigger, -1, 0, &rc));
	free(sql);
	if (trigger != NULL) {
		xasprintf(&sql,
		    "state != 'forgotten' AND trigger = ?1 "
		    "ORDER BY updated DESC, id DESC LIMIT %d",
		    STATUS_JOBS_SHOWN);
		json_object_set_new(all, "jobs",
		    status_jobs(j, sql, trigger, -1, 0, &rc));
		free(sql);
	}
	json_object_set_new(all, "backfills",
	    status_backfills(j, trigger, &rc));
	if ((queues = queues_dead(cfg)) != NULL)
		json_object_set_new(all, "queues", queues);
	if (json)
		status_dump(all);
	else {
		status_print_text(all);
		status_print_backfills(json_object_get(all, "backfills"));
		if (queues != NULL)
			queues_print(queues);
		json_decref(all);
	}
	return rc == 0 ? 0 : 1;
}

/* Whether each argument is a job id; says which is not. */
static int
status_ids(const char *command, char **ids, int n)
{
	long long id;
	char *end;
	int i;

	for (i = 0; i < n; i++) {
		id = strtoll(ids[i], &end, 10);
		if (*ids[i] == '\0' || *end != '\0' || id < 0) {
			fprintf(stderr,
			    "objtrigger: %s: '%s' is not a job id\n", command,
			    ids[i]);
			return 0;
		}
	}
	return 1;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "trigger", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	static const char usage[] = "usage: objtrigger status [-c FILE] "
				    "[--json] [--trigger T | ID...]\n";
	const char *file = NULL, *trigger = NULL;
	struct journal *j;
	struct cfg *cfg;
	int ch, json = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:t:", options, NULL)) != -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 'j')
			json = 1;
		else if (ch == 't')
			trigger = optarg;
		else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (trigger != NULL && optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!status_ids("status", argv + optind, argc - optind))
		return 2;
	if ((j = status_journal(file, &cfg)) == NULL)
		return 1;
	if (optind != argc)
		rc = status_history(j, argv + optind, argc - optind, json);
	else
		rc = status_overview(j, cfg, trigger, json);
	journal_close(j);
	cfg_free(cfg);
	return rc;
}

/*
 * "retry" and "forget": apply changes dead letters (all, a trigger's, or
 * those named by id) and returns how many it changed; did says what
 * became of them ("back in line"). Without ids or --trigger, every dead
 * letter is changed, unless need_which is set.
 */
int
status_dead_letters(int argc, char **argv, const char *command,
    int (*apply)(struct journal *, const char *, int64_t, int64_t),
    int need_which, const char *did)
{
	static const struct option options[] = {
		{ "trigger", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	const char *file = NULL, *trigger = NULL;
	struct journal *j;
	struct cfg *cfg;
	int ch, i, n, total = 0, missed = 0;

	while ((ch = getopt_long(argc, argv, "c:t:", options, NULL)) != -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 't')
			trigger = optarg;
		else
			break;
	}
	if (ch != -1 || (need_which && trigger == NULL && optind == argc)) {
		fprintf(stderr, "usage: objtrigger %s [-c FILE] %s\n", command,
		    need_which ? "ID... | --trigger T" :
				 "[--trigger T] [ID...]");
		return 2;
	}
	if (!status_ids(command, argv + optind, argc - optind))
		return 2;
	if ((j = status_journal(file, &cfg)) == NULL)
		return 1;
	if (optind == argc)
		total = apply(j, trigger, -1, wall_ms());
	for (i = optind; i < argc && total >= 0; i++) {
		n = apply(j, trigger, strtoll(argv[i], NULL, 10), wall_ms());
		if (n == 0) {
			fprintf(stderr,
			    "objtrigger: %s: job %s is not a "
			    "dead letter%s%s\n",
			    command, argv[i], trigger ? " of " : "",
			    trigger ? trigger : "");
			missed++;
		}
		total = n < 0 ? -1 : total + n;
	}
	journal_close(j);
	cfg_free(cfg);
	if (total < 0)
		return 1;
	printf("%d dead letter%s %s\n", total, total == 1 ? "" : "s", did);
	return missed > 0 ? 1 : 0;
}

/* "retry --watch NAME [-c FILE]": an amqp watch's dead letters, from
 * its dead-letter queue back into its queue. */
static int
status_retry_watch(int argc, char **argv)
{
	static const struct option options[] = {
		{ "watch", required_argument, NULL, 'w' },
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	const char *file = NULL, *watch = NULL;
	struct cfg *cfg;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:w:", options, NULL)) != -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 'w')
			watch = optarg;
		else
			break;
	}
	if (ch != -1 || watch == NULL || optind != argc) {
		fprintf(stderr,
		    "usage: objtrigger retry [-c FILE] --watch WATCH\n");
		return 2;
	}
	cfg = cfg_load(file != NULL ? file : config_default_file());
	if (cfg->nerrors > 0) {
		cfg_print_errors(cfg, stderr);
		cfg_free(cfg);
		return 1;
	}
	rc = queues_retry(cfg, watch);
	cfg_free(cfg);
	return rc;
}

int
cmd_retry(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--watch") == 0 ||
		    strncmp(argv[i], "--watch=", 8) == 0 ||
		    strcmp(argv[i], "-w") == 0)
			return status_retry_watch(argc, argv);
	}
	return status_dead_letters(argc, argv, "retry", journal_revive, 0,
	    "back in line");
}
