/* retry-after.c - the Retry-After header of an answer, as a wait. */

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

/* A day is the most a server may ask for; the trigger's max-backoff
 * caps it further. */
#define HTTP_RETRY_AFTER_MAX 86400

/*
 * Reads a Retry-After value (RFC 9110, 10.2.3): delta-seconds, or an
 * HTTP-date (then the wait from now; a date past is no wait). Sets *ms
 * and returns 0, or -1 if the value is neither.
 */
int
http_retry_after(const char *value, time_t now, uint64_t *ms)
{
	char date[64];
	size_t len, digits;
	time_t when;
	uint64_t s = 0;

	value += strspn(value, " \t");
	len = strlen(value);
	while (len > 0 && strchr(" \t\r\n", value[len - 1]) != NULL)
		len--;
	if (len == 0)
		return -1;
	digits = strspn(value, "0123456789");
	if (digits == len) {
		while (digits-- > 0 && s <= HTTP_RETRY_AFTER_MAX)
			s = s * 10 + (uint64_t)(*value++ - '0');
	} else {
		if (len >= sizeof date)
			return -1;
		memcpy(date, value, len);
		date[len] = '\0';
		if ((when = curl_getdate(date, NULL)) == -1)
			return -1;
		s = when > now ? (uint64_t)(when - now) : 0;
	}
	if (s > HTTP_RETRY_AFTER_MAX)
		s = HTTP_RETRY_AFTER_MAX;
	*ms = s * 1000;
	return 0;
}
