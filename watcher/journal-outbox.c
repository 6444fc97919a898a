/* journal-outbox.c - the events a publishing watch keeps until confirmed. */

/*
 * A watch that publishes to a broker puts each event in the outbox, in the
 * transaction that takes it; the broker's sink sends the rows due, marks
 * them in flight, and deletes each once the broker confirms it. A nack, a
 * return or a lost connection makes it due again later.
 */

#include <stdlib.h>
#include <string.h>

#include "journal.h"

/* An outbox row's next_at while it is sent and not confirmed. */
#define OUTBOX_IN_FLIGHT INT64_MAX

/* Puts an event's message into the outbox of a broker; 1 if new, 0 if
 * a message of that id waits there already, -1 on error. */
int
journal_outbox_add(struct journal *j, const char *broker, const char *watch,
    const char *message_id, const char *body, size_t len, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_ADD);

	sqlite3_bind_text(s, 1, broker, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "outbox");
	return sqlite3_changes(j->db) > 0;
}

/* Up to limit messages of a broker that may be sent at now, oldest
 * first, each marked in flight; *out is allocated. */
int
journal_outbox_take(struct journal *j, const char *broker, int64_t now,
    unsigned limit, struct journal_message **out, size_t *n)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_DUE);
	struct journal_message *m;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_text(s, 1, broker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int(s, 3, (int)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		m = &(*out)[(*n)++];
		m->id = sqlite3_column_int64(s, 0);
		m->watch = journal_column(s, 1);
		m->message_id = journal_column(s, 2);
		m->len = (size_t)sqlite3_column_bytes(s, 3);
		m->body = xmalloc(m->len + 1);
		if (m->len > 0)
			memcpy(m->body, sqlite3_column_blob(s, 3), m->len);
		m->body[m->len] = '\0';
		m->created = sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return journal_fail_sql(j, "outbox");
	for (i = 0; i < *n; i++) {
		if (journal_outbox_later(j, (*out)[i].id, OUTBOX_IN_FLIGHT) !=
		    0)
			return -1;
	}
	return 0;
}

void
journal_message_free(struct journal_message *m)
{
	free(m->watch);
	free(m->message_id);
	free(m->body);
}

/* A message is to be sent again at at (a nack, a return). */
int
journal_outbox_later(struct journal *j, int64_t id, int64_t at)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_SET);

	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_int64(s, 2, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "outbox");
	return 0;
}

/* The broker confirmed a message: it leaves the outbox. */
int
journal_outbox_confirmed(struct journal *j, int64_t id)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_DELETE);

	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "outbox");
	return 0;
}

/* The messages of a broker that were in flight (a connection that went
 * away, a daemon that stopped) may be sent again at at. */
int
journal_outbox_reset(struct journal *j, const char *broker, int64_t at)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_RESET);

	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, broker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, OUTBOX_IN_FLIGHT);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "outbox");
	return 0;
}

/* When the next message put off is due (after now), 0 if none is. */
int64_t
journal_outbox_next(struct journal *j, const char *broker, int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_NEXT);
	int64_t next = 0;

	sqlite3_bind_text(s, 1, broker, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, OUTBOX_IN_FLIGHT);
	if (sqlite3_step(s) == SQLITE_ROW)
		next = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return next;
}

/* How many messages wait in a broker's outbox (in flight included). */
int
journal_outbox_count(struct journal *j, const char *broker, uint64_t *n)
{
	sqlite3_stmt *s = journal_stmt(j, J_OUTBOX_COUNT);
	int rc;

	sqlite3_bind_text(s, 1, broker, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : journal_fail_sql(j, "outbox");
}
