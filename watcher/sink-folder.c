/* sink-folder.c - commits a job's outputs into folders, atomically. */

/*
 * A transform writes into its job's output folder. Each regular file found
 * there is made durable and renamed into place: moved from the job's folder
 * when it goes to one destination on the same file system, else copied to a
 * hidden temporary name beside its destination first. So a reader never
 * sees half a file and a watch never sees the temporary name (it is
 * hidden). Names under the destination's root come from readdir or from a
 * checked template, and are walked from the root's descriptor, following
 * no link: nothing escapes the root (beneath.c).
 *
 * The worker starts writing its outputs to disk as soon as its transform
 * is done (sink_folder_flush_outputs), without waiting, so that when they
 * are synced the data is on its way or there. Syncing and renaming are
 * done for many outputs at once (sink-folder-commit.c).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objtrigger.h"

/* A folder's entries, read with getdents64 itself: a job's folders are
 * walked after each job and emptied before the next, and opendir's
 * checks and buffer cost more than reading them. */
struct sink_dir {
	int fd;
	ssize_t len, pos;
	union {
		struct dirent64 align;
		char bytes[4096];
	} buf;
};

/* The next entry of d, or NULL at its end or on an error (*error set). */
static const struct dirent64 *
sink_dir_next(struct sink_dir *d, int *error)
{
	const struct dirent64 *de;

	if (d->pos >= d->len) {
		d->pos = 0;
		if ((d->len = getdents64(d->fd, d->buf.bytes,
			 sizeof d->buf.bytes)) <= 0) {
			*error = d->len < 0;
			return NULL;
		}
	}
	de = (const struct dirent64 *)(d->buf.bytes + d->pos);
	d->pos += de->d_reclen;
	return de;
}

/* Walks the folder rel under top (sink_folder_walk). A folder that is a
 * link (put there by a transform, say) is not followed: the walk fails.
 * Its reader is on the heap: a transform may nest folders as deep as a
 * path allows, some two thousand. */
