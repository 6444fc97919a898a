/* fuzz-http.c - HTTP requests as bytes, through the server to a webhook. */

/*
 * http.c keeps its libmicrohttpd daemon to itself, so it is included
 * here. Each input is handed to that daemon as one accepted connection
 * (MHD_add_connection), the other end of a socketpair: the request
 * travels through no network, and the listening socket that http_new
 * opens on 127.0.0.1 (a port the system picks) is never connected to.
 * The hooks are the daemon's kind: two webhook watches (one with a
 * bearer token, confined to a bucket and a prefix; one open to any),
 * /metrics, /healthz (routed by the server), and 404 for the rest. Records
 * reach a journal in a temporary folder, whose sequencers are forgotten after
 * each input, and are answered after the turn, as the daemon answers after its
 * commit. Every connection must be gone once its client has left: one that is
 * still open means a request the server never lets go.
 */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "http.c"
#include "fuzz.h"

#define FUZZ_MAX_INPUT (64 << 10)
#define FUZZ_TURNS 64
#define FUZZ_WAITS 32

struct fuzz_wait {
	struct http_request *req;
	struct source_webhook *hook;
	struct webhook_tally tally;
};

static struct http_server *fuzz_server;
static struct journal *fuzz_journal;
static struct cfg_watch fuzz_watches[2];
static struct source_webhook *fuzz_hooks[2];
static struct fuzz_wait fuzz_waits[FUZZ_WAITS];
static size_t fuzz_nwaits;

static int
fuzz_emit(void *arg, const struct journal_event *e)
{
	(void)arg;
	(void)e;
	return 1; /* queued */
}

static struct source_webhook *
fuzz_find_hook(const char *path)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (strcmp(fuzz_watches[i].path, path) == 0)
			return fuzz_hooks[i];
	}
	return NULL;
}

static void
fuzz_http_begin(void *arg, struct http_request *r)
{
	struct source_webhook *hook = fuzz_find_hook(http_path(r));

	(void)arg;
	if (hook != NULL)
		source_webhook_begin(hook, r);
	else
		http_answer_error(r, 404, "no webhook has this path");
}

static void
fuzz_metrics(void *arg, struct http_request *r)
{
	size_t len;
	char *text = metrics_render(&len);

	(void)arg;
	http_answer(r, 200, "text/plain; version=0.0.4", text, len);
	free(text);
}

static void
fuzz_health(void *arg, struct http_request *r)
{
	(void)arg;
	http_answer(r, 200, "text/plain", "ok\n", 3);
}

static void
fuzz_http_end(void *arg, struct http_request *r)
{
	struct source_webhook *hook = fuzz_find_hook(http_path(r));
	struct fuzz_wait *w;

	(void)arg;
	if (hook == NULL)
		return;
	if (fuzz_nwaits == FUZZ_WAITS) {
		http_header_add(r, "Retry-After", "5");
		http_answer_error(r, 503, "over max-pending");
		return;
	}
	w = &fuzz_waits[fuzz_nwaits];
	if (!source_webhook_take(hook, r, &w->tally))
		return;
	w->req = r;
	w->hook = hook;
	fuzz_nwaits++;
}

/* The turn's commit is done: every waiting request gets its answer. */
static void
fuzz_answer_waits(void)
{
	size_t i;

	for (i = 0; i < fuzz_nwaits; i++)
		source_webhook_answer(fuzz_waits[i].hook, fuzz_waits[i].req,
		    &fuzz_waits[i].tally, 1);
	fuzz_nwaits = 0;
}

static void
fuzz_no_row(void *arg, struct sqlite3_stmt *s)
{
	(void)arg;
	(void)s;
}

/* The server's settings as a config gives them, defaults and all, so
 * that this file need not follow each new one. */
