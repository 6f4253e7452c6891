/* zwatch — one ZeroMQ socket driven from a libevent base.
 *
 * ZeroMQ exposes a socket's readiness through ZMQ_FD, which is
 * edge-triggered: it signals only that ZMQ_EVENTS may have changed, and any
 * operation on the socket (a send included) can consume the edge. The one
 * correct pattern, done here once for every user: on each wake-up read
 * messages until a read finds nothing, then read ZMQ_EVENTS (that is what
 * re-arms the edge) and come back while it says POLLIN; after a burst,
 * yield and continue from a zero-timeout timer so timers and other sockets
 * have their turn (event_active would run again before polling); re-check
 * after sends made outside a wake-up (zwatch_kick); check once at start,
 * since messages that arrived before the watch began raise no edge; and
 * never let anyone else ask ZMQ_EVENTS (zwatch_pending). The watcher never
 * owns the socket. */
#ifndef POE_ZWATCH_H
#define POE_ZWATCH_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
typedef struct zwatch zwatch_t;

typedef struct {
    /* Read and handle one message (all its parts) with ZMQ_DONTWAIT.
     * Return 0 when one was read, -1 when nothing was there. */
    int (*on_message)(void *arg);
    /* Optional: after a wake-up read everything there was (or its burst). */
    void (*on_drained)(void *arg);
    void *arg;
    size_t burst;   /* messages per wake-up before yielding; 0 = 256 */
} zwatch_handlers_t;

/* Watch sock on base. NULL on failure (logged). */
zwatch_t *zwatch_new(struct event_base *base, void *sock, const zwatch_handlers_t *h);
void zwatch_destroy(zwatch_t **self_p);

/* Re-check the socket soon: call after sending on it outside on_message. */
void zwatch_kick(zwatch_t *self);

/* Whether a message waits to be read, asked outside a wake-up. Asking
 * ZMQ_EVENTS consumes the edge that would wake the watch, so never ask it
 * of a watched socket directly: this schedules the turn that edge would
 * have started. */
bool zwatch_pending(zwatch_t *self);

#endif
