/* daemon.c - the daemon's loop: poll, signals, reload, turn bookkeeping. */

/*
 * One thread, one poll loop. Sources turn what they see into jobs in the
 * journal (the scheduler, one per matching trigger), inside a transaction
 * that the loop commits once per turn, so a burst costs one commit per
 * turn, not one per file. The ends of runs are recorded the same way, and
 * webhooks are answered after the commit that holds their records.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "units.h"

#define DAEMON_IDLE_MS 1000 /* look at the journal at least this often */
#define DAEMON_TX_MAX 2000 /* journal writes per transaction at most */
#define DAEMON_RETRY_MS 5000 /* after the journal failed */
#define DAEMON_REPLAY_MS 1000 /* job ends a failed commit lost: again */
#define DAEMON_CHECKPOINT_FRAMES 1000 /* WAL pages that ask for one */

/* A journal write follows: it goes into the turn's transaction, begun
 * here if need be; returns the transaction's number. */
uint64_t
daemon_tx(struct daemon *d)
{
	if (!d->in_tx && journal_begin(d->journal) == 0)
		d->in_tx = 1;
	d->tx_writes++;
	return d->tx;
}

static uint64_t
daemon_write(void *arg)
{
	return daemon_tx(arg);
}

/* Commits what the turn wrote, then hands the outputs it staged to be
 * committed (their jobs end in a later turn). If the journal cannot take
 * it, the events are lost from memory but not from the folders: rescan
 * them later. */
static void
daemon_flush(struct daemon *d)
{
	int committed = 1, frames;
	size_t i;

	if (d->in_tx) {
		d->in_tx = 0;
		d->tx_writes = d->held_writes = 0;
		if (journal_commit(d->journal) != 0) {
			committed = 0;
			d->failures++;
			if (d->sched != NULL)
				scheduler_lose(d->sched, d->tx);
			log_error("the journal did not take the last events: "
				  "rescanning in %ds",
			    DAEMON_RETRY_MS / 1000);
			for (i = 0; i < d->nsources; i++)
				source_folder_plan_rescan(d->sources[i],
				    DAEMON_RETRY_MS);
		}
	}
	/* Each DAEMON_CHECKPOINT_FRAMES pages the WAL grows by. */
	frames = journal_wal_frames(d->journal);
	if (frames / DAEMON_CHECKPOINT_FRAMES >
	    d->wal_frames / DAEMON_CHECKPOINT_FRAMES)
		syncer_checkpoint(d->syncer);
	d->wal_frames = frames;
	daemon_amqp_committed(d, d->tx, committed);
	d->tx++;
	daemon_answer_waits(d, committed);
	sink_folder_commit();
}

/*
 * Commits the turn's transaction, unless it can wait for the sync under
 * way to end: what it holds, acks and webhook answers, would wait for the
 * next sync anyway, and the turns until then share one commit, so fewer
 * of the WAL's pages are written (a page for each index a row touches,
 * whether it holds one job's end or ten). Outputs staged for the folders,
 * a publisher's outbox, a stop or a reload do not wait.
 */
static void
daemon_flush_turn(struct daemon *d)
{
	if (d->in_tx && !d->stopping && d->next_cfg == NULL &&
	    d->npublishers == 0 && !sink_folder_staged() &&
	    d->tx_writes < DAEMON_TX_MAX && syncer_busy(d->syncer)) {
		d->held_writes = d->tx_writes;
		return;
	}
	daemon_flush(d);
}

/* Outputs were committed: their runs end. A failed sync leaves jobs done
 * whose outputs a crash could lose, so the daemon stops before recording
 * them; they run again at the next start. */
static void
daemon_outputs_committed(void)
{
	char *cause;

	if (scheduler_outputs_committed(&cause) != 0)
		fatal("%s: stopping, the jobs whose outputs it held run again "
		      "at the next start",
		    cause);
}

