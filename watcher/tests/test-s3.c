/* test-s3.c - the pieces of the S3 client that need no store: keys as
 * SigV4 paths, and ETags as a store (or a hostile one) sends them. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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
		cmocka_unit_test(test_unquote),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
