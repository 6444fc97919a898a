/* exec.c - the exec transform: runs the user's command on each input. */

/*
 * The command is an argv from the config, run with execvp: no shell ever
 * sees a key or a path. {input}, {outdir}, {key} and {name} in an argument
 * are replaced by the input's path, the output folder, the key and its
 * last component; each argument stays one argument, whatever it holds.
 * The input is the file the worker opened and checked, given to the
 * command as its descriptor 3 and its standard input: {input} names that
 * descriptor (/proc/self/fd/3), never the watched path, which a writer
 * could have swapped for a link since. The command runs in the output
 * folder with a small environment, in a process group of its own under
 * hard limits, with no other descriptor: what it writes there is output.
 * What it prints goes to the log, tagged with the job, never straight to
 * the daemon's stderr.
 * Exit 0 is success, 75 (EX_TEMPFAIL) asks for a retry, anything else
 * rejects the input; the start of its stderr is the error message.
 *
 * A batch (a trigger with batch-size or batch-every) is one run of the
 * command: its inputs are the descriptors 3, 4, ..., an argument that is
 * exactly {inputs} becomes one argument for each (/proc/self/fd/N), and
 * the files $OBJTRIGGER_INPUTS (those paths, one a line) and
 * $OBJTRIGGER_KEYS (the keys, each ended by a NUL: a key may hold a line
 * break) list them; the other placeholders and variables are those of the
 * first input.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "objtrigger-transform.h"

#define EXEC_TEMPFAIL 75
#define EXEC_INPUT_FD 3
#define EXEC_INPUT "/proc/self/fd/3"
#define EXEC_INPUTS "{inputs}"

/* Environment variables passed through from the worker, if set. */
static const char *exec_keep_env[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ",
	NULL };

struct exec_buf {
	char *data;
	size_t len, cap;
};

