/* reaper.c - kills what a job's commands leave running. */

/*
 * A command may leave processes behind (sleep 1000 &), move them out of
 * its process group, or double-fork. The worker and the daemon are child
 * subreapers: such orphans become their children, wherever they went.
 * A worker kills all its children after each job; the process that runs
 * workers (the daemon, once) kills its children that are not workers
 * after a worker died (a command of the dead worker comes to it).
 */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objtrigger.h"

/* Makes this process the one that orphans below it come to. */
void
reaper_start(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		log_warn("cannot become a subreaper: %s: what a command leaves "
			 "running after its worker dies may outlive it",
		    strerror(errno));
}

/* Adds the children of one thread of ours, those not in keep, to pids. */
static size_t
reaper_children(const char *tid, const pid_t *keep, size_t nkeep, pid_t *pids,
    size_t n, size_t max)
{
	char path[sizeof "/proc/self/task//children" + NAME_MAX];
	long pid;
	size_t i;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%s/children", tid);
	if ((f = fopen(path, "re")) == NULL)
		return n;
	while (n < max && fscanf(f, "%ld", &pid) == 1) {
		for (i = 0; i < nkeep && keep[i] != (pid_t)pid; i++)
			;
		if (i == nkeep)
			pids[n++] = (pid_t)pid;
	}
	fclose(f);
	return n;
}

/* Kills and reaps every child of this process but those in keep, and
 * the process groups they lead, until none is left; returns how many. */
unsigned
reaper_sweep(const pid_t *keep, size_t nkeep)
{
	pid_t pids[256];
	unsigned killed = 0;
	struct dirent *de;
	size_t n, i;
	int round;
	siginfo_t si;
	DIR *d;

	/* No child at all, the usual case: nothing to look for in /proc. */
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 &&
	    errno == ECHILD)
		return 0;
	for (round = 0; round < 100; round++) {
		if ((d = opendir("/proc/self/task")) == NULL)
			return killed;
		n = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] != '.')
				n = reaper_children(de->d_name, keep, nkeep,
				    pids, n, sizeof pids / sizeof *pids);
		}
		closedir(d);
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (getpgid(pids[i]) == pids[i])
				kill(-pids[i], SIGKILL);
			kill(pids[i], SIGKILL);
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
		}
		killed += (unsigned)n;
	}
	return killed;
}
