/* cfg-load.c - reads the XML config into struct cfg, reporting every error. */

/*
 * libxml2's RELAX NG validator stops at the first error of an element and
 * names it vaguely, so the structure is read here, element by element, and
 * every problem is reported with its line. The schema is applied after, as
 * the authority: a file it refuses never passes, even if this reader let it.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

#ifdef HAVE_RABBITMQ_C_AMQP_H
#include <rabbitmq-c/amqp.h>
#else
#include <amqp.h>
#endif

#include "cfg.h"
#include "units.h"
#include "xmalloc.h"

#define READER_MAX_ATTRS 24
/* The longest batch-window of a trigger of an amqp watch, in minutes. */
#define AMQP_BATCH_WINDOW_MAX_MIN 10

/* One element being read: the attributes asked for so far. */
struct reader {
	struct cfg *cfg;
	xmlNode *node;
	unsigned line;
	const char *known[READER_MAX_ATTRS];
	size_t nknown;
};

static void
reader_start(struct reader *r, struct cfg *cfg, xmlNode *node)
{
	r->cfg = cfg;
	r->node = node;
	r->line = (unsigned)xmlGetLineNo(node);
	r->nknown = 0;
}

/* Returns an attribute's value (allocated) or NULL; notes it as known. */
static char *
reader_text(struct reader *r, const char *name, int required)
{
	xmlChar *v;
	char *s;

	r->known[r->nknown++] = name;
	v = xmlGetProp(r->node, (const xmlChar *)name);
	if (v == NULL) {
		if (required)
			cfg_error(r->cfg, r->line,
			    "<%s> needs the attribute "
			    "'%s'",
			    r->node->name, name);
		return NULL;
	}
	s = xstrdup((const char *)v);
	xmlFree(v);
	if (required && *s == '\0') {
		cfg_error(r->cfg, r->line,
		    "<%s %s=\"\">: '%s' must not be "
		    "empty",
		    r->node->name, name, name);
		free(s);
		return NULL;
	}
	return s;
}

/* Reports a bad value: "<workers timeout="5x">: ...". */
static void
reader_bad(struct reader *r, const char *name, const char *value, char *cause)
{
	cfg_error(r->cfg, r->line, "<%s %s=\"%s\">: %s", r->node->name, name,
	    value, cause);
	free(cause);
}

/* Reads an optional attribute with a parser of units.h; *out keeps its
 * default when the attribute is absent or bad. */
static void
reader_unit(struct reader *r, const char *name,
    int (*parse)(const char *, uint64_t *, char **), uint64_t *out)
{
	char *v = reader_text(r, name, 0), *cause;

	if (v != NULL && parse(v, out, &cause) != 0)
		reader_bad(r, name, v, cause);
	free(v);
}

static void
reader_duration(struct reader *r, const char *name, uint64_t *out)
{
	reader_unit(r, name, units_parse_duration, out);
}

static void
reader_size(struct reader *r, const char *name, uint64_t *out)
{
	reader_unit(r, name, units_parse_size, out);
}

static void
reader_count(struct reader *r, const char *name, unsigned min, unsigned max,
    unsigned *out)
{
	char *v = reader_text(r, name, 0), *cause;
	int64_t n;

	if (v != NULL) {
		if (units_parse_int(v, min, max, &n, &cause) != 0)
			reader_bad(r, name, v, cause);
		else
			*out = (unsigned)n;
	}
	free(v);
}

static void
reader_bool(struct reader *r, const char *name, int *out)
{
	char *v = reader_text(r, name, 0), *cause;

	if (v != NULL && units_parse_bool(v, out, &cause) != 0)
		reader_bad(r, name, v, cause);
	free(v);
}

/* A name: letters, digits, '.', '_', '-'; used in logs, paths, metrics. */
static char *
reader_name(struct reader *r, const char *name)
{
	char *v = reader_text(r, name, 1);
	size_t len;

	if (v == NULL)
		return NULL;
	len = strspn(v,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");
	if (v[len] != '\0' || len > 64 || v[0] == '.' || v[0] == '-') {
		cfg_error(r->cfg, r->line,
		    "<%s %s=\"%s\">: a name is 1 to 64 "
		    "letters, digits, '.', '_' or '-', not starting with '.' "
		    "or '-'",
		    r->node->name, name, v);
		free(v);
		return NULL;
	}
	return v;
}

/* Reports the attributes of the element that nothing asked for. */
static void
reader_finish(struct reader *r)
{
	xmlAttr *a;
	size_t i;

	for (a = r->node->properties; a != NULL; a = a->next) {
		for (i = 0; i < r->nknown; i++) {
			if (strcmp((const char *)a->name, r->known[i]) == 0)
				break;
		}
		if (i == r->nknown)
			cfg_error(r->cfg, r->line,
			    "<%s> has no attribute "
			    "'%s'",
			    r->node->name, a->name);
	}
}

static int
node_is(xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

/* The line where a text node's first visible character is: libxml2 gives
 * the line where the text ends. */
static unsigned
text_line(xmlNode *n)
{
	const char *s = (const char *)n->content;
	unsigned line = (unsigned)xmlGetLineNo(n);
	size_t i, lead = strspn(s, " \t\r\n");

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\n' && i >= lead)
			line--;
	}
	return line;
}

/* Reports text or an element that has no place here. */
static void
reader_unexpected(struct cfg *cfg, xmlNode *parent, xmlNode *n)
{
	unsigned line = n->type == XML_TEXT_NODE && n->content != NULL ?
	    text_line(n) :
	    (unsigned)xmlGetLineNo(n);

	if (n->type == XML_ELEMENT_NODE)
		cfg_error(cfg, line, "unknown element <%s> in <%s>", n->name,
		    parent->name);
	else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
		cfg_error(cfg, line, "text is not allowed in <%s>",
		    parent->name);
	else if (n->type == XML_ENTITY_REF_NODE)
		cfg_error(cfg, line, "entity references are not allowed");
}

/* Element children, skipping comments and white space. */
static xmlNode *
node_next(xmlNode *n)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE)
			continue;
		if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n))
			continue;
		return n;
	}
	return NULL;
}

