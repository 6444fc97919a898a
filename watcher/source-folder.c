/* source-folder.c - the folder watch: inotify, recursion, rescans. */

/*
 * A file is ready when it is closed after writing (IN_CLOSE_WRITE) or
 * renamed into place (IN_MOVED_TO); IN_CREATE only tells of new folders,
 * which are watched before they are scanned, so a file made in a folder
 * between the two is found either way. What inotify cannot promise (its
 * queue overflowed, the watch limit was hit, the daemon was down) a rescan
 * of the tree recovers; the journal drops what it already knows, so a
 * rescan never runs a job twice.
 *
 * A scan cannot tell a file still being written from a finished one. A
 * file it finds that changed in the last second is held until its close
 * event arrives, or until it has not changed for a second: the file was
 * finished before the watch existed, and its close event was never sent.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "objtrigger.h"

#define FOLDER_MASK \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | \
	    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | \
	    IN_EXCL_UNLINK)
#define FOLDER_RETRY_MS 60000
#define FOLDER_FRESH_MS 1000 /* a scan holds files changed this recently */

struct folder_watch {
	int wd;
	char *rel; /* "" for the root */
};

struct folder_settle {
	char *rel;
	int64_t size, mtime;
	uint64_t period, due;
};

struct source_folder {
	char *name;
	char *root; /* absolute */
	int recursive;
	const struct cfg_watch *cfg; /* borrowed: lives as long as this */
	uint64_t settle_ms;
	int fd;

	struct folder_watch *watches; /* sorted by wd */
	size_t nwatches;
	struct folder_settle *settling;
	size_t nsettling;
	uint64_t rescan_at; /* 0: none planned */
	int limit_logged;

	source_emit_cb emit;
	void *arg;
};

/* Whether a name matches one of the watch's ignore globs, or is one of
 * the temporary names objtrigger writes outputs under. */
int
source_folder_ignores(const struct cfg_watch *w, const char *name)
{
	size_t i;

	if (strncmp(name, ".objtrigger-", 12) == 0)
		return 1;
	for (i = 0; w->ignore[i] != NULL; i++) {
		if (fnmatch(w->ignore[i], name, 0) == 0)
			return 1;
	}
	return 0;
}

