/* worker.c - the worker process: loads transforms and runs jobs. */

/*
 * A worker is objtrigger re-executed as "objtrigger worker" with its end of
 * a socket pair on descriptor 3. It answers one request at a time until the
 * daemon closes the socket. Each job runs under the limits the request
 * carries, so that a crash, a hang or a bomb costs this process only.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objtrigger.h"

static const char *status_names[] = { "ok", "retry", "reject", "fatal" };

/* The transforms this worker has loaded; their handles stay open. */
struct worker_plugin {
	char *name;
	const struct ot_transform *transform;
};
static struct worker_plugin *worker_plugins;
static size_t worker_nplugins;

static const struct ot_transform *
worker_plugin(const char *dir, const char *name, char **cause)
{
	const struct ot_transform *t;
	size_t i;

	if (dir == NULL || name == NULL) {
		xasprintf(cause, "malformed request: no plugin");
		return NULL;
	}
	for (i = 0; i < worker_nplugins; i++) {
		if (strcmp(worker_plugins[i].name, name) == 0)
			return worker_plugins[i].transform;
	}
	if ((t = plugin_open(dir, name, cause)) == NULL)
		return NULL;
	worker_plugins = xreallocarray(worker_plugins, worker_nplugins + 1,
	    sizeof *worker_plugins);
	worker_plugins[worker_nplugins].name = xstrdup(name);
	worker_plugins[worker_nplugins++].transform = t;
	return t;
}

static uint64_t
worker_field_u64(const struct wire_msg *m, const char *name)
{
	const char *v = wire_get(m, name);

	return v != NULL ? strtoull(v, NULL, 10) : 0;
}

/* Lowers a soft limit; the hard limit stays so the next job can raise it.
 * A limit that is already so is left. */
static void
worker_set_limit(int resource, rlim_t value)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) != 0)
		return;
	if (value > rl.rlim_max)
		value = rl.rlim_max;
	if (rl.rlim_cur == value)
		return;
	rl.rlim_cur = value;
	if (setrlimit(resource, &rl) != 0)
		log_warn("setrlimit %d: %s", resource, strerror(errno));
}

/* The address space now: limits count from here, since a sanitizer or a
 * loaded library may already hold much of it. */
