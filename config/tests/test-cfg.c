/* test-cfg.c - reading configs: values, defaults, and every error's line. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"

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

	assert_int_equal(cfg->nerrors, 0);
	assert_string_equal(cfg->state, "./.objtrigger");
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
	assert_error(cfg, 3, "expected folder, s3-poll or s3-webhook");
	assert_error(cfg, 3, "is not yes or no");
	assert_error(cfg, 4, "unknown event 'made'");
	assert_error(cfg, 5, "needs the attribute 'value'");
	assert_error(cfg, 6, "second <transform>");
	assert_error(cfg, 7, "max-backoff is below backoff");
	assert_error(cfg, 8, "text is not allowed");
	assert_error(cfg, 10, "needs a <transform>");
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
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
