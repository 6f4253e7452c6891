/* outbox — the agent's side of acknowledged delivery, as a state machine.
 *
 * Owns every packed batch from the moment it gets a sequence number until
 * the collector acknowledges it. Batches go out in sequence order, at most
 * `window` unacknowledged at once (credit); acknowledgements are cumulative.
 * When no acknowledgement advances for resend_after_ms, or the collector
 * asks (Ack.resend), or the link reconnects, sending rewinds to the oldest
 * unacknowledged batch (go-back-N; the collector drops duplicates).
 * No sockets and no clock here: the caller passes `now`. */
#ifndef POE_OUTBOX_H
#define POE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct outbox outbox_t;

typedef struct {
    uint64_t seq;
    uint8_t *buf;
    size_t len;
} outbox_msg_t;

outbox_t *outbox_new(size_t window, int64_t resend_after_ms);
void outbox_destroy(outbox_t **self_p);

/* The sequence number the next pushed batch must carry (starts at 1). */
uint64_t outbox_next_seq(const outbox_t *self);

/* Take ownership of a packed batch carrying outbox_next_seq(). -1 on OOM
 * (the buffer is then freed by the caller). */
int outbox_push(outbox_t *self, uint8_t *buf, size_t len);

/* The next batch to put on the wire now, or NULL (window full or nothing
 * new). Call outbox_sent() once it is really sent. */
const outbox_msg_t *outbox_peek(const outbox_t *self);
void outbox_sent(outbox_t *self, int64_t now_ms);

/* A cumulative acknowledgement. Frees batches <= acked_seq; with resend,
 * rewinds to the first unacknowledged one, at most once per 500 ms (every
 * batch behind a gap asks). Returns how many were freed. */
size_t outbox_ack(outbox_t *self, uint64_t acked_seq, bool resend, int64_t now_ms);

/* Rewind when nothing was acknowledged for resend_after_ms while batches
 * were in flight. Returns true when it rewound. */
bool outbox_tick(outbox_t *self, int64_t now_ms);

/* Send everything unacknowledged again (after a reconnect). */
void outbox_rewind(outbox_t *self);

size_t outbox_pending(const outbox_t *self);   /* unacknowledged, sent or not */
size_t outbox_inflight(const outbox_t *self);  /* sent, not acknowledged */
uint64_t outbox_acked_seq(const outbox_t *self);
uint64_t outbox_resends(const outbox_t *self); /* batches sent more than once */

#endif
