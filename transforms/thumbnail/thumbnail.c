/* thumbnail.c - the thumbnail transform, on libvips. */

/*
 * Uploads are hostile until proven otherwise. The input's format is found
 * from its bytes (the loader libvips picks), and must be one of formats=;
 * loaders libvips marks untrusted stay blocked unless listed. The header
 * is read first and width x height (x frames) checked against max-pixels
 * before a pixel is decoded. Images are read from the file descriptor and
 * written through one, so no key or path is ever parsed by libvips as
 * "name[options]". One libvips thread a worker: N workers fill N cores.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vips/vips.h>

#include "objtrigger-transform.h"

#define THUMB_FAR 10000000 /* a side that does not constrain */
#define THUMB_MAX_SIZES 16

struct thumb_size {
	char spec[32]; /* as written: "256", "640x480", "w=800" */
	int width, height;
};

struct thumb {
	struct thumb_size sizes[THUMB_MAX_SIZES];
	int nsizes;
};

static const char *
thumb_basename(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash != NULL ? slash + 1 : key;
}

/* Reads "256", "640x480", "w=800" or "h=600"; -1 if it is none of them. */
static int
thumb_parse_size(const char *s, size_t len, struct thumb_size *sz)
{
	char buf[32], *end;
	long a, b;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	snprintf(sz->spec, sizeof sz->spec, "%s", buf);
	if ((buf[0] == 'w' || buf[0] == 'h') && buf[1] == '=') {
		a = strtol(buf + 2, &end, 10);
		if (*end != '\0' || a < 1 || a > 100000)
			return -1;
		sz->width = buf[0] == 'w' ? (int)a : THUMB_FAR;
		sz->height = buf[0] == 'h' ? (int)a : THUMB_FAR;
		return 0;
	}
	a = strtol(buf, &end, 10);
	b = a;
	if (*end == 'x')
		b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a < 1 || b < 1 || a > 100000 || b > 100000)
		return -1;
	sz->width = (int)a;
	sz->height = (int)b;
	return 0;
}

/* Why a set of sizes cannot work, or NULL: one-sided sizes (w=, h=) have
 * no box to fill, and every size needs an output name of its own. */
static const char *
thumb_check_sizes(const struct ot_host *host, struct ot_context *ctx,
    const struct thumb *t)
{
	const char *fit = host->param(ctx, "fit");
	int i, k;

	if (t->nsizes == 0)
		return "size= names no size";
	for (i = 0; i < t->nsizes; i++) {
		if ((t->sizes[i].width == THUMB_FAR ||
			t->sizes[i].height == THUMB_FAR) &&
		    strcmp(fit, "inside") != 0)
			return "w= and h= sizes only go with fit=inside";
		for (k = 0; k < i; k++) {
			if (strcmp(t->sizes[i].spec, t->sizes[k].spec) == 0)
				return "a size is given twice";
		}
	}
	if (t->nsizes > 1 && strstr(host->param(ctx, "name"), "{size}") == NULL)
		return "with several sizes, name= needs {size}";
	return NULL;
}

/* Reads the sizes and checks them and the name template against each
 * other; OT_REJECT with the reason set if they cannot work. */
static enum ot_status
thumb_configure(const struct ot_host *host, struct ot_context *ctx,
    struct thumb *t)
{
	static const char *const names[] = { "{stem}", "{size}", "{format}",
		NULL };
	const char *s = host->param(ctx, "size"), *why;
	size_t len;

	while (*s != '\0') {
		len = strcspn(s, ", ");
		if (len > 0 &&
		    (t->nsizes == THUMB_MAX_SIZES ||
			thumb_parse_size(s, len, &t->sizes[t->nsizes++]) != 0))
			return host->fail(ctx, OT_REJECT,
			    "size=\"%s\": each size "
			    "is 256, 640x480, w=800 or h=600 (at most %d)",
			    host->param(ctx, "size"), THUMB_MAX_SIZES);
		s += len + (s[len] != '\0');
	}
	if ((why = thumb_check_sizes(host, ctx, t)) != NULL)
		return host->fail(ctx, OT_REJECT, "%s", why);
	if ((why = host->template_unknown(host->param(ctx, "name"), names)) !=
	    NULL)
		return host->fail(ctx, OT_REJECT,
		    "name=\"%s\": unknown placeholder at \"%.20s\" (known: "
		    "{stem} {size} {format})",
		    host->param(ctx, "name"), why);
	return OT_OK;
}

