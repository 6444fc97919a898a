/* fuzz-s3-event.c - S3 event notifications, as a webhook receives them. */

/*
 * Each input is a POST body: AWS, MinIO or Ceph RGW records, bare or in
 * an SNS envelope. What s3_events_decode promises is checked, not only
 * that it does not crash: a reason is one line of printable ASCII, a key
 * is never empty, a sequencer is "" or 32 upper-case hex digits. Each
 * record is then confined as a webhook watch would, and its key escaped
 * as a log line would; an SNS SubscribeURL is judged as the webhook judges
 * it before a GET.
 */

#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LEVEL_ERROR, "fuzz");
	return 0;
}

/* A reason must be fit for a log line and a JSON answer. */
static void
fuzz_check_reason(const char *what, const char *why)
{
	const unsigned char *p;

	if (why == NULL)
		fuzz_broken("%s: no reason", what);
	for (p = (const unsigned char *)why; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			fuzz_broken("%s: byte 0x%02x in \"%s\"", what, *p, why);
	}
}

static void
fuzz_check_record(const struct s3_event *e)
{
	size_t i, len;

	if (e->bucket == NULL || e->key == NULL || e->etag == NULL ||
	    e->version == NULL || e->sequencer == NULL || e->event == NULL)
		fuzz_broken("a record with a NULL field");
	if (*e->key == '\0')
		fuzz_broken("a record with an empty key");
	if (strcmp(e->event, "created") != 0 &&
	    strcmp(e->event, "removed") != 0)
		fuzz_broken("a record's event is \"%s\"", e->event);
	len = strlen(e->sequencer);
	if (len != 0 && len != 32)
		fuzz_broken("a sequencer of %zu digits", len);
	for (i = 0; i < len; i++) {
		if (strchr("0123456789ABCDEF", e->sequencer[i]) == NULL)
			fuzz_broken("sequencer \"%s\"", e->sequencer);
	}
}

/* A SubscribeURL taken for a GET must be SNS's: "https://sns." and a
 * host of letters, digits, '-' and '.' that ends in ".amazonaws.com" or
 * ".amazonaws.com.cn", then a path or a query. */
static void
fuzz_check_sns_url(const char *url)
{
	const char *host = url + 12;
	size_t len;

	if (!s3_event_sns_url_ok(url))
		return;
	if (strncmp(url, "https://sns.", 12) != 0)
		fuzz_broken("SNS URL \"%s\" taken", url);
	len = strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-.");
	if ((host[len] != '/' && host[len] != '?') ||
	    !((len > 14 &&
		  strncmp(host + len - 14, ".amazonaws.com", 14) == 0) ||
		(len > 17 &&
		    strncmp(host + len - 17, ".amazonaws.com.cn", 17) == 0)))
		fuzz_broken("SNS URL \"%s\" taken", url);
}

static void
fuzz_confine(const struct s3_event *e, const char *bucket, const char *prefix)
{
	char *why = NULL;
	int rc = s3_event_confine(e, bucket, prefix, &why);

	if (rc == -1)
		fuzz_check_reason("s3_event_confine", why);
	else if (rc != 0 && rc != 1)
		fuzz_broken("s3_event_confine returned %d", rc);
	else if (rc == 0 && strncmp(e->key, prefix, strlen(prefix)) != 0)
		fuzz_broken("key \"%s\" taken outside prefix \"%s\"", e->key,
		    prefix);
	free(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_events evs;
	char *why = NULL, *line;
	size_t i;

	if (s3_events_decode((const char *)data, size, &evs, &why) != 0) {
		fuzz_check_reason("s3_events_decode", why);
		free(why);
		return 0;
	}
	if (evs.kind == S3_EVENTS_SNS_CONFIRM) {
		if (evs.subscribe_url == NULL)
			fuzz_broken("an SNS confirmation without its URL");
		fuzz_check_sns_url(evs.subscribe_url);
	}
	for (i = 0; i < evs.nrejected; i++)
		fuzz_check_reason("a rejected record", evs.rejected[i]);
	for (i = 0; i < evs.n; i++) {
		fuzz_check_record(&evs.records[i]);
		fuzz_confine(&evs.records[i], NULL, "");
		fuzz_confine(&evs.records[i], "photos", "in/");
		fuzz_confine(&evs.records[i], evs.records[i].bucket, "");
		line = log_escape(evs.records[i].key, 1);
		free(line);
	}
	s3_events_clear(&evs);
	s3_events_clear(&evs); /* again: a no-op, as documented */
	return 0;
}
