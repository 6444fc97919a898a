/* http.c - the HTTP server: webhooks, /metrics, /healthz (libmicrohttpd). */

/*
 * libmicrohttpd runs inside the daemon's own poll loop (external epoll
 * mode): one thread, no locks, and a slow client costs a connection, not
 * a thread. A request whose answer has to wait (a webhook's records are
 * answered only once the journal committed them) is suspended, and
 * resumed by http_answer; the daemon commits once per turn, so every
 * request of a turn shares one commit.
 *
 * libmicrohttpd's timeout is an idle one: a client sending a byte a
 * second keeps its connection forever. So each connection's request has
 * deadlines of its own, for its headers and then its body, and one past
 * them is shut down (its socket; libmicrohttpd then closes it). A client
 * address may hold only so many connections. Paths are not
 * percent-decoded: they are matched as sent.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "cfg.h"
#include "objtrigger.h"

#define HTTP_BACKLOG 1024
#define HTTP_MAX_HEADERS 4

/* A connection, and the deadline of what it is sending. */
enum http_phase { HTTP_HEADERS, HTTP_BODY, HTTP_WAITING };
struct http_conn {
	int fd;
	enum http_phase phase;
	uint64_t since; /* ms, when the phase began */
	struct http_conn *prev, *next;
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct http_hooks hooks;
	uint64_t max_body;
	uint64_t header_timeout_ms, body_timeout_ms;
	char *cert, *key; /* PEM, kept while the server runs */
	int listen_fd;
	struct http_conn *conns;
};

struct http_request {
	struct http_server *server;
	struct MHD_Connection *conn;
	struct http_conn *c;
	char *method, *path;
	char *body;
	size_t len, size;
	int too_big, ended, held;
	void *arg;

	/* The answer, once given. */
	int answered;
	unsigned code;
	char *type, *text;
	size_t text_len;
	char *headers[HTTP_MAX_HEADERS][2];
	size_t nheaders;
};

static void http_log(void *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
http_log(void *arg, const char *fmt, va_list ap)
{
	char *msg;
	size_t len;

	(void)arg;
	len = (size_t)xvasprintf(&msg, fmt, ap);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_warn("http: %s", msg);
	free(msg);
}

/* Reads a PEM file whole: a regular file that only its owner may change
 * (a FIFO would hang the start, a writable key lets others swap it). */
static char *
http_read_file(const char *path, char **cause)
{
	char *text, *why, buf[4096];
	size_t len, n;
	FILE *f, *out;
	int fd;

	if ((fd = cfg_open_secret(path, 0, &why)) < 0) {
		xasprintf(cause, "http: %s", why);
		free(why);
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		xasprintf(cause, "http: cannot read %s: %s", path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	if ((out = open_memstream(&text, &len)) == NULL)
		fatal("out of memory");
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, out);
	explicit_bzero(buf, sizeof buf);
	fclose(f);
	fclose(out);
	return text;
}

/* A listening socket on host:port, with the reason if there is none. */
static int
http_listen(const char *listen_on, char **cause)
{
	struct addrinfo hints, *ai = NULL;
	char *host = xstrdup(listen_on), *port = strrchr(host, ':');
	int fd = -1, rc, one = 1;

	*port++ = '\0';
	if (*host == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		xasprintf(cause, "http: listen=\"%s\": %s", listen_on,
		    gai_strerror(rc));
	else if ((fd = socket(ai->ai_family,
		      ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, HTTP_BACKLOG) != 0) {
		xasprintf(cause, "http: cannot listen on %s: %s", listen_on,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	return fd;
}

static struct http_conn *
http_conn_of(struct MHD_Connection *conn)
{
	return MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT)
	    ->socket_context;
}

static void
http_phase(struct http_conn *c, enum http_phase phase)
{
	if (c == NULL)
		return;
	c->phase = phase;
	c->since = now_ms();
}

static void
http_request_free(struct http_request *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i][0]);
		free(r->headers[i][1]);
	}
	free(r->method);
	free(r->path);
	free(r->body);
	free(r->type);
	free(r->text);
	free(r);
}

/* Hands the answer to libmicrohttpd. */
static enum MHD_Result
http_queue(struct http_request *r)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char code[8];
	size_t i;

	resp = MHD_create_response_from_buffer(r->text_len, r->text,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i][0],
		    r->headers[i][1]);
	rc = MHD_queue_response(r->conn, r->code, resp);
	MHD_destroy_response(resp);
	snprintf(code, sizeof code, "%u", r->code);
	metrics_add(M_HTTP_REQUESTS, 1, "code", code, NULL);
	return rc;
}

