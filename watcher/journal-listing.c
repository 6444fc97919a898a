/* journal-listing.c - what bucket listings, webhooks and scans saw. */

/*
 * A bucket watch's listing is diffed against the last one (listings,
 * listed); a webhook's events are ordered by their sequencers; a trigger
 * remembers the place of its first scan (existing=).
 *
 * Only what changed between two listings is written to the journal: the
 * keys a cycle saw are kept in a temporary table of the connection
 * (listing_seen, in memory or an unsynced file, never in the WAL), and
 * what listed holds that the cycle did not see is gone when it ends. So
 * a bucket of a million unchanged objects, listed every few seconds,
 * writes nothing.
 */

#include <stdlib.h>
#include <string.h>

#include "journal.h"

static int
journal_listing_set(struct journal *j, const char *watch, const char *where,
    int64_t cycle, int listed)
{
	sqlite3_stmt *s = journal_stmt(j, J_LISTING_SET);

	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, where, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, cycle);
	sqlite3_bind_int(s, 4, listed);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "listing");
	return 0;
}

/* Starts a watch's listing cycle: its number, and whether a listing of the
 * same place ever ended (if not, the diff has nothing to go by). */
int
journal_listing_start(struct journal *j, const char *watch, const char *where,
    int64_t *cycle, int *listed)
{
	sqlite3_stmt *s = journal_stmt(j, J_LISTING_GET);
	const unsigned char *place;
	int same = 0;

	*cycle = 1;
	*listed = 0;
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		place = sqlite3_column_text(s, 0);
		same = place != NULL && strcmp((const char *)place, where) == 0;
		*cycle = sqlite3_column_int64(s, 1) + 1;
		*listed = same && sqlite3_column_int(s, 2);
	}
	sqlite3_reset(s);
	if (!same) {
		s = journal_stmt(j, J_LISTING_RESET);
		sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			return journal_fail_sql(j, "listing reset");
	}
	s = journal_stmt(j, J_SEEN_RESET);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "listing");
	return journal_listing_set(j, watch, where, *cycle, *listed);
}

/* Ends a cycle whose listing went to its last page. */
int
journal_listing_end(struct journal *j, const char *watch, const char *where,
    int64_t cycle)
{
	return journal_listing_set(j, watch, where, cycle, 1);
}

/* Records an object a listing holds: 1 if it is new or changed since the
 * last listing, 0 if the same, -1 on error. */
int
journal_listed(struct journal *j, const char *watch, const char *key,
    const char *etag, uint64_t size, int64_t cycle)
{
	sqlite3_stmt *s = journal_stmt(j, J_SEEN_ADD);
	int same;

	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "listed");
	s = journal_stmt(j, J_LISTED_GET);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	same = sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), etag) == 0;
	sqlite3_reset(s);
	if (same)
		return 0;
	s = journal_stmt(j, J_LISTED_PUT);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, etag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)size);
	sqlite3_bind_int64(s, 5, cycle);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "listed");
	return 1;
}

/* Hands each object that a whole listing no longer holds to gone, then
 * forgets them. */
int
journal_unlisted(struct journal *j, const char *watch, journal_gone_cb gone,
    void *arg)
{
	sqlite3_stmt *s = journal_stmt(j, J_LISTED_GONE);
	int rc;

	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		gone(arg, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (uint64_t)sqlite3_column_int64(s, 2));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return journal_fail_sql(j, "unlisted");
	s = journal_stmt(j, J_LISTED_DROP);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "unlisted");
	return 0;
}

/* Keeps the newest sequencer of a key: JOURNAL_SEQ_NEW if seq is newer
 * than any seen (or the first), JOURNAL_SEQ_SAME if seen already,
 * JOURNAL_SEQ_STALE if older; -1 if the journal failed. */
int
journal_sequencer(struct journal *j, const char *watch, const char *bucket,
    const char *key, const char *seq)
{
	sqlite3_stmt *s = journal_stmt(j, J_SEQ_GET);
	int cmp = 1;

	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		cmp = strcmp(seq, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (cmp < 0)
		return JOURNAL_SEQ_STALE;
	if (cmp == 0)
		return JOURNAL_SEQ_SAME;
	s = journal_stmt(j, J_SEQ_PUT);
	sqlite3_bind_text(s, 1, watch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, bucket, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, seq, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "sequencer");
	return JOURNAL_SEQ_NEW;
}

/* Whether a trigger had its first scan of place (a scan of an objtrigger
 * from before this question counts for any place): 1, 0, or -1. */
int
journal_trigger_known(struct journal *j, const char *name, const char *place)
{
	sqlite3_stmt *s = journal_stmt(j, J_TRIGGER_GET);
	const char *had;
	int rc, known = 0;

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		had = (const char *)sqlite3_column_text(s, 0);
		known = *had == '\0' || strcmp(had, place) == 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_fail_sql(j, "trigger");
	return known;
}

/* Records that a trigger had its first scan of place. */
int
journal_trigger_scanned(struct journal *j, const char *name, const char *place,
    int64_t now)
{
	sqlite3_stmt *s = journal_stmt(j, J_TRIGGER_PUT);

	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, place, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (sqlite3_step(s) != SQLITE_DONE)
		return journal_fail_sql(j, "trigger");
	return 0;
}
