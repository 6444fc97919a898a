/* worker-pool.c - the daemon's side of the worker processes. */

/*
 * Workers are started on demand, up to the pool's count, and reused. A
 * worker that dies, times out or breaks a limit is killed with its whole
 * process group (commands a transform ran included) and its slot is
 * refilled by the next job. What happened is told in plain words.
 *
 * Workers can be started ahead, each loading the plugins it will run
 * (worker_pool_warm), so that the first jobs do not wait for that.
 *
 * A busy worker may also hold one job waiting behind the one it runs,
 * already sent: it starts that one as soon as it has answered, without
 * waiting for the daemon to read the answer and send another. If the
 * worker dies first, the waiting job goes to a new worker, never having
 * run.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "objtrigger.h"
#include "units.h"

/* The largest request sent behind a running job: it must fit in the
 * socket's buffer, so that sending it never waits for the worker. */
#define WORKER_NEXT_MAX (16 << 10)

struct worker {
	pid_t pid; /* 0: no process in this slot */
	int fd;
	struct job *job; /* the job it runs, or NULL */
	struct job *next; /* to run after job; or NULL */
	int next_sent; /* the worker has next's request */
	struct job warm; /* job while it loads its plugins */
	uint64_t deadline; /* monotonic ms */
};

struct worker_pool {
	char *exe;
	char *plugin_dir;
	struct worker_limits limits;
	struct worker *workers;
	unsigned count;
	char *broken; /* why the last worker could not start */
};

static const char *status_names[] = { "ok", "retry", "reject", "fatal" };

struct worker_pool *
worker_pool_new(const char *exe, unsigned count,
    const struct worker_limits *limits, const char *plugin_dir)
{
	struct worker_pool *pool = xcalloc(1, sizeof *pool);

	reaper_start(); /* what a dead worker's commands leave comes to us */
	pool->exe = xstrdup(exe);
	pool->plugin_dir = xstrdup(plugin_dir);
	pool->limits = *limits;
	pool->count = count > 0 ? count : 1;
	pool->workers = xcalloc(pool->count, sizeof *pool->workers);
	return pool;
}

/* What a worker keeps of the daemon's environment: nothing secret (a
 * command could read it in /proc/PPID/environ), only what its commands
 * are given (exec) and the sanitizers' settings of a test build. */
static const char *worker_keep_env[] = { "PATH", "HOME", "LANG", "LC_ALL", "TZ",
	"OBJTRIGGER_LOG_FORMAT", "ASAN_OPTIONS", "UBSAN_OPTIONS",
	"LSAN_OPTIONS", NULL };

/* The worker's environment (allocated, in the child). */
static char **
worker_environment(void)
{
	char **env =
	    xcalloc(sizeof worker_keep_env / sizeof *worker_keep_env + 1,
		sizeof *env);
	const char *v;
	size_t i, n = 0;

	for (i = 0; worker_keep_env[i] != NULL; i++) {
		if ((v = getenv(worker_keep_env[i])) != NULL)
			xasprintf(&env[n++], "%s=%s", worker_keep_env[i], v);
	}
	if (log_level() == LEVEL_DEBUG) /* objtrigger -v */
		env[n++] = xstrdup("OBJTRIGGER_LOG_LEVEL=debug");
	return env;
}

/* In the child: becomes a worker, its own process group, with fd 3 and a
 * clean environment. */
static void
worker_exec(const char *exe, int fd, pid_t parent)
{
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (fd == 3)
		fcntl(fd, F_SETFD, 0);
	else if (dup2(fd, 3) != 3)
		_exit(1);
	dup2(2, 1); /* what plugins print is log, never a command's output */
	execle(exe, "objtrigger", "worker", (char *)NULL, worker_environment());
	fprintf(stderr, "objtrigger: cannot run %s as a worker: %s\n", exe,
	    strerror(errno));
	_exit(127);
}

