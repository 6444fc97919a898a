/* sink-folder-commit.c - a turn's folder outputs made durable and
 * visible, in a batch, beside the daemon's loop. */

/*
 * An output is staged by sink_folder_put: written under a hidden or
 * scratch name, its file and its destination folder held open. A batch
 * of staged outputs is committed in three steps: their data is synced,
 * they are renamed into place, their folders are synced. So an output is
 * whole before it is visible, and its name is durable before its job is
 * recorded done (by the caller, told per output when the batch ends).
 *
 * On ext4 every fsync writes its inode's and folder's blocks on its own,
 * while one syncfs writes a whole batch's in one go: from SINK_SYNCFS_MIN
 * files or folders on, a batch is synced with syncfs, which waits for the
 * file system's other dirty data too (as sync(1) would). Below it, each
 * file and folder is fsynced.
 *
 * In the daemon one thread commits the batches: the loop stages a turn's
 * outputs, hands them over once the thread is idle, and goes on starting
 * jobs while the disk works; what the loop stages meanwhile waits and goes
 * as one batch (group commit), so the syncs scale with batches, not with
 * files. The thread touches only the batch it was handed; the loop learns
 * that one ended from an eventfd it polls. Without the thread (objtrigger
 * once) sink_folder_sync commits in the caller.
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
#include <sys/stat.h>
#include <unistd.h>

#include "objtrigger.h"

#define SINK_BATCH_MAX 256 /* outputs, or folders, in a batch at most */
#define SINK_SYNCFS_MIN 4 /* files or folders synced with one syncfs */

struct sink_output {
	int fd; /* the file, written */
	int fromfd; /* where it is now: fromfd, from */
	char *from;
	size_t folder; /* where it goes: the batch's folder, name */
	char *name;
	char *dest; /* its destination's path, for messages */
	void *owner;
	int error; /* errno of its rename, or 0 */
};

struct sink_batch {
	struct sink_output outputs[SINK_BATCH_MAX];
	size_t n;
	struct sink_folder_fd {
		dev_t dev;
		ino_t ino;
		int fd;
	} folders[SINK_BATCH_MAX];
	size_t nfolders;
	int error; /* errno of a sync that failed, or 0 */
	struct sink_batch *next;
};

static struct sink_commit {
	struct sink_batch *staged; /* the loop's */
	struct sink_batch *handed; /* the thread's, until it is done */
	struct sink_batch *done; /* back to the loop, oldest first */
	int started, stopping, wake;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
} sc = { .wake = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER };

/* syncfs on each file system that the descriptors in fds (n, each at
 * stride bytes) are on: 0, or an errno. */
static int
sink_syncfs(const int *fds, size_t n, size_t stride)
{
	dev_t devs[SINK_BATCH_MAX];
	size_t ndevs = 0, i, k;
	struct stat sb;
	const int *fd;

	for (i = 0; i < n; i++) {
		fd = (const int *)((const char *)fds + i * stride);
		if (fstat(*fd, &sb) != 0)
			return errno;
		for (k = 0; k < ndevs && devs[k] != sb.st_dev; k++)
			;
		if (k < ndevs)
			continue;
		devs[ndevs++] = sb.st_dev;
		if (syncfs(*fd) != 0)
			return errno;
	}
	return 0;
}

/* fsync of each descriptor in fds (n, each at stride bytes), or one
 * syncfs of their file systems when there are many: 0, or an errno. */
static int
sink_sync_fds(const int *fds, size_t n, size_t stride)
{
	size_t i;

	if (n >= SINK_SYNCFS_MIN)
		return sink_syncfs(fds, n, stride);
	for (i = 0; i < n; i++) {
		if (fsync(*(const int *)((const char *)fds + i * stride)) != 0)
			return errno;
	}
	return 0;
}

/* Commits a batch: its files synced, renamed, their folders synced. A
 * failed rename fails its output; a failed sync, the batch. */
