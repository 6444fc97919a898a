/* host.c - the functions a transform may call, as a worker provides them. */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "objtrigger.h"
#include "cfg.h"
#include "units.h"

static void host_log(struct ot_context *, enum ot_log_level, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static enum ot_status host_fail(struct ot_context *, enum ot_status,
    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
host_log(struct ot_context *ctx, enum ot_log_level level, const char *fmt, ...)
{
	char *line;
	va_list ap;

	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	if (level > OT_LOG_DEBUG)
		level = OT_LOG_DEBUG;
	/* ot_log_level and log_level share their order. */
	log_write_job((enum log_level)level, ctx->transform->name, ctx->job_id,
	    ctx->trigger, line);
	free(line);
}

static enum ot_status
host_fail(struct ot_context *ctx, enum ot_status status, const char *fmt, ...)
{
	va_list ap;

	free(ctx->message);
	va_start(ap, fmt);
	xvasprintf(&ctx->message, fmt, ap);
	va_end(ap);
	return status;
}

static const struct ot_param *
host_declared(struct ot_context *ctx, const char *name)
{
	const struct ot_param *p;

	for (p = ctx->transform->params; p != NULL && p->name != NULL; p++) {
		if (strcmp(p->name, name) == 0)
			return p;
	}
	return NULL;
}

static size_t
host_param_count(struct ot_context *ctx, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < ctx->nparams; i++)
		n += strcmp(ctx->params[i].name, name) == 0;
	return n;
}

static const char *
host_param_at(struct ot_context *ctx, const char *name, size_t at)
{
	size_t i;

	for (i = 0; i < ctx->nparams; i++) {
		if (strcmp(ctx->params[i].name, name) == 0 && at-- == 0)
			return ctx->params[i].value;
	}
	return NULL;
}

static const char *
host_param(struct ot_context *ctx, const char *name)
{
	const struct ot_param *p;
	const char *v = host_param_at(ctx, name, 0);

	if (v != NULL)
		return v;
	p = host_declared(ctx, name);
	return p != NULL ? p->default_value : NULL;
}

/* Values were checked when the config was loaded: parse errors are 0. */
static int64_t
host_param_int(struct ot_context *ctx, const char *name)
{
	const char *v = host_param(ctx, name);
	char *cause = NULL;
	int64_t n = 0;

	if (v != NULL &&
	    units_parse_int(v, INT64_MIN, INT64_MAX, &n, &cause) != 0)
		n = 0;
	free(cause);
	return n;
}

static int
host_param_bool(struct ot_context *ctx, const char *name)
{
	const char *v = host_param(ctx, name);
	char *cause = NULL;
	int b = 0;

	if (v != NULL && units_parse_bool(v, &b, &cause) != 0)
		b = 0;
	free(cause);
	return b;
}

static uint64_t
host_param_unit(struct ot_context *ctx, const char *name,
    int (*parse)(const char *, uint64_t *, char **))
{
	const char *v = host_param(ctx, name);
	char *cause = NULL;
	uint64_t n = 0;

	if (v != NULL && parse(v, &n, &cause) != 0)
		n = 0;
	free(cause);
	return n;
}

static uint64_t
host_param_size(struct ot_context *ctx, const char *name)
{
	return host_param_unit(ctx, name, units_parse_size);
}

static uint64_t
host_param_duration_ms(struct ot_context *ctx, const char *name)
{
	return host_param_unit(ctx, name, units_parse_duration);
}

/* Sets a limit as soft and hard (hard + slack: see below), never above
 * the hard one now. */
static int
host_hard_limit(int resource, uint64_t value, uint64_t slack)
{
	struct rlimit rl;

	if (value == 0)
		return 0;
	if (getrlimit(resource, &rl) != 0)
		return -1;
	if (rl.rlim_max == RLIM_INFINITY || value + slack < rl.rlim_max)
		rl.rlim_max = (rlim_t)(value + slack);
	rl.rlim_cur = rl.rlim_max - slack;
	return setrlimit(resource, &rl);
}

/* The CPU limit's hard one is a second above: the kernel sends SIGXCPU
 * at the soft one, so the message says why, and SIGKILL at the hard. */
static int
host_child_setup(struct ot_context *ctx, int keep)
{
	if (setpgid(0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
	    host_hard_limit(RLIMIT_AS, ctx->memory, 0) != 0 ||
	    host_hard_limit(RLIMIT_CPU, (ctx->cpu_ms + 999) / 1000, 1) != 0 ||
	    host_hard_limit(RLIMIT_FSIZE, ctx->file_size, 0) != 0 ||
	    host_hard_limit(RLIMIT_NOFILE, ctx->open_files, 0) != 0)
		return -1;
	return close_range((unsigned)keep, ~0U, 0);
}

static const char *
host_template_unknown(const char *tmpl, const char *const *known)
{
	size_t i;

	for (tmpl = strchr(tmpl, '{'); tmpl != NULL;
	     tmpl = strchr(tmpl + 1, '{')) {
		for (i = 0; known[i] != NULL; i++) {
			if (strncmp(tmpl, known[i], strlen(known[i])) == 0)
				break;
		}
		if (known[i] == NULL)
			return tmpl;
	}
	return NULL;
}

static const struct ot_event *
host_event(struct ot_context *ctx, size_t i)
{
	if (ctx->make_events != NULL) {
		ctx->make_events(ctx);
		ctx->make_events = NULL;
	}
	return i < ctx->nevents ? &ctx->events[i] : NULL;
}

static int
host_read_secret(struct ot_context *ctx, const char *path, char *buf,
    size_t len)
{
	char *secret, *cause;
	size_t n;

	if (cfg_read_secret(path, &secret, &cause) != 0) {
		host_fail(ctx, OT_REJECT, "%s", cause);
		free(cause);
		return -1;
	}
	n = strlen(secret);
	if (n >= len)
		host_fail(ctx, OT_REJECT, "the secret in %s is too long", path);
	else
		memcpy(buf, secret, n + 1);
	explicit_bzero(secret, n);
	free(secret);
	return n < len ? 0 : -1;
}

static void
host_retry_after(struct ot_context *ctx, uint64_t ms)
{
	ctx->retry_after_ms = ms;
}

const struct ot_host host_functions = {
	.abi_major = OT_ABI_MAJOR,
	.abi_minor = OT_ABI_MINOR,
	.log = host_log,
	.fail = host_fail,
	.param = host_param,
	.param_count = host_param_count,
	.param_at = host_param_at,
	.param_int = host_param_int,
	.param_bool = host_param_bool,
	.param_size = host_param_size,
	.param_duration_ms = host_param_duration_ms,
	.child_setup = host_child_setup,
	.template_unknown = host_template_unknown,
	.event = host_event,
	.read_secret = host_read_secret,
	.retry_after = host_retry_after,
};