static int
worker_spawn(struct worker_pool *pool, struct worker *w, char **cause)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		xasprintf(cause, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		worker_exec(pool->exe, sv[1], parent);
	}
	setpgid(pid, pid);
	close(sv[1]);
	w->pid = pid;
	w->fd = sv[0];
	w->job = NULL;
	log_debug("worker %ld started", (long)pid);
	return 0;
}

/* Says in plain words why a worker ended. */
static char *
worker_death(const struct worker_pool *pool, int status,
    const struct rusage *ru)
{
	uint64_t peak = (uint64_t)ru->ru_maxrss * 1024;
	char *s, limit[32], used[32];
	int sig;

	units_format_size(pool->limits.memory, limit, sizeof limit);
	units_format_size(peak - peak % (1 << 20), used, sizeof used);
	if (pool->limits.memory != 0 && peak >= pool->limits.memory / 10 * 9) {
		xasprintf(&s, "ran out of memory (limit %s, peak %s)", limit,
		    used);
		return s;
	}
	if (WIFEXITED(status)) {
		xasprintf(&s, "worker exited unexpectedly with status %d",
		    WEXITSTATUS(status));
		return s;
	}
	sig = WTERMSIG(status);
	if (sig == SIGXCPU)
		xasprintf(&s, "used more than its CPU time (limit %s)",
		    units_format_duration(pool->limits.cpu_ms, limit,
			sizeof limit));
	else if (sig == SIGXFSZ)
		xasprintf(&s, "wrote a file larger than the limit (%s)",
		    units_format_size(pool->limits.file_size, limit,
			sizeof limit));
	else
		xasprintf(&s, "worker crashed: signal %d (%s)", sig,
		    strsignal(sig));
	return s;
}

/* Kills what the commands of a dead worker left running: they came to
 * us (reaper.c). */
static void
worker_pool_sweep(const struct worker_pool *pool)
{
	pid_t *live = xcalloc(pool->count, sizeof *live);
	unsigned i, n = 0, killed;

	for (i = 0; i < pool->count; i++) {
		if (pool->workers[i].pid != 0)
			live[n++] = pool->workers[i].pid;
	}
	if ((killed = reaper_sweep(live, n)) > 0)
		log_debug("killed %u processes a dead worker's job left",
		    killed);
	free(live);
}

/* Kills a worker's process group, reaps it and empties the slot.
 * Returns why it ended (allocated), unless it was killed for a timeout. */
