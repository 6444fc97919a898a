/* s3-curl.c - S3 over libcurl, signed with its built-in AWS SigV4. */

/*
 * One easy handle per process, reset between requests so that its
 * connections are kept alive. Keys are bytes: each is percent-encoded
 * here, once, the way SigV4's canonical URI wants it, and the query of
 * every request is written already sorted and encoded, so the request
 * curl signs is the request the store checks. A key may hold a "." or
 * ".." segment: that is sent as %2E or %2E%2E, so that nothing on the way
 * resolves it into another key or bucket, while the signature covers the
 * canonical form the store computes from the decoded key (s3_url).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cfg.h"
#include "objtrigger.h"

#define S3_ANSWER_MAX (4 << 20) /* a listing page or an error */
#define S3_PART_SIZE (16ULL << 20)
#define S3_PARTS_MAX 10000

struct s3_req {
	const struct cfg_store *store;
	const char *method;
	const char *bucket;
	const char *key; /* NULL: the bucket itself */
	const char *query; /* sorted and encoded, or NULL */
	struct curl_slist *headers;

	int in_fd; /* the body, from a file... */
	uint64_t in_off, in_len;
	const char *in_buf; /* ... or from memory */

	int out_fd; /* a 2xx body goes here, else to buf */
	uint64_t out_max, out_len;
	int out_errno, out_too_big;

	char *buf;
	size_t len;
	long http;
	struct s3_object answer; /* from the headers */
};

static CURL *s3_curl;

/*
 * The URL curl signs, path as is: SigV4's canonical URI is the key
 * encoded once with '.' unreserved, as the store computes it from what it
 * decoded. If the bucket or key has a dot segment, the path sent is
 * another (*target, else NULL): the same with each such segment as %2E or
 * %2E%2E, which no server or proxy resolves and the store decodes back.
 */
static char *
s3_url(const struct s3_req *r, char **target)
{
	const char *ep = r->store->endpoint, *host = strstr(ep, "://") + 3;
	const char *key = r->key != NULL ? r->key : "";
	const char *q = r->query != NULL ? "?" : "";
	const char *query = r->query != NULL ? r->query : "";
	const char *slash = r->key != NULL ? "/" : "";
	char *b = s3_encode(r->bucket, 0), *k = s3_encode(key, S3_ENCODE_SLASH);
	char *url, *bt, *kt;

	if (r->store->virtual_host)
		xasprintf(&url, "%.*s%s.%s/%s%s%s", (int)(host - ep), ep, b,
		    host, k, q, query);
	else
		xasprintf(&url, "%s/%s%s%s%s%s", ep, b, slash, k, q, query);
	*target = NULL;
	if (s3_has_dot_segment(key) ||
	    (!r->store->virtual_host && s3_has_dot_segment(r->bucket))) {
		bt = s3_encode(r->bucket, S3_ENCODE_DOTS);
		kt = s3_encode(key, S3_ENCODE_SLASH | S3_ENCODE_DOTS);
		if (r->store->virtual_host)
			xasprintf(target, "/%s%s%s", kt, q, query);
		else
			xasprintf(target, "/%s%s%s%s%s", bt, slash, kt, q,
			    query);
		free(bt);
		free(kt);
	}
	free(b);
	free(k);
	return url;
}

static size_t
s3_curl_header(char *line, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n;
	struct {
		const char *name;
		char **slot;
	} wanted[] = { { "etag:", &r->answer.etag },
		{ "x-amz-meta-objtrigger-trigger:", &r->answer.made_by } };
	size_t i, k;

	if (len > 5 && strncmp(line, "HTTP/", 5) == 0) /* a new answer */
		s3_object_clear(&r->answer);
	for (i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
		k = strlen(wanted[i].name);
		if (len > k && strncasecmp(line, wanted[i].name, k) == 0) {
			free(*wanted[i].slot);
			*wanted[i].slot = s3_unquote(line + k, len - k);
		}
	}
	if (len > 15 && strncasecmp(line, "content-length:", 15) == 0)
		r->answer.size = strtoull(line + 15, NULL, 10);
	return len;
}

