/* test-clock.c - the local calendar's periods of batch-every. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "objtrigger.h"

#define HOUR (3600 * 1000LL)
#define DAY (24 * HOUR)

/* Milliseconds of a local time in the zone set. */
static int64_t
local(int year, int month, int day, int hour, int min, int sec)
{
	struct tm tm = { 0 };

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static void
assert_period(int64_t at, uint64_t every, int64_t start, int64_t end,
    const char *name)
{
	int64_t s, e;
	char buf[32];

	clock_period(at, every, &s, &e);
	assert_int_equal(s, start);
	assert_int_equal(e, end);
	assert_string_equal(clock_period_name(s, every, buf, sizeof buf),
	    name);
}

/* Days close at local midnight, whatever the day's length; shorter
 * periods start at midnight too. */
static void
test_periods(void **state)
{
	(void)state;
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	assert_period(local(2026, 12, 1, 23, 59, 59), DAY,
	    local(2026, 12, 1, 0, 0, 0), local(2026, 12, 2, 0, 0, 0),
	    "2026-12-01");
	assert_period(local(2026, 12, 2, 0, 0, 0), DAY,
	    local(2026, 12, 2, 0, 0, 0), local(2026, 12, 3, 0, 0, 0),
	    "2026-12-02");
	/* 29 March 2026 has 23 hours in Paris, 25 October 25. */
	assert_period(local(2026, 3, 29, 12, 0, 0), DAY,
	    local(2026, 3, 29, 0, 0, 0), local(2026, 3, 29, 0, 0, 0) + 23 * HOUR,
	    "2026-03-29");
	assert_period(local(2026, 10, 25, 23, 30, 0), DAY,
	    local(2026, 10, 25, 0, 0, 0), local(2026, 10, 25, 0, 0, 0) + 25 * HOUR,
	    "2026-10-25");
	assert_period(local(2026, 12, 1, 14, 5, 10), HOUR,
	    local(2026, 12, 1, 14, 0, 0), local(2026, 12, 1, 15, 0, 0),
	    "2026-12-01T14");
	assert_period(local(2026, 12, 1, 14, 7, 10), 15 * 60 * 1000,
	    local(2026, 12, 1, 14, 0, 0), local(2026, 12, 1, 14, 15, 0),
	    "2026-12-01T1400");
	assert_period(local(2026, 12, 1, 14, 7, 11), 2000,
	    local(2026, 12, 1, 14, 7, 10), local(2026, 12, 1, 14, 7, 12),
	    "2026-12-01T140710");
	/* In UTC, the same instant is in another day. */
	setenv("TZ", "UTC", 1);
	tzset();
	assert_period(local(2026, 12, 1, 23, 30, 0) + 2 * HOUR, DAY,
	    local(2026, 12, 2, 0, 0, 0), local(2026, 12, 3, 0, 0, 0),
	    "2026-12-02");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_periods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
