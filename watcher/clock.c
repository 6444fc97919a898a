/* clock.c - the two clocks: monotonic for deadlines, wall for records. */

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
