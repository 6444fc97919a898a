/* http.c - the http transform: calls an HTTP function with each input. */

/*
 * Each input of a job is one request, made with libcurl: the object's
 * bytes as the body of a binary-mode CloudEvent (send=object), streamed
 * from its file; its event as a structured-mode CloudEvent whose data is
 * the S3 event record (send=event); or the attributes alone (send=none).
 * The body of a 2xx answer is the output, written to the output folder
 * as it arrives; 408, 429, 5xx, a timeout or a failed connection is a
 * retry (not before Retry-After); any other answer rejects the input,
 * with its status line and the start of its body as the reason.
 *
 * The easy handle lives as long as the worker, so that connections are
 * kept alive from one job to the next.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "http.h"
#include "objtrigger-transform.h"

#define HTTP_ERROR_BODY 1024 /* bytes of a failed answer kept */
#define HTTP_MAX_REDIRECTS 5

enum http_send { HTTP_SEND_OBJECT, HTTP_SEND_EVENT, HTTP_SEND_NONE };

/* An instance: the parameters, read once per job. */
struct http {
	enum http_send send;
	const char *method;
	const char *url;
	const char *name;
	const char *ca_file;
	int verify_tls, follow, content_type; /* content_type: given */
	uint64_t timeout_ms, max_response;
	struct curl_slist *headers; /* the header= values */
	char token[4096]; /* "" for none */
};

/* One request and what came back. */
struct http_call {
	CURL *curl;
	int infd; /* the body's file; -1 for none */
	char path[4096]; /* the output */
	int outfd; /* -1 until the first byte */
	uint64_t received, max;
	int too_big, write_errno;
	char status[256]; /* the last status line */
	char retry_after[64];
	char error[HTTP_ERROR_BODY + 1]; /* the start of a failed answer */
	size_t errlen;
};

static CURL *http_curl;

static const char *const http_name_placeholders[] = { "{name}", "{stem}",
	"{ext}", "{id}", NULL };

/* Copies a header line's text without its line end. */
static void
http_copy_line(char *dst, size_t dstlen, const char *src, size_t len)
{
	while (len > 0 && (src[len - 1] == '\r' || src[len - 1] == '\n'))
		len--;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static size_t
http_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	size_t len = size * n, skip;

	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		http_copy_line(c->status, sizeof c->status, p, len);
		c->retry_after[0] = '\0';
	} else if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		skip = 12 + strspn(p + 12, " \t");
		if (skip < len)
			http_copy_line(c->retry_after, sizeof c->retry_after,
			    p + skip, len - skip);
	}
	return len;
}

/* The body of an answer: a 2xx one into the output file, up to
 * max-response; of another, the first KiB for the message. */
static size_t
http_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	size_t len = size * n, keep, done;
	long code = 0;
	ssize_t w;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		keep = HTTP_ERROR_BODY - c->errlen;
		if (keep > len)
			keep = len;
		memcpy(c->error + c->errlen, p, keep);
		c->errlen += keep;
		c->error[c->errlen] = '\0';
		return c->errlen < HTTP_ERROR_BODY ? len : 0;
	}
	if (len > c->max - c->received) {
		c->too_big = 1;
		return 0;
	}
	if (c->outfd < 0 &&
	    (c->outfd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		 0644)) < 0) {
		c->write_errno = errno;
		return 0;
	}
	for (done = 0; done < len; done += (size_t)w) {
		if ((w = write(c->outfd, p + done, len - done)) < 0 &&
		    errno != EINTR) {
			c->write_errno = errno;
			return 0;
		}
		if (w < 0)
			w = 0;
	}
	c->received += len;
	return len;
}

