/* journal-backfill.c - backfills in the journal: their jobs and progress. */

/*
 * A backfill queues, in the daemon's journal, a job for each object of a
 * trigger's watch that has no finished one for its current version: a
 * new row, or a row that was skipped (existing="skip", or a backfill
 * cancelled) put back in line; with rerun, done and dead ones too. Each
 * job it queues carries its id, so that its progress can be followed and
 * the backfill cancelled. The row's identity is the same as a live
 * event's: a backfill and an event for the same version run it once.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "objtrigger.h"

enum backfill_stmt {
	B_INSERT,
	B_REQUEUE,
	B_NEW,
	B_PROGRESS,
	B_JOBS,
	B_CANCELLED,
	B_COUNT
};

static const char *backfill_sql[B_COUNT] = {
	[B_INSERT] = "INSERT INTO jobs (trigger, watch, folder, key, inode, "
		     "size, mtime, event, etag, created, updated, backfill) "
		     "VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, ?)",
	[B_REQUEUE] = "UPDATE jobs SET state = 'pending', attempts = 0, "
		      "next_at = 0, error = NULL, created = ?1, updated = ?1, "
		      "backfill = ?2 WHERE id = ?3",
	[B_NEW] = "INSERT INTO backfills (trigger, pid, state, started, "
		  "updated) VALUES (?, ?, 'listing', ?, ?)",
	[B_PROGRESS] = "UPDATE backfills SET state = iif(cancel, state, ?), "
		       "seen = ?, queued = ?, already = ?, skipped = ?, "
		       "updated = ? WHERE id = ? RETURNING cancel",
	[B_JOBS] = "SELECT state, count(*) FROM jobs WHERE backfill = ? "
		   "GROUP BY state",
	[B_CANCELLED] = "SELECT cancel FROM backfills WHERE id = ?",
};

#define BACKFILL_BUSY_MS 60000

struct journal_backfill {
	struct journal *j;
	sqlite3_stmt *stmt[B_COUNT];
	int64_t id;
	int rerun, dry;
};

static sqlite3_stmt *
backfill_stmt(struct journal_backfill *b, enum backfill_stmt which)
{
	sqlite3_stmt *s = b->stmt[which];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Starts a backfill of a trigger (dry: one that writes nothing); NULL
 * if the journal failed (reported). */
struct journal_backfill *
journal_backfill_new(struct journal *j, const char *trigger, int rerun, int dry,
    int64_t now)
{
	struct journal_backfill *b = xcalloc(1, sizeof *b);
	sqlite3_stmt *s;
	int i;

	b->j = j;
	/* The daemon's turns may hold the journal often: wait longer for a
	 * turn of our own than it does. */
	sqlite3_busy_timeout(journal_db(j), BACKFILL_BUSY_MS);
	b->rerun = rerun;
	b->dry = dry;
	for (i = 0; i < B_COUNT; i++) {
		if (sqlite3_prepare_v2(journal_db(j), backfill_sql[i], -1,
			&b->stmt[i], NULL) != SQLITE_OK) {
			journal_fail(j, "backfill");
			journal_backfill_free(b);
			return NULL;
		}
	}
	if (dry)
		return b;
	s = backfill_stmt(b, B_NEW);
	sqlite3_bind_text(s, 1, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)getpid());
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, now);
	if (sqlite3_step(s) != SQLITE_DONE) {
		journal_fail(j, "backfill");
		journal_backfill_free(b);
		return NULL;
	}
	b->id = sqlite3_last_insert_rowid(journal_db(j));
	return b;
}

void
journal_backfill_free(struct journal_backfill *b)
{
	int i;

	if (b == NULL)
		return;
	for (i = 0; i < B_COUNT; i++)
		sqlite3_finalize(b->stmt[i]);
	free(b);
}

int64_t
journal_backfill_id(const struct journal_backfill *b)
{
	return b->id;
}

/* Queues an object for the backfill's trigger: BACKFILL_QUEUED if it
 * queued it, BACKFILL_DONE if it ran already (done, dead or forgotten,
 * and not rerun), BACKFILL_WAITING if a job waits or runs for it; -1 on error.
 */
