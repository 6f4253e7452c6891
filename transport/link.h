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
#include "spool.h"

struct event_base;
typedef struct link link_t;

/* Called after an acknowledgement moved (e.g. to release spool segments,
 * resume reading a replay file, or exit once everything is durable). */
typedef void(link_progress_fn)(void *arg);

/* One collector. Batches are read from spool (which the agent shares among
 * its links); crossing and direction go into heartbeats with the agent's
 * status, so the collector can answer them with acknowledgements. */
/* With CURVE: the agent's own key pair and the collector's public key
 * (both NULL for a plaintext link). */
typedef struct {
    const char *public_key, *secret_key, *server_key;
} link_curve_t;

link_t *link_new(struct event_base *base, void *zctx, const char *endpoint, spool_t *spool,
                 size_t window, const char *crossing, int direction, const link_curve_t *curve,
                 link_progress_fn *on_progress, void *arg);
void link_destroy(link_t **self_p);

/* Send what the window allows now; call after spool_append. */
void link_pump(link_t *self);

/* True when the collector answered within the last 3 s. */
bool link_alive(const link_t *self);

const char *link_endpoint(const link_t *self);
const outbox_t *link_outbox(const link_t *self);

#endif
