/* test-cfg.c - reading configs: values, defaults, and every error's line. */

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "xmalloc.h"

/* Writes text to a temporary file and loads it. */
static struct cfg *
load(const char *text)
{
	char path[] = "/tmp/test-cfg-XXXXXX";
	struct cfg *cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cfg = cfg_load(path);
	unlink(path);
	return cfg;
}

/* Asserts an error at line with message holding what. */
static void
assert_error(const struct cfg *cfg, unsigned line, const char *what)
{
	size_t i;

	for (i = 0; i < cfg->nerrors; i++) {
		if (cfg->errors[i].line == line &&
		    strstr(cfg->errors[i].message, what) != NULL)
			return;
	}
	for (i = 0; i < cfg->nerrors; i++)
		print_message("  line %u: %s\n", cfg->errors[i].line,
		    cfg->errors[i].message);
	fail_msg("no error at line %u with '%s'", line, what);
}

/* Asserts no error at all, showing those there are: the schema's too,
 * which starts with "schema: ". */
static void
assert_clean(const struct cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nerrors; i++)
		print_message("  line %u: %s\n", cfg->errors[i].line,
		    cfg->errors[i].message);
	assert_int_equal(cfg->nerrors, 0);
}

/* Writes text to a file of the given mode, as a token-file; its path
 * goes in path. */
static void
secret_file(char *path, size_t size, const char *text, mode_t mode)
{
	int fd;

	snprintf(path, size, "/tmp/test-cfg-token-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* A store for the bucket watches, its keys from the environment. */
#define TEST_STORE \
	"  <store name=\"rgw\" endpoint=\"http://127.0.0.1:7480\"" \
	" access-key-env=\"TEST_CFG_ACCESS\"" \
	" secret-key-env=\"TEST_CFG_SECRET\"/>\n"

static void
test_good(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <state path=\"/var/lib/ot\"/>\n"
	    "  <workers count=\"3\" timeout=\"2m\" memory=\"512MiB\" cpu=\"30s\""
	    " file-size=\"1GiB\" open-files=\"64\"/>\n"
	    "  <watch name=\"drop\" type=\"folder\" path=\"/srv/drop\""
	    " recursive=\"yes\" settle=\"500ms\"/>\n"
	    "  <trigger name=\"t1\" watch=\"drop\" events=\"created removed\""
	    " match=\"*.jpg  *.png\" max-size=\"10MiB\" concurrency=\"2\">\n"
	    "    <transform plugin=\"exec\">\n"
	    "      <param name=\"arg\" value=\"/bin/true\"/>\n"
	    "      <param name=\"arg\" value=\"\"/>\n"
	    "    </transform>\n"
	    "    <output path=\"/srv/out/{name}\"/>\n"
	    "    <retry attempts=\"3\" backoff=\"2s\" max-backoff=\"1m\"/>\n"
	    "  </trigger>\n"
	    "</objtrigger>\n");
	struct cfg_trigger *t;

	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->state, "/var/lib/ot");
	assert_int_equal(cfg->workers.count, 3);
	assert_int_equal(cfg->workers.timeout_ms, 120000);
	assert_int_equal(cfg->workers.memory, 512ULL << 20);
	assert_int_equal(cfg->workers.cpu_ms, 30000);
	assert_int_equal(cfg->workers.open_files, 64);
	assert_int_equal(cfg->nwatches, 1);
	assert_int_equal(cfg->watches[0].recursive, 1);
	assert_int_equal(cfg->watches[0].settle_ms, 500);
	assert_int_equal(cfg->ntriggers, 1);
	t = &cfg->triggers[0];
	assert_int_equal(t->events, CFG_EVENT_CREATED | CFG_EVENT_REMOVED);
	assert_string_equal(t->match[0], "*.jpg");
	assert_string_equal(t->match[1], "*.png");
	assert_null(t->match[2]);
	assert_int_equal(t->max_size, 10ULL << 20);
	assert_string_equal(t->plugin, "exec");
	assert_int_equal(t->plugin_line, 6);
	assert_int_equal(t->nparams, 2);
	assert_int_equal(t->params[1].line, 8);
	assert_string_equal(t->params[1].value, "");
	assert_int_equal(t->noutputs, 1);
	assert_int_equal(t->retry.attempts, 3);
	assert_int_equal(t->retry.max_backoff_ms, 60000);
	cfg_free(cfg);
}

