/* source-s3.c - the s3-poll watch: list a bucket, diff with the last list. */

/*
 * Every interval the bucket (under the prefix) is listed page by page,
 * and each object is compared with what the journal kept of the last
 * listing (key -> ETag, size): new keys and new ETags are "created"
 * events, keys a whole listing no longer holds are "removed" events. No
 * timestamps are compared, so objects that share a second are never
 * skipped. Each page is committed as it comes, so memory stays bounded
 * and a stop in the middle loses nothing: the next cycle finds the rest.
 * The requests are made by a thread beside the loop, a page at a time,
 * so that the loop goes on answering and starting jobs meanwhile.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"

#define SOURCE_S3_SLICE 32 /* listed objects taken per turn at most */

/* A page of a listing, as the lister thread got it. */
struct source_s3_page {
	struct s3_object *objects;
	size_t n, size, taken; /* taken: given to the journal so far */
	char *after; /* the key it starts after (NULL: the first page) */
	char *next; /* the key the next starts after, NULL after the last */
	int rc;
	struct s3_error err;
};

struct source_s3 {
	const struct cfg_watch *watch;
	const struct cfg_store *store;
	struct journal *journal;
	struct source_s3_hooks hooks;
	char *where; /* the place listed: store, bucket, prefix */
	uint64_t due; /* now_ms() of the next cycle */
	int failing; /* the last cycle failed */
	int full; /* objects listed unchanged go out too, for new triggers */

	/* The lister thread: one page request at a time, told done on efd. */
	int efd;
	pthread_t thread;
	struct source_s3_page *fetching; /* the thread's while it runs */
	struct source_s3_page *page; /* fetched, taken a slice per turn */

	/* The cycle under way. */
	int cycling;
	int64_t cycle;
	int listed; /* an earlier listing of the same place ended */
	uint64_t objects, changed, start, lag;
	unsigned requests;
};

/* The daemon's S3 requests are made by one thread at a time: the client
 * keeps one connection. */
static pthread_mutex_t source_s3_lock = PTHREAD_MUTEX_INITIALIZER;

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
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		fatal("eventfd: %s", strerror(errno));
	return s;
}

static void
source_s3_page_free(struct source_s3_page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->objects[i].key);
		free(p->objects[i].etag);
	}
	free(p->objects);
	free(p->after);
	free(p->next);
	free(p);
}

/* Waits for the lister thread, if it runs. */
static void
source_s3_join(struct source_s3 *s)
{
	uint64_t n;

	if (s->fetching == NULL)
		return;
	pthread_join(s->thread, NULL);
	while (read(s->efd, &n, sizeof n) == (ssize_t)sizeof n)
		;
}

void
source_s3_free(struct source_s3 *s)
{
	if (s == NULL)
		return;
	source_s3_join(s);
	source_s3_page_free(s->fetching);
	source_s3_page_free(s->page);
	close(s->efd);
	free(s->where);
	free(s);
}

/* What the poll must wait on: the lister thread's descriptor while it
 * runs, else -1. */
int
source_s3_fd(const struct source_s3 *s)
{
	return s->fetching != NULL ? s->efd : -1;
}

