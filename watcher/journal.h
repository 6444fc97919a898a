/* journal.h - the journal's state, shared by the journal-*.c files. */

#ifndef JOURNAL_H
#define JOURNAL_H

#include <sqlite3.h>

#include "objtrigger.h"

#define JOURNAL_WAL_MAX 8000 /* frames (pages) in the WAL at most, or so */

/* The prepared statements; their SQL is in journal.c, with the schema. */
enum journal_stmt {
	J_ADD,
	J_RUNNABLE,
	J_START,
	J_STARTED,
	J_ATTEMPT,
	J_DONE,
	J_STATE,
	J_ATTEMPT_END,
	J_NEXT_DUE,
	J_OUTPUT_ADD,
	J_OUTPUT_IS,
	J_REQUEUE,
	J_REVIVE,
	J_FORGET,
	J_S3_OUTPUT_ADD,
	J_S3_OUTPUT_IS,
	J_LISTING_GET,
	J_LISTING_SET,
	J_LISTING_RESET,
	J_LISTED_GET,
	J_LISTED_PUT,
	J_LISTED_GONE,
	J_LISTED_DROP,
	J_SEEN_ADD,
	J_SEEN_RESET,
	J_SEQ_GET,
	J_SEQ_PUT,
	J_STATES,
	J_FIND,
	J_TRIGGER_GET,
	J_TRIGGER_PUT,
	J_OUTBOX_ADD,
	J_OUTBOX_DUE,
	J_OUTBOX_SET,
	J_OUTBOX_DELETE,
	J_OUTBOX_RESET,
	J_OUTBOX_COUNT,
	J_OUTBOX_NEXT,
	J_BEGIN,
	J_COMMIT,
	J_COUNT
};

struct journal_redo;
struct journal {
	sqlite3 *db;
	sqlite3_stmt *stmt[J_COUNT];
	char *path;
	char *failing; /* why the last write failed, until one works */
	int changes; /* sqlite3_total_changes() at BEGIN */
	int in_tx;
	int doomed; /* a write of the transaction failed: it rolls back */
	struct journal_redo *redo; /* of this transaction and failed ones */
	size_t nredo;
	int64_t *started; /* jobs this transaction started */
	size_t nstarted;
	int wal_frames; /* in the WAL after the last commit, if counted */
	int64_t added; /* the job journal_add added or revived last */
	int64_t next_due; /* journal_next_due's answer, while next_due_known */
	int next_due_known; /* until a retry is written, or it is due */
	void (*busy)(void *); /* called while it waits for a lock */
	void *busy_arg;
	uint64_t busy_since;
};

sqlite3_stmt *journal_stmt(struct journal *, enum journal_stmt);
int journal_fail_sql(struct journal *, const char *);
char *journal_column(sqlite3_stmt *, int);

#endif
