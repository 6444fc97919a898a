/* daemon.h - the daemon's state, shared by daemon.c and daemon-http.c. */

#ifndef DAEMON_H
#define DAEMON_H

#include "objtrigger.h"

/* A webhook request waiting for the journal's commit. */
struct daemon_wait {
	struct http_request *req;
	struct source_webhook *hook;
	struct webhook_tally tally;
	uint64_t failures; /* the daemon's count when it came */
	uint64_t sync; /* the WAL sync it waits for, once committed */
};

struct daemon {
	struct cfg *cfg;
	const char *config_file;
	struct journal *journal;
	struct worker_pool *pool;
	struct scheduler *sched;
	struct source_folder **sources;
	size_t nsources;
	struct source_s3 **polls;
	size_t npolls;
	struct source_webhook **hooks;
	size_t nhooks;
	struct source_amqp **amqps;
	size_t namqps;
	struct sink_broker **publishers; /* one per broker published to */
	size_t npublishers;
	struct http_server *http;
	struct daemon_wait *waits; /* answered at the next commit */
	size_t nwaits;
	struct daemon_wait *syncing; /* committed, waiting for their sync */
	size_t nsyncing;
	struct syncer *syncer;
	uint64_t failures; /* journal commits that failed */
	uint64_t tx; /* transactions committed or failed so far */
	uint64_t depth, depth_at; /* jobs waiting, as of depth_at */
	char *jobs_dir;
	int sigfd;
	int scanning; /* the folders' first scan of a config is under way */

	int in_tx;
	unsigned tx_writes;
	unsigned held_writes; /* tx_writes when its commit was put off */
	int wal_frames; /* the WAL's pages at the last commit */
	int stopping;
	uint64_t stop_deadline;
	struct cfg *next_cfg; /* a reload waiting for running jobs */
	uint64_t replay_at; /* when lost job ends may be written again */
};

/* daemon.c */
uint64_t daemon_tx(struct daemon *);
int daemon_own_object(struct daemon *, const struct journal_event *);

/* daemon-http.c: what the HTTP server serves, and the webhooks' answers
 * after the journal's commit and its WAL's sync. */
struct http_server *daemon_http_new(struct daemon *, const struct cfg *,
    char **);
int daemon_same_http(const struct cfg_http *, const struct cfg_http *);
void daemon_answer_waits(struct daemon *, int);
void daemon_synced(struct daemon *);
void daemon_drain_syncs(struct daemon *);

/* daemon-amqp.c: the amqp watches, acked after the journal. */
struct pollfd;
void daemon_amqp_setup(struct daemon *);
void daemon_amqp_teardown(struct daemon *);
size_t daemon_amqp_fds(struct daemon *, struct pollfd *, int *);
void daemon_amqp_run(struct daemon *);
void daemon_amqp_keepalive(void *);
void daemon_amqp_ended(void *, int64_t, const char *, const char *, int,
    const char *);
void daemon_amqp_committed(struct daemon *, uint64_t, int);
void daemon_amqp_synced(struct daemon *, uint64_t, int);
void daemon_amqp_stop(struct daemon *);
const char *daemon_amqp_down(const struct daemon *);

#endif
