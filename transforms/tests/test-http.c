/* test-http.c - the http transform's URLs, header values, Retry-After. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http.h"

/* Asserts what a template gives for a key. */
static void
assert_url(const char *tmpl, const char *key, const char *want)
{
	const struct http_vars v = { key, "photos", "thumbs", "0a1b", 42 };
	char *url = http_url_expand(tmpl, &v);

	assert_non_null(url);
	assert_string_equal(url, want);
	free(url);
}

static void
test_placeholders(void **state)
{
	(void)state;
	assert_url("http://f/{key}", "a/b/c.jpg", "http://f/a%2Fb%2Fc.jpg");
	assert_url("http://f/{dir}/{name}", "a/b/c.jpg",
	    "http://f/a%2Fb/c.jpg");
	assert_url("http://f/{stem}.{ext}", "a/c.tar.gz", "http://f/c.tar.gz");
	assert_url("http://f/{stem}-{ext}", "a/.profile", "http://f/.profile-");
	assert_url("http://f/{dir}", "top", "http://f/");
	assert_url("http://f/{bucket}/{trigger}?id={id}&n={size}", "k",
	    "http://f/photos/thumbs?id=0a1b&n=42");
	/* Unknown or unclosed: kept as written. */
	assert_url("http://f/{nope}{", "k", "http://f/{nope}{");
}

/* A value is data: it can add no segment, query, fragment or host. */
static void
test_encoding(void **state)
{
	(void)state;
	assert_url("http://f/x/{key}", "a b%c?d#e&f=g+h",
	    "http://f/x/a%20b%25c%3Fd%23e%26f%3Dg%2Bh");
	assert_url("http://f/x/{key}", "..", "http://f/x/%2E%2E");
	assert_url("http://f/x/{key}", ".", "http://f/x/%2E");
	assert_url("http://f/x/{name}", "a/..", "http://f/x/%2E%2E");
	assert_url("http://f/x/{key}", "../../etc/passwd",
	    "http://f/x/..%2F..%2Fetc%2Fpasswd");
	assert_url("http://f/x/{stem}", "d/...x", "http://f/x/%2E%2E");
	assert_url("http://f/x/{key}", "a..b", "http://f/x/a..b");
	assert_url("http://f/x/{key}", "caf\xc3\xa9 \xe2\x82\xac",
	    "http://f/x/caf%C3%A9%20%E2%82%AC");
	assert_url("http://f/x/{key}", "@evil.example:80\\x",
	    "http://f/x/%40evil.example%3A80%5Cx");
	assert_url("http://f/x/{key}", "\x01\x7f\xff", "http://f/x/%01%7F%FF");
	assert_url("http://f/x/{key}", "-_.~", "http://f/x/-_.~");
}

static void
test_check(void **state)
{
	(void)state;
	assert_null(http_url_check("http://127.0.0.1:8080/f/{key}"));
	assert_null(http_url_check("HTTPS://h/f?k={key}"));
	assert_null(http_url_check("http://h"));
	assert_non_null(http_url_check("ftp://h/{key}"));
	assert_non_null(http_url_check("file:///etc/passwd"));
	assert_non_null(http_url_check("//h/{key}"));
	assert_non_null(http_url_check("http:///x"));
	assert_non_null(http_url_check("http://{bucket}.h/x"));
	assert_non_null(http_url_check("http://h{key}/x"));
	assert_non_null(http_url_check("http://h:{size}/x"));
	assert_non_null(http_url_check("http://h/a b"));
	assert_non_null(http_url_check("http://u:secret@h/x"));
	assert_null(http_url_check("http://h/x?mail=a@b"));
}

/* Header values: the HTTP binding's own example, and what must go. */
static void
test_header(void **state)
{
	char *s;

	(void)state;
	s = http_header_encode("Euro \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(s, "Euro%20%E2%82%AC%20%F0%9F%98%80");
	free(s);
	s = http_header_encode("a\"b%c\r\nd\te:/?#");
	assert_string_equal(s, "a%22b%25c%0D%0Ad%09e:/?#");
	free(s);
	s = http_header_encode("");
	assert_string_equal(s, "");
	free(s);
}

static void
assert_after(const char *v, time_t now, int rc, uint64_t want)
{
	uint64_t ms = 12345;

	assert_int_equal(http_retry_after(v, now, &ms), rc);
	assert_int_equal(ms, rc == 0 ? want : 12345);
}

static void
test_retry_after(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	const time_t when = 784111777;

	(void)state;
	assert_after("3", when, 0, 3000);
	assert_after(" 120 \r\n", when, 0, 120000);
	assert_after("0", when, 0, 0);
	/* At most a day, however large. */
	assert_after("99999999999999999999999", when, 0, 86400000);
	assert_after("Sun, 06 Nov 1994 08:49:37 GMT", when - 10, 0, 10000);
	assert_after("Sun, 06 Nov 1994 08:49:37 GMT", when + 10, 0, 0);
	assert_after("Sunday, 06-Nov-94 08:49:37 GMT", when - 1, 0, 1000);
	assert_after("Sun Nov  6 08:49:37 1994", when - 2, 0, 2000);
	assert_after("", when, -1, 0);
	assert_after("  ", when, -1, 0);
	assert_after("-5", when, -1, 0);
	assert_after("soon", when, -1, 0);
	assert_after("1.5", when, -1, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
