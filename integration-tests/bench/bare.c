/* bare.c - the folder benchmark's reference: the bare durable loop. */

/*
 * bare DIR N DIRS SIZE
 *
 * What a single process does at the least to put N files of SIZE bytes
 * durably into DIR/d00.. (the folders the daemon wrote its outputs to),
 * one after the other: write a temporary name, fsync it, rename it into
 * place, fsync the folder. Prints BARE_S=seconds.
 */

#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	char name[64], tmp[64], *data;
	long i, n, size;
	int dirs, *dfd, fd;

	if (argc != 5)
		errx(2, "usage: bare DIR N DIRS SIZE");
	n = atol(argv[2]);
	dirs = atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
	size = atol(argv[4]);
	if ((data = malloc((size_t)size + 1)) == NULL ||
	    (dfd = calloc((size_t)dirs, sizeof *dfd)) == NULL)
		err(1, "malloc");
	memset(data, 'b', (size_t)size);
	for (i = 0; i < dirs; i++) {
		snprintf(name, sizeof name, "%s/d%02ld", argv[1], i);
		if ((dfd[i] = open(name, O_RDONLY | O_DIRECTORY)) < 0)
			err(1, "%s", name);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		fd = dfd[i % dirs];
		snprintf(tmp, sizeof tmp, ".bare-%ld", i);
		snprintf(name, sizeof name, "b%07ld", i);
		if ((fd = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644)) <
			0 ||
		    write(fd, data, (size_t)size) != size || fsync(fd) != 0 ||
		    close(fd) != 0 ||
		    renameat(dfd[i % dirs], tmp, dfd[i % dirs], name) != 0 ||
		    fsync(dfd[i % dirs]) != 0)
			err(1, "%s", name);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("BARE_S=%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
