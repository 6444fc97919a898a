/* units.c - durations, sizes, counts and booleans as written in configs. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"
#include "xmalloc.h"

struct unit {
	const char *suffix;
	uint64_t factor;
};

static const struct unit duration_units[] = { { "ms", 1 }, { "s", 1000 },
	{ "m", 60 * 1000 }, { "h", 3600 * 1000 }, { "d", 24 * 3600 * 1000 },
	{ NULL, 0 } };

static const struct unit size_units[] = { { "", 1 }, { "B", 1 },
	{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
	{ "TiB", 1ULL << 40 }, { "kB", 1000 }, { "KB", 1000 },
	{ "MB", 1000000 }, { "GB", 1000000000 }, { "TB", 1000000000000ULL },
	{ NULL, 0 } };

/* Reads "<digits><suffix>" with a suffix from units; -1 if malformed. */
static int
units_scale(const char *s, const struct unit *units, uint64_t *out)
{
	const struct unit *u;
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	for (u = units; u->suffix != NULL; u++) {
		if (strcmp(end, u->suffix) != 0)
			continue;
		if (n > UINT64_MAX / u->factor)
			return -1;
		*out = n * u->factor;
		return 0;
	}
	return -1;
}

int
units_parse_duration(const char *s, uint64_t *ms, char **cause)
{
	if (units_scale(s, duration_units, ms) == 0)
		return 0;
	xasprintf(cause,
	    "'%s' is not a duration (a number with ms, s, m, h "
	    "or d: 250ms, 5s, 2m, 1h)",
	    s);
	return -1;
}

int
units_parse_size(const char *s, uint64_t *bytes, char **cause)
{
	if (units_scale(s, size_units, bytes) == 0)
		return 0;
	xasprintf(cause,
	    "'%s' is not a size (bytes, or a number with KiB, "
	    "MiB, GiB, TiB, kB, MB, GB: 512KiB, 1GiB)",
	    s);
	return -1;
}

int
units_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
    char **cause)
{
	long long n;
	char *end;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' ||
	    errno == ERANGE) {
		xasprintf(cause, "'%s' is not a whole number", s);
		return -1;
	}
	if (n < min || n > max) {
		xasprintf(cause,
		    "%lld is out of range (%" PRId64 " to %" PRId64 ")", n, min,
		    max);
		return -1;
	}
	*out = n;
	return 0;
}

int
units_parse_bool(const char *s, int *out, char **cause)
{
	static const char *yes[] = { "yes", "true", "on", "1", NULL };
	static const char *no[] = { "no", "false", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	xasprintf(cause, "'%s' is not yes or no", s);
	return -1;
}

const char *
units_format_size(uint64_t n, char *buf, size_t len)
{
	static const char *names[] = { "KiB", "MiB", "GiB", "TiB" };
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t f = 1ULL << (10 * (i + 1));
		if (n >= f && n % f == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", n / f, names[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64 " bytes", n);
	return buf;
}

const char *
units_format_duration(uint64_t ms, char *buf, size_t len)
{
	const struct unit *u, *best = &duration_units[0];

	for (u = duration_units; u->suffix != NULL; u++) {
		if (ms != 0 && ms % u->factor == 0)
			best = u;
	}
	snprintf(buf, len, "%" PRIu64 "%s", ms / best->factor, best->suffix);
	return buf;
}