/* The object's bytes, read from its file as libcurl sends them. */
static size_t
http_read(char *p, size_t size, size_t n, void *arg)
{
	struct http_call *c = arg;
	ssize_t r;

	while ((r = read(c->infd, p, size * n)) < 0 && errno == EINTR)
		;
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

/* A redirect that keeps the body (307, 308) sends it again. */
static int
http_seek(void *arg, curl_off_t offset, int origin)
{
	struct http_call *c = arg;

	return lseek(c->infd, (off_t)offset, origin) < 0 ? CURL_SEEKFUNC_FAIL :
							   CURL_SEEKFUNC_OK;
}

/* Why a header= value cannot be sent, or NULL. */
static const char *
http_header_check(const char *h)
{
	static const char *const reserved[] = { "host", "content-length",
		"transfer-encoding", "expect", "authorization", NULL };
	size_t name = strspn(h,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "!#$%&'*+-.^_`|~");
	size_t i;

	if (name == 0 || h[name] != ':')
		return "a header is \"Name: value\"";
	if (strcspn(h, "\r\n") != strlen(h))
		return "a header is one line";
	if (strncasecmp(h, "ce-", 3) == 0)
		return "ce- headers are the event's attributes, set by the "
		       "transform";
	for (i = 0; reserved[i] != NULL; i++) {
		if (strlen(reserved[i]) == name &&
		    strncasecmp(h, reserved[i], name) == 0)
			return strcmp(reserved[i], "authorization") == 0 ?
			    "Authorization comes from token-file" :
			    "this header is libcurl's to set";
	}
	return NULL;
}

/* The values, together (init() reads the token itself). */
static enum ot_status
http_values(const struct ot_host *host, struct ot_context *ctx)
{
	const struct http_vars v = { "k", "b", "t", "i", 1 };
	const char *url = host->param(ctx, "url"), *why;
	const char *name = host->param(ctx, "name");
	char *expanded;
	CURLU *u;
	size_t i;
	int bad;

	if (url == NULL) /* the host says it is missing */
		return OT_OK;
	if ((why = http_url_check(url)) != NULL)
		return host->fail(ctx, OT_REJECT, "url=\"%s\": %s", url, why);
	if ((why = host->template_unknown(url, http_url_placeholders)) != NULL)
		return host->fail(ctx, OT_REJECT,
		    "url=\"%s\": unknown placeholder at \"%.20s\" (known: "
		    "{key} {dir} {name} {stem} {ext} {bucket} {trigger} {id} "
		    "{size})",
		    url, why);
	if ((expanded = http_url_expand(url, &v)) == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	u = curl_url();
	bad = u == NULL || curl_url_set(u, CURLUPART_URL, expanded, 0) != 0;
	curl_url_cleanup(u);
	free(expanded);
	if (bad)
		return host->fail(ctx, OT_REJECT, "url=\"%s\": not a URL", url);
	if ((why = host->template_unknown(name, http_name_placeholders)) !=
	    NULL)
		return host->fail(ctx, OT_REJECT,
		    "name=\"%s\": unknown placeholder at \"%.20s\" (known: "
		    "{name} {stem} {ext} {id})",
		    name, why);
	for (i = 0; i < host->param_count(ctx, "header"); i++) {
		if ((why = http_header_check(
			 host->param_at(ctx, "header", i))) != NULL)
			return host->fail(ctx, OT_REJECT, "header=\"%s\": %s",
			    host->param_at(ctx, "header", i), why);
	}
	return OT_OK;
}

/* check(): the values, and a token-file only its owner may read. */
static enum ot_status
http_check(const struct ot_host *host, struct ot_context *ctx)
{
	const char *token = host->param(ctx, "token-file");
	enum ot_status status = http_values(host, ctx);
	char secret[4096];
	int rc;

	if (status != OT_OK || token == NULL)
		return status;
	rc = host->read_secret(ctx, token, secret, sizeof secret);
	explicit_bzero(secret, sizeof secret);
	return rc == 0 ? OT_OK : OT_REJECT;
}

static void
http_fini(void *state)
{
	struct http *h = state;

	if (h == NULL)
		return;
	curl_slist_free_all(h->headers);
	explicit_bzero(h->token, sizeof h->token);
	free(h);
}

static enum ot_status
http_init(const struct ot_host *host, struct ot_context *ctx, void **state)
{
	const char *send = host->param(ctx, "send"), *v, *token;
	enum ot_status status;
	struct curl_slist *l;
	struct http *h;
	size_t i;

	if ((status = http_values(host, ctx)) != OT_OK)
		return status;
	if (http_curl == NULL &&
	    (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
		(http_curl = curl_easy_init()) == NULL))
		return host->fail(ctx, OT_RETRY, "cannot start libcurl");
	if ((h = calloc(1, sizeof *h)) == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	h->send = strcmp(send, "event") == 0 ? HTTP_SEND_EVENT :
	    strcmp(send, "none") == 0        ? HTTP_SEND_NONE :
					       HTTP_SEND_OBJECT;
	h->method = host->param(ctx, "method");
	h->url = host->param(ctx, "url");
	h->name = host->param(ctx, "name");
	h->ca_file = host->param(ctx, "ca-file");
	h->verify_tls = host->param_bool(ctx, "verify-tls");
	h->follow = host->param_bool(ctx, "follow");
	h->timeout_ms = host->param_duration_ms(ctx, "timeout");
	h->max_response = host->param_size(ctx, "max-response");
	for (i = 0; i < host->param_count(ctx, "header"); i++) {
		v = host->param_at(ctx, "header", i);
		h->content_type |= strncasecmp(v, "content-type:", 13) == 0;
		if ((l = curl_slist_append(h->headers, v)) == NULL) {
			http_fini(h);
			return host->fail(ctx, OT_RETRY, "out of memory");
		}
		h->headers = l;
	}
	token = host->param(ctx, "token-file");
	if (token != NULL &&
	    host->read_secret(ctx, token, h->token, sizeof h->token) != 0) {
		http_fini(h);
		return OT_REJECT;
	}
	*state = h;
	return OT_OK;
}

/* Adds "name: value" to a list, value encoded as the CloudEvents HTTP
 * binding says if enc; a NULL value ("name:") keeps libcurl from sending
 * its own. -1 if out of memory. */
static int
http_add(struct curl_slist **list, const char *name, const char *value, int enc)
{
	struct curl_slist *l;
	char *e = enc ? http_header_encode(value) : NULL, *line = NULL;

	if (enc && e == NULL)
		line = NULL;
	else if ((value == NULL ?
			 asprintf(&line, "%s:", name) :
			 asprintf(&line, "%s: %s", name, enc ? e : value)) < 0)
		line = NULL;
	l = line != NULL ? curl_slist_append(*list, line) : NULL;
	if (line != NULL)
		explicit_bzero(line, strlen(line)); /* it may hold the token */
	free(line);
	free(e);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

/* The headers of a request: the header= ones, the event's attributes
 * (binary mode), the content type, the token; NULL if out of memory. */
static struct curl_slist *
http_headers(const struct http *h, const struct ot_input *in,
    const struct ot_event *ev)
{
	struct curl_slist *list = NULL, *p, *l;
	char type[128], bearer[sizeof h->token + 8];
	int rc = 0;

	for (p = h->headers; p != NULL && rc == 0; p = p->next) {
		if ((l = curl_slist_append(list, p->data)) == NULL)
			rc = -1;
		else
			list = l;
	}
	snprintf(type, sizeof type, "com.amazonaws.s3.%s", ev->name);
	if (rc == 0 && h->send != HTTP_SEND_EVENT &&
	    (http_add(&list, "ce-specversion", "1.0", 0) != 0 ||
		http_add(&list, "ce-id", ev->id, 1) != 0 ||
		http_add(&list, "ce-source", ev->source, 1) != 0 ||
		http_add(&list, "ce-type", type, 1) != 0 ||
		http_add(&list, "ce-subject", in->key, 1) != 0 ||
		http_add(&list, "ce-time", ev->time, 1) != 0))
		rc = -1;
	if (rc == 0 && !h->content_type && h->send != HTTP_SEND_NONE)
		rc = http_add(&list, "Content-Type",
		    h->send == HTTP_SEND_EVENT ?
			"application/cloudevents+json; charset=utf-8" :
			ev->content_type,
		    0);
	/* Nothing libcurl would add: no body type, no 100-continue wait. */
	if (rc == 0 && !h->content_type && h->send == HTTP_SEND_NONE)
		rc = http_add(&list, "Content-Type", NULL, 0);
	if (rc == 0)
		rc = http_add(&list, "Expect", NULL, 0);
	if (rc == 0 && h->token[0] != '\0') {
		snprintf(bearer, sizeof bearer, "Bearer %s", h->token);
		rc = http_add(&list, "Authorization", bearer, 0);
		explicit_bzero(bearer, sizeof bearer);
	}
	if (rc != 0) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

/* The event as a structured-mode CloudEvent in JSON (allocated), or
 * NULL if out of memory. A subject that is not UTF-8 goes encoded. */
static char *
http_event_json(const struct ot_input *in, const struct ot_event *ev)
{
	json_t *data = json_loads(ev->record, 0, NULL), *e;
	char type[128], *subject = NULL, *s;

	snprintf(type, sizeof type, "com.amazonaws.s3.%s", ev->name);
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o*}", "specversion",
	    "1.0", "id", ev->id, "source", ev->source, "type", type, "time",
	    ev->time, "datacontenttype", "application/json", "data", data);
	if (e != NULL &&
	    json_object_set_new(e, "subject", json_string(in->key)) != 0 &&
	    (subject = http_header_encode(in->key)) != NULL)
		json_object_set_new(e, "subject", json_string(subject));
	s = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	free(subject);
	return s;
}

/* The output file's name, from name=: no '/', never "." or "..". */
static void
http_output_name(const char *tmpl, const struct ot_input *in,
    const struct ot_event *ev, char *out, size_t outlen)
{
	const char *p;
	size_t used = 0, n, len, i;

	while (*tmpl != '\0' && used + 1 < outlen) {
		for (i = 0; http_name_placeholders[i] != NULL; i++) {
			n = strlen(http_name_placeholders[i]);
			if (strncmp(tmpl, http_name_placeholders[i], n) == 0)
				break;
		}
		if (http_name_placeholders[i] == NULL) {
			p = tmpl;
			len = n = 1;
		} else if (i == 3) {
			p = ev->id;
			len = strlen(p);
		} else
			http_key_part(in->key, http_name_placeholders[i], &p,
			    &len);
		for (; len > 0 && used + 1 < outlen; len--, p++)
			out[used++] = *p == '/' ? '_' : *p;
		tmpl += n;
	}
	out[used] = '\0';
	if (used == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, outlen, "response");
}

static void
http_setopts(const struct http *h, struct http_call *c, const char *url,
    struct curl_slist *headers, char *errbuf)
{
	CURL *curl = c->curl;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A redirect keeps the scheme: none from https to http, nor up. */
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR,
	    strncasecmp(url, "https:", 6) == 0 ? "https" : "http");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, (long)h->follow);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	/* The function is called: a 301, 302 or 303 does not make the call
	 * a GET without a body, as browsers do. */
	curl_easy_setopt(curl, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)h->max_response);
	if (h->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, (long)h->verify_tls);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, h->verify_tls ? 2L : 0L);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	if (strcmp(h->method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, h->method);
}

