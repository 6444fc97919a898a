/* clock.c - the two clocks: monotonic for deadlines, wall for records;
 * and the local calendar's periods, for batches. */

#include <stdio.h>
#include <time.h>

#include "objtrigger.h"

/* Milliseconds on the monotonic clock, for timeouts and deadlines. */
uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds since the epoch, for what the journal keeps. */
int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds on the monotonic clock, which every process of the machine
 * reads alike: for what the daemon tells other processes (control.c, and
 * systemd's MONOTONIC_USEC). */
uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#define CLOCK_DAY_MS (24 * 3600 * 1000)

/* Local midnight of the day that holds t, days after it; in ms. */
static int64_t
clock_midnight(time_t t, int days)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_mday += days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/*
 * The period of the local calendar that holds at (ms since the epoch):
 * periods of every_ms (which divides a day) start at local midnight, and
 * the last of a day ends at the next midnight, so that a day of 23 or 25
 * hours still closes at midnight. Its start and end, in ms.
 */
void
clock_period(int64_t at, uint64_t every_ms, int64_t *start, int64_t *end)
{
	int64_t midnight = clock_midnight((time_t)(at / 1000), 0);
	int64_t next = clock_midnight((time_t)(at / 1000), 1);

	if (every_ms >= CLOCK_DAY_MS) {
		*start = midnight;
		*end = next;
		return;
	}
	*start =
	    midnight + (at - midnight) / (int64_t)every_ms * (int64_t)every_ms;
	*end = *start + (int64_t)every_ms < next ? *start + (int64_t)every_ms :
						   next;
}

/* A period's name, from its start in local time: 2026-12-01 for a day,
 * 2026-12-01T14 for hours, 2026-12-01T1405 for minutes, 2026-12-01T140510
 * for seconds. */
const char *
clock_period_name(int64_t start, uint64_t every_ms, char *buf, size_t len)
{
	time_t t = (time_t)(start / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len,
	    every_ms % CLOCK_DAY_MS == 0 ? "%Y-%m-%d" :
		every_ms % 3600000 == 0  ? "%Y-%m-%dT%H" :
		every_ms % 60000 == 0    ? "%Y-%m-%dT%H%M" :
					   "%Y-%m-%dT%H%M%S",
	    &tm);
	return buf;
}