/* The publisher of a broker. */
static struct sink_broker *
daemon_publisher(struct daemon *d, const char *broker)
{
	size_t i;

	for (i = 0; i < d->npublishers; i++) {
		if (strcmp(sink_broker_name(d->publishers[i]), broker) == 0)
			return d->publishers[i];
	}
	return NULL;
}

/* Queues an event's jobs (scheduler_queue), or its message if its watch
 * publishes (w; NULL for a folder), committing the transaction when it
 * grows too big. */
static int
daemon_queue(struct daemon *d, const struct journal_event *e,
    const struct cfg_watch *w)
{
	int rc;

	if (w != NULL && w->publish != NULL) {
		rc = sink_broker_queue(d->journal, w, e, wall_ms());
		if (rc == 1)
			sink_broker_kick(daemon_publisher(d, w->publish));
	} else
		rc = scheduler_queue(d->sched, e);

	if (d->tx_writes >= DAEMON_TX_MAX) {
		daemon_flush(d);
		daemon_tx(d); /* what follows is written in one again */
	}
	return rc;
}

/* Counts an event of a folder or a listing by what became of it. */
static void
daemon_count_event(const struct journal_event *e, int rc)
{
	metrics_add(M_EVENTS, 1, "watch", e->watch, "outcome",
	    rc < 0      ? "failed" :
		rc == 0 ? "duplicate" :
			  "accepted",
	    NULL);
}

/* A folder watch found a file. */
static void
daemon_emit(void *arg, const struct journal_event *e, const char *path,
    const struct stat *sb)
{
	struct daemon *d = arg;
	struct journal_event found = *e;

	if (journal_is_output(d->journal, path, sb)) {
		log_debug("%s: written by objtrigger: skipped", path);
		return;
	}
	if (d->scanning)
		found.existing = JOURNAL_EXISTING_SCAN;
	daemon_count_event(e, daemon_queue(d, &found, NULL));
}

/* Whether a bucket watch's object is one objtrigger put itself (an
 * output), which no watch takes; in the turn's transaction. */
int
daemon_own_object(struct daemon *d, const struct journal_event *e)
{
	const struct cfg_watch *w = cfg_find_watch(d->cfg, e->watch);

	daemon_tx(d);
	if (!journal_is_s3_output(d->journal, w->store, e->folder, e->key,
		e->etag))
		return 0;
	log_debug("%s/%s: put by objtrigger: skipped", e->folder, e->key);
	return 1;
}

/* A bucket watch (a listing or a notification) found an object, or
 * found one gone; as daemon_queue. */
static int
daemon_emit_object(void *arg, const struct journal_event *e)
{
	struct daemon *d = arg;

	if (daemon_own_object(d, e))
		return 1;
	return daemon_queue(d, e, cfg_find_watch(d->cfg, e->watch));
}

static void
daemon_emit_listed(void *arg, const struct journal_event *e)
{
	daemon_count_event(e, daemon_emit_object(arg, e));
}

/* A bucket watch's first listing for its new triggers ended. */
static void
daemon_listed(void *arg, const char *watch)
{
	struct daemon *d = arg;

	scheduler_scanned(d->sched, watch, 1);
}

/* A bucket watch's page is done: make it durable, and go on. */
static void
daemon_page(void *arg)
{
	struct daemon *d = arg;

	daemon_flush(d);
	daemon_tx(d);
}

/* What a config needs that may fail to be had: its HTTP server and its
 * folder watches (a port taken, a folder gone). They are made beside
 * those running, so that a reload that cannot be applied leaves the old
 * config in force. */
struct daemon_parts {
	struct http_server *http;
	int http_kept; /* the running server, whose settings are the same */
	struct source_folder **sources;
	size_t nsources;
};

static void
daemon_parts_free(struct daemon_parts *p)
{
	size_t i;

	if (!p->http_kept)
		http_free(p->http);
	for (i = 0; i < p->nsources; i++)
		source_folder_free(p->sources[i]);
	free(p->sources);
}

