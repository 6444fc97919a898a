/* journal.c - the durable journal of events and jobs, on SQLite. */

/*
 * One row per job: a trigger's run on one version of one file. The row's
 * identity (trigger, folder, key, inode, size, mtime, etag, event) is
 * unique (an object's version is its bucket, key, size and ETag; its
 * removal is another event), so an
 * event seen twice, or found again by a rescan, adds nothing, while a file
 * replaced with new content is a new job. The journal is the queue: jobs
 * go pending -> running -> done, or retry (with a time) and dead; a job
 * whose file changed or went away before it ran is skipped. WAL mode
 * with synchronous=NORMAL survives the process being killed at any point;
 * a job found running at start-up is run again. A write that fails fails
 * its whole transaction, and the ends of jobs it held are written again
 * in the next one (journal_redo).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define JOURNAL_BUSY_MS 10000 /* a lock another process holds, waited for */

static const char journal_schema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id INTEGER PRIMARY KEY,"
    " trigger TEXT NOT NULL, watch TEXT NOT NULL,"
    " folder TEXT NOT NULL, key TEXT NOT NULL,"
    " inode INTEGER NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL,"
    " event TEXT NOT NULL, etag TEXT NOT NULL DEFAULT '',"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0," /* since queued or revived */
    " tries INTEGER NOT NULL DEFAULT 0," /* all of them, for history */
    " next_at INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " backfill INTEGER," /* the backfill that queued it, if one did */
    " UNIQUE (trigger, folder, key, inode, size, mtime, etag, event));"
    "CREATE INDEX IF NOT EXISTS jobs_runnable ON jobs (trigger, next_at, id)"
    " WHERE state IN ('pending', 'retry');"
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, updated);"
    /* The next retry's time, asked every turn of the daemon's loop. */
    "CREATE INDEX IF NOT EXISTS jobs_retry ON jobs (next_at)"
    " WHERE state = 'retry';"
    "CREATE TABLE IF NOT EXISTS attempts ("
    " job INTEGER NOT NULL, n INTEGER NOT NULL,"
    " started INTEGER NOT NULL, ended INTEGER, result TEXT, error TEXT,"
    " PRIMARY KEY (job, n));"
    "CREATE TABLE IF NOT EXISTS outputs ("
    " path TEXT PRIMARY KEY, inode INTEGER NOT NULL, size INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, job INTEGER NOT NULL);"
    /* A job's outputs, for objtrigger status ID. */
    "CREATE INDEX IF NOT EXISTS outputs_job ON outputs (job);"
    /* Objects objtrigger put in buckets, so that a watch skips them. */
    "CREATE TABLE IF NOT EXISTS s3_outputs ("
    " store TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,"
    " etag TEXT NOT NULL, job INTEGER NOT NULL,"
    " PRIMARY KEY (store, bucket, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS s3_outputs_job ON s3_outputs (job);"
    /* What each s3-poll watch saw in its last listing: the next one is
     * diffed against it. "where" is the store, bucket and prefix listed:
     * if the config points the watch elsewhere, it starts afresh. */
    "CREATE TABLE IF NOT EXISTS listings ("
    " watch TEXT PRIMARY KEY, place TEXT NOT NULL,"
    " cycle INTEGER NOT NULL, listed INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS listed ("
    " watch TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL,"
    " size INTEGER NOT NULL, cycle INTEGER NOT NULL,"
    " PRIMARY KEY (watch, key)) WITHOUT ROWID;"
    /* A listing marked each key it held with its cycle, in this index;
     * now only what changed is written (journal-listing.c). */
    "DROP INDEX IF EXISTS listed_cycle;"
    /* The newest sequencer each webhook saw for a key: an event with an
     * older one comes late, and is dropped as stale. */
    "CREATE TABLE IF NOT EXISTS sequencers ("
    " watch TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,"
    " seq TEXT NOT NULL,"
    " PRIMARY KEY (watch, bucket, key)) WITHOUT ROWID;"
    /* Triggers that had their first scan of their watch's place: what
     * a scan finds is new to the others (existing="run" or "skip"). */
    "CREATE TABLE IF NOT EXISTS triggers ("
    " name TEXT PRIMARY KEY, place TEXT NOT NULL, since INTEGER NOT NULL);"
    /* Backfills and how far they went, for status and --cancel. */
    "CREATE TABLE IF NOT EXISTS backfills ("
    " id INTEGER PRIMARY KEY, trigger TEXT NOT NULL, pid INTEGER NOT NULL,"
    " state TEXT NOT NULL," /* listing, queued, cancelled, failed */
    " seen INTEGER NOT NULL DEFAULT 0, queued INTEGER NOT NULL DEFAULT 0,"
    " already INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
    " cancel INTEGER NOT NULL DEFAULT 0,"
    " started INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS jobs_backfill ON jobs (backfill, state)"
    " WHERE backfill IS NOT NULL;"
    /* Version 3 (an older journal gets it as it is opened): the events
     * of watches that publish to a broker, each kept until the broker
     * confirms it. next_at: when it may be sent
     * (again); OUTBOX_IN_FLIGHT while it is sent and not confirmed. */
    "CREATE TABLE IF NOT EXISTS outbox ("
    " id INTEGER PRIMARY KEY, broker TEXT NOT NULL, watch TEXT NOT NULL,"
    " message_id TEXT NOT NULL, body BLOB NOT NULL,"
    " created INTEGER NOT NULL, next_at INTEGER NOT NULL,"
    " UNIQUE (broker, message_id));"
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (broker, next_at, id);"
    "PRAGMA user_version = 3;";

