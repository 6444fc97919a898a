/* cfg.h - the objtrigger configuration, as read from its XML file. */

#ifndef OT_CFG_H
#define OT_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Event types a trigger can ask for; a bit mask. */
#define CFG_EVENT_CREATED 0x1
#define CFG_EVENT_REMOVED 0x2

enum cfg_watch_type {
	CFG_WATCH_FOLDER,
	CFG_WATCH_S3_POLL,
	CFG_WATCH_S3_WEBHOOK,
	CFG_WATCH_AMQP
};

/* An S3-compatible store. Its keys are read when the config is loaded,
 * from a private file or from named environment variables, never inline. */
struct cfg_store {
	char *name;
	char *endpoint; /* http[s]://host[:port], no path */
	char *region;
	int v2; /* signature v2 (through libs3) instead of v4 */
	int virtual_host; /* bucket.host instead of host/bucket */
	char *access_key, *secret_key, *token; /* token may be NULL */
	char *ca_file; /* may be NULL: the system's */
	int verify_tls;
	uint64_t connect_timeout_ms, timeout_ms;
	uint64_t multipart_threshold;
	unsigned line;
};

/* A RabbitMQ broker (AMQP 0-9-1). Its login is read when the config is
 * loaded, from a private file; guest without one. */
struct cfg_broker {
	char *name;
	char *url; /* as written, for messages */
	char *host;
	unsigned port;
	char *vhost;
	char *user, *password;
	char *exchange; /* a durable topic exchange */
	uint64_t heartbeat_ms;
	uint64_t connect_timeout_ms; /* also bounds each request */
	unsigned line;
};

struct cfg_workers {
	unsigned count; /* worker processes; default: CPUs online */
	uint64_t timeout_ms; /* wall clock per job */
	uint64_t memory; /* address space per job, bytes */
	uint64_t cpu_ms; /* CPU time per job; 0 for no limit */
	uint64_t file_size; /* largest file a job may write; 0 for none */
	unsigned open_files; /* descriptors per worker */
	uint64_t grace_ms; /* how long running jobs may finish at stop */
};

/* The HTTP server: webhooks, /metrics and /healthz. */
struct cfg_http {
	char *listen; /* host:port; NULL: no server */
	char *cert_file, *key_file; /* TLS: both, or neither */
	uint64_t max_body;
	uint64_t timeout_ms; /* a connection idle this long is closed */
	uint64_t header_timeout_ms; /* a request's headers take at most */
	uint64_t body_timeout_ms; /* then its body at most */
	unsigned max_connections;
	unsigned max_per_client; /* connections from one address */
	unsigned line;
};

struct cfg_watch {
	char *name;
	enum cfg_watch_type type;
	char *path; /* folder; for s3-webhook, the URL path */
	int recursive;
	char **ignore; /* globs of names never taken; NULL-terminated */
	uint64_t settle_ms;
	/* s3-poll and s3-webhook */
	char *store, *bucket, *prefix; /* bucket: NULL for any (webhook) */
	uint64_t interval_ms; /* of listings; 0: none (webhook) */
	int start_beginning; /* start="beginning": the first listing runs */
	/* s3-webhook */
	char *token; /* the bearer token, read from token-file; may be NULL */
	int sns_confirm; /* confirm SNS subscriptions */
	unsigned max_pending; /* the queue's high mark: above it, 503 */
	/* s3-poll and s3-webhook: the broker its events are published to
	 * instead of running triggers; NULL: none */
	char *publish;
	/* amqp */
	char *broker, *queue;
	char **bind; /* routing keys; NULL-terminated */
	unsigned delivery_limit;
	unsigned line;
};

struct cfg_param {
	char *name;
	char *value;
	unsigned line;
};

struct cfg_output {
	char *path; /* template of a file's path; NULL for a bucket */
	char *store, *bucket, *key; /* key: template of an object's key */
	char *content_type; /* "auto" by default */
	unsigned line;
};

struct cfg_retry {
	unsigned attempts;
	uint64_t backoff_ms;
	uint64_t max_backoff_ms;
};

struct cfg_trigger {
	char *name;
	char *watch;
	unsigned events; /* CFG_EVENT_* */
	char **match; /* globs; NULL-terminated, empty for all */
	int match_case; /* globs tell upper from lower case (the default) */
	uint64_t min_size, max_size; /* max 0: no limit */
	unsigned concurrency; /* default: the workers' count */
	unsigned batch_size; /* inputs a job takes at most */
	uint64_t batch_window_ms; /* how long a batch may wait to fill */
	uint64_t batch_every_ms; /* calendar batches: the period; 0: none */
	char *plugin;
	unsigned plugin_line;
	struct cfg_param *params;
	size_t nparams;
	struct cfg_output *outputs;
	size_t noutputs;
	struct cfg_retry retry;
	int allow_loop; /* outputs may land where the watch looks */
	int fetch; /* the input's bytes are given (the default); if not, the
		      transform gets the event and an empty file */
	/* existing="run": objects there before the trigger's first scan of
	 * its watch run; "skip" (the default, or the s3-poll watch's
	 * start=) records them as skipped, for a backfill to run. */
	int run_existing;
	unsigned line;
};

struct cfg_error {
	unsigned line; /* 0: the file as a whole */
	char *message;
};

struct cfg {
	char *file;
	char *state;
	unsigned state_line; /* of <state>; 0 for the default */
	struct cfg_workers workers;
	struct cfg_http http;
	struct cfg_store *stores;
	size_t nstores;
	struct cfg_broker *brokers;
	size_t nbrokers;
	struct cfg_watch *watches;
	size_t nwatches;
	struct cfg_trigger *triggers;
	size_t ntriggers;

	struct cfg_error *errors; /* in the order found */
	size_t nerrors;
};

/* Reads and checks a config file. Never NULL: look at nerrors. */
struct cfg *cfg_load(const char *file);
void cfg_free(struct cfg *);

/* Adds an error at a line of the config's file. */
void cfg_error(struct cfg *, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void cfg_sort_errors(struct cfg *);
void cfg_free_words(char **);
/* Sorts the errors by line and prints each as "file:line: message". */
void cfg_print_errors(struct cfg *, FILE *);

const struct cfg_watch *cfg_find_watch(const struct cfg *, const char *);
const struct cfg_store *cfg_find_store(const struct cfg *, const char *);
const struct cfg_broker *cfg_find_broker(const struct cfg *, const char *);
void cfg_store_clear(struct cfg_store *);

/* cfg-store.c */
int cfg_store_keys_from_file(struct cfg_store *, const char *path,
    char **cause);
int cfg_store_key_from_env(char **slot, const char *var, char **cause);
int cfg_read_secret(const char *path, char **out, char **cause);
int cfg_broker_login_from_file(struct cfg_broker *, const char *path,
    char **cause);
/* Opens a secret file: a regular file no one but its owner may change (nor
 * read, if private). Returns its descriptor, or -1 and the reason. */
int cfg_open_secret(const char *path, int private, char **cause);

/* The RELAX NG schema, compiled in from config/objtrigger.rng. */
extern const char cfg_schema[];
extern const size_t cfg_schema_len;

#endif