static size_t
s3_curl_body(char *data, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n, done;
	long http = 0;
	ssize_t w;

	curl_easy_getinfo(s3_curl, CURLINFO_RESPONSE_CODE, &http);
	if (r->out_fd >= 0 && http / 100 == 2) {
		if (r->out_max != 0 && r->out_len + len > r->out_max) {
			r->out_too_big = 1;
			return 0;
		}
		for (done = 0; done < len; done += (size_t)w) {
			w = write(r->out_fd, data + done, len - done);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0) {
				r->out_errno = errno;
				return 0;
			}
		}
		r->out_len += len;
		return len;
	}
	if (r->len + len > S3_ANSWER_MAX)
		return 0;
	r->buf = xreallocarray(r->buf, r->len + len + 1, 1);
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

static size_t
s3_curl_read(char *data, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t want = size * n;
	ssize_t got;

	if (want > r->in_len)
		want = (size_t)r->in_len;
	if (want == 0)
		return 0;
	if (r->in_buf != NULL) {
		memcpy(data, r->in_buf, want);
		r->in_buf += want;
		got = (ssize_t)want;
	} else if ((got = pread(r->in_fd, data, want, (off_t)r->in_off)) <= 0)
		return CURL_READFUNC_ABORT;
	r->in_off += (uint64_t)got;
	r->in_len -= (uint64_t)got;
	return (size_t)got;
}

/* The text of a child element of an XML node, or NULL. */
static char *
s3_xml_child(xmlNode *parent, const char *name)
{
	xmlNode *c;
	xmlChar *v;
	char *s;

	for (c = parent->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0) {
			v = xmlNodeGetContent(c);
			s = xstrdup(v != NULL ? (const char *)v : "");
			xmlFree(v);
			return s;
		}
	}
	return NULL;
}

/* A time child of an XML node (ISO 8601, UTC), in ms since the epoch;
 * 0 if it has none or it does not read. */