static void
read_state(struct cfg *cfg, xmlNode *n)
{
	struct reader r;

	reader_start(&r, cfg, n);
	free(cfg->state);
	cfg->state_line = r.line;
	cfg->state = reader_text(&r, "path", 1);
	reader_finish(&r);
}

static void
read_workers(struct cfg *cfg, xmlNode *n)
{
	struct cfg_workers *w = &cfg->workers;
	struct reader r;

	reader_start(&r, cfg, n);
	reader_count(&r, "count", 1, 1024, &w->count);
	reader_duration(&r, "timeout", &w->timeout_ms);
	reader_size(&r, "memory", &w->memory);
	reader_duration(&r, "cpu", &w->cpu_ms);
	reader_size(&r, "file-size", &w->file_size);
	reader_count(&r, "open-files", 16, 1048576, &w->open_files);
	reader_duration(&r, "grace", &w->grace_ms);
	reader_finish(&r);
	if (w->timeout_ms == 0)
		cfg_error(cfg, r.line, "<workers timeout>: must be above 0");
	if (w->memory != 0 && w->memory < 16 << 20)
		cfg_error(cfg, r.line, "<workers memory>: at least 16MiB");
}

/* listen="host:port": an address and a port, [v6]:port for IPv6. */
static void
read_http_listen(struct reader *r, struct cfg_http *h)
{
	char *v = reader_text(r, "listen", 1), *colon, *end;
	long port;

	if (v == NULL)
		return;
	colon = strrchr(v, ':');
	port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon == v || colon[1] == '\0' || *end != '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || port < 1 ||
	    port > 65535)
		reader_bad(r, "listen", v,
		    xstrdup("expected host:port, such as 127.0.0.1:9464 or "
			    "[::1]:9464"));
	else {
		h->listen = v;
		return;
	}
	free(v);
}

static void
read_http(struct cfg *cfg, xmlNode *n)
{
	struct cfg_http *h = &cfg->http;
	struct reader r;

	reader_start(&r, cfg, n);
	if (h->line != 0) {
		cfg_error(cfg, r.line,
		    "<http> is already given at line %u: one server serves "
		    "every webhook",
		    h->line);
		return;
	}
	h->line = r.line;
	read_http_listen(&r, h);
	h->cert_file = reader_text(&r, "cert-file", 0);
	h->key_file = reader_text(&r, "key-file", 0);
	if ((h->cert_file == NULL) != (h->key_file == NULL))
		cfg_error(cfg, r.line,
		    "<http>: TLS needs both cert-file and key-file");
	reader_size(&r, "max-body", &h->max_body);
	if (h->max_body < 1024)
		cfg_error(cfg, r.line, "<http max-body>: at least 1KiB");
	reader_duration(&r, "timeout", &h->timeout_ms);
	if (h->timeout_ms < 1000)
		cfg_error(cfg, r.line, "<http timeout>: at least 1s");
	reader_count(&r, "max-connections", 1, 65536, &h->max_connections);
	reader_count(&r, "max-connections-per-client", 1, 65536,
	    &h->max_per_client);
	reader_duration(&r, "header-timeout", &h->header_timeout_ms);
	reader_duration(&r, "body-timeout", &h->body_timeout_ms);
	if (h->header_timeout_ms < 1000 || h->body_timeout_ms < 1000)
		cfg_error(cfg, r.line,
		    "<http header-timeout, body-timeout>: at least 1s");
	reader_finish(&r);
	if (node_next(n->children) != NULL)
		reader_unexpected(cfg, n, node_next(n->children));
}

/* Splits a space-separated list into a NULL-terminated array. */
static char **
split_words(const char *s)
{
	char **v = xcalloc(1, sizeof *v);
	size_t n = 0, len;

	for (;;) {
		s += strspn(s, " \t\r\n");
		len = strcspn(s, " \t\r\n");
		if (len == 0)
			return v;
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrndup(s, len);
		v[n] = NULL;
		s += len;
	}
}

/* One of a list of words, as an index; -1 (reported) if another. Absent,
 * it is fallback, or an error if fallback is -1. */
static int
reader_choice(struct reader *r, const char *name, const char *const *words,
    int fallback)
{
	char *v = reader_text(r, name, fallback < 0), *cause, *prev;
	int i;

	if (v == NULL)
		return fallback;
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(v, words[i]) == 0) {
			free(v);
			return i;
		}
	}
	cause = xstrdup("expected");
	for (i = 0; words[i] != NULL; i++) {
		prev = cause;
		xasprintf(&cause, "%s%s%s", prev,
		    i == 0                   ? " " :
			words[i + 1] == NULL ? " or " :
					       ", ",
		    words[i]);
		free(prev);
	}
	reader_bad(r, name, v, cause);
	free(v);
	return -1;
}