/* The connection's own: the keys a listing cycle of each watch saw so
 * far (journal-listing.c). */
static const char journal_temp_schema[] =
    "CREATE TEMP TABLE listing_seen ("
    " watch TEXT NOT NULL, key TEXT NOT NULL,"
    " PRIMARY KEY (watch, key)) WITHOUT ROWID;";

/* A journal of version 1 gets the backfill column; its triggers that ran
 * had their first scan (anywhere: place ""). */
static const char journal_migrate_1[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE jobs ADD COLUMN backfill INTEGER;";
static const char journal_migrate_triggers[] =
    "INSERT OR IGNORE INTO triggers (name, place, since)"
    " SELECT trigger, '', min(created) FROM jobs GROUP BY trigger;"
    "COMMIT;";

/* A journal from before objects (user_version 0) gets the etag column in
 * its jobs' identity: the table is copied, since SQLite cannot change a
 * UNIQUE constraint in place. */
static const char journal_migrate_0[] = "BEGIN IMMEDIATE;"
					"DROP INDEX IF EXISTS jobs_runnable;"
					"DROP INDEX IF EXISTS jobs_state;"
					"ALTER TABLE jobs RENAME TO jobs_0;";
static const char journal_migrate_0_copy[] =
    "INSERT INTO jobs (id, trigger, watch, folder, key, inode, size, mtime,"
    " event, state, attempts, tries, next_at, error, created, updated)"
    " SELECT id, trigger, watch, folder, key, inode, size, mtime, event,"
    " state, attempts, tries, next_at, error, created, updated FROM jobs_0;"
    "DROP TABLE jobs_0;";

static const char *journal_sql[J_COUNT] = {
	/* An event (not a scan) revives a job skipped as existing: the
	 * object came after all (an upload during the first listing). */
	[J_ADD] =
	    "INSERT INTO jobs (trigger, watch, folder, key, inode, size, "
	    "mtime, event, created, updated, etag, state, error) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (trigger, folder, key, inode, size, mtime, etag, "
	    "event) DO UPDATE SET state = 'pending', error = NULL, "
	    "attempts = 0, next_at = 0, updated = excluded.updated "
	    "WHERE ?14 AND excluded.state = 'pending' AND "
	    "jobs.state = 'skipped' AND jobs.error = ?15",
	[J_RUNNABLE] =
	    "SELECT id, watch, folder, key, size, event, attempts, inode, "
	    "mtime, created, etag "
	    "FROM jobs WHERE trigger = ? AND state IN ('pending', 'retry') "
	    "AND next_at <= ? ORDER BY next_at, id LIMIT ?",
	/* Not with RETURNING, which fills a temporary table each time. */
	[J_START] =
	    "UPDATE jobs SET state = 'running', attempts = attempts + 1,"
	    " tries = tries + 1, updated = ? WHERE id = ?",
	[J_STARTED] = "SELECT attempts, tries FROM jobs WHERE id = ?",
	[J_ATTEMPT] = "INSERT INTO attempts (job, n, started) "
		      "VALUES (?, ?, ?)",
	[J_DONE] = "UPDATE jobs SET state = 'done', error = NULL, updated = ? "
		   "WHERE id = ?",
	[J_STATE] = "UPDATE jobs SET state = ?, next_at = ?, error = ?, "
		    "updated = ? WHERE id = ?",
	/* Only a running job has an attempt open (one skipped before it
	 * started has not; one the daemon's stop interrupted stays open). */
	[J_ATTEMPT_END] =
	    "UPDATE attempts SET ended = ?1, result = ?2, error = ?3 "
	    "WHERE job = ?4 AND n = (SELECT tries FROM jobs WHERE id = ?4 "
	    "AND state = 'running')",
	[J_NEXT_DUE] = "SELECT min(next_at) FROM jobs INDEXED BY jobs_retry "
		       "WHERE state = 'retry' AND next_at > ?",
	[J_OUTPUT_ADD] = "INSERT OR REPLACE INTO outputs (path, inode, size, "
			 "mtime, job) VALUES (?, ?, ?, ?, ?)",
	[J_OUTPUT_IS] = "SELECT 1 FROM outputs WHERE path = ? AND inode = ? "
			"AND size = ? AND mtime = ?",
	[J_REQUEUE] = "UPDATE jobs SET state = 'pending', next_at = 0 "
		      "WHERE state = 'running'",
	/* A forgotten job comes back when it is named. */
	[J_REVIVE] = "UPDATE jobs SET state = 'pending', attempts = 0, "
		     "next_at = 0, updated = ?1 WHERE (state = 'dead' OR "
		     "(state = 'forgotten' AND ?3 IS NOT NULL)) AND "
		     "(?2 IS NULL OR trigger = ?2) AND (?3 IS NULL OR id = ?3)",
	[J_FORGET] = "UPDATE jobs SET state = 'forgotten', updated = ?1 "
		     "WHERE state = 'dead' AND (?2 IS NULL OR trigger = ?2) "
		     "AND (?3 IS NULL OR id = ?3)",
	[J_S3_OUTPUT_ADD] = "INSERT OR REPLACE INTO s3_outputs (store, bucket, "
			    "key, etag, job) VALUES (?, ?, ?, ?, ?)",
	[J_S3_OUTPUT_IS] = "SELECT 1 FROM s3_outputs WHERE store = ? AND "
			   "bucket = ? AND key = ? AND etag = ?",
	[J_LISTING_GET] = "SELECT place, cycle, listed FROM listings "
			  "WHERE watch = ?",
	[J_LISTING_SET] = "INSERT OR REPLACE INTO listings (watch, place, "
			  "cycle, listed) VALUES (?, ?, ?, ?)",
	[J_LISTING_RESET] = "DELETE FROM listed WHERE watch = ?",
	[J_LISTED_GET] = "SELECT etag FROM listed WHERE watch = ? AND key = ?",
	[J_LISTED_PUT] = "INSERT OR REPLACE INTO listed (watch, key, etag, "
			 "size, cycle) VALUES (?, ?, ?, ?, ?)",
	[J_LISTED_GONE] = "SELECT key, etag, size FROM listed WHERE watch = ?1 "
			  "AND NOT EXISTS (SELECT 1 FROM temp.listing_seen s "
			  "WHERE s.watch = ?1 AND s.key = listed.key)",
	[J_LISTED_DROP] = "DELETE FROM listed WHERE watch = ?1 AND NOT EXISTS "
			  "(SELECT 1 FROM temp.listing_seen s WHERE "
			  "s.watch = ?1 AND s.key = listed.key)",
	[J_SEEN_ADD] = "INSERT OR IGNORE INTO temp.listing_seen (watch, key) "
		       "VALUES (?, ?)",
	[J_SEEN_RESET] = "DELETE FROM temp.listing_seen WHERE watch = ?",
	[J_SEQ_GET] = "SELECT seq FROM sequencers WHERE watch = ? AND "
		      "bucket = ? AND key = ?",
	[J_SEQ_PUT] = "INSERT OR REPLACE INTO sequencers (watch, bucket, key, "
		      "seq) VALUES (?, ?, ?, ?)",
	[J_FIND] =
	    "SELECT id, state FROM jobs WHERE trigger = ? AND folder = ? "
	    "AND key = ? AND inode = ? AND size = ? AND mtime = ? AND "
	    "etag = ? AND event = ?",
	[J_STATES] = "SELECT state, count(*) FROM jobs WHERE state IN "
		     "('pending', 'retry', 'dead') GROUP BY state",
	[J_TRIGGER_GET] = "SELECT place FROM triggers WHERE name = ?",
	[J_TRIGGER_PUT] = "INSERT OR REPLACE INTO triggers (name, place, "
			  "since) VALUES (?, ?, ?)",
	[J_OUTBOX_ADD] = "INSERT OR IGNORE INTO outbox (broker, watch, "
			 "message_id, body, created, next_at) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
	[J_OUTBOX_DUE] = "SELECT id, watch, message_id, body, created "
			 "FROM outbox WHERE broker = ? AND next_at <= ? "
			 "ORDER BY next_at, id LIMIT ?",
	[J_OUTBOX_SET] = "UPDATE outbox SET next_at = ? WHERE id = ?",
	[J_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?",
	[J_OUTBOX_RESET] = "UPDATE outbox SET next_at = ?1 WHERE broker = ?2 "
			   "AND next_at = ?3",
	[J_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE broker = ?",
	/* Prepared once, as every turn has one of each. */
	[J_BEGIN] = "BEGIN IMMEDIATE",
	[J_COMMIT] = "COMMIT",
	[J_OUTBOX_NEXT] = "SELECT min(next_at) FROM outbox WHERE broker = ?1 "
			  "AND next_at > ?2 AND next_at < ?3",
};

/*
 * How a job ended (or an output it made), kept until the transaction that
 * wrote it is committed: if that commit fails (a full disk), the next
 * transaction writes it again first, so the end is recorded as soon as
 * the journal takes writes, without a restart.
 */
enum journal_redo_kind {
	REDO_DONE,
	REDO_SKIP,
	REDO_FAILED,
	REDO_OUTPUT,
	REDO_S3_OUTPUT
};
struct journal_redo {
	enum journal_redo_kind kind;
	int64_t id, next_at, now;
	int dead;
	char *text; /* why, error or path */
	struct stat sb; /* REDO_OUTPUT */
	char *store, *bucket, *key, *etag; /* REDO_S3_OUTPUT */
};

/* Reports a failed SQLite call once, with the journal's path. */
int
journal_fail_sql(struct journal *j, const char *what)
{
	j->doomed = j->in_tx;
	log_error("journal %s: %s: %s", j->path, what, sqlite3_errmsg(j->db));
	free(j->failing);
	xasprintf(&j->failing, "%s: %s: %s", j->path, what,
	    sqlite3_errmsg(j->db));
	return -1;
}

/* A statement ready to bind. Every statement is reset after its rows are
 * read: one left open would hold a read transaction on
 * an old snapshot, and every later write of this connection would fail
 * once another process (objtrigger retry) had written. */
sqlite3_stmt *
journal_stmt(struct journal *j, enum journal_stmt which)
{
	sqlite3_stmt *s = j->stmt[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Brings a journal of an older objtrigger to this one's schema. */
static int
journal_migrate(struct journal *j, char **err)
{
	sqlite3_stmt *s;
	int version = 0, old = 0;

	if (sqlite3_prepare_v2(j->db,
		"SELECT (SELECT user_version FROM pragma_user_version), "
		"EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'jobs')",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		version = sqlite3_column_int(s, 0);
		old = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	if (version > 1 || !old)
		return 0;
	if (sqlite3_exec(j->db,
		version == 0 ? journal_migrate_0 : journal_migrate_1, NULL,
		NULL, err) != SQLITE_OK ||
	    sqlite3_exec(j->db, journal_schema, NULL, NULL, err) != SQLITE_OK ||
	    (version == 0 &&
		sqlite3_exec(j->db, journal_migrate_0_copy, NULL, NULL, err) !=
		    SQLITE_OK) ||
	    sqlite3_exec(j->db, journal_migrate_triggers, NULL, NULL, err) !=
		SQLITE_OK) {
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	log_info("journal %s: brought up to this version", j->path);
	return 0;
}

/* Opens (creating) STATE/journal.db; NULL with *cause. */
struct journal *
journal_open(const char *state, char **cause)
{
	struct journal *j = xcalloc(1, sizeof *j);
	char *err = NULL;
	int i;

	if (mkdir(state, 0700) != 0 && errno != EEXIST) {
		xasprintf(cause, "cannot make the state folder %s: %s", state,
		    strerror(errno));
		free(j);
		return NULL;
	}
	xasprintf(&j->path, "%s/journal.db", state);
	/* Nothing reads SQLite's memory statistics, and keeping them takes
	 * a lock at each of its allocations; set before SQLite starts (the
	 * first open), it is refused, harmlessly, after. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(j->path, &j->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(j->db, JOURNAL_BUSY_MS);
	if (sqlite3_exec(j->db,
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"PRAGMA journal_size_limit=4194304;", /* the WAL, once reset */
		NULL, NULL, &err) != SQLITE_OK ||
	    journal_migrate(j, &err) != 0 ||
	    sqlite3_exec(j->db, journal_schema, NULL, NULL, &err) !=
		SQLITE_OK ||
	    sqlite3_exec(j->db, journal_temp_schema, NULL, NULL, &err) !=
		SQLITE_OK)
		goto fail;
	for (i = 0; i < J_COUNT; i++) {
		if (sqlite3_prepare_v3(j->db, journal_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &j->stmt[i],
			NULL) != SQLITE_OK)
			goto fail;
	}
	return j;
fail:
	xasprintf(cause, "journal %s: %s", j->path,
	    err != NULL       ? err :
		j->db != NULL ? sqlite3_errmsg(j->db) :
				"cannot open");
	sqlite3_free(err);
	journal_close(j);
	return NULL;
}

static int journal_apply(struct journal *, const struct journal_redo *);

static void
journal_redo_free(struct journal_redo *r)
{
	free(r->text);
	free(r->store);
	free(r->bucket);
	free(r->key);
	free(r->etag);
}

void
journal_close(struct journal *j)
{
	size_t k;
	int i;

	if (j == NULL)
		return;
	for (i = 0; i < J_COUNT; i++)
		sqlite3_finalize(j->stmt[i]);
	for (k = 0; k < j->nredo; k++)
		journal_redo_free(&j->redo[k]);
	free(j->redo);
	free(j->started);
	sqlite3_close(j->db);
	free(j->path);
	free(j->failing);
	free(j);
}

/* SQLite's busy handler with a hook: waits for a lock another process
 * holds, at most JOURNAL_BUSY_MS, calling the hook every few ms. */
static int
journal_busy(void *arg, int count)
{
	struct journal *j = arg;

	if (count == 0)
		j->busy_since = now_ms();
	if (now_ms() - j->busy_since >= JOURNAL_BUSY_MS)
		return 0;
	j->busy(j->busy_arg);
	usleep(count < 10 ? 1000 : 10000);
	return 1;
}

/* While the journal waits for a lock, hook(arg) is called every few ms:
 * the daemon's loop keeps its brokers' connections alive. */
void
journal_busy_hook(struct journal *j, void (*hook)(void *), void *arg)
{
	j->busy = hook;
	j->busy_arg = arg;
	sqlite3_busy_handler(j->db, journal_busy, j);
}

/* Begins a transaction, and writes again first the ends that failed
 * commits lost. */
int
journal_begin(struct journal *j)
{
	size_t i;

	if (sqlite3_step(journal_stmt(j, J_BEGIN)) != SQLITE_DONE)
		return journal_fail_sql(j, "begin");
	j->changes = sqlite3_total_changes(j->db);
	j->in_tx = 1;
	j->doomed = 0;
	for (i = 0; i < j->nredo; i++)
		journal_apply(j, &j->redo[i]);
	return 0;
}

/* Why the journal's last write failed, if no write worked since. */
const char *
journal_failing(const struct journal *j)
{
	return j->failing;
}

/* Whether ends of jobs wait for a commit that works. */
int
journal_pending(const struct journal *j)
{
	return j->nredo > 0 && !j->in_tx;
}

/* After a failed commit: the ends are kept for the next transaction, but
 * for the jobs it started, whose rows went with it (their ids may be
 * given again): those run again. */
static void
journal_keep_redo(struct journal *j)
{
	size_t i, k, kept = 0;

	for (i = 0; i < j->nredo; i++) {
		for (k = 0; k < j->nstarted; k++) {
			if (j->started[k] == j->redo[i].id)
				break;
		}
		if (k < j->nstarted)
			journal_redo_free(&j->redo[i]);
		else
			j->redo[kept++] = j->redo[i];
	}
	j->nredo = kept;
}

int
journal_commit(struct journal *j)
{
	size_t i;
	int rc = 0;

	if (j->doomed ||
	    sqlite3_step(journal_stmt(j, J_COMMIT)) != SQLITE_DONE) {
		if (!j->doomed)
			journal_fail_sql(j, "commit");
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
		journal_keep_redo(j);
		rc = -1;
	} else {
		if (sqlite3_total_changes(j->db) != j->changes) { /* it wrote */
			free(j->failing);
			j->failing = NULL;
		}
		for (i = 0; i < j->nredo; i++)
			journal_redo_free(&j->redo[i]);
		j->nredo = 0;
	}
	j->in_tx = j->doomed = 0;
	j->nstarted = 0;
	/* Between transactions, a checkpoint catches up: the next one
	 * writes the WAL from its start again. */
	if (j->wal_frames > JOURNAL_WAL_MAX)
		sqlite3_wal_checkpoint_v2(j->db, NULL,
		    SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	return rc;
}

static int
journal_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct journal *)arg)->wal_frames = frames;
	return SQLITE_OK;
}

/* Makes no checkpoint at commits (SQLite's default), but counts the WAL's
 * frames after each, for journal_wal_frames: the daemon checkpoints
 * beside its loop (syncer.c), and journal_commit only when the WAL has
 * grown past JOURNAL_WAL_MAX frames all the same. */
void
journal_count_frames(struct journal *j)
{
	sqlite3_wal_hook(j->db, journal_wal_hook, j);
}

/* The frames in the WAL after the last commit (journal_count_frames). */
int
journal_wal_frames(const struct journal *j)
{
	return j->wal_frames;
}

/* The database's path (its WAL is PATH-wal). */
const char *
journal_path(const struct journal *j)
{
	return j->path;
}

/* Records a job for an event; 1 if new (or revived: journal_added says
 * which), 0 if it was known, -1 on error. With a reason, the job is
 * recorded as skipped, not run. */
int
journal_add(struct journal *j, const struct journal_event *e,
    const char *trigger, const char *skipped, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_ADD);
	int64_t last = sqlite3_last_insert_rowid(j->db);
	char state[16];

	sqlite3_bind_text(s, 1, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, e->folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, e->inode);
	sqlite3_bind_int64(s, 6, (int64_t)e->size);
	sqlite3_bind_int64(s, 7, e->mtime);
	sqlite3_bind_text(s, 8, e->event, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, now);
	sqlite3_bind_int64(s, 10, now);
	sqlite3_bind_text(s, 11, e->etag != NULL ? e->etag : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 12, skipped != NULL ? "skipped" : "pending", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 13, skipped, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 14, e->existing == 0);
	sqlite3_bind_text(s, 15, JOURNAL_SKIPPED_EXISTING, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "add");
	if (sqlite3_changes(j->db) == 0)
		return 0;
	/* A revival (the upsert's update) leaves the last rowid as it was. */
	j->added = sqlite3_last_insert_rowid(j->db);
	if (j->added == last &&
	    journal_find(j, e, trigger, &j->added, state, sizeof state) < 0)
		return -1;
	return 1;
}

/* The id of the job journal_add added or revived last. */
int64_t
journal_added(const struct journal *j)
{
	return j->added;
}

/* The job a trigger has for an event: its id and state ("pending",
 * "running", "retry", "done", "skipped", "dead", ...); 1 found, 0 none,
 * -1 on error. */
int
journal_find(struct journal *j, const struct journal_event *e,
    const char *trigger, int64_t *id, char *state, size_t size)
{
	sqlite3_stmt *s = journal_stmt(j, J_FIND);
	int rc;

	sqlite3_bind_text(s, 1, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->folder, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, e->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, e->inode);
	sqlite3_bind_int64(s, 5, (int64_t)e->size);
	sqlite3_bind_int64(s, 6, e->mtime);
	sqlite3_bind_text(s, 7, e->etag != NULL ? e->etag : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 8, e->event, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		snprintf(state, size, "%s", sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_fail_sql(j, "find");
	return rc == SQLITE_ROW;
}

/* Puts the jobs that were running when the daemon stopped back in line. */
int
journal_requeue(struct journal *j)
{
	if (sqlite3_step(journal_stmt(j, J_REQUEUE)) != SQLITE_DONE)
		return journal_fail_sql(j, "requeue");
	return sqlite3_changes(j->db);
}

/* Column i of a row, as a string ("" for NULL), allocated. */
char *
journal_column(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return xstrdup(t != NULL ? (const char *)t : "");
}

/* Up to limit jobs of a trigger that may run at now; *out is allocated. */
int
journal_runnable(struct journal *j, const char *trigger, int64_t now,
    unsigned limit, struct journal_job **out, size_t *n)
{
	sqlite3_stmt *s = journal_stmt(j, J_RUNNABLE);
	struct journal_job *job;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_text(s, 1, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, (int)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		job = &(*out)[(*n)++];
		job->id = sqlite3_column_int64(s, 0);
		job->trigger = xstrdup(trigger);
		job->watch = journal_column(s, 1);
		job->folder = journal_column(s, 2);
		job->key = journal_column(s, 3);
		job->size = (uint64_t)sqlite3_column_int64(s, 4);
		job->event = journal_column(s, 5);
		job->attempts = (unsigned)sqlite3_column_int(s, 6);
		job->inode = sqlite3_column_int64(s, 7);
		job->mtime = sqlite3_column_int64(s, 8);
		job->created = sqlite3_column_int64(s, 9);
		job->etag = journal_column(s, 10);
	}
	if (rc != SQLITE_DONE)
		return journal_fail_sql(j, "runnable");
	return 0;
}

void
journal_job_free(struct journal_job *job)
{
	free(job->trigger);
	free(job->watch);
	free(job->folder);
	free(job->key);
	free(job->event);
	free(job->etag);
}

/* Marks a job running and opens its next attempt; returns the attempt's
 * number, or -1. */
int
journal_start(struct journal *j, int64_t id, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_START);
	int n, tries;

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "start");
	s = journal_stmt(j, J_STARTED);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return journal_fail_sql(j, "start");
	n = sqlite3_column_int(s, 0);
	tries = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	s = journal_stmt(j, J_ATTEMPT);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, tries);
	sqlite3_bind_int64(s, 3, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "attempt");
	j->started =
	    xreallocarray(j->started, j->nstarted + 1, sizeof *j->started);
	j->started[j->nstarted++] = id;
	return n;
}

static int
journal_end_attempt(struct journal *j, int64_t id, const char *result,
    const char *error, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_ATTEMPT_END);

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "attempt end");
	return 0;
}

