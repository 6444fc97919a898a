/* beneath.c - opens and makes paths below a folder, following no link. */

/*
 * A path below a watched folder or an output root can be changed by a
 * writer at any moment: a folder swapped for a symbolic link between a
 * check and a use sends the use elsewhere. So such paths are never
 * checked by name and used by name: they are resolved from a descriptor
 * of the trusted folder, in one step that refuses any link in any
 * component (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and
 * what is then done is done relative to the descriptor it gave.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "objtrigger.h"

/* Opens rel below the folder dirfd with flags (O_CLOEXEC added); no
 * component may be a link or leave dirfd. Returns a descriptor, or -1
 * with errno (ELOOP or EXDEV for a link, ENOTDIR for a file on the way). */
int
beneath_open(int dirfd, const char *rel, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW);
	how.resolve =
	    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
}

/* Opens the folder rel below dirfd (named root in messages), making the
 * folders that are missing; none on the way may be a link or a file.
 * Returns its descriptor, or -1 with *cause. */
int
beneath_mkdirs(int dirfd, const char *root, const char *rel, char **cause)
{
	char *path, *p, *slash = NULL;
	int fd, up, error = 0;

	/* Most outputs go to a folder that is there already. */
	if ((fd = beneath_open(dirfd, rel, O_RDONLY | O_DIRECTORY)) >= 0)
		return fd;
	path = p = xstrdup(rel);
	if ((fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0)
		error = errno;
	while (error == 0 && *p != '\0') {
		if ((slash = strchr(p, '/')) != NULL)
			*slash = '\0';
		if (mkdirat(fd, p, 0755) != 0 && errno != EEXIST)
			error = errno;
		up = fd;
		fd = error != 0 ?
		    -1 :
		    openat(up, p,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && error == 0)
			error = errno;
		close(up);
		if (error != 0 || slash == NULL)
			break; /* path ends at the folder that failed */
		*slash = '/';
		p = slash + 1;
	}
	if (error == ELOOP || error == ENOTDIR)
		xasprintf(cause,
		    "%s/%s is a link or not a folder: not writing "
		    "through it",
		    root, path);
	else if (error != 0)
		xasprintf(cause, "%s/%s: %s", root, path, strerror(error));
	free(path);
	return error == 0 ? fd : -1;
}
