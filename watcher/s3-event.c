/* s3-event.c - S3 bucket notifications, from a POST body to records. */

/*
 * AWS, MinIO and Ceph RGW all send {"Records":[...]}, but not alike: AWS
 * and MinIO form-encode the key (MinIO even its '/'), RGW sends it raw,
 * so that "a+b" is "a b" from one and "a+b" from the other; RGW's
 * sequencer is the hex of a little-endian utime_t, the others' a
 * big-endian number. Each record names its store in eventSource, so each
 * is decoded on its own terms, and a bad record costs only itself. The
 * body may also come in an SNS envelope, or be the test message AWS sends
 * when a configuration is saved.
 */

#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "objtrigger.h"

#define S3_EVENT_SEQUENCER_DIGITS 32

/* How a store writes a record's key and sequencer. */
struct s3_event_source {
	const char *name;
	int form_encoded; /* the key: '+' a space, %XX a byte */
	int utime_sequencer; /* the hex of a little-endian {sec, nsec} */
};

static const struct s3_event_source s3_event_sources[] = {
	{ "aws:s3", 1, 0 },
	{ "minio:s3", 1, 0 },
	{ "ceph:s3", 0, 1 },
};
#define S3_EVENT_KNOWN_SOURCES "aws:s3, minio:s3, ceph:s3"

/* Makes a message one line of printable ASCII: it quotes the sender's
 * bytes, and ends up in a log line and a JSON answer. */
static char *
s3_events_printable(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	}
	return s;
}

