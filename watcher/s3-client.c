/* s3-client.c - the S3 interface: one call per operation, either path. */

/*
 * A store signs with v4 (libcurl, s3-curl.c) or v2 (libs3, s3-libs3.c);
 * the rest of objtrigger sees the calls below only. Failures are sorted
 * here, once, into those a later try may cure (no answer, 5xx, SlowDown,
 * RequestTimeout) and those it never will (AccessDenied, NoSuchBucket,
 * SignatureDoesNotMatch, ...), and kept with S3's own code and message.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "objtrigger.h"

/* Codes that a later try may cure, whatever their HTTP status. */
static const char *const s3_retry_codes[] = { "SlowDown", "RequestTimeout",
	"InternalError", "ServiceUnavailable", "RequestTimeTooSkewed",
	"OperationAborted", NULL };

void
s3_error_set(struct s3_error *err, long http, const char *code, const char *fmt,
    ...)
{
	va_list ap;
	size_t i;

	err->http = http;
	snprintf(err->code, sizeof err->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->retryable = http == 0 || http >= 500 || http == 408 || http == 429;
	for (i = 0; s3_retry_codes[i] != NULL; i++) {
		if (strcmp(code, s3_retry_codes[i]) == 0)
			err->retryable = 1;
	}
}

/* Whether the len bytes at s are a segment a path may resolve. */
static int
s3_dot_segment(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.');
}

/* Whether a key (or bucket) has a "." or ".." between its slashes: legal
 * in S3, where it is part of a name, but a path segment that a server or
 * a proxy may resolve, into another key or another bucket. */
int
s3_has_dot_segment(const char *s)
{
	size_t len;

	for (;;) {
		len = strcspn(s, "/");
		if (s3_dot_segment(s, len))
			return 1;
		if (s[len] == '\0')
			return 0;
		s += len + 1;
	}
}

/* Percent-encodes all but the unreserved bytes, as SigV4 wants a path
 * (flags in objtrigger.h: keep '/', encode dot segments); allocated. */
char *
s3_encode(const char *s, int flags)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(strlen(s) * 3 + 1), *p = out;
	const char *seg = s;
	size_t seglen = strcspn(s, "/");
	unsigned char c;
	int keep;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '/') {
			seg = s + 1;
			seglen = strcspn(seg, "/");
		}
		keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '~' || ((flags & S3_ENCODE_SLASH) && c == '/');
		if (c == '.')
			keep = !(flags & S3_ENCODE_DOTS) ||
			    !s3_dot_segment(seg, seglen);
		if (keep)
			*p++ = (char)c;
		else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p = '\0';
	return out;
}

/* An ETag as a header or a listing gives it, without its quotes and the
 * blanks around them (allocated); a store may send it malformed. */
