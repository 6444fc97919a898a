/* extract.c - the extract transform: unpacks an uploaded archive, safely. */

/*
 * Archives are where the classic attacks live: entries named "../x" or
 * "/etc/x", paths through a symbolic link the archive itself made, links
 * to files outside, and bombs whose declared sizes lie. This transform
 * never lets libarchive write to disk: it reads each entry and writes
 * regular files itself, under its output folder, in folders it made, with
 * O_EXCL and O_NOFOLLOW, and no owner or mode from the archive. A hostile
 * name rejects the whole archive; links and special files are skipped and
 * listed. A zip is first read by its central directory (zip-check.c),
 * which libarchive's streamable reader never looks at: entries that share
 * bytes (an overlapping bomb) or a damaged directory reject it before
 * anything is written. Limits count the bytes really written. A rejected
 * job leaves nothing behind: the host commits outputs only when the job
 * succeeds.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "objtrigger-transform.h"
#include "zip-check.h"

#define EXTRACT_BUF 65536

/* What one extraction has written so far, against its limits. */
struct extract {
	const struct ot_host *host;
	struct ot_context *ctx;
	const struct ot_input *in;
	char root[4096]; /* outdir/STEM */
	char stem[256]; /* the archive's name, without its extensions */
	uint64_t entries, total;
	uint64_t max_entries, max_total, max_entry, max_ratio;
	char **links; /* the paths of links the archive holds, skipped */
	size_t nlinks;
};

/* Turns on the formats listed, by their usual names. */
static int
extract_formats(struct archive *a, const char *list, char *bad, size_t len)
{
	static const struct {
		const char *name;
		int (*on)(struct archive *);
	} formats[] = {
		{ "tar", archive_read_support_format_tar },
		{ "zip", archive_read_support_format_zip_streamable },
		{ "7z", archive_read_support_format_7zip },
		{ "cpio", archive_read_support_format_cpio },
		{ "ar", archive_read_support_format_ar },
		{ "iso9660", archive_read_support_format_iso9660 },
	};
	size_t n, i;

	while (*list != '\0') {
		n = strcspn(list, ", ");
		for (i = 0; n > 0 && i < sizeof formats / sizeof *formats;
		     i++) {
			if (strlen(formats[i].name) == n &&
			    strncmp(formats[i].name, list, n) == 0) {
				formats[i].on(a);
				break;
			}
		}
		if (n > 0 && i == sizeof formats / sizeof *formats) {
			snprintf(bad, len, "%.*s", (int)n, list);
			return -1;
		}
		list += n + (list[n] != '\0');
	}
	return 0;
}

/* Whether a path is relative, without "." or ".." or empty parts. */
static int
extract_clean(const char *path)
{
	size_t n;

	if (*path == '/' || *path == '\0' || strchr(path, '\\') != NULL)
		return 0;
	while (*path != '\0') {
		n = strcspn(path, "/");
		if ((n == 1 && path[0] == '.') ||
		    (n == 2 && path[0] == '.' && path[1] == '.'))
			return 0;
		path += n + (path[n] == '/');
	}
	return 1;
}

/* The path of an entry, without a leading "./" or a trailing '/', and
 * without a top folder named as the archive (proj.tar.gz holding proj/):
 * its entries land in OUTDIR/proj already. */
static const char *
extract_path(struct archive_entry *e, const char *stem, char *buf, size_t len)
{
	const char *p = archive_entry_pathname(e);
	size_t n = strlen(stem);

	if (p == NULL)
		return NULL;
	while (strncmp(p, "./", 2) == 0)
		p += 2;
	if (strncmp(p, stem, n) == 0 && (p[n] == '/' || p[n] == '\0'))
		p += n + (p[n] == '/');
	snprintf(buf, len, "%s", p);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (strcmp(buf, ".") == 0) /* the root, as cpio writes it */
		buf[0] = '\0';
	return buf;
}

/* Whether a path goes through one of the links the archive made. */
static const char *
extract_through_link(const struct extract *x, const char *path)
{
	size_t i, n;

	for (i = 0; i < x->nlinks; i++) {
		n = strlen(x->links[i]);
		if (strncmp(path, x->links[i], n) == 0 && path[n] == '/')
			return x->links[i];
	}
	return NULL;
}

/* Makes the folders of a path under root, each a real folder. */
static int
extract_mkdirs(const char *root, const char *rel)
{
	char path[8192], *p;
	struct stat sb;
	int rc = 0;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >=
	    sizeof path)
		return -1;
	for (p = path + strlen(root) + 1;
	     rc == 0 && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			rc = -1;
		else if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
			rc = -1;
		*p = '/';
	}
	return rc;
}