static void
read_watch_folder(struct reader *r, struct cfg_watch *w)
{
	char *ignore;

	w->path = reader_text(r, "path", 1);
	reader_bool(r, "recursive", &w->recursive);
	ignore = reader_text(r, "ignore", 0);
	/* Hidden names (rsync's .name.XXXXXX too) and editors' and
	 * downloaders' temporary files, unless the config says otherwise. */
	w->ignore = split_words(
	    ignore != NULL ? ignore : ".* *.tmp *.part *.partial *.swp *~");
	free(ignore);
	reader_duration(r, "settle", &w->settle_ms);
}

/* The part of a bucket watch's attributes both kinds share. */
static void
read_watch_bucket(struct reader *r, struct cfg_watch *w, int need_bucket)
{
	char *prefix;

	w->ignore = split_words("");
	w->store = reader_text(r, "store", 1);
	w->bucket = reader_text(r, "bucket", need_bucket);
	prefix = reader_text(r, "prefix", 0);
	w->prefix = prefix != NULL ? prefix : xstrdup("");
}

static void
read_watch_s3_poll(struct reader *r, struct cfg_watch *w)
{
	static const char *const starts[] = { "now", "beginning", NULL };

	read_watch_bucket(r, w, 1);
	w->interval_ms = 5000;
	reader_duration(r, "interval", &w->interval_ms);
	if (w->interval_ms < 100)
		cfg_error(r->cfg, r->line, "<watch interval>: at least 100ms");
	w->start_beginning = reader_choice(r, "start", starts, 0) == 1;
	w->publish = reader_text(r, "publish", 0);
}

static void
read_watch_s3_webhook(struct reader *r, struct cfg_watch *w)
{
	char *token_file, *cause;

	read_watch_bucket(r, w, 0);
	w->path = reader_text(r, "path", 1);
	if (w->path != NULL &&
	    (*w->path != '/' || strcmp(w->path, "/metrics") == 0 ||
		strcmp(w->path, "/healthz") == 0))
		cfg_error(r->cfg, r->line,
		    "<watch path=\"%s\">: a webhook's path starts with / and "
		    "is neither /metrics nor /healthz",
		    w->path);
	if ((token_file = reader_text(r, "token-file", 0)) != NULL &&
	    cfg_read_secret(token_file, &w->token, &cause) != 0)
		reader_bad(r, "token-file", token_file, cause);
	free(token_file);
	reader_duration(r, "reconcile", &w->interval_ms);
	if (w->interval_ms != 0 && w->interval_ms < 1000)
		cfg_error(r->cfg, r->line, "<watch reconcile>: at least 1s");
	if (w->interval_ms != 0 && w->bucket == NULL)
		cfg_error(r->cfg, r->line,
		    "<watch reconcile>: needs the bucket to list: add "
		    "bucket=\"...\"");
	reader_bool(r, "sns-confirm", &w->sns_confirm);
	w->publish = reader_text(r, "publish", 0);
	w->max_pending = 100000;
	reader_count(r, "max-pending", 1, 1000000000, &w->max_pending);
}

/* A queue on a broker, its objects fetched from a store. */
static void
read_watch_amqp(struct reader *r, struct cfg_watch *w)
{
	char *bind;

	read_watch_bucket(r, w, 0);
	w->broker = reader_text(r, "broker", 1);
	w->queue = reader_text(r, "queue", 1);
	bind = reader_text(r, "bind", 0);
	w->bind = split_words(bind != NULL ? bind : "");
	free(bind);
	w->delivery_limit = 5;
	reader_count(r, "delivery-limit", 1, 1000, &w->delivery_limit);
	if (w->queue != NULL &&
	    (strlen(w->queue) > 250 || strncmp(w->queue, "amq.", 4) == 0))
		cfg_error(r->cfg, r->line,
		    "<watch queue=\"%s\">: a queue name is at most 250 bytes "
		    "(its dead letters go to QUEUE.dead), and amq. names are "
		    "the broker's",
		    w->queue);
}

static void
read_watch(struct cfg *cfg, xmlNode *n)
{
	static const char *const types[] = { "folder", "s3-poll", "s3-webhook",
		"amqp", NULL };
	struct cfg_watch *w;
	struct reader r;

	cfg->watches = xreallocarray(cfg->watches, cfg->nwatches + 1,
	    sizeof *cfg->watches);
	w = &cfg->watches[cfg->nwatches++];
	memset(w, 0, sizeof *w);
	reader_start(&r, cfg, n);
	w->line = r.line;
	w->name = reader_name(&r, "name");
	switch (reader_choice(&r, "type", types, -1)) {
	case 1:
		w->type = CFG_WATCH_S3_POLL;
		read_watch_s3_poll(&r, w);
		break;
	case 2:
		w->type = CFG_WATCH_S3_WEBHOOK;
		read_watch_s3_webhook(&r, w);
		break;
	case 3:
		w->type = CFG_WATCH_AMQP;
		read_watch_amqp(&r, w);
		break;
	default: /* an unknown type is checked as a folder, for its errors */
		read_watch_folder(&r, w);
	}
	reader_finish(&r);
	if (node_next(n->children) != NULL)
		reader_unexpected(cfg, n, node_next(n->children));
}