static int
journal_write_done(struct journal *j, int64_t id, int64_t now)
{
	sqlite3_stmt *s;

	if (journal_end_attempt(j, id, "done", NULL, now) != 0)
		return -1;
	s = journal_stmt(j, J_DONE);
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "done");
	return 0;
}

/* Sets a job's state, with the time it may run again and why. */
static int
journal_set_state(struct journal *j, int64_t id, const char *state,
    int64_t next_at, const char *why, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_STATE);

	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, next_at);
	sqlite3_bind_text(s, 3, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, state);
	return 0;
}

static int
journal_write_failed(struct journal *j, int64_t id, int dead, int64_t next_at,
    const char *error, int64_t now)
{
	const char *state = dead ? "dead" : "retry";

	if (!dead)
		j->next_due_known = 0;
	if (journal_end_attempt(j, id, state, error, now) != 0)
		return -1;
	return journal_set_state(j, id, state, next_at, error, now);
}

/* The earliest time after now a retry is due, or -1 if none waits. It
 * is asked on every turn of the daemon's loop, so the answer is kept
 * until a retry is written or that time comes: it may then name the time
 * of a retry that started since, and the loop wakes up for nothing. */
int64_t
journal_next_due(struct journal *j, int64_t now)
{
	sqlite3_stmt *s;
	int64_t due = -1;

	if (j->next_due_known && (j->next_due < 0 || j->next_due > now))
		return j->next_due; /* only this process writes retries */
	s = journal_stmt(j, J_NEXT_DUE);
	sqlite3_bind_int64(s, 1, now);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		due = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	j->next_due = due;
	j->next_due_known = 1;
	return due;
}

