/* link — a sender's ZeroMQ connection to one collector.
 *
 * Owns the DEALER socket and drives its outbox over it from the sender's
 * libevent loop: sends within the credit window, reads acknowledgements,
 * heartbeats when idle, notices a silent collector within 3 s and rewinds
 * the outbox so nothing unacknowledged is lost. Samples a collector
 * refused (its Ack says which, by reason) are counted and logged once a
 * minute (refusals.h). ZeroMQ reconnects the TCP
 * connection by itself; ZMQ_IMMEDIATE keeps batches off half-open links. */
#ifndef POE_LINK_H
#define POE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "curve.h"
#include "outbox.h"
#include "refusals.h"
#include "spool.h"

struct event_base;
typedef struct link link_t;

/* Called after an acknowledgement moved (e.g. to release spool segments,
 * resume reading a replay file, or exit once everything is durable). */
typedef void(link_progress_fn)(void *arg);

/* Called with what a collector refused of a batch (protocol 2 Ack). */
typedef void(link_refused_fn)(void *arg, const wire_refusals_t *r);

typedef struct {
    const char *endpoint;
    const char *crossing;       /* for heartbeats, which carry the sender's status */
    int direction;
    const curve_pair_t *key;    /* this end's key pair; NULL for a plaintext link */
    const char *server_key;     /* the collector's public key (Z85), with key */
    link_refused_fn *on_refused; /* may be NULL */
    void *refused_arg;
} link_opts_t;

/* One collector. Batches are read from spool (shared by all links of a
 * sender); outbox is this collector's cursor, owned by the caller (the
 * sender keeps it so its fan-out logic runs without sockets). NULL on
 * failure (logged). */
link_t *link_new(struct event_base *base, void *zctx, const link_opts_t *o, spool_t *spool,
                 outbox_t *outbox, link_progress_fn *on_progress, void *arg);
void link_destroy(link_t **self_p);

/* Send what the window allows now; call after spool_append. */
void link_pump(link_t *self);

/* True when the collector answered within the last 3 s. */
bool link_alive(const link_t *self);

const char *link_endpoint(const link_t *self);

/* What this collector refused so far, by reason (refusals.h). */
const refusals_t *link_refusals(const link_t *self);

#endif
