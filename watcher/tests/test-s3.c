/* test-s3.c - the pieces of the S3 client that need no store: keys as
 * SigV4 paths (and the paths really sent, to a fake store), and ETags as
 * a store (or a hostile one) sends them. */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "objtrigger.h"

static void
check_encode(const char *key, int keep_slash, const char *want)
{
	char *got = s3_encode(key, keep_slash);

	assert_string_equal(got, want);
	free(got);
}

static void
test_encode(void **state)
{
	check_encode("dir/my photo+1 \xc3\xa9.jpg", 1,
	    "dir/my%20photo%2B1%20%C3%A9.jpg");
	check_encode("a//b/", 1, "a//b/");
	check_encode("a/b", 0, "a%2Fb");
	check_encode("%#?&~-_.", 1, "%25%23%3F%26~-_.");
	check_encode("", 1, "");
}

/* A "." or ".." segment, legal in a key, is sent encoded: no server or
 * proxy on the way can resolve it into another key or bucket. */
static void
test_encode_dots(void **state)
{
	const int path = S3_ENCODE_SLASH | S3_ENCODE_DOTS;

	check_encode("uploads/../../other-bucket/x", path,
	    "uploads/%2E%2E/%2E%2E/other-bucket/x");
	check_encode("a/../b.txt", path, "a/%2E%2E/b.txt");
	check_encode("./a/.", path, "%2E/a/%2E");
	check_encode("..", path, "%2E%2E");
	check_encode("a//./b/", path, "a//%2E/b/");
	/* Dots that are no segment stay as they are. */
	check_encode("..a/.b/c../.../x.", path, "..a/.b/c../.../x.");
	/* A bucket: one segment, '/' and all encoded. */
	check_encode("..", S3_ENCODE_DOTS, "%2E%2E");
	check_encode("a/..", S3_ENCODE_DOTS, "a%2F%2E%2E");
	/* The canonical form, for the signature, keeps them. */
	check_encode("a/../b.txt", S3_ENCODE_SLASH, "a/../b.txt");
}

static void
test_dot_segment(void **state)
{
	assert_true(s3_has_dot_segment("uploads/../../other-bucket/x"));
	assert_true(s3_has_dot_segment("."));
	assert_true(s3_has_dot_segment(".."));
	assert_true(s3_has_dot_segment("a/."));
	assert_true(s3_has_dot_segment("./a"));
	assert_true(s3_has_dot_segment("a//../b"));
	assert_false(s3_has_dot_segment(""));
	assert_false(s3_has_dot_segment("a/b.c"));
	assert_false(s3_has_dot_segment("..a/.b/c../.../x."));
	assert_false(s3_has_dot_segment("a//b/"));
}

#if defined(HAVE_LIBS3) || defined(HAVE_CURL)
/* A v4 or v2 store on a port of this machine. */
static struct cfg_store *
test_store(int port, int v2)
{
	static struct cfg_store st;
	static char endpoint[64];

	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
	memset(&st, 0, sizeof st);
	st.name = "t";
	st.endpoint = endpoint;
	st.region = "default";
	st.v2 = v2;
	st.access_key = "AK";
	st.secret_key = "SK";
	st.verify_tls = 1;
	st.connect_timeout_ms = 2000;
	st.timeout_ms = 5000;
	st.multipart_threshold = 1 << 30;
	return &st;
}
#endif

#ifdef HAVE_LIBS3
static void
check_unaddressable(int rc, const struct s3_error *err, const char *what)
{
	assert_int_equal(rc, -1);
	assert_string_equal(err->code, "KeyNotAddressable");
	assert_false(err->retryable);
	if (strstr(err->message, what) == NULL ||
	    strstr(err->message, "signature=\"v4\"") == NULL)
		fail_msg("'%s' does not say '%s' and the fix", err->message,
		    what);
}

/* libs3 sends a dot segment raw and libcurl under it resolves it
 * ("photos-in", "uploads/../../other-bucket/x" goes out as GET
 * /other-bucket/x): with
 * signature v2 such keys and buckets are refused before any request. */
static void
test_libs3_dots(void **state)
{
	/* Port 9: a request that went out would fail with a code of its
	 * own, not KeyNotAddressable. */
	const struct cfg_store *st = test_store(9, 1);
	const char *key = "uploads/../../other-bucket/x";
	struct s3_object o;
	struct s3_error err;
	char *next;

	memset(&o, 0, sizeof o);
	check_unaddressable(s3_get(st, "photos-in", key, NULL, 0, -1, &o, &err),
	    &err, "dot segment");
	check_unaddressable(s3_head(st, "photos-in", "a/./b", &o, &err), &err,
	    "dot segment");
	check_unaddressable(s3_put(st, "photos-in", "..", -1, "text/plain",
				NULL, 0, &o, &err),
	    &err, "dot segment");
	check_unaddressable(s3_delete(st, "photos-in", key, &err), &err,
	    "dot segment");
	check_unaddressable(s3_list_page(st, "..", "", NULL, NULL, NULL, &next,
				&err),
	    &err, "dot segment");
	assert_null(next);
}
#endif

#ifdef HAVE_CURL
/* A fake store: answers every request 404 and writes its request line
 * to *lines, one a line. Returns its pid. */