/* Makes cfg's parts into p; -1 with *cause (p freed) if one fails. An
 * HTTP server on the same address with other settings cannot be made
 * beside the running one: that one is stopped first (and made again by
 * the caller if this fails). */
static int
daemon_parts_make(struct daemon *d, const struct cfg *cfg,
    struct daemon_parts *p, char **cause)
{
	const struct cfg_watch *w;
	size_t i;

	memset(p, 0, sizeof *p);
	if (d->http != NULL && daemon_same_http(&d->cfg->http, &cfg->http)) {
		p->http = d->http;
		p->http_kept = 1;
	} else if (cfg->http.listen != NULL) {
		if (d->http != NULL && d->cfg->http.listen != NULL &&
		    strcmp(d->cfg->http.listen, cfg->http.listen) == 0) {
			daemon_drain_syncs(d);
			http_free(d->http);
			d->http = NULL;
		}
		if ((p->http = daemon_http_new(d, cfg, cause)) == NULL)
			return -1;
	}
	p->sources = xcalloc(cfg->nwatches, sizeof *p->sources);
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type != CFG_WATCH_FOLDER)
			continue;
		p->sources[p->nsources] =
		    source_folder_new(w, daemon_emit, d, cause);
		if (p->sources[p->nsources] == NULL) {
			daemon_parts_free(p);
			return -1;
		}
		p->nsources++;
	}
	return 0;
}

/* A publisher for a broker that watches publish to. */
static void
daemon_setup_publisher(struct daemon *d, const struct cfg_broker *b)
{
	struct sink_broker_hooks hooks = { daemon_write, d };
	size_t i;

	for (i = 0; i < d->cfg->nwatches; i++) {
		if (d->cfg->watches[i].publish != NULL &&
		    strcmp(d->cfg->watches[i].publish, b->name) == 0)
			break;
	}
	if (i == d->cfg->nwatches)
		return;
	d->publishers[d->npublishers++] =
	    sink_broker_new(b, d->journal, &hooks);
	log_info("broker %s: watches publish their events to exchange %s at "
		 "%s",
	    b->name, b->exchange, b->url);
}

/* Builds the scheduler, the workers and the sources of a config, with
 * the parts made for it. */
static void
daemon_setup(struct daemon *d, struct cfg *cfg, struct daemon_parts *p)
{
	struct worker_limits limits = config_worker_limits(cfg);
	struct source_s3_hooks hooks = { daemon_emit_listed, daemon_page,
		daemon_listed, d };
	struct scheduler_hooks sched = { daemon_write, daemon_amqp_ended, d };
	const struct cfg_watch *w;
	size_t i;

	d->cfg = cfg;
	d->pool = worker_pool_new("/proc/self/exe", cfg->workers.count, &limits,
	    plugins_dir());
	d->sched = scheduler_new(cfg, d->journal, d->pool, d->jobs_dir, &sched);
	d->http = p->http;
	d->sources = p->sources;
	d->nsources = p->nsources;
	d->polls = xcalloc(cfg->nwatches, sizeof *d->polls);
	d->hooks = xcalloc(cfg->nwatches, sizeof *d->hooks);
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type == CFG_WATCH_S3_WEBHOOK)
			d->hooks[d->nhooks++] = source_webhook_new(w,
			    d->journal, daemon_emit_object, d);
		if (w->interval_ms != 0) /* a poll, or a reconciliation */
			d->polls[d->npolls++] = source_s3_new(w,
			    cfg_find_store(cfg, w->store), d->journal, &hooks,
			    scheduler_fresh(d->sched, w->name) > 0);
	}
	daemon_amqp_setup(d);
	d->publishers = xcalloc(cfg->nbrokers, sizeof *d->publishers);
	for (i = 0; i < cfg->nbrokers; i++)
		daemon_setup_publisher(d, &cfg->brokers[i]);
	d->scanning = 1;
	for (i = 0; i < d->nsources; i++) /* files that came while down */
		source_folder_rescan(d->sources[i]);
	d->scanning = 0;
	for (i = 0; i < cfg->nwatches; i++) {
		w = &cfg->watches[i];
		if (w->type == CFG_WATCH_FOLDER || w->interval_ms == 0)
			scheduler_scanned(d->sched, w->name,
			    w->type == CFG_WATCH_FOLDER);
	}
	daemon_flush(d);
	if (d->http != NULL && !p->http_kept)
		log_info("http: listening on %s%s", cfg->http.listen,
		    cfg->http.cert_file != NULL ? " (TLS)" : "");
	log_info("watching %zu folder%s, %zu bucket listing%s, %zu "
		 "webhook%s and %zu queue%s with %zu trigger%s and %u worker%s",
	    d->nsources, d->nsources == 1 ? "" : "s", d->npolls,
	    d->npolls == 1 ? "" : "s", d->nhooks, d->nhooks == 1 ? "" : "s",
	    d->namqps, d->namqps == 1 ? "" : "s", cfg->ntriggers,
	    cfg->ntriggers == 1 ? "" : "s", cfg->workers.count,
	    cfg->workers.count == 1 ? "" : "s");
}

