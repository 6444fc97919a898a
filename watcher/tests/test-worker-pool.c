/* test-worker-pool.c - crashes, hangs and hogs cost one job, not the pool. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "objtrigger.h"

struct fixture {
	char dir[64];
	char input[128];
	struct worker_pool *pool;
};

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		fail_msg("%s is not set (run through make check)", name);
	return v;
}

static void
link_plugin(const char *dir, const char *from, const char *name)
{
	char src[4096], dst[256];

	snprintf(src, sizeof src, "%s/%s.so", from, name);
	snprintf(dst, sizeof dst, "%s/plugins/%s.so", dir, name);
	assert_int_equal(symlink(src, dst), 0);
}

/* Jobs that must time out (a hang, a sleep) get a short timeout; the
 * others a long one, so that a loaded machine never times them out
 * first (a memory hog reaches its limit, a copy ends). */
#define SHORT_MS 2000
#define LONG_MS 120000

static struct fixture *
fixture_new(unsigned count, uint64_t timeout_ms)
{
	struct worker_limits limits = { .timeout_ms = timeout_ms,
		.memory = 256ULL << 20,
		.open_files = 64 };
	struct fixture *f = calloc(1, sizeof *f);
	char plugins[128];
	FILE *in;

	snprintf(f->dir, sizeof f->dir, "/tmp/test-pool-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(plugins, sizeof plugins, "%s/plugins", f->dir);
	assert_int_equal(mkdir(plugins, 0755), 0);
	link_plugin(f->dir, env("OBJTRIGGER_PLUGIN_DIR"), "copy");
	link_plugin(f->dir, env("OBJTRIGGER_PLUGIN_DIR"), "exec");
	link_plugin(f->dir, env("BROKEN_PLUGIN_DIR"), "crash");
	link_plugin(f->dir, env("BROKEN_PLUGIN_DIR"), "hang");
	link_plugin(f->dir, env("BROKEN_PLUGIN_DIR"), "hog");
	snprintf(f->input, sizeof f->input, "%s/in put.txt", f->dir);
	assert_non_null(in = fopen(f->input, "w"));
	fputs("payload\n", in);
	fclose(in);
	f->pool = worker_pool_new(env("OBJTRIGGER"), count, &limits, plugins);
	return f;
}

static void
fixture_free(struct fixture *f)
{
	worker_pool_free(f->pool);
	sink_folder_remove_tree(f->dir);
	free(f);
}

/* Prepares a job for the fixture's input into a fresh output folder. */
static void
job_init(struct fixture *f, struct job *job, struct job_input *in,
    const char *plugin, struct param_value *params, size_t nparams)
{
	static unsigned n;
	char *outdir;

	memset(job, 0, sizeof *job);
	memset(in, 0, sizeof *in);
	in->path = f->input;
	in->key = (char *)"in put.txt";
	in->bucket = f->dir;
	in->event = (char *)"created";
	xasprintf(&outdir, "%s/out%u", f->dir, n);
	assert_int_equal(mkdir(outdir, 0755), 0);
	xasprintf(&job->tmpdir, "%s/tmp%u", f->dir, n++);
	assert_int_equal(mkdir(job->tmpdir, 0700), 0);
	job->id = (char *)"test";
	job->trigger = (char *)"test";
	job->plugin = (char *)plugin;
	job->outdir = outdir;
	job->params = params;
	job->nparams = nparams;
	job->inputs = in;
	job->ninputs = 1;
}

static void
job_fini(struct job *job)
{
	free(job->outdir);
	free(job->tmpdir);
	free(job->message);
	wire_clear(&job->reply);
}

/* Runs a job and checks how it ended. */
static void
expect(struct fixture *f, const char *plugin, struct param_value *params,
    size_t nparams, enum ot_status status, const char *words)
{
	struct job_input in;
	struct job job;

	job_init(f, &job, &in, plugin, params, nparams);
	worker_pool_run(f->pool, &job);
	if (job.status != status ||
	    (words != NULL &&
		(job.message == NULL || strstr(job.message, words) == NULL)))
		fail_msg("%s: status %d, message '%s'; expected %d with '%s'",
		    plugin, job.status, job.message ? job.message : "", status,
		    words ? words : "");
	job_fini(&job);
}

static void
expect_copy_works(struct fixture *f)
{
	struct job_input in;
	struct job job;
	char path[256], buf[64] = "";
	FILE *out;

	job_init(f, &job, &in, "copy", NULL, 0);
	worker_pool_run(f->pool, &job);
	assert_int_equal(job.status, OT_OK);
	snprintf(path, sizeof path, "%s/in put.txt", job.outdir);
	assert_non_null(out = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof buf, out));
	fclose(out);
	assert_string_equal(buf, "payload\n");
	job_fini(&job);
}

