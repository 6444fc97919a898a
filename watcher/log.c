/* log.c - the logging and fatal-error policy of every objtrigger process. */

/*
 * Lines go to stderr: "objtrigger: LEVEL: message" for people, or with
 * --log-format json one JSON object a line for machines. Messages carry
 * what senders wrote (keys, file names, TopicArns, URLs, a transform's
 * words), so nothing reaches stderr without log_escape: a text line has no
 * control byte, no C1 control and no byte that is not UTF-8 (each is
 * written \xNN), so no value can end the line, start a forged one or send
 * the terminal an escape sequence; in JSON, jansson escapes the controls
 * and log_escape only the bytes that are not UTF-8, which jansson would
 * refuse. In text, values with spaces or odd bytes are quoted too.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "objtrigger.h"

static enum log_level log_threshold = LEVEL_INFO;
static const char *log_role = "objtrigger";
static int log_json;
static log_tee_cb log_tee_fn;
static void *log_tee_arg;

static const char *log_names[] = { "error", "warning", "info", "debug" };

/* The name a level's lines carry. */
const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

/* Sets the most detailed level printed, and the name lines start with. */
void
log_open(enum log_level threshold, const char *role)
{
	log_threshold = threshold;
	log_role = role;
}

/* Hands each message this process logs at info or above (not the lines
 * of jobs and plugins) to fn too, until it is called with NULL. */
void
log_tee(log_tee_cb fn, void *arg)
{
	log_tee_fn = fn;
	log_tee_arg = arg;
}

/* The threshold, for the workers this process starts. */
enum log_level
log_level(void)
{
	return log_threshold;
}

void
log_set_json(int on)
{
	log_json = on;
}

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), or 0 if there is none. */
static size_t
log_utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

/* A control at p, C0, DEL or C1 (p starts a valid UTF-8 sequence). */
static int
log_is_control(const unsigned char *p)
{
	return *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0);
}

/*
 * Escapes a message for a log line: every byte that is not part of valid
 * UTF-8 becomes \xNN, and for text (controls set) so do the controls,
 * C0 (below 0x20), DEL and C1 (U+0080 to U+009F, each of its two bytes).
 * The caller frees the result.
 */
char *
log_escape(const char *s, int controls)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 4 + 1), *o = out;
	size_t len, i;

	while (*p != '\0') {
		if ((len = log_utf8_len(p)) == 0)
			len = 1; /* not UTF-8: escaped */
		else if (!controls || !log_is_control(p)) {
			memcpy(o, p, len);
			o += len;
			p += len;
			continue;
		}
		for (i = 0; i < len; i++) {
			snprintf(o, 5, "\\x%02x", p[i]);
			o += 4;
		}
		p += len;
	}
	*o = '\0';
	return out;
}

/* A JSON string of any bytes: those that are not UTF-8 become \xNN. */
static json_t *
log_json_string(const char *s)
{
	char *fixed = log_escape(s, 0);
	json_t *j = json_string(fixed);

	free(fixed);
	return j != NULL ? j : json_string("(unprintable)");
}

/* Writes one text line: its prefix, and the message escaped. */
static void
log_emit_text(enum log_level level, const char *msg)
{
	char *safe = log_escape(msg, 1);

	fprintf(stderr, "%s: %s: %s\n", log_role, log_names[level], safe);
	free(safe);
}

static void
log_emit_json(enum log_level level, json_t *obj)
{
	char date[32], stamp[48];
	struct timespec ts;
	struct tm tm;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp, sizeof stamp, "%s.%03uZ", date,
	    (unsigned)(ts.tv_nsec / 1000000) % 1000);
	json_object_set_new(obj, "time", json_string(stamp));
	json_object_set_new(obj, "level", json_string(log_names[level]));
	json_object_set_new(obj, "process", json_string(log_role));
	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line != NULL)
		fprintf(stderr, "%s\n", line);
	free(line);
	json_decref(obj);
}

void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];
	json_t *obj;

	if (level > log_threshold)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_tee_fn != NULL && level <= LEVEL_INFO)
		log_tee_fn(log_tee_arg, level, line);
	if (!log_json) {
		log_emit_text(level, line);
		return;
	}
	obj = json_object();
	json_object_set_new(obj, "msg", log_json_string(line));
	log_emit_json(level, obj);
}

/* Writes a value for a text line, quoted if it has spaces or odd bytes;
 * the line's escaping (log_emit_text) takes care of the odd bytes. */