static const struct cfg_http *
fuzz_http_settings(void)
{
	static const char xml[] =
	    "<objtrigger><http listen=\"127.0.0.1:1\" max-body=\"8192\"/>"
	    "</objtrigger>";
	static struct cfg *cfg;

	cfg = cfg_load(fuzz_file((const uint8_t *)xml, sizeof xml - 1));
	if (cfg->http.listen == NULL)
		fuzz_broken("no <http> in the config: %s",
		    cfg->nerrors > 0 ? cfg->errors[0].message : "?");
	free(cfg->http.listen);
	cfg->http.listen = xstrdup("127.0.0.1:0"); /* a port of the system's */
	return &cfg->http; /* max-body is small, so that 413 is in reach */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct http_hooks hooks = { fuzz_http_begin, fuzz_http_end,
		fuzz_metrics, fuzz_health, NULL };
	char *cause = NULL;
	size_t i;

	(void)argc;
	(void)argv;
	/* FUZZ_LOG=1 shows what the webhook makes of each request. */
	log_open(getenv("FUZZ_LOG") != NULL ? LEVEL_DEBUG : LEVEL_ERROR,
	    "fuzz");
	if ((fuzz_server = http_new(fuzz_http_settings(), &hooks, &cause)) ==
		NULL ||
	    (fuzz_journal = journal_open(fuzz_folder(), &cause)) == NULL)
		fuzz_broken("start: %s", cause);

	fuzz_watches[0].name = (char *)"confined";
	fuzz_watches[0].path = (char *)"/hook";
	fuzz_watches[0].bucket = (char *)"photos";
	fuzz_watches[0].prefix = (char *)"in/";
	fuzz_watches[0].token = (char *)"s3cret-token";
	fuzz_watches[1].name = (char *)"open";
	fuzz_watches[1].path = (char *)"/any";
	fuzz_watches[1].prefix = (char *)"";
	for (i = 0; i < 2; i++) {
		fuzz_watches[i].type = CFG_WATCH_S3_WEBHOOK;
		fuzz_watches[i].max_pending = 1000;
		fuzz_watches[i].sns_confirm = 0; /* never a GET of a URL */
		fuzz_hooks[i] = source_webhook_new(&fuzz_watches[i],
		    fuzz_journal, fuzz_emit, NULL);
	}
	return 0;
}

static void
fuzz_write_all(int fd, const uint8_t *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		if ((n = write(fd, data, size)) <= 0)
			fuzz_broken("write: %s", strerror(errno));
		data += n;
		size -= (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	char buf[16384];
	ssize_t n = -1;
	int sv[2], turn;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		fuzz_broken("socketpair: %s", strerror(errno));
	fuzz_write_all(sv[1], data, size);
	shutdown(sv[1], SHUT_WR);
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) != 0)
		fuzz_broken("fcntl: %s", strerror(errno));

	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_port = htons(40000);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(fuzz_server->mhd, sv[0],
		(struct sockaddr *)&peer, sizeof peer) != MHD_YES)
		fuzz_broken("a connection refused: one before was never "
			    "closed");

	/* Until the server closes its end: each turn runs it, answers what
	 * waits, and reads what it wrote. */
	for (turn = 0; turn < FUZZ_TURNS; turn++) {
		http_run(fuzz_server);
		fuzz_answer_waits();
		while ((n = read(sv[1], buf, sizeof buf)) > 0)
			continue;
		if (n == 0)
			break;
	}
	close(sv[1]);
	for (turn = 0; turn < 4; turn++) { /* the server sees the close */
		http_run(fuzz_server);
		fuzz_answer_waits();
	}
	if (fuzz_server->conns != NULL)
		fuzz_broken("a connection still open after its client left "
			    "(%s)",
		    n == 0 ? "the server had closed its end" : "it had not");
	if (journal_query(fuzz_journal, "DELETE FROM sequencers", NULL, -1,
		fuzz_no_row, NULL) != 0)
		fuzz_broken("the journal failed");
	return 0;
}