static char *
worker_reap(struct worker_pool *pool, struct worker *w, int timed_out)
{
	struct rusage ru;
	int status = 0;
	char *why = NULL, took[32];

	kill(-w->pid, SIGKILL);
	while (wait4(w->pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (timed_out)
		xasprintf(&why, "timed out after %s and was killed",
		    units_format_duration(pool->limits.timeout_ms, took,
			sizeof took));
	else
		why = worker_death(pool, status, &ru);
	log_debug("worker %ld ended: %s", (long)w->pid, why);
	close(w->fd);
	w->pid = 0;
	w->fd = -1;
	w->job = NULL; /* and w->next goes to the next worker in the slot */
	worker_pool_sweep(pool);
	return why;
}

static void
worker_pool_finish(struct job *job, enum ot_status status, char *message)
{
	job->status = status;
	job->message = message;
	if (job->done != NULL)
		job->done(job);
}

/* Sends a request to a worker of the pool, starting one if needed;
 * returns the worker, or NULL with *cause when none could take it. */
static struct worker *
worker_pool_send(struct worker_pool *pool, const struct wire_msg *req,
    char **cause)
{
	struct worker *w = NULL;
	unsigned i;
	int tries;

	for (i = 0; i < pool->count && w == NULL; i++) {
		if (pool->workers[i].pid != 0 && pool->workers[i].job == NULL)
			w = &pool->workers[i];
	}
	for (i = 0; i < pool->count && w == NULL; i++) {
		if (pool->workers[i].pid == 0)
			w = &pool->workers[i];
	}
	if (w == NULL) {
		*cause = xstrdup("every worker is busy");
		return NULL;
	}
	for (tries = 0; tries < 2; tries++) {
		if (w->pid == 0 && worker_spawn(pool, w, cause) != 0) {
			free(pool->broken);
			pool->broken = xstrdup(*cause);
			return NULL;
		}
		free(pool->broken);
		pool->broken = NULL;
		if (wire_send(w->fd, req) == 0) {
			w->deadline = now_ms() + pool->limits.timeout_ms;
			return w;
		}
		free(worker_reap(pool, w, 0)); /* it died while idle */
	}
	xasprintf(cause, "cannot reach a worker: %s", strerror(errno));
	return NULL;
}

static void
worker_pool_request(struct worker_pool *pool, const struct job *job,
    struct wire_msg *m)
{
	const struct worker_limits *l = &pool->limits;
	const struct job_input *in;
	size_t i;

	wire_add(m, "op", "run");
	wire_add(m, "id", "%s", job->id);
	wire_add(m, "trigger", "%s", job->trigger);
	wire_add(m, "plugin", "%s", job->plugin);
	wire_add(m, "plugin-dir", "%s", pool->plugin_dir);
	wire_add(m, "outdir", "%s", job->outdir);
	wire_add(m, "tmpdir", "%s", job->tmpdir);
	if (job->flush_outputs)
		wire_add(m, "flush-outputs", "yes");
	wire_add(m, "memory", "%" PRIu64, l->memory);
	wire_add(m, "cpu-ms", "%" PRIu64, l->cpu_ms);
	wire_add(m, "file-size", "%" PRIu64, l->file_size);
	wire_add(m, "open-files", "%u", l->open_files);
	for (i = 0; i < job->nparams; i++) {
		wire_add(m, "param", "%s", job->params[i].name);
		wire_add(m, "value", "%s", job->params[i].value);
	}
	for (i = 0; i < job->ninputs; i++) {
		in = &job->inputs[i];
		wire_add(m, "input", "%s", in->path);
		wire_add(m, "key", "%s", in->key);
		wire_add(m, "bucket", "%s", in->bucket);
		wire_add(m, "event", "%s", in->event);
		wire_add(m, "size", "%" PRIu64, in->size);
		if (in->etag != NULL)
			wire_add(m, "etag", "%s", in->etag);
		if (in->has_version)
			wire_add(m, "version",
			    "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64,
			    in->dev, in->inode, in->size, in->mtime);
		if (in->source != NULL)
			wire_add(m, "source", "%s", in->source);
		if (in->time_ms != 0)
			wire_add(m, "time", "%" PRId64, in->time_ms);
	}
	wire_append(m, job->extra);
}

/* Why workers cannot be started, if the last try failed; else NULL. */
const char *
worker_pool_broken(const struct worker_pool *pool)
{
	return pool->broken;
}

/* Starts a job; -1 when every worker is busy (or none can be started:
 * then the job has already ended, with the reason). */
int
worker_pool_submit(struct worker_pool *pool, struct job *job)
{
	struct wire_msg req;
	struct worker *w;
	char *cause = NULL;

	wire_init(&req);
	worker_pool_request(pool, job, &req);
	w = worker_pool_send(pool, &req, &cause);
	wire_clear(&req);
	if (w == NULL) {
		if (worker_pool_busy(pool) < pool->count) {
			worker_pool_finish(job, OT_RETRY, cause);
			return 0;
		}
		free(cause);
		return -1;
	}
	w->job = job;
	return 0;
}

static void
worker_pool_warm_done(struct job *job)
{
	free(job->message);
	job->message = NULL;
	wire_clear(&job->reply);
}

/* Starts the workers not started yet, and has each load plugins and make
 * an instance of each with a trigger's parameters. A worker counts as
 * busy until it has; a job waits for it as for any other. */
void
worker_pool_warm(struct worker_pool *pool, const struct worker_warm *plugins,
    size_t n)
{
	const struct worker_limits *l = &pool->limits;
	struct wire_msg req;
	struct worker *w;
	char *cause;
	size_t i, k;

	wire_init(&req);
	wire_add(&req, "op", "warm");
	wire_add(&req, "plugin-dir", "%s", pool->plugin_dir);
	wire_add(&req, "memory", "%" PRIu64, l->memory);
	wire_add(&req, "cpu-ms", "%" PRIu64, l->cpu_ms);
	wire_add(&req, "file-size", "%" PRIu64, l->file_size);
	wire_add(&req, "open-files", "%u", l->open_files);
	for (i = 0; i < n; i++) {
		wire_add(&req, "plugin", "%s", plugins[i].plugin);
		for (k = 0; k < plugins[i].nparams; k++) {
			wire_add(&req, "param", "%s",
			    plugins[i].params[k].name);
			wire_add(&req, "value", "%s",
			    plugins[i].params[k].value);
		}
	}
	for (i = 0; i < pool->count; i++) {
		w = &pool->workers[i];
		if (w->pid != 0)
			continue;
		if (worker_spawn(pool, w, &cause) != 0) {
			free(cause); /* the first job reports it */
			break;
		}
		if (wire_send(w->fd, &req) != 0) {
			free(worker_reap(pool, w, 0));
			continue;
		}
		memset(&w->warm, 0, sizeof w->warm);
		w->warm.trigger = (char *)""; /* no job queues behind it */
		w->warm.done = worker_pool_warm_done;
		w->job = &w->warm;
		w->deadline = now_ms() + l->timeout_ms;
	}
	wire_clear(&req);
}

/* Whether a job of trigger can be sent behind a running one of the same
 * trigger (the trigger's concurrency stays as it is), on a worker with
 * none waiting yet. */
int
worker_pool_can_queue(const struct worker_pool *pool, const char *trigger)
{
	const struct worker *w;
	unsigned i;

	for (i = 0; i < pool->count; i++) {
		w = &pool->workers[i];
		if (w->job != NULL && w->next == NULL &&
		    strcmp(w->job->trigger, trigger) == 0)
			return 1;
	}
	return 0;
}

/* Sends a job behind a running one, as worker_pool_can_queue allows; it
 * is not busy until it starts, when job->started is called. A request too
 * big for the socket's buffer is held here and sent then. Returns -1 if
 * no worker can take it. */
int
worker_pool_queue(struct worker_pool *pool, struct job *job)
{
	struct worker *w = NULL;
	struct wire_msg req;
	unsigned i;

	for (i = 0; i < pool->count && w == NULL; i++) {
		w = &pool->workers[i];
		if (w->job == NULL || w->next != NULL ||
		    strcmp(w->job->trigger, job->trigger) != 0)
			w = NULL;
	}
	if (w == NULL)
		return -1;
	wire_init(&req);
	worker_pool_request(pool, job, &req);
	/* A worker that died has it sent again, to the next worker. */
	w->next_sent =
	    req.len <= WORKER_NEXT_MAX && wire_send(w->fd, &req) == 0;
	wire_clear(&req);
	w->next = job;
	return 0;
}

/* Starts the job that waits behind a worker's last one, if any: on the
 * same worker, or on another if it died. */
static void
worker_pool_next(struct worker_pool *pool, struct worker *w)
{
	struct job *job = w->next;
	struct wire_msg req;
	char *cause = NULL;

	if (job == NULL)
		return;
	w->next = NULL;
	if (w->pid == 0 || !w->next_sent) {
		wire_init(&req);
		worker_pool_request(pool, job, &req);
		w = worker_pool_send(pool, &req, &cause);
		wire_clear(&req);
		if (w == NULL) {
			worker_pool_finish(job, OT_RETRY, cause);
			return;
		}
	} else
		w->deadline = now_ms() + pool->limits.timeout_ms;
	w->job = job;
	if (job->started != NULL)
		job->started(job);
}

/* Reads a worker's answer; NULL with *cause if the worker died. */
static int
worker_answer(struct worker_pool *pool, struct worker *w, struct wire_msg *res,
    char **cause)
{
	if (wire_recv(w->fd, res) == 0)
		return 0;
	*cause = worker_reap(pool, w, 0);
	return -1;
}

static enum ot_status
worker_status(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof status_names / sizeof *status_names;
	     i++) {
		if (strcmp(s, status_names[i]) == 0)
			return (enum ot_status)i;
	}
	return OT_FATAL;
}

static void
worker_pool_collect(struct worker_pool *pool, struct worker *w)
{
	struct job *job = w->job;
	struct wire_msg res;
	enum ot_status status;
	const char *msg;
	char *cause, *message;

	wire_init(&res);
	if (worker_answer(pool, w, &res, &cause) != 0) {
		worker_pool_next(pool, w);
		worker_pool_finish(job, OT_RETRY, cause);
		return;
	}
	w->job = NULL;
	status = worker_status(wire_get(&res, "status"));
	msg = wire_get(&res, "message");
	if (status == OT_FATAL) /* the worker exits after a fatal job */
		free(worker_reap(pool, w, 0));
	worker_pool_next(pool, w); /* before this job's end is handled */
	message = status == OT_OK ?
	    NULL :
	    xstrdup(msg != NULL ? msg : "no reason given");
	wire_clear(&job->reply);
	job->reply = res; /* its owner reads the rest, and clears it */
	worker_pool_finish(job, status, message);
}

unsigned
worker_pool_busy(const struct worker_pool *pool)
{
	unsigned i, n = 0;

	for (i = 0; i < pool->count; i++)
		n += pool->workers[i].job != NULL;
	return n;
}

/* Fills pfd (room for the pool's count) with the busy workers' sockets;
 * returns how many, and sets *wait_ms to the time to the next deadline
 * (-1: none). */
size_t
worker_pool_fds(const struct worker_pool *pool, struct pollfd *pfd,
    int *wait_ms)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	size_t n = 0;
	unsigned i;

	for (i = 0; i < pool->count; i++) {
		const struct worker *w = &pool->workers[i];
		if (w->job == NULL)
			continue;
		if (w->deadline < next)
			next = w->deadline;
		pfd[n].fd = w->fd;
		pfd[n++].events = POLLIN;
	}
	if (next == UINT64_MAX)
		*wait_ms = -1;
	else
		*wait_ms = next <= now ?
		    0 :
		    (int)(next - now > INT32_MAX ? INT32_MAX : next - now);
	return n;
}