static void
test_defaults(void **state)
{
	struct cfg *cfg = load("<objtrigger/>");
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	assert_int_equal(cfg->nerrors, 0);
	/* Relative paths are resolved at load, from the working directory. */
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/.objtrigger", cwd);
	assert_string_equal(cfg->state, want);
	assert_true(cfg->workers.count >= 1);
	assert_int_equal(cfg->workers.timeout_ms, 60000);
	assert_int_equal(cfg->workers.memory, 1ULL << 30);
	cfg_free(cfg);
}

/* Five distinct mistakes: all five are reported, each at its line. */
/* A trigger's concurrency defaults to the workers' count, wherever
 * <workers> stands in the file. */
static void
test_concurrency_default(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <watch name=\"in\" type=\"folder\" path=\"/in\"/>\n"
	    "  <trigger name=\"t\" watch=\"in\"><transform plugin=\"copy\"/>"
	    "</trigger>\n"
	    "  <workers count=\"3\"/>\n"
	    "</objtrigger>\n");

	assert_int_equal(cfg->nerrors, 0);
	assert_int_equal(cfg->triggers[0].concurrency, 3);
	cfg_free(cfg);
}

static void
test_every_error(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <workers timeout=\"5x\"/>\n"
	    "  <watch name=\"in\" type=\"folder\"/>\n"
	    "  <bogus/>\n"
	    "  <trigger name=\"t\" watch=\"in\" colour=\"red\">\n"
	    "    <transform plugin=\"copy\"/>\n"
	    "  </trigger>\n"
	    "  <trigger name=\"t\" watch=\"nowhere\">\n"
	    "    <transform plugin=\"copy\"/>\n"
	    "  </trigger>\n"
	    "</objtrigger>\n");

	assert_error(cfg, 2, "'5x' is not a duration");
	assert_error(cfg, 3, "needs the attribute 'path'");
	assert_error(cfg, 4, "unknown element <bogus>");
	assert_error(cfg, 5, "has no attribute 'colour'");
	assert_error(cfg, 8, "already defined at line 5");
	assert_error(cfg, 8, "no <watch> is named 'nowhere'");
	assert_int_equal(cfg->nerrors, 6);
	cfg_free(cfg);
}

static void
test_not_xml(void **state)
{
	struct cfg *cfg = load("this is not XML\n");

	assert_true(cfg->nerrors >= 1);
	assert_int_equal(cfg->errors[0].line, 1);
	cfg_free(cfg);
	cfg = load("<objtrigger>\n<watch name=\"a\"\n");
	assert_true(cfg->nerrors >= 1);
	cfg_free(cfg);
	cfg = load("");
	assert_true(cfg->nerrors >= 1);
	cfg_free(cfg);
}

static void
test_wrong_root(void **state)
{
	struct cfg *cfg = load("<config/>");

	assert_error(cfg, 1, "expected <objtrigger>");
	cfg_free(cfg);
}

