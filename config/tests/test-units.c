/* test-units.c - durations, sizes, whole numbers and booleans. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "units.h"

static void
test_durations(void **state)
{
	uint64_t ms;
	char *cause = NULL;

	assert_int_equal(units_parse_duration("250ms", &ms, &cause), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(units_parse_duration("5s", &ms, &cause), 0);
	assert_int_equal(ms, 5000);
	assert_int_equal(units_parse_duration("2m", &ms, &cause), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(units_parse_duration("1h", &ms, &cause), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(units_parse_duration("0s", &ms, &cause), 0);
	assert_int_equal(ms, 0);
}

static void
test_bad_durations(void **state)
{
	const char *bad[] = { "", "5", "5x", "s", "-1s", " 5s", "5s ", "5 s",
		"1.5s", "99999999999999999999s", "9999999999999999d", NULL };
	uint64_t ms;
	char *cause;
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		assert_int_equal(units_parse_duration(bad[i], &ms, &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "is not a duration"));
		free(cause);
	}
}

static void
test_sizes(void **state)
{
	uint64_t n;
	char *cause = NULL;

	assert_int_equal(units_parse_size("512", &n, &cause), 0);
	assert_int_equal(n, 512);
	assert_int_equal(units_parse_size("512KiB", &n, &cause), 0);
	assert_int_equal(n, 512 * 1024);
	assert_int_equal(units_parse_size("1GiB", &n, &cause), 0);
	assert_int_equal(n, 1ULL << 30);
	assert_int_equal(units_parse_size("10MB", &n, &cause), 0);
	assert_int_equal(n, 10000000);
	assert_int_equal(units_parse_size("1x", &n, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(units_parse_size("99999999TiB", &n, &cause), -1);
	free(cause);
}

static void
test_ints_and_bools(void **state)
{
	int64_t n;
	int b;
	char *cause = NULL;

	assert_int_equal(units_parse_int("42", 1, 100, &n, &cause), 0);
	assert_int_equal(n, 42);
	assert_int_equal(units_parse_int("-3", -5, 5, &n, &cause), 0);
	assert_int_equal(n, -3);
	assert_int_equal(units_parse_int("101", 1, 100, &n, &cause), -1);
	assert_non_null(strstr(cause, "out of range"));
	free(cause);
	cause = NULL;
	assert_int_equal(units_parse_int("4x", 1, 100, &n, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(units_parse_int("", 1, 100, &n, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(units_parse_bool("Yes", &b, &cause), 0);
	assert_int_equal(b, 1);
	assert_int_equal(units_parse_bool("off", &b, &cause), 0);
	assert_int_equal(b, 0);
	assert_int_equal(units_parse_bool("maybe", &b, &cause), -1);
	free(cause);
}

static void
test_format(void **state)
{
	char buf[32];

	assert_string_equal(units_format_size(1ULL << 30, buf, sizeof buf),
	    "1GiB");
	assert_string_equal(units_format_size(1536, buf, sizeof buf),
	    "1536 bytes");
	assert_string_equal(units_format_duration(2000, buf, sizeof buf), "2s");
	assert_string_equal(units_format_duration(120000, buf, sizeof buf),
	    "2m");
	assert_string_equal(units_format_duration(1500, buf, sizeof buf),
	    "1500ms");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ints_and_bools),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