/* Ends what daemon_setup built; the HTTP server too unless keep_http. */
static void
daemon_teardown(struct daemon *d, int keep_http)
{
	size_t i;

	for (i = 0; i < d->nsources; i++)
		source_folder_free(d->sources[i]);
	free(d->sources);
	d->sources = NULL;
	d->nsources = 0;
	for (i = 0; i < d->npolls; i++)
		source_s3_free(d->polls[i]);
	free(d->polls);
	d->polls = NULL;
	d->npolls = 0;
	for (i = 0; i < d->npublishers; i++)
		sink_broker_free(d->publishers[i]);
	free(d->publishers);
	d->publishers = NULL;
	d->npublishers = 0;
	daemon_drain_syncs(d); /* nothing left uncommitted: flushed */
	if (!keep_http)
		http_free(d->http);
	d->http = NULL;
	for (i = 0; i < d->nhooks; i++)
		source_webhook_free(d->hooks[i]);
	free(d->hooks);
	d->hooks = NULL;
	d->nhooks = 0;
	daemon_amqp_teardown(d);
	free(d->waits);
	d->waits = NULL;
	free(d->syncing);
	d->syncing = NULL;
	scheduler_free(d->sched);
	d->sched = NULL;
	worker_pool_free(d->pool);
	d->pool = NULL;
	cfg_free(d->cfg);
	d->cfg = NULL;
}

/* Loads and checks a config, logging every error; NULL if it has any. */
static struct cfg *
daemon_load(const char *file)
{
	struct cfg *cfg = cfg_load(file);
	struct worker_limits limits = config_worker_limits(cfg);
	struct worker_pool *pool = pool_for_commands(&limits);
	size_t i;

	config_check(cfg, pool);
	worker_pool_free(pool);
	if (cfg->nerrors == 0)
		return cfg;
	cfg_sort_errors(cfg);
	for (i = 0; i < cfg->nerrors; i++)
		log_error("%s:%u: %s", cfg->file, cfg->errors[i].line,
		    cfg->errors[i].message);
	log_error("%s: %zu error%s", cfg->file, cfg->nerrors,
	    cfg->nerrors == 1 ? "" : "s");
	cfg_free(cfg);
	return NULL;
}