/* check(): the values, without starting libvips. */
static enum ot_status
thumb_check_params(const struct ot_host *host, struct ot_context *ctx)
{
	struct thumb *t = calloc(1, sizeof *t);
	enum ot_status status;

	if (t == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	status = thumb_configure(host, ctx, t);
	free(t);
	return status;
}

/* The job whose images libvips is working on, for its warnings. */
static const struct ot_host *thumb_host;
static struct ot_context *thumb_ctx;

/* libvips warns through GLib (VIPS-WARNING, on stderr): such a line
 * would be written into the daemon's log raw, at any point of another
 * line. They go through the host's log instead, tagged with the job. */
static void
thumb_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg,
    gpointer arg)
{
	(void)arg;
	if (thumb_host == NULL)
		return;
	thumb_host->log(thumb_ctx,
	    (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0 ?
		OT_LOG_ERROR :
		(level & G_LOG_LEVEL_WARNING) != 0 ? OT_LOG_WARN :
						     OT_LOG_DEBUG,
	    "%s: %s", domain != NULL ? domain : "glib", msg);
}

static enum ot_status
thumb_init(const struct ot_host *host, struct ot_context *ctx, void **state)
{
	static int started;
	enum ot_status status;
	struct thumb *t;

	if (!started) {
		if (VIPS_INIT("objtrigger") != 0)
			return host->fail(ctx, OT_FATAL, "libvips: %s",
			    vips_error_buffer());
		vips_block_untrusted_set(TRUE);
		vips_cache_set_max(0);
		vips_concurrency_set(1);
		g_log_set_default_handler(thumb_glib_log, NULL);
		started = 1;
	}
	if ((t = calloc(1, sizeof *t)) == NULL)
		return host->fail(ctx, OT_RETRY, "out of memory");
	if ((status = thumb_configure(host, ctx, t)) != OT_OK) {
		free(t);
		return status;
	}
	*state = t;
	return OT_OK;
}

static void
thumb_fini(void *state)
{
	free(state);
}

/* The libvips error as one line, and the buffer cleared. */
static enum ot_status
thumb_vips_fail(const struct ot_host *host, struct ot_context *ctx,
    enum ot_status status, const char *what)
{
	char msg[512];
	size_t i;

	snprintf(msg, sizeof msg, "%s", vips_error_buffer());
	vips_error_clear();
	for (i = 0; msg[i] != '\0'; i++) {
		if (msg[i] == '\n')
			msg[i] = msg[i + 1] != '\0' ? ' ' : '\0';
	}
	return host->fail(ctx, status, "%s: %s", what,
	    msg[0] != '\0' ? msg : "libvips gave no reason");
}

/* Whether a word is in a list separated by spaces or commas. */
static int
thumb_listed(const char *list, const char *word)
{
	size_t len = strlen(word), n;

	while (*list != '\0') {
		n = strcspn(list, ", ");
		if (n == len && strncmp(list, word, len) == 0)
			return 1;
		list += n + (list[n] != '\0');
	}
	return 0;
}

/* The input's format from the loader libvips picks for its bytes: the
 * class VipsForeignLoadJpegSource reads jpeg. NULL if none reads it. */
static const char *
thumb_detect(VipsSource *source, char *format, size_t size)
{
	static const char *aliases[][2] = { { "nsgif", "gif" },
		{ "pdfium", "pdf" }, { "poppler", "pdf" },
		{ "magick7", "magick" }, { "magick6", "magick" } };
	const char *loader = vips_foreign_find_load_source(source);
	size_t len, i;

	vips_error_clear();
	if (loader == NULL || strncmp(loader, "VipsForeignLoad", 15) != 0)
		return NULL;
	loader += 15;
	len = strlen(loader);
	if (len > 6 && strcmp(loader + len - 6, "Source") == 0)
		len -= 6;
	if (len == 0 || len >= size)
		return NULL;
	for (i = 0; i < len; i++)
		format[i] = (char)(loader[i] | 0x20); /* ASCII lower case */
	format[len] = '\0';
	for (i = 0; i < sizeof aliases / sizeof *aliases; i++) {
		if (strcmp(format, aliases[i][0]) == 0)
			snprintf(format, size, "%s", aliases[i][1]);
	}
	return format;
}

/* Lets the loaders of the formats listed run, untrusted ones included:
 * whoever listed them asked for them. */
static void
thumb_unblock(const char *formats)
{
	char name[64];
	size_t n;

	while (*formats != '\0') {
		n = strcspn(formats, ", ");
		if (n > 0 && n < 32) {
			snprintf(name, sizeof name, "VipsForeignLoad%c%.*s",
			    formats[0] & ~0x20, (int)n - 1, formats + 1);
			vips_operation_block_set(name, FALSE);
		}
		formats += n + (formats[n] != '\0');
	}
}

static const char *thumb_out_format(const struct ot_host *, struct ot_context *,
    const char *);

/* What the header says of an input. */
struct thumb_input {
	char format[32];
	int width, height; /* of a frame */
	int pages; /* frames to read */
	int profile; /* it has an ICC profile */
};

/* Checks the input's format and size from its header, before decoding. */
static enum ot_status
thumb_check(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_input *in, struct thumb_input *ti)
{
	const char *formats = host->param(ctx, "formats");
	int64_t max = host->param_int(ctx, "max-pixels");
	VipsSource *source;
	VipsImage *image;
	double pixels;
	int n;

	if (in->size == 0)
		return host->fail(ctx, OT_REJECT, "the file is empty");
	if (in->size > host->param_size(ctx, "max-input"))
		return host->fail(ctx, OT_REJECT,
		    "the file is %llu bytes, over "
		    "max-input",
		    (unsigned long long)in->size);
	vips_block_untrusted_set(TRUE); /* another trigger may have unblocked */
	thumb_unblock(formats);
	if ((source = vips_source_new_from_descriptor(in->fd)) == NULL)
		return thumb_vips_fail(host, ctx, OT_RETRY, "reading");
	if (thumb_detect(source, ti->format, sizeof ti->format) == NULL) {
		VIPS_UNREF(source);
		return host->fail(ctx, OT_REJECT,
		    "not an image libvips can "
		    "read");
	}
	if (!thumb_listed(formats, ti->format) &&
	    !(strcmp(ti->format, "heif") == 0 &&
		thumb_listed(formats, "avif"))) {
		VIPS_UNREF(source);
		return host->fail(ctx, OT_REJECT,
		    "the image is %s, which "
		    "formats=\"%s\" does not allow",
		    ti->format, formats);
	}
	image = vips_image_new_from_source(source, "", "access",
	    VIPS_ACCESS_SEQUENTIAL, NULL);
	VIPS_UNREF(source);
	if (image == NULL)
		return thumb_vips_fail(host, ctx, OT_REJECT,
		    "reading the header");
	n = vips_image_get_n_pages(image);
	ti->width = vips_image_get_width(image);
	ti->height = vips_image_get_page_height(image);
	/* Frames only when they can be written as frames. */
	ti->pages = host->param_bool(ctx, "animated") &&
		thumb_listed("webp gif",
		    thumb_out_format(host, ctx, ti->format)) ?
	    n :
	    1;
	if (ti->pages > host->param_int(ctx, "max-frames"))
		ti->pages = (int)host->param_int(ctx, "max-frames");
	ti->profile = vips_image_get_typeof(image, VIPS_META_ICC_NAME) != 0;
	pixels = (double)vips_image_get_width(image) *
	    vips_image_get_page_height(image) * ti->pages;
	if (pixels > (double)max) {
		enum ot_status st = host->fail(ctx, OT_REJECT,
		    "the image is "
		    "%dx%d%s (%.1f megapixels), over max-pixels (%.1f "
		    "megapixels)",
		    vips_image_get_width(image),
		    vips_image_get_page_height(image),
		    ti->pages > 1 ? " a frame" : "", pixels / 1e6,
		    (double)max / 1e6);
		VIPS_UNREF(image);
		return st;
	}
	VIPS_UNREF(image);
	return OT_OK;
}

/* The name of an output: the name template, with the output format. */
static void
thumb_name(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_input *in, const struct thumb_size *sz, const char *format,
    char *out, size_t size)
{
	const char *tmpl = host->param(ctx, "name"), *name;
	const char *dot, *vars[] = { "{stem}", "{size}", "{format}" };
	size_t used = 0, i, len;

	name = thumb_basename(in->key);
	dot = strrchr(name, '.');
	len = dot != NULL && dot != name ? (size_t)(dot - name) : strlen(name);
	while (*tmpl != '\0' && used + 1 < size) {
		for (i = 0; i < 3; i++) {
			if (strncmp(tmpl, vars[i], strlen(vars[i])) == 0)
				break;
		}
		if (i == 0)
			used += (size_t)snprintf(out + used, size - used,
			    "%.*s", (int)len, name);
		else if (i == 1)
			used += (size_t)snprintf(out + used, size - used, "%s",
			    sz->spec);
		else if (i == 2)
			used += (size_t)snprintf(out + used, size - used, "%s",
			    format);
		else
			out[used++] = *tmpl == '/' ? '_' : *tmpl;
		tmpl += i < 3 ? strlen(vars[i]) : 1;
		if (used >= size)
			used = size - 1;
	}
	out[used] = '\0';
}

/* The format to write: format=, with "same" the input's where libvips
 * can write it, else jpeg. */
static const char *
thumb_out_format(const struct ot_host *host, struct ot_context *ctx,
    const char *in)
{
	const char *f = host->param(ctx, "format");

	if (strcmp(f, "same") != 0)
		return f;
	if (strcmp(in, "heif") == 0)
		return "avif";
	if (thumb_listed("jpeg png webp gif tiff", in))
		return in;
	return "jpeg";
}

/* Writes one image through a descriptor, with the saver of format. */
static int
thumb_save(VipsImage *image, const char *format, int fd, int quality, int strip)
{
	VipsTarget *target = vips_target_new_to_descriptor(fd);
	char suffix[40];
	int rc;

	if (target == NULL)
		return -1;
	snprintf(suffix, sizeof suffix, ".%s", format);
	if (thumb_listed("jpeg webp avif", format))
		rc = vips_image_write_to_target(image, suffix, target, "Q",
		    quality, "strip", strip, NULL);
	else
		rc = vips_image_write_to_target(image, suffix, target, "strip",
		    strip, NULL);
	VIPS_UNREF(target);
	return rc;
}

static VipsInteresting
thumb_crop(const char *crop)
{
	if (strcmp(crop, "attention") == 0)
		return VIPS_INTERESTING_ATTENTION;
	if (strcmp(crop, "entropy") == 0)
		return VIPS_INTERESTING_ENTROPY;
	return VIPS_INTERESTING_CENTRE;
}

/* The pixels a thumbnail makes on its way: inside fits the box, cover
 * fills it before cropping, fill is the box. Checked against max-pixels,
 * so that enlarging a 2x20000 image cannot ask for gigabytes. */
static double
thumb_output_pixels(const char *fit, VipsSize size, const struct thumb_size *sz,
    const struct thumb_input *ti)
{
	double sx = (double)sz->width / ti->width;
	double sy = (double)sz->height / ti->height, scale;

	if (strcmp(fit, "fill") == 0)
		return (double)sz->width * sz->height;
	scale = strcmp(fit, "cover") == 0 ? (sx > sy ? sx : sy) :
					    (sx < sy ? sx : sy);
	if (size == VIPS_SIZE_DOWN && scale > 1)
		scale = 1;
	return (double)ti->width * ti->height * scale * scale * ti->pages;
}

/* Makes one thumbnail of the input at one size. */
static enum ot_status
thumb_one(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, const struct ot_input *in,
    const struct thumb_size *sz, const struct thumb_input *ti)
{
	const char *fit = host->param(ctx, "fit");
	const char *format = thumb_out_format(host, ctx, ti->format);
	int strip = host->param_bool(ctx, "strip"), fd, rc;
	char options[48], name[4096], path[8192];
	VipsSource *source;
	VipsImage *out = NULL;
	VipsSize size;
	double mp;

	size = strcmp(fit, "fill") == 0      ? VIPS_SIZE_FORCE :
	    host->param_bool(ctx, "enlarge") ? VIPS_SIZE_BOTH :
					       VIPS_SIZE_DOWN;
	if ((mp = thumb_output_pixels(fit, size, sz, ti)) >
	    (double)host->param_int(ctx, "max-pixels"))
		return host->fail(ctx, OT_REJECT,
		    "the %s thumbnail of a %dx%d "
		    "image would be %.1f megapixels, over max-pixels",
		    sz->spec, ti->width, ti->height, mp / 1e6);
	/* fail_on reaches the loader through the option string; only
	 * multi-page loaders know n, so frames are asked of animations. */
	if (ti->pages > 1)
		snprintf(options, sizeof options, "fail_on=truncated,n=%d",
		    ti->pages);
	else
		snprintf(options, sizeof options, "fail_on=truncated");
	if (lseek(in->fd, 0, SEEK_SET) != 0 ||
	    (source = vips_source_new_from_descriptor(in->fd)) == NULL)
		return host->fail(ctx, OT_RETRY, "reading: %s",
		    strerror(errno));
	rc = vips_thumbnail_source(source, &out, sz->width, "height",
	    sz->height, "size", size, "crop",
	    strcmp(fit, "cover") == 0 ? thumb_crop(host->param(ctx, "crop")) :
					VIPS_INTERESTING_NONE,
	    "no_rotate", !host->param_bool(ctx, "orient"), "option_string",
	    options, strip && ti->profile ? "export_profile" : NULL, "srgb",
	    NULL);
	VIPS_UNREF(source);
	if (rc != 0)
		return thumb_vips_fail(host, ctx, OT_REJECT, "decoding");
	thumb_name(host, ctx, in, sz, format, name, sizeof name);
	snprintf(path, sizeof path, "%s/%s", job->outdir, name);
	/* Read and write: libtiff reads back what it wrote. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		VIPS_UNREF(out);
		return host->fail(ctx,
		    errno == EEXIST || errno == ENAMETOOLONG ? OT_REJECT :
							       OT_RETRY,
		    "%.200s: %s", name, strerror(errno));
	}
	vips_error_clear();
	rc = thumb_save(out, format, fd, (int)host->param_int(ctx, "quality"),
	    strip);
	close(fd);
	VIPS_UNREF(out);
	/* Pixels are decoded while written. The JPEG loader reports a
	 * truncated file in the error buffer only, despite fail_on. */
	if (rc == 0 && *vips_error_buffer() != '\0')
		return thumb_vips_fail(host, ctx, OT_REJECT, "decoding");
	/* A full or failing disk passes; what the saver refuses does not. */
	if (rc != 0)
		return thumb_vips_fail(host, ctx,
		    errno == ENOSPC || errno == EIO || errno == EDQUOT ?
			OT_RETRY :
			OT_REJECT,
		    "making the thumbnail");
	return OT_OK;
}

static enum ot_status
thumb_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	const struct thumb *t = state;
	enum ot_status st = OT_OK;
	struct thumb_input ti;
	size_t i;
	int k;

	thumb_host = host;
	thumb_ctx = ctx;

	for (i = 0; i < job->count && st == OT_OK; i++) {
		st = thumb_check(host, ctx, &job->inputs[i], &ti);
		for (k = 0; k < t->nsizes && st == OT_OK; k++)
			st = thumb_one(host, ctx, job, &job->inputs[i],
			    &t->sizes[k], &ti);
	}
	thumb_host = NULL; /* ctx is the job's: it ends here */
	return st;
}