int
journal_backfill_add(struct journal_backfill *b, const struct journal_event *e,
    const char *trigger, int64_t now)
{
	const char *etag = e->etag != NULL ? e->etag : "";
	sqlite3_stmt *s;
	char state[16];
	int64_t id = -1;
	int rc, ran = 0, waiting = 0;

	if ((rc = journal_find(b->j, e, trigger, &id, state, sizeof state)) < 0)
		return -1;
	if (rc == 1) {
		ran = strcmp(state, "done") == 0 ||
		    strcmp(state, "dead") == 0 ||
		    strcmp(state, "forgotten") == 0;
		waiting = !ran && strcmp(state, "skipped") != 0;
	}
	if (waiting)
		return BACKFILL_WAITING;
	if (ran && !b->rerun)
		return BACKFILL_DONE;
	if (b->dry)
		return BACKFILL_QUEUED;
	if (id >= 0) {
		s = backfill_stmt(b, B_REQUEUE);
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int64(s, 2, b->id);
		sqlite3_bind_int64(s, 3, id);
	} else {
		s = backfill_stmt(b, B_INSERT);
		sqlite3_bind_text(s, 1, trigger, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, e->watch, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, e->folder, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, e->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, e->inode);
		sqlite3_bind_int64(s, 6, (int64_t)e->size);
		sqlite3_bind_int64(s, 7, e->mtime);
		sqlite3_bind_text(s, 8, etag, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, now);
		sqlite3_bind_int64(s, 10, now);
		sqlite3_bind_int64(s, 11, b->id);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail(b->j, "backfill");
	return BACKFILL_QUEUED;
}

/* Records how far the backfill went (state: listing, queued, failed);
 * 1 if it was cancelled meanwhile, 0, or -1. */
int
journal_backfill_progress(struct journal_backfill *b, const char *state,
    const struct backfill_counts *c, int64_t now)
{
	sqlite3_stmt *s;
	int rc, cancel = 0;

	if (b->dry)
		return 0;
	s = backfill_stmt(b, B_PROGRESS);
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)c->seen);
	sqlite3_bind_int64(s, 3, (int64_t)c->queued);
	sqlite3_bind_int64(s, 4, (int64_t)c->already);
	sqlite3_bind_int64(s, 5, (int64_t)c->skipped);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, b->id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cancel = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return journal_fail(b->j, "backfill");
	return cancel != 0;
}

/* Whether the backfill was cancelled, without writing: 1, 0, or -1. */
int
journal_backfill_cancelled(struct journal_backfill *b)
{
	sqlite3_stmt *s = backfill_stmt(b, B_CANCELLED);
	int rc, cancel = 0;

	sqlite3_bind_int64(s, 1, b->id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cancel = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_fail(b->j, "backfill");
	return cancel != 0;
}

/* How the jobs the backfill queued stand: waiting (pending, running,
 * retry), done, dead and skipped. */
int
journal_backfill_jobs(struct journal_backfill *b, struct backfill_jobs *out)
{
	sqlite3_stmt *s = backfill_stmt(b, B_JOBS);
	const char *state;
	uint64_t n;
	int rc;

	memset(out, 0, sizeof *out);
	sqlite3_bind_int64(s, 1, b->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(s, 0);
		n = (uint64_t)sqlite3_column_int64(s, 1);
		if (strcmp(state, "done") == 0)
			out->done += n;
		else if (strcmp(state, "dead") == 0 ||
		    strcmp(state, "forgotten") == 0)
			out->dead += n;
		else if (strcmp(state, "skipped") == 0)
			out->skipped += n;
		else
			out->waiting += n;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return journal_fail(b->j, "backfill");
	return 0;
}

/* Cancels a trigger's backfills under way: their jobs that have not
 * started are skipped, and their listings stop at their next page.
 * Returns how many backfills, or -1. */
int
journal_backfill_cancel(struct journal *j, const char *trigger, int64_t now)
{
	static const char cancel[] =
	    "UPDATE backfills SET cancel = 1, state = 'cancelled', "
	    "updated = ?1 WHERE trigger = ?2 AND (state = 'listing' OR "
	    "(state = 'queued' AND EXISTS (SELECT 1 FROM jobs WHERE backfill "
	    "= backfills.id AND state IN ('pending', 'running', 'retry'))))";
	static const char skip[] =
	    "UPDATE jobs SET state = 'skipped', error = 'its backfill was "
	    "cancelled', updated = ?1 WHERE state IN ('pending', 'retry') AND "
	    "backfill IN (SELECT id FROM backfills WHERE trigger = ?2 AND "
	    "state = 'cancelled')";
	const char *sql[] = { "BEGIN IMMEDIATE", cancel, skip, "COMMIT" };
	sqlite3_stmt *s;
	int n = 0, rc;
	size_t i;

	for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		if (sqlite3_prepare_v2(journal_db(j), sql[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			rc = SQLITE_ERROR;
			break;
		}
		if (i == 1 || i == 2) {
			sqlite3_bind_int64(s, 1, now);
			sqlite3_bind_text(s, 2, trigger, -1, SQLITE_STATIC);
		}
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			break;
		if (i == 1)
			n = sqlite3_changes(journal_db(j));
	}
	if (rc != SQLITE_DONE) {
		journal_fail(j, "cancel");
		sqlite3_exec(journal_db(j), "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return n;
}