static void
exec_buf_add(struct exec_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			abort();
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static const char *
exec_name(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash != NULL ? slash + 1 : key;
}

/* Replaces the placeholders of one argument; the result is allocated. */
static char *
exec_expand(const char *arg, const struct ot_job *job,
    const struct ot_input *in)
{
	static const char *names[] = { "{input}", "{outdir}", "{key}", "{name}",
		NULL };
	const char *values[] = { EXEC_INPUT, job->outdir, in->key,
		exec_name(in->key) };
	struct exec_buf b = { NULL, 0, 0 };
	size_t i;

	exec_buf_add(&b, "", 0);
	while (*arg != '\0') {
		for (i = 0; names[i] != NULL; i++) {
			if (strncmp(arg, names[i], strlen(names[i])) == 0)
				break;
		}
		if (names[i] != NULL) {
			exec_buf_add(&b, values[i], strlen(values[i]));
			arg += strlen(names[i]);
		} else
			exec_buf_add(&b, arg++, 1);
	}
	return b.data;
}

/* The command's arguments: each expanded for the first input, and one
 * that is exactly {inputs} made one argument for each input. */
static char **
exec_argv(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	size_t argc = host->param_count(ctx, "arg"), i, k, n = 0;
	char **argv = calloc(argc * job->count + 1, sizeof *argv);
	const char *arg;

	if (argv == NULL)
		abort();
	for (i = 0; i < argc; i++) {
		arg = host->param_at(ctx, "arg", i);
		if (strcmp(arg, EXEC_INPUTS) != 0) {
			argv[n++] = exec_expand(arg, job, &job->inputs[0]);
			continue;
		}
		for (k = 0; k < job->count; k++) {
			if (asprintf(&argv[n++], "/proc/self/fd/%zu",
				EXEC_INPUT_FD + k) < 0)
				abort();
		}
	}
	return argv;
}

/* Writes a batch's lists in its TMPDIR: the inputs' paths, one a line,
 * and the keys, each ended by a NUL. 0, or -1 with errno. */
static int
exec_lists(const struct ot_job *job, char **inputs, char **keys)
{
	FILE *fi = NULL, *fk = NULL;
	size_t k;
	int rc = -1;

	if (asprintf(inputs, "%s/inputs", job->tmpdir) < 0 ||
	    asprintf(keys, "%s/keys", job->tmpdir) < 0)
		abort();
	if ((fi = fopen(*inputs, "wx")) == NULL ||
	    (fk = fopen(*keys, "wx")) == NULL)
		goto out;
	for (k = 0; k < job->count; k++) {
		fprintf(fi, "/proc/self/fd/%zu\n", EXEC_INPUT_FD + k);
		fwrite(job->inputs[k].key, 1, strlen(job->inputs[k].key) + 1,
		    fk);
	}
	rc = 0;
out:
	if (fi != NULL && fclose(fi) != 0)
		rc = -1;
	if (fk != NULL && fclose(fk) != 0)
		rc = -1;
	return rc;
}

static char *
exec_env_var(const char *name, const char *value)
{
	char *s;

	if (asprintf(&s, "%s=%s", name, value) < 0)
		abort();
	return s;
}

/* The command's environment: a few variables kept, the job's added. */
static char **
exec_environment(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job, const char *inputs, const char *keys)
{
	const struct ot_input *in = &job->inputs[0];
	size_t nenv = host->param_count(ctx, "env"), n = 0, i;
	char **env = calloc(nenv + 20, sizeof *env), size[32];
	const char *v;

	if (env == NULL)
		abort();
	snprintf(size, sizeof size, "%" PRIu64, in->size);
	env[n++] = exec_env_var("OBJTRIGGER_INPUT", EXEC_INPUT);
	env[n++] = exec_env_var("OBJTRIGGER_KEY", in->key);
	env[n++] = exec_env_var("OBJTRIGGER_BUCKET", in->bucket);
	env[n++] = exec_env_var("OBJTRIGGER_SIZE", size);
	env[n++] = exec_env_var("OBJTRIGGER_EVENT", in->event);
	env[n++] = exec_env_var("OBJTRIGGER_TRIGGER", job->trigger);
	env[n++] = exec_env_var("OBJTRIGGER_OUTDIR", job->outdir);
	env[n++] = exec_env_var("OBJTRIGGER_JOB", job->id);
	env[n++] = exec_env_var("TMPDIR", job->tmpdir);
	if (in->etag != NULL)
		env[n++] = exec_env_var("OBJTRIGGER_ETAG", in->etag);
	if (inputs != NULL) {
		snprintf(size, sizeof size, "%zu", job->count);
		env[n++] = exec_env_var("OBJTRIGGER_COUNT", size);
		env[n++] = exec_env_var("OBJTRIGGER_INPUTS", inputs);
		env[n++] = exec_env_var("OBJTRIGGER_KEYS", keys);
	}
	/* The first of a name wins: the user's env overrides what is kept. */
	for (i = 0; i < nenv; i++)
		env[n++] = strdup(host->param_at(ctx, "env", i));
	for (i = 0; exec_keep_env[i] != NULL; i++) {
		if ((v = getenv(exec_keep_env[i])) != NULL)
			env[n++] = exec_env_var(exec_keep_env[i], v);
	}
	return env;
}

static void
exec_free_vector(char **v)
{
	size_t i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* In the child: wires the descriptors (each first moved above those it
 * goes to, which it may hold; moved has room for them), closes the
 * others, sets the limits and runs the command. */
static void
exec_child(const struct ot_host *host, struct ot_context *ctx, char **argv,
    char **env, const struct ot_job *job, int *moved, const int *out,
    const int *err)
{
	int keep = EXEC_INPUT_FD + (int)job->count, fd = 0;
	size_t k;

	moved[0] = fcntl(out[1], F_DUPFD, keep);
	moved[1] = fcntl(err[1], F_DUPFD, keep);
	for (k = 0; k < job->count && moved[0] >= 0 && moved[1] >= 0; k++) {
		if ((fd = fcntl(job->inputs[k].fd, F_DUPFD, keep)) < 0 ||
		    lseek(fd, 0, SEEK_SET) != 0)
			break;
		moved[2 + k] = fd;
	}
	if (moved[0] < 0 || moved[1] < 0 || k < job->count ||
	    dup2(moved[0], 1) != 1 || dup2(moved[1], 2) != 2)
		goto fail;
	for (k = 0; k < job->count; k++) {
		if (dup2(moved[2 + k], EXEC_INPUT_FD + (int)k) < 0)
			goto fail;
	}
	if (dup2(EXEC_INPUT_FD, 0) != 0 || chdir(job->outdir) != 0 ||
	    host->child_setup(ctx, keep) != 0)
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	execvpe(argv[0], argv, env);
	fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
fail:
	dprintf(moved[1] >= 0 ? moved[1] : err[1],
	    "cannot prepare the command: %s", strerror(errno));
	_exit(127);
}

/* What a command printed on one stream: its first limit bytes, with
 * line breaks turned into " | ". */
struct exec_stream {
	int fd;
	size_t limit;
	struct exec_buf text;
};

/* Reads what is there: 1 if it read some, -1 if it would wait, 0 at the
 * end of the stream (or on an error). */
static int
exec_stream_read(struct exec_stream *st)
{
	char chunk[4096];
	ssize_t n, i;

	while ((n = read(st->fd, chunk, sizeof chunk)) < 0 && errno == EINTR)
		;
	for (i = 0; i < n && st->text.len < st->limit; i++) {
		if (chunk[i] == '\n')
			exec_buf_add(&st->text, " | ", 3);
		else
			exec_buf_add(&st->text, &chunk[i], 1);
	}
	if (n < 0 && errno == EAGAIN)
		return -1;
	return n > 0;
}

static void
exec_stream_end(struct exec_stream *st)
{
	struct exec_buf *b = &st->text;

	while (b->len >= 3 && strcmp(b->data + b->len - 3, " | ") == 0)
		b->data[b->len -= 3] = '\0';
	close(st->fd);
}

/*
 * Reads the command's stdout and stderr until it exits, then kills what
 * it left in its process group and takes what is left in the pipes
 * without waiting: a process it left elsewhere may hold them open.
 * Returns its wait status.
 */
static int
exec_wait(pid_t pid, struct exec_stream *out, struct exec_stream *err)
{
	struct pollfd pfd[3] = { { out->fd, POLLIN, 0 }, { err->fd, POLLIN, 0 },
		{ (int)syscall(SYS_pidfd_open, pid, 0), POLLIN, 0 } };
	int status = 0, pidfd = pfd[2].fd;

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0 || pfd[2].fd >= 0) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0 && exec_stream_read(out) == 0)
			pfd[0].fd = -1;
		if (pfd[1].revents != 0 && exec_stream_read(err) == 0)
			pfd[1].fd = -1;
		if (pfd[2].revents != 0) /* it exited */
			break;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL); /* what it left running in its group */
	fcntl(out->fd, F_SETFL, O_NONBLOCK);
	fcntl(err->fd, F_SETFL, O_NONBLOCK);
	while (exec_stream_read(out) == 1)
		;
	while (exec_stream_read(err) == 1)
		;
	if (pidfd >= 0)
		close(pidfd);
	exec_stream_end(out);
	exec_stream_end(err);
	return status;
}

