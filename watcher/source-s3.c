/* source-s3.c - the s3-poll watch: list a bucket, diff with the last list. */

/*
 * Every interval the bucket (under the prefix) is listed page by page,
 * and each object is compared with what the journal kept of the last
 * listing (key -> ETag, size): new keys and new ETags are "created"
 * events, keys a whole listing no longer holds are "removed" events. No
 * timestamps are compared, so objects that share a second are never
 * skipped. Each page is committed as it comes, so memory stays bounded
 * and a stop in the middle loses nothing: the next cycle finds the rest.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "objtrigger.h"

struct source_s3 {
	const struct cfg_watch *watch;
	const struct cfg_store *store;
	struct journal *journal;
	struct source_s3_hooks hooks;
	char *where; /* the place listed: store, bucket, prefix */
	uint64_t due; /* now_ms() of the next cycle */
	int failing; /* the last cycle failed */
	int full; /* objects listed unchanged go out too, for new triggers */

	/* The cycle under way. */
	int64_t cycle;
	int listed; /* an earlier listing of the same place ended */
	uint64_t objects, changed;
};

struct source_s3 *
source_s3_new(const struct cfg_watch *w, const struct cfg_store *store,
    struct journal *journal, const struct source_s3_hooks *hooks, int full)
{
	struct source_s3 *s = xcalloc(1, sizeof *s);

	s->watch = w;
	s->store = store;
	s->journal = journal;
	s->hooks = *hooks;
	s->full = full;
	xasprintf(&s->where, "%s/%s/%s", store->name, w->bucket, w->prefix);
	s->due = now_ms(); /* once at start-up */
	return s;
}

void
source_s3_free(struct source_s3 *s)
{
	if (s == NULL)
		return;
	free(s->where);
	free(s);
}

/* Milliseconds until the next cycle is due; 0 if it is. */
int
source_s3_wait(const struct source_s3 *s)
{
	uint64_t now = now_ms();

	return s->due <= now ? 0 : (int)(s->due - now);
}

static void
source_s3_event(struct source_s3 *s, const char *event, const char *key,
    const char *etag, uint64_t size, int existing)
{
	struct journal_event e = { s->watch->name, s->watch->bucket, key, event,
		0, size, 0, etag, existing, NULL };

	s->hooks.emit(s->hooks.arg, &e);
}

static int
source_s3_object(void *arg, const struct s3_object *o)
{
	struct source_s3 *s = arg;
	int rc;

	s->objects++;
	rc = journal_listed(s->journal, s->watch->name, o->key, o->etag,
	    o->size, s->cycle);
	if (rc < 0)
		return -1;
	if (rc == 1 && s->listed) {
		s->changed++;
		source_s3_event(s, "created", o->key, o->etag, o->size, 0);
	} else if (!s->listed || s->full)
		source_s3_event(s, "created", o->key, o->etag, o->size,
		    JOURNAL_EXISTING_LISTED);
	return 0;
}

static void
source_s3_gone(void *arg, const char *key, const char *etag, uint64_t size)
{
	struct source_s3 *s = arg;

	s->changed++;
	source_s3_event(s, "removed", key, etag, size, 0);
}

/* Logs a failed cycle: at error level when the watch starts failing, at
 * debug level while it goes on, so a store that is down is said once. */
static void
source_s3_failed(struct source_s3 *s, const struct s3_error *err)
{
	char *text = s3_error_text(s->store, "listing", err);

	if (!s->failing)
		log_error("watch %s: %s (trying again every %" PRIu64 "ms)",
		    s->watch->name, text, s->watch->interval_ms);
	else
		log_debug("watch %s: %s", s->watch->name, text);
	s->failing = 1;
	free(text);
}

/* Runs one listing cycle, if one is due. */
void
source_s3_poll(struct source_s3 *s)
{
	const struct cfg_watch *w = s->watch;
	struct s3_error err;
	uint64_t start = now_ms(), took, lag;
	char *after = NULL, *next = NULL;
	unsigned requests = 0;
	int rc;

	if (start < s->due)
		return;
	memset(&err, 0, sizeof err);
	lag = start - s->due;
	s->due = start + w->interval_ms;
	s->objects = s->changed = 0;
	s->hooks.page(s->hooks.arg);
	if (journal_listing_start(s->journal, w->name, s->where, &s->cycle,
		&s->listed) != 0)
		return;
	do {
		requests++;
		rc = s3_list_page(s->store, w->bucket, w->prefix, after,
		    source_s3_object, s, &next, &err);
		free(after);
		after = next;
		s->hooks.page(s->hooks.arg); /* each page is durable */
	} while (rc == 0 && after != NULL);
	free(after);
	took = now_ms() - start;
	metrics_add(M_POLL_CYCLES, 1, "watch", w->name, NULL);
	metrics_set(M_POLL_SECONDS, (double)took / 1000, "watch", w->name,
	    NULL);
	if (rc != 0) {
		if (err.code[0] != '\0')
			source_s3_failed(s, &err);
		return;
	}
	if (s->listed)
		journal_unlisted(s->journal, w->name, s->cycle, source_s3_gone,
		    s);
	journal_listing_end(s->journal, w->name, s->where, s->cycle);
	if (s->full || !s->listed)
		s->hooks.listed(s->hooks.arg, w->name);
	s->full = 0;
	s->hooks.page(s->hooks.arg);
	if (s->failing)
		log_info("watch %s: listing works again", w->name);
	s->failing = 0;
	log_debug("watch %s: cycle %" PRId64 ": %" PRIu64 " objects, %" PRIu64
		  " new or changed, %u request%s, %" PRIu64 "ms, %" PRIu64
		  "ms late%s",
	    w->name, s->cycle, s->objects, s->changed, requests,
	    requests == 1 ? "" : "s", took, lag,
	    s->listed ? "" : " (the first: for new triggers)");
}
