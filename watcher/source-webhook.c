/* source-webhook.c - the s3-webhook watch: S3 event notifications. */

/*
 * A store POSTs its notifications to the watch's path. Each record is
 * decoded by its own eventSource (AWS, MinIO, Ceph), filtered by the
 * watch's bucket and prefix (s3_event_confine: a confined watch refuses
 * a key with a "." or ".." segment), checked against the newest
 * sequencer seen for its key (an older one comes late: stale), and queued
 * like any other event. The answer is given by the daemon once the
 * turn's journal commit is done (source_webhook_answer), so a 2xx means
 * durable.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#include "cfg.h"
#include "objtrigger.h"

#define WEBHOOK_LOG_REJECTED 3 /* reasons logged per request at most */

struct source_webhook {
	const struct cfg_watch *watch;
	struct journal *journal;
	webhook_emit_cb emit;
	void *arg;
};

struct source_webhook *
source_webhook_new(const struct cfg_watch *w, struct journal *journal,
    webhook_emit_cb emit, void *arg)
{
	struct source_webhook *s = xcalloc(1, sizeof *s);

	s->watch = w;
	s->journal = journal;
	s->emit = emit;
	s->arg = arg;
	return s;
}

void
source_webhook_free(struct source_webhook *s)
{
	free(s);
}

const struct cfg_watch *
source_webhook_watch(const struct source_webhook *s)
{
	return s->watch;
}

/* Compares in a time that does not depend on where they differ. */
static int
webhook_token_ok(const char *given, const char *token)
{
	size_t glen = strlen(given), tlen = strlen(token), i;
	unsigned char diff = glen != tlen;

	for (i = 0; i < tlen; i++)
		diff |= (unsigned char)token[i] ^
		    (unsigned char)(i < glen ? given[i] : 0);
	return diff == 0;
}

/* Headers in: 1 if the body may come, 0 if the request was answered. */
int
source_webhook_begin(struct source_webhook *s, struct http_request *r)
{
	const char *auth;

	if (strcmp(http_method(r), "POST") != 0) {
		http_header_add(r, "Allow", "POST");
		http_answer_error(r, 405, "a webhook takes POST only");
		return 0;
	}
	if (s->watch->token == NULL)
		return 1;
	auth = http_header(r, "Authorization");
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 ||
	    !webhook_token_ok(auth + 7, s->watch->token)) {
		http_header_add(r, "WWW-Authenticate", "Bearer");
		http_answer_error(r, 401,
		    auth == NULL ? "no bearer token" : "wrong bearer token");
		metrics_add(M_EVENTS, 1, "watch", s->watch->name, "outcome",
		    "rejected", NULL);
		return 0;
	}
	return 1;
}

static void
webhook_count(struct source_webhook *s, const char *outcome, size_t n)
{
	if (n > 0)
		metrics_add(M_EVENTS, (double)n, "watch", s->watch->name,
		    "outcome", outcome, NULL);
}

/*
 * A decoded record as a journal event of watch w, checked against the
 * newest sequencer seen for its key: JOURNAL_SEQ_NEW (newer, or none),
 * JOURNAL_SEQ_SAME, JOURNAL_SEQ_STALE (older: it came late), or -1. *id
 * is set to what the event's etag points to when the record has none
 * (the caller frees it).
 */
int
source_webhook_event(struct journal *journal, const struct cfg_watch *w,
    const struct s3_event *ev, struct journal_event *e, char **id)
{
	int rc = JOURNAL_SEQ_NEW;

	*id = NULL;
	memset(e, 0, sizeof *e);
	e->watch = w->name;
	e->folder = ev->bucket;
	e->key = ev->key;
	e->event = ev->event;
	e->size = ev->size;
	e->etag = ev->etag;
	if (*ev->sequencer != '\0')
		e->sequencer = ev->sequencer;
	if (*ev->sequencer != '\0')
		rc = journal_sequencer(journal, w->name, ev->bucket, ev->key,
		    ev->sequencer);
	if (rc == JOURNAL_SEQ_STALE)
		log_debug("watch %s: %s/%s: sequencer %s is older than one "
			  "seen: stale, dropped",
		    w->name, ev->bucket, ev->key, ev->sequencer);
	/* AWS's removals have no ETag: their sequencer tells one from the
	 * next, or every later one would be a duplicate. */
	if (*ev->etag == '\0' && *ev->sequencer != '\0') {
		xasprintf(id, "seq:%s", ev->sequencer);
		e->etag = *id;
	}
	return rc;
}

/* Takes one decoded record; an outcome counter of the tally. */
static void
webhook_record(struct source_webhook *s, const struct s3_event *ev,
    struct webhook_tally *t)
{
	struct journal_event e;
	char *id;
	int rc = source_webhook_event(s->journal, s->watch, ev, &e, &id);

	if (rc == JOURNAL_SEQ_STALE) {
		t->stale++;
		free(id);
		return;
	}
	if (rc == JOURNAL_SEQ_NEW)
		rc = s->emit(s->arg, &e);
	else if (rc == JOURNAL_SEQ_SAME)
		rc = 0;
	free(id);
	if (rc < 0)
		t->failed = 1;
	else if (rc == 0)
		t->duplicate++;
	else
		t->accepted++;
}