/* What an answer (or its absence) means for the input. */
static enum ot_status
http_judge(const struct ot_host *host, struct ot_context *ctx,
    struct http_call *c, CURLcode rc, const char *what, const char *errbuf)
{
	uint64_t wait;
	long code = 0;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (c->write_errno != 0)
		return host->fail(ctx, OT_RETRY, "%s: writing the answer: %s",
		    what, strerror(c->write_errno));
	if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return host->fail(ctx, OT_REJECT,
		    "%s: the answer is larger than max-response (%llu bytes)",
		    what, (unsigned long long)c->max);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS)
		return host->fail(ctx, OT_REJECT, "%s: %s", what,
		    *errbuf != '\0' ? errbuf : curl_easy_strerror(rc));
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code != 0))
		return host->fail(ctx, OT_RETRY, "%s: %s", what,
		    *errbuf != '\0' ? errbuf : curl_easy_strerror(rc));
	if (code >= 200 && code <= 299)
		return OT_OK;
	if (code >= 300 && code <= 399)
		return host->fail(ctx, OT_REJECT,
		    "%s: %s: a redirect, not followed (follow=yes follows "
		    "those to the same scheme)",
		    what, c->status);
	if (code == 408 || code == 429 || code >= 500) {
		if (c->retry_after[0] != '\0' &&
		    http_retry_after(c->retry_after, time(NULL), &wait) == 0)
			host->retry_after(ctx, wait);
		return host->fail(ctx, OT_RETRY, "%s: %s: %s", what, c->status,
		    c->error);
	}
	return host->fail(ctx, OT_REJECT, "%s: %s: %s", what, c->status,
	    c->error);
}

