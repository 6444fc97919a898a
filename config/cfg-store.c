/* cfg-store.c - a store's keys, from a private file or the environment. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "xmalloc.h"

/* A name a credentials file may use, and where its value goes. */
struct cfg_key_name {
	const char *name;
	size_t offset;
};

/* A store's: ours, and those of the AWS shared credentials file, so that
 * file can be pointed at as it is. */
static const struct cfg_key_name cfg_store_key_names[] = {
	{ "access-key", offsetof(struct cfg_store, access_key) },
	{ "aws_access_key_id", offsetof(struct cfg_store, access_key) },
	{ "secret-key", offsetof(struct cfg_store, secret_key) },
	{ "aws_secret_access_key", offsetof(struct cfg_store, secret_key) },
	{ "session-token", offsetof(struct cfg_store, token) },
	{ "aws_session_token", offsetof(struct cfg_store, token) }, { NULL, 0 }
};

/* A broker's login. */
static const struct cfg_key_name cfg_broker_key_names[] = {
	{ "user", offsetof(struct cfg_broker, user) },
	{ "password", offsetof(struct cfg_broker, password) }, { NULL, 0 }
};

static char *
cfg_store_trim(char *s)
{
	size_t len;

	s += strspn(s, " \t");
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		s[--len] = '\0';
	return s;
}

/* Takes one "name = value" line into base, by the names' table; the first
 * section of an AWS file only. */
static int
cfg_key_line(void *base, const struct cfg_key_name *names, char *line,
    int *sections, char **cause)
{
	char *eq, *name, **slot;
	size_t i;

	line = cfg_store_trim(line);
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (*line == '[') {
		(*sections)++;
		return 0;
	}
	if (*sections > 1)
		return 0;
	if ((eq = strchr(line, '=')) == NULL) {
		*cause = xstrdup("a line is not 'name = value'");
		return -1;
	}
	*eq = '\0';
	name = cfg_store_trim(line);
	for (i = 0; names[i].name != NULL; i++) {
		if (strcmp(name, names[i].name) != 0)
			continue;
		slot = (char **)((char *)base + names[i].offset);
		free(*slot);
		*slot = xstrdup(cfg_store_trim(eq + 1));
		return 0;
	}
	xasprintf(cause, "unknown name '%s' (expected %s%s)", name,
	    names[0].name,
	    names == cfg_store_key_names ? ", secret-key, session-token" :
					   ", password");
	return -1;
}

/*
 * Opens a file that holds a secret, or says why not. Non-blocking, so that
 * a FIFO or a device does not hang "check" or a reload; then judged by
 * what was opened (a symlink by its target): it must be a regular file
 * that no one but its owner may change, nor, if private, read.
 */
int
cfg_open_secret(const char *path, int private, char **cause)
{
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		xasprintf(cause, "%s is not a regular file", path);
	else if ((sb.st_mode & 022) != 0)
		xasprintf(cause,
		    "%s is writable by its group or others: chmod %s %s", path,
		    private ? "600" : "go-w", path);
	else if (private && (sb.st_mode & 044) != 0)
		xasprintf(cause,
		    "%s can be read by others than its owner: "
		    "chmod 600 %s",
		    path, path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Opens a secret file that only its owner may read, as a stream. */
static FILE *
cfg_open_private(const char *path, char **cause)
{
	FILE *f;
	int fd;

	if ((fd = cfg_open_secret(path, 1, cause)) < 0)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Reads "name = value" lines into base, by the names' table, from a file
 * that only its owner may read. */
static int
cfg_keys_from_file(void *base, const struct cfg_key_name *names,
    const char *path, char **cause)
{
	char line[4096];
	int sections = 0, rc = 0;
	FILE *f;

	if ((f = cfg_open_private(path, cause)) == NULL)
		return -1;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL)
		rc = cfg_key_line(base, names, line, &sections, cause);
	explicit_bzero(line, sizeof line);
	fclose(f);
	return rc;
}

/* Reads a store's keys from a file that only its owner may read. */
int
cfg_store_keys_from_file(struct cfg_store *s, const char *path, char **cause)
{
	int rc = cfg_keys_from_file(s, cfg_store_key_names, path, cause);

	if (rc == 0 && (s->access_key == NULL || s->secret_key == NULL)) {
		xasprintf(cause, "%s has no %s", path,
		    s->access_key == NULL ? "access-key" : "secret-key");
		rc = -1;
	}
	return rc;
}

/* Reads a broker's user and password from a file that only its owner may
 * read. */
int
cfg_broker_login_from_file(struct cfg_broker *b, const char *path, char **cause)
{
	int rc = cfg_keys_from_file(b, cfg_broker_key_names, path, cause);

	if (rc == 0 && (b->user == NULL || b->password == NULL)) {
		xasprintf(cause, "%s has no %s", path,
		    b->user == NULL ? "user" : "password");
		rc = -1;
	}
	return rc;
}

/* Reads a secret (a token) from the first line of a private file. */
int
cfg_read_secret(const char *path, char **out, char **cause)
{
	char line[4096], *v;
	FILE *f;

	if ((f = cfg_open_private(path, cause)) == NULL)
		return -1;
	v = fgets(line, sizeof line, f) != NULL ? cfg_store_trim(line) : NULL;
	fclose(f);
	if (v == NULL || *v == '\0') {
		xasprintf(cause, "%s holds no token on its first line", path);
		explicit_bzero(line, sizeof line);
		return -1;
	}
	*out = xstrdup(v);
	explicit_bzero(line, sizeof line);
	return 0;
}

/* Reads one key from a named environment variable. */
int
cfg_store_key_from_env(char **slot, const char *var, char **cause)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0') {
		xasprintf(cause, "the environment variable %s is not set", var);
		return -1;
	}
	free(*slot);
	*slot = xstrdup(v);
	return 0;
}
