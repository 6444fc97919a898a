/* test-sink-folder.c - outputs staged, then committed in a batch: hidden
 * until then, whole after, and a failed rename told to its owner; a job's
 * folder emptied before its job. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "objtrigger.h"

struct dirs {
	char top[64]; /* a temporary folder: job/ and root/ in it */
	char job[80], root[80];
};

static int
setup(void **state)
{
	struct dirs *d = xcalloc(1, sizeof *d);

	snprintf(d->top, sizeof d->top, "/tmp/test-sink-folder.XXXXXX");
	assert_non_null(mkdtemp(d->top));
	snprintf(d->job, sizeof d->job, "%s/job", d->top);
	snprintf(d->root, sizeof d->root, "%s/root", d->top);
	assert_int_equal(mkdir(d->job, 0700), 0);
	assert_int_equal(mkdir(d->root, 0755), 0);
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dirs *d = *state;

	sink_folder_remove_tree(d->top);
	free(d);
	return 0;
}

/* Writes text to dir/name; returns the path (allocated). */
static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Asserts what dir/name holds, or that it is missing (want NULL). */
static void
assert_file(const char *dir, const char *name, const char *want)
{
	char *path, got[64] = "";
	FILE *f;

	xasprintf(&path, "%s/%s", dir, name);
	f = fopen(path, "r");
	if (want == NULL)
		assert_null(f);
	else {
		assert_non_null(f);
		assert_non_null(fgets(got, sizeof got, f));
		fclose(f);
		assert_string_equal(got, want);
	}
	free(path);
}

/* Puts from at root/rel, asserting it was staged. */
static void
put(struct dirs *d, const char *rel, const char *from, int flags, void *owner)
{
	struct sink_put p = { flags, NULL, NULL, owner };
	char *dest, *cause = NULL;

	xasprintf(&dest, "%s/%s", d->root, rel);
	assert_int_equal(sink_folder_put(d->root, dest, from, &p, &cause), 0);
	assert_null(cause);
	free(dest);
}

/* Moved and copied outputs appear only once committed, whole, and the
 * copies' temporary names are gone. */
static void
test_commit_in_caller(void **state)
{
	struct dirs *d = *state;
	char *a = write_file(d->job, "a", "alpha\n");
	char *b = write_file(d->job, "b", "beta\n");
	char *cause = NULL;

	put(d, "x/a.out", a, SINK_PUT_LAST, NULL);
	put(d, "b.copy", b, 0, NULL);
	put(d, "y/b.out", b, SINK_PUT_LAST, NULL);
	assert_file(d->root, "x/a.out", NULL);
	assert_file(d->root, "b.copy", NULL);
	assert_int_equal(sink_folder_sync(&cause), 0);
	assert_null(cause);
	assert_file(d->root, "x/a.out", "alpha\n");
	assert_file(d->root, "b.copy", "beta\n");
	assert_file(d->root, "y/b.out", "beta\n");
	assert_file(d->job, "a", NULL); /* moved, not copied */
	free(a);
	free(b);
}

/* An output whose folder went away between staging and the commit fails
 * with its destination named; the copy's temporary name is removed. */
static void
test_rename_fails(void **state)
{
	struct dirs *d = *state;
	char *a = write_file(d->job, "a", "alpha\n");
	char *gone, *cause = NULL;

	put(d, "z/a.copy", a, 0, NULL);
	xasprintf(&gone, "%s/z", d->root);
	assert_int_equal(sink_folder_remove_tree(gone), 0);
	assert_int_equal(sink_folder_sync(&cause), -1);
	assert_non_null(strstr(cause, "z/a.copy"));
	free(cause);
	free(gone);
	free(a);
}

struct told {
	int ok, failed;
};

static void
committed(void *owner, const char *why)
{
	struct told *t = owner;

	if (why == NULL)
		t->ok++;
	else
		t->failed++;
}

/* Stages n files of one line each as root/fN, with owner. */
static void
put_many(struct dirs *d, int n, const char *text, void *owner)
{
	char name[16], *from;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "f%d", i);
		from = write_file(d->job, name, text);
		put(d, name, from, SINK_PUT_LAST, owner);
		free(from);
	}
}