/* A store's keys: a private file, or named environment variables. */
static void
read_store_keys(struct reader *r, struct cfg_store *s)
{
	char *file = reader_text(r, "credentials-file", 0);
	char *access = reader_text(r, "access-key-env", 0);
	char *secret = reader_text(r, "secret-key-env", 0);
	char *token = reader_text(r, "session-token-env", 0), *cause = NULL;

	if (xmlHasProp(r->node, (const xmlChar *)"access-key") != NULL ||
	    xmlHasProp(r->node, (const xmlChar *)"secret-key") != NULL)
		cfg_error(r->cfg, r->line,
		    "<store>: keys are never written in the config: use "
		    "credentials-file, or access-key-env and secret-key-env");
	else if ((file != NULL) == (access != NULL || secret != NULL))
		cfg_error(r->cfg, r->line,
		    "<store>: give either credentials-file, or access-key-env "
		    "and secret-key-env");
	else if (file != NULL) {
		if (cfg_store_keys_from_file(s, file, &cause) != 0)
			reader_bad(r, "credentials-file", file, cause);
	} else if (access == NULL || secret == NULL)
		cfg_error(r->cfg, r->line,
		    "<store>: access-key-env needs secret-key-env, and the "
		    "other way round");
	else if (cfg_store_key_from_env(&s->access_key, access, &cause) != 0)
		reader_bad(r, "access-key-env", access, cause);
	else if (cfg_store_key_from_env(&s->secret_key, secret, &cause) != 0)
		reader_bad(r, "secret-key-env", secret, cause);
	if (token != NULL &&
	    cfg_store_key_from_env(&s->token, token, &cause) != 0)
		reader_bad(r, "session-token-env", token, cause);
	free(file);
	free(access);
	free(secret);
	free(token);
}

/* An endpoint is http[s]://host[:port], and nothing else. */
static void
read_store_endpoint(struct reader *r, struct cfg_store *s)
{
	char *e = reader_text(r, "endpoint", 1), *host;
	size_t len;

	if (e == NULL)
		return;
	len = strlen(e);
	while (len > 0 && e[len - 1] == '/')
		e[--len] = '\0';
	host = strstr(e, "://");
	if (host == NULL ||
	    (strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0))
		reader_bad(r, "endpoint", e,
		    xstrdup("expected http://host[:port] or https://..."));
	else if (host[3] == '\0' || strpbrk(host + 3, "/@?# ") != NULL)
		reader_bad(r, "endpoint", e,
		    xstrdup("a host and a port only: no path, user or query"));
	else {
		s->endpoint = e;
		return;
	}
	free(e);
}

static void
read_store(struct cfg *cfg, xmlNode *n)
{
	static const char *const signatures[] = { "v4", "v2", NULL };
	static const char *const styles[] = { "path", "virtual-host", NULL };
	struct cfg_store *s;
	struct reader r;
	char *region;

	cfg->stores =
	    xreallocarray(cfg->stores, cfg->nstores + 1, sizeof *cfg->stores);
	s = &cfg->stores[cfg->nstores++];
	memset(s, 0, sizeof *s);
	reader_start(&r, cfg, n);
	s->line = r.line;
	s->name = reader_name(&r, "name");
	read_store_endpoint(&r, s);
	region = reader_text(&r, "region", 0);
	s->region = region != NULL ? region : xstrdup("us-east-1");
	s->v2 = reader_choice(&r, "signature", signatures, 0) == 1;
	s->virtual_host = reader_choice(&r, "uri-style", styles, 0) == 1;
	read_store_keys(&r, s);
	s->ca_file = reader_text(&r, "ca-file", 0);
	s->verify_tls = 1;
	reader_bool(&r, "verify-tls", &s->verify_tls);
	s->connect_timeout_ms = 10 * 1000;
	reader_duration(&r, "connect-timeout", &s->connect_timeout_ms);
	s->timeout_ms = 60 * 1000;
	reader_duration(&r, "timeout", &s->timeout_ms);
	s->multipart_threshold = 64ULL << 20;
	reader_size(&r, "multipart-threshold", &s->multipart_threshold);
	if (s->multipart_threshold < 5ULL << 20)
		cfg_error(cfg, r.line,
		    "<store multipart-threshold>: at least 5MiB, S3's "
		    "smallest part");
	reader_finish(&r);
	if (node_next(n->children) != NULL)
		reader_unexpected(cfg, n, node_next(n->children));
}

/* url="amqp://host[:port][/vhost]": no login in it (credentials-file). */
static void
read_broker_url(struct reader *r, struct cfg_broker *b)
{
	struct amqp_connection_info info;
	char *url = reader_text(r, "url", 1), *copy;

	if (url == NULL)
		return;
	copy = xstrdup(url);
	if (strncmp(url, "amqp://", 7) != 0 ||
	    amqp_parse_url(copy, &info) != AMQP_STATUS_OK || info.ssl)
		reader_bad(r, "url", url,
		    xstrdup("expected amqp://host[:port][/vhost], the vhost "
			    "escaped (%2F for /)"));
	else if (strchr(url + 7, '@') != NULL)
		reader_bad(r, "url", url,
		    xstrdup("no user or password in the URL: use "
			    "credentials-file"));
	else {
		b->url = url;
		b->host = xstrdup(info.host);
		b->port = (unsigned)info.port;
		b->vhost = xstrdup(*info.vhost != '\0' ? info.vhost : "/");
		free(copy);
		return;
	}
	free(copy);
	free(url);
}