int64_t
stat_mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

static int
journal_write_output(struct journal *j, const char *path, const struct stat *sb,
    int64_t job)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTPUT_ADD);

	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)sb->st_ino);
	sqlite3_bind_int64(s, 3, (int64_t)sb->st_size);
	sqlite3_bind_int64(s, 4, stat_mtime_ns(sb));
	sqlite3_bind_int64(s, 5, job);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "output");
	return 0;
}

/* Whether objtrigger itself wrote this version of this file. */
int
journal_is_output(struct journal *j, const char *path, const struct stat *sb)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTPUT_IS);
	int found;

	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)sb->st_ino);
	sqlite3_bind_int64(s, 3, (int64_t)sb->st_size);
	sqlite3_bind_int64(s, 4, stat_mtime_ns(sb));
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

static int
journal_write_s3_output(struct journal *j, const char *store,
    const char *bucket, const char *key, const char *etag, int64_t job)
{
	sqlite3_stmt *s = journal_stmt(j, J_S3_OUTPUT_ADD);

	sqlite3_bind_text(s, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, etag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, job);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "s3 output");
	return 0;
}

static int
journal_apply(struct journal *j, const struct journal_redo *r)
{
	switch (r->kind) {
	case REDO_DONE:
		return journal_write_done(j, r->id, r->now);
	case REDO_SKIP:
		if (journal_end_attempt(j, r->id, "skipped", r->text, r->now) !=
		    0)
			return -1;
		return journal_set_state(j, r->id, "skipped", 0, r->text,
		    r->now);
	case REDO_FAILED:
		return journal_write_failed(j, r->id, r->dead, r->next_at,
		    r->text, r->now);
	case REDO_OUTPUT:
		return journal_write_output(j, r->text, &r->sb, r->id);
	default:
		return journal_write_s3_output(j, r->store, r->bucket, r->key,
		    r->etag, r->id);
	}
}

