/* fuzz-units.c - sizes, durations, counts and booleans of a config. */

/*
 * Each input is one attribute's value, read as each kind. What parses is
 * written back and read again: a duration must come back the same, and
 * so must a size written with a unit.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "fuzz.h"

static void
fuzz_refused(int rc, char *cause, const char *what)
{
	if (rc != -1 && rc != 0)
		fuzz_broken("%s returned %d", what, rc);
	if (rc == -1 && cause == NULL)
		fuzz_broken("%s: -1 without a cause", what);
	if (rc == 0 && cause != NULL)
		fuzz_broken("%s: 0 with a cause", what);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *cause = NULL, buf[64];
	uint64_t n, again;
	int64_t i;
	int rc, b;

	rc = units_parse_duration(s, &n, &cause);
	fuzz_refused(rc, cause, "units_parse_duration");
	cause = NULL;
	if (rc == 0) {
		units_format_duration(n, buf, sizeof buf);
		if (units_parse_duration(buf, &again, &cause) != 0 ||
		    again != n)
			fuzz_broken("duration %" PRIu64 " came back as %s", n,
			    buf);
	}

	rc = units_parse_size(s, &n, &cause);
	fuzz_refused(rc, cause, "units_parse_size");
	cause = NULL;
	if (rc == 0) {
		units_format_size(n, buf, sizeof buf);
		if (strstr(buf, " bytes") == NULL &&
		    (units_parse_size(buf, &again, &cause) != 0 || again != n))
			fuzz_broken("size %" PRIu64 " came back as %s", n, buf);
	}

	rc = units_parse_int(s, INT64_MIN, INT64_MAX, &i, &cause);
	fuzz_refused(rc, cause, "units_parse_int");
	cause = NULL;
	rc = units_parse_int(s, 1, 1024, &i, &cause);
	fuzz_refused(rc, cause, "units_parse_int");
	if (rc == 0 && (i < 1 || i > 1024))
		fuzz_broken("%" PRId64 " is out of 1 to 1024", i);
	cause = NULL;
	rc = units_parse_bool(s, &b, &cause);
	fuzz_refused(rc, cause, "units_parse_bool");
	free(s);
	return 0;
}
