/* latency.c - the folder benchmark's timer: writes files, times outputs. */

/*
 * latency lat|tput|backlog INBOX OUTBOX N DIRS SECONDS [DAEMON...]
 *
 * One process writes the inputs and stamps every event, so one clock
 * (CLOCK_MONOTONIC, ns) serves all figures. An output counts when renamed
 * into place: IN_MOVED_TO in OUTBOX or its d00.. folders. Results go to
 * stdout as NAME=VALUE lines for the script; no wait outlasts SECONDS.
 * Inputs are BENCH_SIZE bytes (64 if unset). In lat, the outputs come
 * from the stamp transform (stamp.c): their first line says when the job
 * started in a worker, read back here.
 */

#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000000LL
#define WARMUP 20 /* files not timed: workers start, caches fill */

static int64_t *seen, *iw; /* when each output, each line came; 0: not */
static int64_t *started; /* lat: when each job started, by its stamp */
static const char *outbox;
static char *data; /* what each input holds */
static long size = 64;
static long nfiles, nseen, ndups, niw, iwdups, overflowed;
static int iw_ready; /* inotifywait's watches are in place */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/* Stamps file i of a name "f0000123"; a second stamp is a duplicate.
 * Returns i if it was the first, else -1. */
static long
mark(const char *name, int64_t *when, long *count, long *dups)
{
	char *end;
	long i;

	if (name[0] != 'f' || (i = strtol(name + 1, &end, 10)) >= nfiles ||
	    i < 0 || *end != '\0' || end == name + 1)
		return -1;
	if (when[i] != 0) {
		(*dups)++;
		return -1;
	}
	when[i] = now_ns();
	(*count)++;
	return i;
}

/* Reads when output i's job started from its first line (lat only). */
static void
stamp(long i, const char *name)
{
	char path[4096], line[64] = "";
	long long ns;
	int fd;

	snprintf(path, sizeof path, "%s/%s", outbox, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return;
	if (read(fd, line, sizeof line - 1) > 0 &&
	    sscanf(line, "start %lld", &ns) == 1)
		started[i] = ns;
	close(fd);
}

/* Writes small file i; returns when its close() returned. */
static int64_t
put(const char *inbox, int dirs, long i)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, dirs > 0 ? "%s/d%02ld/f%07ld" :
	    "%s/f%07ld", inbox, dirs > 0 ? i % dirs : i, i);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 ||
	    write(fd, data, (size_t)size) != size || close(fd) != 0)
		err(1, "%s", path);
	return now_ns();
}

/* Makes d00.. under top; with fd >= 0, watches them and top for renames
 * (made beforehand, a folder has its watch before its first output). */
static void
subdirs(const char *top, int dirs, int fd)
{
	char path[4096];
	int i;

	for (i = -1; i < dirs; i++) {
		snprintf(path, sizeof path, i < 0 ? "%s" : "%s/d%02d", top, i);
		if (i >= 0)
			mkdir(path, 0755);
		if (fd >= 0 && inotify_add_watch(fd, path, IN_MOVED_TO) < 0)
			err(1, "%s", path);
	}
}

/* Reads what the output watch has. */
static void
outputs(int fd)
{
	char buf[65536] __attribute__((aligned(8)));
	const struct inotify_event *ev;
	ssize_t n;
	long i;
	char *p;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)p;
			overflowed |= (ev->mask & IN_Q_OVERFLOW) != 0;
			if (ev->len > 0 &&
			    (i = mark(ev->name, seen, &nseen, &ndups)) >= 0 &&
			    started != NULL)
				stamp(i, ev->name);
		}
	}
}

/* Stamps each line inotifywait printed; -1 once it has ended. */
static int
lines(int fd)
{
	static char buf[16384];
	static size_t len;
	char *nl, *p, *slash;
	ssize_t n;

	while ((n = read(fd, buf + len, sizeof buf - len - 1)) > 0) {
		buf[len += (size_t)n] = '\0';
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			*nl = '\0';
			iw_ready |= strcmp(p, "Watches established.") == 0;
			slash = strrchr(p, '/');
			mark(slash != NULL ? slash + 1 : p, iw, &niw, &iwdups);
		}
		memmove(buf, p, len -= (size_t)(p - buf));
	}
	return n == 0 ? -1 : 0;
}

