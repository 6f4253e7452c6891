/* outbox — one collector's delivery cursor over the agent's spool, as a
 * state machine.
 *
 * The batches live in the spool (seqs first..last); the outbox says which
 * seq goes out next to this collector. At most `window` batches are in
 * flight unacknowledged (credit); acknowledgements are cumulative and come
 * in two levels: acked (rrdcached accepted it) frees credit, durable (on
 * the archive's disk) lets the spool delete it. When no acknowledgement
 * advances for resend_after_ms, when the collector asks (Ack.resend), when
 * the collector rolled back (acked went down after it lost accepted data),
 * or when the link reconnects, sending rewinds to the first unacknowledged
 * seq (go-back-N; the collector drops duplicates). No sockets, no clock:
 * the caller passes `now`. */
#ifndef POE_OUTBOX_H
#define POE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct outbox outbox_t;

/* first_unacked: the oldest seq this collector may not have (after an agent
 * restart, the spool's first seq). */
outbox_t *outbox_new(size_t window, int64_t resend_after_ms, uint64_t first_unacked);
void outbox_destroy(outbox_t **self_p);

/* The next seq to put on the wire, given that the spool holds up to
 * last_seq; 0 when the window is full or nothing is new. */
uint64_t outbox_peek(const outbox_t *self, uint64_t last_seq);

/* The seq from outbox_peek was sent. */
void outbox_sent(outbox_t *self, int64_t now_ms);

/* Batches below first_available are gone from the spool: never send them. */
void outbox_skip_to(outbox_t *self, uint64_t first_available);

/* A cumulative acknowledgement. Returns true when acked or durable moved. */
bool outbox_ack(outbox_t *self, uint64_t acked_seq, uint64_t durable_seq, bool resend,
                int64_t now_ms);

/* Rewind when nothing was acknowledged for resend_after_ms while batches
 * were in flight. Returns true when it rewound. */
bool outbox_tick(outbox_t *self, int64_t now_ms);

/* Send everything unacknowledged again (after a reconnect). */
void outbox_rewind(outbox_t *self);

uint64_t outbox_acked_seq(const outbox_t *self);
uint64_t outbox_durable_seq(const outbox_t *self);
size_t outbox_inflight(const outbox_t *self);
uint64_t outbox_resends(const outbox_t *self);   /* batches sent more than once */

#endif