/* Sends one input and takes its answer. */
static enum ot_status
http_call(struct http *h, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, size_t i)
{
	const struct ot_input *in = &job->inputs[i];
	const struct ot_event *ev = host->event(ctx, i);
	struct http_vars v = { in->key, in->bucket, job->trigger, "",
		in->size };
	char errbuf[CURL_ERROR_SIZE] = "", name[256], *url, *body = NULL;
	char what[512];
	struct http_call c = { .curl = http_curl, .infd = -1, .outfd = -1 };
	struct curl_slist *headers;
	enum ot_status status;
	struct stat sb;
	CURLcode rc;

	if (ev == NULL)
		return host->fail(ctx, OT_REJECT, "input %s has no event",
		    in->key);
	/* fetch="no" hands over an empty file in the object's stead. */
	if (h->send == HTTP_SEND_OBJECT &&
	    (fstat(in->fd, &sb) != 0 || (uint64_t)sb.st_size != in->size))
		return host->fail(ctx, OT_REJECT,
		    "send=object needs the object, which the trigger does not "
		    "fetch (fetch=\"no\"): send=event or send=none");
	v.id = ev->id;
	c.max = h->max_response;
	http_output_name(h->name, in, ev, name, sizeof name);
	snprintf(c.path, sizeof c.path, "%s/%s", job->outdir, name);
	if ((url = http_url_expand(h->url, &v)) == NULL ||
	    (headers = http_headers(h, in, ev)) == NULL) {
		free(url);
		return host->fail(ctx, OT_RETRY, "out of memory");
	}
	snprintf(what, sizeof what, "%s %s", h->method, url);
	http_setopts(h, &c, url, headers, errbuf);
	if (h->send == HTTP_SEND_OBJECT) {
		c.infd = in->fd;
		lseek(c.infd, 0, SEEK_SET);
		curl_easy_setopt(c.curl, CURLOPT_READFUNCTION, http_read);
		curl_easy_setopt(c.curl, CURLOPT_READDATA, &c);
		curl_easy_setopt(c.curl, CURLOPT_SEEKFUNCTION, http_seek);
		curl_easy_setopt(c.curl, CURLOPT_SEEKDATA, &c);
		curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)in->size);
	} else {
		if (h->send == HTTP_SEND_EVENT &&
		    (body = http_event_json(in, ev)) == NULL) {
			curl_slist_free_all(headers);
			free(url);
			return host->fail(ctx, OT_RETRY, "out of memory");
		}
		curl_easy_setopt(c.curl, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
		curl_easy_setopt(c.curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body != NULL ? strlen(body) : 0));
	}
	rc = curl_easy_perform(c.curl);
	status = http_judge(host, ctx, &c, rc, what, errbuf);
	if (c.outfd >= 0 && close(c.outfd) != 0 && status == OT_OK)
		status = host->fail(ctx, OT_RETRY, "%s: writing the answer: %s",
		    what, strerror(errno));
	if (status != OT_OK && c.outfd >= 0)
		unlink(c.path);
	if (status == OT_OK)
		host->log(ctx, OT_LOG_DEBUG, "%s: %s, %llu bytes", what,
		    c.status, (unsigned long long)c.received);
	curl_easy_setopt(c.curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	free(body);
	free(url);
	return status;
}

