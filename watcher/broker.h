/* broker.h - one AMQP connection to a RabbitMQ broker (rabbitmq-c). */

#ifndef OT_BROKER_H
#define OT_BROKER_H

#ifdef HAVE_RABBITMQ_C_AMQP_H
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#endif

#include "objtrigger.h"

struct cfg_broker;

/*
 * A connection driven from the daemon's loop, never blocking it but to
 * connect (at most connect-timeout): poll broker_fd() for input, sleep
 * at most broker_wait() ms, then call broker_run(), which reads what came
 * without waiting, sends and checks heartbeats, and reconnects after a
 * backoff with full jitter when the connection went away. Channel 1 is
 * open when the up hook runs; the hook sets the rest up (declares, qos,
 * consume, confirm mode on other channels) with blocking calls bounded
 * by connect-timeout. A channel.close, a connection.close or a
 * basic.cancel from the broker is answered and closes the connection:
 * the down hook runs, every delivery tag and confirm sequence number is
 * void from then on (the broker requeues what was not acked), and the
 * next connection starts afresh.
 */
struct broker_message {
	amqp_channel_t channel;
	amqp_method_number_t method; /* basic.deliver or basic.return */
	uint64_t delivery_tag; /* basic.deliver */
	int redelivered;
	uint16_t reply_code; /* basic.return */
	amqp_bytes_t exchange, routing_key;
	/* Valid while the message hook runs. */
	const amqp_basic_properties_t *properties;
	const char *body;
	size_t len;
};

struct broker;
struct broker_hooks {
	/* Connected, channel 1 open: 0, or -1 with *cause (allocated) to
	 * close and try again later. */
	int (*up)(void *, struct broker *, char **cause);
	/* The connection is gone; why (borrowed). */
	void (*down)(void *, const char *why);
	/* A whole message (basic.deliver, basic.return). */
	void (*message)(void *, struct broker *, const struct broker_message *);
	/* Any other method the broker sent (basic.ack, basic.nack of
	 * publisher confirms); decoded as rabbitmq-c does. */
	void (*method)(void *, struct broker *, amqp_channel_t,
	    const amqp_method_t *);
	void *arg;
};

struct broker *broker_new(const struct cfg_broker *, const char *role,
    const struct broker_hooks *);
void broker_free(struct broker *);
int broker_fd(const struct broker *);
int broker_wait(struct broker *);
void broker_run(struct broker *);
void broker_keepalive(struct broker *);
amqp_connection_state_t broker_conn(const struct broker *);
const char *broker_down_why(const struct broker *);
void broker_fail(struct broker *, const char *why);

/* Blocking use, for commands and the up hook. */
amqp_connection_state_t broker_connect(const struct cfg_broker *,
    const char *role, char **cause);
void broker_disconnect(amqp_connection_state_t);
char *broker_reply_text(amqp_connection_state_t, const char *what);
int broker_reply_ok(amqp_connection_state_t, const char *what, char **cause);
amqp_table_t broker_table(amqp_table_entry_t *, int);

/* broker-queue.c: an amqp watch's queues, QUEUE and QUEUE.dead. */
struct cfg_watch;
typedef void (*broker_queue_report_cb)(void *, const char *line);
char *broker_queue_dead(const struct cfg_watch *);
int broker_queue_exists(amqp_connection_state_t, const char *queue,
    uint32_t *messages, uint32_t *consumers, char **cause);
int broker_queue_declare(amqp_connection_state_t, const struct cfg_broker *,
    const struct cfg_watch *, int apply, broker_queue_report_cb, void *,
    char **cause);
long broker_queue_browse(amqp_connection_state_t, const char *queue,
    uint32_t max, void (*)(void *, const amqp_message_t *), void *,
    char **cause);
long broker_queue_move(amqp_connection_state_t, const char *from,
    const char *to, uint32_t max, char **cause);

#endif
