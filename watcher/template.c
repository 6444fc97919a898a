/* template.c - output names from templates, never escaping their folder. */

/*
 * "/srv/out/{dir}/{stem}.webp": the text before the first placeholder, up
 * to its last '/', is the destination folder, fixed by the config. What
 * the placeholders make of the rest comes from keys and plugins, so it is
 * checked component by component: no "..", no ".", empty components are
 * dropped, and no component or whole path is over the system's limits.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "objtrigger.h"

static const char *template_names[] = { "key", "dir", "name", "stem", "ext",
	"trigger", "date", "period", NULL };

/* The index of the placeholder at s ("{name}..."), or -1; *len is its
 * length with the braces. */
static int
template_placeholder(const char *s, size_t *len)
{
	const char *end = strchr(s, '}');
	size_t i;

	if (*s != '{' || end == NULL)
		return -1;
	for (i = 0; template_names[i] != NULL; i++) {
		if ((size_t)(end - s - 1) == strlen(template_names[i]) &&
		    strncmp(s + 1, template_names[i], (size_t)(end - s - 1)) ==
			0) {
			*len = (size_t)(end - s) + 1;
			return (int)i;
		}
	}
	return -1;
}

/* Where the fixed destination folder ends in a template. */
static size_t
template_root_len(const char *tmpl)
{
	size_t first = strcspn(tmpl, "{"), i;

	for (i = first; i > 0; i--) {
		if (tmpl[i - 1] == '/')
			return i - 1;
	}
	return 0;
}

/* The destination folder of a template (allocated): "." if relative with
 * no folder before the first placeholder. */
char *
template_root(const char *tmpl)
{
	size_t len = template_root_len(tmpl);

	if (len == 0)
		return xstrdup(tmpl[0] == '/' ? "/" : ".");
	return xstrndup(tmpl, len);
}

/* Checks a template's placeholders; -1 with *cause. */
int
template_check(const char *tmpl, char **cause)
{
	const char *p;
	size_t len;
	int any = 0;

	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '}') {
			xasprintf(cause, "'}' without '{' in \"%s\"", tmpl);
			return -1;
		}
		if (*p != '{')
			continue;
		if (template_placeholder(p, &len) < 0) {
			xasprintf(cause,
			    "unknown placeholder at \"%.20s\" in "
			    "\"%s\" (known: {key} {dir} {name} {stem} {ext} "
			    "{trigger} {date} {period})",
			    p, tmpl);
			return -1;
		}
		any = 1;
		p += len - 1;
	}
	if (!any) {
		xasprintf(cause,
		    "\"%s\" has no placeholder: every output would "
		    "land on the same file",
		    tmpl);
		return -1;
	}
	for (p = tmpl + template_root_len(tmpl); *p != '\0'; p += len) {
		p += *p == '/';
		len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.')) {
			xasprintf(cause,
			    "\"%s\" has a '%.*s' after its folder: "
			    "a name may never leave it",
			    tmpl, (int)len, p);
			return -1;
		}
	}
	return 0;
}

/* Writes a variable's value for an output; buf has room for the key or
 * the name, whichever is longer, so nothing is cut short. */
static const char *
template_value(int which, const struct template_vars *v, char *buf, size_t size)
{
	const char *slash, *dot, *name = v->name;
	struct tm tm;

	slash = strrchr(name, '/');
	dot = strrchr(slash != NULL ? slash + 1 : name, '.');
	switch (which) {
	case 0:
		return v->key;
	case 1:
		slash = strrchr(v->key, '/');
		snprintf(buf, size, "%.*s",
		    slash != NULL ? (int)(slash - v->key) : 0, v->key);
		return buf;
	case 2:
		return name;
	case 3:
		snprintf(buf, size, "%.*s",
		    dot != NULL && dot != name && dot[-1] != '/' ?
			(int)(dot - name) :
			(int)strlen(name),
		    name);
		return buf;
	case 4:
		return dot != NULL && dot != name && dot[-1] != '/' ? dot + 1 :
								      "";
	case 5:
		return v->trigger;
	case 6:
		gmtime_r(&v->when, &tm);
		strftime(buf, size, "%Y-%m-%d", &tm);
		return buf;
	default:
		if (v->period != NULL)
			return v->period;
		localtime_r(&v->when, &tm);
		strftime(buf, size, "%Y-%m-%d", &tm);
		return buf;
	}
}

