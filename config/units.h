/* units.h - durations, sizes, counts and booleans as written in configs. */

#ifndef OT_UNITS_H
#define OT_UNITS_H

#include <stdint.h>

/* Each returns 0, or -1 with *cause set to an allocated message. */
int units_parse_duration(const char *, uint64_t *ms, char **cause);
int units_parse_size(const char *, uint64_t *bytes, char **cause);
int units_parse_int(const char *, int64_t min, int64_t max, int64_t *,
    char **cause);
int units_parse_bool(const char *, int *, char **cause);

/* Writes a size as "1GiB", "512KiB" or "100 bytes" into buf. */
const char *units_format_size(uint64_t, char *buf, size_t len);

/* Writes a duration as "5s", "2m" or "250ms" into buf. */
const char *units_format_duration(uint64_t ms, char *buf, size_t len);

#endif
