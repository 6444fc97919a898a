/* cmd-signal.c - "objtrigger reload" and "objtrigger stop": the daemon
 * that holds a config's state folder, signalled, and what it then did. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"

#define SIGNAL_POLL_MS 100
#define SIGNAL_TAKE_MS 30000 /* for the daemon to take the signal */

struct signal_target {
	const char *cmd; /* reload, stop */
	int sig;
	const char *state;
	int lockfd;
	long pid;
	uint64_t sent; /* now_us() before the signal */
	uint64_t shown_started; /* the record shown so far */
	size_t shown; /* how much of its lines */
};

/* Whether a daemon holds the state folder's lock: a shared lock that
 * can be had is let go at once. */
int
signal_held(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}

/* Finds the daemon that holds the state folder: 0, or -1 (reported). */
static int
signal_find(struct signal_target *t, const char *file)
{
	char *path;
	int i;

	xasprintf(&path, "%s/lock", t->state);
	if ((t->lockfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 &&
	    errno != ENOENT) {
		fprintf(stderr, "objtrigger: %s: %s\n", path, strerror(errno));
		free(path);
		return -1;
	}
	if (t->lockfd < 0 || !signal_held(t->lockfd)) {
		fprintf(stderr,
		    "objtrigger: %s: no objtrigger runs with the state "
		    "folder %s (of %s)\n",
		    t->cmd, t->state, file);
		free(path);
		return -1;
	}
	/* The daemon writes its pid just after it takes the lock. */
	for (i = 0; (t->pid = daemon_lock_owner(t->lockfd)) <= 0 && i < 50; i++)
		poll(NULL, 0, 20);
	if (t->pid <= 0) {
		fprintf(stderr, "objtrigger: %s: held, but holds no pid\n",
		    path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Prints what the daemon logged that is not shown yet, as it logged it. */
static void
signal_show(struct signal_target *t, const struct control_record *r)
{
	const char *p, *nl, *space;

	if (r->started != t->shown_started || t->shown > strlen(r->lines)) {
		t->shown_started = r->started; /* a new record */
		t->shown = 0;
	}
	for (p = r->lines + t->shown; (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1) {
		if ((space = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			continue;
		printf("objtrigger[%ld]: %.*s: %.*s\n", t->pid,
		    (int)(space - p), p, (int)(nl - space - 1), space + 1);
	}
	fflush(stdout);
	t->shown = (size_t)(p - r->lines);
}

/* What a record says of the signal: 0 done, 1 failed, -1 not yet. */
static int
signal_outcome(const struct signal_target *t, const struct control_record *r,
    int held)
{
	if (t->sig == SIGTERM) {
		if (strcmp(r->op, "stop") != 0 ||
		    strcmp(r->result, "stopped") != 0)
			return -1;
		return held ? -1 : 0; /* until the lock is free */
	}
	if (strcmp(r->op, "stop") == 0) {
		fprintf(stderr,
		    "objtrigger: reload: objtrigger (pid %ld) is stopping: "
		    "the new config is not applied\n",
		    t->pid);
		return 1;
	}
	if (strcmp(r->result, "applied") == 0)
		return 0;
	return strcmp(r->result, "failed") == 0 ? 1 : -1;
}

/* Signals the daemon and waits until it says what became of it, for as
 * long as it runs; it must take the signal within SIGNAL_TAKE_MS. */
static int
signal_send(struct signal_target *t)
{
	struct control_record r;
	uint64_t take_by = now_ms() + SIGNAL_TAKE_MS;
	int held, taken = 0, rc;

	t->sent = now_us();
	if (kill((pid_t)t->pid, t->sig) != 0) {
		fprintf(stderr, "objtrigger: %s: pid %ld: %s\n", t->cmd, t->pid,
		    strerror(errno));
		return 1;
	}
	for (;;) {
		/* Before the record: the last one is written before the
		 * lock is let go. */
		held = signal_held(t->lockfd);
		rc = -1;
		if (control_read(t->state, &r) == 0) {
			if (r.pid == t->pid && r.started >= t->sent) {
				taken = 1;
				signal_show(t, &r);
				rc = signal_outcome(t, &r, held);
			}
			free(r.lines);
		}
		if (rc >= 0)
			return rc;
		if (!held) {
			fprintf(stderr,
			    "objtrigger: %s: objtrigger (pid %ld) exited %s\n",
			    t->cmd, t->pid,
			    taken ? "before it was done" :
				    "without taking the signal");
			return 1;
		}
		if (!taken && now_ms() >= take_by) {
			fprintf(stderr,
			    "objtrigger: %s: objtrigger (pid %ld) did not "
			    "take the signal in %ds\n",
			    t->cmd, t->pid, SIGNAL_TAKE_MS / 1000);
			return 1;
		}
		poll(NULL, 0, SIGNAL_POLL_MS);
	}
}

static int
signal_command(int argc, char **argv, int sig)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 }
	};
	struct signal_target t = { .cmd = argv[0], .sig = sig, .lockfd = -1 };
	const char *file = config_default_file();
	struct cfg *cfg;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		default:
			fprintf(stderr, "usage: objtrigger %s [-c FILE]\n",
			    t.cmd);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: objtrigger %s [-c FILE]\n", t.cmd);
		return 2;
	}
	/* A stop needs only the state folder; a reload a config that
	 * loads, or the daemon would refuse it anyway. */
	cfg = cfg_load(file);
	if (sig == SIGHUP && cfg->nerrors > 0) {
		cfg_print_errors(cfg, stderr);
		fprintf(stderr,
		    "objtrigger: reload: not sent: the running config stays "
		    "in force\n");
	} else {
		t.state = cfg->state;
		if (signal_find(&t, file) == 0)
			rc = signal_send(&t);
	}
	if (t.lockfd >= 0)
		close(t.lockfd);
	cfg_free(cfg);
	return rc;
}

int
cmd_reload(int argc, char **argv)
{
	return signal_command(argc, argv, SIGHUP);
}

int
cmd_stop(int argc, char **argv)
{
	return signal_command(argc, argv, SIGTERM);
}
