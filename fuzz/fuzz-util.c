/* fuzz-util.c - temporary files and folders for the fuzz targets. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static char *fuzz_dir;
static char *fuzz_path;

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void
fuzz_broken(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: broken promise: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static int
fuzz_remove_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
fuzz_cleanup(void)
{
	if (fuzz_dir != NULL)
		nftw(fuzz_dir, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_folder(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (fuzz_dir != NULL)
		return fuzz_dir;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&dir, "%s/objtrigger-fuzz.XXXXXX", tmp) < 0 ||
	    mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	fuzz_dir = dir;
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

static void
fuzz_write_all(int fd, const uint8_t *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		n = write(fd, data, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("fuzz: write");
			abort();
		}
		data += n;
		size -= (size_t)n;
	}
}

const char *
fuzz_file(const uint8_t *data, size_t size)
{
	int fd;

	if (fuzz_path == NULL &&
	    asprintf(&fuzz_path, "%s/input", fuzz_folder()) < 0)
		abort();
	fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(fuzz_path);
		abort();
	}
	fuzz_write_all(fd, data, size);
	close(fd);
	return fuzz_path;
}

int
fuzz_memfd(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("fuzz-input", MFD_CLOEXEC)) < 0) {
		perror("fuzz: memfd_create");
		abort();
	}
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		perror("fuzz: memfd");
		abort();
	}
	fuzz_write_all(fd, data, size);
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}
