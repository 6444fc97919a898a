/* source-folder.c - the folder watch: inotify, recursion, rescans. */

/*
 * A file is ready when it is closed after writing (IN_CLOSE_WRITE) or
 * renamed into place (IN_MOVED_TO); IN_CREATE only tells of new folders,
 * which are watched before they are read, so a file made in a folder
 * between the two is found either way. What inotify cannot promise (its
 * queue overflowed, the watch limit was hit, the daemon was down) a rescan
 * of the tree recovers; the journal drops what it already knows, so a
 * rescan never runs a job twice.
 *
 * A scan cannot tell a file still being written from a finished one. A
 * file it finds that changed in the last second is held until its close
 * event arrives, or until it has not changed for a second: the file was
 * finished before the watch existed, and its close event was never sent.
 *
 * A scan holds one folder open, whatever the depth of the tree: the
 * folders it finds wait as paths on a stack, each opened from a
 * descriptor of the root once the one before is closed. It runs in
 * slices of FOLDER_SLICE_MS, in the loop's turns, so a tree of a million
 * files never keeps the loop (webhooks, /healthz) waiting; only the scan
 * at start and after a reload runs to its end at once, before the loop.
 * A new folder an event tells of goes on the same stack. A rescan asked
 * for while one runs (an overflow) starts when it ends: the folders it
 * read already may have missed events. A folder that cannot be read is
 * logged, once per scan.
 *
 * Held files (settle=, and fresh files a scan found) are in a hash table
 * by path, and in a list by the time they are due: every file of a watch
 * is held for the same period, so a file held again goes to the tail and
 * the list stays in order. Releasing them is done in slices too.
 *
 * A watched folder that goes away (removed, or renamed) is looked for
 * again every FOLDER_RETRY_MS, and at once when a folder of its name
 * appears in its parent (watched meanwhile, if it can be); when it is
 * found, the log says so and its tree is scanned.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
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
#define FOLDER_SLICE_MS 20 /* of scanning and releasing, per turn */

struct folder_watch {
	int wd;
	char *rel; /* "" for the root */
};

/* A held file: in a chain of the hash table, and in the list by due. */
struct folder_held {
	struct folder_held *chain;
	struct folder_held *prev, *next;
	uint64_t hash, due;
	int64_t size, mtime;
	char rel[];
};

struct source_folder {
	char *name;
	char *root; /* absolute */
	int recursive;
	const struct cfg_watch *cfg; /* borrowed: lives as long as this */
	int settle; /* settle= is set: every file is held */
	uint64_t hold_ms; /* how long files are held: settle=, or fresh */
	int fd;

	struct folder_watch *watches; /* sorted by wd */
	size_t nwatches;
	uint64_t rescan_at; /* 0: none planned */
	int limit_logged;
	int missing; /* the watched folder went away */
	int parent_wd; /* while it is missing, its parent's watch; or -1 */

	struct folder_held **buckets; /* nbuckets, a power of two, or 0 */
	size_t nbuckets, nheld;
	struct folder_held *first, *last; /* by due, the soonest first */

