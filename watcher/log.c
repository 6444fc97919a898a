/* log.c - the logging and fatal-error policy of every objtrigger process. */

/*
 * Lines go to stderr: "objtrigger: LEVEL: message" for people, or with
 * --log-format json one JSON object a line for machines. Keys are bytes
 * and may not be UTF-8: a JSON string that is not valid UTF-8 is written
 * with each byte above 0x7f as the character of that value (read as
 * Latin-1); in text, values with spaces or odd bytes are quoted.
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

static const char *log_names[] = { "error", "warning", "info", "debug" };

/* Sets the most detailed level printed, and the name lines start with. */
void
log_open(enum log_level threshold, const char *role)
{
	log_threshold = threshold;
	log_role = role;
}

void
log_set_json(int on)
{
	log_json = on;
}

/* A JSON string of any bytes: invalid UTF-8 bytes become U+00XX. */
static json_t *
log_json_string(const char *s)
{
	json_t *j = json_string(s);
	char *fixed, *p;

	if (j != NULL)
		return j;
	fixed = xmalloc(strlen(s) * 2 + 1);
	for (p = fixed; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x80)
			*p++ = (char)c;
		else { /* Latin-1 reading: always valid once encoded */
			*p++ = (char)(0xc0 | (c >> 6));
			*p++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*p = '\0';
	j = json_string(fixed);
	free(fixed);
	return j;
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
	if (!log_json) {
		fprintf(stderr, "%s: %s: %s\n", log_role, log_names[level],
		    line);
		return;
	}
	obj = json_object();
	json_object_set_new(obj, "msg", log_json_string(line));
	log_emit_json(level, obj);
}

/* Writes a value for a text line, quoted if it has spaces or odd bytes. */
static void
log_text_value(FILE *f, const char *s)
{
	const unsigned char *p;

	if (strcspn(s, " \"\\=\t\r\n") == strlen(s) && *s != '\0') {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* The one line a job's end gets. */
void
log_job(enum log_level level, int64_t id, const char *trigger, const char *key,
    const char *result, int attempts, uint64_t ms, const char *error)
{
	json_t *obj;

	if (level > log_threshold)
		return;
	if (log_json) {
		obj = json_object();
		json_object_set_new(obj, "msg", json_string("job ended"));
		json_object_set_new(obj, "job", json_integer(id));
		json_object_set_new(obj, "trigger", log_json_string(trigger));
		json_object_set_new(obj, "key", log_json_string(key));
		json_object_set_new(obj, "result", json_string(result));
		json_object_set_new(obj, "attempts", json_integer(attempts));
		json_object_set_new(obj, "duration_ms",
		    json_integer((json_int_t)ms));
		if (error != NULL)
			json_object_set_new(obj, "error",
			    log_json_string(error));
		log_emit_json(level, obj);
		return;
	}
	fprintf(stderr, "%s: %s: job %lld %s: trigger=", log_role,
	    log_names[level], (long long)id, result);
	log_text_value(stderr, trigger);
	fputs(" key=", stderr);
	log_text_value(stderr, key);
	fprintf(stderr, " attempts=%d duration=%llums", attempts,
	    (unsigned long long)ms);
	if (error != NULL) {
		fputs(" error=", stderr);
		log_text_value(stderr, error);
	}
	fputc('\n', stderr);
}

/* Writes a line a plugin logged during a job. */
void
log_write_job(enum log_level level, const char *plugin, const char *job,
    const char *line)
{
	if (level > log_threshold)
		return;
	if (log_json) {
		json_t *obj = json_object();
		json_object_set_new(obj, "msg", log_json_string(line));
		json_object_set_new(obj, "plugin", json_string(plugin));
		json_object_set_new(obj, "job",
		    json_string(job != NULL ? job : "-"));
		log_emit_json(level, obj);
		return;
	}
	fprintf(stderr, "%s: %s: %s: job %s: %s\n", log_role, log_names[level],
	    plugin, job != NULL ? job : "-", line);
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
