/* plugin.c - finding, loading and describing transform plugins. */

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "objtrigger.h"

#define PLUGIN_NAME_MAX 64

static const char *plugin_type_names[] = { "string", "int", "bool", "size",
	"duration", "enum" };

const char *
plugin_type_name(enum ot_param_type type)
{
	if ((size_t)type >=
	    sizeof plugin_type_names / sizeof *plugin_type_names)
		return "unknown";
	return plugin_type_names[type];
}

static int
plugin_type_from_name(const char *s, enum ot_param_type *type)
{
	size_t i;

	for (i = 0; i < sizeof plugin_type_names / sizeof *plugin_type_names;
	     i++) {
		if (strcmp(s, plugin_type_names[i]) == 0) {
			*type = (enum ot_param_type)i;
			return 0;
		}
	}
	return -1;
}

/* A plugin is named by a bare word: never a path, never "..". */
int
plugin_check_name(const char *name, char **cause)
{
	size_t len = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	if (len == 0 || name[len] != '\0' || len > PLUGIN_NAME_MAX ||
	    name[0] == '-') {
		xasprintf(cause,
		    "'%s' is not a plugin name: plugins are "
		    "named by a bare word of lower-case letters, digits, '-' "
		    "and '_' (no path, no '..')",
		    name);
		return -1;
	}
	return 0;
}

/* Checks that DIR/NAME.so is a regular file nobody else can replace. */
int
plugin_check_file(const char *dir, const char *name, char **cause)
{
	struct stat sb;
	char *path;

	if (plugin_check_name(name, cause) != 0)
		return -1;
	xasprintf(&path, "%s/%s.so", dir, name);
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			xasprintf(cause,
			    "no plugin named '%s' (no %s; "
			    "'objtrigger plugins' lists the installed ones)",
			    name, path);
		else
			xasprintf(cause, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(sb.st_mode))
		xasprintf(cause, "%s is not a regular file", path);
	else if (sb.st_mode & S_IWOTH)
		xasprintf(cause,
		    "%s is world-writable: refusing to load it "
		    "(chmod o-w it if you trust it)",
		    path);
	else {
		free(path);
		return 0;
	}
	free(path);
	return -1;
}

/* Checks a descriptor's declared parameters. */
static int
plugin_check_params(const char *name, const struct ot_param *p, char **cause)
{
	char *why;

	for (; p != NULL && p->name != NULL; p++) {
		if ((size_t)p->type >=
		    sizeof plugin_type_names / sizeof *plugin_type_names) {
			xasprintf(cause,
			    "plugin '%s': parameter '%s' has an "
			    "unknown type %d",
			    name, p->name, (int)p->type);
			return -1;
		}
		if (p->type == OT_PARAM_ENUM && p->choices == NULL) {
			xasprintf(cause,
			    "plugin '%s': parameter '%s' is an "
			    "enum without choices",
			    name, p->name);
			return -1;
		}
		if (p->default_value != NULL) {
			struct plugin_param pp = { (char *)p->name, p->type,
				p->flags, NULL, NULL, (char *)p->choices,
				p->min, p->max };
			if (param_check_value(&pp, p->default_value, &why) !=
			    0) {
				xasprintf(cause,
				    "plugin '%s': the default of "
				    "'%s' is bad: %s",
				    name, p->name, why);
				free(why);
				return -1;
			}
		}
	}
	return 0;
}

/* Checks what the entry point returned against this host's ABI. */
static int
plugin_check_descriptor(const char *name, const struct ot_transform *t,
    char **cause)
{
	if (t == NULL) {
		xasprintf(cause,
		    "plugin '%s': its entry point returned no "
		    "descriptor",
		    name);
		return -1;
	}
	if (t->abi_major != OT_ABI_MAJOR) {
		xasprintf(cause,
		    "plugin '%s' is built for plugin ABI %" PRIu32 ".%" PRIu32
		    "; this objtrigger speaks ABI %d",
		    name, t->abi_major, t->abi_minor, OT_ABI_MAJOR);
		return -1;
	}
	if (t->abi_minor > OT_ABI_MINOR) {
		xasprintf(cause,
		    "plugin '%s' needs plugin ABI %d.%" PRIu32 "; "
		    "this objtrigger provides %d.%d: upgrade objtrigger or "
		    "rebuild the plugin",
		    name, OT_ABI_MAJOR, t->abi_minor, OT_ABI_MAJOR,
		    OT_ABI_MINOR);
		return -1;
	}
	/* A descriptor is at least as long as ABI 1.0's, which ends at run;
	 * newer minors add fields after it. */
	if (t->size < offsetof(struct ot_transform, run) + sizeof t->run ||
	    t->run == NULL || t->name == NULL) {
		xasprintf(cause,
		    "plugin '%s': malformed descriptor (size %zu, "
		    "expected %zu, with a name and run)",
		    name, t->size, sizeof *t);
		return -1;
	}
	return plugin_check_params(name, t->params, cause);
}