static enum ot_status
exec_status(const struct ot_host *host, struct ot_context *ctx, const char *cmd,
    int status, const char *err)
{
	const char *sep = *err != '\0' ? ": " : "";

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return OT_OK;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXEC_TEMPFAIL)
		return host->fail(ctx, OT_RETRY,
		    "%s asked for a retry (exit "
		    "75)%s%s",
		    cmd, sep, err);
	if (WIFEXITED(status))
		return host->fail(ctx, OT_REJECT,
		    "%s exited with status %d%s%s", cmd, WEXITSTATUS(status),
		    sep, err);
	return host->fail(ctx, OT_RETRY, "%s was killed by signal %d (%s)%s%s",
	    cmd, WTERMSIG(status), strsignal(WTERMSIG(status)), sep, err);
}

/* Runs the command once, on the job's input, or on all the inputs of a
 * batch. */
static enum ot_status
exec_one(const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	size_t limit = host->param_size(ctx, "stderr-limit"), i;
	char **argv = exec_argv(host, ctx, job), **env;
	char *inputs = NULL, *keys = NULL;
	int *moved = calloc(job->count + 2, sizeof *moved);
	struct exec_stream out = { -1, limit, { NULL, 0, 0 } };
	struct exec_stream err = { -1, limit, { NULL, 0, 0 } };
	int outfd[2] = { -1, -1 }, errfd[2] = { -1, -1 }, status;
	enum ot_status st;
	pid_t pid = -1;

	if (moved == NULL)
		abort();
	if (job->count > 1 && exec_lists(job, &inputs, &keys) != 0) {
		st = host->fail(ctx, OT_RETRY,
		    "cannot list the inputs in %s: %s", job->tmpdir,
		    strerror(errno));
		if ((env = calloc(1, sizeof *env)) == NULL)
			abort();
		goto out;
	}
	env = exec_environment(host, ctx, job, inputs, keys);
	exec_buf_add(&out.text, "", 0);
	exec_buf_add(&err.text, "", 0);
	if (pipe2(outfd, O_CLOEXEC) != 0 || pipe2(errfd, O_CLOEXEC) != 0 ||
	    (pid = fork()) < 0) {
		st = host->fail(ctx, OT_RETRY, "cannot start %s: %s", argv[0],
		    strerror(errno));
		for (i = 0; i < 2; i++) {
			if (outfd[i] >= 0)
				close(outfd[i]);
			if (errfd[i] >= 0)
				close(errfd[i]);
		}
		goto out;
	}
	if (pid == 0)
		exec_child(host, ctx, argv, env, job, moved, outfd, errfd);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(outfd[1]);
	close(errfd[1]);
	out.fd = outfd[0];
	err.fd = errfd[0];
	status = exec_wait(pid, &out, &err);
	/* What it printed goes to the log, tagged with the job: kept at
	 * debug level, and stderr (or else stdout) as the error. */
	if (out.text.len > 0)
		host->log(ctx, OT_LOG_DEBUG, "%s stdout: %s", argv[0],
		    out.text.data);
	if (err.text.len > 0)
		host->log(ctx, OT_LOG_DEBUG, "%s stderr: %s", argv[0],
		    err.text.data);
	st = exec_status(host, ctx, argv[0], status,
	    err.text.len > 0 ? err.text.data : out.text.data);
out:
	free(out.text.data);
	free(err.text.data);
	free(inputs);
	free(keys);
	free(moved);
	exec_free_vector(argv);
	exec_free_vector(env);
	return st;
}