/* Starts argv, with stdout and stderr on a pipe if out; it dies with this
 * process, however this one ends. */
static pid_t
spawn(char **argv, int *out)
{
	pid_t parent = getpid(), pid;
	int p[2];

	if ((out != NULL && pipe2(p, O_CLOEXEC) != 0) || (pid = fork()) < 0)
		err(1, "%s", argv[0]);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent ||
		    (out != NULL && (dup2(p[1], 1) < 0 || dup2(p[1], 2) < 0)))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (out != NULL) {
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		*out = p[0];
	}
	return pid;
}

/* Stops a child: SIGTERM, SIGKILL after secs; its exit status. */
static int
stop(pid_t pid, int secs)
{
	int64_t end = now_ns() + secs * SEC;
	int st = 0;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ns() > end)
			kill(pid, SIGKILL);
		usleep(10000);
	}
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints how many, p50, p99 (nearest rank) and max of close -> seen. */
static void
report(const char *tag, const int64_t *closed, const int64_t *when, long to)
{
	int64_t *d = calloc((size_t)to + 1, sizeof *d);
	long i, n = 0;

	for (i = WARMUP; i < to; i++) {
		if (when[i] != 0)
			d[n++] = when[i] - closed[i];
	}
	qsort(d, (size_t)n, sizeof *d, cmp);
	printf("%s_N=%ld\n", tag, n);
	if (n > 0)
		printf("%s_P50=%.3f\n%s_P99=%.3f\n%s_MAX=%.3f\n", tag,
		    d[(n * 50 + 99) / 100 - 1] / 1e6, tag,
		    d[(n * 99 + 99) / 100 - 1] / 1e6, tag, d[n - 1] / 1e6);
	free(d);
}

/* A /proc/PID/status field in kB, or with kids the largest among PID's
 * children (its workers), counted in *nkids. */
static long
mem_kb(pid_t pid, const char *field, int kids, long *nkids)
{
	char path[64], buf[4096] = "", *p, *end;
	long kb = 0, v, n = 0;
	FILE *f;

	snprintf(path, sizeof path, kids ? "/proc/%d/task/%d/children" :
	    "/proc/%d/status", (int)pid, (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof buf, f) != NULL && !kids) {
		if (strncmp(buf, field, strlen(field)) == 0)
			kb = atol(buf + strlen(field) + 1);
	}
	fclose(f);
	for (p = buf; kids && (v = strtol(p, &end, 10)) > 0; p = end, n++)
		kb = (v = mem_kb((pid_t)v, field, 0, NULL)) > kb ? v : kb;
	if (nkids != NULL)
		*nkids = n;
	return kb;
}

/* One file in flight: each is written once both consumers saw the one
 * before (or 5 s passed), so no queue adds to the latencies. */
static void
lat(char *inbox, int fd, int64_t end)
{
	char *argv[] = { "inotifywait", "-m", "-r", "-e", "close_write",
		"--format", "%w%f", inbox, NULL };
	struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { -1, POLLIN, 0 } };
	int64_t *closed = calloc((size_t)nfiles, sizeof *closed), until;
	pid_t pid = spawn(argv, &pfd[1].fd);
	long i;

	iw = calloc((size_t)nfiles, sizeof *iw);
	started = calloc((size_t)nfiles, sizeof *started);
	until = now_ns() + 10 * SEC;
	while (!iw_ready && pfd[1].fd >= 0 && now_ns() < until) {
		poll(pfd + 1, 1, 100);
		if (lines(pfd[1].fd) < 0)
			pfd[1].fd = -1;
	}
	for (i = 0; iw_ready && i < nfiles && now_ns() < end; i++) {
		until = (closed[i] = put(inbox, 0, i)) + 5 * SEC;
		/* After the last file, wait for every straggler. */
		while (now_ns() < until && (!seen[i] || !iw[i] ||
		    (i + 1 == nfiles && (nseen < nfiles || niw < nfiles)))) {
			poll(pfd, 2, 100);
			outputs(fd);
			if (pfd[1].fd >= 0 && lines(pfd[1].fd) < 0)
				pfd[1].fd = -1;
		}
	}
	stop(pid, 5);
	printf("LAT_WRITTEN=%ld\nLAT_OT_DUPS=%ld\nLAT_IW_DUPS=%ld\n",
	    i > WARMUP ? i - WARMUP : 0, ndups, iwdups);
	report("LAT_OT", closed, seen, i);
	report("LAT_IW", closed, iw, i);
	report("LAT_START", closed, started, i);
}