static void
sink_batch_commit(struct sink_batch *b)
{
	struct sink_output *o;
	size_t i;

	b->error = sink_sync_fds(&b->outputs[0].fd, b->n, sizeof *o);
	for (i = 0; i < b->n && b->error == 0; i++) {
		o = &b->outputs[i];
		if (renameat(o->fromfd, o->from, b->folders[o->folder].fd,
			o->name) != 0)
			o->error = errno;
	}
	if (b->error == 0)
		b->error = sink_sync_fds(&b->folders[0].fd, b->nfolders,
		    sizeof b->folders[0]);
}

/* Frees a committed batch; a copy that was not renamed is removed. */
static void
sink_batch_free(struct sink_batch *b)
{
	struct sink_output *o;
	size_t i;

	for (i = 0; i < b->n; i++) {
		o = &b->outputs[i];
		if ((b->error != 0 || o->error != 0) && o->fromfd != AT_FDCWD)
			unlinkat(o->fromfd, o->from, 0);
		close(o->fd);
		free(o->from);
		free(o->name);
		free(o->dest);
	}
	for (i = 0; i < b->nfolders; i++)
		close(b->folders[i].fd);
	free(b);
}

/* Puts a committed batch last on the list the loop takes them from. */
static void
sink_batch_done(struct sink_batch *b)
{
	struct sink_batch **tail;

	for (tail = &sc.done; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = b;
}

static void *
sink_commit_main(void *arg)
{
	struct sink_batch *b;
	uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&sc.lock);
	while (!sc.stopping || sc.handed != NULL) {
		if ((b = sc.handed) == NULL) {
			pthread_cond_wait(&sc.cond, &sc.lock);
			continue;
		}
		pthread_mutex_unlock(&sc.lock);
		sink_batch_commit(b);
		pthread_mutex_lock(&sc.lock);
		sc.handed = NULL;
		sink_batch_done(b);
		if (write(sc.wake, &one, sizeof one) < 0)
			log_warn("output commits: eventfd: %s",
			    strerror(errno));
	}
	pthread_mutex_unlock(&sc.lock);
	return NULL;
}