/* No DTD, so no entity expansion and no external entity is ever read. */
static void
test_no_dtd(void **state)
{
	struct cfg *cfg = load(
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE objtrigger [ <!ENTITY x \"abc\"> ]>\n"
	    "<objtrigger>&x;</objtrigger>\n");

	assert_error(cfg, 1, "DTD");
	cfg_free(cfg);
	cfg = load(
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE objtrigger [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]>\n"
	    "<objtrigger><state path=\"&x;\"/></objtrigger>\n");
	assert_error(cfg, 3, "external entity");
	assert_null(strstr(cfg->state, "root"));
	cfg_free(cfg);
}

/* existing= defaults to skip, or to what an s3-poll watch's start=
 * says; a word other than skip or run is an error. */
static void
test_existing(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <store name=\"s\" endpoint=\"http://127.0.0.1:1\" "
	    "access-key-env=\"HOME\" secret-key-env=\"HOME\"/>\n"
	    "  <watch name=\"in\" type=\"folder\" path=\"/in\"/>\n"
	    "  <watch name=\"b\" type=\"s3-poll\" store=\"s\" bucket=\"b\" "
	    "start=\"beginning\"/>\n"
	    "  <trigger name=\"t\" watch=\"in\"><transform plugin=\"copy\"/>"
	    "</trigger>\n"
	    "  <trigger name=\"u\" watch=\"in\" existing=\"run\">"
	    "<transform plugin=\"copy\"/></trigger>\n"
	    "  <trigger name=\"v\" watch=\"b\"><transform plugin=\"copy\"/>"
	    "</trigger>\n"
	    "  <trigger name=\"w\" watch=\"b\" existing=\"skip\">"
	    "<transform plugin=\"copy\"/></trigger>\n"
	    "</objtrigger>\n");

	assert_clean(cfg);
	assert_int_equal(cfg->triggers[0].run_existing, 0);
	assert_int_equal(cfg->triggers[1].run_existing, 1);
	assert_int_equal(cfg->triggers[2].run_existing, 1);
	assert_int_equal(cfg->triggers[3].run_existing, 0);
	cfg_free(cfg);
	cfg = load("<objtrigger>\n"
		   "  <watch name=\"in\" type=\"folder\" path=\"/in\"/>\n"
		   "  <trigger name=\"t\" watch=\"in\" existing=\"all\">"
		   "<transform plugin=\"copy\"/></trigger>\n"
		   "</objtrigger>\n");
	assert_error(cfg, 3, "expected skip or run");
	cfg_free(cfg);
}

static void
test_bad_values(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <workers count=\"0\" memory=\"1MiB\" open-files=\"lots\"/>\n"
	    "  <watch name=\"../x\" type=\"s3\" path=\"/p\" recursive=\"sure\"/>\n"
	    "  <trigger name=\"t\" watch=\"x\" events=\"made\">\n"
	    "    <transform plugin=\"copy\"><param name=\"a\"/></transform>\n"
	    "    <transform plugin=\"copy\"/>\n"
	    "    <retry backoff=\"1m\" max-backoff=\"1s\"/>\n"
	    "    text\n"
	    "  </trigger>\n"
	    "  <trigger name=\"u\" watch=\"x\"/>\n"
	    "</objtrigger>\n");

	assert_error(cfg, 2, "out of range");
	assert_error(cfg, 2, "at least 16MiB");
	assert_error(cfg, 2, "'lots' is not a whole number");
	assert_error(cfg, 3, "a name is 1 to 64");
	assert_error(cfg, 3, "expected folder, s3-poll, s3-webhook or amqp");
	assert_error(cfg, 3, "is not yes or no");
	assert_error(cfg, 4, "unknown event 'made'");
	assert_error(cfg, 5, "needs the attribute 'value'");
	assert_error(cfg, 6, "second <transform>");
	assert_error(cfg, 7, "max-backoff is below backoff");
	assert_error(cfg, 8, "text is not allowed");
	assert_error(cfg, 10, "needs a <transform>");
	cfg_free(cfg);
}

/*
 * The HTTP server and two webhooks: every value read back. No error at
 * all also means the schema took the file, as it is applied once the
 * reader found nothing wrong: reader and schema agree.
 */
