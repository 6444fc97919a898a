/* archive.c - the archive transform: packs its inputs into one archive. */

/*
 * Each input becomes an entry named after its key (relative and cleaned:
 * no leading '/', no "." or ".." parts), with its size, mode bits and
 * time; owners are not recorded. The archive is written, through
 * libarchive, into the output folder under the name template. With a
 * batching trigger the inputs are a batch: one archive for all of them.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "objtrigger-transform.h"

/* A format= value: libarchive's format, filter, and the file suffix. */
struct archive_kind {
	const char *name;
	int (*format)(struct archive *);
	int (*filter)(struct archive *);
	const char *level_option; /* "gzip:compression-level", ... */
};

static const struct archive_kind kinds[] = {
	{ "tar.gz", archive_write_set_format_pax_restricted,
	    archive_write_add_filter_gzip, "gzip:compression-level" },
	{ "tar.zst", archive_write_set_format_pax_restricted,
	    archive_write_add_filter_zstd, "zstd:compression-level" },
	{ "tar.xz", archive_write_set_format_pax_restricted,
	    archive_write_add_filter_xz, "xz:compression-level" },
	{ "tar", archive_write_set_format_pax_restricted,
	    archive_write_add_filter_none, NULL },
	{ "zip", archive_write_set_format_zip, archive_write_add_filter_none,
	    "zip:compression-level" },
	{ "7z", archive_write_set_format_7zip, archive_write_add_filter_none,
	    NULL },
};

static const struct archive_kind *
archive_kind(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	}
	return NULL;
}

/* An entry's name from a key: relative, without "." or ".." parts. */
static void
archive_entry_name(const char *key, char *out, size_t len)
{
	size_t used = 0, n;

	out[0] = '\0';
	while (*key != '\0') {
		n = strcspn(key, "/");
		if (n > 0 && !(n == 1 && key[0] == '.') &&
		    !(n == 2 && key[0] == '.' && key[1] == '.') &&
		    used + n + 2 < len) {
			used += (size_t)snprintf(out + used, len - used,
			    "%s%.*s", used > 0 ? "/" : "", (int)n, key);
		}
		key += n + (key[n] == '/');
	}
	if (used == 0)
		snprintf(out, len, "input");
}

/* The archive's name: the template with {trigger}, {date}, {time}, {n}
 * (inputs) and {format}; '/' is not allowed in it. */
static void
archive_name(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, const char *format, char *out, size_t len)
{
	const char *t = host->param(ctx, "name");
	char value[64];
	size_t used = 0, n;
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	while (*t != '\0' && used + 1 < len) {
		value[0] = '\0';
		if (strncmp(t, "{trigger}", n = 9) == 0)
			snprintf(value, sizeof value, "%s", job->trigger);
		else if (strncmp(t, "{date}", n = 6) == 0)
			strftime(value, sizeof value, "%Y-%m-%d", &tm);
		else if (strncmp(t, "{time}", n = 6) == 0)
			strftime(value, sizeof value, "%H%M%S", &tm);
		else if (strncmp(t, "{n}", n = 3) == 0)
			snprintf(value, sizeof value, "%zu", job->count);
		else if (strncmp(t, "{job}", n = 5) == 0)
			snprintf(value, sizeof value, "%s", job->id);
		else if (strncmp(t, "{format}", n = 8) == 0)
			snprintf(value, sizeof value, "%s", format);
		else {
			out[used++] = *t == '/' ? '_' : *t;
			t++;
			continue;
		}
		used += (size_t)snprintf(out + used, len - used, "%s", value);
		if (used >= len)
			used = len - 1;
		t += n;
	}
	out[used] = '\0';
}

/* Adds one input as an entry. */
static int
archive_add(struct archive *a, const struct ot_input *in, char *err,
    size_t errlen)
{
	struct archive_entry *e = archive_entry_new();
	char name[4096], buf[65536];
	struct stat sb;
	ssize_t n;
	int rc = 0;

	if (e == NULL || fstat(in->fd, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", in->key, strerror(errno));
		archive_entry_free(e);
		return -1;
	}
	archive_entry_name(in->key, name, sizeof name);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, sb.st_mode & 0777);
	archive_entry_set_size(e, sb.st_size);
	archive_entry_set_mtime(e, sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		rc = -1;
	while (rc == 0 && (n = read(in->fd, buf, sizeof buf)) > 0) {
		if (archive_write_data(a, buf, (size_t)n) != n)
			rc = -1;
	}
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", in->key,
		    archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

static enum ot_status
archive_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	const char *format = host->param(ctx, "format");
	const struct archive_kind *k = archive_kind(format);
	char name[512], path[4096], opt[64], err[512] = "";
	struct archive *a;
	size_t i;
	int rc = 0;

	if (k == NULL)
		return host->fail(ctx, OT_REJECT, "format %s", format);
	archive_name(host, ctx, job, format, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", job->outdir, name);
	if ((a = archive_write_new()) == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	k->format(a);
	k->filter(a);
	if (k->level_option != NULL && host->param(ctx, "level") != NULL) {
		snprintf(opt, sizeof opt, "%s=%s", k->level_option,
		    host->param(ctx, "level"));
		if (archive_write_set_options(a, opt) != ARCHIVE_OK)
			rc = -1;
	}
	if (rc == 0 && archive_write_open_filename(a, path) != ARCHIVE_OK)
		rc = -1;
	if (rc != 0)
		snprintf(err, sizeof err, "%s", archive_error_string(a));
	for (i = 0; rc == 0 && i < job->count; i++)
		rc = archive_add(a, &job->inputs[i], err, sizeof err);
	if (rc == 0 && archive_write_close(a) != ARCHIVE_OK) {
		snprintf(err, sizeof err, "%s", archive_error_string(a));
		rc = -1;
	}
	archive_write_free(a);
	if (rc != 0)
		return host->fail(ctx, OT_RETRY, "writing %s: %s", name, err);
	return OT_OK;
}

/* check(): a name with a placeholder it does not know would keep it as
 * written, and every archive would replace the one before. */
static enum ot_status
archive_check(const struct ot_host *host, struct ot_context *ctx)
{
	static const char *const names[] = { "{trigger}", "{date}", "{time}",
		"{n}", "{job}", "{format}", NULL };
	const char *why =
	    host->template_unknown(host->param(ctx, "name"), names);

	if (why == NULL)
		return OT_OK;
	return host->fail(ctx, OT_REJECT,
	    "name=\"%s\": unknown placeholder at \"%.20s\" (known: "
	    "{trigger} {date} {time} {n} {job} {format})",
	    host->param(ctx, "name"), why);
}

static const struct ot_param archive_params[] = {
	{ "format", OT_PARAM_ENUM, 0, "tar.gz", "the kind of archive",
	    "tar.gz|tar.zst|tar.xz|tar|zip|7z", 0, 0 },
	{ "level", OT_PARAM_INT, 0, NULL,
	    "compression level (the "
	    "compressor's default if unset)",
	    NULL, 0, 22 },
	{ "name", OT_PARAM_STRING, 0, "{trigger}-{date}-{time}-{job}.{format}",
	    "the archive's name: {trigger} {date} {time} {job} {n} {format}",
	    NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform archive_transform = {
	OT_TRANSFORM_HEADER,
	.name = "archive",
	.version = PACKAGE_VERSION,
	.summary = "packs its input(s) into one archive",
	.params = archive_params,
	.run = archive_run,
	.check = archive_check,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &archive_transform;
}
