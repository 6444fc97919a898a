/* test-wire.c - framed messages between the daemon and its workers. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "objtrigger.h"

static void
test_round_trip(void **state)
{
	struct wire_msg out, in;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	wire_init(&out);
	wire_init(&in);
	wire_add(&out, "op", "run");
	wire_add(&out, "key", "%s", "dir/my photo+1 é;$(x)=y.jpg");
	wire_add(&out, "empty", "%s", "");
	wire_add(&out, "key", "%s", "second");
	assert_int_equal(wire_send(sv[0], &out), 0);
	assert_int_equal(wire_recv(sv[1], &in), 0);
	assert_int_equal(in.nfields, 4);
	assert_string_equal(wire_get(&in, "op"), "run");
	assert_string_equal(wire_get(&in, "key"),
	    "dir/my photo+1 é;$(x)=y.jpg");
	assert_string_equal(wire_get(&in, "empty"), "");
	assert_string_equal(in.fields[3].value, "second");
	assert_null(wire_get(&in, "nothing"));
	wire_clear(&out);
	wire_clear(&in);
	close(sv[0]);
	close(sv[1]);
}

/* Sends raw bytes as one frame and tries to read them as a message. */
static int
recv_raw(const void *bytes, uint32_t len, uint32_t claimed)
{
	struct wire_msg in;
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], &claimed, sizeof claimed), 4);
	assert_int_equal(write(sv[0], bytes, len), (ssize_t)len);
	close(sv[0]);
	wire_init(&in);
	rc = wire_recv(sv[1], &in);
	wire_clear(&in);
	close(sv[1]);
	return rc;
}

static void
test_malformed(void **state)
{
	assert_int_equal(recv_raw("a=b", 4, 4), 0);
	assert_int_equal(recv_raw("noequals", 9, 9), -1);
	assert_int_equal(errno, EPROTO);
	assert_int_equal(recv_raw("a=b", 3, 3), -1); /* no NUL */
	assert_int_equal(recv_raw("a=b", 4, 100), -1); /* cut short */
	assert_int_equal(recv_raw("", 0, 0x7fffffff), -1);
	assert_int_equal(errno, EMSGSIZE);
}

static void
test_closed(void **state)
{
	struct wire_msg in;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	wire_init(&in);
	assert_int_equal(wire_recv(sv[1], &in), -1);
	wire_add(&in, "a", "b");
	assert_int_equal(wire_send(sv[1], &in), -1);
	wire_clear(&in);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