/* Loads DIR/NAME.so and returns its descriptor. In workers only. */
const struct ot_transform *
plugin_open(const char *dir, const char *name, char **cause)
{
	const struct ot_transform *(*entry)(void);
	const struct ot_transform *t;
	char *path, sym[64];
	void *handle;
	int major;

	if (plugin_check_file(dir, name, cause) != 0)
		return NULL;
	xasprintf(&path, "%s/%s.so", dir, name);
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	free(path);
	if (handle == NULL) {
		xasprintf(cause,
		    "plugin '%s' is not a loadable shared object: "
		    "%s",
		    name, dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(handle, OT_ENTRY_POINT_NAME);
	if (entry == NULL) {
		for (major = 2; major < 10; major++) {
			snprintf(sym, sizeof sym, "objtrigger_transform_v%d",
			    major);
			if (dlsym(handle, sym) != NULL)
				break;
		}
		if (major < 10)
			xasprintf(cause,
			    "plugin '%s' is built for plugin ABI "
			    "%d; this objtrigger speaks ABI %d",
			    name, major, OT_ABI_MAJOR);
		else
			xasprintf(cause,
			    "plugin '%s' has no entry point %s(): "
			    "is it an objtrigger transform?",
			    name, OT_ENTRY_POINT_NAME);
		dlclose(handle);
		return NULL;
	}
	t = entry();
	if (plugin_check_descriptor(name, t, cause) != 0) {
		dlclose(handle);
		return NULL;
	}
	return t; /* the handle stays open for the life of the worker */
}

struct plugin_info *
plugin_info_from(const struct ot_transform *t)
{
	struct plugin_info *info = xcalloc(1, sizeof *info);
	const struct ot_param *p;
	struct plugin_param *pp;

	info->name = xstrdup(t->name);
	info->version = xstrdup(t->version != NULL ? t->version : "");
	info->summary = xstrdup(t->summary != NULL ? t->summary : "");
	for (p = t->params; p != NULL && p->name != NULL; p++) {
		info->params = xreallocarray(info->params, info->nparams + 1,
		    sizeof *info->params);
		pp = &info->params[info->nparams++];
		pp->name = xstrdup(p->name);
		pp->type = p->type;
		pp->flags = p->flags;
		pp->default_value =
		    p->default_value != NULL ? xstrdup(p->default_value) : NULL;
		pp->help = xstrdup(p->help != NULL ? p->help : "");
		pp->choices = p->choices != NULL ? xstrdup(p->choices) : NULL;
		pp->min = p->min;
		pp->max = p->max;
	}
	return info;
}

void
plugin_info_to_wire(const struct plugin_info *info, struct wire_msg *m)
{
	const struct plugin_param *p;
	size_t i;

	wire_add(m, "name", "%s", info->name);
	wire_add(m, "version", "%s", info->version);
	wire_add(m, "summary", "%s", info->summary);
	for (i = 0; i < info->nparams; i++) {
		p = &info->params[i];
		wire_add(m, "param", "%s", p->name);
		wire_add(m, "type", "%s", plugin_type_name(p->type));
		wire_add(m, "flags", "%u", p->flags);
		if (p->default_value != NULL)
			wire_add(m, "default", "%s", p->default_value);
		wire_add(m, "help", "%s", p->help);
		if (p->choices != NULL)
			wire_add(m, "choices", "%s", p->choices);
		wire_add(m, "range", "%" PRId64 ":%" PRId64, p->min, p->max);
	}
}

/* Reads a description; the fields after each "param" belong to it. */
struct plugin_info *
plugin_info_from_wire(const struct wire_msg *m)
{
	struct plugin_info *info = xcalloc(1, sizeof *info);
	struct plugin_param *p = NULL;
	const struct wire_field *f;
	size_t i;

	info->name = xstrdup(wire_get(m, "name") ? wire_get(m, "name") : "");
	info->version =
	    xstrdup(wire_get(m, "version") ? wire_get(m, "version") : "");
	info->summary =
	    xstrdup(wire_get(m, "summary") ? wire_get(m, "summary") : "");
	if (wire_get(m, "invalid") != NULL)
		info->invalid = xstrdup(wire_get(m, "invalid"));
	for (i = 0; i < m->nfields; i++) {
		f = &m->fields[i];
		if (strcmp(f->name, "param") == 0) {
			info->params = xreallocarray(info->params,
			    info->nparams + 1, sizeof *info->params);
			p = &info->params[info->nparams++];
			memset(p, 0, sizeof *p);
			p->name = xstrdup(f->value);
			p->help = xstrdup("");
		} else if (p == NULL)
			continue;
		else if (strcmp(f->name, "type") == 0)
			plugin_type_from_name(f->value, &p->type);
		else if (strcmp(f->name, "flags") == 0)
			p->flags = (unsigned)strtoul(f->value, NULL, 10);
		else if (strcmp(f->name, "default") == 0) {
			free(p->default_value);
			p->default_value = xstrdup(f->value);
		} else if (strcmp(f->name, "help") == 0) {
			free(p->help);
			p->help = xstrdup(f->value);
		} else if (strcmp(f->name, "choices") == 0) {
			free(p->choices);
			p->choices = xstrdup(f->value);
		} else if (strcmp(f->name, "range") == 0)
			sscanf(f->value, "%" SCNd64 ":%" SCNd64, &p->min,
			    &p->max);
	}
	return info;
}

void
plugin_info_free(struct plugin_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nparams; i++) {
		free(info->params[i].name);
		free(info->params[i].default_value);
		free(info->params[i].help);
		free(info->params[i].choices);
	}
	free(info->params);
	free(info->name);
	free(info->version);
	free(info->summary);
	free(info->invalid);
	free(info);
}

const struct plugin_param *
plugin_info_param(const struct plugin_info *info, const char *name)
{
	size_t i;

	for (i = 0; i < info->nparams; i++) {
		if (strcmp(info->params[i].name, name) == 0)
			return &info->params[i];
	}
	return NULL;
}
