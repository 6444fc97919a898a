/* notify.c - the service manager's notify protocol: ready, reloading,
 * stopping, status and watchdog pings, through libsystemd's sd_notify. */

/*
 * Under systemd with Type=notify, NOTIFY_SOCKET names a datagram socket
 * that takes lines such as READY=1. The daemon says READY=1 once its
 * watches and workers are up; RELOADING=1 with MONOTONIC_USEC when it
 * takes a reload, and READY=1 again when the reload is applied or
 * refused; STOPPING=1 when it stops; STATUS= with the queue's counts,
 * when they change, once a second at most. With WatchdogSec= set,
 * WATCHDOG_USEC asks for a WATCHDOG=1 within each such period: the loop
 * pings at half of it, so a loop that stops turning is killed and
 * restarted. Without NOTIFY_SOCKET, nothing is sent.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "objtrigger.h"

#define NOTIFY_STATUS_MS 1000 /* STATUS= once a second at most */

static struct {
	int on; /* NOTIFY_SOCKET is set */
	uint64_t ping_ms; /* half of WATCHDOG_USEC; 0: no watchdog */
	uint64_t pinged; /* now_ms() of the last ping */
	uint64_t status_at; /* of the last STATUS= */
	char status[128]; /* what it said */
} notify;

/* Reads what the service manager asks for. Workers do not see its
 * variables: they keep only a few of the daemon's (worker-pool.c). */
void
notify_init(void)
{
	uint64_t usec;

	notify.on = getenv("NOTIFY_SOCKET") != NULL;
	if (sd_watchdog_enabled(0, &usec) > 0) {
		notify.ping_ms = usec / 2000 > 0 ? usec / 2000 : 1;
		notify.pinged = now_ms();
	}
}

static void
notify_send(const char *what)
{
	int rc;

	if (notify.on && (rc = sd_notify(0, what)) < 0)
		log_warn("sd_notify %s: %s", what, strerror(-rc));
}

void
notify_ready(void)
{
	notify_send("READY=1");
	notify.status_at = 0; /* the counts again now */
}

/* A reload was taken at started (now_us()). */
void
notify_reloading(uint64_t started)
{
	char msg[64];

	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    started);
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

/* How long the loop may wait before the next ping is due; -1: forever. */
int
notify_wait(void)
{
	uint64_t now = now_ms();

	if (notify.ping_ms == 0)
		return -1;
	if (now - notify.pinged >= notify.ping_ms)
		return 0;
	return (int)(notify.ping_ms - (now - notify.pinged));
}

/* Once a turn of the loop: the watchdog's ping if due, and STATUS= with
 * the journal's counts if they changed. */
void
notify_tick(struct journal *journal, unsigned running)
{
	uint64_t now = now_ms(), waiting, dead;
	char status[sizeof notify.status], msg[sizeof status + 8];

	if (notify.ping_ms != 0 && now - notify.pinged >= notify.ping_ms) {
		notify_send("WATCHDOG=1");
		notify.pinged = now;
	}
	if (!notify.on ||
	    (notify.status_at != 0 &&
		now - notify.status_at < NOTIFY_STATUS_MS))
		return;
	notify.status_at = now;
	if (journal_counts(journal, &waiting, &dead) != 0)
		return;
	snprintf(status, sizeof status,
	    "%" PRIu64 " job%s waiting, %u running, %" PRIu64 " dead letter%s",
	    waiting, waiting == 1 ? "" : "s", running, dead,
	    dead == 1 ? "" : "s");
	if (strcmp(status, notify.status) == 0)
		return;
	memcpy(notify.status, status, sizeof status);
	snprintf(msg, sizeof msg, "STATUS=%s", status);
	notify_send(msg);
}