static void
test_webhook_good(void **state)
{
	char token[64], *text;
	struct cfg *cfg;
	const struct cfg_watch *w;

	secret_file(token, sizeof token, "s3cr3t\n", 0600);
	xasprintf(&text,
	    "<objtrigger>\n"
	    "  <http listen=\"127.0.0.1:9464\" max-body=\"64KiB\""
	    " timeout=\"10s\" max-connections=\"32\"/>\n" TEST_STORE
	    "  <watch name=\"any\" type=\"s3-webhook\" path=\"/events/any\""
	    " store=\"rgw\" token-file=\"%s\"/>\n"
	    "  <watch name=\"photos\" type=\"s3-webhook\""
	    " path=\"/events/photos\" store=\"rgw\" bucket=\"photos\""
	    " prefix=\"in/\" reconcile=\"10m\" sns-confirm=\"yes\""
	    " max-pending=\"50\"/>\n"
	    "  <trigger name=\"t\" watch=\"photos\" events=\"created removed\">"
	    "<transform plugin=\"copy\"/>"
	    "<output store=\"rgw\" bucket=\"thumbs\" key=\"{key}\"/>"
	    "</trigger>\n"
	    "</objtrigger>\n",
	    token);
	cfg = load(text);
	free(text);
	unlink(token);

	assert_clean(cfg);
	assert_string_equal(cfg->http.listen, "127.0.0.1:9464");
	assert_null(cfg->http.cert_file);
	assert_null(cfg->http.key_file);
	assert_int_equal(cfg->http.max_body, 64 << 10);
	assert_int_equal(cfg->http.timeout_ms, 10000);
	assert_int_equal(cfg->http.max_connections, 32);
	assert_int_equal(cfg->http.line, 2);
	assert_int_equal(cfg->nwatches, 2);

	w = &cfg->watches[0];
	assert_int_equal(w->type, CFG_WATCH_S3_WEBHOOK);
	assert_string_equal(w->path, "/events/any");
	assert_string_equal(w->store, "rgw");
	assert_null(w->bucket);
	assert_string_equal(w->prefix, "");
	assert_string_equal(w->token, "s3cr3t");
	assert_int_equal(w->interval_ms, 0);
	assert_int_equal(w->sns_confirm, 0);
	assert_int_equal(w->max_pending, 100000);

	w = &cfg->watches[1];
	assert_string_equal(w->path, "/events/photos");
	assert_string_equal(w->bucket, "photos");
	assert_string_equal(w->prefix, "in/");
	assert_null(w->token);
	assert_int_equal(w->interval_ms, 10 * 60 * 1000);
	assert_int_equal(w->sns_confirm, 1);
	assert_int_equal(w->max_pending, 50);
	cfg_free(cfg);
}

/* <http> with listen= only: the other values have their defaults. */
static void
test_http_defaults(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n"
	    "  <http listen=\"[::1]:9464\"/>\n"
	    "</objtrigger>\n");

	assert_clean(cfg);
	assert_string_equal(cfg->http.listen, "[::1]:9464");
	assert_int_equal(cfg->http.max_body, 1 << 20);
	assert_int_equal(cfg->http.timeout_ms, 30000);
	assert_int_equal(cfg->http.max_connections, 512);
	cfg_free(cfg);
	cfg = load("<objtrigger/>");
	assert_null(cfg->http.listen);
	assert_int_equal(cfg->http.line, 0);
	cfg_free(cfg);
}

static void
test_http_errors(void **state)
{
	static const char *const listens[] = { "9464", "host:", "h:99999",
		":9464", "h:94x" };
	struct cfg *cfg;
	char *text;
	size_t i;

	cfg = load(
	    "<objtrigger>\n"
	    "  <http listen=\"127.0.0.1:9464\" cert-file=\"/etc/c.pem\""
	    " max-body=\"512\"/>\n"
	    "  <http listen=\"127.0.0.1:9465\"/>\n"
	    "</objtrigger>\n");
	assert_error(cfg, 2, "TLS needs both cert-file and key-file");
	assert_error(cfg, 2, "<http max-body>: at least 1KiB");
	assert_error(cfg, 3, "<http> is already given at line 2");
	assert_int_equal(cfg->nerrors, 3);
	cfg_free(cfg);

	for (i = 0; i < sizeof listens / sizeof listens[0]; i++) {
		xasprintf(&text,
		    "<objtrigger>\n"
		    "  <http listen=\"%s\"/>\n"
		    "</objtrigger>\n",
		    listens[i]);
		cfg = load(text);
		free(text);
		assert_error(cfg, 2, "expected host:port");
		assert_int_equal(cfg->nerrors, 1);
		assert_null(cfg->http.listen);
		cfg_free(cfg);
	}
}