static enum ot_status
exec_run(void *state, const struct ot_host *host, struct ot_context *ctx,
    const struct ot_job *job)
{
	const char *e;
	size_t i;

	for (i = 0; i < host->param_count(ctx, "env"); i++) {
		e = host->param_at(ctx, "env", i);
		if (strchr(e, '=') == NULL || *e == '=')
			return host->fail(ctx, OT_REJECT,
			    "env '%s' is not "
			    "NAME=VALUE",
			    e);
	}
	return exec_one(host, ctx, job);
}

static const struct ot_param exec_params[] = {
	{ "arg", OT_PARAM_STRING, OT_PARAM_REQUIRED | OT_PARAM_REPEAT, NULL,
	    "the command, then one argument each; {input}, {outdir}, {key} "
	    "and {name} are replaced; an argument {inputs} becomes one for "
	    "each input of a batch",
	    NULL, 0, 0 },
	{ "env", OT_PARAM_STRING, OT_PARAM_REPEAT, NULL,
	    "NAME=VALUE added to the command's environment", NULL, 0, 0 },
	{ "stderr-limit", OT_PARAM_SIZE, 0, "4KiB",
	    "how much of the command's stderr to keep as its error message",
	    NULL, 0, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0 }
};

static const struct ot_transform exec_transform = {
	OT_TRANSFORM_HEADER,
	.name = "exec",
	.version = PACKAGE_VERSION,
	.summary = "runs a command (no shell) on each input, or once on a "
		   "batch",
	.params = exec_params,
	.run = exec_run,
};

const struct ot_transform *
objtrigger_transform_v1(void)
{
	return &exec_transform;
}
