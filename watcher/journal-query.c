/* journal-query.c - what status, retry and forget ask of the journal. */

#include <stdlib.h>
#include <string.h>

#include "journal.h"

/* Changes dead jobs (all, a trigger's, or one by id; id < 0: any) with
 * the statement which; returns how many, or -1. */
static int
journal_dead_letters(struct journal *j, enum journal_stmt which,
    const char *trigger, int64_t id, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, which);

	sqlite3_bind_int64(s, 1, now);
	if (trigger != NULL)
		sqlite3_bind_text(s, 2, trigger, -1, SQLITE_STATIC);
	if (id >= 0)
		sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "dead letters");
	return sqlite3_changes(j->db);
}

/* Puts dead jobs back in line (and a forgotten one named by its id). */
int
journal_revive(struct journal *j, const char *trigger, int64_t id, int64_t now)
{
	return journal_dead_letters(j, J_REVIVE, trigger, id, now);
}

/* Dismisses dead jobs: they stay in the journal as forgotten, out of
 * status and of the dead-letter count. */
int
journal_forget(struct journal *j, const char *trigger, int64_t id, int64_t now)
{
	return journal_dead_letters(j, J_FORGET, trigger, id, now);
}

/* Runs a read-only query for the status command, row by row; ?1 is
 * text (NULL: none), ?2 an id (< 0: none). */
int
journal_query(struct journal *j, const char *sql, const char *text, int64_t id,
    void (*row)(void *, sqlite3_stmt *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(j->db, sql, -1, &s, NULL) != SQLITE_OK)
		return journal_fail_sql(j, "query");
	if (text != NULL)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	if (id >= 0 && sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		row(arg, s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : journal_fail_sql(j, "query");
}

/* How many jobs wait (pending or retrying) and how many are dead. */
int
journal_counts(struct journal *j, uint64_t *waiting, uint64_t *dead)
{
	sqlite3_stmt *s = journal_stmt(j, J_STATES);
	const char *state;
	int rc;

	*waiting = *dead = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(s, 0);
		if (strcmp(state, "dead") == 0)
			*dead = (uint64_t)sqlite3_column_int64(s, 1);
		else
			*waiting += (uint64_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : journal_fail_sql(j, "counts");
}
