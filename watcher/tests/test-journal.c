/* test-journal.c - the journal of jobs, on a real SQLite file. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "objtrigger.h"

#define NOW 1700000000000LL

struct fixture {
	char dir[64]; /* the temporary folder */
	char state[80]; /* the state folder in it, made by journal_open */
	struct journal *j;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test-journal-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->state, sizeof f->state, "%s/state", f->dir);
	if ((f->j = journal_open(f->state, &cause)) == NULL) {
		print_message("%s\n", cause);
		free(cause);
		sink_folder_remove_tree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	journal_close(f->j);
	sink_folder_remove_tree(f->dir);
	free(f);
	return 0;
}

/* Adds a job for a version of a file; journal_add's result. */
static int
add_version(struct journal *j, const char *trigger, const char *key,
    int64_t inode, uint64_t size, int64_t mtime)
{
	struct journal_event e = { "drop", "/srv/drop", key, "created", inode,
		size, mtime, NULL, 0, NULL };

	return journal_add(j, &e, trigger, NULL, NOW);
}

/* Adds a new job for key, in a transaction. */
static void
add(struct journal *j, const char *trigger, const char *key)
{
	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(add_version(j, trigger, key, 1, 10, 100), 1);
	assert_int_equal(journal_commit(j), 0);
}

/* The ids of the jobs of a trigger that may run at now, up to max. */
static size_t
runnable(struct journal *j, const char *trigger, int64_t now, unsigned limit,
    int64_t *ids, size_t max)
{
	struct journal_job *jobs;
	size_t n, i;

	assert_int_equal(journal_runnable(j, trigger, now, limit, &jobs, &n),
	    0);
	assert_true(n <= max);
	for (i = 0; i < n; i++) {
		ids[i] = jobs[i].id;
		assert_string_equal(jobs[i].trigger, trigger);
		journal_job_free(&jobs[i]);
	}
	free(jobs);
	return n;
}

/* How many jobs of a trigger may run at now. */
static size_t
count_runnable(struct journal *j, const char *trigger, int64_t now)
{
	int64_t ids[16];

	return runnable(j, trigger, now, 16, ids, 16);
}

/* The id of the only runnable job of a trigger. */
static int64_t
only_runnable(struct journal *j, const char *trigger)
{
	int64_t ids[16];

	assert_int_equal(runnable(j, trigger, NOW, 16, ids, 16), 1);
	return ids[0];
}

/* Runs a job to a failure that kills it. */
static void
kill_job(struct journal *j, int64_t id)
{
	assert_true(journal_start(j, id, NOW) >= 1);
	assert_int_equal(journal_failed(j, id, 1, 0, "dead", NOW), 0);
}

static void
test_open(void **state)
{
	struct fixture *f = *state;
	char path[128], *cause = NULL;
	struct stat sb;
	int i;

	snprintf(path, sizeof path, "%s/journal.db", f->state);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	add(f->j, "t", "kept.jpg");

	/* Opening again finds the schema and the job. */
	for (i = 0; i < 2; i++) {
		journal_close(f->j);
		f->j = journal_open(f->state, &cause);
		assert_null(cause);
		assert_non_null(f->j);
		assert_int_equal(count_runnable(f->j, "t", NOW), 1);
	}
}

static void
test_open_fails(void **state)
{
	struct fixture *f = *state;
	char path[128], *cause = NULL;

	snprintf(path, sizeof path, "%s/missing/state", f->dir);
	assert_null(journal_open(path, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "cannot make the state folder"));
	free(cause);
}

static void
test_add(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;

	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(add_version(j, "a", "p.jpg", 1, 10, 100), 1);
	assert_int_equal(add_version(j, "a", "p.jpg", 1, 10, 100), 0);
	assert_int_equal(add_version(j, "a", "p.jpg", 1, 10, 101), 1);
	assert_int_equal(add_version(j, "a", "p.jpg", 1, 11, 101), 1);
	assert_int_equal(add_version(j, "a", "p.jpg", 2, 11, 101), 1);
	assert_int_equal(add_version(j, "a", "p.jpg", 2, 11, 101), 0);
	assert_int_equal(add_version(j, "b", "p.jpg", 1, 10, 100), 1);
	assert_int_equal(journal_commit(j), 0);

	/* Known once committed too. */
	assert_int_equal(add_version(j, "a", "p.jpg", 1, 10, 100), 0);
	assert_int_equal(add_version(j, "b", "p.jpg", 1, 10, 100), 0);
	assert_int_equal(count_runnable(j, "a", NOW), 4);
	assert_int_equal(count_runnable(j, "b", NOW), 1);
	assert_int_equal(count_runnable(j, "c", NOW), 0);
}