static pid_t
fake_store(int *port, FILE **lines)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	char buf[16384], *end, *cl;
	size_t len, body;
	ssize_t n;
	int ls, c, p[2];
	pid_t pid;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(ls, 8), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true((pid = fork()) >= 0);
	if (pid > 0) {
		close(ls);
		close(p[1]);
		*lines = fdopen(p[0], "r");
		return pid;
	}
	close(p[0]);
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* if a check fails, it goes */
	while ((c = accept(ls, NULL, NULL)) >= 0) {
		len = 0;
		end = NULL;
		while (end == NULL && len < sizeof buf - 1 &&
		    (n = read(c, buf + len, sizeof buf - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			end = strstr(buf, "\r\n\r\n");
		}
		if (end == NULL)
			_exit(1);
		/* Read the body too, so that closing sends no reset. */
		body = 0;
		if ((cl = strcasestr(buf, "\r\ncontent-length:")) != NULL &&
		    cl < end)
			body = strtoul(cl + 17, NULL, 10);
		*strstr(buf, "\r\n") = '\0';
		if (write(p[1], buf, strlen(buf)) < 0 ||
		    write(p[1], "\n", 1) != 1)
			_exit(1);
		len -= (size_t)(end + 4 - buf);
		while (len < body && (n = read(c, buf, sizeof buf)) > 0)
			len += (size_t)n;
		dprintf(c,
		    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		close(c);
	}
	_exit(0);
}

/* The next request line the fake store saw is want, and its path has no
 * "." or ".." segment. */
static void
check_sent(FILE *lines, const char *want)
{
	char line[4096], *path, *end;

	assert_non_null(fgets(line, sizeof line, lines));
	line[strcspn(line, "\n")] = '\0';
	if (strcmp(line, want) != 0)
		fail_msg("sent '%s', expected '%s'", line, want);
	path = strchr(line, ' ') + 1;
	end = path + strcspn(path, "? ");
	*end = '\0';
	if (s3_has_dot_segment(path + 1))
		fail_msg("'%s' has a raw dot segment", path);
}

/* Every request the v4 client makes sends a dot segment as %2E or
 * %2E%2E, whatever the operation, and other keys as they were. */
static void
test_curl_dots(void **state)
{
	const char *key = "uploads/../../other-bucket/x";
	const char *sent = "/photos-in/uploads/%2E%2E/%2E%2E/other-bucket/x";
	const struct cfg_store *st;
	struct s3_object o;
	struct s3_error err;
	char want[512], *next, file[] = "/tmp/test-s3.XXXXXX";
	FILE *lines;
	pid_t pid;
	int port, fd, status;

	alarm(60); /* a request that never came would wait for ever */
	pid = fake_store(&port, &lines);
	st = test_store(port, 0);
	memset(&o, 0, sizeof o);
	assert_true((fd = mkstemp(file)) >= 0);
	unlink(file);
	assert_int_equal(write(fd, "hello", 5), 5);

	assert_int_equal(s3_head(st, "photos-in", key, &o, &err), -1);
	assert_int_equal(err.http, 404);
	snprintf(want, sizeof want, "HEAD %s HTTP/1.1", sent);
	check_sent(lines, want);
	assert_int_equal(s3_get(st, "photos-in", key, "abc", 0, fd, &o, &err),
	    -1);
	snprintf(want, sizeof want, "GET %s HTTP/1.1", sent);
	check_sent(lines, want);
	assert_int_equal(s3_put(st, "photos-in", key, fd, "text/plain", NULL, 0,
			     &o, &err),
	    -1);
	snprintf(want, sizeof want, "PUT %s HTTP/1.1", sent);
	check_sent(lines, want);
	assert_int_equal(s3_delete(st, "photos-in", key, &err), -1);
	snprintf(want, sizeof want, "DELETE %s HTTP/1.1", sent);
	check_sent(lines, want);
	assert_int_equal(s3_get(st, "photos-in", "./a/.", NULL, 0, fd, &o,
			     &err),
	    -1);
	check_sent(lines, "GET /photos-in/%2E/a/%2E HTTP/1.1");
	/* A bucket that is a dot segment, in a listing: the query holds a
	 * prefix, which is no path. */
	assert_int_equal(s3_list_page(st, "..", "a/../", NULL, NULL, NULL,
			     &next, &err),
	    -1);
	check_sent(lines,
	    "GET /%2E%2E?list-type=2&max-keys=1000&prefix=a%2F..%2F "
	    "HTTP/1.1");
	/* Other keys go as they always did. */
	assert_int_equal(s3_get(st, "photos-in", "a/..b/c.d", NULL, 0, fd, &o,
			     &err),
	    -1);
	check_sent(lines, "GET /photos-in/a/..b/c.d HTTP/1.1");

	close(fd);
	fclose(lines);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
}
#endif

static void
check_unquote(const char *etag, const char *want)
{
	char *got = s3_unquote(etag, strlen(etag));

	assert_string_equal(got, want);
	free(got);
}

static void
test_unquote(void **state)
{
	check_unquote("\"d41d8cd98f00b204e9800998ecf8427e\"",
	    "d41d8cd98f00b204e9800998ecf8427e");
	check_unquote(" \"abc-3\"\r\n", "abc-3");
	check_unquote("abc", "abc");
	/* Malformed, as a hostile store may send them. */
	check_unquote("\"", "");
	check_unquote("\"\"", "");
	check_unquote("\"abc", "abc");
	check_unquote("", "");
}

static void
test_content_type(void **state)
{
	assert_string_equal(s3_content_type("a/b.WEBP"), "image/webp");
	assert_string_equal(s3_content_type("a.d/b"),
	    "application/octet-stream");
	assert_string_equal(s3_content_type("x.tar.gz"), "application/gzip");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_dots),
		cmocka_unit_test(test_dot_segment),
#ifdef HAVE_LIBS3
		cmocka_unit_test(test_libs3_dots),
#endif
#ifdef HAVE_CURL
		cmocka_unit_test(test_curl_dots),
#endif
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