static enum ot_status
http_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	enum ot_status status = OT_OK;
	size_t i;

	for (i = 0; i < job->count && status == OT_OK; i++)
		status = http_call(state, host, ctx, job, i);
	return status;
}

static const struct ot_param http_params[] = {
	{ "url", OT_PARAM_STRING, OT_PARAM_REQUIRED, NULL,
	    "the function's http(s) URL; {key} {dir} {name} {stem} {ext} "
	    "{bucket} {trigger} {id} {size} in its path and query, "
	    "percent-encoded",
	    NULL, 0, 0 },
	{ "send", OT_PARAM_ENUM, 0, "object",
	    "the body: the object (a binary CloudEvent), its event (a "
	    "structured CloudEvent), or none",
	    "object|event|none", 0, 0 },
	{ "method", OT_PARAM_ENUM, 0, "POST", "the request's method",
	    "POST|PUT", 0, 0 },
	{ "header", OT_PARAM_STRING, OT_PARAM_REPEAT, NULL,
	    "a header to send, \"Name: value\"", NULL, 0, 0 },
	{ "token-file", OT_PARAM_STRING, 0, NULL,
	    "a file (mode 600) whose first line is sent as "
	    "\"Authorization: Bearer\"",
	    NULL, 0, 0 },
	{ "timeout", OT_PARAM_DURATION, 0, "30s",
	    "the most a request may take, answer included", NULL, 0, 0 },
	{ "max-response", OT_PARAM_SIZE, 0, "64MiB",
	    "the largest answer kept; a larger one rejects the input", NULL, 0,
	    0 },
	{ "name", OT_PARAM_STRING, 0, "{name}",
	    "the output's name: {name} {stem} {ext} of the key, the event's "
	    "{id}",
	    NULL, 0, 0 },
	{ "ca-file", OT_PARAM_STRING, 0, NULL,
	    "CA certificates to check the server's with (PEM)", NULL, 0, 0 },
	{ "verify-tls", OT_PARAM_BOOL, 0, "yes",
	    "check the server's certificate and name", NULL, 0, 0 },
	{ "follow", OT_PARAM_BOOL, 0, "no",
	    "follow redirects (5 at most, to the same scheme only)", NULL, 0,
	    0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform http_transform = {
	OT_TRANSFORM_HEADER,
	.name = "http",
	.version = PACKAGE_VERSION,
	.summary = "calls an HTTP function with each object or event "
		   "(CloudEvents), keeps its answer",
	.params = http_params,
	.init = http_init,
	.fini = http_fini,
	.run = http_run,
	.check = http_check,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &http_transform;
}