/* A command that segfaults, one that sleeps past the timeout and one that
 * allocates 100 GiB each fail their job alone; the pool goes on. */
static void
test_exec_failures(void **state)
{
	struct fixture *f = fixture_new(1, LONG_MS);
	struct fixture *hasty = fixture_new(1, SHORT_MS);
	struct param_value segv[] = { { "arg", "/bin/sh" }, { "arg", "-c" },
		{ "arg", "kill -SEGV $$" } };
	struct param_value sleepy[] = { { "arg", "sleep" }, { "arg", "30" } };
	struct param_value hungry[] = { { "arg", "perl" }, { "arg", "-e" },
		{ "arg", "$x = 'x' x (100 * 2**30); print length $x" } };

	expect(f, "exec", segv, 3, OT_RETRY, "killed by signal 11");
	expect_copy_works(f);
	expect(hasty, "exec", sleepy, 2, OT_RETRY, "timed out after 2s");
	expect_copy_works(hasty);
	expect(f, "exec", hungry, 3, OT_REJECT, "Out of memory");
	expect_copy_works(f);
	fixture_free(hasty);
	fixture_free(f);
}

/* The same for plugins that crash, hang and hog memory themselves. */
static void
test_plugin_failures(void **state)
{
	struct fixture *f = fixture_new(1, LONG_MS);
	struct fixture *hasty = fixture_new(1, SHORT_MS);

	expect(f, "crash", NULL, 0, OT_RETRY, "worker crashed: signal 11");
	expect_copy_works(f);
	expect(hasty, "hang", NULL, 0, OT_RETRY, "timed out after 2s");
	expect_copy_works(hasty);
	expect(f, "hog", NULL, 0, OT_RETRY, "ran out of memory (limit 256MiB");
	expect_copy_works(f);
	expect(f, "nope", NULL, 0, OT_FATAL, "no plugin named 'nope'");
	expect_copy_works(f);
	fixture_free(hasty);
	fixture_free(f);
}

static void
test_exit_codes(void **state)
{
	struct fixture *f = fixture_new(1, LONG_MS);
	struct param_value tempfail[] = { { "arg", "/bin/sh" }, { "arg", "-c" },
		{ "arg", "echo store is down >&2; exit 75" } };
	struct param_value reject[] = { { "arg", "/bin/sh" }, { "arg", "-c" },
		{ "arg", "echo line one >&2; echo line two >&2; exit 3" } };
	struct param_value missing[] = { { "arg", "/nonexistent/cmd" } };

	expect(f, "exec", tempfail, 3, OT_RETRY,
	    "retry (exit 75): store is "
	    "down");
	expect(f, "exec", reject, 3, OT_REJECT,
	    "exited with status 3: line "
	    "one | line two");
	expect(f, "exec", missing, 1, OT_REJECT, "cannot run /nonexistent/cmd");
	fixture_free(f);
}

static void
test_vanished_input(void **state)
{
	struct fixture *f = fixture_new(1, LONG_MS);

	assert_int_equal(unlink(f->input), 0);
	expect(f, "copy", NULL, 0, OT_REJECT, "vanished");
	assert_int_equal(symlink("/etc/passwd", f->input), 0);
	expect(f, "copy", NULL, 0, OT_REJECT, "symbolic link");
	fixture_free(f);
}

static void
count_done(struct job *job)
{
	(*(int *)job->arg)++;
}

static void
test_concurrency(void **state)
{
	struct fixture *f = fixture_new(2, LONG_MS);
	struct param_value nap[] = { { "arg", "sleep" }, { "arg", "0.3" } };
	struct job_input in[3];
	struct job job[3];
	int done = 0, i;

	for (i = 0; i < 3; i++) {
		job_init(f, &job[i], &in[i], "exec", nap, 2);
		job[i].done = count_done;
		job[i].arg = &done;
	}
	assert_int_equal(worker_pool_submit(f->pool, &job[0]), 0);
	assert_int_equal(worker_pool_submit(f->pool, &job[1]), 0);
	assert_int_equal(worker_pool_busy(f->pool), 2);
	assert_int_equal(worker_pool_submit(f->pool, &job[2]), -1);
	while (done < 2)
		worker_pool_wait(f->pool, -1);
	assert_int_equal(job[0].status, OT_OK);
	assert_int_equal(job[1].status, OT_OK);
	assert_int_equal(worker_pool_submit(f->pool, &job[2]), 0);
	while (done < 3)
		worker_pool_wait(f->pool, -1);
	assert_int_equal(job[2].status, OT_OK);
	for (i = 0; i < 3; i++)
		job_fini(&job[i]);
	fixture_free(f);
}