static struct folder_watch *
folder_find(struct source_folder *src, int wd)
{
	size_t lo = 0, hi = src->nwatches, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (src->watches[mid].wd == wd)
			return &src->watches[mid];
		if (src->watches[mid].wd < wd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
folder_watches_root(const struct source_folder *src)
{
	size_t i;

	for (i = 0; i < src->nwatches; i++) {
		if (*src->watches[i].rel == '\0')
			return 1;
	}
	return 0;
}

static void
folder_forget(struct source_folder *src, struct folder_watch *w)
{
	size_t i = (size_t)(w - src->watches);

	free(w->rel);
	memmove(w, w + 1, (src->nwatches - i - 1) * sizeof *w);
	src->nwatches--;
}

static char *
folder_join(const char *a, const char *b)
{
	char *s;

	if (*a == '\0')
		return xstrdup(b);
	xasprintf(&s, "%s/%s", a, b);
	return s;
}

/* The absolute path of a folder or file of the tree (allocated). */
static char *
folder_path(const struct source_folder *src, const char *rel)
{
	char *path;

	if (*rel == '\0')
		return xstrdup(src->root);
	xasprintf(&path, "%s/%s", src->root, rel);
	return path;
}

static void
folder_limit_hit(struct source_folder *src, const char *path)
{
	char limit[32] = "?";
	FILE *f;

	src->rescan_at = now_ms() + FOLDER_RETRY_MS;
	if (src->limit_logged++)
		return;
	if ((f = fopen("/proc/sys/fs/inotify/max_user_watches", "r")) != NULL) {
		if (fgets(limit, sizeof limit, f) != NULL)
			limit[strcspn(limit, "\n")] = '\0';
		fclose(f);
	}
	log_error("watch %s: the inotify watch limit is reached "
		  "(fs.inotify.max_user_watches = %s) at %s: raise it, for "
		  "example "
		  "with sysctl fs.inotify.max_user_watches=%d; until then the "
		  "folders without a watch are rescanned every %ds",
	    src->name, limit, path, 524288, FOLDER_RETRY_MS / 1000);
}

/* Watches a folder; 0 if watched (or already), -1 if not. */
static int
folder_add_watch(struct source_folder *src, const char *rel)
{
	char *path = folder_path(src, rel);
	struct folder_watch *w;
	size_t i;
	int wd;

	wd = inotify_add_watch(src->fd, path, FOLDER_MASK);
	if (wd < 0) {
		if (errno == ENOSPC)
			folder_limit_hit(src, path);
		else if (errno != ENOENT && errno != ENOTDIR)
			log_warn("watch %s: %s: %s", src->name, path,
			    strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	if ((w = folder_find(src, wd)) != NULL) { /* the same folder again */
		free(w->rel);
		w->rel = xstrdup(rel);
		return 0;
	}
	src->watches = xreallocarray(src->watches, src->nwatches + 1,
	    sizeof *src->watches);
	for (i = src->nwatches; i > 0 && src->watches[i - 1].wd > wd; i--)
		src->watches[i] = src->watches[i - 1];
	src->watches[i].wd = wd;
	src->watches[i].rel = xstrdup(rel);
	src->nwatches++;
	return 0;
}

/* Drops the watches of a folder that moved away, and of its subfolders. */
static void
folder_drop_tree(struct source_folder *src, const char *rel)
{
	size_t i = 0, len = strlen(rel);

	while (i < src->nwatches) {
		struct folder_watch *w = &src->watches[i];
		if (strncmp(w->rel, rel, len) == 0 &&
		    (w->rel[len] == '\0' || w->rel[len] == '/')) {
			inotify_rm_watch(src->fd, w->wd);
			folder_forget(src, w);
		} else
			i++;
	}
}

static void
folder_emit(struct source_folder *src, const char *rel, const char *path,
    const struct stat *sb)
{
	struct journal_event e;

	e.watch = src->name;
	e.folder = src->root;
	e.key = rel;
	e.event = "created";
	e.inode = (int64_t)sb->st_ino;
	e.size = (uint64_t)sb->st_size;
	e.mtime = stat_mtime_ns(sb);
	e.etag = NULL;
	src->emit(src->arg, &e, path, sb);
}

/* Holds a file until its size and time have not changed for period. */
static void
folder_settle(struct source_folder *src, const char *rel, const struct stat *sb,
    uint64_t period)
{
	struct folder_settle *s;
	size_t i;

	for (i = 0; i < src->nsettling; i++) {
		if (strcmp(src->settling[i].rel, rel) == 0)
			break;
	}
	if (i == src->nsettling) {
		src->settling = xreallocarray(src->settling, src->nsettling + 1,
		    sizeof *src->settling);
		s = &src->settling[src->nsettling++];
		s->rel = xstrdup(rel);
		s->period = period;
	} else
		s = &src->settling[i];
	s->size = (int64_t)sb->st_size;
	s->mtime = stat_mtime_ns(sb);
	s->due = now_ms() + s->period;
}

/* Stops holding a file (its close event came). */
static void
folder_unsettle(struct source_folder *src, const char *rel)
{
	size_t i;

	for (i = 0; i < src->nsettling; i++) {
		if (strcmp(src->settling[i].rel, rel) == 0) {
			free(src->settling[i].rel);
			src->settling[i] = src->settling[--src->nsettling];
			return;
		}
	}
}

/* A file found ready by an event, or found by a scan: emitted now, or
 * held. Symbolic links and special files are never inputs. */
static void
folder_file(struct source_folder *src, const char *rel, int scanned)
{
	char *path = folder_path(src, rel);
	struct timespec now;
	struct stat sb;

	clock_gettime(CLOCK_REALTIME, &now);
	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if (src->settle_ms > 0)
			folder_settle(src, rel, &sb, src->settle_ms);
		else if (scanned &&
		    (now.tv_sec - sb.st_mtim.tv_sec) * 1000 +
			    (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000 <
			FOLDER_FRESH_MS)
			folder_settle(src, rel, &sb, FOLDER_FRESH_MS);
		else {
			if (src->nsettling > 0)
				folder_unsettle(src, rel);
			folder_emit(src, rel, path, &sb);
		}
	}
	free(path);
}

/* Scans a folder (watching it first), and its subfolders if recursive. */
static void
folder_scan(struct source_folder *src, const char *rel)
{
	struct dirent *de;
	struct stat sb;
	char *path, *child;
	DIR *d;
	int isdir;

	if (*rel == '\0' || src->recursive)
		folder_add_watch(src, rel);
	path = folder_path(src, rel);
	d = opendir(path);
	free(path);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    source_folder_ignores(src->cfg, de->d_name))
			continue;
		child = folder_join(rel, de->d_name);
		if (de->d_type == DT_UNKNOWN) {
			path = folder_path(src, child);
			isdir = lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
			free(path);
		} else
			isdir = de->d_type == DT_DIR;
		if (isdir && src->recursive)
			folder_scan(src, child);
		else if (!isdir)
			folder_file(src, child, 1);
		free(child);
	}
	closedir(d);
}

/* Plans a rescan of the whole tree in delay_ms. */
void
source_folder_plan_rescan(struct source_folder *src, uint64_t delay_ms)
{
	uint64_t at = now_ms() + delay_ms;

	if (src->rescan_at == 0 || at < src->rescan_at)
		src->rescan_at = at;
}

/* Scans the whole tree: at start, after an overflow, after a limit. */
void
source_folder_rescan(struct source_folder *src)
{
	log_debug("watch %s: scanning %s", src->name, src->root);
	src->rescan_at = 0;
	folder_scan(src, "");
	if (!folder_watches_root(src)) /* the folder is not there */
		source_folder_plan_rescan(src, FOLDER_RETRY_MS);
}

struct source_folder *
source_folder_new(const struct cfg_watch *w, source_emit_cb emit, void *arg,
    char **cause)
{
	struct source_folder *src;
	char real[PATH_MAX];

	if (mkdir(w->path, 0755) == 0)
		log_info("watch %s: made the folder %s", w->name, w->path);
	if (realpath(w->path, real) == NULL) {
		xasprintf(cause, "watch %s: %s: %s", w->name, w->path,
		    strerror(errno));
		return NULL;
	}
	src = xcalloc(1, sizeof *src);
	src->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (src->fd < 0) {
		xasprintf(cause, "watch %s: inotify: %s", w->name,
		    strerror(errno));
		free(src);
		return NULL;
	}
	src->name = xstrdup(w->name);
	src->root = xstrdup(real);
	src->recursive = w->recursive;
	src->cfg = w;
	src->settle_ms = w->settle_ms;
	src->emit = emit;
	src->arg = arg;
	return src;
}

void
source_folder_free(struct source_folder *src)
{
	size_t i;

	if (src == NULL)
		return;
	close(src->fd);
	for (i = 0; i < src->nwatches; i++)
		free(src->watches[i].rel);
	free(src->watches);
	for (i = 0; i < src->nsettling; i++)
		free(src->settling[i].rel);
	free(src->settling);
	free(src->name);
	free(src->root);
	free(src);
}

int
source_folder_fd(const struct source_folder *src)
{
	return src->fd;
}

static void
folder_event(struct source_folder *src, const struct inotify_event *ev)
{
	struct folder_watch *w;
	char *rel;

	if (ev->mask & IN_Q_OVERFLOW) {
		log_warn("watch %s: the kernel's event queue overflowed: "
			 "rescanning",
		    src->name);
		metrics_add(M_INOTIFY_OVERFLOWS, 1, "watch", src->name, NULL);
		src->rescan_at = 1; /* as soon as the queue is read */
		return;
	}
	if ((w = folder_find(src, ev->wd)) == NULL)
		return;
	if ((ev->mask & IN_MOVE_SELF) && *w->rel == '\0') {
		/* The watched folder itself was renamed, and its watches
		 * would follow it: drop them all and look for it again. */
		log_error("watch %s: %s was moved away: looking for it again "
			  "every %ds",
		    src->name, src->root, FOLDER_RETRY_MS / 1000);
		while (src->nwatches > 0) {
			inotify_rm_watch(src->fd, src->watches[0].wd);
			folder_forget(src, &src->watches[0]);
		}
		source_folder_plan_rescan(src, FOLDER_RETRY_MS);
		return;
	}
	if (ev->mask & IN_IGNORED) {
		if (*w->rel == '\0') {
			log_error("watch %s: %s is gone: looking for it again "
				  "every %ds",
			    src->name, src->root, FOLDER_RETRY_MS / 1000);
			source_folder_plan_rescan(src, FOLDER_RETRY_MS);
		}
		folder_forget(src, w);
		return;
	}
	if (ev->len == 0 || source_folder_ignores(src->cfg, ev->name))
		return;
	rel = folder_join(w->rel, ev->name);
	if (ev->mask & IN_ISDIR) {
		if (ev->mask & IN_MOVED_FROM)
			folder_drop_tree(src, rel);
		else if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
		    src->recursive)
			folder_scan(src, rel);
	} else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
		folder_file(src, rel, 0);
	free(rel);
}

/* Reads what inotify has; returns -1 if the descriptor failed. */
int
source_folder_read(struct source_folder *src)
{
	char buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	n = read(src->fd, buf, sizeof buf);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	for (p = buf; p < buf + n; p += sizeof *ev + ev->len) {
		ev = (const struct inotify_event *)p;
		folder_event(src, ev);
	}
	if (src->rescan_at == 1)
		source_folder_rescan(src);
	return 0;
}

/* Emits settled files and runs planned rescans; returns the ms until the
 * next thing to do, or -1. */
int
source_folder_tick(struct source_folder *src)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	struct folder_settle *s;
	struct stat sb;
	size_t i = 0;
	char *path;

	if (src->rescan_at != 0 && src->rescan_at <= now)
		source_folder_rescan(src);
	while (i < src->nsettling) {
		s = &src->settling[i];
		if (s->due > now) {
			next = s->due < next ? s->due : next;
			i++;
			continue;
		}
		path = folder_path(src, s->rel);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			free(s->rel); /* gone meanwhile */
			src->settling[i] = src->settling[--src->nsettling];
		} else if (sb.st_size != s->size ||
		    stat_mtime_ns(&sb) != s->mtime) {
			folder_settle(src, s->rel, &sb,
			    s->period); /* changing */
			next = s->due < next ? s->due : next;
			i++;
		} else {
			folder_emit(src, s->rel, path, &sb);
			free(s->rel);
			src->settling[i] = src->settling[--src->nsettling];
		}
		free(path);
	}
	if (src->rescan_at != 0 && src->rescan_at < next)
		next = src->rescan_at;
	return next == UINT64_MAX ? -1 : (int)(next - now);
}
