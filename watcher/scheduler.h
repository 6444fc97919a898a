/* scheduler.h - the scheduler's state, shared by scheduler*.c. */

#ifndef SCHEDULER_H
#define SCHEDULER_H

#include "objtrigger.h"

struct scheduler_trigger {
	const struct cfg_trigger *cfg;
	const struct cfg_watch *watch;
	char *place; /* the watch's, as the journal's triggers keep it */
	int fresh; /* its first scan of the place has not ended */
	uint64_t existing; /* objects that scan found, queued or skipped */
	struct param_value *params;
	unsigned running;
	unsigned ended; /* runs that ended */
	uint64_t run_ms; /* how long they took, a moving average */
};

/* A run of a worker: one journal job, or a batch of them. */
struct scheduler_run {
	struct job job;
	struct scheduler *s;
	struct scheduler_trigger *trigger;
	size_t n;
	struct job_input *inputs; /* n of each */
	int64_t *ids;
	int *attempts;
	uint64_t started;
	char *dir;
	struct wire_msg extra; /* the stores and bucket outputs */
	char idbuf[24]; /* the first id */
	uint64_t tx; /* the journal transaction that started it */
	int lost; /* that transaction failed: its ids are not its own */
	int queued; /* sent behind a running job, not started yet */
	char period[32]; /* a calendar batch's period; "" if none */
	char **outputs; /* what it wrote, for a batch's line */
	size_t noutputs;
	unsigned staged; /* its outputs not committed yet */
	struct scheduler_run *prev, *next; /* the running ones */
};

struct scheduler {
	const struct cfg *cfg;
	struct journal *journal;
	struct worker_pool *pool;
	const char *jobs_dir;
	struct scheduler_hooks hooks;
	struct scheduler_trigger *triggers;
	size_t ntriggers;
	struct scheduler_run *jobs; /* running */
	unsigned running; /* runs sent to workers */
	unsigned queued; /* of them, those waiting behind another */
	unsigned ending; /* ended runs whose outputs are being committed */
	int held; /* start nothing new */
	int aborting;
	int again; /* room was freed without a run ending */
	int64_t batch_due; /* when a waiting batch is due; 0: none */
};

uint64_t scheduler_write(struct scheduler *);
void scheduler_ended(struct scheduler *, int64_t, const char *, const char *,
    int, const char *);
void scheduler_cleanup_job(struct scheduler_run *);
void scheduler_job_done(struct job *);

#endif