static void
read_broker(struct cfg *cfg, xmlNode *n)
{
	struct cfg_broker *b;
	struct reader r;
	char *file, *cause;

	cfg->brokers = xreallocarray(cfg->brokers, cfg->nbrokers + 1,
	    sizeof *cfg->brokers);
	b = &cfg->brokers[cfg->nbrokers++];
	memset(b, 0, sizeof *b);
	reader_start(&r, cfg, n);
	b->line = r.line;
	b->name = reader_name(&r, "name");
	read_broker_url(&r, b);
	if (xmlHasProp(n, (const xmlChar *)"user") != NULL ||
	    xmlHasProp(n, (const xmlChar *)"password") != NULL)
		cfg_error(cfg, r.line,
		    "<broker>: a login is never written in the config: use "
		    "credentials-file");
	file = reader_text(&r, "credentials-file", 0);
	if (file != NULL && cfg_broker_login_from_file(b, file, &cause) != 0)
		reader_bad(&r, "credentials-file", file, cause);
	free(file);
	if (b->user == NULL)
		b->user = xstrdup("guest"); /* RabbitMQ's, on loopback only */
	if (b->password == NULL)
		b->password = xstrdup("guest");
	b->exchange = reader_text(&r, "exchange", 1);
	b->heartbeat_ms = 10 * 1000;
	reader_duration(&r, "heartbeat", &b->heartbeat_ms);
	if (b->heartbeat_ms < 1000 || b->heartbeat_ms > 600 * 1000)
		cfg_error(cfg, r.line, "<broker heartbeat>: 1s to 10m");
	b->connect_timeout_ms = 5 * 1000;
	reader_duration(&r, "connect-timeout", &b->connect_timeout_ms);
	if (b->connect_timeout_ms < 100)
		cfg_error(cfg, r.line,
		    "<broker connect-timeout>: at least "
		    "100ms");
	reader_finish(&r);
	if (node_next(n->children) != NULL)
		reader_unexpected(cfg, n, node_next(n->children));
}

static void
read_events(struct reader *r, struct cfg_trigger *t)
{
	char *v = reader_text(r, "events", 0), **words;
	size_t i;

	t->events = CFG_EVENT_CREATED;
	if (v == NULL)
		return;
	words = split_words(v);
	t->events = 0;
	for (i = 0; words[i] != NULL; i++) {
		if (strcmp(words[i], "created") == 0)
			t->events |= CFG_EVENT_CREATED;
		else if (strcmp(words[i], "removed") == 0)
			t->events |= CFG_EVENT_REMOVED;
		else
			cfg_error(r->cfg, r->line,
			    "<trigger events>: unknown "
			    "event '%s' (expected created, removed)",
			    words[i]);
	}
	if (words[0] == NULL)
		cfg_error(r->cfg, r->line, "<trigger events>: empty");
	cfg_free_words(words);
	free(v);
}

static void
read_transform(struct cfg *cfg, struct cfg_trigger *t, xmlNode *n)
{
	struct cfg_param *p;
	struct reader r;
	xmlNode *c;

	if (t->plugin != NULL) {
		cfg_error(cfg, (unsigned)xmlGetLineNo(n),
		    "<trigger name=\"%s\"> "
		    "has a second <transform>",
		    t->name ? t->name : "");
		return;
	}
	reader_start(&r, cfg, n);
	t->plugin_line = r.line;
	t->plugin = reader_text(&r, "plugin", 1);
	reader_finish(&r);
	for (c = node_next(n->children); c != NULL; c = node_next(c->next)) {
		if (c->type != XML_ELEMENT_NODE || !node_is(c, "param")) {
			reader_unexpected(cfg, n, c);
			continue;
		}
		t->params =
		    xreallocarray(t->params, t->nparams + 1, sizeof *t->params);
		p = &t->params[t->nparams++];
		reader_start(&r, cfg, c);
		p->line = r.line;
		p->name = reader_text(&r, "name", 1);
		p->value = reader_text(&r, "value", 0);
		if (p->value == NULL)
			cfg_error(cfg, r.line,
			    "<param> needs the attribute "
			    "'value'");
		reader_finish(&r);
	}
}

static void
read_output(struct cfg *cfg, struct cfg_trigger *t, xmlNode *n)
{
	struct cfg_output *o;
	struct reader r;

	t->outputs =
	    xreallocarray(t->outputs, t->noutputs + 1, sizeof *t->outputs);
	o = &t->outputs[t->noutputs++];
	memset(o, 0, sizeof *o);
	reader_start(&r, cfg, n);
	o->line = r.line;
	if (xmlHasProp(n, (const xmlChar *)"store") == NULL) {
		o->path = reader_text(&r, "path", 1);
		reader_finish(&r);
		return;
	}
	o->store = reader_text(&r, "store", 1);
	o->bucket = reader_text(&r, "bucket", 1);
	o->key = reader_text(&r, "key", 1);
	o->content_type = reader_text(&r, "content-type", 0);
	if (o->content_type == NULL)
		o->content_type = xstrdup("auto");
	reader_finish(&r);
}

static void
read_retry(struct cfg *cfg, struct cfg_trigger *t, xmlNode *n)
{
	struct reader r;

	reader_start(&r, cfg, n);
	reader_count(&r, "attempts", 1, 1000, &t->retry.attempts);
	reader_duration(&r, "backoff", &t->retry.backoff_ms);
	reader_duration(&r, "max-backoff", &t->retry.max_backoff_ms);
	reader_finish(&r);
	if (t->retry.max_backoff_ms < t->retry.backoff_ms)
		cfg_error(cfg, r.line, "<retry>: max-backoff is below backoff");
}

