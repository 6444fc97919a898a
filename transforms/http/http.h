/* http.h - the parts of the http transform that are tested alone. */

#ifndef OT_HTTP_H
#define OT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What the placeholders of a URL stand for. */
struct http_vars {
	const char *key;
	const char *bucket;
	const char *trigger;
	const char *id; /* the event's */
	uint64_t size;
};

/* http-encode.c */
extern const char *const http_url_placeholders[];
const char *http_url_check(const char *tmpl);
char *http_url_expand(const char *tmpl, const struct http_vars *);
char *http_header_encode(const char *);
void http_key_part(const char *key, const char *which, const char **p,
    size_t *len);

/* retry-after.c */
int http_retry_after(const char *value, time_t now, uint64_t *ms);

#endif