/* Takes a piece of the body, or notes that the body is over the limit. */
static void
http_take(struct http_request *r, const char *data, size_t n)
{
	if (r->too_big || r->answered)
		return;
	if (r->len + n > r->server->max_body) {
		r->too_big = 1;
		free(r->body);
		r->body = NULL;
		r->len = r->size = 0;
		return;
	}
	if (r->len + n + 1 > r->size) {
		r->size = (r->len + n + 1) * 2;
		if (r->size > r->server->max_body + 1)
			r->size = r->server->max_body + 1;
		r->body = xreallocarray(r->body, r->size, 1);
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

static void
http_too_big(struct http_request *r)
{
	http_answer_json(r, 413,
	    "{\"error\":\"the body is over max-body (%" PRIu64 " bytes)\"}",
	    r->server->max_body);
}

/* A request to a path of the server's own, /metrics or /healthz: 1 if
 * it is one, answered. */
static int
http_own_path(struct http_server *s, struct http_request *r)
{
	int metrics = strcmp(r->path, "/metrics") == 0;

	if (!metrics && strcmp(r->path, "/healthz") != 0)
		return 0;
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		http_header_add(r, "Allow", "GET");
		http_answer_error(r, 405, "GET only");
	} else if (metrics)
		s->hooks.metrics(s->hooks.arg, r);
	else
		s->hooks.health(s->hooks.arg, r);
	return 1;
}

/* A request whose headers are in: answer it now, or take its body. */
static struct http_request *
http_begin(struct http_server *s, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct http_request *r = xcalloc(1, sizeof *r);
	const char *length;

	r->server = s;
	r->conn = conn;
	r->method = xstrdup(method);
	r->path = xstrdup(url);
	r->body = xstrdup("");
	length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length != NULL && strtoull(length, NULL, 10) > s->max_body)
		http_too_big(r);
	else if (!http_own_path(s, r))
		s->hooks.begin(s->hooks.arg, r);
	return r;
}

static enum MHD_Result
http_access(void *arg, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data, size_t *n,
    void **state)
{
	struct http_server *s = arg;
	struct http_request *r = *state;

	(void)version;
	if (r == NULL) {
		*state = r = http_begin(s, conn, url, method);
		http_phase(r->c = http_conn_of(conn), HTTP_BODY);
		return r->answered ? http_queue(r) : MHD_YES;
	}
	if (*n > 0) {
		http_take(r, data, *n);
		*n = 0;
		return MHD_YES;
	}
	if (r->answered)
		return http_queue(r);
	if (r->too_big)
		http_too_big(r);
	else if (!r->ended) {
		r->ended = 1;
		s->hooks.end(s->hooks.arg, r);
	}
	if (r->answered)
		return http_queue(r);
	r->held = 1; /* until http_answer */
	http_phase(r->c, HTTP_WAITING);
	MHD_suspend_connection(conn);
	return MHD_YES;
}

/* A request ended: on a kept-alive connection, the next one's headers
 * are due. */
static void
http_completed(void *arg, struct MHD_Connection *conn, void **state,
    enum MHD_RequestTerminationCode why)
{
	(void)arg;
	(void)why;
	http_phase(http_conn_of(conn), HTTP_HEADERS);
	if (*state != NULL)
		http_request_free(*state);
	*state = NULL;
}

/* A connection opens or closes: it is followed while it is open. */
static void
http_connection(void *arg, struct MHD_Connection *conn, void **context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = arg;
	struct http_conn *c = *context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = xcalloc(1, sizeof *c);
		c->fd = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD)
			    ->connect_fd;
		http_phase(c, HTTP_HEADERS);
		if ((c->next = s->conns) != NULL)
			c->next->prev = c;
		s->conns = c;
		*context = c;
		return;
	}
	if (c == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	*context = NULL;
}

/* A path as sent: libmicrohttpd would decode %XX (%00 included). */
static size_t
http_no_unescape(void *arg, struct MHD_Connection *conn, char *s)
{
	(void)arg;
	(void)conn;
	return strlen(s);
}

/* Shuts down the connections past their deadline; returns the ms until
 * the next deadline, or -1 if none. */
static int
http_deadlines(struct http_server *s)
{
	uint64_t now = now_ms(), limit, next = UINT64_MAX;
	struct http_conn *c;

	for (c = s->conns; c != NULL; c = c->next) {
		if (c->phase == HTTP_WAITING)
			continue;
		limit = c->since +
		    (c->phase == HTTP_HEADERS ? s->header_timeout_ms :
						s->body_timeout_ms);
		if (limit <= now) {
			shutdown(c->fd, SHUT_RDWR);
			c->phase = HTTP_WAITING; /* once */
		} else if (limit < next)
			next = limit;
	}
	return next == UINT64_MAX ?
	    -1 :
	    (int)(next - now > 60000 ? 60000 : next - now);
}