static void
test_runnable(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	const char *keys[] = { "1.jpg", "2.jpg", "3.jpg" };
	struct journal_job *jobs;
	int64_t ids[16];
	size_t n, i;

	add(j, "a", keys[0]);
	add(j, "b", "other.jpg");
	add(j, "a", keys[1]);
	add(j, "a", keys[2]);

	assert_int_equal(journal_runnable(j, "a", NOW, 10, &jobs, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(jobs[i].id > jobs[i - 1].id);
		assert_string_equal(jobs[i].trigger, "a");
		assert_string_equal(jobs[i].watch, "drop");
		assert_string_equal(jobs[i].folder, "/srv/drop");
		assert_string_equal(jobs[i].key, keys[i]);
		assert_string_equal(jobs[i].event, "created");
		assert_int_equal(jobs[i].size, 10);
		assert_int_equal(jobs[i].attempts, 0);
		ids[i] = jobs[i].id;
		journal_job_free(&jobs[i]);
	}
	free(jobs);

	assert_int_equal(runnable(j, "a", NOW, 2, ids + 3, 2), 2);
	assert_int_equal(ids[3], ids[0]);
	assert_int_equal(ids[4], ids[1]);
	assert_int_equal(runnable(j, "b", NOW, 10, ids, 16), 1);
	assert_int_equal(runnable(j, "a", NOW, 0, ids, 16), 0);
}

static void
test_retry(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	int64_t id, ids[16];

	add(j, "t", "p.jpg");
	id = only_runnable(j, "t");
	assert_int_equal(journal_next_due(j, NOW), -1);
	assert_int_equal(journal_start(j, id, NOW), 1);
	assert_int_equal(count_runnable(j, "t", NOW), 0);

	assert_int_equal(journal_failed(j, id, 0, NOW + 1000, "boom", NOW), 0);
	assert_int_equal(journal_next_due(j, NOW), NOW + 1000);
	assert_int_equal(journal_next_due(j, NOW + 1000), -1); /* due now */
	assert_int_equal(count_runnable(j, "t", NOW), 0);
	assert_int_equal(count_runnable(j, "t", NOW + 999), 0);
	assert_int_equal(runnable(j, "t", NOW + 1000, 16, ids, 16), 1);
	assert_int_equal(ids[0], id);

	assert_int_equal(journal_start(j, id, NOW + 1000), 2);
	assert_int_equal(journal_next_due(j, NOW), -1);
	assert_int_equal(journal_failed(j, id, 0, NOW + 3000, "boom", NOW), 0);
	assert_int_equal(journal_start(j, id, NOW + 3000), 3);
	assert_int_equal(journal_done(j, id, NOW + 3000), 0);
	assert_int_equal(count_runnable(j, "t", INT64_MAX), 0);
	assert_int_equal(journal_next_due(j, NOW), -1);
}

static void
test_dead(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;

	add(j, "t", "p.jpg");
	kill_job(j, only_runnable(j, "t"));
	assert_int_equal(count_runnable(j, "t", NOW), 0);
	assert_int_equal(count_runnable(j, "t", INT64_MAX), 0);
	assert_int_equal(journal_next_due(j, NOW), -1);
}

static void
test_requeue(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	int64_t id;

	add(j, "t", "p.jpg");
	id = only_runnable(j, "t");
	assert_int_equal(journal_start(j, id, NOW), 1);
	add(j, "t", "q.jpg");
	assert_true(only_runnable(j, "t") != id);

	assert_int_equal(journal_requeue(j), 1);
	assert_int_equal(count_runnable(j, "t", NOW), 2);
	assert_int_equal(journal_requeue(j), 0);
	assert_int_equal(journal_start(j, id, NOW), 2);
}

/* Three dead jobs: two of trigger a, one of b. */
static void
add_dead(struct journal *j, int64_t *a1, int64_t *a2, int64_t *b1)
{
	int64_t ids[16];

	add(j, "a", "1.jpg");
	add(j, "a", "2.jpg");
	add(j, "b", "1.jpg");
	assert_int_equal(runnable(j, "a", NOW, 16, ids, 16), 2);
	*a1 = ids[0];
	*a2 = ids[1];
	*b1 = only_runnable(j, "b");
	kill_job(j, *a1);
	kill_job(j, *a2);
	kill_job(j, *b1);
	assert_int_equal(count_runnable(j, "a", NOW), 0);
	assert_int_equal(count_runnable(j, "b", NOW), 0);
}

static void
test_revive_all(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	int64_t a1, a2, b1;

	add_dead(j, &a1, &a2, &b1);
	assert_int_equal(journal_revive(j, NULL, -1, NOW), 3);
	assert_int_equal(count_runnable(j, "a", NOW), 2);
	assert_int_equal(count_runnable(j, "b", NOW), 1);
	assert_int_equal(journal_start(j, a1, NOW), 1);
	assert_int_equal(journal_start(j, b1, NOW), 1);
	assert_int_equal(journal_revive(j, NULL, -1, NOW), 0);
}

static void
test_revive_trigger(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	int64_t a1, a2, b1;

	add_dead(j, &a1, &a2, &b1);
	assert_int_equal(journal_revive(j, "a", -1, NOW), 2);
	assert_int_equal(count_runnable(j, "a", NOW), 2);
	assert_int_equal(count_runnable(j, "b", NOW), 0);
	assert_int_equal(journal_revive(j, "a", -1, NOW), 0);
	assert_int_equal(journal_revive(j, "c", -1, NOW), 0);
}

static void
test_revive_id(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	int64_t a1, a2, b1;

	add_dead(j, &a1, &a2, &b1);
	assert_int_equal(journal_revive(j, NULL, a2, NOW), 1);
	assert_int_equal(only_runnable(j, "a"), a2);
	assert_int_equal(journal_start(j, a2, NOW), 1);

	/* Not dead: running, pending, or no such job. */
	assert_int_equal(journal_revive(j, NULL, a2, NOW), 0);
	assert_int_equal(journal_requeue(j), 1);
	assert_int_equal(journal_revive(j, NULL, a2, NOW), 0);
	assert_int_equal(journal_revive(j, NULL, b1 + 100, NOW), 0);

	/* A trigger and an id that do not go together. */
	assert_int_equal(journal_revive(j, "a", b1, NOW), 0);
	assert_int_equal(journal_revive(j, "b", b1, NOW), 1);
	assert_int_equal(count_runnable(j, "a", NOW), 1);
}

static void
test_outputs(void **state)
{
	struct fixture *f = *state;
	char path[128], other[128];
	struct stat sb, changed;
	FILE *fp;

	snprintf(path, sizeof path, "%s/out.webp", f->dir);
	snprintf(other, sizeof other, "%s/other.webp", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs("webp", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(stat(path, &sb), 0);

	assert_int_equal(journal_is_output(f->j, path, &sb), 0);
	assert_int_equal(journal_add_output(f->j, path, &sb, 1), 0);
	assert_int_equal(journal_is_output(f->j, path, &sb), 1);
	assert_int_equal(journal_is_output(f->j, other, &sb), 0);

	changed = sb;
	changed.st_size++;
	assert_int_equal(journal_is_output(f->j, path, &changed), 0);
	changed = sb;
	changed.st_mtim.tv_nsec = (sb.st_mtim.tv_nsec + 1) % 1000000000;
	assert_int_equal(journal_is_output(f->j, path, &changed), 0);
	changed = sb;
	changed.st_ino++;
	assert_int_equal(journal_is_output(f->j, path, &changed), 0);

	/* A new version of the same path replaces the old one. */
	changed = sb;
	changed.st_size++;
	assert_int_equal(journal_add_output(f->j, path, &changed, 2), 0);
	assert_int_equal(journal_is_output(f->j, path, &changed), 1);
	assert_int_equal(journal_is_output(f->j, path, &sb), 0);
}

struct counts {
	unsigned rows;
	int64_t jobs;
	int64_t dead;
};

static void
count_row(void *arg, struct sqlite3_stmt *s)
{
	struct counts *c = arg;
	const char *st = (const char *)sqlite3_column_text(s, 0);

	c->rows++;
	c->jobs += sqlite3_column_int64(s, 1);
	if (st != NULL && strcmp(st, "dead") == 0)
		c->dead = sqlite3_column_int64(s, 1);
}

static int gone_count;
static char gone_key[64];

static void
gone(void *arg, const char *key, const char *etag, uint64_t size)
{
	gone_count++;
	snprintf(gone_key, sizeof gone_key, "%s", key);
}

/* Starts a listing cycle of watch at where; its number, and in *listed
 * whether a whole listing of that place ended before. */
static int64_t
cycle_start(struct fixture *f, const char *watch, const char *where,
    int *listed)
{
	int64_t cycle;

	assert_int_equal(journal_listing_start(f->j, watch, where, &cycle,
			     listed),
	    0);
	return cycle;
}

/* A listing is diffed with the last one: new keys and new ETags only. */
static void
test_listing(void **state)
{
	struct fixture *f = *state;
	int64_t cycle;
	int listed;

	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(cycle, 1);
	assert_int_equal(listed, 0); /* nothing to diff with yet */
	assert_int_equal(journal_listed(f->j, "w", "a", "e1", 1, cycle), 1);
	assert_int_equal(journal_listed(f->j, "w", "b", "e2", 2, cycle), 1);
	assert_int_equal(journal_listing_end(f->j, "w", "rgw/b/", cycle), 0);

	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(cycle, 2);
	assert_int_equal(listed, 1);
	assert_int_equal(journal_listed(f->j, "w", "a", "e1", 1, cycle), 0);
	assert_int_equal(journal_listed(f->j, "w", "c", "e3", 3, cycle), 1);
	gone_count = 0;
	assert_int_equal(journal_unlisted(f->j, "w", gone, NULL), 0);
	assert_int_equal(gone_count, 1); /* b */
	assert_string_equal(gone_key, "b");
	assert_int_equal(journal_listing_end(f->j, "w", "rgw/b/", cycle), 0);

	/* A new ETag is a change; the same one again is not. */
	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(journal_listed(f->j, "w", "a", "e9", 1, cycle), 1);
	assert_int_equal(journal_listed(f->j, "w", "c", "e3", 3, cycle), 0);

	/* The watch pointed elsewhere starts afresh. */
	cycle = cycle_start(f, "w", "rgw/other/", &listed);
	assert_int_equal(listed, 0);
	assert_int_equal(journal_listed(f->j, "w", "a", "e9", 1, cycle), 1);
}

/* The cycle listed holds for a key. */
static int64_t
listed_cycle(struct fixture *f, const char *watch, const char *key)
{
	sqlite3_stmt *s;
	int64_t cycle = -1;

	assert_int_equal(sqlite3_prepare_v2(journal_db(f->j),
			     "SELECT cycle FROM listed WHERE watch = ? AND "
			     "key = ?",
			     -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		cycle = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return cycle;
}

/* A key the last listing held as it is now is not written again; what a
 * cycle saw is its own (an interrupted one's keys count for nothing)
 * and its watch's. */
static void
test_listing_writes_changes(void **state)
{
	struct fixture *f = *state;
	int64_t cycle;
	int listed;

	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(journal_listed(f->j, "w", "a", "e1", 1, cycle), 1);
	assert_int_equal(journal_listed(f->j, "w", "b", "e2", 2, cycle), 1);
	assert_int_equal(journal_listing_end(f->j, "w", "rgw/b/", cycle), 0);
	cycle = cycle_start(f, "v", "rgw/c/", &listed);
	assert_int_equal(journal_listed(f->j, "v", "a", "e1", 1, cycle), 1);
	assert_int_equal(journal_listing_end(f->j, "v", "rgw/c/", cycle), 0);

	/* Cut short after a: a new cycle starts over. */
	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(journal_listed(f->j, "w", "a", "e1", 1, cycle), 0);
	cycle = cycle_start(f, "w", "rgw/b/", &listed);
	assert_int_equal(cycle, 3);
	assert_int_equal(journal_listed(f->j, "w", "b", "e2", 2, cycle), 0);
	assert_int_equal(listed_cycle(f, "w", "b"), 1); /* not written */
	gone_count = 0;
	assert_int_equal(journal_unlisted(f->j, "w", gone, NULL), 0);
	assert_int_equal(gone_count, 1);
	assert_string_equal(gone_key, "a");
	assert_int_equal(listed_cycle(f, "w", "a"), -1);
	assert_int_equal(listed_cycle(f, "v", "a"), 1); /* another watch's */
}

/* An object's version is its ETag: the same key, new bytes, a new job. */
static void
test_objects(void **state)
{
	struct fixture *f = *state;
	struct journal_event e = { "w", "bucket", "k", "created", 0, 5, 0,
		"etag1", 0, NULL };

	assert_int_equal(journal_add(f->j, &e, "t", NULL, NOW), 1);
	assert_int_equal(journal_add(f->j, &e, "t", NULL, NOW), 0);
	e.etag = "etag2";
	assert_int_equal(journal_add(f->j, &e, "t", NULL, NOW), 1);
	assert_int_equal(journal_add_s3_output(f->j, "rgw", "b", "k", "x", 1),
	    0);
	assert_true(journal_is_s3_output(f->j, "rgw", "b", "k", "x"));
	assert_false(journal_is_s3_output(f->j, "rgw", "b", "k", "y"));
	assert_false(journal_is_s3_output(f->j, "other", "b", "k", "x"));
}

/* The job an event has for a trigger, and its state as it goes. */
static void
test_find(void **state)
{
	struct fixture *f = *state;
	struct journal_event e = { "w", "bucket", "k", "created", 0, 5, 0,
		"etag1", 0, NULL };
	char st[16];
	int64_t id = 0;

	assert_int_equal(journal_find(f->j, &e, "t", &id, st, sizeof st), 0);
	assert_int_equal(journal_add(f->j, &e, "t", NULL, NOW), 1);
	assert_int_equal(journal_find(f->j, &e, "t", &id, st, sizeof st), 1);
	assert_string_equal(st, "pending");
	assert_int_equal(journal_find(f->j, &e, "u", &id, st, sizeof st), 0);
	assert_true(journal_start(f->j, id, NOW) > 0);
	assert_int_equal(journal_done(f->j, id, NOW), 0);
	assert_int_equal(journal_find(f->j, &e, "t", &id, st, sizeof st), 1);
	assert_string_equal(st, "done");
	e.etag = "etag2"; /* another version */
	assert_int_equal(journal_find(f->j, &e, "t", &id, st, sizeof st), 0);
}

/* A journal of the last version (no ETag in a job's identity) opens, and
 * its jobs are kept. */
static void
test_migrate(void **state)
{
	struct fixture *f = *state;
	char *path, *cause = NULL;
	sqlite3 *db;

	journal_close(f->j);
	xasprintf(&path, "%s/journal.db", f->state);
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "CREATE TABLE jobs (id INTEGER PRIMARY KEY,"
			     " trigger TEXT NOT NULL, watch TEXT NOT NULL,"
			     " folder TEXT NOT NULL, key TEXT NOT NULL,"
			     " inode INTEGER NOT NULL, size INTEGER NOT NULL,"
			     " mtime INTEGER NOT NULL, event TEXT NOT NULL,"
			     " state TEXT NOT NULL DEFAULT 'pending',"
			     " attempts INTEGER NOT NULL DEFAULT 0,"
			     " tries INTEGER NOT NULL DEFAULT 0,"
			     " next_at INTEGER NOT NULL DEFAULT 0, error TEXT,"
			     " created INTEGER NOT NULL, updated INTEGER NOT "
			     "NULL, UNIQUE (trigger, folder, key, inode, size, "
			     "mtime));"
			     "INSERT INTO jobs (trigger, watch, folder, key, "
			     "inode, size, mtime, event, created, updated) "
			     "VALUES ('t', 'drop', '/srv/drop', 'old', 1, 1, "
			     "1, "
			     "'created', 1, 1);",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	free(path);
	f->j = journal_open(f->state, &cause);
	assert_non_null(f->j);
	assert_int_equal(add_version(f->j, "t", "old", 1, 1, 1), 0);
	assert_int_equal(add_version(f->j, "t", "new", 1, 1, 1), 1);
	/* A trigger that ran had its first scan, wherever its watch looks. */
	assert_int_equal(journal_trigger_known(f->j, "t", "folder /x"), 1);
	assert_int_equal(journal_trigger_known(f->j, "u", "folder /x"), 0);
}

/* A journal of version 1 (before backfills) gets their column, and its
 * triggers that ran count as scanned. */
static void
test_migrate_1(void **state)
{
	struct fixture *f = *state;
	char *path, *cause = NULL;
	sqlite3 *db;

	assert_int_equal(add_version(f->j, "t", "old", 1, 1, 1), 1);
	journal_close(f->j);
	xasprintf(&path, "%s/journal.db", f->state);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "DROP INDEX jobs_backfill;"
			     "ALTER TABLE jobs DROP COLUMN backfill;"
			     "DROP TABLE triggers; DROP TABLE backfills;"
			     "PRAGMA user_version = 1;",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	free(path);
	f->j = journal_open(f->state, &cause);
	assert_non_null(f->j);
	assert_int_equal(add_version(f->j, "t", "old", 1, 1, 1), 0);
	assert_int_equal(add_version(f->j, "t", "new", 1, 1, 1), 1);
	assert_int_equal(journal_trigger_known(f->j, "t", "folder /x"), 1);
}

/* A trigger's first scan is kept with its place: elsewhere, it is new. A
 * job recorded as skipped is known to scans, and does not run; an event
 * for it runs it. */
static void
test_triggers(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	struct journal_event e = { "drop", "/srv/drop", "a", "created", 1, 1, 1,
		NULL, JOURNAL_EXISTING_SCAN, NULL };
	struct journal_job *jobs;
	int64_t skipped;
	size_t n;

	assert_int_equal(journal_trigger_known(j, "t", "folder /a"), 0);
	assert_int_equal(journal_trigger_scanned(j, "t", "folder /a", NOW), 0);
	assert_int_equal(journal_trigger_known(j, "t", "folder /a"), 1);
	assert_int_equal(journal_trigger_known(j, "t", "folder /b"), 0);
	assert_int_equal(journal_add(j, &e, "t", JOURNAL_SKIPPED_EXISTING, NOW),
	    1);
	skipped = journal_added(j);
	assert_int_equal(journal_add(j, &e, "t", NULL, NOW), 0);
	assert_int_equal(journal_runnable(j, "t", NOW, 10, &jobs, &n), 0);
	assert_int_equal(n, 0);
	free(jobs);
	/* Another job is added after it. */
	assert_int_equal(add_version(j, "t", "b", 2, 2, 2), 1);
	assert_true(journal_added(j) != skipped);
	/* An event for it (not a scan): it came after all, and runs, as the
	 * job added. */
	e.existing = 0;
	assert_int_equal(journal_add(j, &e, "t", NULL, NOW), 1);
	assert_int_equal(journal_added(j), skipped);
	assert_int_equal(journal_runnable(j, "t", NOW, 10, &jobs, &n), 0);
	assert_int_equal(n, 2);
	journal_job_free(&jobs[0]);
	journal_job_free(&jobs[1]);
	free(jobs);
}

/* Forgotten dead letters leave the count, stay out of retry's reach
 * unless named, and are never taken again. */
static void
test_forget(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	uint64_t waiting, dead;
	int64_t a1, a2, b1;

	add_dead(j, &a1, &a2, &b1);
	assert_int_equal(journal_forget(j, NULL, a1, NOW), 1);
	assert_int_equal(journal_forget(j, NULL, a1, NOW), 0);
	assert_int_equal(journal_counts(j, &waiting, &dead), 0);
	assert_int_equal(dead, 2);
	assert_int_equal(journal_forget(j, "b", a2, NOW), 0);
	assert_int_equal(journal_forget(j, "b", -1, NOW), 1);
	assert_int_equal(journal_counts(j, &waiting, &dead), 0);
	assert_int_equal(dead, 1);
	assert_int_equal(journal_revive(j, NULL, -1, NOW), 1);
	assert_int_equal(only_runnable(j, "a"), a2);
	assert_int_equal(journal_revive(j, "b", -1, NOW), 0);
	assert_int_equal(journal_revive(j, NULL, b1, NOW), 1);
	assert_int_equal(only_runnable(j, "b"), b1);
	assert_int_equal(journal_begin(j), 0); /* known: not queued again */
	assert_int_equal(add_version(j, "a", "1.jpg", 1, 10, 100), 0);
	assert_int_equal(journal_commit(j), 0);
}

/* An attempt ends with its job, however it ends; a job skipped before it
 * ran leaves its earlier attempt as it was. */
static void
test_attempt_ends(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	const char *sql =
	    "SELECT 'open', count(*) FROM attempts WHERE ended IS NULL";
	struct counts c = { 0, 0, 0 };
	int64_t id;

	add(j, "t", "a");
	id = only_runnable(j, "t");
	assert_int_equal(journal_start(j, id, NOW), 1);
	assert_int_equal(journal_skip(j, id, "changed", NOW + 1), 0);
	assert_int_equal(journal_query(j,
			     "SELECT result, count(*) FROM attempts WHERE "
			     "ended IS NOT NULL GROUP BY result",
			     NULL, -1, count_row, &c),
	    0);
	assert_int_equal(c.rows, 1);
	add(j, "t", "b");
	id = only_runnable(j, "t");
	assert_int_equal(journal_start(j, id, NOW), 1);
	assert_int_equal(journal_failed(j, id, 0, NOW, "x", NOW + 2), 0);
	assert_int_equal(journal_skip(j, id, "gone", NOW + 3), 0);
	memset(&c, 0, sizeof c);
	assert_int_equal(journal_query(j, sql, NULL, -1, count_row, &c), 0);
	assert_int_equal(c.jobs, 0);
}

/* A journal of the previous version (no index of outputs by job) gets
 * them when opened, and keeps its rows. */
static void
test_upgrade_indexes(void **state)
{
	struct fixture *f = *state;
	const char *sql = "SELECT name, count(*) FROM sqlite_master WHERE "
			  "name IN ('outputs_job', 's3_outputs_job') "
			  "GROUP BY name";
	struct counts c = { 0, 0, 0 };
	char *cause = NULL;
	struct stat sb;

	add(f->j, "t", "a");
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(journal_begin(f->j), 0);
	assert_int_equal(journal_add_output(f->j, f->state, &sb, 1), 0);
	assert_int_equal(journal_commit(f->j), 0);
	assert_int_equal(journal_query(f->j, "DROP INDEX outputs_job", NULL, -1,
			     count_row, &c),
	    0);
	assert_int_equal(journal_query(f->j, "DROP INDEX s3_outputs_job", NULL,
			     -1, count_row, &c),
	    0);
	assert_int_equal(journal_query(f->j, sql, NULL, -1, count_row, &c), 0);
	assert_int_equal(c.rows, 0);
	journal_close(f->j);
	assert_non_null(f->j = journal_open(f->state, &cause));
	assert_int_equal(journal_query(f->j, sql, NULL, -1, count_row, &c), 0);
	assert_int_equal(c.rows, 2);
	assert_int_equal(journal_is_output(f->j, f->state, &sb), 1);
}

static void
test_query(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	const char *sql = "SELECT state, count(*) FROM jobs GROUP BY state";
	struct counts c = { 0, 0, 0 };
	int64_t a1, a2, b1;

	assert_int_equal(journal_query(j, sql, NULL, -1, count_row, &c), 0);
	assert_int_equal(c.rows, 0);

	add_dead(j, &a1, &a2, &b1);
	add(j, "a", "3.jpg");
	assert_int_equal(journal_revive(j, NULL, a1, NOW), 1);
	assert_int_equal(journal_start(j, a1, NOW), 1);
	assert_int_equal(journal_done(j, a1, NOW), 0);
	assert_int_equal(journal_query(j, sql, NULL, -1, count_row, &c), 0);
	assert_int_equal(c.rows, 3);
	assert_int_equal(c.jobs, 4);
	assert_int_equal(c.dead, 2);
}

/* Reads leave no statement open: after them, another process may write
 * and this connection still writes (objtrigger retry beside the daemon). */
static void
test_reads_release(void **state)
{
	struct fixture *f = *state;
	struct journal *other;
	struct stat sb;
	char *cause = NULL;
	int64_t id;

	add(f->j, "t", "a");
	id = only_runnable(f->j, "t");
	assert_int_equal(journal_start(f->j, id, NOW), 1);
	assert_int_equal(journal_failed(f->j, id, 0, NOW + 500, "x", NOW), 0);
	assert_int_equal(journal_next_due(f->j, NOW), NOW + 500);
	assert_int_equal(stat(f->state, &sb), 0);
	assert_int_equal(journal_add_output(f->j, f->state, &sb, id), 0);
	assert_int_equal(journal_is_output(f->j, f->state, &sb), 1);

	assert_non_null(other = journal_open(f->state, &cause));
	add(other, "t", "b");
	journal_close(other);
	add(f->j, "t", "c");
}

/* The outbox: a message waits until confirmed, once per id; what is
 * taken is in flight and not taken again until put back (a nack, a lost
 * connection, a restart). */
static void
test_outbox(void **state)
{
	struct journal *j = ((struct fixture *)*state)->j;
	struct journal_message *m;
	size_t n, i;
	uint64_t count;

	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(journal_outbox_add(j, "mq", "w", "id1", "{1}", 3, NOW),
	    1);
	assert_int_equal(journal_outbox_add(j, "mq", "w", "id1", "{1}", 3, NOW),
	    0);
	assert_int_equal(journal_outbox_add(j, "mq", "v", "id2", "{2}", 3,
			     NOW + 1),
	    1);
	assert_int_equal(journal_outbox_add(j, "other", "w", "id1", "{1}", 3,
			     NOW),
	    1);
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_outbox_count(j, "mq", &count), 0);
	assert_int_equal(count, 2);

	assert_int_equal(journal_outbox_take(j, "mq", NOW, 10, &m, &n), 0);
	assert_int_equal(n, 1); /* id2 is not due yet */
	assert_string_equal(m[0].message_id, "id1");
	assert_string_equal(m[0].watch, "w");
	assert_int_equal(m[0].len, 3);
	assert_string_equal(m[0].body, "{1}");
	assert_int_equal(m[0].created, NOW);
	assert_int_equal(journal_outbox_later(j, m[0].id, NOW + 5000), 0);
	journal_message_free(&m[0]);
	free(m);
	assert_int_equal(journal_outbox_take(j, "mq", NOW + 10, 10, &m, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].message_id, "id2");
	journal_message_free(&m[0]);
	free(m);
	/* In flight: not taken again, until reset. */
	assert_int_equal(journal_outbox_take(j, "mq", NOW + 10, 10, &m, &n), 0);
	assert_int_equal(n, 0);
	free(m);
	assert_int_equal(journal_outbox_reset(j, "mq", NOW), 0);
	assert_int_equal(journal_outbox_take(j, "mq", NOW + 6000, 10, &m, &n),
	    0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(journal_outbox_confirmed(j, m[i].id), 0);
		journal_message_free(&m[i]);
	}
	free(m);
	assert_int_equal(journal_outbox_count(j, "mq", &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(journal_outbox_count(j, "other", &count), 0);
	assert_int_equal(count, 1);
}

/* A journal of version 2 gets the outbox when opened, and keeps its
 * rows. */
static void
test_upgrade_outbox(void **state)
{
	struct fixture *f = *state;
	char *path, *cause = NULL;
	uint64_t count;
	sqlite3 *db;

	add(f->j, "t", "a");
	journal_close(f->j);
	xasprintf(&path, "%s/journal.db", f->state);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
			     "DROP TABLE outbox; PRAGMA user_version = 2;",
			     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	free(path);
	assert_non_null(f->j = journal_open(f->state, &cause));
	assert_int_equal(add_version(f->j, "t", "a", 1, 10, 100), 0);
	assert_int_equal(journal_outbox_add(f->j, "mq", "w", "id", "{}", 2,
			     NOW),
	    1);
	assert_int_equal(journal_outbox_count(f->j, "mq", &count), 0);
	assert_int_equal(count, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runnable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revive_all, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revive_trigger, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revive_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_ends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_release, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listing_writes_changes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_indexes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migrate_1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_triggers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_outbox, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