static int64_t
s3_xml_time(xmlNode *parent, const char *name)
{
	char *text = s3_xml_child(parent, name), *end;
	struct tm tm;
	int64_t ms = 0;

	memset(&tm, 0, sizeof tm);
	if (text != NULL &&
	    (end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL)
		ms = (int64_t)timegm(&tm) * 1000;
	free(text);
	return ms;
}

/* The ETag child of an XML node, without its quotes, or NULL. */
static char *
s3_xml_etag(xmlNode *parent)
{
	char *quoted = s3_xml_child(parent, "ETag"), *etag;

	if (quoted == NULL)
		return NULL;
	etag = s3_unquote(quoted, strlen(quoted));
	free(quoted);
	return etag;
}

static xmlDoc *
s3_xml_parse(const struct s3_req *r)
{
	if (r->buf == NULL)
		return NULL;
	return xmlReadMemory(r->buf, (int)r->len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* Fills err from an answer that is not 2xx (or a 2xx holding <Error>). */
static void
s3_answer_error(const struct s3_req *r, struct s3_error *err)
{
	xmlDoc *doc = s3_xml_parse(r);
	xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	char *code = NULL, *message = NULL;

	if (root != NULL && strcmp((const char *)root->name, "Error") == 0) {
		code = s3_xml_child(root, "Code");
		message = s3_xml_child(root, "Message");
	}
	if (code == NULL)
		code = xstrdup(r->http == 404 ? "NotFound" :
			r->http == 403        ? "AccessDenied" :
			r->http == 412        ? "PreconditionFailed" :
			r->http == 503        ? "SlowDown" :
						"HTTPError");
	s3_error_set(err, r->http, code, "%s", message != NULL ? message : "");
	free(code);
	free(message);
	xmlFreeDoc(doc);
}

/* libcurl keeps descriptors of its own across requests (its connections
 * to the stores, a socket pair to wake itself), not all opened
 * close-on-exec: after each request every descriptor of the process is
 * made so, so that none reaches a command or a process started later. */
static void
s3_curl_cloexec(void)
{
	struct dirent *de;
	int fd, dfd;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (fd > 2 && fd != dfd)
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	closedir(d);
}

/* Sends a request; 0 for a 2xx answer, else -1 with err filled. */
static int
s3_perform(struct s3_req *r, struct s3_error *err)
{
	const struct cfg_store *s = r->store;
	char *target, *url = s3_url(r, &target), sigv4[128];
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = r->headers;
	CURLcode rc;

	if (s3_curl == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		s3_curl = curl_easy_init();
	}
	curl_easy_reset(s3_curl);
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", s->region);
	h = curl_slist_append(h, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s->token != NULL) {
		char *t;

		xasprintf(&t, "x-amz-security-token: %s", s->token);
		h = curl_slist_append(h, t);
		free(t);
	}
	r->headers = h;
	curl_easy_setopt(s3_curl, CURLOPT_URL, url);
	curl_easy_setopt(s3_curl, CURLOPT_PATH_AS_IS, 1L);
	if (target != NULL)
		curl_easy_setopt(s3_curl, CURLOPT_REQUEST_TARGET, target);
	curl_easy_setopt(s3_curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(s3_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s3_curl, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(s3_curl, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(s3_curl, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(s3_curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(s3_curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(s3_curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)s->connect_timeout_ms);
	/* A transfer may be long; one that stalls for timeout is dead. */
	curl_easy_setopt(s3_curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(s3_curl, CURLOPT_LOW_SPEED_TIME,
	    (long)((s->timeout_ms + 999) / 1000));
	if (r->out_fd < 0 && r->in_fd < 0)
		curl_easy_setopt(s3_curl, CURLOPT_TIMEOUT_MS,
		    (long)s->timeout_ms);
	if (s->ca_file != NULL)
		curl_easy_setopt(s3_curl, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(s3_curl, CURLOPT_SSL_VERIFYPEER,
	    (long)(s->verify_tls != 0));
	curl_easy_setopt(s3_curl, CURLOPT_SSL_VERIFYHOST,
	    s->verify_tls ? 2L : 0L);
	curl_easy_setopt(s3_curl, CURLOPT_HEADERFUNCTION, s3_curl_header);
	curl_easy_setopt(s3_curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(s3_curl, CURLOPT_WRITEFUNCTION, s3_curl_body);
	curl_easy_setopt(s3_curl, CURLOPT_WRITEDATA, r);
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(s3_curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(s3_curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(s3_curl, CURLOPT_READFUNCTION, s3_curl_read);
		curl_easy_setopt(s3_curl, CURLOPT_READDATA, r);
		curl_easy_setopt(s3_curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->in_len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(s3_curl, CURLOPT_POST, 1L);
		curl_easy_setopt(s3_curl, CURLOPT_POSTFIELDS,
		    r->in_buf != NULL ? r->in_buf : "");
		curl_easy_setopt(s3_curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->in_len);
	} else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(s3_curl, CURLOPT_CUSTOMREQUEST, r->method);

	rc = curl_easy_perform(s3_curl);
	s3_curl_cloexec();
	free(url);
	free(target);
	r->http = 0;
	curl_easy_getinfo(s3_curl, CURLINFO_RESPONSE_CODE, &r->http);
	if (s3_error_local(err, r->out_too_big, r->out_max, r->out_errno))
		return -1;
	if (rc != CURLE_OK) {
		s3_error_set(err, 0, curl_easy_strerror(rc), "%s", errbuf);
		return -1;
	}
	if (r->http / 100 != 2) {
		s3_answer_error(r, err);
		return -1;
	}
	return 0;
}

static void
s3_req_init(struct s3_req *r, const struct cfg_store *store, const char *method,
    const char *bucket, const char *key)
{
	memset(r, 0, sizeof *r);
	r->store = store;
	r->method = method;
	r->bucket = bucket;
	r->key = key;
	r->in_fd = r->out_fd = -1;
}

static void
s3_req_clear(struct s3_req *r)
{
	curl_slist_free_all(r->headers);
	free(r->buf);
	s3_object_clear(&r->answer);
}

/* Hands over the answer's headers (the caller's o takes them). */
static void
s3_req_answer(struct s3_req *r, struct s3_object *o, const char *key)
{
	if (o == NULL)
		return;
	s3_object_clear(o);
	*o = r->answer;
	memset(&r->answer, 0, sizeof r->answer);
	o->key = xstrdup(key);
}

int
s3_curl_list_page(const struct cfg_store *store, const char *bucket,
    const char *prefix, const char *after, s3_list_cb cb, void *arg,
    char **next, struct s3_error *err)
{
	struct s3_req r;
	struct s3_object o;
	xmlDoc *doc;
	xmlNode *root, *c;
	char *query, *p = s3_encode(prefix, 0), *a = NULL, *size, *truncated;
	int rc = 0;

	if (after != NULL)
		a = s3_encode(after, 0);
	xasprintf(&query, "list-type=2&max-keys=1000&prefix=%s%s%s", p,
	    a != NULL ? "&start-after=" : "", a != NULL ? a : "");
	free(p);
	free(a);
	s3_req_init(&r, store, "GET", bucket, NULL);
	r.query = query;
	if (s3_perform(&r, err) != 0) {
		free(query);
		s3_req_clear(&r);
		return -1;
	}
	free(query);
	doc = s3_xml_parse(&r);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL ||
	    strcmp((const char *)root->name, "ListBucketResult") != 0) {
		s3_error_set(err, r.http, "BadListing",
		    "the answer is not a ListBucketResult");
		xmlFreeDoc(doc);
		s3_req_clear(&r);
		return -1;
	}
	memset(&o, 0, sizeof o);
	for (c = root->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, "Contents") != 0)
			continue;
		s3_object_clear(&o);
		o.key = s3_xml_child(c, "Key");
		o.etag = s3_xml_etag(c);
		size = s3_xml_child(c, "Size");
		o.size = size != NULL ? strtoull(size, NULL, 10) : 0;
		free(size);
		o.mtime = s3_xml_time(c, "LastModified");
		if (o.key != NULL && o.etag != NULL)
			rc = cb(arg, &o);
	}
	truncated = s3_xml_child(root, "IsTruncated");
	if (rc == 0 && truncated != NULL && strcmp(truncated, "true") == 0 &&
	    o.key != NULL) {
		*next = o.key;
		o.key = NULL;
	}
	free(truncated);
	s3_object_clear(&o);
	xmlFreeDoc(doc);
	s3_req_clear(&r);
	return rc;
}

int
s3_curl_head(const struct cfg_store *store, const char *bucket, const char *key,
    struct s3_object *o, struct s3_error *err)
{
	struct s3_req r;
	int rc;

	s3_req_init(&r, store, "HEAD", bucket, key);
	if ((rc = s3_perform(&r, err)) == 0)
		s3_req_answer(&r, o, key);
	s3_req_clear(&r);
	return rc;
}

int
s3_curl_get(const struct cfg_store *store, const char *bucket, const char *key,
    const char *if_match, uint64_t max, int fd, struct s3_object *o,
    struct s3_error *err)
{
	struct s3_req r;
	char *h;
	int rc;

	s3_req_init(&r, store, "GET", bucket, key);
	r.out_fd = fd;
	r.out_max = max;
	if (if_match != NULL) {
		xasprintf(&h, "If-Match: \"%s\"", if_match);
		r.headers = curl_slist_append(r.headers, h);
		free(h);
	}
	if ((rc = s3_perform(&r, err)) == 0)
		s3_req_answer(&r, o, key);
	s3_req_clear(&r);
	return rc;
}

/* Adds the headers of a new object: its type and its metadata. */
static void
s3_put_headers(struct s3_req *r, const char *content_type,
    const struct s3_meta *meta, size_t nmeta)
{
	char *h;
	size_t i;

	xasprintf(&h, "Content-Type: %s", content_type);
	r->headers = curl_slist_append(r->headers, h);
	free(h);
	for (i = 0; i < nmeta; i++) {
		xasprintf(&h, "x-amz-meta-%s: %s", meta[i].name, meta[i].value);
		r->headers = curl_slist_append(r->headers, h);
		free(h);
	}
}

static int
s3_curl_put_simple(const struct cfg_store *store, const char *bucket,
    const char *key, int fd, uint64_t size, const char *content_type,
    const struct s3_meta *meta, size_t nmeta, struct s3_object *o,
    struct s3_error *err)
{
	struct s3_req r;
	int rc;

	s3_req_init(&r, store, "PUT", bucket, key);
	r.in_fd = fd;
	r.in_len = size;
	s3_put_headers(&r, content_type, meta, nmeta);
	if ((rc = s3_perform(&r, err)) == 0)
		s3_req_answer(&r, o, key);
	s3_req_clear(&r);
	return rc;
}

/* A multipart upload under way: its id and the ETags of its parts. */
struct s3_upload {
	const struct cfg_store *store;
	const char *bucket, *key;
	char *id;
	char **etags;
	size_t nparts;
};

static int
s3_upload_start(struct s3_upload *u, const char *content_type,
    const struct s3_meta *meta, size_t nmeta, struct s3_error *err)
{
	struct s3_req r;
	xmlDoc *doc;
	xmlNode *root;
	int rc;

	s3_req_init(&r, u->store, "POST", u->bucket, u->key);
	r.query = "uploads=";
	s3_put_headers(&r, content_type, meta, nmeta);
	if ((rc = s3_perform(&r, err)) == 0) {
		doc = s3_xml_parse(&r);
		root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
		if (root != NULL)
			u->id = s3_xml_child(root, "UploadId");
		if (u->id == NULL) {
			s3_error_set(err, r.http, "BadAnswer",
			    "no UploadId in the answer");
			rc = -1;
		}
		xmlFreeDoc(doc);
	}
	s3_req_clear(&r);
	return rc;
}

static int
s3_upload_part(struct s3_upload *u, int fd, uint64_t off, uint64_t len,
    struct s3_error *err)
{
	struct s3_req r;
	char *query, *id = s3_encode(u->id, 0);
	int rc;

	xasprintf(&query, "partNumber=%zu&uploadId=%s", u->nparts + 1, id);
	free(id);
	s3_req_init(&r, u->store, "PUT", u->bucket, u->key);
	r.query = query;
	r.in_fd = fd;
	r.in_off = off;
	r.in_len = len;
	if ((rc = s3_perform(&r, err)) == 0 && r.answer.etag == NULL) {
		s3_error_set(err, r.http, "BadAnswer", "a part has no ETag");
		rc = -1;
	}
	if (rc == 0) {
		u->etags =
		    xreallocarray(u->etags, u->nparts + 1, sizeof *u->etags);
		u->etags[u->nparts++] = xstrdup(r.answer.etag);
	}
	free(query);
	s3_req_clear(&r);
	return rc;
}

static int
s3_upload_finish(struct s3_upload *u, struct s3_object *o, struct s3_error *err)
{
	struct s3_req r;
	char *query, *id = s3_encode(u->id, 0), *body, *prev;
	xmlDoc *doc;
	xmlNode *root;
	size_t i;
	int rc;

	xasprintf(&body, "<CompleteMultipartUpload>");
	for (i = 0; i < u->nparts; i++) {
		prev = body;
		xasprintf(&body,
		    "%s<Part><PartNumber>%zu</PartNumber>"
		    "<ETag>\"%s\"</ETag></Part>",
		    prev, i + 1, u->etags[i]);
		free(prev);
	}
	prev = body;
	xasprintf(&body, "%s</CompleteMultipartUpload>", prev);
	free(prev);
	xasprintf(&query, "uploadId=%s", id);
	free(id);
	s3_req_init(&r, u->store, "POST", u->bucket, u->key);
	r.query = query;
	r.in_buf = body;
	r.in_len = strlen(body);
	r.headers =
	    curl_slist_append(r.headers, "Content-Type: application/xml");
	rc = s3_perform(&r, err);
	/* The answer may be 200 and still say <Error>, after a while. */
	doc = rc == 0 ? s3_xml_parse(&r) : NULL;
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (rc == 0 && root != NULL &&
	    strcmp((const char *)root->name, "Error") == 0) {
		s3_answer_error(&r, err);
		err->retryable = 1;
		rc = -1;
	} else if (rc == 0 && o != NULL) {
		s3_object_clear(o);
		o->key = xstrdup(u->key);
		o->etag = root != NULL ? s3_xml_etag(root) : NULL;
	}
	xmlFreeDoc(doc);
	free(query);
	free(body);
	s3_req_clear(&r);
	return rc;
}

/* Aborts an upload that failed, so its parts do not linger. */
static void
s3_upload_abort(struct s3_upload *u)
{
	struct s3_error err;
	struct s3_req r;
	char *query, *id = s3_encode(u->id, 0);

	xasprintf(&query, "uploadId=%s", id);
	free(id);
	s3_req_init(&r, u->store, "DELETE", u->bucket, u->key);
	r.query = query;
	if (s3_perform(&r, &err) != 0)
		log_warn("store %s: aborting the upload of %s/%s: %s %s",
		    u->store->name, u->bucket, u->key, err.code, err.message);
	free(query);
	s3_req_clear(&r);
}

static int
s3_curl_put_multipart(const struct cfg_store *store, const char *bucket,
    const char *key, int fd, uint64_t size, const char *content_type,
    const struct s3_meta *meta, size_t nmeta, struct s3_object *o,
    struct s3_error *err)
{
	struct s3_upload u = { store, bucket, key, NULL, NULL, 0 };
	uint64_t part = store->multipart_threshold < S3_PART_SIZE ?
	    store->multipart_threshold :
	    S3_PART_SIZE,
		 off;
	int rc;
	size_t i;

	if (size / part >= S3_PARTS_MAX)
		part = size / (S3_PARTS_MAX - 1);
	if (s3_upload_start(&u, content_type, meta, nmeta, err) != 0)
		return -1;
	for (off = 0, rc = 0; off < size && rc == 0; off += part)
		rc = s3_upload_part(&u, fd, off,
		    size - off < part ? size - off : part, err);
	if (rc == 0)
		rc = s3_upload_finish(&u, o, err);
	if (rc != 0)
		s3_upload_abort(&u);
	for (i = 0; i < u.nparts; i++)
		free(u.etags[i]);
	free(u.etags);
	free(u.id);
	return rc;
}

int
s3_curl_put(const struct cfg_store *store, const char *bucket, const char *key,
    int fd, const char *content_type, const struct s3_meta *meta, size_t nmeta,
    struct s3_object *o, struct s3_error *err)
{
	off_t size = lseek(fd, 0, SEEK_END);

	if (size < 0) {
		s3_error_set(err, 0, "ReadFailed", "%s", strerror(errno));
		err->retryable = 0;
		return -1;
	}
	if ((uint64_t)size > store->multipart_threshold)
		return s3_curl_put_multipart(store, bucket, key, fd,
		    (uint64_t)size, content_type, meta, nmeta, o, err);
	return s3_curl_put_simple(store, bucket, key, fd, (uint64_t)size,
	    content_type, meta, nmeta, o, err);
}

int
s3_curl_delete(const struct cfg_store *store, const char *bucket,
    const char *key, struct s3_error *err)
{
	struct s3_req r;
	int rc;

	s3_req_init(&r, store, "DELETE", bucket, key);
	rc = s3_perform(&r, err);
	s3_req_clear(&r);
	return rc;
}
