/* fuzz-template.c - output names and keys from templates. */

/*
 * An input is up to four strings split at NUL bytes: the template, the
 * input's key, the output's name (what a plugin wrote) and the trigger.
 * Keys and names come from outside; templates from the config, so only a
 * template that template_check takes is expanded into a path, as the
 * daemon does. A path must stay in the template's folder: it starts with
 * template_root, holds no "." or ".." component after it, and does not
 * end in '/'.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_open(LEVEL_ERROR, "fuzz");
	return 0;
}

static void
fuzz_check_path(const char *tmpl, const char *path)
{
	char *root = template_root(tmpl);
	size_t rlen = strlen(root), len;
	const char *p;

	if (strcmp(root, "/") == 0 && path[1] != '/')
		rlen = 0; /* "/name"; "//{key}" makes "//name" */
	if (strncmp(path, root, rlen) != 0)
		fuzz_broken("\"%s\" made \"%s\", outside \"%s\"", tmpl, path,
		    root);
	if (path[rlen] != '/' || path[strlen(path) - 1] == '/')
		fuzz_broken("\"%s\" made \"%s\"", tmpl, path);
	if (strlen(path) >= PATH_MAX)
		fuzz_broken("\"%s\" made a path of %zu bytes", tmpl,
		    strlen(path));
	for (p = path + rlen; *p != '\0'; p += len) {
		p += *p == '/';
		len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			fuzz_broken("\"%s\" made \"%s\"", tmpl, path);
	}
	free(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *part[4], *out, *cause = NULL;
	const char *p = s, *end = s + size;
	struct template_vars v;
	size_t i;

	for (i = 0; i < 4; i++) { /* the missing ones are "" (s[size]) */
		part[i] = (char *)p;
		p += strlen(p);
		p += p < end;
	}
	v.key = *part[1] != '\0' ? part[1] : "k"; /* a key is never empty */
	v.name = *part[2] != '\0' ? part[2] : "n"; /* nor a name */
	v.trigger = part[3];
	v.when = 1700000000 + (time_t)(size % 400) * 86400 * 31;
	v.period = NULL;

	if (template_check(part[0], &cause) == 0) {
		if ((out = template_expand(part[0], &v, &cause)) != NULL) {
			fuzz_check_path(part[0], out);
			free(out);
		} else if (cause == NULL)
			fuzz_broken("template_expand: NULL without a cause");
	} else if (cause == NULL)
		fuzz_broken("template_check: -1 without a cause");
	free(cause);
	cause = NULL;
	if ((out = template_expand_key(part[0], &v, &cause)) != NULL) {
		if (*out == '\0' || strlen(out) > 1024)
			fuzz_broken("a key of %zu bytes", strlen(out));
		free(out);
	} else if (cause == NULL)
		fuzz_broken("template_expand_key: NULL without a cause");
	free(cause);
	free(s);
	return 0;
}