/* Writes r, and keeps it (and its strings) until the commit. */
static int
journal_record(struct journal *j, const struct journal_redo *r)
{
	j->redo = xreallocarray(j->redo, j->nredo + 1, sizeof *j->redo);
	j->redo[j->nredo++] = *r;
	return journal_apply(j, r);
}

/* Ends a job's attempt: done. */
int
journal_done(struct journal *j, int64_t id, int64_t now)
{
	struct journal_redo r = { .kind = REDO_DONE, .id = id, .now = now };

	return journal_record(j, &r);
}

/* Ends a job without running it: its file changed or went away since it
 * was queued (a newer version has its own job). */
int
journal_skip(struct journal *j, int64_t id, const char *why, int64_t now)
{
	struct journal_redo r = { .kind = REDO_SKIP,
		.id = id,
		.now = now,
		.text = xstrdup(why) };

	return journal_record(j, &r);
}

/* Ends a job's attempt in failure: to retry at next_at, or dead. */
int
journal_failed(struct journal *j, int64_t id, int dead, int64_t next_at,
    const char *error, int64_t now)
{
	struct journal_redo r = { .kind = REDO_FAILED,
		.id = id,
		.now = now,
		.dead = dead,
		.next_at = next_at,
		.text = error != NULL ? xstrdup(error) : NULL };

	return journal_record(j, &r);
}