static int s3_events_fail(char **why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets *why (one printable line: it may quote the sender) and returns
 * -1. */
static int
s3_events_fail(char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xvasprintf(why, fmt, ap);
	va_end(ap);
	s3_events_printable(*why);
	return -1;
}

static const char *
s3_events_type(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The text at name in o (NULL if absent or null), or a reason why it is
 * unusable: jansson lets a string hold NULs, and no field of ours may. */
static const char *
s3_events_text(const json_t *o, const char *name, const char **v)
{
	json_t *j = json_object_get(o, name);

	*v = NULL;
	if (j == NULL || json_is_null(j))
		return NULL;
	if (!json_is_string(j))
		return "is not a string";
	if (strlen(json_string_value(j)) != json_string_length(j))
		return "holds a NUL byte";
	*v = json_string_value(j);
	return NULL;
}

static int
s3_event_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "created", "removed", or NULL for the kinds we do not act on; RGW
 * leaves out the "s3:" that AWS and MinIO write. */
static const char *
s3_event_kind(const char *name)
{
	if (strncmp(name, "s3:", 3) == 0)
		name += 3;
	if (strncmp(name, "ObjectCreated:", 14) == 0)
		return "created";
	if (strncmp(name, "ObjectRemoved:", 14) == 0)
		return "removed";
	return NULL;
}

/* The key as bytes, form-decoded for the stores that encode it; sets
 * e->key, or *why. */
static int
s3_event_key(struct s3_event *e, const char *s, int form_encoded, char **why)
{
	size_t i;
	char *p;
	int hi, lo;

	if (*s == '\0')
		return s3_events_fail(why, "s3.object.key is empty");
	if (!form_encoded) {
		e->key = xstrdup(s);
		return 0;
	}
	e->key = p = xmalloc(strlen(s) + 1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '+')
			*p++ = ' ';
		else if (s[i] != '%')
			*p++ = s[i];
		else if ((hi = s3_event_hex(s[i + 1])) == -1 ||
		    (lo = s3_event_hex(s[i + 2])) == -1)
			return s3_events_fail(why,
			    "s3.object.key has a malformed %%-escape at "
			    "byte %zu",
			    i);
		else if (hi == 0 && lo == 0)
			return s3_events_fail(why,
			    "s3.object.key holds %%00 (a NUL) at byte %zu", i);
		else {
			*p++ = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	*p = '\0';
	return 0;
}

/* RGW's sequencer: the 8 bytes of a utime_t {uint32 sec; uint32 nsec} as
 * they lie in a little-endian memory, in hex; into out as the number
 * sec * 2^32 + nsec, which orders like the time. 0, or -1 if it is not
 * one. */
static int
s3_event_utime(char *out, size_t size, const char *hex)
{
	uint32_t half[2] = { 0, 0 };
	size_t i;

	if (strlen(hex) != 16)
		return -1;
	for (i = 0; i < 8; i++) {
		half[i / 4] |= (uint32_t)(s3_event_hex(hex[2 * i]) << 4 |
				   s3_event_hex(hex[2 * i + 1]))
		    << (8 * (i % 4));
	}
	if (half[1] >= 1000000000)
		return -1;
	snprintf(out, size, "%08" PRIX32 "%08" PRIX32, half[0], half[1]);
	return 0;
}

/* The sequencer made comparable with strcmp: a number in upper-case hex,
 * left-padded to 32 digits. Allocated; "" if the record's is not one, as
 * it then orders nothing (the event itself is still good). */
static char *
s3_event_sequencer(const char *hex, int utime)
{
	char digits[S3_EVENT_SEQUENCER_DIGITS + 1], *out;
	size_t i, len;

	if (hex == NULL || *hex == '\0')
		return xstrdup("");
	for (i = 0; hex[i] != '\0'; i++) {
		if (s3_event_hex(hex[i]) == -1)
			return xstrdup("");
	}
	if (utime) {
		if (s3_event_utime(digits, sizeof digits, hex) == -1)
			return xstrdup("");
		hex = digits;
	}
	while (hex[0] == '0' && hex[1] != '\0')
		hex++;
	if ((len = strlen(hex)) > S3_EVENT_SEQUENCER_DIGITS)
		return xstrdup("");
	out = xmalloc(S3_EVENT_SEQUENCER_DIGITS + 1);
	memset(out, '0', S3_EVENT_SEQUENCER_DIGITS - len);
	for (i = 0; i < len; i++) {
		out[S3_EVENT_SEQUENCER_DIGITS - len + i] =
		    "0123456789ABCDEF"[s3_event_hex(hex[i])];
	}
	out[S3_EVENT_SEQUENCER_DIGITS] = '\0';
	return out;
}

/* The store that wrote the record, or NULL with *why. */
static const struct s3_event_source *
s3_event_source(const json_t *r, char **why)
{
	const char *name, *bad;
	size_t i;

	if ((bad = s3_events_text(r, "eventSource", &name)) != NULL) {
		s3_events_fail(why, "eventSource %s", bad);
		return NULL;
	}
	if (name == NULL) {
		s3_events_fail(why, "no eventSource (known: %s)",
		    S3_EVENT_KNOWN_SOURCES);
		return NULL;
	}
	for (i = 0; i < sizeof s3_event_sources / sizeof s3_event_sources[0];
	     i++) {
		if (strcmp(name, s3_event_sources[i].name) == 0)
			return &s3_event_sources[i];
	}
	s3_events_fail(why, "unknown eventSource \"%.40s\" (known: %s)", name,
	    S3_EVENT_KNOWN_SOURCES);
	return NULL;
}

/* s3.bucket.name and s3.object.key, both required. */
static int
s3_event_names(struct s3_event *e, const json_t *s3,
    const struct s3_event_source *src, char **why)
{
	const json_t *object = json_object_get(s3, "object");
	const char *bucket, *key, *bad;

	if ((bad = s3_events_text(json_object_get(s3, "bucket"), "name",
		 &bucket)) != NULL)
		return s3_events_fail(why, "s3.bucket.name %s", bad);
	if (bucket == NULL)
		return s3_events_fail(why, "no s3.bucket.name");
	if (*bucket == '\0')
		return s3_events_fail(why, "s3.bucket.name is empty");
	if ((bad = s3_events_text(object, "key", &key)) != NULL)
		return s3_events_fail(why, "s3.object.key %s", bad);
	if (key == NULL)
		return s3_events_fail(why, "no s3.object.key");
	e->bucket = xstrdup(bucket);
	return s3_event_key(e, key, src->form_encoded, why);
}

/* The optional fields of s3.object: size, ETag, version, sequencer. */
static int
s3_event_object(struct s3_event *e, const json_t *object,
    const struct s3_event_source *src, char **why)
{
	const char *etag, *version, *sequencer, *bad, *name = "eTag";
	const json_t *size = json_object_get(object, "size");

	if (size != NULL && !json_is_null(size)) {
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return s3_events_fail(why,
			    "s3.object.size is not a whole number of bytes");
		e->size = (uint64_t)json_integer_value(size);
	}
	if (json_object_get(object, name) == NULL)
		name = "etag";
	if ((bad = s3_events_text(object, name, &etag)) != NULL)
		return s3_events_fail(why, "s3.object.%s %s", name, bad);
	if ((bad = s3_events_text(object, "versionId", &version)) != NULL)
		return s3_events_fail(why, "s3.object.versionId %s", bad);
	if ((bad = s3_events_text(object, "sequencer", &sequencer)) != NULL)
		return s3_events_fail(why, "s3.object.sequencer %s", bad);
	e->etag = etag != NULL ? s3_unquote(etag, strlen(etag)) : xstrdup("");
	e->version = xstrdup(version != NULL ? version : "");
	e->sequencer = s3_event_sequencer(sequencer, src->utime_sequencer);
	return 0;
}

static void
s3_event_clear(struct s3_event *e)
{
	free(e->bucket);
	free(e->key);
	free(e->etag);
	free(e->version);
	free(e->sequencer);
	memset(e, 0, sizeof *e);
}

/* One record into *e: 0, 1 if it is of a kind we ignore, or -1 with
 * *why. The kind is looked at first: a store may add kinds with other
 * fields, and we need not understand those. */
static int
s3_event_decode(struct s3_event *e, const json_t *r, char **why)
{
	const struct s3_event_source *src;
	const json_t *s3;
	const char *name, *bad;

	if (!json_is_object(r))
		return s3_events_fail(why, "is %s, not an object",
		    s3_events_type(r));
	if ((bad = s3_events_text(r, "eventName", &name)) != NULL)
		return s3_events_fail(why, "eventName %s", bad);
	if (name == NULL)
		return s3_events_fail(why, "no eventName");
	if ((e->event = s3_event_kind(name)) == NULL)
		return 1;
	if ((src = s3_event_source(r, why)) == NULL)
		return -1;
	s3 = json_object_get(r, "s3");
	if (s3_event_names(e, s3, src, why) == -1)
		return -1;
	return s3_event_object(e, json_object_get(s3, "object"), src, why);
}

/* Decodes Records[i], and files it as decoded, ignored or rejected. */
static void
s3_events_record(struct s3_events *evs, size_t i, const json_t *r)
{
	struct s3_event *e = &evs->records[evs->n];
	char *why = NULL;
	int rc;

	rc = s3_event_decode(e, r, &why);
	if (rc == 0) {
		evs->n++;
		return;
	}
	s3_event_clear(e);
	if (rc == 1)
		evs->ignored++;
	else {
		xasprintf(&evs->rejected[evs->nrejected++], "record %zu: %s", i,
		    why);
	}
	free(why);
}

/* The records; both arrays are sized for all of them at once, so that a
 * large body costs one pass and no reallocation. */
static int
s3_events_records(struct s3_events *evs, const json_t *records, char **why)
{
	size_t i, n;

	if (!json_is_array(records))
		return s3_events_fail(why,
		    "not an S3 notification: Records is %s, not an array",
		    s3_events_type(records));
	n = json_array_size(records);
	evs->kind = S3_EVENTS_RECORDS;
	evs->records = xcalloc(n, sizeof *evs->records);
	evs->rejected = xcalloc(n, sizeof *evs->rejected);
	for (i = 0; i < n; i++)
		s3_events_record(evs, i, json_array_get(records, i));
	return 0;
}

static int s3_events_root(struct s3_events *, const json_t *, int, char **);

/* An SNS Notification: its Message holds the S3 notification as a JSON
 * string, itself no envelope. */
static int
s3_events_sns_message(struct s3_events *evs, const json_t *root, char **why)
{
	const json_t *message = json_object_get(root, "Message");
	json_error_t err;
	json_t *inner;
	char *cause;
	int rc;

	if (!json_is_string(message))
		return s3_events_fail(why,
		    "SNS Notification without a Message string");
	inner =
	    json_loadb(json_string_value(message), json_string_length(message),
		JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (inner == NULL)
		return s3_events_fail(why,
		    "SNS Message is not JSON: line %d, column %d: %s", err.line,
		    err.column, err.text);
	rc = s3_events_root(evs, inner, 0, &cause);
	json_decref(inner);
	if (rc == -1) {
		s3_events_fail(why, "SNS Message: %s", cause);
		free(cause);
	}
	return rc;
}

/* An SNS HTTP(S) delivery: a notification, or the subscription's own
 * messages. */
static int
s3_events_sns(struct s3_events *evs, const json_t *root, char **why)
{
	const char *type, *arn, *url, *bad;

	if ((bad = s3_events_text(root, "Type", &type)) != NULL || type == NULL)
		return s3_events_fail(why, "SNS Type %s",
		    bad != NULL ? bad : "is null");
	if ((bad = s3_events_text(root, "TopicArn", &arn)) != NULL)
		return s3_events_fail(why, "SNS TopicArn %s", bad);
	if (arn != NULL)
		evs->topic_arn = xstrdup(arn);
	if (strcmp(type, "Notification") == 0)
		return s3_events_sns_message(evs, root, why);
	if (strcmp(type, "UnsubscribeConfirmation") == 0) {
		evs->kind = S3_EVENTS_SNS_OTHER;
		return 0;
	}
	if (strcmp(type, "SubscriptionConfirmation") != 0)
		return s3_events_fail(why, "unknown SNS Type \"%.40s\"", type);
	if ((bad = s3_events_text(root, "SubscribeURL", &url)) != NULL)
		return s3_events_fail(why, "SNS SubscribeURL %s", bad);
	if (url == NULL || *url == '\0')
		return s3_events_fail(why,
		    "SNS SubscriptionConfirmation without a SubscribeURL");
	evs->kind = S3_EVENTS_SNS_CONFIRM;
	evs->subscribe_url = xstrdup(url);
	return 0;
}

/* Sorts a body by its shape: records, AWS's test message, or (unless
 * already inside one) an SNS envelope. Fields beside Records, such as
 * MinIO's EventName and Key, are left alone. */
static int
s3_events_root(struct s3_events *evs, const json_t *root, int sns, char **why)
{
	const json_t *records = json_object_get(root, "Records");
	const char *event;

	if (!json_is_object(root))
		return s3_events_fail(why,
		    "not an S3 notification: the JSON is %s, not an object",
		    s3_events_type(root));
	if (records != NULL)
		return s3_events_records(evs, records, why);
	if (s3_events_text(root, "Event", &event) == NULL && event != NULL &&
	    strcmp(event, "s3:TestEvent") == 0) {
		evs->kind = S3_EVENTS_TEST;
		return 0;
	}
	if (sns && json_object_get(root, "Type") != NULL)
		return s3_events_sns(evs, root, why);
	return s3_events_fail(why,
	    "not an S3 notification: an object with no %s",
	    sns ? "Records, s3:TestEvent or SNS Type" :
		  "Records or s3:TestEvent");
}

/*
 * A watch confined to a bucket or a prefix judges a key as it is given,
 * byte for byte: "uploads/../../other/x" starts with "uploads/", yet read
 * as a path it names another bucket. The S3 client never sends a dot
 * segment raw, but a confined watch refuses such keys all the same, so
 * that its confinement does not rest on how every server and proxy on the
 * way reads a path. An unconfined watch takes them: a key is a key.
 */
int
s3_event_confine(const struct s3_event *e, const char *bucket,
    const char *prefix, char **why)
{
	*why = NULL;
	if (bucket != NULL && strcmp(e->bucket, bucket) != 0)
		return s3_events_fail(why,
		    "bucket '%s' is not the watch's bucket '%s'", e->bucket,
		    bucket);
	if ((bucket != NULL || *prefix != '\0') && s3_has_dot_segment(e->key))
		return s3_events_fail(why,
		    "key has a dot segment ('.' or '..'), which a watch "
		    "confined to a bucket or prefix refuses: '%s'",
		    e->key);
	return strncmp(e->key, prefix, strlen(prefix)) != 0;
}

/*
 * jansson's memory, counted: a body of tiny elements ([0,0,0,...]) costs
 * some 40 bytes of memory a byte, so a parse may take at most
 * S3_EVENTS_BUDGET times the body's size, then fails. Blocks stay plain
 * malloc ones (json_dumps's text is freed with free()), measured by
 * malloc_usable_size. Installed once, at start-up (s3_events_init).
 */
#define S3_EVENTS_BUDGET 16
#define S3_MALLOC_HEAD 16 /* what malloc spends on a block, besides it */

static size_t s3_json_used, s3_json_limit; /* limit 0: none */
static int s3_json_refused; /* the limit refused a block */

static void *
s3_json_malloc(size_t n)
{
	void *p;

	if (s3_json_limit != 0 && s3_json_used + n > s3_json_limit) {
		s3_json_refused = 1;
		return NULL;
	}
	if ((p = malloc(n)) != NULL)
		s3_json_used += malloc_usable_size(p) + S3_MALLOC_HEAD;
	return p;
}

static void
s3_json_free(void *p)
{
	if (p != NULL)
		s3_json_used -= malloc_usable_size(p) + S3_MALLOC_HEAD;
	free(p);
}

/* Counts jansson's memory; before any JSON object is made. */
void
s3_events_init(void)
{
	json_set_alloc_funcs(s3_json_malloc, s3_json_free);
}

int
s3_events_decode(const char *body, size_t len, struct s3_events *evs,
    char **why)
{
	json_error_t err;
	json_t *root;
	int rc;

	memset(evs, 0, sizeof *evs);
	*why = NULL;
	/* A key may hold \u0000: that is one bad record, not a bad body. And
	 * "42" is JSON, only not a notification. */
	s3_json_limit = s3_json_used + S3_EVENTS_BUDGET * (len + 4096);
	s3_json_refused = 0;
	root = json_loadb(body != NULL ? body : "", body != NULL ? len : 0,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (root == NULL) {
		s3_json_limit = 0;
		if (s3_json_refused)
			return s3_events_fail(why,
			    "the body's JSON would take more than %d times "
			    "its size in memory: refused",
			    S3_EVENTS_BUDGET);
		return s3_events_fail(why, "not JSON: line %d, column %d: %s",
		    err.line, err.column, err.text);
	}
	rc = s3_events_root(evs, root, 1, why); /* an SNS Message too */
	s3_json_limit = 0;
	json_decref(root);
	if (rc == -1)
		s3_events_clear(evs);
	return rc;
}

void
s3_events_clear(struct s3_events *evs)
{
	size_t i;

	for (i = 0; i < evs->n; i++)
		s3_event_clear(&evs->records[i]);
	free(evs->records);
	for (i = 0; i < evs->nrejected; i++)
		free(evs->rejected[i]);
	free(evs->rejected);
	free(evs->subscribe_url);
	free(evs->topic_arn);
	memset(evs, 0, sizeof *evs);
}

/* Whether a SubscribeURL is SNS's own, https://sns.REGION.amazonaws.com
 * (or .com.cn) and then a path or a query: the whole host matched, so
 * that a forged confirmation cannot make the daemon fetch another URL. */
int
s3_event_sns_url_ok(const char *url)
{
	static const char *const ends[] = { ".amazonaws.com",
		".amazonaws.com.cn", NULL };
	const char *host_end;
	size_t i, n;

	if (strncmp(url, "https://sns.", 12) != 0)
		return 0;
	n = strspn(url + 12, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n == 0)
		return 0;
	for (i = 0; ends[i] != NULL; i++) {
		host_end = url + 12 + n;
		if (strncmp(host_end, ends[i], strlen(ends[i])) != 0)
			continue;
		host_end += strlen(ends[i]);
		if (*host_end == '/' || *host_end == '?')
			return 1;
	}
	return 0;
}

/* A time as S3 records write it (allocated): RFC 3339 in UTC, with ms. */
char *
s3_event_time(int64_t ms)
{
	char buf[64], *s;
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	xasprintf(&s, "%s.%03dZ", buf, (int)(ms % 1000));
	return s;
}

/*
 * One S3 event record, as JSON text (allocated): the shape AWS, MinIO and
 * Ceph RGW send, the key percent-encoded as AWS does. etag and sequencer
 * may be NULL. NULL if a text is not UTF-8 (no store gives such a bucket
 * or ETag: they come from XML or JSON).
 */
char *
s3_event_record(const char *source, const char *name, const char *time,
    const char *bucket, const char *key, uint64_t size, const char *etag,
    const char *sequencer)
{
	char *encoded = s3_encode(key, S3_ENCODE_SLASH), *arn, *s;
	json_t *object, *record;

	xasprintf(&arn, "arn:aws:s3:::%s", bucket);
	object =
	    json_pack("{s:s, s:I}", "key", encoded, "size", (json_int_t)size);
	if (etag != NULL)
		json_object_set_new(object, "eTag", json_string(etag));
	if (sequencer != NULL)
		json_object_set_new(object, "sequencer",
		    json_string(sequencer));
	record = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}, s:o}}",
	    "eventVersion", "2.1", "eventSource", source, "eventTime", time,
	    "eventName", name, "s3", "s3SchemaVersion", "1.0", "bucket", "name",
	    bucket, "arn", arn, "object", object);
	s = record != NULL ? json_dumps(record, JSON_COMPACT) : NULL;
	json_decref(record);
	free(arn);
	free(encoded);
	return s;
}

char *
s3_event_encode(const struct journal_event *e, int64_t when, size_t *len)
{
	const char *etag = e->etag != NULL ? e->etag : "";
	char *time = s3_event_time(when), *record, *body = NULL;
	int n;

	/* "seq:..." stands for an ETag that a removal lacked. */
	if (strncmp(etag, "seq:", 4) == 0)
		etag = "";
	record = s3_event_record("aws:s3",
	    strcmp(e->event, "removed") == 0 ? "ObjectRemoved:Delete" :
					       "ObjectCreated:Put",
	    time, e->folder, e->key, e->size, etag,
	    e->sequencer != NULL && *e->sequencer != '\0' ? e->sequencer :
							    NULL);
	if (record != NULL) {
		n = xasprintf(&body, "{\"Records\":[%s]}", record);
		*len = (size_t)n;
	}
	free(record);
	free(time);
	return body;
}