/* batch-every: day, hour, minute, or a duration that divides a day; the
 * batch then takes the whole period (batch-size 100000 unless given). */
static void
read_batch_every(struct reader *r, struct cfg_trigger *t)
{
	static const struct {
		const char *word;
		uint64_t ms;
	} words[] = { { "day", 86400000 }, { "hour", 3600000 },
		{ "minute", 60000 }, { NULL, 0 } };
	char *v = reader_text(r, "batch-every", 0), *cause = NULL;
	size_t i;

	for (i = 0; v != NULL && words[i].word != NULL; i++) {
		if (strcmp(v, words[i].word) == 0)
			t->batch_every_ms = words[i].ms;
	}
	if (v != NULL && t->batch_every_ms == 0 &&
	    (units_parse_duration(v, &t->batch_every_ms, &cause) != 0 ||
		t->batch_every_ms < 1000 || t->batch_every_ms % 1000 != 0 ||
		86400000 % t->batch_every_ms != 0))
		cfg_error(r->cfg, r->line,
		    "<trigger batch-every=\"%s\">: not day, hour, minute or "
		    "a duration of whole seconds that divides a day (such as "
		    "15m)",
		    v);
	if (v != NULL && t->batch_window_ms != 0)
		cfg_error(r->cfg, r->line,
		    "<trigger>: batch-every and batch-window do not go "
		    "together (a calendar batch waits for its period's end)");
	if (t->batch_size == 0)
		t->batch_size = t->batch_every_ms != 0 ? 100000 : 1;
	free(cause);
	free(v);
}

static void
read_trigger(struct cfg *cfg, xmlNode *n)
{
	static const char *const existing[] = { "skip", "run", NULL };
	struct cfg_trigger *t;
	struct reader r;
	char *match;
	xmlNode *c;

	cfg->triggers = xreallocarray(cfg->triggers, cfg->ntriggers + 1,
	    sizeof *cfg->triggers);
	t = &cfg->triggers[cfg->ntriggers++];
	memset(t, 0, sizeof *t);
	t->retry.attempts = 5;
	t->retry.backoff_ms = 1000;
	t->retry.max_backoff_ms = 5 * 60 * 1000;
	t->match_case = 1;
	t->fetch = 1;

	reader_start(&r, cfg, n);
	t->line = r.line;
	t->name = reader_name(&r, "name");
	t->watch = reader_text(&r, "watch", 1);
	read_events(&r, t);
	match = reader_text(&r, "match", 0);
	t->match = split_words(match != NULL ? match : "");
	free(match);
	reader_bool(&r, "match-case", &t->match_case);
	reader_size(&r, "min-size", &t->min_size);
	reader_size(&r, "max-size", &t->max_size);
	reader_count(&r, "concurrency", 1, 1024, &t->concurrency);
	reader_bool(&r, "allow-loop", &t->allow_loop);
	reader_count(&r, "batch-size", 1, 100000, &t->batch_size);
	reader_duration(&r, "batch-window", &t->batch_window_ms);
	read_batch_every(&r, t);
	reader_bool(&r, "fetch", &t->fetch);
	t->run_existing = reader_choice(&r, "existing", existing, 2);
	if (t->run_existing == 2) /* the watch's start= says, or skip */
		t->run_existing = -1;
	reader_finish(&r);
	if (t->max_size != 0 && t->max_size < t->min_size)
		cfg_error(cfg, r.line, "<trigger>: max-size is below min-size");

	for (c = node_next(n->children); c != NULL; c = node_next(c->next)) {
		if (c->type != XML_ELEMENT_NODE)
			reader_unexpected(cfg, n, c);
		else if (node_is(c, "transform"))
			read_transform(cfg, t, c);
		else if (node_is(c, "output"))
			read_output(cfg, t, c);
		else if (node_is(c, "retry"))
			read_retry(cfg, t, c);
		else
			reader_unexpected(cfg, n, c);
	}
	if (t->plugin == NULL && t->plugin_line == 0)
		cfg_error(cfg, t->line,
		    "<trigger name=\"%s\"> needs a "
		    "<transform>",
		    t->name ? t->name : "");
}

/* Reports a second definition of a name among n items. */
#define CHECK_UNIQUE(cfg, items, n, what) \
	do { \
		size_t i_, j_; \
		for (i_ = 0; i_ < (n); i_++) { \
			for (j_ = 0; j_ < i_; j_++) { \
				if ((items)[i_].name == NULL || \
				    (items)[j_].name == NULL || \
				    strcmp((items)[i_].name, \
					(items)[j_].name) != 0) \
					continue; \
				cfg_error((cfg), (items)[i_].line, \
				    "a " what \
				    " named '%s' is already defined " \
				    "at line %u", \
				    (items)[i_].name, (items)[j_].line); \
				break; \
			} \
		} \
	} while (0)

static void
check_store(struct cfg *cfg, const char *name, unsigned line)
{
	if (name != NULL && cfg_find_store(cfg, name) == NULL)
		cfg_error(cfg, line, "no <store> is named '%s'", name);
}

/* A watch that publishes needs its broker, and runs no trigger. */
static void
check_publish(struct cfg *cfg, const struct cfg_watch *w)
{
	size_t i;

	if (w->publish == NULL)
		return;
	if (cfg_find_broker(cfg, w->publish) == NULL)
		cfg_error(cfg, w->line, "no <broker> is named '%s'",
		    w->publish);
	for (i = 0; i < cfg->ntriggers; i++) {
		if (cfg->triggers[i].watch != NULL &&
		    strcmp(cfg->triggers[i].watch, w->name) == 0)
			cfg_error(cfg, cfg->triggers[i].line,
			    "<trigger name=\"%s\">: watch %s publishes its "
			    "events to broker %s and runs no trigger: give the "
			    "trigger a watch of type amqp that takes them",
			    cfg->triggers[i].name, w->name, w->publish);
	}
}

