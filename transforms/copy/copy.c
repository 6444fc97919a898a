/* copy.c - the copy transform: outputs each input unchanged. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "objtrigger-transform.h"

/* The last component of the input's local path (for an object, its key's,
 * cut to a length a file name may have); "input" when it has none. */
static const char *
copy_name(const char *key)
{
	const char *slash = strrchr(key, '/');
	const char *name = slash != NULL ? slash + 1 : key;

	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "input";
	return name;
}

static enum ot_status
copy_one(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, const struct ot_input *in)
{
	char path[4096];
	ssize_t n;
	int out;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", job->outdir,
		copy_name(in->path)) >= sizeof path)
		return host->fail(ctx, OT_REJECT, "key too long");
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0 && errno == EEXIST)
		return host->fail(ctx, OT_REJECT,
		    "two inputs named '%s' in "
		    "one job",
		    copy_name(in->path));
	if (out < 0)
		return host->fail(ctx,
		    errno == ENAMETOOLONG ? OT_REJECT : OT_RETRY, "%s: %s",
		    path, strerror(errno));
	do
		n = copy_file_range(in->fd, NULL, out, NULL, 1 << 30, 0);
	while (n > 0);
	if (n < 0 || close(out) != 0)
		return host->fail(ctx, OT_RETRY, "copying %s: %s", in->key,
		    strerror(errno));
	return OT_OK;
}

static enum ot_status
copy_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	enum ot_status status = OT_OK;
	size_t i;

	for (i = 0; i < job->count && status == OT_OK; i++)
		status = copy_one(host, ctx, job, &job->inputs[i]);
	return status;
}

static const struct ot_transform copy_transform = {
	OT_TRANSFORM_HEADER,
	.name = "copy",
	.version = PACKAGE_VERSION,
	.summary = "outputs each input unchanged, named after its key",
	.run = copy_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &copy_transform;
}
