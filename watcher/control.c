/* control.c - what became of a reload or a stop, for the command that
 * signalled the daemon (STATE/control) and for the service manager
 * (notify.c). */

/*
 * "objtrigger reload" and "objtrigger stop" signal the daemon and report
 * what it then did; they cannot read its log (a file, the journal, a
 * terminal they never saw), and the daemon may have no HTTP server. So
 * the daemon writes each reload and stop into STATE/control, replaced
 * whole each time it changes (a temporary file renamed over it):
 *
 *	OP PID STARTED RESULT
 *	LEVEL MESSAGE
 *	...
 *
 * OP is reload or stop; PID the daemon's; STARTED when it took the signal, in
 * microseconds of CLOCK_MONOTONIC, which every process of the machine
 * reads alike; RESULT pending, waiting (for running jobs to end),
 * applied or failed for a reload, stopping or stopped for a stop; then
 * every message the daemon logged meanwhile (not the lines of jobs),
 * escaped as in the log. A command notes the clock before it signals and
 * waits for a record that started after: the daemon read the config after
 * the command's signal, however signals coalesced. The pid tells a
 * record of an earlier daemon, from before a reboot, which restarted
 * the clock.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objtrigger.h"

static struct {
	char *path; /* STATE/control; NULL while no record is open */
	char *op;
	uint64_t started;
	char *lines; /* what was logged, "LEVEL MESSAGE\n" each */
	size_t len;
} control;

/* The daemon logged a message: it goes into the open record. */
static void
control_log(void *arg, enum log_level level, const char *msg)
{
	char *safe = log_escape(msg, 1), *line;
	int n;

	(void)arg;
	n = xasprintf(&line, "%s %s\n", log_level_name(level), safe);
	control.lines =
	    xreallocarray(control.lines, control.len + (size_t)n + 1, 1);
	memcpy(control.lines + control.len, line, (size_t)n + 1);
	control.len += (size_t)n;
	free(line);
	free(safe);
}

/* Writes the open record with its result. A failure is logged: the
 * command that waits for it then says that the daemon did not answer. */
static void
control_write(const char *result)
{
	char *tmp, *text;
	int fd, len, ok;

	len = xasprintf(&text, "%s %ld %" PRIu64 " %s\n%s", control.op,
	    (long)getpid(), control.started, result,
	    control.lines != NULL ? control.lines : "");
	xasprintf(&tmp, "%s.tmp", control.path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ok = fd >= 0 && write(fd, text, (size_t)len) == len;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, control.path) != 0) {
		log_warn("%s: %s: the command that asked will not know", tmp,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(text);
}

/* Closes the open record, if any, without writing it again. */
static void
control_close(void)
{
	log_tee(NULL, NULL);
	free(control.path);
	free(control.op);
	free(control.lines);
	memset(&control, 0, sizeof control);
}

/* The daemon took a signal: a record of op ("reload" or "stop") opens in
 * the state folder, replacing any open one, and takes what is logged. */
void
control_begin(const char *state, const char *op)
{
	control_close();
	xasprintf(&control.path, "%s/control", state);
	control.op = xstrdup(op);
	control.started = now_us();
	log_tee(control_log, NULL);
	control_write("pending");
	if (strcmp(op, "reload") == 0)
		notify_reloading(control.started);
	else
		notify_stopping();
}

/* The open record's result so far (waiting, stopping). */
void
control_update(const char *result)
{
	if (control.path != NULL)
		control_write(result);
}

/* The open record's last result: it is written and closed. */
void
control_end(const char *result)
{
	if (control.path == NULL)
		return;
	control_write(result);
	if (strcmp(control.op, "reload") == 0)
		notify_ready(); /* applied or not, it is done */
	control_close();
}

/* Reads STATE/control into *r; -1 if there is none (or it cannot be
 * read, or is not a record). The caller frees r->lines. */
int
control_read(const char *state, struct control_record *r)
{
	char *path, *text = NULL, *nl;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	xasprintf(&path, "%s/control", state);
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	memset(r, 0, sizeof *r);
	if (n <= 0 || (nl = strchr(text, '\n')) == NULL ||
	    sscanf(text, "%15s %ld %" SCNu64 " %15s", r->op, &r->pid,
		&r->started, r->result) != 4) {
		free(text);
		return -1;
	}
	memmove(text, nl + 1, strlen(nl + 1) + 1);
	r->lines = text;
	return 0;
}