	char **todo; /* folders the scan has still to read, the next last */
	size_t ntodo, todo_size;
	DIR *dir; /* the folder being read, or NULL */
	char *dir_rel;
	int whole; /* the scan is one of the whole tree */
	size_t nfolders, nfiles; /* read by it so far */
	uint64_t scan_started;

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

/* Whether path is the folder rel or lies below it. */
static int
folder_under(const char *path, const char *rel)
{
	size_t len = strlen(rel);

	return strncmp(path, rel, len) == 0 &&
	    (path[len] == '\0' || path[len] == '/');
}

/* Stops reading the folder open for the scan. */
static void
folder_scan_close(struct source_folder *src)
{
	if (src->dir == NULL)
		return;
	closedir(src->dir);
	src->dir = NULL;
	free(src->dir_rel);
	src->dir_rel = NULL;
}

/* Gives up the scan under way: the folders it has still to read too. */
static void
folder_scan_stop(struct source_folder *src)
{
	folder_scan_close(src);
	while (src->ntodo > 0)
		free(src->todo[--src->ntodo]);
}

static int
folder_scanning(const struct source_folder *src)
{
	return src->dir != NULL || src->ntodo > 0;
}

/* Puts a folder on the scan's stack; takes rel (allocated). */
static void
folder_scan_push(struct source_folder *src, char *rel)
{
	if (src->ntodo == src->todo_size) {
		src->todo_size = src->todo_size == 0 ? 16 : src->todo_size * 2;
		src->todo =
		    xreallocarray(src->todo, src->todo_size, sizeof *src->todo);
	}
	src->todo[src->ntodo++] = rel;
}

/* Drops the watches of a folder that moved away, and of its subfolders;
 * the scan stops reading it if it was. */
static void
folder_drop_tree(struct source_folder *src, const char *rel)
{
	size_t i = 0;

	while (i < src->nwatches) {
		struct folder_watch *w = &src->watches[i];
		if (folder_under(w->rel, rel)) {
			inotify_rm_watch(src->fd, w->wd);
			folder_forget(src, w);
		} else
			i++;
	}
	if (src->dir != NULL && folder_under(src->dir_rel, rel))
		folder_scan_close(src);
}

static void
folder_emit(struct source_folder *src, const char *rel, const char *path,
    const struct stat *sb)
{
	struct journal_event e;

	memset(&e, 0, sizeof e); /* existing and sequencer: none */
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

/* FNV-1a, for the held files' table. */
static uint64_t
folder_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct folder_held *
folder_held_find(const struct source_folder *src, const char *rel,
    uint64_t hash)
{
	struct folder_held *h;

	if (src->nbuckets == 0)
		return NULL;
	h = src->buckets[hash & (src->nbuckets - 1)];
	while (h != NULL && (h->hash != hash || strcmp(h->rel, rel) != 0))
		h = h->chain;
	return h;
}

/* Doubles the held files' table (one bucket per file at most). */
static void
folder_held_grow(struct source_folder *src)
{
	size_t n = src->nbuckets == 0 ? 64 : src->nbuckets * 2, i;
	struct folder_held **b = xcalloc(n, sizeof *b), *h, *chain;

	for (i = 0; i < src->nbuckets; i++) {
		for (h = src->buckets[i]; h != NULL; h = chain) {
			chain = h->chain;
			h->chain = b[h->hash & (n - 1)];
			b[h->hash & (n - 1)] = h;
		}
	}
	free(src->buckets);
	src->buckets = b;
	src->nbuckets = n;
}

/* Puts a held file in the list by due: from the tail, where it belongs
 * as all are held for the same period. */
static void
folder_held_link(struct source_folder *src, struct folder_held *h)
{
	struct folder_held *after = src->last;

	while (after != NULL && after->due > h->due)
		after = after->prev;
	h->prev = after;
	h->next = after != NULL ? after->next : src->first;
	if (h->next != NULL)
		h->next->prev = h;
	else
		src->last = h;
	if (after != NULL)
		after->next = h;
	else
		src->first = h;
}

static void
folder_held_unlink(struct source_folder *src, struct folder_held *h)
{
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		src->first = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	else
		src->last = h->prev;
	h->prev = h->next = NULL;
}

/* Holds a file until its size and time have not changed for hold_ms. */
static void
folder_hold(struct source_folder *src, const char *rel, const struct stat *sb)
{
	uint64_t hash = folder_hash(rel);
	struct folder_held *h = folder_held_find(src, rel, hash), **b;
	size_t len;

	if (h == NULL) {
		if (src->nheld >= src->nbuckets)
			folder_held_grow(src);
		len = strlen(rel);
		h = xcalloc(1, sizeof *h + len + 1);
		memcpy(h->rel, rel, len + 1);
		h->hash = hash;
		b = &src->buckets[hash & (src->nbuckets - 1)];
		h->chain = *b;
		*b = h;
		src->nheld++;
	} else
		folder_held_unlink(src, h);
	h->size = (int64_t)sb->st_size;
	h->mtime = stat_mtime_ns(sb);
	h->due = now_ms() + src->hold_ms;
	folder_held_link(src, h);
}

/* Stops holding a file: it was taken, or is gone. */
static void
folder_unhold(struct source_folder *src, struct folder_held *h)
{
	struct folder_held **p = &src->buckets[h->hash & (src->nbuckets - 1)];

	while (*p != h)
		p = &(*p)->chain;
	*p = h->chain;
	folder_held_unlink(src, h);
	free(h);
	if (--src->nheld == 0) { /* a burst is over: give its table back */
		free(src->buckets);
		src->buckets = NULL;
		src->nbuckets = 0;
	}
}

/* A regular file found ready by an event, or found by a scan: emitted
 * now, or held. path is its absolute path, or NULL. */
static void
folder_take(struct source_folder *src, const char *rel, const char *path,
    const struct stat *sb, int scanned)
{
	struct folder_held *h;
	struct timespec now;
	char *own = NULL;

	clock_gettime(CLOCK_REALTIME, &now);
	if (src->settle ||
	    (scanned &&
		(now.tv_sec - sb->st_mtim.tv_sec) * 1000 +
			(now.tv_nsec - sb->st_mtim.tv_nsec) / 1000000 <
		    FOLDER_FRESH_MS)) {
		folder_hold(src, rel, sb);
		return;
	}
	if (src->nheld > 0 &&
	    (h = folder_held_find(src, rel, folder_hash(rel))) != NULL)
		folder_unhold(src, h);
	if (path == NULL)
		path = own = folder_path(src, rel);
	folder_emit(src, rel, path, sb);
	free(own);
}

/* A file an event told of. Symbolic links and special files are never
 * inputs. */
static void
folder_file(struct source_folder *src, const char *rel)
{
	char *path = folder_path(src, rel);
	struct stat sb;

	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		folder_take(src, rel, path, &sb, 0);
	free(path);
}

/* A folder the scan could not open or read: logged, unless it is gone
 * or no longer a folder. When the reason may pass (descriptors or
 * memory short), the tree is scanned again later. */
static void
folder_unreadable(struct source_folder *src, const char *rel, int error)
{
	char *path;

	if (error == ENOENT || error == ENOTDIR)
		return;
	path = folder_path(src, rel);
	if (error == EMFILE || error == ENFILE || error == ENOMEM) {
		log_warn("watch %s: cannot read the folder %s: %s: scanning "
			 "again in %ds",
		    src->name, path, strerror(error), FOLDER_RETRY_MS / 1000);
		source_folder_plan_rescan(src, FOLDER_RETRY_MS);
	} else
		log_warn("watch %s: cannot read the folder %s: %s", src->name,
		    path, strerror(error));
	free(path);
}

/* The watched folder went away: looked for again in FOLDER_RETRY_MS, or
 * as soon as a folder of its name appears in its parent. */
static void
folder_lost(struct source_folder *src)
{
	char *parent = xstrdup(src->root), *slash = strrchr(parent, '/');
	struct stat sb;

	src->missing = 1;
	folder_scan_stop(src);
	source_folder_plan_rescan(src, FOLDER_RETRY_MS);
	if (src->parent_wd < 0 && slash != NULL) {
		slash[slash == parent] = '\0';
		src->parent_wd = inotify_add_watch(src->fd, parent,
		    IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
	}
	free(parent);
	if (stat(src->root, &sb) == 0 && S_ISDIR(sb.st_mode))
		src->rescan_at = 1; /* back before its parent was watched */
}

/* The watched folder is there again. */
static void
folder_found(struct source_folder *src)
{
	log_info("watch %s: %s is back: watching it again", src->name,
	    src->root);
	src->missing = 0;
	if (src->parent_wd >= 0)
		inotify_rm_watch(src->fd, src->parent_wd);
	src->parent_wd = -1;
}

/* An event of the missing folder's parent: a folder of its name came. */
static void
folder_parent_event(struct source_folder *src, const struct inotify_event *ev)
{
	const char *name = strrchr(src->root, '/') + 1;

	if (ev->mask & IN_IGNORED)
		src->parent_wd = -1;
	else if (ev->len > 0 && strcmp(ev->name, name) == 0 &&
	    (ev->mask & IN_ISDIR))
		src->rescan_at = 1; /* as soon as the events are read */
}

/* Opens the next folder of the scan from a descriptor of the root,
 * following no link, and watches it before it is read. Takes rel. */
static void
folder_scan_open(struct source_folder *src, char *rel)
{
	int root, fd, error;

	fd = root = open(src->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	error = errno;
	if (root >= 0 && *rel != '\0') {
		fd = beneath_open(root, rel, O_RDONLY | O_DIRECTORY);
		error = errno;
		close(root);
	}
	if (fd < 0) {
		if (*rel == '\0') /* the folder is not there */
			source_folder_plan_rescan(src, FOLDER_RETRY_MS);
		folder_unreadable(src, rel, error);
		free(rel);
		return;
	}
	if (*rel == '\0' && src->missing)
		folder_found(src);
	if (src->fd >= 0 && (*rel == '\0' || src->recursive) &&
	    folder_add_watch(src, rel) != 0 && *rel == '\0')
		source_folder_plan_rescan(src, FOLDER_RETRY_MS);
	if ((src->dir = fdopendir(fd)) == NULL) {
		error = errno;
		close(fd);
		folder_unreadable(src, rel, error);
		free(rel);
		return;
	}
	src->dir_rel = rel;
	src->nfolders++;
}

/* An entry of the folder being read; 0, or an errno if the folder's
 * entries cannot be looked at. */
static int
folder_scan_entry(struct source_folder *src, const struct dirent *de)
{
	unsigned char type = de->d_type;
	struct stat sb;
	char *child;

	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
	    source_folder_ignores(src->cfg, de->d_name))
		return 0;
	if (type != DT_DIR && type != DT_REG && type != DT_UNKNOWN)
		return 0; /* links, special files */
	if (type == DT_DIR && !src->recursive)
		return 0;
	if (type != DT_DIR) {
		if (fstatat(dirfd(src->dir), de->d_name, &sb,
			AT_SYMLINK_NOFOLLOW) != 0)
			return errno == ENOENT ? 0 : errno;
		if (S_ISDIR(sb.st_mode) && src->recursive)
			type = DT_DIR;
		else if (!S_ISREG(sb.st_mode))
			return 0;
	}
	child = folder_join(src->dir_rel, de->d_name);
	if (type == DT_DIR) {
		folder_scan_push(src, child);
		return 0;
	}
	src->nfiles++;
	folder_take(src, child, NULL, &sb, 1);
	free(child);
	return 0;
}

/* Reads on with the scan until the time end (of now_ms()); 1 if it has
 * more to read. */
static int
folder_scan_run(struct source_folder *src, uint64_t end)
{
	struct dirent *de;
	int error;

	while (folder_scanning(src)) {
		if (now_ms() >= end)
			return 1;
		if (src->dir == NULL) {
			folder_scan_open(src, src->todo[--src->ntodo]);
			continue;
		}
		errno = 0;
		if ((de = readdir(src->dir)) == NULL)
			error = errno;
		else if ((error = folder_scan_entry(src, de)) == 0)
			continue;
		if (error != 0)
			folder_unreadable(src, src->dir_rel, error);
		folder_scan_close(src);
	}
	free(src->todo); /* a wide tree's stack is large */
	src->todo = NULL;
	src->todo_size = 0;
	if (src->whole) {
		src->whole = 0;
		log_debug("watch %s: scanned %zu folder%s and %zu file%s in "
			  "%" PRIu64 "ms",
		    src->name, src->nfolders, src->nfolders == 1 ? "" : "s",
		    src->nfiles, src->nfiles == 1 ? "" : "s",
		    now_ms() - src->scan_started);
	}
	return 0;
}

/* Starts a scan of the whole tree, in place of any under way. */
static void
folder_scan_start(struct source_folder *src)
{
	log_debug("watch %s: scanning %s", src->name, src->root);
	src->rescan_at = 0;
	folder_scan_stop(src);
	src->whole = 1;
	src->nfolders = src->nfiles = 0;
	src->scan_started = now_ms();
	folder_scan_push(src, xstrdup(""));
}

/* Plans a rescan of the whole tree in delay_ms. */
void
source_folder_plan_rescan(struct source_folder *src, uint64_t delay_ms)
{
	uint64_t at = now_ms() + delay_ms;

	if (src->rescan_at == 0 || at < src->rescan_at)
		src->rescan_at = at;
}

/* Scans the whole tree to its end: at start, and after a reload. The
 * rescans after an overflow or a limit run in slices (source_folder_tick). */
void
source_folder_rescan(struct source_folder *src)
{
	folder_scan_start(src);
	folder_scan_run(src, UINT64_MAX);
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
	src->parent_wd = -1;
	src->name = xstrdup(w->name);
	src->root = xstrdup(real);
	src->recursive = w->recursive;
	src->cfg = w;
	src->settle = w->settle_ms > 0;
	src->hold_ms = w->settle_ms > 0 ? w->settle_ms : FOLDER_FRESH_MS;
	src->emit = emit;
	src->arg = arg;
	return src;
}

/* Walks a folder watch's tree once, as its scans do but without
 * watching it, handing each file to emit once it has not changed for the
 * watch's settle time (or, found fresh, for a second). */
int
source_folder_walk(const struct cfg_watch *w, source_emit_cb emit, void *arg,
    char **cause)
{
	struct source_folder *src;
	int ms;

	if ((src = source_folder_new(w, emit, arg, cause)) == NULL)
		return -1;
	close(src->fd);
	src->fd = -1;
	folder_scan_start(src);
	for (;;) {
		ms = source_folder_tick(src);
		if (src->rescan_at != 0) { /* a folder that went: not again */
			src->rescan_at = 0;
			continue;
		}
		if (ms < 0)
			break;
		if (ms > 0)
			poll(NULL, 0, ms);
	}
	source_folder_free(src);
	return 0;
}

void
source_folder_free(struct source_folder *src)
{
	struct folder_held *h, *next;
	size_t i;

	if (src == NULL)
		return;
	if (src->fd >= 0)
		close(src->fd);
	for (i = 0; i < src->nwatches; i++)
		free(src->watches[i].rel);
	free(src->watches);
	for (h = src->first; h != NULL; h = next) {
		next = h->next;
		free(h);
	}
	free(src->buckets);
	folder_scan_stop(src);
	free(src->todo);
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
	if (ev->wd == src->parent_wd) {
		folder_parent_event(src, ev);
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
		folder_lost(src);
		return;
	}
	if (ev->mask & IN_IGNORED) {
		if (*w->rel == '\0') {
			log_error("watch %s: %s is gone: looking for it again "
				  "every %ds",
			    src->name, src->root, FOLDER_RETRY_MS / 1000);
			folder_lost(src);
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
		    src->recursive) {
			folder_scan_push(src, rel); /* read by the next tick */
			return;
		}
	} else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
		folder_file(src, rel);
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
	/* After an overflow: a scan under way goes on, and the new one
	 * starts once it ends (the tick), as it cannot see what the old
	 * one's read folders got since. */
	if (src->rescan_at == 1 && !folder_scanning(src))
		folder_scan_start(src);
	return 0;
}

/* Takes the held files that are due and have not changed, until the time
 * end; 1 if more are due. */
static int
folder_release(struct source_folder *src, uint64_t end)
{
	struct folder_held *h;
	uint64_t now = now_ms();
	struct stat sb;
	char *path;

	while ((h = src->first) != NULL && h->due <= now) {
		if (now >= end)
			return 1;
		path = folder_path(src, h->rel);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			folder_unhold(src, h); /* gone meanwhile */
		else if (sb.st_size != h->size ||
		    stat_mtime_ns(&sb) != h->mtime)
			folder_hold(src, h->rel, &sb); /* changing */
		else {
			folder_emit(src, h->rel, path, &sb);
			folder_unhold(src, h);
		}
		free(path);
		now = now_ms();
	}
	return 0;
}

/* Emits settled files and runs planned rescans, FOLDER_SLICE_MS of work
 * at most; returns the ms until the next thing to do (0: more now), or
 * -1. */
int
source_folder_tick(struct source_folder *src)
{
	uint64_t now = now_ms(), end = now + FOLDER_SLICE_MS, next = UINT64_MAX;

	if (src->rescan_at != 0 && src->rescan_at <= now &&
	    !folder_scanning(src))
		folder_scan_start(src);
	if (folder_release(src, end) || folder_scan_run(src, end))
		return 0;
	if (src->first != NULL)
		next = src->first->due;
	if (src->rescan_at != 0 && src->rescan_at < next)
		next = src->rescan_at;
	if (next == UINT64_MAX)
		return -1;
	now = now_ms();
	return next <= now ? 0 : (int)(next - now);
}