/* Logs why records were refused: a few reasons, and how many more. */
static void
webhook_log_rejected(struct source_webhook *s, char **why, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < WEBHOOK_LOG_REJECTED; i++)
		log_warn("watch %s: %s", s->watch->name, why[i]);
	if (n > WEBHOOK_LOG_REJECTED)
		log_warn("watch %s: and %zu more records refused",
		    s->watch->name, n - WEBHOOK_LOG_REJECTED);
}

/* An SNS subscription asks to be confirmed by a GET of its URL. */
static void
webhook_sns_confirm(struct source_webhook *s, const struct s3_events *evs)
{
	const char *name = s->watch->name;
#ifdef HAVE_CURL
	CURL *c;
	CURLcode rc;
	long code = 0;
#endif

	log_info("watch %s: SNS asks to confirm the subscription to %s: %s",
	    name, evs->topic_arn, evs->subscribe_url);
	if (!s->watch->sns_confirm) {
		log_info("watch %s: not confirmed (set sns-confirm=\"yes\", "
			 "or open the URL)",
		    name);
		return;
	}
	if (!s3_event_sns_url_ok(evs->subscribe_url)) {
		log_error("watch %s: not confirmed: the URL is not "
			  "https://sns.REGION.amazonaws.com/",
		    name);
		return;
	}
#ifdef HAVE_CURL
	if ((c = curl_easy_init()) == NULL)
		return;
	curl_easy_setopt(c, CURLOPT_URL, evs->subscribe_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L); /* the loop waits */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK && code / 100 == 2)
		log_info("watch %s: subscription confirmed", name);
	else
		log_error("watch %s: confirming the subscription failed: %s",
		    name,
		    rc != CURLE_OK ? curl_easy_strerror(rc) :
				     "not a 2xx answer");
#else
	log_error("watch %s: built without libcurl: open the URL to confirm",
	    name);
#endif
}

/*
 * Body in: queues its records. Returns 1 if the request waits for the
 * journal's commit (the tally says what became of each record), 0 if it
 * was answered already (not a notification, a test, a subscription).
 */
int
source_webhook_take(struct source_webhook *s, struct http_request *r,
    struct webhook_tally *t)
{
	const struct cfg_watch *w = s->watch;
	struct s3_events evs;
	const char *body;
	char *why;
	size_t len, i;

	body = http_body(r, &len);
	if (s3_events_decode(body, len, &evs, &why) != 0) {
		log_warn("watch %s: a POST refused: %s", w->name, why);
		webhook_count(s, "rejected", 1);
		http_answer_error(r, 400, why);
		free(why);
		return 0;
	}
	if (evs.kind == S3_EVENTS_SNS_CONFIRM)
		webhook_sns_confirm(s, &evs);
	if (evs.kind != S3_EVENTS_RECORDS) {
		log_debug("watch %s: %s: acknowledged", w->name,
		    evs.kind == S3_EVENTS_TEST ? "a test event" :
						 "an SNS message");
		http_answer_json(r, 200, "{\"accepted\":0}");
		s3_events_clear(&evs);
		return 0;
	}
	memset(t, 0, sizeof *t);
	t->rejected = evs.nrejected;
	t->ignored = evs.ignored;
	for (i = 0; i < evs.n; i++) {
		switch (s3_event_confine(&evs.records[i], w->bucket, w->prefix,
		    &why)) {
		case -1:
			t->rejected++;
			if (t->rejected - evs.nrejected <= WEBHOOK_LOG_REJECTED)
				log_warn("watch %s: record %zu: %s", w->name, i,
				    why);
			free(why);
			break;
		case 1:
			t->ignored++;
			break;
		default:
			webhook_record(s, &evs.records[i], t);
		}
	}
	webhook_log_rejected(s, evs.rejected, evs.nrejected);
	if (evs.n == 0 && evs.nrejected > 0) {
		webhook_count(s, "rejected", evs.nrejected);
		xasprintf(&why, "no record could be taken: %s",
		    evs.rejected[0]);
		http_answer_error(r, 400, why);
		free(why);
		s3_events_clear(&evs);
		return 0;
	}
	s3_events_clear(&evs);
	return 1;
}

/* The answer once the journal committed (or could not) the records. */
void
source_webhook_answer(struct source_webhook *s, struct http_request *r,
    const struct webhook_tally *t, int committed)
{
	if (!committed || t->failed) {
		webhook_count(s, "failed", t->accepted + t->duplicate);
		http_header_add(r, "Retry-After", "5");
		http_answer_error(r, 503,
		    "the journal could not take the records: send them "
		    "again");
		return;
	}
	webhook_count(s, "accepted", t->accepted);
	webhook_count(s, "duplicate", t->duplicate);
	webhook_count(s, "stale", t->stale);
	webhook_count(s, "rejected", t->rejected);
	webhook_count(s, "ignored", t->ignored);
	http_answer_json(r, 200,
	    "{\"accepted\":%zu,\"duplicate\":%zu,\"stale\":%zu,"
	    "\"rejected\":%zu,\"ignored\":%zu}",
	    t->accepted, t->duplicate, t->stale, t->rejected, t->ignored);
}