/* A webhook needs the server; without it, the watch's line says so. */
static void
test_webhook_no_http(void **state)
{
	struct cfg *cfg = load(
	    "<objtrigger>\n" TEST_STORE
	    "  <watch name=\"hook\" type=\"s3-webhook\" path=\"/events\""
	    " store=\"rgw\"/>\n"
	    "</objtrigger>\n");

	assert_error(cfg, 3, "needs the HTTP server");
	assert_int_equal(cfg->nerrors, 1);
	cfg_free(cfg);
}

static void
test_webhook_errors(void **state)
{
	char readable[64], empty[64], *text;
	struct cfg *cfg;

	secret_file(readable, sizeof readable, "s3cr3t\n", 0644);
	secret_file(empty, sizeof empty, "", 0600);
	xasprintf(&text,
	    "<objtrigger>\n"
	    "  <http listen=\"127.0.0.1:9464\"/>\n" TEST_STORE
	    "  <watch name=\"a\" type=\"s3-webhook\" path=\"/events\""
	    " store=\"rgw\"/>\n"
	    "  <watch name=\"b\" type=\"s3-webhook\" path=\"/events\""
	    " store=\"rgw\"/>\n"
	    "  <watch name=\"c\" type=\"s3-webhook\" path=\"/metrics\""
	    " store=\"rgw\"/>\n"
	    "  <watch name=\"d\" type=\"s3-webhook\" path=\"/d\""
	    " store=\"rgw\" reconcile=\"10m\"/>\n"
	    "  <watch name=\"e\" type=\"s3-webhook\" path=\"/e\""
	    " store=\"rgw\" token-file=\"%s\"/>\n"
	    "  <watch name=\"f\" type=\"s3-webhook\" path=\"/f\""
	    " store=\"rgw\" token-file=\"%s\"/>\n"
	    "</objtrigger>\n",
	    readable, empty);
	cfg = load(text);
	free(text);
	unlink(readable);
	unlink(empty);

	assert_error(cfg, 5, "the watch at line 4 answers on that path");
	assert_error(cfg, 6, "is neither /metrics nor /healthz");
	assert_error(cfg, 7, "needs the bucket to list");
	assert_error(cfg, 8, "chmod 600");
	assert_error(cfg, 9, "holds no token");
	assert_int_equal(cfg->nerrors, 5);
	cfg_free(cfg);
}

/* A broker and an amqp watch on it; the login from a private file. */
static void
test_amqp_good(void **state)
{
	char login[64], *text;
	const struct cfg_broker *b;
	const struct cfg_watch *w;
	struct cfg *cfg;

	secret_file(login, sizeof login, "user = ot\npassword = pw\n", 0600);
	xasprintf(&text,
	    "<objtrigger>\n" TEST_STORE
	    "  <broker name=\"mq\" url=\"amqp://127.0.0.1:5673/%%2Fjobs\""
	    " credentials-file=\"%s\" exchange=\"objtrigger\""
	    " heartbeat=\"20s\"/>\n"
	    "  <broker name=\"local\" url=\"amqp://localhost\""
	    " exchange=\"x\"/>\n"
	    "  <watch name=\"jobs\" type=\"amqp\" broker=\"mq\""
	    " queue=\"objtrigger.photos\" bind=\"photos  videos\""
	    " store=\"rgw\" delivery-limit=\"3\"/>\n"
	    "  <trigger name=\"t\" watch=\"jobs\"><transform plugin=\"copy\"/>"
	    "<output path=\"/tmp/out/{key}\"/></trigger>\n"
	    "</objtrigger>\n",
	    login);
	cfg = load(text);
	free(text);
	unlink(login);

	assert_clean(cfg);
	assert_int_equal(cfg->nbrokers, 2);
	b = cfg_find_broker(cfg, "mq");
	assert_non_null(b);
	assert_string_equal(b->host, "127.0.0.1");
	assert_int_equal(b->port, 5673);
	assert_string_equal(b->vhost, "/jobs");
	assert_string_equal(b->user, "ot");
	assert_string_equal(b->password, "pw");
	assert_string_equal(b->exchange, "objtrigger");
	assert_int_equal(b->heartbeat_ms, 20000);
	b = cfg_find_broker(cfg, "local");
	assert_int_equal(b->port, 5672);
	assert_string_equal(b->vhost, "/");
	assert_string_equal(b->user, "guest");
	assert_int_equal(b->heartbeat_ms, 10000);
	w = cfg_find_watch(cfg, "jobs");
	assert_int_equal(w->type, CFG_WATCH_AMQP);
	assert_string_equal(w->broker, "mq");
	assert_string_equal(w->queue, "objtrigger.photos");
	assert_string_equal(w->bind[0], "photos");
	assert_string_equal(w->bind[1], "videos");
	assert_null(w->bind[2]);
	assert_int_equal(w->delivery_limit, 3);
	assert_null(w->bucket);
	cfg_free(cfg);
}

