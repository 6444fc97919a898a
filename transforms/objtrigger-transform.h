/* objtrigger-transform.h - the plugin ABI of objtrigger transforms. */

/*
 * A transform is a shared object in the plugin folder, named NAME.so, that
 * exports one function:
 *
 *	const struct ot_transform *objtrigger_transform_v1(void);
 *
 * The number in the name is the ABI major version. The host refuses a
 * plugin built for another major, or for a newer minor than its own.
 * Within one major, structures only grow at their end: a plugin reads only
 * the fields of the minor it was built for.
 *
 * Transforms run in worker processes, never in the daemon. A transform
 * reads its input(s) and writes its outputs as regular files (or folders
 * of them) into the empty folder it is given; the host commits them. No
 * heap memory crosses the boundary: every pointer the host passes stays
 * the host's, valid for the duration of the call that received it.
 * Plugins call nothing of the daemon but the functions of struct ot_host.
 */

#ifndef OBJTRIGGER_TRANSFORM_H
#define OBJTRIGGER_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OT_ABI_MAJOR 1
#define OT_ABI_MINOR 2

/* What run() returns. */
enum ot_status {
	OT_OK = 0, /* outputs are complete */
	OT_RETRY, /* transient failure: run again later */
	OT_REJECT, /* this input will never work: dead-letter it now */
	OT_FATAL /* the plugin instance is broken: do not reuse it */
};

/* Parameter types, checked by the host when the config is loaded. */
enum ot_param_type {
	OT_PARAM_STRING = 0, /* any text */
	OT_PARAM_INT, /* a decimal integer, within [min, max] */
	OT_PARAM_BOOL, /* yes/no, true/false, on/off, 1/0 */
	OT_PARAM_SIZE, /* bytes: 512, 64KiB, 1GiB, 10MB */
	OT_PARAM_DURATION, /* 250ms, 5s, 2m, 1h */
	OT_PARAM_ENUM /* one of the words in choices */
};

/* Flags of a parameter. */
#define OT_PARAM_REQUIRED 0x1 /* must be given; default is ignored */
#define OT_PARAM_REPEAT 0x2 /* may be given many times, in order */

/* A parameter a transform declares; the list ends with a NULL name. */
struct ot_param {
	const char *name; /* lower case, digits and '-' */
	enum ot_param_type type;
	unsigned flags; /* OT_PARAM_* flags */
	const char *default_value; /* as text, or NULL for none */
	const char *help; /* one line */
	const char *choices; /* OT_PARAM_ENUM: words separated by '|' */
	int64_t min, max; /* OT_PARAM_INT: range, both 0 for any */
};

/* One input of a job. */
struct ot_input {
	int fd; /* read-only, at offset 0; the host closes it */
	const char *path; /* a local path of the same file, read-only */
	const char
	    *key; /* object key, or path relative to the watched folder */
	const char *bucket; /* bucket name, or the watched folder */
	const char *event; /* "created" or "removed" */
	uint64_t size; /* bytes */
	const char *etag; /* ETag or version; may be NULL */
};

/*
 * Since 1.2. What the event of an input said, for a plugin that passes
 * events on (as CloudEvents, for one); host->event gives it. It grows at
 * its end like the other structures.
 */
struct ot_event {
	/* The event's identity: the same for every attempt of its job and
	 * for a duplicate of the event (the same version of the same object
	 * or file, seen again); another for any other event of the watch. */
	const char *id;
	const char *name; /* S3's event name: "ObjectCreated:Put" or
			   * "ObjectRemoved:Delete" */
	const char *time; /* when it happened, RFC 3339 in UTC */
	const char *source; /* the watch, as a URI: "file:///srv/drop" or
			     * the store's endpoint and the bucket */
	const char *record; /* the S3 event record (one element of
			     * "Records"), as JSON text */
	const char *content_type; /* the object's media type, by its name */
};

/* What run() is given: one input, or a batch of them (count >= 1). */
struct ot_job {
	const char *id; /* job id, for messages */
	const char *trigger; /* the trigger's name */
	const char *outdir; /* empty folder for the outputs */
	const char *tmpdir; /* private folder for temporary files, removed
			     * after the job (commands get it as $TMPDIR) */
	const struct ot_input *inputs;
	size_t count;
};

/* Opaque handle the host passes to every call; valid during the call. */
struct ot_context;

enum ot_log_level { OT_LOG_ERROR = 0, OT_LOG_WARN, OT_LOG_INFO, OT_LOG_DEBUG };