/* Writes a regular entry's data, counting what is really written. */
static enum ot_status
extract_file(struct extract *x, struct archive *a, const char *rel)
{
	const struct ot_host *host = x->host;
	char path[8192], buf[EXTRACT_BUF];
	uint64_t written = 0;
	la_ssize_t n;
	int fd;

	if (extract_mkdirs(x->root, rel) != 0)
		return host->fail(x->ctx, OT_REJECT,
		    "entry %s: a folder on its "
		    "way cannot be made",
		    rel);
	snprintf(path, sizeof path, "%s/%s", x->root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0 && errno == EEXIST)
		return host->fail(x->ctx, OT_REJECT, "entry %s appears twice",
		    rel);
	if (fd < 0)
		return host->fail(x->ctx, OT_RETRY, "%s: %s", rel,
		    strerror(errno));
	while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
		written += (uint64_t)n;
		x->total += (uint64_t)n;
		if (written > x->max_entry || x->total > x->max_total ||
		    x->total / (x->in->size ? x->in->size : 1) >=
			x->max_ratio) {
			close(fd);
			return host->fail(x->ctx, OT_REJECT,
			    "a bomb: %s made "
			    "%llu bytes so far from a %llu-byte archive, over "
			    "%s",
			    rel, (unsigned long long)x->total,
			    (unsigned long long)x->in->size,
			    x->total > x->max_total    ? "max-total" :
				written > x->max_entry ? "max-entry" :
							 "max-ratio");
		}
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			return host->fail(x->ctx, OT_RETRY, "%s: %s", rel,
			    strerror(errno));
		}
	}
	close(fd);
	if (n < 0)
		return host->fail(x->ctx, OT_REJECT, "entry %s: %s", rel,
		    archive_error_string(a));
	return OT_OK;
}

/* Handles one entry: a file is written, a folder made, the rest skipped. */
static enum ot_status
extract_entry(struct extract *x, struct archive *a, struct archive_entry *e)
{
	const struct ot_host *host = x->host;
	char rel[4096];
	const char *link, *target;
	mode_t type = archive_entry_filetype(e);

	if (extract_path(e, x->stem, rel, sizeof rel) == NULL || *rel == '\0')
		return OT_OK; /* the "./" of a tar */
	if (!extract_clean(rel))
		return host->fail(x->ctx, OT_REJECT,
		    "entry %s: an absolute "
		    "path, or one with '..' or '\\': it would land outside",
		    rel);
	if ((link = extract_through_link(x, rel)) != NULL)
		return host->fail(x->ctx, OT_REJECT,
		    "entry %s goes through %s, "
		    "a link the archive made",
		    rel, link);
	if (archive_entry_is_encrypted(e) &&
	    x->host->param(x->ctx, "passphrase-file") == NULL)
		return host->fail(x->ctx, OT_REJECT,
		    "entry %s is encrypted "
		    "(passphrase-file opens it)",
		    rel);
	if (++x->entries > x->max_entries)
		return host->fail(x->ctx, OT_REJECT,
		    "more than max-entries "
		    "(%llu) entries",
		    (unsigned long long)x->max_entries);
	if (type == AE_IFDIR)
		return extract_mkdirs(x->root, rel) == 0 || errno == EEXIST ?
		    OT_OK :
		    host->fail(x->ctx, OT_REJECT, "folder %s", rel);
	if (type == AE_IFREG && archive_entry_hardlink(e) == NULL)
		return extract_file(x, a, rel);
	target = archive_entry_hardlink(e) != NULL ? archive_entry_hardlink(e) :
						     archive_entry_symlink(e);
	host->log(x->ctx, OT_LOG_INFO, "%s: skipped %s %s%s%s", x->in->key,
	    archive_entry_hardlink(e) != NULL ? "hard link" :
		type == AE_IFLNK              ? "symbolic link" :
						"special file",
	    rel, target != NULL ? " -> " : "", target != NULL ? target : "");
	if (type == AE_IFLNK || archive_entry_hardlink(e) != NULL) {
		char **links =
		    realloc(x->links, (x->nlinks + 1) * sizeof *links);
		if (links == NULL || (links[x->nlinks] = strdup(rel)) == NULL)
			return host->fail(x->ctx, OT_RETRY, "out of memory");
		x->links = links;
		x->nlinks++;
	}
	return OT_OK;
}

/* Gives libarchive the passphrase in the first line of a file: secrets
 * never sit in the config. */
static int
extract_passphrase(struct archive *a, const char *file)
{
	char line[1024];
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	archive_read_add_passphrase(a, line);
	explicit_bzero(line, sizeof line);
	return 0;
}

/* Refuses a zip whose entries overlap, or whose central directory is
 * damaged or lists more than max-entries, before anything is written. */