/* Ends the jobs whose worker answered (per pfd, as polled) or whose
 * deadline passed; returns how many ended. */
int
worker_pool_dispatch(struct worker_pool *pool, const struct pollfd *pfd,
    size_t n)
{
	uint64_t now = now_ms();
	int ended = 0;
	unsigned i;
	size_t j;

	for (i = 0; i < pool->count; i++) {
		struct worker *w = &pool->workers[i];
		short revents = 0;
		if (w->job == NULL)
			continue;
		for (j = 0; j < n; j++) {
			if (pfd[j].fd == w->fd)
				revents = pfd[j].revents;
		}
		if (revents != 0) {
			worker_pool_collect(pool, w);
			ended++;
		} else if (w->deadline <= now) {
			struct job *job = w->job;
			char *why = worker_reap(pool, w, 1);
			worker_pool_next(pool, w);
			worker_pool_finish(job, OT_RETRY, why);
			ended++;
		}
	}
	return ended;
}

/* Waits up to timeout_ms (-1: until a job ends) for answers and deadlines;
 * returns how many jobs ended. */
int
worker_pool_wait(struct worker_pool *pool, int timeout_ms)
{
	struct pollfd *pfd = xcalloc(pool->count, sizeof *pfd);
	size_t n;
	int ended = 0, wait;

	n = worker_pool_fds(pool, pfd, &wait);
	if (n > 0) {
		if (timeout_ms >= 0 && (wait < 0 || timeout_ms < wait))
			wait = timeout_ms;
		if (poll(pfd, n, wait) < 0 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		ended = worker_pool_dispatch(pool, pfd, n);
	}
	free(pfd);
	return ended;
}

/* Kills every running job's worker; their jobs end as retries. */
void
worker_pool_abort(struct worker_pool *pool, const char *why)
{
	unsigned i;

	for (i = 0; i < pool->count; i++) {
		struct worker *w = &pool->workers[i];
		if (w->job != NULL) {
			struct job *job = w->job, *next = w->next;
			w->next = NULL;
			free(worker_reap(pool, w, 0));
			worker_pool_finish(job, OT_RETRY, xstrdup(why));
			if (next != NULL)
				worker_pool_finish(next, OT_RETRY,
				    xstrdup(why));
		}
	}
}

unsigned
worker_pool_size(const struct worker_pool *pool)
{
	return pool->count;
}

static void
worker_pool_run_done(struct job *job)
{
	*(int *)job->arg = 1;
}

/* Runs one job to its end. */
void
worker_pool_run(struct worker_pool *pool, struct job *job)
{
	int done = 0;

	job->done = worker_pool_run_done;
	job->arg = &done;
	while (worker_pool_submit(pool, job) != 0)
		worker_pool_wait(pool, -1);
	while (!done)
		worker_pool_wait(pool, -1);
}

/* Asks a worker what a plugin is and takes; NULL with *cause if it
 * cannot be loaded. */
struct plugin_info *
worker_pool_describe(struct worker_pool *pool, const char *plugin,
    const struct param_value *v, size_t n, char **cause)
{
	struct plugin_info *info = NULL;
	struct wire_msg req, res;
	struct worker *w;
	struct pollfd pfd;
	char *why = NULL;
	size_t i;
	int wait;

	*cause = NULL;
	if (plugin_check_file(pool->plugin_dir, plugin, cause) != 0)
		return NULL;
	wire_init(&req);
	wire_init(&res);
	wire_add(&req, "op", "describe");
	wire_add(&req, "plugin", "%s", plugin);
	wire_add(&req, "plugin-dir", "%s", pool->plugin_dir);
	for (i = 0; i < n; i++) { /* for the plugin's check() */
		wire_add(&req, "param", "%s", v[i].name);
		wire_add(&req, "value", "%s", v[i].value);
	}
	w = worker_pool_send(pool, &req, cause);
	wire_clear(&req);
	if (w == NULL)
		return NULL;
	pfd.fd = w->fd;
	pfd.events = POLLIN;
	wait = (int)(pool->limits.timeout_ms > INT32_MAX ?
		INT32_MAX :
		pool->limits.timeout_ms);
	while (poll(&pfd, 1, wait) < 0 && errno == EINTR)
		;
	if (pfd.revents == 0)
		why = worker_reap(pool, w, 1);
	else if (worker_answer(pool, w, &res, &why) == 0) {
		if (strcmp(wire_get(&res, "status") ?: "", "ok") == 0)
			info = plugin_info_from_wire(&res);
		else
			*cause = xstrdup(wire_get(&res, "message") ?:
				"the worker gave no reason");
	}
	if (why != NULL) {
		xasprintf(cause, "plugin '%s' could not be loaded: %s", plugin,
		    why);
		free(why);
	}
	wire_clear(&res);
	return info;
}

void
worker_pool_free(struct worker_pool *pool)
{
	unsigned i;

	if (pool == NULL)
		return;
	for (i = 0; i < pool->count; i++) {
		struct worker *w = &pool->workers[i];
		int status;
		if (w->pid == 0)
			continue;
		if (w->job != NULL) /* still running: it would not notice */
			kill(-w->pid, SIGKILL);
		close(w->fd); /* an idle worker exits at end of file */
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	free(pool->workers);
	free(pool->plugin_dir);
	free(pool->exe);
	free(pool->broken);
	free(pool);
}