struct http_server *
http_new(const struct cfg_http *c, const struct http_hooks *hooks, char **cause)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	unsigned flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	s->hooks = *hooks;
	s->listen_fd = -1;
	s->max_body = c->max_body;
	s->header_timeout_ms = c->header_timeout_ms;
	s->body_timeout_ms = c->body_timeout_ms;
	if (c->cert_file != NULL &&
	    ((s->cert = http_read_file(c->cert_file, cause)) == NULL ||
		(s->key = http_read_file(c->key_file, cause)) == NULL)) {
		http_free(s);
		return NULL;
	}
	if ((s->listen_fd = http_listen(c->listen, cause)) < 0) {
		http_free(s);
		return NULL;
	}
	if (s->cert != NULL)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_log, s },
		{ MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT,
		    (intptr_t)((c->timeout_ms + 999) / 1000), NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_per_client, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed, s },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_connection, s },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)http_no_unescape,
		    NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, s->key },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (s->cert == NULL) /* no TLS: end before the PEM */
		ops[8].option = MHD_OPTION_END;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_access, s,
	    MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (s->mhd == NULL) {
		xasprintf(cause, "http: the server on %s did not start%s",
		    c->listen,
		    s->cert != NULL ? " (is the TLS key or certificate bad?)" :
				      "");
		http_free(s);
		return NULL;
	}
	s->listen_fd = -1; /* libmicrohttpd closes it when it stops */
	return s;
}

void
http_free(struct http_server *s)
{
	if (s == NULL)
		return;
	if (s->mhd != NULL)
		MHD_stop_daemon(s->mhd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->key != NULL)
		explicit_bzero(s->key, strlen(s->key));
	free(s->key);
	free(s->cert);
	free(s);
}

/* The descriptor to poll for input: libmicrohttpd's epoll set. */
int
http_fd(const struct http_server *s)
{
	return MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
}

/* Milliseconds until libmicrohttpd wants to run (timeouts); -1: none. */
int
http_wait(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	int deadline = http_deadlines(s);

	if (MHD_get_timeout(s->mhd, &ms) != MHD_YES)
		return deadline;
	if (ms > 60000)
		ms = 60000;
	return deadline >= 0 && deadline < (int)ms ? deadline : (int)ms;
}

void
http_run(struct http_server *s)
{
	http_deadlines(s);
	MHD_run(s->mhd);
}

const char *
http_method(const struct http_request *r)
{
	return r->method;
}

const char *
http_path(const struct http_request *r)
{
	return r->path;
}

const char *
http_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_body(const struct http_request *r, size_t *len)
{
	*len = r->len;
	return r->body;
}

void
http_set_arg(struct http_request *r, void *arg)
{
	r->arg = arg;
}

void *
http_arg(const struct http_request *r)
{
	return r->arg;
}

/* Adds a header to the answer to come. */
void
http_header_add(struct http_request *r, const char *name, const char *value)
{
	if (r->nheaders == HTTP_MAX_HEADERS)
		fatal("http: more than %d headers in an answer",
		    HTTP_MAX_HEADERS);
	r->headers[r->nheaders][0] = xstrdup(name);
	r->headers[r->nheaders++][1] = xstrdup(value);
}

/* Gives a request its answer; one that waited is resumed to send it. */
void
http_answer(struct http_request *r, unsigned code, const char *type,
    const char *body, size_t len)
{
	if (r->answered)
		return;
	r->answered = 1;
	r->code = code;
	r->type = xstrdup(type);
	r->text = xmalloc(len + 1);
	memcpy(r->text, body, len);
	r->text[len] = '\0';
	r->text_len = len;
	if (r->held) {
		r->held = 0;
		MHD_resume_connection(r->conn);
	}
}

void
http_answer_json(struct http_request *r, unsigned code, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int len;

	va_start(ap, fmt);
	len = xvasprintf(&text, fmt, ap);
	va_end(ap);
	http_answer(r, code, "application/json", text, (size_t)len);
	free(text);
}

/* An error answer: {"error":"MESSAGE"}, the message escaped. */
void
http_answer_error(struct http_request *r, unsigned code, const char *message)
{
	json_t *o = json_pack("{s:s}", "error", message);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text == NULL) /* not UTF-8 */
		http_answer_json(r, code, "{\"error\":\"(not UTF-8)\"}");
	else
		http_answer(r, code, "application/json", text, strlen(text));
	free(text);
	json_decref(o);
}