int
main(int argc, char **argv)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), dirs;
	int64_t t0, end, last = 0, next = 0, *closed;
	long i, rss = 0, hwm, whwm, nw = 0;
	siginfo_t si = { 0 };
	const char *tag;
	pid_t pid = 0;

	if (argc < 7 || fd < 0)
		errx(2, "usage: latency lat|tput|backlog INBOX OUTBOX N DIRS "
		    "SECONDS [DAEMON...]");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("BENCH_SIZE") != NULL)
		size = atol(getenv("BENCH_SIZE"));
	if ((data = malloc((size_t)size + 1)) == NULL)
		err(1, "malloc");
	memset(data, 'i', (size_t)size);
	outbox = argv[3];
	tag = strcmp(argv[1], "tput") == 0 ? "TP" : "BL";
	nfiles = atol(argv[4]) + (strcmp(argv[1], "lat") == 0 ? WARMUP : 0);
	seen = calloc((size_t)nfiles, sizeof *seen);
	dirs = atoi(argv[5]);
	end = now_ns() + atol(argv[6]) * SEC;
	subdirs(argv[2], dirs, -1);
	subdirs(argv[3], dirs, fd);
	if (strcmp(argv[1], "lat") == 0) {
		lat(argv[2], fd, end);
		return 0;
	}
	sleep(1); /* a running daemon watches the new folders meanwhile */
	t0 = now_ns();
	closed = calloc((size_t)nfiles, sizeof *closed);
	for (i = 0; i < nfiles; i++) {
		closed[i] = put(argv[2], dirs, i);
		if (i % 1024 == 0) /* keeps the watch's queue short */
			outputs(fd);
	}
	printf("%s_WRITE_S=%.3f\n", tag, (now_ns() - t0) / 1e9);
	if (argc > 7) { /* a backlog: now start the daemon on it */
		usleep(1500000); /* a scan holds files younger than 1 s */
		t0 = now_ns();
		pid = spawn(argv + 7, NULL);
	}
	while (nseen < nfiles && now_ns() < end && !overflowed) {
		poll(&(struct pollfd){ fd, POLLIN, 0 }, 1, 50);
		outputs(fd);
		if (pid > 0 && now_ns() >= next) { /* every 50 ms */
			next = now_ns() + SEC / 20;
			i = mem_kb(pid, "VmRSS", 0, NULL);
			rss = i > rss ? i : rss;
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
			    WNOWAIT) != 0 || si.si_pid != 0)
				break; /* the daemon is gone (stop reaps it) */
		}
	}
	for (i = 0; i < nfiles; i++)
		last = seen[i] > last ? seen[i] : last;
	printf("%s_E2E_S=%.3f\n%s_SEEN=%ld\n%s_DUPS=%ld\n%s_OVERFLOW=%ld\n",
	    tag, (last > t0 ? last - t0 : 0) / 1e9, tag, nseen, tag, ndups, tag,
	    overflowed);
	if (pid == 0)
		report("TP_OT", closed, seen, nfiles);
	if (pid > 0) {
		hwm = mem_kb(pid, "VmHWM", 0, NULL);
		whwm = mem_kb(pid, "VmHWM", 1, &nw);
		printf("BL_HWM_KB=%ld\nBL_RSS_MAX_KB=%ld\nBL_WORKERS=%ld\n"
		    "BL_WORKER_HWM_KB=%ld\n", hwm, rss, nw, whwm);
		printf("BL_EXIT=%d\n", stop(pid, 30));
	}
	return 0;
}