static int
sink_walk_dir(const char *top, const char *rel, sink_walk_cb cb, void *arg,
    char **cause)
{
	struct sink_dir *d = xmalloc(sizeof *d);
	const struct dirent64 *de;
	struct stat sb;
	char *dir, *path, *child;
	int rc = 0, error = 0;

	xasprintf(&dir, "%s%s%s", top, *rel != '\0' ? "/" : "", rel);
	d->pos = d->len = 0;
	if ((d->fd = open(dir,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		free(d);
		return -1;
	}
	while (rc == 0 && (de = sink_dir_next(d, &error)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		xasprintf(&child, "%s%s%s", rel, *rel != '\0' ? "/" : "",
		    de->d_name);
		if (lstat(path, &sb) != 0) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(sb.st_mode))
			rc = sink_walk_dir(top, child, cb, arg, cause);
		else if (S_ISREG(sb.st_mode))
			rc = cb(arg, child, path, cause);
		else
			log_warn("output %s is not a regular file: skipped",
			    path);
		free(path);
		free(child);
	}
	if (error && rc == 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		rc = -1;
	}
	close(d->fd);
	free(d);
	free(dir);
	return rc;
}

/* Calls cb for each regular file under dir, with its path relative to dir;
 * stops at the first -1 (with *cause set by cb or here). */
int
sink_folder_walk(const char *dir, sink_walk_cb cb, void *arg, char **cause)
{
	*cause = NULL;
	return sink_walk_dir(dir, "", cb, arg, cause);
}

static int
sink_flush_one(void *arg, const char *rel, const char *path, char **cause)
{
	struct stat sb;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0 ||
	    ((sb.st_mode & 07777) != 0644 && fchmod(fd, 0644) != 0) ||
	    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0) {
		xasprintf(cause, "writing %s: %s", rel, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Makes each regular file under dir readable by all (0644) and starts
 * writing it to disk, without waiting: a job's outputs, in the worker,
 * once its transform is done. Returns 0, or -1 with *cause. */
int
sink_folder_flush_outputs(const char *dir, char **cause)
{
	return sink_folder_walk(dir, sink_flush_one, NULL, cause);
}

/* Makes dir and the folders above it (mkdir -p): the user's own path,
 * such as an output root, where links are theirs to have. Returns 0, or
 * -1 with *cause. */
int
sink_folder_mkdirs(const char *dir, char **cause)
{
	char *path = xstrdup(dir), *p = path;
	int rc = 0, last = 0;

	while (rc == 0 && !last) {
		p = strchr(p + 1, '/');
		if ((last = p == NULL))
			p = path + strlen(path);
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			rc = -1;
		}
		if (!last)
			*p = '/';
	}
	free(path);
	return rc;
}

/* Where an output goes: the folder of dest below root, opened without
 * following any link (made if missing); *name gets dest's last name.
 * Returns the folder's descriptor, or -1 with *cause. */
static int
sink_open_folder(const char *root, const char *dest, const char **name,
    char **cause)
{
	size_t len = strlen(root);
	const char *rel = dest + len + (len > 1 || *root != '/');
	char *dir, *slash;
	int rootfd, fd;

	if (strncmp(dest, root, len) != 0 ||
	    (strcmp(root, "/") != 0 && dest[len] != '/') || *rel == '\0') {
		xasprintf(cause, "%s is not a file below %s", dest, root);
		return -1;
	}
	/* The root is made (mkdir -p) only the first time it is missing, not
	 * for every output. */
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 && errno == ENOENT) {
		if (sink_folder_mkdirs(root, cause) != 0)
			return -1;
		rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (rootfd < 0) {
		xasprintf(cause, "%s: %s", root, strerror(errno));
		return -1;
	}
	dir = xstrdup(rel);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		fd = beneath_mkdirs(rootfd, root, dir, cause);
	} else {
		fd = rootfd;
		rootfd = -1;
	}
	*name = rel + (slash != NULL ? slash - dir + 1 : 0);
	free(dir);
	if (rootfd >= 0)
		close(rootfd);
	return fd;
}

/* A hidden name of ours beside the outputs in dirfd, created empty and
 * opened for writing; -1 with errno if none could be had. */
static int
sink_temporary(int dirfd, char *tmp, size_t size)
{
	static unsigned long made;
	int fd, tries = 0;

	do {
		snprintf(tmp, size, ".objtrigger-%ld-%lu", (long)getpid(),
		    ++made);
		fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	} while (fd < 0 && errno == EEXIST && ++tries < 100);
	return fd;
}

/* Passes an output to the hook, then stages it (see sink_folder_stage).
 * Returns 0, or -1 with *cause, fd and dirfd left to the caller. */
static int
sink_stage(int fd, int fromfd, const char *from, int dirfd, const char *name,
    const char *dest, const struct stat *sb, const struct sink_put *put,
    char **cause)
{
	if (put->hook != NULL &&
	    put->hook(put->arg, dirfd, name, sb, cause) != 0)
		return -1;
	return sink_folder_stage(fd, fromfd, from, dirfd, name, dest,
	    put->owner, cause);
}

/*
 * Stages the scratch file in to be moved to name in dirfd, once durable
 * (sink-folder-commit.c), after passing it to hook: nothing is copied and
 * no temporary name is left behind by a crash. Only a file that has no
 * other name and lives on dirfd's file system can be moved: else 1 is
 * returned, and the caller copies. Returns 0, or -1 with *cause; takes
 * in and dirfd unless 1 is returned.
 */
static int
sink_move(int dirfd, const char *name, const char *dest, const char *from,
    int in, const struct sink_put *put, char **cause)
{
	struct stat sb, dsb;

	if (fstat(in, &sb) != 0 || sb.st_nlink != 1 ||
	    fstat(dirfd, &dsb) != 0 || dsb.st_dev != sb.st_dev)
		return 1;
	if ((sb.st_mode & 07777) != 0644 && fchmod(in, 0644) != 0) {
		xasprintf(cause, "writing %s: %s", dest, strerror(errno));
		goto fail;
	}
	sb.st_mode = (sb.st_mode & ~07777) | 0644;
	if (sink_stage(in, AT_FDCWD, from, dirfd, name, dest, &sb, put,
		cause) == 0)
		return 0;
fail:
	close(in);
	close(dirfd);
	return -1;
}

/* Copies in to a hidden temporary name in dirfd, passed to hook (which
 * may refuse it with -1) and staged to be renamed to name once durable.
 * Returns 0, or -1 with *cause; takes dirfd. */
static int
sink_copy(int dirfd, const char *name, const char *dest, int in,
    const struct sink_put *put, char **cause)
{
	char tmp[64];
	struct stat sb;
	ssize_t n = 1;
	int out;

	if ((out = sink_temporary(dirfd, tmp, sizeof tmp)) < 0) {
		xasprintf(cause, "writing %s: %s", dest, strerror(errno));
		close(dirfd);
		return -1;
	}
	while (n > 0)
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
	if (n < 0 || fchmod(out, 0644) != 0 ||
	    sync_file_range(out, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 ||
	    fstat(out, &sb) != 0) {
		xasprintf(cause, "writing %s: %s", dest, strerror(errno));
		goto fail;
	}
	if (sink_stage(out, dirfd, tmp, dirfd, name, dest, &sb, put, cause) ==
	    0)
		return 0;
fail:
	close(out);
	unlinkat(dirfd, tmp, 0);
	close(dirfd);
	return -1;
}

/*
 * Writes the file at from to dest, a path below root: moved if it is the
 * last destination of from (SINK_PUT_LAST; see sink_move), else copied.
 * The folders below root are walked and made from root's descriptor and
 * the file is created and renamed relative to its folder's, so no folder
 * swapped for a link at any moment can take it outside root: such a
 * folder fails the output. The output is staged: it is synced, renamed
 * and its folder synced by the next commit (sink-folder-commit.c), which
 * tells put->owner. Returns 0, or -1 with *cause.
 */
int
sink_folder_put(const char *root, const char *dest, const char *from,
    const struct sink_put *put, char **cause)
{
	const char *name;
	int dirfd, in, rc;

	if ((dirfd = sink_open_folder(root, dest, &name, cause)) < 0)
		return -1;
	if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		xasprintf(cause, "%s: %s", from, strerror(errno));
		close(dirfd);
		return -1;
	}
	rc = (put->flags & SINK_PUT_LAST) ?
	    sink_move(dirfd, name, dest, from, in, put, cause) :
	    1;
	if (rc == 1) {
		rc = sink_copy(dirfd, name, dest, in, put, cause);
		close(in);
	}
	return rc;
}

static int
sink_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes a folder and everything under it, following no link. */
int
sink_folder_remove_tree(const char *path)
{
	return nftw(path, sink_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A job's folder holds out and tmp. Making and removing the three for each
 * job took half the daemon's CPU time on a busy ext4 without a journal,
 * which looks past every recently freed inode for a new one. So a job's
 * folder is kept when the job ends, as a spare, renamed at once to the
 * name of a job to come: whatever still writes there by the old name
 * cannot reach the new job. The worker that runs that job empties it
 * first (sink_folder_scratch_clean), beside the daemon's loop: its out
 * and tmp, its inputs' in/N; nothing else there is ever written.
 */
#define SINK_SPARES 64

static char *sink_spares[SINK_SPARES];
static size_t sink_nspares;
static unsigned long sink_scratch_made;

/* How sink_empty_fd treats what it finds besides files to remove. */
enum sink_keep {
	SINK_KEEP_NOTHING,
	SINK_KEEP_FOLDERS, /* in: its folders in/N are kept, emptied */
	SINK_KEEP_SPARE /* in/N: a file is kept, empty, as the next input */
};

/* The names the next job's inputs have in in/N, by N: the file kept in
 * in/N is renamed to it at once (or to SINK_SPARE_FILE if it has none),
 * so that making the input costs no second rename. */
struct sink_names {
	const char *const *v;
	size_t n;
};

/* This process's user, asked once: a job's folders are checked to be
 * its own before each job. */
static uid_t
sink_euid(void)
{
	static uid_t euid;
	static int known;

	if (!known) {
		euid = geteuid();
		known = 1;
	}
	return euid;
}

/*
 * Keeps name, a file in the folder fd, emptied, as the folder's spare,
 * renamed to spare: the next job's input there is that inode, not a new
 * one (which ext4 without a journal gives slowly, after looking past every
 * inode freed lately). Only a file of ours with one link is kept. Returns
 * 0, or -1 if it is not kept.
 */
static int
sink_keep_spare(int fd, const char *name, const char *spare)
{
	int f =
	    openat(fd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	int rc = -1;

	if (f < 0)
		return -1;
	if (fstat(f, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 1 &&
	    sb.st_uid == sink_euid() &&
	    (sb.st_size == 0 || ftruncate(f, 0) == 0) &&
	    ((sb.st_mode & 07777) == 0600 || fchmod(f, 0600) == 0) &&
	    (strcmp(name, spare) == 0 || renameat(fd, name, fd, spare) == 0))
		rc = 0;
	close(f);
	return rc;
}

static int sink_empty_fd(int, const char *, enum sink_keep,
    const struct sink_names *);

/* The name the file kept in in/NAME gets. */
static const char *
sink_spare_name(const char *name, const struct sink_names *names)
{
	char *end;
	unsigned long i = strtoul(name, &end, 10);

	if (names != NULL && *name >= '0' && *name <= '9' && *end == '\0' &&
	    i < names->n && names->v[i] != NULL)
		return names->v[i];
	return SINK_SPARE_FILE;
}

/* Removes the entry name of the folder fd (path) that is not a file:
 * emptied and kept if keep says so and it is a folder, else its tree
 * removed by path (sink_folder_remove_tree). Returns 0, or -1 with
 * errno. */
static int
sink_empty_sub(int fd, const char *path, const char *name, enum sink_keep keep,
    const struct sink_names *names)
{
	struct sink_names spare = { NULL, 1 };
	const char *spare_name;
	char *subpath;
	int sub = -1, rc;

	xasprintf(&subpath, "%s/%s", path, name);
	if (keep == SINK_KEEP_FOLDERS)
		sub = openat(fd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub >= 0) {
		spare_name = sink_spare_name(name, names);
		spare.v = &spare_name;
		rc = sink_empty_fd(sub, subpath, SINK_KEEP_SPARE, &spare);
	} else
		rc = sink_folder_remove_tree(subpath);
	free(subpath);
	return rc;
}

/* Removes what the folder fd (path) holds, but what keep says, and
 * closes fd: with SINK_KEEP_FOLDERS, names are those of in/N's files; with
 * SINK_KEEP_SPARE, names->v[0] is what the file kept is renamed to. Only
 * what is not a file costs a walk by path (sink_folder_remove_tree).
 * Returns 0, or -1 with errno. */
static int
sink_empty_fd(int fd, const char *path, enum sink_keep keep,
    const struct sink_names *names)
{
	struct sink_dir d;
	const struct dirent64 *de;
	int rc = 0, kept = 0, error = 0;

	d.fd = fd;
	d.pos = d.len = 0;
	while (rc == 0 && (de = sink_dir_next(&d, &error)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (kept && strcmp(de->d_name, names->v[0]) == 0))
			continue;
		if (keep == SINK_KEEP_SPARE && !kept &&
		    sink_keep_spare(fd, de->d_name, names->v[0]) == 0) {
			kept = 1;
			continue;
		}
		/* A folder (as it was read) is not unlinked first. */
		if (de->d_type == DT_DIR)
			rc = sink_empty_sub(fd, path, de->d_name, keep, names);
		else if (unlinkat(fd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		else if (errno == EISDIR)
			rc = sink_empty_sub(fd, path, de->d_name, keep, names);
		else
			rc = -1;
	}
	error = error ? errno : 0;
	close(fd);
	if (error != 0 && rc == 0) {
		errno = error;
		rc = -1;
	}
	return rc;
}

/* Whether path is a folder of ours that only we may enter, as made. */
static int
sink_scratch_ok(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 07777) == 0700 && sb.st_uid == sink_euid();
}

/* Makes dir with out and tmp in it, removing what was there: 0, or -1
 * with *cause. */
static int
sink_scratch_make(const char *dir, char **cause)
{
	char *out, *tmp;
	int rc, error;

	xasprintf(&out, "%s/out", dir);
	xasprintf(&tmp, "%s/tmp", dir);
	sink_folder_remove_tree(dir);
	rc = mkdir(dir, 0700) != 0 || mkdir(out, 0700) != 0 ||
	    mkdir(tmp, 0700) != 0;
	error = errno;
	free(out);
	free(tmp);
	if (rc != 0)
		xasprintf(cause, "%s: %s", dir, strerror(error));
	return rc != 0 ? -1 : 0;
}

/* A job's folder under parent (the same one in a process), with out and
 * tmp in it, to be emptied by sink_folder_scratch_clean; returns it
 * (allocated), or NULL with *cause. */
char *
sink_folder_scratch(const char *parent, char **cause)
{
	char *dir;

	if (sink_nspares > 0)
		return sink_spares[--sink_nspares];
	xasprintf(&dir, "%s/%lu", parent, ++sink_scratch_made);
	if (sink_scratch_make(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Ends a job's use of its folder, and takes dir: renamed as a spare, or
 * removed when there are enough or it cannot be renamed. */
void
sink_folder_scratch_done(char *dir)
{
	char *parent = xstrdup(dir), *spare;

	*strrchr(parent, '/') = '\0';
	xasprintf(&spare, "%s/%lu", parent, ++sink_scratch_made);
	free(parent);
	if (sink_nspares < SINK_SPARES && rename(dir, spare) == 0) {
		sink_spares[sink_nspares++] = spare;
		free(dir);
		return;
	}
	sink_folder_remove_tree(dir);
	free(spare);
	free(dir);
}

/* Empties path, a folder of a job's (but what keep says); if it is
 * not as made (a link, say), it is removed without following it, and made
 * again if the job needs it (made); a missing one is made then too.
 * Returns 0, or -1 with *cause. */
static int
sink_scratch_empty(const char *path, enum sink_keep keep,
    const struct sink_names *names, int made, char **cause)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	int rc = -1;

	if (fd >= 0 && fstat(fd, &sb) == 0 && (sb.st_mode & 07777) == 0700 &&
	    sb.st_uid == sink_euid())
		rc = sink_empty_fd(fd, path, keep, names);
	else if (fd >= 0)
		close(fd);
	if (rc == 0)
		return 0;
	if (sink_folder_remove_tree(path) != 0 && errno != ENOENT) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (made && mkdir(path, 0700) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Empties the folders of a job, before it runs: its outdir and tmpdir,
 * and the in beside outdir that holds its inputs' in/N (kept), names[N]
 * the name of the file in/N is to hold for the job (NULL: none). Returns 0,
 * or -1 with *cause. */
int
sink_folder_scratch_clean(const char *outdir, const char *tmpdir,
    const char *const *names, size_t nnames, char **cause)
{
	const struct sink_names in_names = { names, nnames };
	const char *slash = strrchr(outdir, '/');
	char *dir, *in;
	int rc = -1;

	if (slash == NULL) {
		xasprintf(cause, "%s is not a job's output folder", outdir);
		return -1;
	}
	dir = xstrndup(outdir, (size_t)(slash - outdir));
	xasprintf(&in, "%s/in", dir);
	if (!sink_scratch_ok(dir))
		xasprintf(cause, "%s is not a job's folder of objtrigger's",
		    dir);
	else if (sink_scratch_empty(outdir, SINK_KEEP_NOTHING, NULL, 1,
		     cause) == 0 &&
	    sink_scratch_empty(tmpdir, SINK_KEEP_NOTHING, NULL, 1, cause) ==
		0 &&
	    sink_scratch_empty(in, SINK_KEEP_FOLDERS, &in_names, 0, cause) == 0)
		rc = 0;
	free(in);
	free(dir);
	return rc;
}
