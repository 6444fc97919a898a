/* metrics.c - the daemon's counters, in the Prometheus text format. */

/*
 * One table per process: a series is a family and its labels, kept as
 * the text that goes between the braces, so adding to a series is one
 * lookup and rendering is a walk. The series are few (watches, triggers,
 * stores, outcomes), so a linear search is enough.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"

static const struct {
	const char *name, *type, *help;
} metrics_families[] = {
	[M_EVENTS] = { "objtrigger_events_total", "counter",
	    "Events a watch received, by outcome." },
	[M_JOBS] = { "objtrigger_jobs_total", "counter",
	    "Job runs that ended, by result." },
	[M_JOB_SECONDS] = { "objtrigger_job_duration_seconds", "histogram",
	    "How long job runs took." },
	[M_QUEUE_DEPTH] = { "objtrigger_queue_depth", "gauge",
	    "Jobs waiting to run or to be retried." },
	[M_RUNNING] = { "objtrigger_jobs_running", "gauge",
	    "Jobs running now." },
	[M_DEAD_LETTERS] = { "objtrigger_dead_letters", "gauge",
	    "Jobs that gave up, kept in the journal for replay." },
	[M_INOTIFY_OVERFLOWS] = { "objtrigger_inotify_overflows_total",
	    "counter",
	    "Times the kernel's event queue of a folder watch "
	    "overflowed." },
	[M_S3_REQUESTS] = { "objtrigger_s3_requests_total", "counter",
	    "S3 requests made, by store." },
	[M_S3_ERRORS] = { "objtrigger_s3_errors_total", "counter",
	    "S3 requests that failed, by store." },
	[M_POLL_CYCLES] = { "objtrigger_poll_cycles_total", "counter",
	    "Bucket listings (polls and reconciliations) made." },
	[M_POLL_SECONDS] = { "objtrigger_poll_cycle_duration_seconds", "gauge",
	    "How long the last bucket listing took." },
	[M_HTTP_REQUESTS] = { "objtrigger_http_requests_total", "counter",
	    "HTTP requests answered, by status code." },
	[M_OUTBOX] = { "objtrigger_outbox_messages", "gauge",
	    "Events in a broker's outbox, not confirmed by it yet." },
};

/* Job durations, in seconds: from a small thumbnail to a big archive. */
static const double metrics_buckets[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10, 30, 60, 300 };
#define METRICS_NBUCKETS (sizeof metrics_buckets / sizeof metrics_buckets[0])

struct metrics_series {
	enum metric family;
	char *labels; /* name="value",... */
	double value; /* a histogram's sum */
	uint64_t count; /* a histogram's observations */
	uint64_t *buckets; /* a histogram's, not cumulative */
};

static struct metrics_series *metrics_series;
static size_t metrics_nseries;

/* Appends the n bytes of text to buf (of size bytes) at *len, as far as
 * they fit, and counts them all in *len. */
static void
metrics_put(char *buf, size_t size, size_t *len, const char *text, size_t n)
{
	if (*len < size)
		memcpy(buf + *len, text, n < size - *len ? n : size - *len);
	*len += n;
}

/* Writes the label pairs of ap (name, value, ..., NULL) as the format
 * does, name="value",... with \\, \" and \n escaped, into buf, NUL-ended
 * if they fit; returns their length. */
static size_t
metrics_labels(char *buf, size_t size, va_list ap)
{
	const char *name, *v, *sep = "";
	size_t len = 0;

	while ((name = va_arg(ap, const char *)) != NULL) {
		metrics_put(buf, size, &len, sep, strlen(sep));
		metrics_put(buf, size, &len, name, strlen(name));
		metrics_put(buf, size, &len, "=\"", 2);
		for (v = va_arg(ap, const char *); *v != '\0'; v++) {
			if (*v == '\\' || *v == '"' || *v == '\n')
				metrics_put(buf, size, &len, "\\", 1);
			metrics_put(buf, size, &len, *v == '\n' ? "n" : v, 1);
		}
		metrics_put(buf, size, &len, "\"", 1);
		sep = ",";
	}
	if (len < size)
		buf[len] = '\0';
	return len;
}

/* The series of a family and label pairs (name, value, ..., NULL). The
 * labels are written on the stack: a series is looked up at each event. */
