/* param.c - plugin parameters checked against what the plugin declares. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objtrigger.h"
#include "units.h"

static int
param_check_choice(const struct plugin_param *p, const char *value,
    char **cause)
{
	const char *c = p->choices;
	size_t len = strlen(value), n;

	while (*c != '\0') {
		n = strcspn(c, "|");
		if (n == len && strncmp(c, value, len) == 0)
			return 0;
		c += n + (c[n] == '|');
	}
	xasprintf(cause, "'%s' is not one of %s", value, p->choices);
	return -1;
}

/* Checks one value against its declared type; -1 with *cause if bad. */
int
param_check_value(const struct plugin_param *p, const char *value, char **cause)
{
	uint64_t u;
	int64_t i;
	int b;

	switch (p->type) {
	case OT_PARAM_STRING:
		return 0;
	case OT_PARAM_INT:
		if (p->min == 0 && p->max == 0)
			return units_parse_int(value, INT64_MIN, INT64_MAX, &i,
			    cause);
		return units_parse_int(value, p->min, p->max, &i, cause);
	case OT_PARAM_BOOL:
		return units_parse_bool(value, &b, cause);
	case OT_PARAM_SIZE:
		return units_parse_size(value, &u, cause);
	case OT_PARAM_DURATION:
		return units_parse_duration(value, &u, cause);
	case OT_PARAM_ENUM:
		return param_check_choice(p, value, cause);
	}
	xasprintf(cause, "unknown type");
	return -1;
}

/* Lists the names a plugin takes, for "unknown parameter" messages. */
static char *
param_names(const struct plugin_info *info)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 0; i < info->nparams; i++) {
		xasprintf(&t, "%s%s%s", s, i == 0 ? "" : ", ",
		    info->params[i].name);
		free(s);
		s = t;
	}
	if (info->nparams == 0) {
		free(s);
		s = xstrdup("none");
	}
	return s;
}

/*
 * Checks the given values against the plugin's declarations: unknown
 * names, bad values, repeats of a parameter that does not repeat, and
 * missing required ones (reported with index SIZE_MAX). Returns the number
 * of problems reported.
 */
int
param_check(const struct plugin_info *info, const struct param_value *v,
    size_t n, param_report_cb report, void *arg)
{
	const struct plugin_param *p;
	char *cause, *msg, *names;
	int errors = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		p = plugin_info_param(info, v[i].name);
		if (p == NULL) {
			names = param_names(info);
			xasprintf(&msg,
			    "plugin '%s' has no parameter '%s' "
			    "(it takes: %s)",
			    info->name, v[i].name, names);
			free(names);
		} else if (param_check_value(p, v[i].value, &cause) != 0) {
			xasprintf(&msg,
			    "parameter '%s' of plugin '%s' is %s: "
			    "%s",
			    p->name, info->name, plugin_type_name(p->type),
			    cause);
			free(cause);
		} else {
			for (j = 0; j < i; j++) {
				if (strcmp(v[j].name, v[i].name) == 0)
					break;
			}
			if (j == i || (p->flags & OT_PARAM_REPEAT))
				continue;
			xasprintf(&msg,
			    "parameter '%s' of plugin '%s' is given "
			    "twice",
			    p->name, info->name);
		}
		report(arg, i, msg);
		free(msg);
		errors++;
	}
	for (i = 0; i < info->nparams; i++) {
		p = &info->params[i];
		if (!(p->flags & OT_PARAM_REQUIRED))
			continue;
		for (j = 0; j < n; j++) {
			if (strcmp(v[j].name, p->name) == 0)
				break;
		}
		if (j < n)
			continue;
		xasprintf(&msg, "plugin '%s' needs the parameter '%s' (%s)",
		    info->name, p->name, p->help);
		report(arg, SIZE_MAX, msg);
		free(msg);
		errors++;
	}
	return errors;
}