/* The functions a plugin may call. */
struct ot_host {
	uint32_t abi_major, abi_minor;

	/* Logs a line, prefixed with the plugin's name and the job. */
	void (*log)(struct ot_context *, enum ot_log_level, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

	/* Sets the job's error message and returns status, so that a plugin
	 * writes: return host->fail(ctx, OT_REJECT, "not an image"); */
	enum ot_status (*fail)(struct ot_context *, enum ot_status status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

	/* A parameter's value as text (the default when it was not given;
	 * NULL when there is neither). For OT_PARAM_REPEAT, the first. */
	const char *(*param)(struct ot_context *, const char *name);
	/* How many times a parameter was given, and the i-th value. */
	size_t (*param_count)(struct ot_context *, const char *name);
	const char *(
	    *param_at)(struct ot_context *, const char *name, size_t i);

	/* Typed values, already checked by the host; 0 when absent. */
	int64_t (*param_int)(struct ot_context *, const char *name);
	int (*param_bool)(struct ot_context *, const char *name);
	uint64_t (*param_size)(struct ot_context *, const char *name);
	uint64_t (*param_duration_ms)(struct ot_context *, const char *name);

	/* Since 1.1. Called in a child the plugin forked, just before it
	 * execs a command: makes the child a process group of its own,
	 * killed with everything it starts when the job ends, times out or
	 * its worker dies; sets the job's limits (memory, CPU, file size,
	 * open files) as hard limits, which the command cannot raise; and
	 * closes every descriptor from keep up (0 to keep - 1 stay). Returns
	 * 0, or -1 with errno. */
	int (*child_setup)(struct ot_context *, int keep);

	/* Since 1.1. The first "{...}" of a name template that is not one of
	 * known (a NULL-terminated list such as "{stem}"), or a "{" that
	 * opens none, as written in tmpl; NULL if every one is known. For a
	 * transform's check(): a placeholder kept literally would give every
	 * output the same name. */
	const char *(
	    *template_unknown)(const char *tmpl, const char *const *known);

	/* Since 1.2. The event of the job's i-th input (as in job->inputs),
	 * or NULL if i is out of range or the job came from no event. */
	const struct ot_event *(*event)(struct ot_context *, size_t i);

	/* Since 1.2. Reads a secret (a token) from the first line of a file
	 * that only its owner may read or change, into buf (NUL-terminated,
	 * blanks around it trimmed): 0, or -1 with the reason set as by
	 * fail() with OT_REJECT. The secret never appears in the reason. */
	int (*read_secret)(struct ot_context *, const char *path, char *buf,
	    size_t len);

	/* Since 1.2. With OT_RETRY: the job is not to run again for ms
	 * milliseconds at least (a server's Retry-After), and at most the
	 * trigger's max-backoff. */
	void (*retry_after)(struct ot_context *, uint64_t ms);
};

/* The descriptor the entry point returns; static, never freed. */
struct ot_transform {
	uint32_t abi_major; /* OT_ABI_MAJOR */
	uint32_t abi_minor; /* OT_ABI_MINOR */
	size_t size; /* sizeof(struct ot_transform) */
	const char *name;
	const char *version;
	const char *summary; /* one line */
	const struct ot_param *params;

	/* Optional. Makes an instance from the parameters; *state is passed
	 * to run and fini. Returns OT_OK, or a failure set with host->fail. */
	enum ot_status (
	    *init)(const struct ot_host *, struct ot_context *, void **state);
	/* Optional. Frees the instance. */
	void (*fini)(void *state);
	/* Runs the transform on a job. */
	enum ot_status (*run)(void *state, const struct ot_host *,
	    struct ot_context *, const struct ot_job *);

	/* Since 1.1. Optional. Checks the parameters' values when the config
	 * is loaded (their types are checked by the host), so that a value
	 * that would fail every job is refused by "objtrigger check": returns
	 * OT_OK, or OT_REJECT with the reason set by host->fail. */
	enum ot_status (*check)(const struct ot_host *, struct ot_context *);
};

#define OT_ENTRY_POINT objtrigger_transform_v1
#define OT_ENTRY_POINT_NAME "objtrigger_transform_v1"

/* Fills the fixed fields of a descriptor. */
#define OT_TRANSFORM_HEADER \
	OT_ABI_MAJOR, OT_ABI_MINOR, sizeof(struct ot_transform)

const struct ot_transform *objtrigger_transform_v1(void);

#ifdef __cplusplus
}
#endif

#endif
