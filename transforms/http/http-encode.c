/* http-encode.c - URLs from their templates, attributes as header values. */

/*
 * A placeholder's value is data, never syntax: every byte but RFC 3986's
 * unreserved ones is percent-encoded ('/', '?', '#' and '%' included),
 * and a value of dots only ("." or "..") has its dots encoded too, so
 * that no client, proxy or server takes it for a path segment. A key can
 * thus change neither the host nor the path's segments nor the query.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const char *const http_url_placeholders[] = { "{key}", "{dir}", "{name}",
	"{stem}", "{ext}", "{bucket}", "{trigger}", "{id}", "{size}", NULL };

static const char http_hex[] = "0123456789ABCDEF";

static void
http_encode_byte(FILE *f, unsigned char c)
{
	fputc('%', f);
	fputc(http_hex[c >> 4], f);
	fputc(http_hex[c & 15], f);
}

/* Writes len bytes of s as one opaque piece of a URL. */
static void
http_encode_value(FILE *f, const char *s, size_t len)
{
	size_t i, dots = strspn(s, ".");
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '~' || (c == '.' && dots < len))
			fputc(c, f);
		else
			http_encode_byte(f, c);
	}
}

/* Why a URL template cannot be used, or NULL: http or https only, and a
 * host (and port) written out, without placeholders, nor a user and
 * password, which the URL in every message would show. */
const char *
http_url_check(const char *tmpl)
{
	size_t skip, host;

	if (strncasecmp(tmpl, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(tmpl, "https://", 8) == 0)
		skip = 8;
	else
		return "the URL must start with http:// or https://";
	host = strcspn(tmpl + skip, "/?#");
	if (host == 0)
		return "the URL has no host";
	if (memchr(tmpl + skip, '{', host) != NULL ||
	    memchr(tmpl + skip, '}', host) != NULL)
		return "placeholders may only be in the URL's path and query";
	if (memchr(tmpl + skip, '@', host) != NULL)
		return "no user or password in the URL, which messages show: "
		       "token-file sends a token";
	if (strcspn(tmpl, " \t\r\n") != strlen(tmpl))
		return "the URL has blanks in it (write them as %20)";
	return NULL;
}

/* The part of a key a placeholder names: {dir}, {name}, {stem}, {ext}. */
void
http_key_part(const char *key, const char *which, const char **p, size_t *len)
{
	const char *slash = strrchr(key, '/'), *name, *dot;

	name = slash != NULL ? slash + 1 : key;
	dot = strrchr(name, '.');
	if (dot == name)
		dot = NULL;
	if (strcmp(which, "{dir}") == 0) {
		*p = key;
		*len = slash != NULL ? (size_t)(slash - key) : 0;
	} else if (strcmp(which, "{name}") == 0) {
		*p = name;
		*len = strlen(name);
	} else if (strcmp(which, "{stem}") == 0) {
		*p = name;
		*len = dot != NULL ? (size_t)(dot - name) : strlen(name);
	} else {
		*p = dot != NULL ? dot + 1 : "";
		*len = strlen(*p);
	}
}

/* Writes the value of the placeholder at t, if one starts there; returns
 * its length, or 0. */
static size_t
http_placeholder(FILE *f, const char *t, const struct http_vars *v)
{
	const char *p;
	char size[32];
	size_t i, n, len;

	for (i = 0; http_url_placeholders[i] != NULL; i++) {
		n = strlen(http_url_placeholders[i]);
		if (strncmp(t, http_url_placeholders[i], n) == 0)
			break;
	}
	if (http_url_placeholders[i] == NULL)
		return 0;
	if (i == 0)
		p = v->key;
	else if (i <= 4) {
		http_key_part(v->key, http_url_placeholders[i], &p, &len);
		http_encode_value(f, p, len);
		return n;
	} else if (i == 5)
		p = v->bucket;
	else if (i == 6)
		p = v->trigger;
	else if (i == 7)
		p = v->id;
	else {
		snprintf(size, sizeof size, "%llu",
		    (unsigned long long)v->size);
		p = size;
	}
	http_encode_value(f, p, strlen(p));
	return n;
}

/* The URL of a template with its placeholders' values encoded
 * (allocated), or NULL if out of memory. */
char *
http_url_expand(const char *tmpl, const struct http_vars *v)
{
	char *out = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	while (*tmpl != '\0') {
		if (*tmpl == '{' && (n = http_placeholder(f, tmpl, v)) > 0)
			tmpl += n;
		else
			fputc(*tmpl++, f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A CloudEvents attribute as an HTTP header value (allocated, or NULL):
 * space, '"', '%' and what is not printable ASCII percent-encoded, as
 * the HTTP binding of CloudEvents 1.0 (3.1.3.2) says. */
char *
http_header_encode(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	unsigned char c;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%')
			http_encode_byte(f, c);
		else
			fputc(c, f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