static void
log_text_value(FILE *f, const char *s)
{
	const char *p;

	if (strcspn(s, " \"\\=\t\r\n") == strlen(s) && *s != '\0') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* A line about a job, as it is written: a JSON object, or text. */
struct log_job_line {
	json_t *obj;
	FILE *f;
	char *text;
	size_t len;
};

/* Starts a line about a job: in JSON, msg ("job " what), job, trigger and
 * key; in text, "job ID WORD: trigger=T key=K". */
static void
log_job_start(struct log_job_line *l, int64_t id, const char *what,
    const char *word, const char *trigger, const char *key)
{
	memset(l, 0, sizeof *l);
	if (log_json) {
		l->obj = json_object();
		json_object_set_new(l->obj, "msg",
		    json_sprintf("job %s", what));
		json_object_set_new(l->obj, "job", json_integer(id));
		json_object_set_new(l->obj, "trigger",
		    log_json_string(trigger));
		json_object_set_new(l->obj, "key", log_json_string(key));
		return;
	}
	if ((l->f = open_memstream(&l->text, &l->len)) == NULL)
		fatal("out of memory");
	fprintf(l->f, "job %lld %s: trigger=", (long long)id, word);
	log_text_value(l->f, trigger);
	fputs(" key=", l->f);
	log_text_value(l->f, key);
}

/* Writes a line log_job_start began. */
static void
log_job_end(enum log_level level, struct log_job_line *l)
{
	if (l->obj != NULL) {
		log_emit_json(level, l->obj);
		return;
	}
	fclose(l->f);
	log_emit_text(level, l->text);
	free(l->text);
}

/* A line about a job that is not its end: "queued", with the folder (or
 * bucket) of its key. */
void
log_job_note(enum log_level level, int64_t id, const char *trigger,
    const char *folder, const char *key, const char *what)
{
	struct log_job_line l;

	if (level > log_threshold)
		return;
	log_job_start(&l, id, what, what, trigger, key);
	if (l.obj != NULL)
		json_object_set_new(l.obj, "folder", log_json_string(folder));
	else {
		fputs(" folder=", l.f);
		log_text_value(l.f, folder);
	}
	log_job_end(level, &l);
}

/* The one line a job's end gets. */
void
log_job(enum log_level level, int64_t id, const char *trigger, const char *key,
    const char *result, int attempts, uint64_t ms, const char *error)
{
	struct log_job_line l;

	if (level > log_threshold)
		return;
	log_job_start(&l, id, "ended", result, trigger, key);
	if (l.obj != NULL) {
		json_object_set_new(l.obj, "result", json_string(result));
		json_object_set_new(l.obj, "attempts", json_integer(attempts));
		json_object_set_new(l.obj, "duration_ms",
		    json_integer((json_int_t)ms));
		if (error != NULL)
			json_object_set_new(l.obj, "error",
			    log_json_string(error));
	} else {
		fprintf(l.f, " attempts=%d duration=%llums", attempts,
		    (unsigned long long)ms);
		if (error != NULL) {
			fputs(" error=", l.f);
			log_text_value(l.f, error);
		}
	}
	log_job_end(level, &l);
}

/* The one line a batch's run gets: how many jobs from which, how it
 * ended, its calendar period (or NULL) and what it produced. */
void
log_batch(enum log_level level, int64_t first, size_t n, const char *trigger,
    const char *result, const char *period, char *const *outputs,
    size_t noutputs)
{
	json_t *obj, *list;
	char *msg;
	size_t len, i;
	FILE *f;

	if (level > log_threshold)
		return;
	if (log_json) {
		obj = json_object();
		list = json_array();
		json_object_set_new(obj, "msg", json_string("batch ended"));
		json_object_set_new(obj, "job", json_integer(first));
		json_object_set_new(obj, "jobs", json_integer((json_int_t)n));
		json_object_set_new(obj, "trigger", log_json_string(trigger));
		json_object_set_new(obj, "result", json_string(result));
		if (period != NULL)
			json_object_set_new(obj, "period", json_string(period));
		for (i = 0; i < noutputs; i++)
			json_array_append_new(list,
			    log_json_string(outputs[i]));
		json_object_set_new(obj, "outputs", list);
		log_emit_json(level, obj);
		return;
	}
	if ((f = open_memstream(&msg, &len)) == NULL)
		fatal("out of memory");
	fprintf(f, "batch of %zu job%s from job %lld %s: trigger=", n,
	    n == 1 ? "" : "s", (long long)first, result);
	log_text_value(f, trigger);
	if (period != NULL)
		fprintf(f, " period=%s", period);
	fputs(" outputs=", f);
	for (i = 0; i < noutputs; i++) {
		if (i > 0)
			fputc(',', f);
		log_text_value(f, outputs[i]);
	}
	if (noutputs == 0)
		fputs("none", f);
	fclose(f);
	log_emit_text(level, msg);
	free(msg);
}

/* Writes a line a plugin logged during a job (job: its id, or what the
 * worker does outside a job, such as "warm-up"; trigger may be NULL). A
 * job's id is a number in JSON, as in the lines of its end. */
void
log_write_job(enum log_level level, const char *plugin, const char *job,
    const char *trigger, const char *line)
{
	const char *p;
	char *msg;

	if (level > log_threshold)
		return;
	if (job == NULL)
		job = "-";
	if (log_json) {
		json_t *obj = json_object();
		json_object_set_new(obj, "msg", log_json_string(line));
		json_object_set_new(obj, "plugin", log_json_string(plugin));
		for (p = job; *p >= '0' && *p <= '9'; p++)
			;
		json_object_set_new(obj, "job",
		    *p == '\0' && p != job ?
			json_integer(strtoll(job, NULL, 10)) :
			log_json_string(job));
		if (trigger != NULL)
			json_object_set_new(obj, "trigger",
			    log_json_string(trigger));
		log_emit_json(level, obj);
		return;
	}
	xasprintf(&msg, "%s: job %s%s%s: %s", plugin, job,
	    trigger != NULL ? " trigger=" : "", trigger != NULL ? trigger : "",
	    line);
	log_emit_text(level, msg);
	free(msg);
}

#define LOG_FUNCTION(fn, level) \
	void fn(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_vwrite(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FUNCTION(log_error, LEVEL_ERROR)
LOG_FUNCTION(log_warn, LEVEL_WARN)
LOG_FUNCTION(log_info, LEVEL_INFO)
LOG_FUNCTION(log_debug, LEVEL_DEBUG)

/* Reports an unrecoverable error of start-up or of a broken invariant. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
