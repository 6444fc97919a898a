/* log.c - the logging and fatal-error policy of every objtrigger process. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "objtrigger.h"

static enum log_level log_threshold = LEVEL_INFO;
static const char *log_role = "objtrigger";

static const char *log_names[] = { "error", "warning", "info", "debug" };

/* Sets the most detailed level printed, and the name lines start with. */
void
log_open(enum log_level threshold, const char *role)
{
	log_threshold = threshold;
	log_role = role;
}

void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];

	if (level > log_threshold)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	fprintf(stderr, "%s: %s: %s\n", log_role, log_names[level], line);
}

/* Writes a line a plugin logged during a job. */
void
log_write_job(enum log_level level, const char *plugin, const char *job,
    const char *line)
{
	if (level > log_threshold)
		return;
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