static const struct ot_param thumb_params[] = {
	{ "size", OT_PARAM_STRING, 0, "256",
	    "one or more sizes: 256 (a box), "
	    "640x480, w=800, h=600; \"128,512\" makes one output each",
	    NULL, 0, 0 },
	{ "fit", OT_PARAM_ENUM, 0, "inside",
	    "inside keeps the aspect ratio, "
	    "cover fills the box and crops, fill stretches",
	    "inside|cover|fill", 0, 0 },
	{ "crop", OT_PARAM_ENUM, 0, "centre", "what fit=cover keeps",
	    "centre|attention|entropy", 0, 0 },
	{ "enlarge", OT_PARAM_BOOL, 0, "no", "make small images bigger", NULL,
	    0, 0 },
	{ "format", OT_PARAM_ENUM, 0, "webp",
	    "what to write; same: the "
	    "input's",
	    "jpeg|png|webp|avif|same", 0, 0 },
	{ "quality", OT_PARAM_INT, 0, "80", "for jpeg, webp and avif", NULL, 1,
	    100 },
	{ "strip", OT_PARAM_BOOL, 0, "yes",
	    "drop metadata (colours are "
	    "converted to sRGB first)",
	    NULL, 0, 0 },
	{ "orient", OT_PARAM_BOOL, 0, "yes",
	    "turn upright by the EXIF "
	    "orientation",
	    NULL, 0, 0 },
	{ "animated", OT_PARAM_BOOL, 0, "no",
	    "keep every frame of an "
	    "animation, not the first only",
	    NULL, 0, 0 },
	{ "max-frames", OT_PARAM_INT, 0, "100", "frames read at most", NULL, 1,
	    10000 },
	{ "formats", OT_PARAM_STRING, 0, "jpeg png webp gif tiff heif",
	    "input formats taken, by their bytes (avif is heif)", NULL, 0, 0 },
	{ "max-pixels", OT_PARAM_INT, 0, "50000000",
	    "width x height (x frames) "
	    "at most, checked before decoding",
	    NULL, 1, INT64_MAX },
	{ "max-input", OT_PARAM_SIZE, 0, "256MiB", "the largest input file",
	    NULL, 0, 0 },
	{ "name", OT_PARAM_STRING, 0, "{stem}.{size}.{format}",
	    "output file "
	    "names: {stem} of the input, {size} as written, {format}",
	    NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform thumbnail = {
	OT_TRANSFORM_HEADER,
	.name = "thumbnail",
	.version = PACKAGE_VERSION,
	.summary = "thumbnails of images, on libvips, safe on hostile uploads",
	.params = thumb_params,
	.init = thumb_init,
	.fini = thumb_fini,
	.run = thumb_run,
	.check = thumb_check_params,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &thumbnail;
}