/* Milliseconds until the next cycle is due; 0 if it is. */
int
source_s3_wait(const struct source_s3 *s)
{
	uint64_t now = now_ms();

	if (s->page != NULL)
		return 0; /* more of a page to take */
	if (s->cycling)
		return -1; /* a page is being fetched: its descriptor tells */
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

/* Takes an object of a page into the journal: a created event if it is
 * new or changed. */
static int
source_s3_object(struct source_s3 *s, const struct s3_object *o)
{
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

/* In the lister thread: keeps an object of the page. */
static int
source_s3_collect(void *arg, const struct s3_object *o)
{
	struct source_s3_page *p = arg;

	if (p->n == p->size) {
		p->size = p->size == 0 ? 64 : p->size * 2;
		p->objects =
		    xreallocarray(p->objects, p->size, sizeof *p->objects);
	}
	p->objects[p->n].key = xstrdup(o->key);
	p->objects[p->n].etag = o->etag != NULL ? xstrdup(o->etag) : NULL;
	p->objects[p->n].size = o->size;
	p->objects[p->n++].made_by = NULL;
	return 0;
}

/* The lister thread: gets one page, and says so on efd. */
static void *
source_s3_fetch_main(void *arg)
{
	struct source_s3 *s = arg;
	struct source_s3_page *p = s->fetching;
	const struct cfg_watch *w = s->watch;
	uint64_t one = 1;

	pthread_mutex_lock(&source_s3_lock);
	p->rc = s3_list_page(s->store, w->bucket, w->prefix, p->after,
	    source_s3_collect, p, &p->next, &p->err);
	pthread_mutex_unlock(&source_s3_lock);
	if (write(s->efd, &one, sizeof one) != (ssize_t)sizeof one)
		fatal("eventfd: %s", strerror(errno));
	return NULL;
}

/* Asks the lister thread for the page after the key after (taken). */
static void
source_s3_fetch(struct source_s3 *s, char *after)
{
	int error;

	s->fetching = xcalloc(1, sizeof *s->fetching);
	s->fetching->after = after;
	s->requests++;
	if ((error = pthread_create(&s->thread, NULL, source_s3_fetch_main,
		 s)) != 0)
		fatal("pthread_create: %s", strerror(error));
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

/* Ends a cycle: failed (rc != 0, err said), or the whole place listed. */
static void
source_s3_end(struct source_s3 *s, int rc, const struct s3_error *err)
{
	const struct cfg_watch *w = s->watch;
	uint64_t took = now_ms() - s->start;

	s->cycling = 0;
	metrics_add(M_POLL_CYCLES, 1, "watch", w->name, NULL);
	metrics_set(M_POLL_SECONDS, (double)took / 1000, "watch", w->name,
	    NULL);
	if (rc != 0) {
		if (err != NULL && err->code[0] != '\0')
			source_s3_failed(s, err);
		return;
	}
	if (s->listed)
		journal_unlisted(s->journal, w->name, source_s3_gone, s);
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
	    w->name, s->cycle, s->objects, s->changed, s->requests,
	    s->requests == 1 ? "" : "s", took, s->lag,
	    s->listed ? "" : " (the first: for new triggers)");
}

/* Takes a slice of the page fetched into the journal; once it is all
 * taken, makes it durable and ends the cycle if it was the last. */
static void
source_s3_take(struct source_s3 *s)
{
	struct source_s3_page *p = s->page;
	size_t end = p->taken + SOURCE_S3_SLICE;
	int rc = p->rc;

	while (rc == 0 && p->taken < p->n && p->taken < end)
		rc = source_s3_object(s, &p->objects[p->taken++]);
	if (rc == 0 && p->taken < p->n)
		return; /* the rest in the next turns */
	s->hooks.page(s->hooks.arg); /* each page is durable */
	if (rc != 0 || p->next == NULL) {
		source_s3_join(s); /* a failure while the next was asked */
		source_s3_page_free(s->fetching);
		s->fetching = NULL;
		source_s3_end(s, rc, p->rc != 0 ? &p->err : NULL);
	}
	source_s3_page_free(p);
	s->page = NULL;
}

/*
 * Moves the listing on, in the loop's turn: pages are fetched by the
 * lister thread, the next one asked for as soon as one comes, and taken
 * into the journal a slice per turn, so that no turn waits on the store
 * or spends long on a page. A cycle starts when one is due.
 */
void
source_s3_poll(struct source_s3 *s)
{
	const struct cfg_watch *w = s->watch;
	uint64_t n, now = now_ms();

	if (s->page != NULL) {
		source_s3_take(s);
		return;
	}
	if (s->fetching != NULL) {
		if (read(s->efd, &n, sizeof n) != (ssize_t)sizeof n)
			return; /* still fetching */
		pthread_join(s->thread, NULL);
		s->page = s->fetching;
		s->fetching = NULL;
		if (s->page->rc == 0 && s->page->next != NULL)
			source_s3_fetch(s, xstrdup(s->page->next));
		source_s3_take(s);
		return;
	}
	if (s->cycling || now < s->due)
		return;
	s->lag = now - s->due;
	s->start = now;
	s->due = now + w->interval_ms;
	s->objects = s->changed = 0;
	s->requests = 0;
	s->hooks.page(s->hooks.arg);
	if (journal_listing_start(s->journal, w->name, s->where, &s->cycle,
		&s->listed) != 0)
		return;
	s->cycling = 1;
	source_s3_fetch(s, NULL);
}