/* Stages n outputs, fN holding text, with the thread started, then
 * commits them as the daemon's loop does until each one's owner was told;
 * asserts that all were committed, the last one in place. */
static void
assert_commits_in_thread(struct dirs *d, int n, const char *text)
{
	struct told t = { 0, 0 };
	struct pollfd pfd;
	char last[16], *cause = NULL;

	assert_int_equal(sink_folder_commit_start(&cause), 0);
	put_many(d, n, text, &t);
	sink_folder_commit();
	while (t.ok + t.failed < n) {
		pfd.fd = sink_folder_commit_fd();
		pfd.events = POLLIN;
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_int_equal(sink_folder_committed(committed, &cause), 0);
		sink_folder_commit(); /* what waited while one ran */
	}
	assert_int_equal(t.ok, n);
	snprintf(last, sizeof last, "f%d", n - 1);
	assert_file(d->root, last, text);
	sink_folder_commit_stop();
}

/* With the thread, a batch is committed beside the caller, which learns
 * of it from the descriptor and tells each output's owner. */
static void
test_commit_in_thread(void **state)
{
	assert_commits_in_thread(*state, 10, "data\n");
}

/* More outputs than a batch holds (256): the full batch is committed
 * first, and every output is in place after the sync. */
static void
test_many_in_caller(void **state)
{
	struct dirs *d = *state;
	char *cause = NULL;

	put_many(d, 300, "x\n", NULL);
	assert_int_equal(sink_folder_sync(&cause), 0);
	assert_file(d->root, "f0", "x\n");
	assert_file(d->root, "f299", "x\n");
}

/* The same with the thread: staging waits for it to take the full batch,
 * and every output's owner is told. */
static void
test_many_in_thread(void **state)
{
	assert_commits_in_thread(*state, 300, "x\n");
}

/* An output folder path that names no job's folder is refused, and
 * nothing is removed; so is an input path without its in/N. */
