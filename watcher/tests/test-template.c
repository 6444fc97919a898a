/* test-template.c - output names from templates, never escaping. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objtrigger.h"

/* 1971-01-01 00:00:00 UTC. */
#define TEST_WHEN ((time_t)86400 * 365)

/* Asserts the destination folder of a template. */
static void
assert_root(const char *tmpl, const char *want)
{
	char *root = template_root(tmpl);

	assert_string_equal(root, want);
	free(root);
}

/* Asserts that a template is accepted. */
static void
assert_check_ok(const char *tmpl)
{
	char *cause = NULL;

	assert_int_equal(template_check(tmpl, &cause), 0);
	assert_null(cause);
}

/* Asserts that a template is refused with a message holding what. */
static void
assert_check_bad(const char *tmpl, const char *what)
{
	char *cause = NULL;

	assert_int_equal(template_check(tmpl, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("\"%s\": '%s' is not in: %s", tmpl, what, cause);
	free(cause);
}

/* Asserts what a template makes of a key and an output name. */
static void
assert_expand(const char *tmpl, const char *key, const char *name,
    const char *want)
{
	struct template_vars v = { key, name, "thumbs", TEST_WHEN, NULL };
	char *cause = NULL, *out;
	int same;

	out = template_expand(tmpl, &v, &cause);
	if (out == NULL)
		fail_msg("\"%s\": refused: %s", tmpl, cause);
	assert_null(cause);
	same = strcmp(out, want) == 0;
	if (!same)
		print_message("\"%s\": \"%s\", not \"%s\"\n", tmpl, out, want);
	free(out);
	assert_true(same);
}

/* Asserts that a template refuses a key and an output name, with a message
 * holding what. */
static void
assert_refused(const char *tmpl, const char *key, const char *name,
    const char *what)
{
	struct template_vars v = { key, name, "thumbs", TEST_WHEN, NULL };
	char *cause = NULL, *out;

	out = template_expand(tmpl, &v, &cause);
	if (out != NULL)
		fail_msg("\"%s\": not refused: %s", tmpl, out);
	assert_non_null(cause);
	if (strstr(cause, what) == NULL)
		fail_msg("\"%s\": '%s' is not in: %s", tmpl, what, cause);
	free(cause);
}

/* A string of n copies of c (allocated). */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_root(void **state)
{
	assert_root("./outbox/{dir}/{name}", "./outbox");
	assert_root("/srv/out/{name}", "/srv/out");
	assert_root("{name}", ".");
	assert_root("/{key}", "/");
	assert_root("out/x{stem}.webp", "out");
}

static void
test_check(void **state)
{
	assert_check_ok("./o/{key}");
	assert_check_ok("./o/{dir}/{stem}.{ext}");
	assert_check_ok("{trigger}/{date}/{name}");
	assert_check_bad("./o/{nope}", "unknown placeholder");
	assert_check_bad("./o/{name", "unknown placeholder");
	assert_check_bad("./o/fixed.txt", "has no placeholder");
	assert_check_bad("./o/}{name}", "'}' without '{'");
}

static void
test_placeholders(void **state)
{
	const char *key = "a/b/photo.jpg", *name = "photo.256.webp";

	assert_expand("./o/{dir}", key, name, "./o/a/b");
	assert_expand("./o/{name}", key, name, "./o/photo.256.webp");
	assert_expand("./o/{stem}", key, name, "./o/photo.256");
	assert_expand("./o/{ext}", key, name, "./o/webp");
	assert_expand("./o/{key}", key, name, "./o/a/b/photo.jpg");
	assert_expand("./o/{trigger}", key, name, "./o/thumbs");
	assert_expand("./o/{date}", key, name, "./o/1971-01-01");
	assert_expand("./o/{dir}/{stem}-small.{ext}", key, name,
	    "./o/a/b/photo.256-small.webp");
}

/* {period}: a calendar batch's period, or else the local day. */
static void
test_period(void **state)
{
	struct template_vars v = { "k", "n", "t", TEST_WHEN, NULL };
	char *out, *cause = NULL;

	(void)state;
	setenv("TZ", "America/New_York", 1);
	tzset();
	assert_non_null(out = template_expand("./o/{period}.zip", &v, &cause));
	assert_string_equal(out, "./o/1970-12-31.zip");
	free(out);
	v.period = "2026-12-01";
	assert_non_null(out = template_expand("./o/{period}.zip", &v, &cause));
	assert_string_equal(out, "./o/2026-12-01.zip");
	free(out);
}

static void
test_roots(void **state)
{
	const char *key = "a/b/photo.jpg", *name = "photo.256.webp";

	assert_expand("./outbox/{dir}/{name}", key, name,
	    "./outbox/a/b/photo.256.webp");
	assert_expand("/srv/out/{name}", key, name, "/srv/out/photo.256.webp");
	assert_expand("/{key}", key, name, "/a/b/photo.jpg");
	assert_expand("{trigger}/{date}/{name}", key, name,
	    "./thumbs/1971-01-01/photo.256.webp");
	assert_expand("out/x{stem}.png", key, name, "out/xphoto.256.png");
}

static void
test_empty_components(void **state)
{
	assert_expand("./outbox/{dir}/{name}", "photo.jpg", "photo.jpg",
	    "./outbox/photo.jpg");
	assert_expand("./outbox/{dir}//{name}", "/a//b/photo.jpg", "x.png",
	    "./outbox/a/b/x.png");
	assert_expand("./outbox/{dir}/{name}", "photo.jpg", "/sub//x.png",
	    "./outbox/sub/x.png");
	/* "a//b" and "a/b" are one output; "dir/" is none, so that it
	 * cannot make a file dir that every later "dir/x" fails on. */
	assert_expand("./o/{key}", "a//b", "x", "./o/a/b");
	assert_refused("./o/{key}", "dir/", "x", "names a folder");
	assert_refused("./o/{dir}/{name}", "k", "sub/", "names a folder");
	assert_expand("./o/{dir}/{name}", "dir/", "x", "./o/dir/x");
}

static void
test_stem_ext(void **state)
{
	assert_expand("./o/{stem}|{ext}", "k", "README", "./o/README|");
	assert_expand("./o/{stem}|{ext}", "k", ".profile", "./o/.profile|");
	assert_expand("./o/{stem}|{ext}", "k", "sub/.profile",
	    "./o/sub/.profile|");
	assert_expand("./o/{stem}|{ext}", "k", "a.d/file", "./o/a.d/file|");
	assert_expand("./o/{stem}|{ext}", "k", "a.d/f.txt", "./o/a.d/f|txt");
}

static void
test_escapes(void **state)
{
	assert_refused("./o/{key}", "../../etc/passwd", "x", "'..' component");
	assert_refused("./o/{name}", "k", "a/../../x", "'..' component");
	assert_refused("./o/{key}", "./x", "x", "'.' component");
	assert_refused("./o/{name}", "k", "..", "'..' component");
	assert_refused("{name}", "k", "..", "'..' component");
	assert_refused("/{key}", "..", "x", "'..' component");
	assert_refused("./o/.{ext}", "k", "noext", "'.' component");
}

static void
test_too_long(void **state)
{
	char *big = repeat('x', NAME_MAX + 1), *longest = repeat('y', NAME_MAX);
	char *deep = repeat('/', PATH_MAX), want[NAME_MAX + 8];
	size_t i;

	assert_refused("./o/{name}", "k", big, "component");
	snprintf(want, sizeof want, "./o/%s", longest);
	assert_expand("./o/{name}", "k", longest, want);

	/* "y/y/y/...": short components, PATH_MAX bytes in all. */
	for (i = 0; i < PATH_MAX; i += 2)
		deep[i] = 'y';
	assert_refused("./o/{key}", deep, "x", "over");
	free(deep);
	free(longest);
	free(big);
}

static void
test_empty(void **state)
{
	assert_refused("./o/{dir}", "x", "x", "empty");
	assert_refused("/{dir}", "x", "x", "empty");
	assert_refused("{dir}", "x", "x", "empty");
	assert_refused("./o/{dir}/{ext}", "x", "noext", "empty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_empty_components),
		cmocka_unit_test(test_stem_ext),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