static void
test_amqp_errors(void **state)
{
	char readable[64], nopass[64], *text;
	struct cfg *cfg;

	secret_file(readable, sizeof readable, "user = a\npassword = b\n",
	    0644);
	secret_file(nopass, sizeof nopass, "user = a\n", 0600);
	xasprintf(&text,
	    "<objtrigger>\n" TEST_STORE
	    "  <broker name=\"a\" url=\"http://127.0.0.1\" exchange=\"x\"/>\n"
	    "  <broker name=\"b\" url=\"amqp://u:p@127.0.0.1\""
	    " exchange=\"x\"/>\n"
	    "  <broker name=\"c\" url=\"amqp://h\" exchange=\"x\""
	    " credentials-file=\"%s\"/>\n"
	    "  <broker name=\"d\" url=\"amqp://h\" exchange=\"x\""
	    " credentials-file=\"%s\"/>\n"
	    "  <broker name=\"d\" url=\"amqp://h\" exchange=\"x\""
	    " password=\"p\"/>\n"
	    "  <watch name=\"w\" type=\"amqp\" broker=\"nope\" queue=\"q\""
	    " store=\"rgw\"/>\n"
	    "  <watch name=\"v\" type=\"amqp\" broker=\"c\""
	    " queue=\"amq.x\" store=\"rgw\"/>\n"
	    "</objtrigger>\n",
	    readable, nopass);
	cfg = load(text);
	free(text);
	unlink(readable);
	unlink(nopass);

	assert_error(cfg, 3, "expected amqp://host[:port][/vhost]");
	assert_error(cfg, 4, "no user or password in the URL");
	assert_error(cfg, 5, "chmod 600");
	assert_error(cfg, 6, "has no password");
	assert_error(cfg, 7, "a login is never written in the config");
	assert_error(cfg, 7, "a broker named 'd' is already defined");
	assert_error(cfg, 8, "no <broker> is named 'nope'");
	assert_error(cfg, 9, "amq. names are the broker's");
	cfg_free(cfg);
}

static void
test_unreadable(void **state)
{
	struct cfg *cfg = cfg_load("/nonexistent/objtrigger.xml");

	assert_int_equal(cfg->nerrors, 1);
	assert_int_equal(cfg->errors[0].line, 0);
	assert_non_null(strstr(cfg->errors[0].message, "cannot read"));
	cfg_free(cfg);
}

/* A bucket watch that publishes: its broker must exist, and no trigger
 * may name it (it would never run). */