/* Remembers a file objtrigger wrote, so that a watch skips it. */
int
journal_add_output(struct journal *j, const char *path, const struct stat *sb,
    int64_t job)
{
	struct journal_redo r = { .kind = REDO_OUTPUT,
		.id = job,
		.text = xstrdup(path),
		.sb = *sb };

	return journal_record(j, &r);
}

/* Remembers an object objtrigger put, so that a watch skips it. */
int
journal_add_s3_output(struct journal *j, const char *store, const char *bucket,
    const char *key, const char *etag, int64_t job)
{
	struct journal_redo r = { .kind = REDO_S3_OUTPUT,
		.id = job,
		.store = xstrdup(store),
		.bucket = xstrdup(bucket),
		.key = xstrdup(key),
		.etag = xstrdup(etag) };

	return journal_record(j, &r);
}

/* Whether objtrigger itself put this version of this object. */
int
journal_is_s3_output(struct journal *j, const char *store, const char *bucket,
    const char *key, const char *etag)
{
	sqlite3_stmt *s = journal_stmt(j, J_S3_OUTPUT_IS);
	int found;

	sqlite3_bind_text(s, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, etag, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return found;
}

/* The SQLite handle, for journal-backfill.c. */
struct sqlite3 *
journal_db(struct journal *j)
{
	return j->db;
}

/* Reports a failed SQLite call of journal-backfill.c; -1. */
int
journal_fail(struct journal *j, const char *what)
{
	return journal_fail_sql(j, what);
}