char *
s3_unquote(const char *v, size_t len)
{
	while (len > 0 &&
	    (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	while (len > 0 && (*v == ' ' || *v == '"')) {
		v++;
		len--;
	}
	if (len > 0 && v[len - 1] == '"')
		len--;
	return xstrndup(v, len);
}

/* Fills err for a transfer stopped on this side: the object over max
 * bytes, or a local read or write that failed (a full disk may clear).
 * Returns 1 if it was so, 0 if neither happened. */
int
s3_error_local(struct s3_error *err, int too_big, uint64_t max, int errnum)
{
	if (too_big)
		s3_error_set(err, 0, "TooLarge",
		    "the object is larger than %" PRIu64 " bytes", max);
	else if (errnum != 0)
		s3_error_set(err, 0, "LocalIOFailed", "%s", strerror(errnum));
	else
		return 0;
	err->retryable = !too_big && errnum == ENOSPC;
	return 1;
}

/* "store rgw: GET photos/a.jpg: 403 AccessDenied: Access Denied". */
char *
s3_error_text(const struct cfg_store *store, const char *what,
    const struct s3_error *err)
{
	char *text, status[32] = "";

	if (err->http != 0)
		snprintf(status, sizeof status, "%ld ", err->http);
	xasprintf(&text, "store %s: %s: %s%s%s%s", store->name, what, status,
	    err->code, *err->message != '\0' ? ": " : "", err->message);
	return text;
}

void
s3_object_clear(struct s3_object *o)
{
	free(o->key);
	free(o->etag);
	free(o->made_by);
	memset(o, 0, sizeof *o);
}

/* The content type of an output, from its name ("auto"). */
const char *
s3_content_type(const char *key)
{
	static const char *const types[][2] = { { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "png", "image/png" },
		{ "webp", "image/webp" }, { "avif", "image/avif" },
		{ "gif", "image/gif" }, { "tif", "image/tiff" },
		{ "tiff", "image/tiff" }, { "heic", "image/heic" },
		{ "svg", "image/svg+xml" }, { "pdf", "application/pdf" },
		{ "txt", "text/plain" }, { "csv", "text/csv" },
		{ "json", "application/json" }, { "xml", "application/xml" },
		{ "html", "text/html" }, { "gz", "application/gzip" },
		{ "tgz", "application/gzip" }, { "zst", "application/zstd" },
		{ "xz", "application/x-xz" }, { "tar", "application/x-tar" },
		{ "zip", "application/zip" },
		{ "7z", "application/x-7z-compressed" }, { "mp4", "video/mp4" },
		{ "webm", "video/webm" }, { "mp3", "audio/mpeg" } };
	const char *dot = strrchr(key, '.'), *slash = strrchr(key, '/');
	size_t i;

	if (dot != NULL && (slash == NULL || dot > slash)) {
		for (i = 0; i < sizeof types / sizeof types[0]; i++) {
			if (strcasecmp(dot + 1, types[i][0]) == 0)
				return types[i][1];
		}
	}
	return "application/octet-stream";
}

/* Which signatures this build can make, for messages. */
const char *
s3_available(void)
{
#if defined(HAVE_CURL) && defined(HAVE_LIBS3)
	return "v4 (libcurl) and v2 (libs3)";
#elif defined(HAVE_CURL)
	return "v4 (libcurl) only";
#elif defined(HAVE_LIBS3)
	return "v2 (libs3) only";
#else
	return "none";
#endif
}

/* Refuses a call the build cannot make, or a bucket or key libs3 would
 * mangle. */
static int
s3_path_missing(const struct cfg_store *store, const char *bucket,
    const char *key, struct s3_error *err)
{
	const char *why;

#ifndef HAVE_CURL
	if (!store->v2) {
		s3_error_set(err, 0, "NotBuilt",
		    "signature v4 needs libcurl, and this objtrigger was built "
		    "without it");
		return 1;
	}
#endif
#ifndef HAVE_LIBS3
	if (store->v2) {
		s3_error_set(err, 0, "NotBuilt",
		    "signature v2 needs libs3, and this objtrigger was built "
		    "without it");
		return 1;
	}
#else
	if (store->v2 && (why = s3_libs3_cannot_address(bucket, key)) != NULL) {
		s3_error_set(err, 0, "KeyNotAddressable",
		    "%s: use signature=\"v4\" for this store", why);
		err->retryable = 0;
		return 1;
	}
#endif
	(void)bucket;
	(void)key;
	(void)why;
	return 0;
}

/* Requests made and failed per store since the last s3_counts_take;
 * the daemon's listings count them in their thread. */
static struct {
	char *store;
	uint64_t requests, errors;
} * s3_counts;
static size_t s3_ncounts;
static pthread_mutex_t s3_counts_lock = PTHREAD_MUTEX_INITIALIZER;

static int
s3_count(const struct cfg_store *store, int rc)
{
	size_t i;

	pthread_mutex_lock(&s3_counts_lock);
	for (i = 0; i < s3_ncounts; i++) {
		if (strcmp(s3_counts[i].store, store->name) == 0)
			break;
	}
	if (i == s3_ncounts) {
		s3_counts =
		    xreallocarray(s3_counts, ++s3_ncounts, sizeof *s3_counts);
		s3_counts[i].store = xstrdup(store->name);
		s3_counts[i].requests = s3_counts[i].errors = 0;
	}
	s3_counts[i].requests++;
	s3_counts[i].errors += rc != 0;
	pthread_mutex_unlock(&s3_counts_lock);
	return rc;
}

/* Hands the counts over, and starts them again. */
void
s3_counts_take(s3_count_cb cb, void *arg)
{
	size_t i;

	pthread_mutex_lock(&s3_counts_lock);
	for (i = 0; i < s3_ncounts; i++) {
		cb(arg, s3_counts[i].store, s3_counts[i].requests,
		    s3_counts[i].errors);
		free(s3_counts[i].store);
	}
	free(s3_counts);
	s3_counts = NULL;
	s3_ncounts = 0;
	pthread_mutex_unlock(&s3_counts_lock);
}

#if defined(HAVE_CURL) && defined(HAVE_LIBS3)
#define S3_CALL(store, name, ...) \
	s3_count(store, \
	    (store)->v2 ? s3_libs3_##name(__VA_ARGS__) : \
			  s3_curl_##name(__VA_ARGS__))
#elif defined(HAVE_CURL)
#define S3_CALL(store, name, ...) s3_count(store, s3_curl_##name(__VA_ARGS__))
#elif defined(HAVE_LIBS3)
#define S3_CALL(store, name, ...) s3_count(store, s3_libs3_##name(__VA_ARGS__))
#else
#define S3_CALL(store, name, ...) -1
#endif

int
s3_list_page(const struct cfg_store *store, const char *bucket,
    const char *prefix, const char *after, s3_list_cb cb, void *arg,
    char **next, struct s3_error *err)
{
	*next = NULL;
	if (s3_path_missing(store, bucket, NULL, err))
		return -1;
	return S3_CALL(store, list_page, store, bucket, prefix, after, cb, arg,
	    next, err);
}

int
s3_head(const struct cfg_store *store, const char *bucket, const char *key,
    struct s3_object *o, struct s3_error *err)
{
	if (s3_path_missing(store, bucket, key, err))
		return -1;
	return S3_CALL(store, head, store, bucket, key, o, err);
}

int
s3_get(const struct cfg_store *store, const char *bucket, const char *key,
    const char *if_match, uint64_t max, int fd, struct s3_object *o,
    struct s3_error *err)
{
	if (s3_path_missing(store, bucket, key, err))
		return -1;
	return S3_CALL(store, get, store, bucket, key, if_match, max, fd, o,
	    err);
}

int
s3_put(const struct cfg_store *store, const char *bucket, const char *key,
    int fd, const char *content_type, const struct s3_meta *meta, size_t nmeta,
    struct s3_object *o, struct s3_error *err)
{
	struct s3_meta *ascii;
	size_t i;
	int rc;

	if (s3_path_missing(store, bucket, key, err))
		return -1;
	/* Header values travel as plain ASCII: the key may be any bytes. */
	ascii = xcalloc(nmeta + 1, sizeof *ascii);
	for (i = 0; i < nmeta; i++) {
		ascii[i].name = meta[i].name;
		ascii[i].value = s3_encode(meta[i].value, S3_ENCODE_SLASH);
	}
	rc = S3_CALL(store, put, store, bucket, key, fd, content_type, ascii,
	    nmeta, o, err);
	for (i = 0; i < nmeta; i++)
		free((char *)ascii[i].value);
	free(ascii);
	return rc;
}

int
s3_delete(const struct cfg_store *store, const char *bucket, const char *key,
    struct s3_error *err)
{
	if (s3_path_missing(store, bucket, key, err))
		return -1;
	return S3_CALL(store, delete, store, bucket, key, err);
}

/* A store travels to a worker as "store=NAME" and the fields after it. */
void
s3_store_to_wire(const struct cfg_store *s, struct wire_msg *m)
{
	wire_add(m, "store", "%s", s->name);
	wire_add(m, "store.endpoint", "%s", s->endpoint);
	wire_add(m, "store.region", "%s", s->region);
	wire_add(m, "store.v2", "%d", s->v2);
	wire_add(m, "store.virtual-host", "%d", s->virtual_host);
	wire_add(m, "store.access-key", "%s", s->access_key);
	wire_add(m, "store.secret-key", "%s", s->secret_key);
	if (s->token != NULL)
		wire_add(m, "store.token", "%s", s->token);
	if (s->ca_file != NULL)
		wire_add(m, "store.ca-file", "%s", s->ca_file);
	wire_add(m, "store.verify-tls", "%d", s->verify_tls);
	wire_add(m, "store.connect-ms", "%" PRIu64, s->connect_timeout_ms);
	wire_add(m, "store.timeout-ms", "%" PRIu64, s->timeout_ms);
	wire_add(m, "store.multipart", "%" PRIu64, s->multipart_threshold);
}

/* Reads the store whose "store" field is at *i; leaves *i on its last. */
struct cfg_store *
s3_store_from_wire(const struct wire_msg *m, size_t *i)
{
	struct cfg_store *s = xcalloc(1, sizeof *s);
	const struct wire_field *f;
	char **text;
	const char *name;

	s->name = xstrdup(m->fields[*i].value);
	while (*i + 1 < m->nfields &&
	    strncmp(m->fields[*i + 1].name, "store.", 6) == 0) {
		f = &m->fields[++*i];
		name = f->name + 6;
		text = strcmp(name, "endpoint") == 0 ? &s->endpoint :
		    strcmp(name, "region") == 0      ? &s->region :
		    strcmp(name, "access-key") == 0  ? &s->access_key :
		    strcmp(name, "secret-key") == 0  ? &s->secret_key :
		    strcmp(name, "token") == 0       ? &s->token :
		    strcmp(name, "ca-file") == 0     ? &s->ca_file :
						       NULL;
		if (text != NULL) {
			free(*text);
			*text = xstrdup(f->value);
		} else if (strcmp(name, "v2") == 0)
			s->v2 = atoi(f->value);
		else if (strcmp(name, "virtual-host") == 0)
			s->virtual_host = atoi(f->value);
		else if (strcmp(name, "verify-tls") == 0)
			s->verify_tls = atoi(f->value);
		else if (strcmp(name, "connect-ms") == 0)
			s->connect_timeout_ms = strtoull(f->value, NULL, 10);
		else if (strcmp(name, "timeout-ms") == 0)
			s->timeout_ms = strtoull(f->value, NULL, 10);
		else if (strcmp(name, "multipart") == 0)
			s->multipart_threshold = strtoull(f->value, NULL, 10);
	}
	if (s->endpoint == NULL || s->region == NULL || s->access_key == NULL ||
	    s->secret_key == NULL) {
		s3_store_free(s);
		return NULL;
	}
	return s;
}

void
s3_store_free(struct cfg_store *s)
{
	if (s == NULL)
		return;
	cfg_store_clear(s);
	free(s);
}
