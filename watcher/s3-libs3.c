/* s3-libs3.c - S3 signature v2 through libs3, the only file with libs3.h. */

/*
 * libs3 2.0 (Debian's) signs v2 only, has no request timeout, sends a
 * space in a key as '+', which stores read as a literal plus, and cuts
 * keys of 1,023 bytes or more short in listings. It also sends a "." or
 * ".." segment of a key raw, and the libcurl under it resolves the
 * segment before sending: "b/../../other/x" in bucket "in" goes out as
 * GET /other/x, and libs3 has no way to say otherwise. Such keys (and
 * buckets) are refused before any request (s3_libs3_cannot_address),
 * since the request would address another object. Each call runs one
 * blocking request and turns libs3's status into an s3_error.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libs3.h>

#include "cfg.h"
#include "objtrigger.h"

struct s3_libs3_call {
	S3Status status;
	char message[512];
	s3_list_cb cb; /* list */
	void *arg;
	int cb_rc;
	char *last; /* the last key of the page */
	int truncated;
	int fd; /* get: to; put: from */
	uint64_t max, done, size;
	int too_big, io_errno;
	struct s3_object answer;
};

static void
s3_libs3_context(const struct cfg_store *s, const char *bucket,
    S3BucketContext *ctx)
{
	static int ready;
	const char *host = strstr(s->endpoint, "://") + 3;

	if (!ready &&
	    S3_initialize("objtrigger", S3_INIT_ALL, host) == S3StatusOK)
		ready = 1;
	memset(ctx, 0, sizeof *ctx);
	ctx->hostName = host;
	ctx->bucketName = bucket;
	ctx->protocol = strncmp(s->endpoint, "https", 5) == 0 ?
	    S3ProtocolHTTPS :
	    S3ProtocolHTTP;
	ctx->uriStyle =
	    s->virtual_host ? S3UriStyleVirtualHost : S3UriStylePath;
	ctx->accessKeyId = s->access_key;
	ctx->secretAccessKey = s->secret_key;
}

/* Why libs3 cannot address this bucket (NULL: any) and key (NULL: the
 * bucket itself), or NULL if it can. */
const char *
s3_libs3_cannot_address(const char *bucket, const char *key)
{
	/* Any version: libs3 lets libcurl resolve the segment. */
	if (bucket != NULL && s3_has_dot_segment(bucket))
		return "the bucket name is a dot segment ('.' or '..'), which "
		       "libs3 sends raw, to be resolved into another path";
	if (key != NULL && s3_has_dot_segment(key))
		return "the key has a dot segment ('.' or '..'), which libs3 "
		       "sends raw, to be resolved into another key or bucket";
	if (key == NULL)
		return NULL;
#ifndef HAVE_LIBS3_V4
	if (strchr(key, ' ') != NULL)
		return "the key has a space, which libs3 2.0 (signature v2) "
		       "sends as '+', the name of another object";
	/* Its listing parser keeps 1,023 bytes of a key. */
	if (strlen(key) >= S3_MAX_KEY_SIZE - 1)
		return "the key is 1,023 bytes or longer, which libs3 2.0 "
		       "(signature v2) cuts short in a listing";
#endif
	return NULL;
}

static S3Status
s3_libs3_properties(const S3ResponseProperties *p, void *arg)
{
	struct s3_libs3_call *c = arg;
	int i;

	s3_object_clear(&c->answer);
	if (p->eTag != NULL)
		c->answer.etag = s3_unquote(p->eTag, strlen(p->eTag));
	c->answer.size = p->contentLength;
	for (i = 0; i < p->metaDataCount; i++) {
		if (strcmp(p->metaData[i].name, "objtrigger-trigger") == 0)
			c->answer.made_by = xstrdup(p->metaData[i].value);
	}
	return S3StatusOK;
}

static void
s3_libs3_complete(S3Status status, const S3ErrorDetails *e, void *arg)
{
	struct s3_libs3_call *c = arg;

	c->status = status;
	if (e != NULL && e->message != NULL)
		snprintf(c->message, sizeof c->message, "%s", e->message);
}

