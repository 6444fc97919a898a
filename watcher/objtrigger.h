/* objtrigger.h - the daemon's internal interfaces, grouped by file. */

#ifndef OT_OBJTRIGGER_H
#define OT_OBJTRIGGER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "objtrigger-transform.h"
#include "xmalloc.h"

struct cfg;
struct stat;

/* log.c */
enum log_level { LEVEL_ERROR = 0, LEVEL_WARN, LEVEL_INFO, LEVEL_DEBUG };
void log_open(enum log_level, const char *role);
void log_set_json(int);
void log_job(enum log_level, int64_t id, const char *trigger, const char *key,
    const char *result, int attempts, uint64_t ms, const char *error);
void log_vwrite(enum log_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_batch(enum log_level, int64_t first, size_t n, const char *trigger,
    const char *result, const char *period, char *const *outputs,
    size_t noutputs);
void log_job_note(enum log_level, int64_t id, const char *trigger,
    const char *folder, const char *key, const char *what);
void log_write_job(enum log_level, const char *plugin, const char *job,
    const char *trigger, const char *line);
char *log_escape(const char *, int controls);
enum log_level log_level(void);
const char *log_level_name(enum log_level);
typedef void (*log_tee_cb)(void *, enum log_level, const char *);
void log_tee(log_tee_cb, void *);
__attribute__((noreturn)) void fatal(const char *, ...)
    __attribute__((format(printf, 1, 2)));

/* wire.c: messages between the daemon and its workers. A message is a list
 * of "name=value" fields; values are any bytes but NUL. */
struct wire_field {
	const char *name;
	const char *value;
};
struct wire_msg {
	char *buf;
	size_t len, cap;
	struct wire_field *fields; /* after wire_recv: into buf */
	size_t nfields;
};
void wire_init(struct wire_msg *);
void wire_clear(struct wire_msg *);
void wire_add(struct wire_msg *, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wire_append(struct wire_msg *, const struct wire_msg *);
int wire_send(int fd, const struct wire_msg *);
int wire_recv(int fd, struct wire_msg *);
const char *wire_get(const struct wire_msg *, const char *name);

/* plugin.c: the transform descriptions, and loading in workers. */
struct plugin_param {
	char *name;
	enum ot_param_type type;
	unsigned flags;
	char *default_value; /* may be NULL */
	char *help;
	char *choices; /* may be NULL */
	int64_t min, max;
};
struct plugin_info {
	char *name;
	char *version;
	char *summary;
	struct plugin_param *params;
	size_t nparams;
	char *invalid; /* the plugin's check() of the values given, or NULL */
};
int plugin_check_name(const char *, char **cause);
int plugin_check_file(const char *dir, const char *name, char **cause);
const struct ot_transform *plugin_open(const char *dir, const char *name,
    char **cause);
struct plugin_info *plugin_info_from(const struct ot_transform *);
void plugin_info_to_wire(const struct plugin_info *, struct wire_msg *);
struct plugin_info *plugin_info_from_wire(const struct wire_msg *);
void plugin_info_free(struct plugin_info *);
const struct plugin_param *plugin_info_param(const struct plugin_info *,
    const char *);
const char *plugin_type_name(enum ot_param_type);

/* param.c: plugin parameters checked against their declarations. */
struct param_value {
	const char *name;
	const char *value;
};
typedef void (*param_report_cb)(void *, size_t index, const char *message);
int param_check(const struct plugin_info *, const struct param_value *, size_t,
    param_report_cb, void *);
int param_check_value(const struct plugin_param *, const char *, char **);

/* host.c: the functions plugins call, in a worker. */
struct ot_context {
	const struct ot_transform *transform;
	const char *job_id;
	const char *trigger; /* NULL outside a trigger's job */
	const struct param_value *params;
	size_t nparams;
	char *message; /* set by fail() */
	/* The job's limits, for its commands; 0: none. */
	uint64_t memory, cpu_ms, file_size, open_files;
	/* One event per input, made by make_events on the first call of
	 * host->event: most plugins never ask. */
	const struct ot_event *events;
	size_t nevents;
	void (*make_events)(struct ot_context *);
	void *job; /* the worker's, for make_events */
	uint64_t retry_after_ms; /* set by retry_after() */
};
extern const struct ot_host host_functions;

/* worker.c: the worker process. */
int worker_main(int fd);

/* worker-event.c: the events of a job's inputs, for host->event. */
void worker_event_make(struct ot_event *, const struct ot_input *,
    const char *source, int64_t time_ms, const char *version);
void worker_event_clear(struct ot_event *);

/* worker-s3.c: a job's objects, fetched and put by its worker. */
struct worker_s3;
struct worker_s3 *worker_s3_parse(const struct wire_msg *);
void worker_s3_free(struct worker_s3 *);
int worker_s3_fetches(const struct worker_s3 *);
enum ot_status worker_s3_fetch(const struct worker_s3 *, struct ot_input *,
    size_t *count, const char *trigger, struct wire_msg *, char **why);
enum ot_status worker_s3_put(const struct worker_s3 *, const struct ot_job *,
    struct wire_msg *, char **why);
void worker_s3_count(void *, const char *, uint64_t, uint64_t);
int worker_s3_input_file(const char *path);

/* worker-pool.c: worker processes, seen from the daemon. */
struct worker_limits {
	uint64_t timeout_ms;
	uint64_t memory; /* 0: none */
	uint64_t cpu_ms; /* 0: none */
	uint64_t file_size; /* 0: none */
	unsigned open_files;
};
struct job_input {
	char *path;
	char *key;
	char *bucket;
	char *event;
	char *etag; /* may be NULL */
	uint64_t size; /* as the event says */
	/* A file's version (folder watches), with its size: the worker opens
	 * key below bucket and runs it only if it is still this one. */
	int has_version;
	uint64_t dev, inode;
	int64_t mtime; /* ns */
	/* Of its event, for the plugins: the watch as a URI (NULL: the
	 * folder of the file), and when it happened (ms; 0: unknown). */
	char *source;
	int64_t time_ms;
};
struct job {
	char *id;
	char *trigger;
	char *plugin;
	char *outdir;
	char *tmpdir;
	struct param_value *params; /* borrowed */
	size_t nparams;
	struct job_input *inputs; /* borrowed */
	size_t ninputs;
	const struct wire_msg *extra; /* more for the worker; may be NULL */
	int flush_outputs; /* the worker starts writing the outputs out */

	/* Filled when the job ends, then done(job) is called. */
	enum ot_status status;
	char *message; /* NULL on success */
	struct wire_msg reply; /* the worker's answer, when it gave one */
	void (*done)(struct job *);
	/* A job sent by worker_pool_queue starts; may be NULL. */
	void (*started)(struct job *);
	void *arg;
};
struct worker_pool;
struct worker_pool *worker_pool_new(const char *exe, unsigned count,
    const struct worker_limits *, const char *plugin_dir);
void worker_pool_free(struct worker_pool *);
/* A plugin for workers to load ahead, with a trigger's parameters. */
struct worker_warm {
	const char *plugin;
	const struct param_value *params;
	size_t nparams;
};
void worker_pool_warm(struct worker_pool *, const struct worker_warm *, size_t);
int worker_pool_submit(struct worker_pool *, struct job *);
int worker_pool_can_queue(const struct worker_pool *, const char *trigger);
int worker_pool_queue(struct worker_pool *, struct job *);
int worker_pool_wait(struct worker_pool *, int timeout_ms);
struct pollfd;
size_t worker_pool_fds(const struct worker_pool *, struct pollfd *, int *);
int worker_pool_dispatch(struct worker_pool *, const struct pollfd *, size_t);
void worker_pool_abort(struct worker_pool *, const char *why);
unsigned worker_pool_size(const struct worker_pool *);
unsigned worker_pool_busy(const struct worker_pool *);
const char *worker_pool_broken(const struct worker_pool *);
void worker_pool_run(struct worker_pool *, struct job *);
struct plugin_info *worker_pool_describe(struct worker_pool *,
    const char *plugin, const struct param_value *, size_t, char **cause);

/* beneath.c: paths below a folder's descriptor, following no link. */
int beneath_open(int dirfd, const char *rel, int flags);
int beneath_mkdirs(int dirfd, const char *root, const char *rel, char **cause);

/* syncer.c: the journal's WAL synced beside the loop. */
struct syncer;
struct syncer *syncer_new(const char *path, char **cause);
void syncer_free(struct syncer *);
int syncer_fd(const struct syncer *);
uint64_t syncer_ask(struct syncer *);
int syncer_busy(struct syncer *);
void syncer_checkpoint(struct syncer *);
uint64_t syncer_synced(struct syncer *, int *error);
void syncer_drain(struct syncer *);

/* reaper.c: what commands leave running is killed. */
void reaper_start(void);
unsigned reaper_sweep(const pid_t *keep, size_t nkeep);

/* sink-folder.c: committing a job's outputs into folders. */
typedef int (
    *sink_walk_cb)(void *, const char *rel, const char *path, char **cause);
typedef int (*sink_hook_cb)(void *, int dirfd, const char *name,
    const struct stat *, char **cause);
int sink_folder_walk(const char *dir, sink_walk_cb, void *, char **cause);
int sink_folder_mkdirs(const char *dir, char **cause);
int sink_folder_flush_outputs(const char *dir, char **cause);
#define SINK_PUT_LAST 0x1 /* from has no other destination: move it */
/* The file a job's in/N keeps for the next job's input there. */
#define SINK_SPARE_FILE ".spare"
struct sink_put {
	int flags;
	sink_hook_cb hook; /* told before the output is staged */
	void *arg; /* the hook's */
	void *owner; /* told when the output was committed */
};
int sink_folder_put(const char *root, const char *dest, const char *from,
    const struct sink_put *, char **cause);
int sink_folder_remove_tree(const char *);
char *sink_folder_scratch(const char *parent, char **cause);
void sink_folder_scratch_done(char *);
int sink_folder_scratch_clean(const char *outdir, const char *tmpdir,
    const char *const *names, size_t nnames, char **cause);

/* sink-folder-commit.c: staged outputs made durable and visible. */
typedef void (*sink_committed_cb)(void *owner, const char *why);
int sink_folder_stage(int fd, int fromfd, const char *from, int dirfd,
    const char *name, const char *dest, void *owner, char **cause);
int sink_folder_commit_start(char **cause);
void sink_folder_commit_stop(void);
int sink_folder_commit_fd(void);
int sink_folder_commit(void);
int sink_folder_staged(void);
int sink_folder_committed(sink_committed_cb, char **cause);
int sink_folder_sync(char **cause);

/* journal.c: the durable journal of jobs. */
struct journal;
struct journal_event {
	const char *watch;
	const char *folder; /* the watched folder, absolute; or the bucket */
	const char *key; /* path relative to it; or the object's key */
	const char *event; /* "created" or "removed" */
	int64_t inode; /* 0 for an object */
	uint64_t size;
	int64_t mtime; /* nanoseconds; 0 for an object */
	const char *etag; /* an object's; NULL for a file */
	/* Found where it was by a scan (JOURNAL_EXISTING_SCAN: a trigger
	 * that had its first scan takes it as an event) or by a listing
	 * that saw it unchanged (JOURNAL_EXISTING_LISTED: it does not);
	 * a trigger that did not does what its existing= says. */
	int existing;
	const char *sequencer; /* a notification's, comparable with strcmp;
				  NULL if none */
};
#define JOURNAL_EXISTING_SCAN 1
#define JOURNAL_EXISTING_LISTED 2
/* Why a job of an object there before its trigger was skipped. */
#define JOURNAL_SKIPPED_EXISTING \
	"there before the trigger's first scan (existing=skip)"
struct journal_job {
	int64_t id;
	char *trigger, *watch, *folder, *key, *event, *etag;
	uint64_t size;
	int64_t inode, mtime; /* the version queued */
	int64_t created; /* when it was queued, ms since the epoch */
	unsigned attempts;
};
struct sqlite3_stmt;
struct journal *journal_open(const char *state, char **cause);
void journal_close(struct journal *);
int journal_begin(struct journal *);
void journal_busy_hook(struct journal *, void (*)(void *), void *);
int journal_commit(struct journal *);
const char *journal_path(const struct journal *);
void journal_count_frames(struct journal *);
int journal_wal_frames(const struct journal *);
int journal_pending(const struct journal *);
int journal_add(struct journal *, const struct journal_event *,
    const char *trigger, const char *skipped, int64_t now);
int64_t journal_added(const struct journal *);
int journal_find(struct journal *, const struct journal_event *,
    const char *trigger, int64_t *id, char *state, size_t);
int journal_requeue(struct journal *);
int journal_runnable(struct journal *, const char *trigger, int64_t now,
    unsigned limit, struct journal_job **, size_t *);
void journal_job_free(struct journal_job *);
int journal_start(struct journal *, int64_t id, int64_t now);
int journal_done(struct journal *, int64_t id, int64_t now);
int journal_skip(struct journal *, int64_t id, const char *why, int64_t now);
int journal_failed(struct journal *, int64_t id, int dead, int64_t next_at,
    const char *error, int64_t now);
int64_t journal_next_due(struct journal *, int64_t now);
int journal_add_output(struct journal *, const char *, const struct stat *,
    int64_t job);
int journal_is_output(struct journal *, const char *, const struct stat *);
int journal_add_s3_output(struct journal *, const char *store,
    const char *bucket, const char *key, const char *etag, int64_t job);
int journal_is_s3_output(struct journal *, const char *store,
    const char *bucket, const char *key, const char *etag);
int journal_listing_start(struct journal *, const char *watch,
    const char *where, int64_t *cycle, int *listed);
int journal_listing_end(struct journal *, const char *watch, const char *where,
    int64_t cycle);
int journal_listed(struct journal *, const char *watch, const char *key,
    const char *etag, uint64_t size, int64_t cycle);
typedef void (
    *journal_gone_cb)(void *, const char *key, const char *etag, uint64_t size);
int journal_unlisted(struct journal *, const char *watch, journal_gone_cb,
    void *);
int journal_revive(struct journal *, const char *trigger, int64_t id,
    int64_t now);
int journal_forget(struct journal *, const char *trigger, int64_t id,
    int64_t now);
#define JOURNAL_SEQ_NEW 2
#define JOURNAL_SEQ_SAME 1
#define JOURNAL_SEQ_STALE 0
int journal_sequencer(struct journal *, const char *watch, const char *bucket,
    const char *key, const char *seq);
int journal_counts(struct journal *, uint64_t *waiting, uint64_t *dead);
/* A message in a broker's outbox. */
struct journal_message {
	int64_t id;
	char *watch; /* its routing key */
	char *message_id;
	char *body; /* len bytes, then a NUL */
	size_t len;
	int64_t created; /* ms since the epoch */
};
int journal_outbox_add(struct journal *, const char *broker, const char *watch,
    const char *message_id, const char *body, size_t, int64_t now);
int journal_outbox_take(struct journal *, const char *broker, int64_t now,
    unsigned limit, struct journal_message **, size_t *);
void journal_message_free(struct journal_message *);
int journal_outbox_later(struct journal *, int64_t id, int64_t at);
int journal_outbox_confirmed(struct journal *, int64_t id);
int journal_outbox_reset(struct journal *, const char *broker, int64_t at);
int64_t journal_outbox_next(struct journal *, const char *broker, int64_t now);
int journal_outbox_count(struct journal *, const char *broker, uint64_t *);
const char *journal_failing(const struct journal *);
int journal_query(struct journal *, const char *, const char *, int64_t,
    void (*)(void *, struct sqlite3_stmt *), void *);
int64_t stat_mtime_ns(const struct stat *);
int journal_trigger_known(struct journal *, const char *, const char *place);
int journal_trigger_scanned(struct journal *, const char *, const char *place,
    int64_t now);
struct sqlite3;
struct sqlite3 *journal_db(struct journal *);
int journal_fail(struct journal *, const char *what);

/* journal-backfill.c: backfills' jobs and progress in the journal. */
#define BACKFILL_QUEUED 2
#define BACKFILL_WAITING 1
#define BACKFILL_DONE 0
struct backfill_counts {
	uint64_t seen; /* objects listed */
	uint64_t queued; /* jobs queued */
	uint64_t already; /* objects that ran, or wait, already */
	uint64_t skipped; /* objects not for the trigger, or outputs */
};
struct backfill_jobs {
	uint64_t waiting, done, dead, skipped;
};
struct journal_backfill;
struct journal_backfill *journal_backfill_new(struct journal *,
    const char *trigger, int rerun, int dry, int64_t now);
void journal_backfill_free(struct journal_backfill *);
int64_t journal_backfill_id(const struct journal_backfill *);
int journal_backfill_add(struct journal_backfill *,
    const struct journal_event *, const char *trigger, int64_t now);
int journal_backfill_progress(struct journal_backfill *, const char *state,
    const struct backfill_counts *, int64_t now);
int journal_backfill_jobs(struct journal_backfill *, struct backfill_jobs *);
int journal_backfill_cancelled(struct journal_backfill *);
int journal_backfill_cancel(struct journal *, const char *trigger, int64_t now);

/* source-folder.c: the folder watch. */
struct cfg_watch;
struct source_folder;
typedef void (*source_emit_cb)(void *, const struct journal_event *,
    const char *path, const struct stat *);
struct source_folder *source_folder_new(const struct cfg_watch *,
    source_emit_cb, void *, char **cause);
void source_folder_free(struct source_folder *);
int source_folder_walk(const struct cfg_watch *, source_emit_cb, void *,
    char **cause);
int source_folder_fd(const struct source_folder *);
int source_folder_read(struct source_folder *);
void source_folder_rescan(struct source_folder *);
int source_folder_tick(struct source_folder *);
void source_folder_plan_rescan(struct source_folder *, uint64_t delay_ms);
int source_folder_ignores(const struct cfg_watch *, const char *name);

/* s3-client.c: the one S3 interface. Signature v4 goes through libcurl
 * (s3-curl.c), signature v2 through libs3 (s3-libs3.c). Each call makes
 * one request (or one multipart upload) and fills *err when it fails. */
struct cfg_store;
struct s3_error {
	int retryable; /* a later try may work: network, 5xx, SlowDown */
	long http; /* the status, 0 when there was no answer */
	char code[64]; /* S3's error code, or what went wrong locally */
	char message[512];
};
struct s3_object {
	char *key;
	char *etag; /* without its quotes */
	uint64_t size;
	int64_t mtime; /* LastModified in a listing, ms; 0 if unknown */
	char *made_by; /* x-amz-meta-objtrigger-trigger, or NULL */
};
struct s3_meta {
	const char *name; /* after x-amz-meta- */
	const char *value;
};
typedef int (*s3_list_cb)(void *, const struct s3_object *);
int s3_list_page(const struct cfg_store *, const char *bucket,
    const char *prefix, const char *after, s3_list_cb, void *, char **next,
    struct s3_error *);
int s3_head(const struct cfg_store *, const char *bucket, const char *key,
    struct s3_object *, struct s3_error *);
int s3_get(const struct cfg_store *, const char *bucket, const char *key,
    const char *if_match, uint64_t max, int fd, struct s3_object *,
    struct s3_error *);
int s3_put(const struct cfg_store *, const char *bucket, const char *key,
    int fd, const char *content_type, const struct s3_meta *, size_t,
    struct s3_object *, struct s3_error *);
int s3_delete(const struct cfg_store *, const char *bucket, const char *key,
    struct s3_error *);
void s3_object_clear(struct s3_object *);
void s3_error_set(struct s3_error *, long http, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int s3_error_local(struct s3_error *, int too_big, uint64_t max, int errnum);
char *s3_error_text(const struct cfg_store *, const char *what,
    const struct s3_error *);
const char *s3_content_type(const char *key);
/* s3_encode flags: keep '/' (a key in a path); write a segment that is
 * "." or ".." as %2E or %2E%2E, so that no server or proxy on the way
 * resolves it (the store decodes it back to the same key). */
#define S3_ENCODE_SLASH 0x1
#define S3_ENCODE_DOTS 0x2
char *s3_encode(const char *, int flags);
int s3_has_dot_segment(const char *);
char *s3_unquote(const char *, size_t);
const char *s3_available(void);
void s3_store_to_wire(const struct cfg_store *, struct wire_msg *);
struct cfg_store *s3_store_from_wire(const struct wire_msg *, size_t *i);
void s3_store_free(struct cfg_store *);

/* s3-curl.c: signature v4 with libcurl's own signer. */
int s3_curl_list_page(const struct cfg_store *, const char *, const char *,
    const char *, s3_list_cb, void *, char **, struct s3_error *);
int s3_curl_head(const struct cfg_store *, const char *, const char *,
    struct s3_object *, struct s3_error *);
int s3_curl_get(const struct cfg_store *, const char *, const char *,
    const char *, uint64_t, int, struct s3_object *, struct s3_error *);
int s3_curl_put(const struct cfg_store *, const char *, const char *, int,
    const char *, const struct s3_meta *, size_t, struct s3_object *,
    struct s3_error *);
int s3_curl_delete(const struct cfg_store *, const char *, const char *,
    struct s3_error *);

/* s3-libs3.c: signature v2 with libs3. */
int s3_libs3_list_page(const struct cfg_store *, const char *, const char *,
    const char *, s3_list_cb, void *, char **, struct s3_error *);
int s3_libs3_head(const struct cfg_store *, const char *, const char *,
    struct s3_object *, struct s3_error *);
int s3_libs3_get(const struct cfg_store *, const char *, const char *,
    const char *, uint64_t, int, struct s3_object *, struct s3_error *);
int s3_libs3_put(const struct cfg_store *, const char *, const char *, int,
    const char *, const struct s3_meta *, size_t, struct s3_object *,
    struct s3_error *);
int s3_libs3_delete(const struct cfg_store *, const char *, const char *,
    struct s3_error *);
const char *s3_libs3_cannot_address(const char *bucket, const char *key);

/* s3-event.c: bucket notifications (AWS, MinIO, Ceph RGW; bare or in an
 * SNS envelope), from a POST body to records. */

/* One record of an S3 event notification, decoded: the key is raw bytes. */
struct s3_event {
	char *bucket;
	char *key; /* decoded: never empty, never holds a NUL; not a path */
	const char *event; /* "created" or "removed" (static strings) */
	char *etag; /* unquoted; "" if the record has none */
	char *version; /* "" if none */
	char *sequencer; /* 32 uppercase hex digits, comparable with strcmp
			    between events of one key; "" if none */
	uint64_t size; /* 0 if the record has none (deletes) */
};

enum s3_events_kind {
	S3_EVENTS_RECORDS, /* records, rejected and ignored below */
	S3_EVENTS_TEST, /* AWS's s3:TestEvent: nothing to do */
	S3_EVENTS_SNS_CONFIRM, /* visit subscribe_url to get notifications */
	S3_EVENTS_SNS_OTHER /* UnsubscribeConfirmation: nothing to do */
};

struct s3_events {
	enum s3_events_kind kind;
	struct s3_event *records; /* the records that decoded, in order */
	size_t n;
	char **rejected; /* one line each: why Records[I] was refused,
			    "record I: ..." (I from 0) */
	size_t nrejected;
	size_t ignored; /* records of other kinds (ObjectTagging,
			   ObjectRestore, Replication, ...) */
	char *subscribe_url; /* S3_EVENTS_SNS_CONFIRM only, else NULL */
	char *topic_arn; /* an SNS envelope's TopicArn, else NULL */
};

/* Decodes a notification body into *evs (cleared first; the caller clears
 * it after a 0). Returns 0, even when records were rejected, or -1 with
 * *why (allocated, one line of printable ASCII, fit for a 400 answer)
 * when the body is not a notification; *evs then holds nothing. */
int s3_events_decode(const char *body, size_t len, struct s3_events *evs,
    char **why);
/* Frees what s3_events_decode put in *evs (not evs itself); again is a
 * no-op. */
void s3_events_clear(struct s3_events *evs);
/* Whether a record belongs to a watch confined to bucket (NULL: any) and
 * prefix ("": all): 0 yes, 1 it is outside the prefix (ignored), -1
 * refused with *why (allocated, printable): another bucket, or, in a
 * confined watch, a key with a "." or ".." segment. */
int s3_event_confine(const struct s3_event *, const char *bucket,
    const char *prefix, char **why);
int s3_event_sns_url_ok(const char *url);
char *s3_event_time(int64_t ms);
char *s3_event_record(const char *source, const char *name, const char *time,
    const char *bucket, const char *key, uint64_t size, const char *etag,
    const char *sequencer);
/* An event as a notification body (allocated, *len bytes) in the AWS
 * shape: {"Records":[one record]}, which s3_events_decode reads back to
 * the same event; when is its time, ms since the epoch. NULL if a text
 * of it is not UTF-8. */
char *s3_event_encode(const struct journal_event *, int64_t when, size_t *len);
void s3_events_init(void);

typedef void (*s3_count_cb)(void *, const char *store, uint64_t requests,
    uint64_t errors);
void s3_counts_take(s3_count_cb, void *);

/* source-s3.c: the s3-poll watch. */
struct source_s3;
struct source_s3_hooks {
	void (*emit)(void *, const struct journal_event *);
	void (*page)(void *); /* commit what the journal got so far */
	void (*listed)(void *, const char *watch); /* a full listing ended */
	void *arg;
};
struct source_s3 *source_s3_new(const struct cfg_watch *,
    const struct cfg_store *, struct journal *, const struct source_s3_hooks *,
    int full);
void source_s3_free(struct source_s3 *);
int source_s3_wait(const struct source_s3 *);
int source_s3_fd(const struct source_s3 *);
void source_s3_poll(struct source_s3 *);

/* sink-broker.c: the outbox of a broker, published with confirms. */
struct cfg_broker;
struct sink_broker;
struct sink_broker_hooks {
	uint64_t (*write)(void *); /* a journal write follows */
	void *arg;
};
int sink_broker_queue(struct journal *, const struct cfg_watch *,
    const struct journal_event *, int64_t now);
struct sink_broker *sink_broker_new(const struct cfg_broker *, struct journal *,
    const struct sink_broker_hooks *);
void sink_broker_free(struct sink_broker *);
const char *sink_broker_name(const struct sink_broker *);
const char *sink_broker_down_why(const struct sink_broker *);
void sink_broker_kick(struct sink_broker *);
void sink_broker_stop(struct sink_broker *);
unsigned sink_broker_unconfirmed(const struct sink_broker *);
int sink_broker_fd(const struct sink_broker *);
int sink_broker_wait(struct sink_broker *);
void sink_broker_run(struct sink_broker *);
void sink_broker_keepalive(struct sink_broker *);

/* metrics.c: the daemon's counters, for /metrics. Labels are given as
 * name, value pairs ended by NULL. */
enum metric {
	M_EVENTS,
	M_JOBS,
	M_JOB_SECONDS,
	M_QUEUE_DEPTH,
	M_RUNNING,
	M_DEAD_LETTERS,
	M_INOTIFY_OVERFLOWS,
	M_S3_REQUESTS,
	M_S3_ERRORS,
	M_POLL_CYCLES,
	M_POLL_SECONDS,
	M_HTTP_REQUESTS,
	M_OUTBOX,
	M_COUNT
};
void metrics_add(enum metric, double, ...);
void metrics_set(enum metric, double, ...);
void metrics_observe(enum metric, double, ...);
void metrics_s3_count(void *, const char *, uint64_t, uint64_t);
char *metrics_render(size_t *len);
void metrics_reset(void);

/* http.c: the HTTP server (libmicrohttpd), run from the daemon's loop.
 * A GET or HEAD of /metrics or /healthz goes to its hook, which answers
 * it at once. Any other request is seen twice: when its headers are in
 * (begin: answer now, or let the body come) and when its body is (end:
 * answer now, or later: the connection waits until http_answer). */
struct http_server;
struct http_request;
struct http_hooks {
	void (*begin)(void *, struct http_request *);
	void (*end)(void *, struct http_request *);
	void (*metrics)(void *, struct http_request *);
	void (*health)(void *, struct http_request *);
	void *arg;
};
struct cfg_http;
struct http_server *http_new(const struct cfg_http *, const struct http_hooks *,
    char **cause);
void http_free(struct http_server *);
int http_fd(const struct http_server *);
int http_wait(struct http_server *);
void http_run(struct http_server *);
const char *http_method(const struct http_request *);
const char *http_path(const struct http_request *);
const char *http_header(const struct http_request *, const char *);
const char *http_body(const struct http_request *, size_t *);
void http_set_arg(struct http_request *, void *);
void *http_arg(const struct http_request *);
void http_answer(struct http_request *, unsigned code, const char *type,
    const char *body, size_t len);
void http_answer_json(struct http_request *, unsigned code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
void http_header_add(struct http_request *, const char *, const char *);

void http_answer_error(struct http_request *, unsigned code, const char *);

/* source-webhook.c: the s3-webhook watch. */
struct source_webhook;
/* Queues an event: 1 taken, 0 a duplicate, -1 the journal failed. */
typedef int (*webhook_emit_cb)(void *, const struct journal_event *);
struct webhook_tally {
	size_t accepted, duplicate, stale, rejected, ignored;
	int failed; /* the journal failed a write */
};
struct source_webhook *source_webhook_new(const struct cfg_watch *,
    struct journal *, webhook_emit_cb, void *);
void source_webhook_free(struct source_webhook *);
const struct cfg_watch *source_webhook_watch(const struct source_webhook *);
int source_webhook_begin(struct source_webhook *, struct http_request *);
int source_webhook_take(struct source_webhook *, struct http_request *,
    struct webhook_tally *);
void source_webhook_answer(struct source_webhook *, struct http_request *,
    const struct webhook_tally *, int committed);
int source_webhook_event(struct journal *, const struct cfg_watch *,
    const struct s3_event *, struct journal_event *, char **id);

/* source-amqp.c: the amqp watch: S3 event messages from a broker's queue,
 * each acked once every job it started has ended and that end is on
 * disk (the journal's commit, then its WAL's sync). */
struct source_amqp;
struct source_amqp_hooks {
	/* Queues an event; the ids of its jobs not ended yet are added to
	 * *ids; -1 if the journal failed. */
	int (*emit)(void *, const struct journal_event *, int64_t **ids,
	    size_t *n);
	/* A journal write follows (or a commit is due): the number of the
	 * transaction it goes in. */
	uint64_t (*write)(void *);
	void *arg;
};
struct source_amqp *source_amqp_new(const struct cfg *,
    const struct cfg_watch *, struct journal *,
    const struct source_amqp_hooks *);
void source_amqp_free(struct source_amqp *);
int source_amqp_fd(const struct source_amqp *);
int source_amqp_wait(struct source_amqp *);
void source_amqp_run(struct source_amqp *);
void source_amqp_keepalive(struct source_amqp *);
void source_amqp_ended(struct source_amqp *, int64_t id, const char *trigger,
    const char *result, int attempts, const char *error);
void source_amqp_committed(struct source_amqp *, uint64_t tx, int committed,
    struct syncer *);
void source_amqp_synced(struct source_amqp *, uint64_t gen, int error);
void source_amqp_stop(struct source_amqp *);
const char *source_amqp_down(const struct source_amqp *);

/* scheduler.c: events to jobs: matching, queues, retries, batches, and the
 * runs of jobs in workers, with their ends. Its journal writes go into the
 * caller's transaction: hooks.write begins it if need be, and returns its
 * number (a commit that fails loses the runs its transaction started). */
struct scheduler_hooks {
	uint64_t (*write)(void *);
	/* A job ended for good (done, skipped or dead: result), in the
	 * transaction write returned; may be NULL. */
	void (*ended)(void *, int64_t id, const char *trigger,
	    const char *result, int attempts, const char *error);
	void *arg;
};
struct scheduler;
struct scheduler *scheduler_new(const struct cfg *, struct journal *,
    struct worker_pool *, const char *jobs_dir, const struct scheduler_hooks *);
void scheduler_free(struct scheduler *);
int scheduler_queue(struct scheduler *, const struct journal_event *);
int scheduler_queue_held(struct scheduler *, const struct journal_event *,
    int64_t **ids, size_t *n);
struct cfg_trigger;
struct cfg_watch;
int scheduler_match(const struct cfg_trigger *, const struct journal_event *);
char *scheduler_place(const struct cfg_watch *);
unsigned scheduler_fresh(const struct scheduler *, const char *watch);
void scheduler_scanned(struct scheduler *, const char *watch, int listed);
void scheduler_dispatch(struct scheduler *);
void scheduler_hold(struct scheduler *, int);
unsigned scheduler_runs(const struct scheduler *);
unsigned scheduler_running(const struct scheduler *);
int64_t scheduler_batch_due(const struct scheduler *);
int scheduler_again(struct scheduler *);
void scheduler_lose(struct scheduler *, uint64_t);
void scheduler_abort(struct scheduler *, const char *);
int scheduler_outputs_committed(char **cause);

/* scheduler-s3.c */
struct cfg_trigger;
void scheduler_s3_request(const struct cfg *, const struct cfg_trigger *,
    const char *, struct job *, struct wire_msg *);

/* daemon.c */
int daemon_run(const char *config_file);
long daemon_lock_owner(int fd);

/* control.c: what became of a reload or a stop, in STATE/control. */
struct control_record {
	char op[16]; /* reload, stop */
	long pid; /* the daemon's */
	uint64_t started; /* when the daemon took the signal (now_us) */
	char result[16];
	char *lines; /* "LEVEL MESSAGE\n" each */
};
void control_begin(const char *state, const char *op);
void control_update(const char *result);
void control_end(const char *result);
int control_read(const char *state, struct control_record *);

/* notify.c: systemd's notify protocol; nothing without NOTIFY_SOCKET. */
void notify_init(void);
void notify_ready(void);
void notify_reloading(uint64_t started);
void notify_stopping(void);
int notify_wait(void);
void notify_tick(struct journal *, unsigned running);

/* clock.c */
uint64_t now_ms(void);
uint64_t now_us(void);
int64_t wall_ms(void);
void clock_period(int64_t, uint64_t every_ms, int64_t *start, int64_t *end);
const char *clock_period_name(int64_t start, uint64_t every_ms, char *, size_t);

/* template.c: output names. */
struct template_vars {
	const char *key; /* the input's key */
	const char *name; /* the output's path in the job's output folder */
	const char *trigger;
	time_t when;
	const char *period; /* a calendar batch's; NULL: when's local day */
};
int template_check(const char *, char **cause);
char *template_root(const char *);
char *template_expand(const char *, const struct template_vars *, char **cause);
char *template_expand_key(const char *, const struct template_vars *,
    char **cause);

/* progress.c: a command's progress, as a bar on a terminal or lines. */
enum progress_mode { PROGRESS_BAR, PROGRESS_LINES, PROGRESS_QUIET };
struct progress;
struct progress *progress_new(FILE *, int quiet);
enum progress_mode progress_mode(const struct progress *);
int progress_due(const struct progress *, int force);
void progress_show(struct progress *, int force, const char *, ...)
    __attribute__((format(printf, 3, 4)));
const char *progress_bar(uint64_t done, uint64_t total, char *, size_t width);
const char *progress_eta(uint64_t seconds, char *, size_t);
void progress_free(struct progress *);

/* objtrigger.c: the command line. */
const char *plugins_dir(void);
struct worker_pool *pool_for_commands(const struct worker_limits *);

/* cmd-*.c: the commands. */
int cmd_check(int, char **);
int cmd_plugins(int, char **);
int cmd_once(int, char **);
int cmd_run(int, char **);
int cmd_status(int, char **);
int cmd_retry(int, char **);
int cmd_reload(int, char **);
int cmd_stop(int, char **);
int cmd_forget(int, char **);
int status_dead_letters(int, char **, const char *,
    int (*)(struct journal *, const char *, int64_t, int64_t), int,
    const char *);
int cmd_backfill(int, char **);
int signal_held(int lockfd);
int config_check(struct cfg *, struct worker_pool *);
struct json_t;
struct json_t *queues_dead(const struct cfg *);
void queues_print(struct json_t *);
int queues_retry(const struct cfg *, const char *watch);
const char *config_default_file(void);
struct worker_limits config_worker_limits(const struct cfg *);

#endif
