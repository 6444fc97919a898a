/* test-metrics.c - the series of /metrics: found again by their labels. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "objtrigger.h"

/* Whether the rendered table holds the line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p += n) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	}
	return 0;
}

/* The same labels add to one series; labels that only start alike, or
 * differ by an escaped byte, or come in another number, are others. */
static void
test_series(void **state)
{
	size_t len;
	char *text;

	(void)state;
	metrics_reset();
	metrics_add(M_JOBS, 1, "trigger", "t", "result", "ok", NULL);
	metrics_add(M_JOBS, 2, "trigger", "t", "result", "ok", NULL);
	metrics_add(M_JOBS, 1, "trigger", "t", "result", "okay", NULL);
	metrics_add(M_JOBS, 1, "trigger", "t", NULL);
	metrics_add(M_JOBS, 1, "trigger", "a\"b\\c\nd", "result", "ok", NULL);
	metrics_add(M_JOBS, 4, "trigger", "a\"b\\c\nd", "result", "ok", NULL);
	metrics_add(M_JOBS, 1, "trigger", "a\"b\\c d", "result", "ok", NULL);
	metrics_add(M_EVENTS, 7, NULL);
	metrics_add(M_EVENTS, 1, NULL);
	text = metrics_render(&len);
	assert_true(has_line(text,
	    "objtrigger_jobs_total{trigger=\"t\",result=\"ok\"} 3"));
	assert_true(has_line(text,
	    "objtrigger_jobs_total{trigger=\"t\",result=\"okay\"} 1"));
	assert_true(has_line(text, "objtrigger_jobs_total{trigger=\"t\"} 1"));
	assert_true(has_line(text,
	    "objtrigger_jobs_total{trigger=\"a\\\"b\\\\c\\nd\","
	    "result=\"ok\"} 5"));
	assert_true(has_line(text,
	    "objtrigger_jobs_total{trigger=\"a\\\"b\\\\c d\","
	    "result=\"ok\"} 1"));
	assert_true(has_line(text, "objtrigger_events_total 8"));
	free(text);
	metrics_reset();
}

/* Labels longer than the lookup's stack buffer find their series too. */
static void
test_long_labels(void **state)
{
	char value[400], *line, *text;
	size_t len;

	(void)state;
	memset(value, 'v', sizeof value - 1);
	value[sizeof value - 1] = '\0';
	metrics_reset();
	metrics_add(M_JOBS, 1, "trigger", value, NULL);
	metrics_add(M_JOBS, 2, "trigger", value, NULL);
	value[0] = 'w';
	metrics_add(M_JOBS, 4, "trigger", value, NULL);
	text = metrics_render(&len);
	assert_true(asprintf(&line, "objtrigger_jobs_total{trigger=\"%s\"} 4",
			value) > 0);
	assert_true(has_line(text, line));
	free(line);
	value[0] = 'v';
	assert_true(asprintf(&line, "objtrigger_jobs_total{trigger=\"%s\"} 3",
			value) > 0);
	assert_true(has_line(text, line));
	free(line);
	free(text);
	metrics_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_long_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