static const S3ResponseHandler s3_libs3_handler = { s3_libs3_properties,
	s3_libs3_complete };

/* 0 if the call went well, else -1 with err from libs3's status. */
static int
s3_libs3_result(struct s3_libs3_call *c, struct s3_error *err)
{
	const char *name;

	if (s3_error_local(err, c->too_big, c->max, c->io_errno))
		return -1;
	if (c->status == S3StatusOK)
		return 0;
	name = S3_get_status_name(c->status);
	if (strncmp(name, "HttpError", 9) == 0)
		name += 9;
	else if (strncmp(name, "Error", 5) == 0)
		name += 5;
	s3_error_set(err, 0, name, "%s", c->message);
	err->retryable = S3_status_is_retryable(c->status) ||
	    strcmp(name, "SlowDown") == 0 ||
	    strcmp(name, "ServiceUnavailable") == 0 ||
	    strcmp(name, "InternalError") == 0 ||
	    strcmp(name, "RequestTimeout") == 0;
	return -1;
}

static S3Status
s3_libs3_list_cb(int truncated, const char *next, int n,
    const S3ListBucketContent *contents, int nprefixes, const char **prefixes,
    void *arg)
{
	struct s3_libs3_call *c = arg;
	struct s3_object o;
	const char *etag;
	int i;

	c->truncated = truncated;
	for (i = 0; i < n && c->cb_rc == 0; i++) {
		etag = contents[i].eTag != NULL ? contents[i].eTag : "";
		o.key = (char *)contents[i].key;
		o.etag = s3_unquote(etag, strlen(etag));
		o.size = contents[i].size;
		o.mtime = contents[i].lastModified * 1000;
		o.made_by = NULL;
		c->cb_rc = c->cb(c->arg, &o);
		free(o.etag);
		free(c->last);
		c->last = xstrdup(contents[i].key);
	}
	return c->cb_rc == 0 ? S3StatusOK : S3StatusAbortedByCallback;
}

int
s3_libs3_list_page(const struct cfg_store *store, const char *bucket,
    const char *prefix, const char *after, s3_list_cb cb, void *arg,
    char **next, struct s3_error *err)
{
	S3ListBucketHandler h = { s3_libs3_handler, s3_libs3_list_cb };
	struct s3_libs3_call c;
	S3BucketContext ctx;

	memset(&c, 0, sizeof c);
	c.cb = cb;
	c.arg = arg;
	s3_libs3_context(store, bucket, &ctx);
	S3_list_bucket(&ctx, *prefix != '\0' ? prefix : NULL, after, NULL, 1000,
	    NULL, &h, &c);
	s3_object_clear(&c.answer);
	if (c.cb_rc == 0 && s3_libs3_result(&c, err) != 0)
		c.cb_rc = -1;
	if (c.cb_rc == 0 && c.truncated)
		*next = c.last;
	else
		free(c.last);
	return c.cb_rc;
}

/* Hands over the answer (the caller's o takes it). */
static void
s3_libs3_answer(struct s3_libs3_call *c, struct s3_object *o, const char *key)
{
	s3_object_clear(o);
	*o = c->answer;
	o->key = xstrdup(key);
	memset(&c->answer, 0, sizeof c->answer);
}

int
s3_libs3_head(const struct cfg_store *store, const char *bucket,
    const char *key, struct s3_object *o, struct s3_error *err)
{
	struct s3_libs3_call c;
	S3BucketContext ctx;

	memset(&c, 0, sizeof c);
	s3_libs3_context(store, bucket, &ctx);
	S3_head_object(&ctx, key, NULL, &s3_libs3_handler, &c);
	if (s3_libs3_result(&c, err) != 0) {
		s3_object_clear(&c.answer);
		return -1;
	}
	s3_libs3_answer(&c, o, key);
	return 0;
}