/* An amqp watch needs its broker. */
static void
check_amqp(struct cfg *cfg, const struct cfg_watch *w)
{
	if (w->type == CFG_WATCH_AMQP && w->broker != NULL &&
	    cfg_find_broker(cfg, w->broker) == NULL)
		cfg_error(cfg, w->line, "no <broker> is named '%s'", w->broker);
}

/* A trigger of an amqp watch holds each message unacked until its job
 * ended: a batch must run well before the broker's consumer timeout (30
 * minutes by default) closes the channel and gives the messages again. */
static void
check_amqp_batch(struct cfg *cfg, const struct cfg_trigger *t,
    const struct cfg_watch *w)
{
	if (w == NULL || w->type != CFG_WATCH_AMQP)
		return;
	if (t->batch_every_ms != 0)
		cfg_error(cfg, t->line,
		    "<trigger name=\"%s\" batch-every>: watch %s is of type "
		    "amqp, whose messages stay unacked until their jobs end: "
		    "a calendar batch would hold them past the broker's "
		    "consumer timeout; use batch-size and batch-window",
		    t->name != NULL ? t->name : "", w->name);
	else if (t->batch_window_ms > AMQP_BATCH_WINDOW_MAX_MIN * 60 * 1000)
		cfg_error(cfg, t->line,
		    "<trigger name=\"%s\" batch-window>: at most %dm on watch "
		    "%s, of type amqp, whose messages stay unacked until their "
		    "jobs end (the broker's consumer timeout is 30m by "
		    "default)",
		    t->name != NULL ? t->name : "", AMQP_BATCH_WINDOW_MAX_MIN,
		    w->name);
}

/* A webhook needs the server, and a path of its own. */
static void
check_webhook(struct cfg *cfg, size_t i)
{
	const struct cfg_watch *w = &cfg->watches[i];
	size_t k;

	if (w->type != CFG_WATCH_S3_WEBHOOK || w->path == NULL)
		return;
	if (cfg->http.listen == NULL && cfg->http.line == 0)
		cfg_error(cfg, w->line,
		    "<watch type=\"s3-webhook\">: needs the HTTP server: add "
		    "<http listen=\"127.0.0.1:9464\"/>");
	for (k = 0; k < i; k++) {
		if (cfg->watches[k].type == CFG_WATCH_S3_WEBHOOK &&
		    cfg->watches[k].path != NULL &&
		    strcmp(cfg->watches[k].path, w->path) == 0) {
			cfg_error(cfg, w->line,
			    "<watch path=\"%s\">: the watch at line %u "
			    "answers on that path already",
			    w->path, cfg->watches[k].line);
			break;
		}
	}
}

static void
check_references(struct cfg *cfg)
{
	const struct cfg_watch *w;
	struct cfg_trigger *t;
	size_t i, k;

	CHECK_UNIQUE(cfg, cfg->stores, cfg->nstores, "store");
	CHECK_UNIQUE(cfg, cfg->brokers, cfg->nbrokers, "broker");
	CHECK_UNIQUE(cfg, cfg->watches, cfg->nwatches, "watch");
	for (i = 0; i < cfg->nwatches; i++) {
		check_store(cfg, cfg->watches[i].store, cfg->watches[i].line);
		check_webhook(cfg, i);
		check_amqp(cfg, &cfg->watches[i]);
		check_publish(cfg, &cfg->watches[i]);
	}
	CHECK_UNIQUE(cfg, cfg->triggers, cfg->ntriggers, "trigger");
	for (i = 0; i < cfg->ntriggers; i++) {
		t = &cfg->triggers[i];
		w = t->watch != NULL ? cfg_find_watch(cfg, t->watch) : NULL;
		if (t->run_existing < 0)
			t->run_existing = w != NULL && w->start_beginning;
		if (t->watch != NULL && w == NULL)
			cfg_error(cfg, t->line,
			    "<trigger name=\"%s\">: no "
			    "<watch> is named '%s'",
			    t->name ? t->name : "", t->watch);
		for (k = 0; k < t->noutputs; k++)
			check_store(cfg, t->outputs[k].store,
			    t->outputs[k].line);
		check_amqp_batch(cfg, t, w);
	}
}

static void
read_root(struct cfg *cfg, xmlNode *root)
{
	xmlNode *n;
	struct reader r;
	size_t i;

	if (!node_is(root, "objtrigger")) {
		cfg_error(cfg, (unsigned)xmlGetLineNo(root),
		    "the root element "
		    "is <%s>, expected <objtrigger>",
		    root->name);
		return;
	}
	reader_start(&r, cfg, root);
	reader_finish(&r);
	for (n = node_next(root->children); n != NULL; n = node_next(n->next)) {
		if (n->type != XML_ELEMENT_NODE)
			reader_unexpected(cfg, root, n);
		else if (node_is(n, "state"))
			read_state(cfg, n);
		else if (node_is(n, "workers"))
			read_workers(cfg, n);
		else if (node_is(n, "http"))
			read_http(cfg, n);
		else if (node_is(n, "store"))
			read_store(cfg, n);
		else if (node_is(n, "broker"))
			read_broker(cfg, n);
		else if (node_is(n, "watch"))
			read_watch(cfg, n);
		else if (node_is(n, "trigger"))
			read_trigger(cfg, n);
		else
			reader_unexpected(cfg, root, n);
	}
	check_references(cfg);
	for (i = 0; i < cfg->ntriggers; i++) {
		if (cfg->triggers[i].concurrency == 0)
			cfg->triggers[i].concurrency = cfg->workers.count;
	}
}

