/* racer.c - exchanges two paths in a loop, as a hostile writer would. */

/*
 * racer A B SECONDS [PAUSE]: renameat2(A, B, RENAME_EXCHANGE) in a loop,
 * pausing between PAUSE and twice PAUSE microseconds (200 if not given)
 * after each, for SECONDS (a decimal number) or until SIGTERM or SIGINT.
 * A and B are exchanged an even number of times, so that each ends where
 * it began. Prints how many exchanges it made. Exits 0; 2 if the file
 * system cannot exchange (the caller skips); 1 on any other error.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t racer_stop;

static void
racer_signal(int sig)
{
	racer_stop = 1;
}

/* glibc has had renameat2 only since 2.28: the system call works on all. */
static int
racer_exchange(const char *a, const char *b)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
	    RENAME_EXCHANGE);
}

static double
racer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct timespec pause;
	unsigned long swaps = 0;
	double seconds, end;
	long pause_us = 200;
	char *rest;
	int error;

	if (argc == 5 &&
	    ((pause_us = strtol(argv[4], &rest, 10)) < 1 || pause_us > 100000 ||
		*rest != '\0'))
		argc = 0;
	if ((argc != 4 && argc != 5) ||
	    (seconds = strtod(argv[3], &rest)) <= 0 || *rest != '\0') {
		fprintf(stderr, "usage: racer A B SECONDS [PAUSE]\n");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = racer_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	srandom((unsigned)getpid());
	end = racer_now() + seconds;
	while (!racer_stop && racer_now() < end) {
		if (racer_exchange(argv[1], argv[2]) != 0) {
			if ((error = errno) == EINTR)
				continue;
			fprintf(stderr, "racer: exchanging %s and %s: %s\n",
			    argv[1], argv[2], strerror(error));
			if (swaps % 2 != 0)
				racer_exchange(argv[1], argv[2]);
			return error == EINVAL || error == ENOSYS ? 2 : 1;
		}
		swaps++;
		/* Jittered, so that it does not keep step with anyone. */
		pause.tv_sec = 0;
		pause.tv_nsec = (pause_us + random() % pause_us) * 1000;
		nanosleep(&pause, NULL);
	}
	while (swaps % 2 != 0) {
		if (racer_exchange(argv[1], argv[2]) == 0)
			swaps++;
		else if (errno != EINTR) {
			fprintf(stderr,
			    "racer: exchanging %s and %s back: %s\n", argv[1],
			    argv[2], strerror(errno));
			return 1;
		}
	}
	printf("racer: %lu exchanges of %s and %s\n", swaps, argv[1], argv[2]);
	return 0;
}
