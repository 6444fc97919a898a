/* cmd-status.c - "objtrigger status" and "objtrigger retry": the journal,
 * read and mended from the command line while the daemon runs. */

#include <getopt.h>
#include <inttypes.h>
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

static const char *status_states[] = { "pending", "running", "retry", "done",
	"skipped", "dead", NULL };

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
 * that is not UTF-8, or holds control characters, still shows. */
static json_t *
status_string(sqlite3_stmt *s, int i)
{
	char *text = log_escape(status_text(s, i), 1);
	json_t *v = json_string(text);

	free(text);
	return v;
}

static void
status_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

static void
status_attempt_row(void *arg, sqlite3_stmt *s)
{
	char when[32];

	status_time(sqlite3_column_int64(s, 1), when, sizeof when);
	json_array_append_new(arg,
	    json_pack("{s:I, s:s, s:s, s:o*}", "attempt",
		(json_int_t)sqlite3_column_int64(s, 0), "at", when, "result",
		sqlite3_column_type(s, 2) == SQLITE_NULL ? "interrupted" :
							   status_text(s, 2),
		"error",
		sqlite3_column_type(s, 3) == SQLITE_NULL ?
		    NULL :
		    status_string(s, 3)));
}

struct status_dead {
	struct journal *j;
	json_t *list;
};

static void
status_dead_row(void *arg, sqlite3_stmt *s)
{
	struct status_dead *sd = arg;
	json_t *attempts = json_array();
	char when[32], *sql;

	xasprintf(&sql,
	    "SELECT n, started, result, error FROM attempts "
	    "WHERE job = %" PRId64 " ORDER BY n",
	    (int64_t)sqlite3_column_int64(s, 0));
	journal_query(sd->j, sql, status_attempt_row, attempts);
	free(sql);
	status_time(sqlite3_column_int64(s, 5), when, sizeof when);
	json_array_append_new(sd->list,
	    json_pack("{s:I, s:s, s:o, s:o, s:I, "
		      "s:s, s:o, s:o}",
		"id", (json_int_t)sqlite3_column_int64(s, 0), "trigger",
		status_text(s, 1), "folder", status_string(s, 2), "key",
		status_string(s, 3), "attempts",
		(json_int_t)sqlite3_column_int64(s, 4), "at", when, "error",
		status_string(s, 6), "history", attempts));
}

static void
status_print_text(json_t *counts, json_t *dead)
{
	const char *trigger;
	json_t *t, *d, *a;
	size_t i, k;

	printf("%-16s", "trigger");
	for (i = 0; status_states[i] != NULL; i++)
		printf(" %8s", status_states[i]);
	printf("\n");
	json_object_foreach(counts, trigger, t)
	{
		printf("%-16s", trigger);
		for (i = 0; status_states[i] != NULL; i++)
			printf(" %8" JSON_INTEGER_FORMAT,
			    json_integer_value(
				json_object_get(t, status_states[i])));
		printf("\n");
	}
	if (json_array_size(dead) == 0)
		return;
	printf("\nlast dead letters (objtrigger retry ID puts one back):\n");
	json_array_foreach(dead, i, d)
	{
		printf("  job %" JSON_INTEGER_FORMAT
		       " %s %s/%s, %" JSON_INTEGER_FORMAT
		       " attempt%s, dead since %s\n",
		    json_integer_value(json_object_get(d, "id")),
		    json_string_value(json_object_get(d, "trigger")),
		    json_string_value(json_object_get(d, "folder")),
		    json_string_value(json_object_get(d, "key")),
		    json_integer_value(json_object_get(d, "attempts")),
		    json_integer_value(json_object_get(d, "attempts")) == 1 ?
			"" :
			"s",
		    json_string_value(json_object_get(d, "at")));
		json_array_foreach(json_object_get(d, "history"), k, a)
		{
			printf("    %" JSON_INTEGER_FORMAT ". %s %s: %s\n",
			    json_integer_value(json_object_get(a, "attempt")),
			    json_string_value(json_object_get(a, "at")),
			    json_string_value(json_object_get(a, "result")),
			    json_string_value(json_object_get(a, "error")) ?:
									     "");
		}
	}
}

int
cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	struct status_dead sd;
	const char *file = NULL;
	struct journal *j;
	struct cfg *cfg;
	json_t *counts;
	int ch, json = 0, rc;
	char *sql;

	while ((ch = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 'j')
			json = 1;
		else {
			fprintf(stderr,
			    "usage: objtrigger status [-c FILE] "
			    "[--json]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr,
		    "usage: objtrigger status [-c FILE] [--json]\n");
		return 2;
	}
	if ((j = status_journal(file, &cfg)) == NULL)
		return 1;
	counts = json_object();
	sd.j = j;
	sd.list = json_array();
	xasprintf(&sql,
	    "SELECT id, trigger, folder, key, attempts, updated, "
	    "error FROM jobs WHERE state = 'dead' ORDER BY updated DESC, id "
	    "DESC LIMIT %d",
	    STATUS_DEAD_SHOWN);
	rc = journal_query(j,
		 "SELECT trigger, state, count(*) FROM jobs "
		 "GROUP BY trigger, state ORDER BY trigger",
		 status_count_row, counts) |
	    journal_query(j, sql, status_dead_row, &sd);
	free(sql);
	if (json) {
		json_t *all = json_pack("{s:o, s:o}", "triggers", counts,
		    "dead", sd.list);
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(all);
	} else {
		status_print_text(counts, sd.list);
		json_decref(counts);
		json_decref(sd.list);
	}
	journal_close(j);
	cfg_free(cfg);
	return rc == 0 ? 0 : 1;
}

int
cmd_retry(int argc, char **argv)
{
	static const struct option options[] = {
		{ "trigger", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	const char *file = NULL, *trigger = NULL;
	struct journal *j;
	struct cfg *cfg;
	int ch, i, n, total = 0, missed = 0;
	char *end;
	long long id;

	while ((ch = getopt_long(argc, argv, "c:t:", options, NULL)) != -1) {
		if (ch == 'c')
			file = optarg;
		else if (ch == 't')
			trigger = optarg;
		else {
			fprintf(stderr,
			    "usage: objtrigger retry [-c FILE] "
			    "[--trigger T] [ID...]\n");
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		id = strtoll(argv[i], &end, 10);
		if (*argv[i] == '\0' || *end != '\0' || id < 0) {
			fprintf(stderr,
			    "objtrigger: retry: '%s' is not a job "
			    "id\n",
			    argv[i]);
			return 2;
		}
	}
	if ((j = status_journal(file, &cfg)) == NULL)
		return 1;
	if (optind == argc)
		total = journal_revive(j, trigger, -1, wall_ms());
	for (i = optind; i < argc && total >= 0; i++) {
		n = journal_revive(j, trigger, strtoll(argv[i], NULL, 10),
		    wall_ms());
		if (n == 0) {
			fprintf(stderr,
			    "objtrigger: retry: job %s is not a "
			    "dead letter%s%s\n",
			    argv[i], trigger ? " of " : "",
			    trigger ? trigger : "");
			missed++;
		}
		total = n < 0 ? -1 : total + n;
	}
	journal_close(j);
	cfg_free(cfg);
	if (total < 0)
		return 1;
	printf("%d dead letter%s back in line\n", total, total == 1 ? "" : "s");
	return missed > 0 ? 1 : 0;
}