/* Appends the components of s to out, refusing what could escape. */
static int
template_append(char *out, size_t size, const char *s, char **cause)
{
	size_t len, used;

	while (*s != '\0') {
		len = strcspn(s, "/");
		if ((len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.')) {
			xasprintf(cause, "the name has a '%.*s' component",
			    (int)len, s);
			return -1;
		}
		if (len > NAME_MAX) {
			xasprintf(cause,
			    "a component of the name is %zu bytes "
			    "(at most %d)",
			    len, NAME_MAX);
			return -1;
		}
		used = strlen(out);
		if (len > 0 && used + len + 2 > size) {
			xasprintf(cause, "the name is over %zu bytes",
			    size - 1);
			return -1;
		}
		if (len > 0)
			snprintf(out + used, size - used, "/%.*s", (int)len, s);
		s += len + (s[len] == '/');
	}
	return 0;
}

/* Fills a template's placeholders (allocated), as bytes; NULL with
 * *cause when it is over max bytes. */
static char *
template_fill(const char *tmpl, const struct template_vars *v, size_t max,
    char **cause)
{
	size_t bufsize = strlen(v->key) + strlen(v->name) + 64, len;
	size_t partlen = 0;
	char *part = xcalloc(1, max + 1), *buf = xmalloc(bufsize);
	const char *p, *val;
	int which;

	for (p = tmpl; *p != '\0'; p++) {
		if ((which = template_placeholder(p, &len)) >= 0) {
			val = template_value(which, v, buf, bufsize);
			p += len - 1;
		} else
			val = p;
		len = which >= 0 ? strlen(val) : 1;
		if (partlen + len > max) {
			xasprintf(cause, "the name is over %zu bytes", max);
			free(part);
			free(buf);
			return NULL;
		}
		memcpy(part + partlen, val, len);
		partlen += len;
	}
	free(buf);
	return part;
}

/*
 * Expands a template for one output file. Empty components are dropped
 * ("a//b" is "a/b"); a name ending in '/' is refused. Returns the path
 * (allocated), or NULL with *cause when the name would escape the
 * destination, names a folder or is too long.
 */
char *
template_expand(const char *tmpl, const struct template_vars *v, char **cause)
{
	size_t rootlen = template_root_len(tmpl);
	char *out, *part;

	if ((part = template_fill(tmpl + rootlen, v, 4 * PATH_MAX, cause)) ==
	    NULL)
		return NULL;

	out = xcalloc(1, PATH_MAX);
	snprintf(out, PATH_MAX, "%.*s",
	    rootlen == 0 && tmpl[0] != '/' ? 1 : (int)rootlen,
	    rootlen == 0 && tmpl[0] != '/' ? "." : tmpl);
	if (template_append(out, PATH_MAX, part, cause) != 0)
		goto fail;
	if (strlen(out) == rootlen || (rootlen == 0 && strcmp(out, ".") == 0)) {
		xasprintf(cause, "the name is empty");
		goto fail;
	}
	/* "a/" would be a file a, and every later "a/b" would fail on it. */
	if (part[strlen(part) - 1] == '/') {
		xasprintf(cause, "the name ends in '/': it names a folder");
		goto fail;
	}
	free(part);
	return out;
fail:
	free(part);
	free(out);
	return NULL;
}

/* Expands a template into an object's key (allocated): bytes as they
 * come, since a bucket has no folders to escape; at most S3's 1024. */
char *
template_expand_key(const char *tmpl, const struct template_vars *v,
    char **cause)
{
	char *key = template_fill(tmpl, v, 1024, cause);

	if (key != NULL && *key == '\0') {
		xasprintf(cause, "the key is empty");
		free(key);
		return NULL;
	}
	return key;
}
