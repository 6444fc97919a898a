/* progress.c - a command's progress: a bar on a terminal, else lines. */

/*
 * On a terminal the line is redrawn in place (carriage return, erase to
 * the end) at most every PROGRESS_BAR_MS, and cut to the terminal's
 * width; elsewhere (a log, a pipe) a plain line is written every
 * PROGRESS_LINE_MS; quiet writes nothing but what progress_end is given.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "objtrigger.h"

#define PROGRESS_BAR_MS 250
#define PROGRESS_LINE_MS 5000

struct progress {
	FILE *f;
	enum progress_mode mode;
	uint64_t last; /* now_ms() of the last line drawn */
	int drawn; /* a bar is on the terminal's line */
};

/* A progress on f: a bar if f is a terminal, lines if not; quiet: none. */
struct progress *
progress_new(FILE *f, int quiet)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->f = f;
	p->mode = quiet       ? PROGRESS_QUIET :
	    isatty(fileno(f)) ? PROGRESS_BAR :
				PROGRESS_LINES;
	return p;
}

enum progress_mode
progress_mode(const struct progress *p)
{
	return p->mode;
}

/* Whether a line is due now (always when forced). */
int
progress_due(const struct progress *p, int force)
{
	uint64_t every =
	    p->mode == PROGRESS_BAR ? PROGRESS_BAR_MS : PROGRESS_LINE_MS;

	if (p->mode == PROGRESS_QUIET)
		return 0;
	return force || p->last == 0 || now_ms() - p->last >= every;
}

/* The terminal's width, 80 if it does not say. */
static int
progress_width(const struct progress *p)
{
	struct winsize ws;

	if (ioctl(fileno(p->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* Draws a line if one is due (see progress_due). */
void
progress_show(struct progress *p, int force, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int width;

	if (!progress_due(p, force))
		return;
	p->last = now_ms();
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (p->mode == PROGRESS_LINES) {
		fprintf(p->f, "%s\n", line);
		fflush(p->f);
		return;
	}
	width = progress_width(p) - 1;
	if ((int)strlen(line) > width)
		line[width] = '\0';
	fprintf(p->f, "\r%s\033[K", line);
	fflush(p->f);
	p->drawn = 1;
}

/* Writes a bar of width cells, done of total filled, into buf. */
const char *
progress_bar(uint64_t done, uint64_t total, char *buf, size_t width)
{
	size_t full = total == 0 ? width : (size_t)(done * width / total), i;

	for (i = 0; i < width; i++)
		buf[i] = i < full ? '#' : '-';
	buf[width] = '\0';
	return buf;
}

/* Writes a duration in seconds as "1:02:03" or "2:03" into buf. */
const char *
progress_eta(uint64_t s, char *buf, size_t len)
{
	if (s >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60),
		    (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llu:%02llu", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	return buf;
}

/* Ends the bar's line (the summary goes below it), and frees p. */
void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->drawn)
		fprintf(p->f, "\n");
	free(p);
}