/* Starts the thread that commits batches: 0, or -1 with *cause. */
int
sink_folder_commit_start(char **cause)
{
	sigset_t all, old;
	int error;

	if ((sc.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		xasprintf(cause, "eventfd: %s", strerror(errno));
		return -1;
	}
	sc.stopping = 0;
	/* Signals stay with the loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	error = pthread_create(&sc.thread, NULL, sink_commit_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(error));
		close(sc.wake);
		sc.wake = -1;
		return -1;
	}
	sc.started = 1;
	return 0;
}

/* Stops the thread once it has committed what it holds. */
void
sink_folder_commit_stop(void)
{
	if (!sc.started)
		return;
	pthread_mutex_lock(&sc.lock);
	sc.stopping = 1;
	pthread_cond_signal(&sc.cond);
	pthread_mutex_unlock(&sc.lock);
	pthread_join(sc.thread, NULL);
	close(sc.wake);
	sc.wake = -1;
	sc.started = 0;
}

/* The descriptor that becomes readable when a batch was committed. */
int
sink_folder_commit_fd(void)
{
	return sc.wake;
}

/* Whether outputs are staged, waiting for the journal's commit. */
int
sink_folder_staged(void)
{
	return sc.staged != NULL;
}

/* Hands what was staged to the thread if it is idle: 1 if it was. Else
 * it waits, and what is staged meanwhile joins it. */
int
sink_folder_commit(void)
{
	int handed = 0;

	if (sc.staged == NULL)
		return 0;
	pthread_mutex_lock(&sc.lock);
	if (sc.handed == NULL) {
		sc.handed = sc.staged;
		sc.staged = NULL;
		handed = 1;
		pthread_cond_signal(&sc.cond);
	}
	pthread_mutex_unlock(&sc.lock);
	return handed;
}

/* Commits the staged batch in the caller, as the thread would. */
static void
sink_commit_here(void)
{
	sink_batch_commit(sc.staged);
	sink_batch_done(sc.staged);
	sc.staged = NULL;
}

/* The batch to stage one more output and its folder into; a full one
 * is handed to the thread first (waiting for it), or committed here. */
static struct sink_batch *
sink_staging(void)
{
	struct sink_batch *b = sc.staged;

	if (b != NULL && b->n < SINK_BATCH_MAX && b->nfolders < SINK_BATCH_MAX)
		return b;
	if (b != NULL && sc.started) {
		while (!sink_folder_commit())
			usleep(1000); /* the disk is the limit now */
	} else if (b != NULL)
		sink_commit_here();
	return sc.staged = xcalloc(1, sizeof *sc.staged);
}

/* Stages an output: fd, the file at fromfd/from, to be renamed to name in
 * the folder dirfd. Returns 0, having taken fd and dirfd and copied the
 * names, or -1 with *cause. */
int
sink_folder_stage(int fd, int fromfd, const char *from, int dirfd,
    const char *name, const char *dest, void *owner, char **cause)
{
	struct sink_batch *b = sink_staging();
	struct sink_output *o = &b->outputs[b->n];
	struct stat sb;
	size_t i;

	if (fstat(dirfd, &sb) != 0) {
		xasprintf(cause, "%s: %s", dest, strerror(errno));
		return -1;
	}
	for (i = 0; i < b->nfolders; i++) {
		if (b->folders[i].dev == sb.st_dev &&
		    b->folders[i].ino == sb.st_ino)
			break;
	}
	if (i < b->nfolders) {
		close(dirfd);
		if (fromfd == dirfd)
			fromfd = b->folders[i].fd;
	} else {
		b->folders[i].dev = sb.st_dev;
		b->folders[i].ino = sb.st_ino;
		b->folders[b->nfolders++].fd = dirfd;
	}
	o->fd = fd;
	o->fromfd = fromfd;
	o->from = xstrdup(from);
	o->folder = i;
	o->name = xstrdup(name);
	o->dest = xstrdup(dest);
	o->owner = owner;
	o->error = 0;
	b->n++;
	return 0;
}

/* Tells cb of each output of the batches committed since the last call,
 * with why it failed (or NULL). Returns 0, or -1 with *cause if a sync
 * failed (its outputs may be lost in a crash), or without cb if an
 * output failed. */
int
sink_folder_committed(sink_committed_cb cb, char **cause)
{
	struct sink_batch *b, *list;
	uint64_t n;
	char *why;
	size_t i;
	int rc = 0;

	if (sc.wake >= 0 && read(sc.wake, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("output commits: eventfd: %s", strerror(errno));
	pthread_mutex_lock(&sc.lock);
	list = sc.done;
	sc.done = NULL;
	pthread_mutex_unlock(&sc.lock);
	while ((b = list) != NULL) {
		list = b->next;
		if (b->error != 0 && rc == 0) {
			xasprintf(cause, "syncing outputs: %s",
			    strerror(b->error));
			rc = -1;
		}
		for (i = 0; i < b->n && rc == 0; i++) {
			why = NULL;
			if (b->outputs[i].error != 0)
				xasprintf(&why, "%s: %s", b->outputs[i].dest,
				    strerror(b->outputs[i].error));
			if (cb != NULL)
				cb(b->outputs[i].owner, why);
			else if (why != NULL) {
				*cause = why;
				rc = -1;
				continue;
			}
			free(why);
		}
		sink_batch_free(b);
	}
	return rc;
}

/* Commits what was staged, here and now: 0, or -1 with *cause (a sync
 * that failed, or the first output that could not be renamed). */
int
sink_folder_sync(char **cause)
{
	if (sc.staged != NULL)
		sink_commit_here();
	return sink_folder_committed(NULL, cause);
}
