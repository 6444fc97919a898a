/* test-log.c - log lines cannot be forged or carry escape sequences. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "objtrigger.h"

static void
assert_escaped(const char *in, int controls, const char *want)
{
	char *got = log_escape(in, controls);

	assert_string_equal(got, want);
	free(got);
}

static void
test_escape_text(void **state)
{
	(void)state;
	assert_escaped("", 1, "");
	assert_escaped("plain key/é ü €.jpg", 1, "plain key/é ü €.jpg");
	assert_escaped("a\nb\rc\td", 1, "a\\x0ab\\x0dc\\x09d");
	assert_escaped("\033[31mred\033]0;t\007", 1,
	    "\\x1b[31mred\\x1b]0;t\\x07");
	assert_escaped("del\177", 1, "del\\x7f");
	/* C1 controls, valid UTF-8 yet read as CSI by some terminals. */
	assert_escaped("\xc2\x9b[2J \xc2\x85 \xc2\xa0", 1,
	    "\\xc2\\x9b[2J \\xc2\\x85 \xc2\xa0");
	/* Not UTF-8: stray, truncated, overlong, surrogate, too high. */
	assert_escaped("\xff\xfe", 1, "\\xff\\xfe");
	assert_escaped("x\xe2\x82", 1, "x\\xe2\\x82");
	assert_escaped("\xc0\xaf \xe0\x80\xaf", 1,
	    "\\xc0\\xaf \\xe0\\x80\\xaf");
	assert_escaped("\xed\xa0\x80", 1, "\\xed\\xa0\\x80");
	assert_escaped("\xf4\x90\x80\x80 \xf0\x9f\x98\x80", 1,
	    "\\xf4\\x90\\x80\\x80 \xf0\x9f\x98\x80");
	/* A backslash is left alone: it ends nothing. */
	assert_escaped("a\\b", 1, "a\\b");
}

static void
test_escape_json(void **state)
{
	(void)state;
	/* Controls stay for jansson to escape; only non-UTF-8 goes. */
	assert_escaped("a\nb\033", 0, "a\nb\033");
	assert_escaped("\xc2\x9b \xff", 0, "\xc2\x9b \\xff");
}

/* Runs fn with stderr going to a file, and returns what it wrote. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/test-log-XXXXXX", *text;
	int fd = mkstemp(path), saved = dup(2);
	long len;
	FILE *f;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

#define FORGED "x\n2026-01-01 objtrigger: error: forged\033[31m\xff"

static void
log_all(void)
{
	log_error("watch w: SNS asks to confirm the subscription to %s",
	    FORGED);
	log_job(LEVEL_INFO, 7, "t", FORGED, "done", 1, 3, FORGED);
	log_write_job(LEVEL_WARN, "exec", "7", "t", FORGED);
}

static void
test_text_lines(void **state)
{
	char *text, *line, *next;
	int n = 0;

	(void)state;
	log_open(LEVEL_INFO, "objtrigger");
	log_set_json(0);
	text = capture(log_all);
	assert_non_null(strstr(text,
	    "error: watch w: SNS asks to confirm the subscription to "
	    "x\\x0a2026-01-01 objtrigger: error: forged\\x1b[31m\\xff\n"));
	assert_non_null(strstr(text,
	    "job 7 done: trigger=t key=\"x\\x0a2026-01-01 objtrigger: error: "
	    "forged\\x1b[31m\\xff\" attempts=1"));
	assert_non_null(strstr(text,
	    "warning: exec: job 7 trigger=t: x\\x0a2026-01-01 objtrigger: "
	    "error: "
	    "forged\\x1b[31m\\xff\n"));
	for (line = text; *line != '\0'; line = next + 1, n++) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next = '\0';
		assert_true(strncmp(line, "objtrigger: ", 12) == 0);
		assert_null(strchr(line, '\033'));
		assert_null(strchr(line, '\r'));
		assert_null(strchr(line, '\xff'));
	}
	assert_int_equal(n, 3);
	free(text);
}

static void
test_json_lines(void **state)
{
	char *text, *line, *next;
	json_t *obj;
	int n = 0;

	(void)state;
	log_open(LEVEL_INFO, "objtrigger");
	log_set_json(1);
	text = capture(log_all);
	log_set_json(0);
	for (line = text; *line != '\0'; line = next + 1, n++) {
		next = strchr(line, '\n');
		assert_non_null(next);
		*next = '\0';
		obj = json_loads(line, 0, NULL);
		assert_non_null(obj);
		if (n == 1)
			assert_string_equal(json_string_value(
						json_object_get(obj, "key")),
			    "x\n2026-01-01 objtrigger: error: forged\033[31m"
			    "\\xff");
		json_decref(obj);
	}
	assert_int_equal(n, 3);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_text),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_json_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