static uint64_t
worker_vm_size(void)
{
	static int fd = -1; /* kept: read again for each job */
	char buf[128];
	ssize_t n;

	if (fd < 0)
		fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = pread(fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	return (uint64_t)strtoull(buf, NULL, 10) *
	    (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The job's limits for this process; a batch opens all its inputs at
 * once (ninputs), whatever the open-files limit its commands get. */
static void
worker_apply_limits(const struct wire_msg *m, size_t ninputs)
{
	uint64_t memory = worker_field_u64(m, "memory");
	uint64_t cpu_ms = worker_field_u64(m, "cpu-ms");
	uint64_t fsize = worker_field_u64(m, "file-size");
	uint64_t nofile = worker_field_u64(m, "open-files");
	struct rusage ru;

	worker_set_limit(RLIMIT_AS,
	    memory != 0 ? worker_vm_size() + memory : RLIM_INFINITY);
	if (cpu_ms != 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		worker_set_limit(RLIMIT_CPU,
		    (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1 +
			(cpu_ms + 999) / 1000));
	else
		worker_set_limit(RLIMIT_CPU, RLIM_INFINITY);
	worker_set_limit(RLIMIT_FSIZE, fsize != 0 ? fsize : RLIM_INFINITY);
	if (nofile != 0)
		worker_set_limit(RLIMIT_NOFILE,
		    ninputs + 64 > nofile ? ninputs + 64 : nofile);
}

/* The version of a file the journal queued (folder watches). */
struct worker_version {
	int given;
	uint64_t dev, inode, size;
	int64_t mtime; /* ns */
};

/* Where an input's event came from: its key as parsed (the same pointer
 * after inputs are taken out of the job), the watch's URI, its time. */
struct worker_origin {
	const char *key;
	const char *source;
	int64_t time_ms;
};

/* Everything one run request holds, parsed into ABI structures. */
struct worker_job {
	struct ot_job job;
	struct ot_input *inputs;
	struct worker_version *versions; /* one per input */
	struct worker_origin *origins; /* one per input of the request */
	size_t norigins;
	struct ot_event *events; /* one per input left to run */
	size_t nevents;
	struct param_value *params;
	size_t nparams;
	int empty; /* fetch="no": empty inputs, with their events' sizes */
};

static void
worker_version_parse(const char *s, struct worker_version *v)
{
	v->given = sscanf(s, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64,
		       &v->dev, &v->inode, &v->size, &v->mtime) == 4;
}

static void
worker_job_parse(const struct wire_msg *m, struct worker_job *wj)
{
	struct ot_input *in = NULL;
	const struct wire_field *f;
	size_t i;

	memset(wj, 0, sizeof *wj);
	wj->job.id = wire_get(m, "id");
	wj->job.trigger = wire_get(m, "trigger");
	wj->job.outdir = wire_get(m, "outdir");
	wj->job.tmpdir = wire_get(m, "tmpdir");
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (strcmp(f->name, "param") == 0 && i + 1 < m->nfields) {
			wj->params = xreallocarray(wj->params, wj->nparams + 1,
			    sizeof *wj->params);
			wj->params[wj->nparams].name = f->value;
			wj->params[wj->nparams++].value = m->fields[++i].value;
		} else if (strcmp(f->name, "input") == 0) {
			wj->inputs = xreallocarray(wj->inputs,
			    wj->job.count + 1, sizeof *wj->inputs);
			wj->versions = xreallocarray(wj->versions,
			    wj->job.count + 1, sizeof *wj->versions);
			memset(&wj->versions[wj->job.count], 0,
			    sizeof *wj->versions);
			wj->origins = xreallocarray(wj->origins,
			    wj->job.count + 1, sizeof *wj->origins);
			memset(&wj->origins[wj->job.count], 0,
			    sizeof *wj->origins);
			in = &wj->inputs[wj->job.count++];
			memset(in, 0, sizeof *in);
			in->fd = -1;
			in->path = in->key = f->value;
			in->bucket = in->event = "";
		} else if (in == NULL)
			continue;
		else if (strcmp(f->name, "key") == 0)
			in->key = f->value;
		else if (strcmp(f->name, "bucket") == 0)
			in->bucket = f->value;
		else if (strcmp(f->name, "event") == 0)
			in->event = f->value;
		else if (strcmp(f->name, "etag") == 0)
			in->etag = f->value;
		else if (strcmp(f->name, "size") == 0)
			in->size = strtoull(f->value, NULL, 10);
		else if (strcmp(f->name, "version") == 0)
			worker_version_parse(f->value,
			    &wj->versions[wj->job.count - 1]);
		else if (strcmp(f->name, "source") == 0)
			wj->origins[wj->job.count - 1].source = f->value;
		else if (strcmp(f->name, "time") == 0)
			wj->origins[wj->job.count - 1].time_ms =
			    strtoll(f->value, NULL, 10);
	}
	for (i = 0; i < wj->job.count; i++)
		wj->origins[i].key = wj->inputs[i].key;
	wj->norigins = wj->job.count;
	wj->job.inputs = wj->inputs;
	wj->empty = wire_get(m, "fetch") != NULL &&
	    strcmp(wire_get(m, "fetch"), "no") == 0;
}

static void
worker_job_free(struct worker_job *wj)
{
	while (wj->nevents > 0)
		worker_event_clear(&wj->events[--wj->nevents]);
	free(wj->events);
	free(wj->inputs);
	free(wj->versions);
	free(wj->origins);
	free(wj->params);
}

/* Makes the events of the inputs left in the job (ctx->job), when the
 * plugin first asks for one, in their order: those taken out kept their
 * order, and their keys are the pointers parsed. What tells a version of
 * an object from another: its ETag and size; of a file, its inode, size
 * and time (its size and time with fetch="no"). */
static void
worker_job_events(struct ot_context *ctx)
{
	struct worker_job *wj = ctx->job;
	const struct worker_version *v;
	const struct ot_input *in;
	char version[256];
	size_t i = 0, k;

	wj->events = xcalloc(wj->job.count, sizeof *wj->events);
	for (k = 0; k < wj->job.count; k++) {
		in = &wj->inputs[k];
		while (i < wj->norigins && wj->origins[i].key != in->key)
			i++;
		if (i == wj->norigins)
			break; /* not the request's: no event */
		v = &wj->versions[i];
		if (v->given)
			snprintf(version, sizeof version,
			    "%" PRIu64 " %" PRIu64 " %" PRId64, v->inode,
			    v->size, v->mtime);
		else if (in->etag != NULL)
			snprintf(version, sizeof version, "%.200s %" PRIu64,
			    in->etag, in->size);
		else
			snprintf(version, sizeof version,
			    "%" PRIu64 " %" PRId64, in->size,
			    wj->origins[i].time_ms);
		worker_event_make(&wj->events[k], in, wj->origins[i].source,
		    wj->origins[i].time_ms, version);
	}
	wj->nevents = k;
	ctx->events = wj->events;
	ctx->nevents = wj->nevents;
}

/* Whether a plugin has check(): from ABI 1.1, and in the descriptor it
 * built (a 1.0 one ends before it). */
static int
worker_has_check(const struct ot_transform *t)
{
	return t->abi_minor >= 1 &&
	    t->size >= offsetof(struct ot_transform, check) + sizeof t->check &&
	    t->check != NULL;
}

/* The plugin's check() of the parameters of the request, if it has one:
 * added to res as "invalid" with its reason. */
static void
worker_check_params(const struct ot_transform *t, const struct wire_msg *req,
    struct wire_msg *res)
{
	struct worker_job wj;
	struct ot_context ctx;

	if (!worker_has_check(t))
		return;
	worker_job_parse(req, &wj);
	memset(&ctx, 0, sizeof ctx);
	ctx.transform = t;
	ctx.job_id = "check";
	ctx.params = wj.params;
	ctx.nparams = wj.nparams;
	if (t->check(&host_functions, &ctx) != OT_OK)
		wire_add(res, "invalid", "%s",
		    ctx.message != NULL ? ctx.message :
					  "the plugin gave no reason");
	free(ctx.message);
	worker_job_free(&wj);
}

static void
worker_describe(const struct wire_msg *req, struct wire_msg *res)
{
	const struct ot_transform *t;
	struct plugin_info *info;
	char *cause;

	t = worker_plugin(wire_get(req, "plugin-dir"), wire_get(req, "plugin"),
	    &cause);
	if (t == NULL) {
		wire_add(res, "status", "error");
		wire_add(res, "message", "%s", cause);
		free(cause);
		return;
	}
	info = plugin_info_from(t);
	wire_add(res, "status", "ok");
	plugin_info_to_wire(info, res);
	plugin_info_free(info);
	worker_check_params(t, req, res);
}

/* Opens a file of a watched folder: key below the folder, no component
 * a link (whatever a writer swaps meanwhile). -1 with errno. */
static int
worker_open_below(const char *folder, const char *key)
{
	int dirfd, fd, error;

	if ((dirfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	fd = beneath_open(dirfd, key, O_RDONLY | O_NONBLOCK);
	error = errno;
	close(dirfd);
	errno = error;
	return fd;
}

/* Why the file opened is not the version queued, or NULL. */
static const char *
worker_version_differs(const struct stat *sb, const struct worker_version *v)
{
	if (!v->given ||
	    ((uint64_t)sb->st_dev == v->dev &&
		(uint64_t)sb->st_ino == v->inode &&
		(uint64_t)sb->st_size == v->size &&
		stat_mtime_ns(sb) == v->mtime))
		return NULL;
	return "the file changed before its job ran: the new version has "
	       "its own job";
}

/* Takes input i out of the job: named in res as "skip" (its index) and
 * "skip-why". */
static enum ot_status
worker_skip(struct ot_input *in, size_t i, const char *why,
    struct wire_msg *res, int *skip)
{
	wire_add(res, "skip", "%zu", i);
	wire_add(res, "skip-why", "%s", why);
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	*skip = 1;
	return OT_OK;
}

/* Opens one input; refuses what is not a regular file, and links on the
 * way. A file of a watch that went away or is no longer its version is
 * skipped (worker_skip). */
static enum ot_status
worker_open_input(struct worker_job *wj, size_t i, struct ot_context *ctx,
    struct wire_msg *res, int *skip)
{
	struct ot_input *in = &wj->inputs[i];
	const struct worker_version *v = &wj->versions[i];
	const char *why;
	struct stat sb;

	in->fd = v->given ? worker_open_below(in->bucket, in->key) :
			    open(in->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in->fd < 0 && errno == ENOENT && v->given)
		return worker_skip(in, i,
		    "the file went away before its job ran", res, skip);
	if (in->fd < 0 && errno == ENOENT)
		return host_functions.fail(ctx, OT_REJECT,
		    "input %s vanished before its job ran", in->path);
	if (in->fd < 0 && (errno == ELOOP || errno == EXDEV))
		return host_functions.fail(ctx, OT_REJECT,
		    "input %s is or lies under a symbolic link: not followed",
		    in->path);
	if (in->fd < 0)
		return host_functions.fail(ctx, OT_RETRY, "input %s: %s",
		    in->path, strerror(errno));
	if (fstat(in->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return host_functions.fail(ctx, OT_REJECT,
		    "input %s is not a regular file", in->path);
	if ((why = worker_version_differs(&sb, v)) != NULL)
		return worker_skip(in, i, why, res, skip);
	if (!wj->empty)
		in->size = (uint64_t)sb.st_size;
	return OT_OK;
}

/* A trigger with fetch="no": each input is an empty file of the job's,
 * at the path the daemon named; nothing is downloaded or opened. */
static enum ot_status
worker_make_empty(struct worker_job *wj, struct ot_context *ctx)
{
	size_t i;
	int fd;

	for (i = 0; i < wj->job.count; i++) {
		if ((fd = worker_s3_input_file(wj->inputs[i].path)) < 0)
			return host_functions.fail(ctx, OT_RETRY, "%s: %s",
			    wj->inputs[i].path, strerror(errno));
		close(fd);
	}
	return OT_OK;
}

/* Opens the inputs, and takes those to skip out of the job. Only folder
 * inputs can be skipped here, and those are never fetched: their index
 * is still the request's. */
static enum ot_status
worker_open_inputs(struct worker_job *wj, struct ot_context *ctx,
    struct wire_msg *res)
{
	enum ot_status status = OT_OK;
	size_t i, kept = 0;
	int skip;

	for (i = 0; i < wj->job.count && status == OT_OK; i++) {
		skip = 0;
		status = worker_open_input(wj, i, ctx, res, &skip);
		if (!skip)
			wj->inputs[kept++] = wj->inputs[i];
	}
	while (i < wj->job.count)
		wj->inputs[kept++] = wj->inputs[i++];
	wj->job.count = kept;
	return status;
}

/* Empties the job's folders before it runs; the inputs it makes itself
 * (fetched, or empty with fetch="no") have their in/N/NAME named at once.
 * Returns 0, or -1 with *why. */
static int
worker_scratch_clean(const struct worker_job *wj, int fetches, char **why)
{
	const char **names = NULL, *slash;
	size_t i, n = 0;
	int rc;

	if (wj->empty || fetches) {
		n = wj->job.count;
		names = xcalloc(n, sizeof *names);
		for (i = 0; i < n; i++) {
			slash = strrchr(wj->inputs[i].path, '/');
			names[i] = slash != NULL ? slash + 1 : NULL;
		}
	}
	rc = sink_folder_scratch_clean(wj->job.outdir, wj->job.tmpdir, names, n,
	    why);
	free(names);
	return rc;
}

/* Runs a job: its objects fetched first and its outputs put last, if it
 * has any; res gets what the daemon must know of them. */
static enum ot_status
worker_run_job(const struct ot_transform *t, struct worker_job *wj,
    const struct wire_msg *req, struct wire_msg *res, struct ot_context *ctx)
{
	struct worker_s3 *ws = worker_s3_parse(req);
	enum ot_status status = OT_OK;
	void *state = NULL;
	char *why = NULL;

	if (wj->job.count == 0 || wj->job.outdir == NULL ||
	    wj->job.tmpdir == NULL) {
		worker_s3_free(ws);
		return host_functions.fail(ctx, OT_FATAL, "malformed request");
	}
	if (worker_scratch_clean(wj, worker_s3_fetches(ws), &why) != 0)
		status = OT_RETRY;
	else if (wj->empty)
		status = worker_make_empty(wj, ctx);
	else if (worker_s3_fetches(ws))
		status = worker_s3_fetch(ws, wj->inputs, &wj->job.count,
		    wj->job.trigger, res, &why);
	if (status == OT_OK && wj->job.count > 0)
		status = worker_open_inputs(wj, ctx, res);
	ctx->make_events = worker_job_events;
	ctx->job = wj;
	if (status == OT_OK && wj->job.count > 0 && t->init != NULL)
		status = t->init(&host_functions, ctx, &state);
	if (status == OT_OK && wj->job.count > 0) {
		status = t->run(state, &host_functions, ctx, &wj->job);
		if (t->fini != NULL)
			t->fini(state);
		if (status == OT_OK)
			status = worker_s3_put(ws, &wj->job, res, &why);
	}
	if (why != NULL) {
		host_functions.fail(ctx, status, "%s", why);
		free(why);
	}
	s3_counts_take(worker_s3_count, res);
	worker_s3_free(ws);
	return status;
}

/* Loads a plugin and makes an instance of it with the parameters given,
 * under a job's limits, and frees it; what fails here fails again in a
 * job, which reports it. */
static void
worker_warm_one(const struct wire_msg *req, const char *name,
    const struct param_value *params, size_t nparams)
{
	const struct ot_transform *t;
	struct ot_context ctx;
	void *state = NULL;
	char *cause = NULL;

	t = worker_plugin(wire_get(req, "plugin-dir"), name, &cause);
	if (t == NULL) {
		log_debug("warm-up: %s", cause);
		free(cause);
		return;
	}
	worker_apply_limits(req, 0);
	memset(&ctx, 0, sizeof ctx);
	ctx.transform = t;
	ctx.job_id = "warm-up";
	ctx.params = params;
	ctx.nparams = nparams;
	if (t->init != NULL &&
	    t->init(&host_functions, &ctx, &state) == OT_OK && t->fini != NULL)
		t->fini(state);
	if (ctx.message != NULL)
		log_debug("warm-up of %s: %s", name, ctx.message);
	free(ctx.message);
}

/* Loads the plugins a request names and makes an instance of each, with
 * the parameters after its name, so that their first jobs find the
 * libraries linked and started (libvips, for one). */
static void
worker_warm(const struct wire_msg *req, struct wire_msg *res)
{
	struct param_value *params = NULL;
	const char *plugin = NULL;
	size_t i, n = 0;

	for (i = 0; i <= req->nfields; i++) {
		if (i == req->nfields ||
		    strcmp(req->fields[i].name, "plugin") == 0) {
			if (plugin != NULL)
				worker_warm_one(req, plugin, params, n);
			if (i < req->nfields)
				plugin = req->fields[i].value;
			n = 0;
		} else if (strcmp(req->fields[i].name, "param") == 0 &&
		    i + 1 < req->nfields) {
			params = xreallocarray(params, n + 1, sizeof *params);
			params[n].name = req->fields[i].value;
			params[n++].value = req->fields[++i].value;
		}
	}
	free(params);
	wire_add(res, "status", "ok");
}

/* Runs a job; returns its status, which the caller sends back. */
static enum ot_status
worker_run(const struct wire_msg *req, struct wire_msg *res)
{
	struct ot_context ctx;
	struct worker_job wj;
	const struct ot_transform *t;
	enum ot_status status;
	char *cause;
	size_t i;

	worker_job_parse(req, &wj);
	memset(&ctx, 0, sizeof ctx);
	ctx.job_id = wj.job.id;
	ctx.trigger = wj.job.trigger;
	ctx.params = wj.params;
	ctx.nparams = wj.nparams;
	t = worker_plugin(wire_get(req, "plugin-dir"), wire_get(req, "plugin"),
	    &cause);
	if (t == NULL) {
		status = OT_FATAL;
		ctx.message = cause;
	} else {
		ctx.transform = t;
		ctx.memory = worker_field_u64(req, "memory");
		ctx.cpu_ms = worker_field_u64(req, "cpu-ms");
		ctx.file_size = worker_field_u64(req, "file-size");
		ctx.open_files = worker_field_u64(req, "open-files");
		worker_apply_limits(req, wj.job.count);
		status = worker_run_job(t, &wj, req, res, &ctx);
	}
	if ((unsigned)status > OT_FATAL)
		status = host_functions.fail(&ctx, OT_FATAL,
		    "plugin returned "
		    "an unknown status %d",
		    (int)status);
	for (i = 0; i < wj.job.count; i++) {
		if (wj.inputs[i].fd >= 0)
			close(wj.inputs[i].fd);
	}
	reaper_sweep(NULL, 0); /* nothing a job started outlives it */
	/* Its outputs are final now: on their way to the disk while the
	 * daemon takes the reply, which syncs them. */
	if (status == OT_OK && wire_get(req, "flush-outputs") != NULL &&
	    sink_folder_flush_outputs(wj.job.outdir, &cause) != 0) {
		status = host_functions.fail(&ctx, OT_RETRY, "%s", cause);
		free(cause);
	}
	wire_add(res, "status", "%s", status_names[status]);
	if (status != OT_OK)
		wire_add(res, "message", "%s",
		    ctx.message != NULL ? ctx.message :
					  "the plugin gave no reason");
	if (status == OT_RETRY && ctx.retry_after_ms != 0)
		wire_add(res, "retry-after", "%" PRIu64, ctx.retry_after_ms);
	free(ctx.message);
	worker_job_free(&wj);
	return status;
}

int
worker_main(int fd)
{
	struct wire_msg req, res;
	enum ot_status status = OT_OK;
	const char *op;

	fcntl(fd, F_SETFD, FD_CLOEXEC); /* commands never inherit it */
	reaper_start();
	/* No other process of the user may read its memory (the stores'
	 * keys) or its /proc files: a command runs as the same user. */
	prctl(PR_SET_DUMPABLE, 0);
	wire_init(&req);
	wire_init(&res);
	while (status != OT_FATAL && wire_recv(fd, &req) == 0) {
		wire_clear(&res);
		op = wire_get(&req, "op");
		if (op != NULL && strcmp(op, "describe") == 0)
			worker_describe(&req, &res);
		else if (op != NULL && strcmp(op, "run") == 0)
			status = worker_run(&req, &res);
		else if (op != NULL && strcmp(op, "warm") == 0)
			worker_warm(&req, &res);
		else {
			wire_add(&res, "status", "error");
			wire_add(&res, "message", "unknown request");
		}
		if (wire_send(fd, &res) != 0)
			break;
	}
	wire_clear(&req);
	wire_clear(&res);
	while (worker_nplugins > 0)
		free(worker_plugins[--worker_nplugins].name);
	free(worker_plugins);
	return 0;
}