static struct metrics_series *
metrics_find(enum metric family, va_list ap)
{
	struct metrics_series *s;
	char buf[256], *labels = buf;
	va_list again;
	size_t i, len;

	va_copy(again, ap);
	if ((len = metrics_labels(buf, sizeof buf, ap)) >= sizeof buf) {
		labels = xmalloc(len + 1);
		metrics_labels(labels, len + 1, again);
	}
	va_end(again);
	for (i = 0; i < metrics_nseries; i++) {
		s = &metrics_series[i];
		if (s->family == family && strcmp(s->labels, labels) == 0) {
			if (labels != buf)
				free(labels);
			return s;
		}
	}
	metrics_series = xreallocarray(metrics_series, metrics_nseries + 1,
	    sizeof *metrics_series);
	s = &metrics_series[metrics_nseries++];
	memset(s, 0, sizeof *s);
	s->family = family;
	s->labels = labels != buf ? labels : xstrdup(buf);
	if (strcmp(metrics_families[family].type, "histogram") == 0)
		s->buckets = xcalloc(METRICS_NBUCKETS, sizeof *s->buckets);
	return s;
}

void
metrics_add(enum metric family, double n, ...)
{
	va_list ap;

	va_start(ap, n);
	metrics_find(family, ap)->value += n;
	va_end(ap);
}

void
metrics_set(enum metric family, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	metrics_find(family, ap)->value = v;
	va_end(ap);
}

void
metrics_observe(enum metric family, double v, ...)
{
	struct metrics_series *s;
	va_list ap;
	size_t i;

	va_start(ap, v);
	s = metrics_find(family, ap);
	va_end(ap);
	s->value += v;
	s->count++;
	for (i = 0; i < METRICS_NBUCKETS && v > metrics_buckets[i]; i++)
		;
	if (i < METRICS_NBUCKETS)
		s->buckets[i]++;
}

/* One sample line: name{labels[,extra]} value. */
static void
metrics_line(FILE *f, const char *name, const char *suffix, const char *labels,
    const char *extra, double v)
{
	int braces = *labels != '\0' || extra != NULL;

	fprintf(f, "%s%s%s%s%s%s%s %.17g\n", name, suffix, braces ? "{" : "",
	    labels, *labels != '\0' && extra != NULL ? "," : "",
	    extra != NULL ? extra : "", braces ? "}" : "", v);
}

static void
metrics_histogram(FILE *f, const char *name, const struct metrics_series *s)
{
	char le[48];
	uint64_t cumulative = 0;
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cumulative += s->buckets[i];
		snprintf(le, sizeof le, "le=\"%g\"", metrics_buckets[i]);
		metrics_line(f, name, "_bucket", s->labels, le,
		    (double)cumulative);
	}
	metrics_line(f, name, "_bucket", s->labels, "le=\"+Inf\"",
	    (double)s->count);
	metrics_line(f, name, "_sum", s->labels, NULL, s->value);
	metrics_line(f, name, "_count", s->labels, NULL, (double)s->count);
}

/* The whole table as the text format (version 0.0.4); allocated. */
char *
metrics_render(size_t *len)
{
	const struct metrics_series *s;
	const char *name;
	char *text;
	size_t fam, i;
	int seen;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		fatal("out of memory");
	for (fam = 0; fam < M_COUNT; fam++) {
		name = metrics_families[fam].name;
		seen = 0;
		for (i = 0; i < metrics_nseries; i++) {
			s = &metrics_series[i];
			if (s->family != fam)
				continue;
			if (!seen++)
				fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name,
				    metrics_families[fam].help, name,
				    metrics_families[fam].type);
			if (s->buckets != NULL)
				metrics_histogram(f, name, s);
			else
				metrics_line(f, name, "", s->labels, NULL,
				    s->value);
		}
	}
	fclose(f);
	return text;
}

void
metrics_reset(void)
{
	size_t i;

	for (i = 0; i < metrics_nseries; i++) {
		free(metrics_series[i].labels);
		free(metrics_series[i].buckets);
	}
	free(metrics_series);
	metrics_series = NULL;
	metrics_nseries = 0;
}

/* Adds a store's S3 request counts (a worker's, or this process's). */
void
metrics_s3_count(void *arg, const char *store, uint64_t requests,
    uint64_t errors)
{
	(void)arg;
	metrics_add(M_S3_REQUESTS, (double)requests, "store", store, NULL);
	metrics_add(M_S3_ERRORS, (double)errors, "store", store, NULL);
}