/* Collects libxml2's messages as config errors. */
static void
cfg_xml_error(void *arg, xmlError *e)
{
	struct cfg *cfg = arg;
	size_t len = e->message != NULL ? strlen(e->message) : 0;

	while (len > 0 &&
	    (e->message[len - 1] == '\n' || e->message[len - 1] == ' '))
		len--;
	cfg_error(cfg, e->line > 0 ? (unsigned)e->line : 0, "%s%.*s",
	    e->domain == XML_FROM_RELAXNGV ? "schema: " : "", (int)len,
	    e->message != NULL ? e->message : "");
}

static void
cfg_validate_schema(struct cfg *cfg, xmlDoc *doc)
{
	xmlRelaxNGParserCtxt *pctxt;
	xmlRelaxNG *schema;
	xmlRelaxNGValidCtxt *vctxt;

	pctxt = xmlRelaxNGNewMemParserCtxt(cfg_schema, (int)cfg_schema_len);
	schema = xmlRelaxNGParse(pctxt);
	xmlRelaxNGFreeParserCtxt(pctxt);
	if (schema == NULL) {
		cfg_error(cfg, 0, "the built-in schema does not parse");
		return;
	}
	vctxt = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidStructuredErrors(vctxt, cfg_xml_error, cfg);
	xmlRelaxNGValidateDoc(vctxt, doc);
	xmlRelaxNGFreeValidCtxt(vctxt);
	xmlRelaxNGFree(schema);
}

static void
cfg_defaults(struct cfg *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	cfg->state = xstrdup("./.objtrigger");
	cfg->workers.count = cpus > 0 ? (unsigned)cpus : 1;
	cfg->workers.timeout_ms = 60 * 1000;
	cfg->workers.memory = 1ULL << 30;
	cfg->workers.open_files = 256;
	cfg->workers.grace_ms = 10 * 1000;
	cfg->http.max_body = 1 << 20;
	cfg->http.timeout_ms = 30 * 1000;
	cfg->http.max_connections = 512;
	cfg->http.max_per_client = 128;
	cfg->http.header_timeout_ms = 30 * 1000;
	cfg->http.body_timeout_ms = 60 * 1000;
}

/* Makes a relative path absolute, from dir; "./" before it is dropped. */
static void
cfg_absolute(const char *dir, char **path)
{
	const char *rel = *path;
	char *abs;

	if (rel == NULL || *rel == '/')
		return;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2 + strspn(rel + 2, "/");
	if (strcmp(rel, ".") == 0 || *rel == '\0')
		abs = xstrdup(dir);
	else
		xasprintf(&abs, "%s%s%s", dir, strcmp(dir, "/") != 0 ? "/" : "",
		    rel);
	free(*path);
	*path = abs;
}

/*
 * Resolves every relative path of a config once, at load: from the
 * working directory, as a command line tool's paths are (the daemon never
 * changes it). Then nothing depends on where a job, a command or a later
 * reload runs: {outdir}, TMPDIR and the state folder are absolute.
 */
static void
cfg_resolve_paths(struct cfg *cfg)
{
	char dir[PATH_MAX];
	size_t i, k;

	if (getcwd(dir, sizeof dir) == NULL) {
		cfg_error(cfg, 0, "the working directory: %s", strerror(errno));
		return;
	}
	cfg_absolute(dir, &cfg->state);
	cfg_absolute(dir, &cfg->http.cert_file);
	cfg_absolute(dir, &cfg->http.key_file);
	for (i = 0; i < cfg->nwatches; i++) {
		if (cfg->watches[i].type == CFG_WATCH_FOLDER)
			cfg_absolute(dir, &cfg->watches[i].path);
	}
	for (i = 0; i < cfg->ntriggers; i++) {
		for (k = 0; k < cfg->triggers[i].noutputs; k++)
			cfg_absolute(dir, &cfg->triggers[i].outputs[k].path);
	}
}

struct cfg *
cfg_load(const char *file)
{
	struct cfg *cfg = xcalloc(1, sizeof *cfg);
	xmlDoc *doc;

	cfg->file = xstrdup(file);
	cfg_defaults(cfg);
	if (access(file, R_OK) != 0) {
		cfg_error(cfg, 0, "cannot read: %s", strerror(errno));
		return cfg;
	}
	xmlSetStructuredErrorFunc(cfg, cfg_xml_error);
	doc = xmlReadFile(file, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
	if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL))
		cfg_error(cfg, 1, "a DTD (<!DOCTYPE ...>) is not allowed");
	else if (doc != NULL) {
		read_root(cfg, xmlDocGetRootElement(doc));
		if (cfg->nerrors == 0)
			cfg_validate_schema(cfg, doc);
		cfg_resolve_paths(cfg);
	} else if (cfg->nerrors == 0)
		cfg_error(cfg, 0, "not an XML document");
	xmlSetStructuredErrorFunc(NULL, NULL);
	xmlFreeDoc(doc);
	return cfg;
}
