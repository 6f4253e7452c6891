/* link — the agent's ZeroMQ connection to one collector.
 *
 * Owns the DEALER socket and drives the outbox over it from the agent's
 * libevent loop: sends within the credit window, reads acknowledgements,
 * heartbeats when idle, notices a silent collector within 3 s and rewinds
 * the outbox so nothing unacknowledged is lost. ZeroMQ reconnects the TCP
 * connection by itself; ZMQ_IMMEDIATE keeps batches off half-open links. */
#ifndef POE_LINK_H
#define POE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "outbox.h"

struct event_base;
typedef struct link link_t;

/* Called after an acknowledgement freed batches (e.g. to resume reading a
 * replay file, or to exit once everything is acknowledged). */
typedef void(link_progress_fn)(void *arg);

link_t *link_new(struct event_base *base, void *zctx, const char *endpoint,
                 outbox_t *outbox, uint64_t epoch, link_progress_fn *on_progress, void *arg);
void link_destroy(link_t **self_p);

/* Send what the outbox allows now; call after outbox_push. */
void link_pump(link_t *self);

/* True when the collector answered within the last 3 s. */
bool link_alive(const link_t *self);

#endif