static void
daemon_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char grace[32];
	struct cfg *cfg;
	unsigned runs;
	size_t i;

	while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP && !d->stopping) {
			control_begin(d->cfg->state, "reload");
			log_info("reloading %s", d->config_file);
			if ((cfg = daemon_load(d->config_file)) == NULL) {
				log_error("the new config has errors: the old "
					  "one stays in force");
				control_end("failed");
				continue;
			}
			if (strcmp(cfg->state, d->cfg->state) != 0) {
				log_error(
				    "the state folder cannot change on "
				    "reload (restart objtrigger to move it): "
				    "the old config stays in force");
				cfg_free(cfg);
				control_end("failed");
				continue;
			}
			cfg_free(d->next_cfg);
			d->next_cfg = cfg;
			scheduler_hold(d->sched, 1);
			if ((runs = scheduler_runs(d->sched)) > 0) {
				log_info("the new config takes over when the "
					 "%u running job%s end%s",
				    runs, runs == 1 ? "" : "s",
				    runs == 1 ? "s" : "");
				control_update("waiting");
			}
		} else if (si.ssi_signo != SIGHUP && !d->stopping) {
			control_begin(d->cfg->state, "stop");
			cfg_free(d->next_cfg); /* a reload waiting: dropped */
			d->next_cfg = NULL;
			log_info("stopping: %u job%s running, %s to finish",
			    scheduler_runs(d->sched),
			    scheduler_runs(d->sched) == 1 ? "" : "s",
			    units_format_duration(d->cfg->workers.grace_ms,
				grace, sizeof grace));
			d->stopping = 1;
			daemon_amqp_stop(d);
			for (i = 0; i < d->npublishers; i++)
				sink_broker_stop(d->publishers[i]);
			scheduler_hold(d->sched, 1);
			d->stop_deadline = now_ms() + d->cfg->workers.grace_ms;
			control_update("stopping");
		}
	}
}

/* Messages published and not confirmed yet: a stop waits for their
 * confirms, within its grace, or they are sent again at the next start. */
static unsigned
daemon_unconfirmed(struct daemon *d)
{
	unsigned n = 0;
	size_t i;

	if (now_ms() >= d->stop_deadline)
		return 0;
	for (i = 0; i < d->npublishers; i++)
		n += sink_broker_unconfirmed(d->publishers[i]);
	return n;
}

/* Puts a reloaded config in force once no job runs: its parts are made
 * first, beside the running ones, and if one cannot be, the old config
 * stays in force. */
static void
daemon_apply_reload(struct daemon *d)
{
	struct cfg *cfg = d->next_cfg;
	struct daemon_parts p;
	char *cause;

	d->next_cfg = NULL;
	if (daemon_parts_make(d, cfg, &p, &cause) != 0) {
		log_error("the new config cannot be applied: %s: the old one "
			  "stays in force",
		    cause);
		free(cause);
		cfg_free(cfg);
		if (d->http == NULL && d->cfg->http.listen != NULL &&
		    (d->http = daemon_http_new(d, d->cfg, &cause)) == NULL) {
			log_error("%s", cause);
			free(cause);
		}
		scheduler_hold(d->sched, d->stopping);
		control_end("failed");
		return;
	}
	daemon_teardown(d, p.http_kept);
	daemon_setup(d, cfg, &p);
	log_info("reloaded %s", d->config_file);
	control_end("applied");
}

