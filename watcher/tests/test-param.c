/* test-param.c - plugin parameters checked against their declarations. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "objtrigger.h"

static struct plugin_param params[] = {
	{ "size", OT_PARAM_INT, 0, "256", "pixels", NULL, 1, 10000 },
	{ "fit", OT_PARAM_ENUM, 0, "inside", "how", "inside|cover|fill", 0, 0 },
	{ "arg", OT_PARAM_STRING, OT_PARAM_REQUIRED | OT_PARAM_REPEAT, NULL,
	    "argv", NULL, 0, 0 },
	{ "strip", OT_PARAM_BOOL, 0, "yes", "strip metadata", NULL, 0, 0 },
	{ "max", OT_PARAM_SIZE, 0, NULL, "largest input", NULL, 0, 0 },
	{ "wait", OT_PARAM_DURATION, 0, NULL, "delay", NULL, 0, 0 },
};
static const struct plugin_info info = { "thumb", "1", "test", params, 6,
	NULL };

struct collected {
	char messages[8][256];
	size_t index[8];
	size_t n;
};

static void
collect(void *arg, size_t index, const char *message)
{
	struct collected *c = arg;

	assert_true(c->n < 8);
	snprintf(c->messages[c->n], sizeof c->messages[0], "%s", message);
	c->index[c->n++] = index;
}

static void
test_valid(void **state)
{
	struct param_value v[] = { { "size", "128" }, { "fit", "cover" },
		{ "arg", "a" }, { "arg", "b" }, { "strip", "no" },
		{ "max", "10MiB" }, { "wait", "5s" } };
	struct collected c = { .n = 0 };

	assert_int_equal(param_check(&info, v, 7, collect, &c), 0);
}

static void
test_errors(void **state)
{
	struct param_value v[] = { { "size", "big" }, { "fit", "stretch" },
		{ "colour", "red" }, { "size", "5" }, { "strip", "maybe" },
		{ "max", "lots" }, { "wait", "soon" } };
	struct collected c = { .n = 0 };

	assert_int_equal(param_check(&info, v, 7, collect, &c), 8);
	assert_non_null(strstr(c.messages[0],
	    "'size' of plugin 'thumb' is "
	    "int: 'big' is not a whole number"));
	assert_non_null(strstr(c.messages[1],
	    "'stretch' is not one of "
	    "inside|cover|fill"));
	assert_non_null(strstr(c.messages[2],
	    "has no parameter 'colour' "
	    "(it takes: size, fit, arg, strip, max, wait)"));
	assert_int_equal(c.index[2], 2);
	assert_non_null(strstr(c.messages[3], "given twice"));
	assert_non_null(strstr(c.messages[4], "not yes or no"));
	assert_non_null(strstr(c.messages[5], "not a size"));
	assert_non_null(strstr(c.messages[6], "not a duration"));
	assert_non_null(strstr(c.messages[7], "needs the parameter 'arg'"));
	assert_int_equal(c.index[7], SIZE_MAX);
}

static void
test_range(void **state)
{
	struct param_value v[] = { { "size", "0" }, { "arg", "x" } };
	struct collected c = { .n = 0 };

	assert_int_equal(param_check(&info, v, 2, collect, &c), 1);
	assert_non_null(strstr(c.messages[0], "out of range (1 to 10000)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