static S3Status
s3_libs3_get_data(int size, const char *buf, void *arg)
{
	struct s3_libs3_call *c = arg;
	size_t done;
	ssize_t w;

	if (c->max != 0 && c->done + (uint64_t)size > c->max) {
		c->too_big = 1;
		return S3StatusAbortedByCallback;
	}
	for (done = 0; done < (size_t)size; done += (size_t)w) {
		w = write(c->fd, buf + done, (size_t)size - done);
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w < 0) {
			c->io_errno = errno;
			return S3StatusAbortedByCallback;
		}
	}
	c->done += (uint64_t)size;
	return S3StatusOK;
}

int
s3_libs3_get(const struct cfg_store *store, const char *bucket, const char *key,
    const char *if_match, uint64_t max, int fd, struct s3_object *o,
    struct s3_error *err)
{
	S3GetObjectHandler h = { s3_libs3_handler, s3_libs3_get_data };
	S3GetConditions cond = { -1, -1, NULL, NULL };
	struct s3_libs3_call c;
	S3BucketContext ctx;
	char *quoted = NULL;

	memset(&c, 0, sizeof c);
	c.fd = fd;
	c.max = max;
	if (if_match != NULL) {
		xasprintf(&quoted, "\"%s\"", if_match);
		cond.ifMatchETag = quoted;
	}
	s3_libs3_context(store, bucket, &ctx);
	S3_get_object(&ctx, key, &cond, 0, 0, NULL, &h, &c);
	free(quoted);
	if (s3_libs3_result(&c, err) != 0) {
		s3_object_clear(&c.answer);
		return -1;
	}
	s3_libs3_answer(&c, o, key);
	return 0;
}

static int
s3_libs3_put_data(int size, char *buf, void *arg)
{
	struct s3_libs3_call *c = arg;
	uint64_t left = c->size - c->done;
	ssize_t got;

	if (left == 0)
		return 0;
	got = pread(c->fd, buf,
	    left < (uint64_t)size ? (size_t)left : (size_t)size,
	    (off_t)c->done);
	if (got <= 0) {
		c->io_errno = got < 0 ? errno : EIO;
		return -1;
	}
	c->done += (uint64_t)got;
	return (int)got;
}

int
s3_libs3_put(const struct cfg_store *store, const char *bucket, const char *key,
    int fd, const char *content_type, const struct s3_meta *meta, size_t nmeta,
    struct s3_object *o, struct s3_error *err)
{
	S3PutObjectHandler h = { s3_libs3_handler, s3_libs3_put_data };
	S3PutProperties props;
	S3NameValue *nv = xcalloc(nmeta + 1, sizeof *nv);
	struct s3_libs3_call c;
	S3BucketContext ctx;
	off_t size = lseek(fd, 0, SEEK_END);
	size_t i;

	memset(&c, 0, sizeof c);
	memset(&props, 0, sizeof props);
	c.fd = fd;
	c.size = size > 0 ? (uint64_t)size : 0;
	props.contentType = content_type;
	props.expires = -1;
	for (i = 0; i < nmeta; i++) {
		nv[i].name = meta[i].name;
		nv[i].value = meta[i].value;
	}
	props.metaDataCount = (int)nmeta;
	props.metaData = nv;
	s3_libs3_context(store, bucket, &ctx);
	S3_put_object(&ctx, key, c.size, &props, NULL, &h, &c);
	free(nv);
	if (s3_libs3_result(&c, err) != 0) {
		s3_object_clear(&c.answer);
		return -1;
	}
	s3_libs3_answer(&c, o, key);
	return 0;
}

int
s3_libs3_delete(const struct cfg_store *store, const char *bucket,
    const char *key, struct s3_error *err)
{
	struct s3_libs3_call c;
	S3BucketContext ctx;

	memset(&c, 0, sizeof c);
	s3_libs3_context(store, bucket, &ctx);
	S3_delete_object(&ctx, key, NULL, &s3_libs3_handler, &c);
	s3_object_clear(&c.answer);
	return s3_libs3_result(&c, err);
}