static int
daemon_min_wait(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* One turn of the loop: wait for something, then handle it. */
static void
daemon_turn(struct daemon *d)
{
	size_t n = 0, i, np, nfixed, npool = worker_pool_size(d->pool);
	struct pollfd *pfd = xcalloc(5 + d->nsources + npool + d->namqps +
		d->npublishers + d->npolls,
	    sizeof *pfd);
	size_t npoolfd;
	int wait = DAEMON_IDLE_MS, pool_wait, again, read;
	int64_t due, now;

	pfd[n].fd = d->sigfd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = syncer_fd(d->syncer);
	pfd[n++].events = POLLIN;
	pfd[n].fd = sink_folder_commit_fd();
	pfd[n++].events = POLLIN;
	if (d->http != NULL) { /* answered while stopping too */
		pfd[n].fd = http_fd(d->http);
		pfd[n++].events = POLLIN;
		wait = daemon_min_wait(wait, http_wait(d->http));
	}
	for (i = 0; i < d->npublishers;
	     i++) { /* -1 while down: poll skips it */
		pfd[n].fd = sink_broker_fd(d->publishers[i]);
		pfd[n++].events = POLLIN;
		wait =
		    daemon_min_wait(wait, sink_broker_wait(d->publishers[i]));
	}
	nfixed = np = n;
	if (!d->stopping && d->next_cfg == NULL) {
		for (i = 0; i < d->nsources; i++) {
			pfd[n].fd = source_folder_fd(d->sources[i]);
			pfd[n++].events = POLLIN;
			wait = daemon_min_wait(wait,
			    source_folder_tick(d->sources[i]));
		}
		for (i = 0; i < d->npolls; i++)
			wait =
			    daemon_min_wait(wait, source_s3_wait(d->polls[i]));
		/* A retry already due waits for room: the dispatch before
		 * this turn started every due job that had some. */
		now = wall_ms();
		due = journal_next_due(d->journal, now);
		if (due > now)
			wait = daemon_min_wait(wait, (int)(due - now));
		due = scheduler_batch_due(d->sched);
		if (due > now) /* a batch waiting to fill */
			wait = daemon_min_wait(wait, (int)(due - now));
	}
	np = n;
	/* Ends a failed commit lost are written again, once a second. */
	if (journal_pending(d->journal) && now_ms() >= d->replay_at) {
		d->replay_at = now_ms() + DAEMON_REPLAY_MS;
		daemon_tx(d);
	}
	/* Settled files were queued, or jobs skipped: start the next. */
	again = d->in_tx && d->tx_writes != d->held_writes;
	again |= scheduler_again(d->sched);
	n += worker_pool_fds(d->pool, pfd + n, &pool_wait);
	wait = daemon_min_wait(wait, pool_wait);
	npoolfd = n;
	n += daemon_amqp_fds(d, pfd + n, &wait);
	for (i = 0; !d->stopping && d->next_cfg == NULL && i < d->npolls; i++) {
		if ((pfd[n].fd = source_s3_fd(d->polls[i])) >= 0)
			pfd[n++].events = POLLIN; /* a page came */
	}
	wait = daemon_min_wait(wait, notify_wait());
	if (d->stopping)
		wait = daemon_min_wait(wait,
		    d->stop_deadline <= now_ms() ?
			0 :
			(int)(d->stop_deadline - now_ms()));
	if (again)
		wait = 0;
	if (poll(pfd, n, wait) < 0 && errno != EINTR)
		fatal("poll: %s", strerror(errno));
	if (pfd[0].revents & POLLIN)
		daemon_signal(d);
	if (pfd[1].revents & POLLIN)
		daemon_synced(d);
	if (pfd[2].revents & POLLIN)
		daemon_outputs_committed();
	for (i = nfixed, read = 0; i < np; i++) {
		if (pfd[i].revents & POLLIN) {
			source_folder_read(d->sources[i - nfixed]);
			read = 1;
		}
	}
	/* A file's job starts before its event is committed: a crash before
	 * the commit finds the file again at the next start. */
	if (read)
		scheduler_dispatch(d->sched);
	if (d->http != NULL)
		http_run(d->http);
	worker_pool_dispatch(d->pool, pfd + np, npoolfd - np);
	daemon_amqp_run(d);
	/* Ends of jobs and webhooks' records: committed now, or with the
	 * next turns' while a sync runs. */
	daemon_flush_turn(d);
	for (i = 0; !d->stopping && d->next_cfg == NULL && i < d->npolls; i++)
		source_s3_poll(d->polls[i]);
	daemon_flush_turn(d);
	/* Confirms, then what the turn's commit made durable is sent: its
	 * marks are committed with the next turn's writes. */
	for (i = 0; i < d->npublishers; i++)
		sink_broker_run(d->publishers[i]);
	if (d->http != NULL) /* send the answers of the commit */
		http_run(d->http);
	notify_tick(d->journal, scheduler_runs(d->sched));
	free(pfd);
}

/* The pid in a held lock file, or 0 if it holds none. */
long
daemon_lock_owner(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* Takes the state folder's lock (STATE/lock, which holds the pid of the
 * daemon that has it); the descriptor, or -1 with the reason logged. */
static int
daemon_lock(const char *state)
{
	char *path, pid[32];
	long owner;
	int fd;

	if (mkdir(state, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make the state folder: mkdir %s: %s", state,
		    strerror(errno));
		return -1;
	}
	xasprintf(&path, "%s/lock", state);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK && (owner = daemon_lock_owner(fd)) > 0)
			log_error("another objtrigger (pid %ld) runs with the "
				  "state folder %s",
			    owner, state);
		else if (errno == EWOULDBLOCK)
			log_error("another objtrigger runs with the state "
				  "folder %s",
			    state);
		else
			log_error("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		log_warn("%s: cannot write the pid: %s", path, strerror(errno));
	free(path);
	return fd;
}

/* Runs the daemon until SIGTERM or SIGINT; returns the exit status. */
int
daemon_run(const char *config_file)
{
	struct daemon d = { .config_file = config_file, .sigfd = -1 };
	struct daemon_parts parts;
	sigset_t sigs;
	char *cause;
	int lock, requeued, rc = 1;
	unsigned runs;

	notify_init();
	if ((d.cfg = daemon_load(config_file)) == NULL)
		return 1;
	if ((lock = daemon_lock(d.cfg->state)) < 0) {
		cfg_free(d.cfg);
		return 1;
	}
	if ((d.journal = journal_open(d.cfg->state, &cause)) == NULL) {
		log_error("%s", cause);
		free(cause);
		cfg_free(d.cfg);
		close(lock);
		return 1;
	}
	prctl(PR_SET_DUMPABLE, 0); /* as a worker: it holds the keys */
	journal_count_frames(d.journal);
	journal_busy_hook(d.journal, daemon_amqp_keepalive, &d);
	if ((d.syncer = syncer_new(journal_path(d.journal), &cause)) == NULL ||
	    sink_folder_commit_start(&cause) != 0)
		fatal("%s", cause);
	xasprintf(&d.jobs_dir, "%s/jobs", d.cfg->state);
	sink_folder_remove_tree(d.jobs_dir);
	mkdir(d.jobs_dir, 0700);
	if ((requeued = journal_requeue(d.journal)) > 0)
		log_info("%d job%s that ran when objtrigger stopped %s again",
		    requeued, requeued == 1 ? "" : "s",
		    requeued == 1 ? "runs" : "run");

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	d.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

	if (daemon_parts_make(&d, d.cfg, &parts, &cause) != 0) {
		log_error("%s", cause);
		free(cause);
	} else {
		daemon_setup(&d, d.cfg, &parts);
		notify_ready();
		while (!d.stopping || scheduler_runs(d.sched) > 0 ||
		    daemon_unconfirmed(&d) > 0) {
			scheduler_dispatch(d.sched);
			daemon_flush_turn(&d);
			daemon_turn(&d);
			runs = scheduler_runs(d.sched);
			if (d.stopping && runs > 0 &&
			    now_ms() >= d.stop_deadline) {
				log_warn("%u job%s did not finish in time: %s "
					 "again at the next start",
				    runs, runs == 1 ? "" : "s",
				    runs == 1 ? "it runs" : "they run");
				scheduler_abort(d.sched, "objtrigger stopped");
			}
			if (d.next_cfg != NULL && runs == 0) {
				daemon_flush(&d);
				daemon_apply_reload(&d);
			}
		}
		daemon_flush(&d);
		log_info("stopped");
		control_end("stopped");
		rc = d.stopping ? 0 : 1;
	}
	daemon_teardown(&d, 0);
	cfg_free(d.next_cfg);
	sink_folder_commit_stop();
	syncer_free(d.syncer);
	journal_close(d.journal);
	close(d.sigfd);
	close(lock);
	free(d.jobs_dir);
	return rc;
}