static enum ot_status
extract_zip_check(struct extract *x)
{
	char *cause;
	enum ot_status st;
	int rc;

	rc = zip_check(x->in->fd, x->in->size, x->max_entries, &cause);
	if (rc == 0)
		return OT_OK;
	st = x->host->fail(x->ctx, rc == -1 ? OT_REJECT : OT_RETRY, "%s",
	    cause != NULL ? cause : "out of memory");
	free(cause);
	return st;
}

static enum ot_status
extract_one(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, const struct ot_input *in)
{
	struct extract x = { .host = host, .ctx = ctx, .in = in };
	const char *name = strrchr(in->key, '/'), *pass;
	struct archive_entry *e;
	enum ot_status st = OT_OK;
	struct archive *a;
	char bad[64];
	size_t len;
	int rc;

	x.max_entries = (uint64_t)host->param_int(ctx, "max-entries");
	x.max_total = host->param_size(ctx, "max-total");
	x.max_entry = host->param_size(ctx, "max-entry");
	if (x.max_entry == 0 || x.max_entry > x.max_total)
		x.max_entry = x.max_total;
	x.max_ratio = (uint64_t)host->param_int(ctx, "max-ratio");
	if ((st = extract_zip_check(&x)) != OT_OK)
		return st;
	name = name != NULL ? name + 1 : in->key;
	len = strcspn(name, ".");
	snprintf(x.stem, sizeof x.stem, "%.*s",
	    (int)(len > 0 ? len : strlen(name)), name);
	snprintf(x.root, sizeof x.root, "%s/%s", job->outdir, x.stem);
	if (!extract_clean(x.stem) || mkdir(x.root, 0755) != 0)
		return host->fail(ctx, OT_REJECT,
		    "cannot name a folder after "
		    "%s",
		    in->key);
	if ((a = archive_read_new()) == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	archive_read_support_filter_all(a);
	if (extract_formats(a, host->param(ctx, "formats"), bad, sizeof bad) !=
	    0) {
		archive_read_free(a);
		return host->fail(ctx, OT_REJECT,
		    "formats: no format named "
		    "'%s' (tar zip 7z cpio ar iso9660)",
		    bad);
	}
	if ((pass = host->param(ctx, "passphrase-file")) != NULL &&
	    extract_passphrase(a, pass) != 0) {
		archive_read_free(a);
		return host->fail(ctx, OT_RETRY, "passphrase-file %s: %s", pass,
		    strerror(errno));
	}
	if (archive_read_open_fd(a, in->fd, EXTRACT_BUF) != ARCHIVE_OK) {
		st = host->fail(ctx, OT_REJECT,
		    "not an archive of formats=\"%s\": "
		    "%s",
		    host->param(ctx, "formats"), archive_error_string(a));
		archive_read_free(a);
		return st;
	}
	while (st == OT_OK &&
	    (rc = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (rc < ARCHIVE_WARN)
			st = host->fail(ctx, OT_REJECT, "a broken archive: %s",
			    archive_error_string(a));
		else
			st = extract_entry(&x, a, e);
	}
	archive_read_free(a);
	while (x.nlinks > 0)
		free(x.links[--x.nlinks]);
	free(x.links);
	return st;
}

static enum ot_status
extract_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	enum ot_status st = OT_OK;
	size_t i;

	for (i = 0; i < job->count && st == OT_OK; i++)
		st = extract_one(host, ctx, job, &job->inputs[i]);
	return st;
}

static const struct ot_param extract_params[] = {
	{ "formats", OT_PARAM_STRING, 0, "tar zip 7z cpio ar iso9660",
	    "archive formats taken, by their bytes (any compression)", NULL, 0,
	    0 },
	{ "max-entries", OT_PARAM_INT, 0, "10000", "entries at most", NULL, 1,
	    INT64_MAX },
	{ "max-total", OT_PARAM_SIZE, 0, "1GiB",
	    "bytes written at most, "
	    "counted as written",
	    NULL, 0, 0 },
	{ "max-entry", OT_PARAM_SIZE, 0, "0",
	    "bytes of one entry at most (0: "
	    "max-total)",
	    NULL, 0, 0 },
	{ "max-ratio", OT_PARAM_INT, 0, "200",
	    "bytes written per byte of "
	    "archive at most",
	    NULL, 1, 1000000 },
	{ "passphrase-file", OT_PARAM_STRING, 0, NULL,
	    "a file whose first "
	    "line opens encrypted entries",
	    NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform extract_transform = {
	OT_TRANSFORM_HEADER,
	.name = "extract",
	.version = PACKAGE_VERSION,
	.summary = "unpacks an archive into STEM/..., safe against zip slip "
		   "and bombs",
	.params = extract_params,
	.run = extract_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &extract_transform;
}