static void
test_publish(void **state)
{
	const struct cfg_watch *w;
	struct cfg *cfg;

	(void)state;
	cfg = load("<objtrigger>\n" TEST_STORE
		   "  <broker name=\"mq\" url=\"amqp://h\" exchange=\"x\"/>\n"
		   "  <watch name=\"p\" type=\"s3-poll\" store=\"rgw\""
		   " bucket=\"b\" publish=\"mq\"/>\n"
		   "</objtrigger>\n");
	assert_clean(cfg);
	w = cfg_find_watch(cfg, "p");
	assert_string_equal(w->publish, "mq");
	cfg_free(cfg);

	cfg = load("<objtrigger>\n" TEST_STORE
		   "  <http listen=\"127.0.0.1:9464\"/>\n"
		   "  <broker name=\"mq\" url=\"amqp://h\" exchange=\"x\"/>\n"
		   "  <watch name=\"p\" type=\"s3-poll\" store=\"rgw\""
		   " bucket=\"b\" publish=\"nope\"/>\n"
		   "  <watch name=\"h\" type=\"s3-webhook\" path=\"/h\""
		   " store=\"rgw\" publish=\"mq\"/>\n"
		   "  <trigger name=\"t\" watch=\"h\"><transform plugin=\"copy\"/>"
		   "<output path=\"/tmp/out/{key}\"/></trigger>\n"
		   "  <watch name=\"f\" type=\"folder\" path=\"/tmp\""
		   " publish=\"mq\"/>\n"
		   "</objtrigger>\n");
	assert_error(cfg, 5, "no <broker> is named 'nope'");
	assert_error(cfg, 7,
	    "<trigger name=\"t\">: watch h publishes its events to broker mq "
	    "and runs no trigger");
	assert_error(cfg, 8, "<watch> has no attribute 'publish'");
	cfg_free(cfg);
}

/* A trigger of an amqp watch batches by size and a short window only:
 * its messages stay unacked until the batch ran. */
static void
test_amqp_batch(void **state)
{
	struct cfg *cfg;

	(void)state;
	cfg = load("<objtrigger>\n" TEST_STORE
		   "  <broker name=\"mq\" url=\"amqp://h\" exchange=\"x\"/>\n"
		   "  <watch name=\"q\" type=\"amqp\" broker=\"mq\""
		   " queue=\"q\" store=\"rgw\"/>\n"
		   "  <trigger name=\"a\" watch=\"q\" batch-size=\"500\""
		   " batch-window=\"10m\"><transform plugin=\"copy\"/>"
		   "<output path=\"/tmp/out/{key}\"/></trigger>\n"
		   "</objtrigger>\n");
	assert_clean(cfg);
	cfg_free(cfg);

	cfg = load("<objtrigger>\n" TEST_STORE
		   "  <broker name=\"mq\" url=\"amqp://h\" exchange=\"x\"/>\n"
		   "  <watch name=\"q\" type=\"amqp\" broker=\"mq\""
		   " queue=\"q\" store=\"rgw\"/>\n"
		   "  <trigger name=\"d\" watch=\"q\" batch-every=\"day\">"
		   "<transform plugin=\"copy\"/>"
		   "<output path=\"/tmp/out/{key}\"/></trigger>\n"
		   "  <trigger name=\"w\" watch=\"q\" batch-size=\"10\""
		   " batch-window=\"11m\"><transform plugin=\"copy\"/>"
		   "<output path=\"/tmp/out/{key}\"/></trigger>\n"
		   "</objtrigger>\n");
	assert_error(cfg, 5,
	    "<trigger name=\"d\" batch-every>: watch q is of type amqp");
	assert_error(cfg, 6, "<trigger name=\"w\" batch-window>: at most 10m");
	assert_int_equal(cfg->nerrors, 2);
	cfg_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_concurrency_default),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_not_xml),
		cmocka_unit_test(test_wrong_root),
		cmocka_unit_test(test_no_dtd),
		cmocka_unit_test(test_existing),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_webhook_good),
		cmocka_unit_test(test_http_defaults),
		cmocka_unit_test(test_http_errors),
		cmocka_unit_test(test_webhook_no_http),
		cmocka_unit_test(test_webhook_errors),
		cmocka_unit_test(test_amqp_good),
		cmocka_unit_test(test_amqp_errors),
		cmocka_unit_test(test_amqp_batch),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_unreadable),
	};

	/* The keys of TEST_STORE. */
	setenv("TEST_CFG_ACCESS", "access", 1);
	setenv("TEST_CFG_SECRET", "secret", 1);

	return cmocka_run_group_tests(tests, NULL, NULL);
}