static void
test_scratch_clean_refuses(void **state)
{
	struct dirs *d = *state;
	char *out, *cause = NULL;

	assert_int_equal(worker_s3_input_file("name"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(worker_s3_input_file("0/name"), -1);
	assert_int_equal(errno, EINVAL);
	/* A pipe where the input goes is refused, not waited on. */
	xasprintf(&out, "%s/0", d->root);
	assert_int_equal(mkdir(out, 0700), 0);
	free(out);
	xasprintf(&out, "%s/0/name", d->root);
	assert_int_equal(mkfifo(out, 0600), 0);
	assert_int_equal(worker_s3_input_file(out), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(unlink(out), 0);
	free(out);

	assert_int_equal(sink_folder_scratch_clean("out", "tmp", NULL, 0,
			     &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	free(write_file(d->root, "kept", "kept\n"));
	assert_int_equal(chmod(d->root, 0755), 0);
	xasprintf(&out, "%s/out", d->root);
	assert_int_equal(sink_folder_scratch_clean(out, out, NULL, 0, &cause),
	    -1);
	assert_non_null(strstr(cause, "not a job's folder"));
	assert_file(d->root, "kept", "kept\n");
	free(cause);
	free(out);
}

/* in/N (folder) kept its last file, "next", emptied, renamed to the
 * name its next input has, "named": the input made there is that inode,
 * and no spare is left. */
static void
assert_named_input(const char *folder)
{
	struct stat kept, input;
	char *path;
	int fd;

	xasprintf(&path, "%s/named", folder);
	assert_int_equal(stat(path, &kept), 0);
	assert_int_equal(kept.st_size, 0);
	assert_file(folder, "next", NULL);
	assert_file(folder, SINK_SPARE_FILE, NULL);
	assert_true((fd = worker_s3_input_file(path)) >= 0);
	assert_int_equal(fstat(fd, &input), 0);
	assert_int_equal(input.st_ino, kept.st_ino);
	close(fd);
	free(path);
}

/* in/N (folder) kept its last file as its spare, emptied, and the next
 * input made there is that inode, renamed. */
static void
assert_spare_used(const char *folder)
{
	struct stat spare, input;
	char *path;
	int fd;

	xasprintf(&path, "%s/%s", folder, SINK_SPARE_FILE);
	assert_int_equal(stat(path, &spare), 0);
	assert_int_equal(spare.st_size, 0); /* "x\n" was in it */
	assert_int_equal(spare.st_mode & 07777, 0600);
	free(path);
	xasprintf(&path, "%s/next", folder);
	assert_true((fd = worker_s3_input_file(path)) >= 0);
	assert_int_equal(fstat(fd, &input), 0);
	assert_int_equal(input.st_ino, spare.st_ino);
	assert_int_equal(input.st_size, 0);
	close(fd);
	assert_file(folder, SINK_SPARE_FILE, NULL);
	free(path);
}

/* A job's folder is emptied before its job: what a run left in out, tmp
 * and in is gone (in/N kept), and an out or in swapped for a link is
 * removed without following it. */
static void
test_scratch_clean(void **state)
{
	struct dirs *d = *state;
	const char *names[] = { "named" };
	char *dir, *out, *tmp, *link, *hard, *other, *cause = NULL;
	struct stat sb;
	int fd;

	dir = sink_folder_scratch(d->job, &cause);
	assert_non_null(dir);
	xasprintf(&out, "%s/out", dir);
	xasprintf(&tmp, "%s/tmp", dir);
	free(write_file(out, "left", "x\n"));
	free(write_file(tmp, "left", "x\n"));
	xasprintf(&link, "%s/in", dir);
	assert_int_equal(mkdir(link, 0700), 0);
	free(write_file(link, "left", "x\n"));
	free(link);
	xasprintf(&link, "%s/in/0", dir);
	assert_int_equal(mkdir(link, 0700), 0);
	free(write_file(link, "left", "x\n"));
	/* A tree in out, and links to a folder outside in out and in/0:
	 * the tree and the links go, what they point to stays. */
	xasprintf(&other, "%s/sub", out);
	assert_int_equal(mkdir(other, 0700), 0);
	free(other);
	xasprintf(&other, "%s/sub/deeper", out);
	assert_int_equal(mkdir(other, 0700), 0);
	free(write_file(other, "deep", "x\n"));
	free(other);
	xasprintf(&other, "%s/outside", out);
	assert_int_equal(symlink(d->root, other), 0);
	free(other);
	xasprintf(&other, "%s/outside", link);
	assert_int_equal(symlink(d->root, other), 0);
	free(other);
	/* A file with another link is not kept as the spare (emptied). */
	free(write_file(d->root, "linked", "kept\n"));
	xasprintf(&hard, "%s/linked", d->root);
	xasprintf(&other, "%s/hard", link);
	assert_int_equal(linkat(AT_FDCWD, hard, AT_FDCWD, other, 0), 0);
	free(other);
	free(hard);
	assert_int_equal(sink_folder_scratch_clean(out, tmp, NULL, 0, &cause),
	    0);
	assert_file(d->root, "linked", "kept\n");
	assert_file(link, "hard", NULL);
	assert_file(out, "left", NULL);
	assert_file(out, "sub", NULL);
	assert_file(out, "outside", NULL);
	assert_file(link, "outside", NULL);
	assert_file(tmp, "left", NULL);
	assert_file(link, "left", NULL); /* in/0 is kept, emptied */
	assert_int_equal(access(link, F_OK), 0);
	assert_spare_used(link);
	/* The input made from the spare (empty, 0600) is the spare again. */
	assert_int_equal(sink_folder_scratch_clean(out, tmp, NULL, 0, &cause),
	    0);
	assert_spare_used(link);
	/* Given the next input's name, the spare is renamed to it at once. */
	assert_int_equal(sink_folder_scratch_clean(out, tmp, names, 1, &cause),
	    0);
	assert_named_input(link);
	/* A folder a command left in the input's name goes, and the input
	 * made there is a file. */
	xasprintf(&other, "%s/named", link);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	free(write_file(other, "x", "x\n"));
	free(write_file(link, "other", "x\n"));
	assert_int_equal(sink_folder_scratch_clean(out, tmp, names, 1, &cause),
	    0);
	assert_file(link, "other", NULL);
	assert_file(other, "x", NULL);
	assert_true((fd = worker_s3_input_file(other)) >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_size, 0);
	close(fd);
	free(other);
	free(link);
	xasprintf(&link, "%s/in", dir);
	assert_file(link, "left", NULL);
	assert_int_equal(sink_folder_remove_tree(link), 0);
	assert_int_equal(symlink(d->root, link), 0);
	free(write_file(d->root, "kept", "kept\n"));
	assert_int_equal(sink_folder_remove_tree(out), 0);
	assert_int_equal(symlink(d->root, out), 0);
	assert_int_equal(sink_folder_scratch_clean(out, tmp, NULL, 0, &cause),
	    0);
	assert_file(d->root, "kept", "kept\n");
	assert_file(out, "kept", NULL);
	assert_file(link, "kept", NULL); /* in, a link: removed */
	free(link);
	free(tmp);
	free(out);
	sink_folder_scratch_done(dir);
}

/* Only the job's own output and temporary folders are emptied, whatever
 * their names: jobs whose folders share a parent (out0, tmp0, out1...) do
 * not touch each other's, and nothing is made beside them. */
static void
test_scratch_clean_own(void **state)
{
	struct dirs *d = *state;
	char *out0, *tmp0, *out1, *other, *cause = NULL;

	xasprintf(&out0, "%s/out0", d->job);
	xasprintf(&tmp0, "%s/tmp0", d->job);
	xasprintf(&out1, "%s/out1", d->job);
	xasprintf(&other, "%s/out", d->job);
	assert_int_equal(mkdir(out0, 0700), 0);
	assert_int_equal(mkdir(tmp0, 0700), 0);
	assert_int_equal(mkdir(out1, 0700), 0);
	free(write_file(out0, "left", "x\n"));
	free(write_file(out1, "theirs", "y\n"));
	assert_int_equal(sink_folder_scratch_clean(out0, tmp0, NULL, 0, &cause),
	    0);
	assert_file(out0, "left", NULL);
	assert_file(out1, "theirs", "y\n");
	assert_int_equal(access(other, F_OK), -1);
	free(other);
	xasprintf(&other, "%s/in", d->job);
	assert_int_equal(access(other, F_OK), -1);
	free(other);
	free(out1);
	free(tmp0);
	free(out0);
}

static int
count_file(void *arg, const char *rel, const char *path, char **cause)
{
	(void)rel;
	(void)path;
	(void)cause;
	++*(int *)arg;
	return 0;
}

/* A job's output folder that a transform swapped for a link to another
 * folder is not walked: that folder's files are not taken as outputs. */
static void
test_walk_refuses_link(void **state)
{
	struct dirs *d = *state;
	char *out, *sub, *cause = NULL;
	int n = 0;

	free(write_file(d->root, "not-an-output", "x\n"));
	xasprintf(&out, "%s/out", d->job);
	assert_int_equal(symlink(d->root, out), 0);
	assert_int_equal(sink_folder_walk(out, count_file, &n, &cause), -1);
	assert_non_null(strstr(cause, "out"));
	assert_int_equal(n, 0);
	free(cause);
	cause = NULL;
	assert_int_equal(unlink(out), 0);
	/* A real one, with a file in a folder in it, is. */
	assert_int_equal(mkdir(out, 0700), 0);
	xasprintf(&sub, "%s/sub", out);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(write_file(sub, "made", "x\n"));
	assert_int_equal(sink_folder_walk(out, count_file, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sink_folder_remove_tree(out), 0);
	free(sub);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_in_caller, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rename_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_commit_in_thread, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_in_caller, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_in_thread, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scratch_clean, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scratch_clean_refuses,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_clean_own, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walk_refuses_link, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
