/* cmd-plugins.c - "objtrigger plugins": the installed transforms. */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"

/* Prints a plugin under the name it is loaded by, its file's. */
static void
plugins_print(const char *name, const struct plugin_info *info)
{
	const struct plugin_param *p;
	size_t i;

	printf("%s %s: %s\n", name, info->version, info->summary);
	for (i = 0; i < info->nparams; i++) {
		p = &info->params[i];
		printf("    %-14s %s", p->name, plugin_type_name(p->type));
		if (p->type == OT_PARAM_ENUM)
			printf(" (%s)", p->choices);
		if (p->flags & OT_PARAM_REQUIRED)
			printf(", required");
		else if (p->default_value != NULL)
			printf(", default \"%s\"", p->default_value);
		if (p->flags & OT_PARAM_REPEAT)
			printf(", repeatable");
		printf("\n        %s\n", p->help);
	}
}

static int
plugins_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of DIR's *.so files, sorted; NULL-terminated. */
static char **
plugins_names(const char *dir, size_t *n)
{
	struct dirent *de;
	char **names = NULL;
	size_t len;
	DIR *d;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		names = xreallocarray(names, *n + 1, sizeof *names);
		names[(*n)++] = xstrndup(de->d_name, len - 3);
	}
	closedir(d);
	if (names != NULL)
		qsort(names, *n, sizeof *names, plugins_cmp);
	return names;
}

int
cmd_plugins(int argc, char **argv)
{
	struct worker_limits limits = { .timeout_ms = 30000 };
	struct worker_pool *pool;
	struct plugin_info *info;
	char **names, *cause;
	size_t n, i;
	int rc = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: objtrigger plugins\n");
		return 2;
	}
	names = plugins_names(plugins_dir(), &n);
	if (n == 0) {
		fprintf(stderr, "objtrigger: no plugins in %s\n",
		    plugins_dir());
		free(names);
		return 1;
	}
	pool = pool_for_commands(&limits);
	for (i = 0; i < n; i++) {
		if ((info = worker_pool_describe(pool, names[i], NULL, 0,
			 &cause)) == NULL) {
			fprintf(stderr, "objtrigger: %s\n", cause);
			free(cause);
			rc = 1;
		} else {
			plugins_print(names[i], info);
			plugin_info_free(info);
		}
		free(names[i]);
	}
	free(names);
	worker_pool_free(pool);
	return rc;
}
