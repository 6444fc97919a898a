/* syncer.c - syncs the journal's WAL to disk, and checkpoints it, beside
 * the daemon's loop. */

/*
 * A webhook is answered 2xx only once its records are on disk, but an
 * fdatasync takes about a millisecond, and the loop would wait on it each
 * turn while other requests queue. So one thread does nothing but sync:
 * the loop asks for a sync of everything committed so far and goes on;
 * requests asked for while one runs share the next one (group commit).
 * The thread touches only the WAL's descriptor and the counters below;
 * the loop learns that a sync ended from an eventfd it polls.
 *
 * Checkpoints (the WAL's pages copied into the database, which is then
 * synced) would stall the loop for milliseconds every thousand pages or
 * so, SQLite's default: the loop asks for them instead (syncer_checkpoint)
 * and this thread makes them, on a connection of its own, PASSIVE, so
 * that they never wait for the loop's transactions nor hold them. While
 * the loop writes without a pause, such a checkpoint never catches up
 * and the WAL grows: the loop then makes one itself (journal_commit).
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sqlite3.h>

#include "objtrigger.h"

struct syncer {
	char *path, *wal, *dir; /* the journal's, its WAL's, their folder's */
	sqlite3 *db; /* the thread's own, for checkpoints */
	int checkpoint; /* one is asked for */
	int fd, wake;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t asked, synced; /* generations */
	int error; /* errno of a sync that failed, until read; or 0 */
	int stopping;
};

/* Opens the WAL the first time it exists, and syncs its folder then, so
 * that its name is on disk too; 0, or an errno. */
static int
syncer_open(struct syncer *s)
{
	int dfd, error = 0;

	if (s->fd >= 0)
		return 0;
	if ((s->fd = open(s->wal, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : errno; /* nothing written yet */
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) != 0)
		error = errno;
	if (dfd >= 0)
		close(dfd);
	return error;
}

/* Copies what the WAL holds into the database, as far as no reader
 * needs it, without waiting for anyone. */
static void
syncer_checkpoint_now(struct syncer *s)
{
	int rc;

	if (s->db == NULL &&
	    (sqlite3_open_v2(s->path, &s->db,
		 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		 NULL) != SQLITE_OK ||
		sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL;", NULL, NULL,
		    NULL) != SQLITE_OK)) {
		log_warn("journal checkpoint: %s", sqlite3_errmsg(s->db));
		sqlite3_close(s->db);
		s->db = NULL;
		return;
	}
	/* Busy: another checkpoint runs (the loop's, see journal.c). */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("journal checkpoint: %s", sqlite3_errmsg(s->db));
}

static void *
syncer_main(void *arg)
{
	struct syncer *s = arg;
	uint64_t target, one = 1;
	int error;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		if (s->checkpoint && s->asked == s->synced) {
			s->checkpoint = 0;
			pthread_mutex_unlock(&s->lock);
			syncer_checkpoint_now(s);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (s->asked == s->synced) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		target = s->asked;
		pthread_mutex_unlock(&s->lock);
		if ((error = syncer_open(s)) == 0 && s->fd >= 0 &&
		    fdatasync(s->fd) != 0)
			error = errno;
		pthread_mutex_lock(&s->lock);
		s->synced = target;
		if (error != 0) /* kept until the loop has seen it */
			s->error = error;
		if (write(s->wake, &one, sizeof one) < 0)
			log_warn("syncer: eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* A syncer of the WAL of the journal at path (STATE/journal.db); NULL
 * with *cause if its thread cannot start. */
struct syncer *
syncer_new(const char *path, char **cause)
{
	struct syncer *s = xcalloc(1, sizeof *s);
	sigset_t all, old;
	char *slash;
	int rc;

	s->path = xstrdup(path);
	xasprintf(&s->wal, "%s-wal", path);
	s->dir = xstrdup(path);
	if ((slash = strrchr(s->dir, '/')) != NULL)
		*slash = '\0';
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	/* The thread takes no signal: they are the loop's (signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = (s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ?
	    errno :
	    pthread_create(&s->thread, NULL, syncer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		xasprintf(cause, "syncer: %s", strerror(rc));
		if (s->wake >= 0)
			close(s->wake);
		free(s->path);
		free(s->wal);
		free(s->dir);
		free(s);
		return NULL;
	}
	return s;
}

/* Stops the thread once the syncs asked for are done. */
void
syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	if (s->fd >= 0)
		close(s->fd);
	close(s->wake);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	sqlite3_close(s->db);
	free(s->path);
	free(s->wal);
	free(s->dir);
	free(s);
}

/* Asks for a checkpoint of the WAL, made once the syncs asked for are
 * done. */
void
syncer_checkpoint(struct syncer *s)
{
	pthread_mutex_lock(&s->lock);
	s->checkpoint = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* The descriptor to poll: readable when a sync ended. */
int
syncer_fd(const struct syncer *s)
{
	return s->wake;
}

/* Asks for a sync of all that was committed until now; returns its
 * generation: syncer_synced says when it is done. */
uint64_t
syncer_ask(struct syncer *s)
{
	uint64_t gen;

	pthread_mutex_lock(&s->lock);
	gen = ++s->asked;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return gen;
}

/* Whether a sync was asked for and is not done yet. */
int
syncer_busy(struct syncer *s)
{
	int busy;

	pthread_mutex_lock(&s->lock);
	busy = s->synced != s->asked;
	pthread_mutex_unlock(&s->lock);
	return busy;
}

/* The generation synced so far; *error the errno of a sync that failed
 * since the last call (so none of the generations since is known to be
 * on disk), or 0. Clears the eventfd. */
uint64_t
syncer_synced(struct syncer *s, int *error)
{
	uint64_t gen, n;

	if (read(s->wake, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("syncer: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	gen = s->synced;
	*error = s->error;
	s->error = 0;
	pthread_mutex_unlock(&s->lock);
	return gen;
}

/* Waits until every sync asked for is done (a reload, a stop). */
void
syncer_drain(struct syncer *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->synced != s->asked) {
		pthread_mutex_unlock(&s->lock);
		usleep(1000);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
}
