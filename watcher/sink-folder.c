/* sink-folder.c - commits a job's outputs into a folder, atomically. */

/*
 * A transform writes into a scratch folder. Each regular file found there
 * is made durable and renamed into the destination (or, across file
 * systems, copied to a hidden temporary name, made durable and renamed),
 * so a reader of the destination never sees half a file. Names come from
 * readdir, so they hold no '/' and are never "." or "..": nothing escapes.
 * Symbolic links and special files are skipped with a warning.
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

struct sink_walk {
	sink_folder_cb cb;
	void *arg;
	char **cause;
};

/* Copies an open file into dest through a temporary name, durably. */
static int
sink_copy(int in, const char *dest, char **cause)
{
	char *tmp, *slash;
	ssize_t n;
	int out;

	slash = strrchr(dest, '/');
	xasprintf(&tmp, "%.*s/.objtrigger-XXXXXX", (int)(slash - dest), dest);
	if ((out = mkstemp(tmp)) < 0) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	do
		n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
	while (n > 0);
	if (n < 0 || fsync(out) != 0 || close(out) != 0 ||
	    rename(tmp, dest) != 0) {
		xasprintf(cause, "%s: %s", dest, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static int
sink_file(const char *from, const char *to, struct sink_walk *walk)
{
	struct stat sb;
	int fd;

	if ((fd = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0 || fsync(fd) != 0) {
		xasprintf(walk->cause, "%s: %s", from, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (rename(from, to) != 0 &&
	    (errno != EXDEV || sink_copy(fd, to, walk->cause) != 0)) {
		if (*walk->cause == NULL)
			xasprintf(walk->cause, "%s: %s", to, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	walk->cb(walk->arg, to, (uint64_t)sb.st_size);
	return 0;
}

static int
sink_sync_dir(const char *path, char **cause)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
sink_dir(const char *from, const char *to, struct sink_walk *walk)
{
	struct dirent *de;
	struct stat sb;
	char *src, *dst;
	DIR *d;
	int rc = 0;

	if ((mkdir(to, 0755) != 0 && errno != EEXIST) || lstat(to, &sb) != 0) {
		xasprintf(walk->cause, "%s: %s", to, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) { /* a symlink planted there, say */
		xasprintf(walk->cause,
		    "%s is not a folder: not writing "
		    "through it",
		    to);
		return -1;
	}
	if ((d = opendir(from)) == NULL) {
		xasprintf(walk->cause, "%s: %s", from, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&src, "%s/%s", from, de->d_name);
		xasprintf(&dst, "%s/%s", to, de->d_name);
		if (lstat(src, &sb) != 0) {
			xasprintf(walk->cause, "%s: %s", src, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(sb.st_mode))
			rc = sink_dir(src, dst, walk);
		else if (S_ISREG(sb.st_mode))
			rc = sink_file(src, dst, walk);
		else
			log_warn("output %s is not a regular file: skipped",
			    src);
		free(src);
		free(dst);
	}
	closedir(d);
	if (rc == 0)
		rc = sink_sync_dir(to, walk->cause);
	return rc;
}

/* Moves every regular file under scratch to the same name under dest,
 * calling cb for each; -1 with *cause at the first failure. */
int
sink_folder_commit(const char *scratch, const char *dest, sink_folder_cb cb,
    void *arg, char **cause)
{
	struct sink_walk walk = { cb, arg, cause };

	*cause = NULL;
	return sink_dir(scratch, dest, &walk);
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
