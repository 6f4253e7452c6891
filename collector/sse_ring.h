/* sse_ring — the live feed's recent updates, shared by the collector's
 * main loop (the one writer) and its HTTP worker threads (the readers that
 * stream them to browsers, collector/sse).
 *
 * The main loop appends each update the ZeroMQ live feed published
 * (collector/pubfeed tap): its sequence number, crossing and JSON body,
 * formatted once as a Server-Sent Events frame ("id: N\nevent: wait\ndata:
 * {...}\n\n") in an immutable, reference-counted event. The ring keeps the
 * newest SSE_RING of them. At the end of the main loop's turn every
 * registered reader is woken once (its wake function, e.g. an eventfd
 * write: it must not block) however many updates the turn appended, and
 * at most once every SSE_WAKE_MIN_MS (a flood of batches is passed on in
 * bunches: each stream gets one write per bunch).
 *
 * A reader asks for the events after the sequence number it has; it gets
 * new references (released with sse_event_unref from any thread, e.g. when
 * libevent has written them) and learns whether the ring still reached
 * back that far. The ring also keeps the bound on streams across every
 * worker and the counters /metrics shows.
 *
 * Threads: sse_ring_new, _add_reader, _remove_reader, _publish and
 * _destroy on the main
 * loop (readers are added before their worker runs); the rest from any
 * thread (a mutex guards the slots; counters are atomics). */
#ifndef POE_SSE_RING_H
#define POE_SSE_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define SSE_RING 4096                 /* recent events kept for resuming */
#define SSE_DEFAULT_CLIENTS 256
#define SSE_MAX_READERS 16
#define SSE_WAKE_MIN_MS 50            /* readers are woken at most this often */

typedef struct {
    atomic_uint refs;
    uint64_t seq;
    char crossing[8];
    size_t len;
    char frame[];                     /* the SSE frame, len bytes (and a NUL) */
} sse_event_t;

/* Why a stream was refused or ended (counted per reason). */
enum sse_why {
    SSE_REFUSED_FULL,                 /* at the bound on streams */
    SSE_REFUSED_BAD_ID,               /* Last-Event-ID not a sequence number */
    SSE_REFUSED_FUTURE_ID,            /* Last-Event-ID ahead of the feed */
    SSE_DROPPED_SLOW,                 /* stopped reading: dropped */
    SSE_WHY_MAX
};

typedef struct sse_ring sse_ring_t;

/* At most max_clients streams at once (<= 0: SSE_DEFAULT_CLIENTS). NULL
 * when out of memory (logged). */
sse_ring_t *sse_ring_new(struct event_base *base, int max_clients);
void sse_ring_destroy(sse_ring_t **self_p);

/* Wake wake(arg) after each main-loop turn that appended. 0, or -1 when
 * SSE_MAX_READERS are registered already. */
int sse_ring_add_reader(sse_ring_t *self, void (*wake)(void *arg), void *arg);
/* Stop waking the reader registered with arg (main loop; its worker has
 * stopped). */
void sse_ring_remove_reader(sse_ring_t *self, void *arg);

/* The live feed published update seq (one higher than the last) for
 * crossing with body (one line of JSON). */
void sse_ring_publish(sse_ring_t *self, uint64_t seq, const char *crossing, const char *body);

/* The newest sequence number published (0: none yet). */
uint64_t sse_ring_seq(const sse_ring_t *self);

/* References of the events after seq `after` into out (room for SSE_RING),
 * oldest first. Returns how many; *newest is the newest published. An
 * update that could not be kept (out of memory) is missing from the list.
 * Returns -1 (nothing taken) when the ring no longer reaches back to
 * after + 1: the reader missed events and must start over from a
 * snapshot. */
int sse_ring_read(sse_ring_t *self, uint64_t after, sse_event_t **out, uint64_t *newest);

void sse_event_ref(sse_event_t *e);
void sse_event_unref(sse_event_t *e);

/* The bound on streams: true and one more counted, or false (and the
 * refusal counted). sse_ring_leave when a stream ends. */
bool sse_ring_admit(sse_ring_t *self);
void sse_ring_leave(sse_ring_t *self);
int sse_ring_max_clients(const sse_ring_t *self);

void sse_ring_count(sse_ring_t *self, enum sse_why why);

/* Streams open now; refusals and drops since start, by reason. */
int sse_ring_clients(const sse_ring_t *self);
uint64_t sse_ring_counted(const sse_ring_t *self, enum sse_why why);
const char *sse_why_name(enum sse_why why);

#endif