static void
count_started(struct job *job)
{
	(*(int *)job->arg) += 100;
}

/* A job sent behind a running one of its trigger starts when that one
 * ends; if the worker dies, hangs or quits (a fatal job) first, it goes
 * to a new worker. */
static void
test_queue(void **state)
{
	struct fixture *f = fixture_new(1, SHORT_MS); /* "hang" times out */
	const char *first[] = { "copy", "crash", "hang", "nope" };
	enum ot_status ends[] = { OT_OK, OT_RETRY, OT_RETRY, OT_FATAL };
	struct job_input in[2];
	struct job job[2];
	int done[2], i;

	for (i = 0; i < 4; i++) {
		job_init(f, &job[0], &in[0], first[i], NULL, 0);
		job_init(f, &job[1], &in[1], "copy", NULL, 0);
		done[0] = done[1] = 0;
		job[0].done = job[1].done = count_done;
		job[0].started = job[1].started = count_started;
		job[0].arg = &done[0];
		job[1].arg = &done[1];
		assert_false(worker_pool_can_queue(f->pool, "test"));
		assert_int_equal(worker_pool_queue(f->pool, &job[1]), -1);
		assert_int_equal(worker_pool_submit(f->pool, &job[0]), 0);
		assert_false(worker_pool_can_queue(f->pool, "other"));
		assert_true(worker_pool_can_queue(f->pool, "test"));
		assert_int_equal(worker_pool_queue(f->pool, &job[1]), 0);
		assert_false(worker_pool_can_queue(f->pool, "test"));
		assert_int_equal(worker_pool_busy(f->pool), 1);
		while (done[0] == 0)
			worker_pool_wait(f->pool, -1);
		assert_int_equal(done[0], 1); /* ended, never "started" */
		assert_int_equal(done[1], 100); /* started, running */
		assert_int_equal(worker_pool_busy(f->pool), 1);
		while (done[1] == 100)
			worker_pool_wait(f->pool, -1);
		assert_int_equal(done[1], 101);
		assert_int_equal(job[0].status, ends[i]);
		assert_int_equal(job[1].status, OT_OK);
		assert_int_equal(worker_pool_busy(f->pool), 0);
		job_fini(&job[0]);
		job_fini(&job[1]);
	}
	fixture_free(f);
}

/* Workers started ahead load their plugins (a missing one is left for its
 * jobs to report), are busy until they have, then run jobs. */
static void
test_warm(void **state)
{
	struct fixture *f = fixture_new(2, LONG_MS);
	struct param_value nap[] = { { "arg", "sleep" }, { "arg", "0.3" } };
	struct worker_warm plugins[] = { { "copy", NULL, 0 },
		{ "exec", nap, 2 }, { "nope", NULL, 0 } };

	worker_pool_warm(f->pool, plugins, 3);
	assert_int_equal(worker_pool_busy(f->pool), 2);
	assert_false(worker_pool_can_queue(f->pool, "test"));
	while (worker_pool_busy(f->pool) > 0)
		worker_pool_wait(f->pool, -1);
	expect_copy_works(f);
	expect(f, "nope", NULL, 0, OT_FATAL, "no plugin named 'nope'");
	expect_copy_works(f);
	fixture_free(f);
}

static void
test_describe(void **state)
{
	struct fixture *f = fixture_new(1, LONG_MS);
	struct plugin_info *info;
	char *cause = NULL;

	info = worker_pool_describe(f->pool, "exec", NULL, 0, &cause);
	assert_non_null(info);
	assert_string_equal(info->name, "exec");
	assert_non_null(plugin_info_param(info, "arg"));
	assert_true(plugin_info_param(info, "arg")->flags & OT_PARAM_REQUIRED);
	assert_string_equal(plugin_info_param(info, "stderr-limit")
				->default_value,
	    "4KiB");
	plugin_info_free(info);
	assert_null(worker_pool_describe(f->pool, "../exec", NULL, 0, &cause));
	assert_non_null(strstr(cause, "not a plugin name"));
	free(cause);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_failures),
		cmocka_unit_test(test_plugin_failures),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_vanished_input),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_warm),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
