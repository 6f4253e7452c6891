/* rrdpipe — a pipelined rrdcached connection driven by a libevent base.
 *
 * rrdcc (rrdcc.h) makes one round trip per command and waits for it; here
 * many commands are in flight on one Unix socket at once and nothing ever
 * blocks the loop. rrdcached answers the commands of a connection in the
 * order they came, so each command carries its own callback and the replies
 * are handed out in that order as they complete (a status line "<n> ..."
 * and n lines, rrdcc_reply_t).
 *
 * The connection is made on the first command after rrdpipe_new or after a
 * failure; rrdpipe_connects() counts them, so a caller can tell a new
 * rrdcached process may be on the other end. An I/O error, end of file, a
 * reply that is not one, or no progress for timeout_ms while replies are
 * owed closes the connection: every command still owed gets its callback
 * with reply NULL (rrdpipe_error() says why) — what rrdcached did with
 * them is unknown. Callbacks may queue more commands; they must not destroy
 * the pipe. Single-threaded: all calls on the loop's thread. libevent
 * writes without MSG_NOSIGNAL: the process must ignore SIGPIPE (the
 * collector does). */
#ifndef POE_RRDPIPE_H
#define POE_RRDPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rrdcc.h"

struct event_base;
typedef struct rrdpipe rrdpipe_t;

/* reply is NULL when the connection failed before the answer came; it
 * points into the pipe and is valid during the call only. */
typedef void (rrdpipe_fn)(void *arg, const rrdcc_reply_t *reply);

/* address as rrdcc_new ("unix:/path" or "/path"); timeout_ms <= 0 = 5000. */
rrdpipe_t *rrdpipe_new(struct event_base *base, const char *address, int timeout_ms);

/* Fails every command still owed (callbacks run) and frees the pipe. */
void rrdpipe_destroy(rrdpipe_t **self_p);

/* Queue one command line (no newline) and its callback. Connects when
 * needed. 0 queued; -1 when it cannot be (not connected and the connect
 * failed, a newline in line, out of memory): fn is not called then. */
int rrdpipe_send(rrdpipe_t *self, const char *line, rrdpipe_fn *fn, void *arg);

/* Connect now if not connected. 0 connected (already or now), -1 not. */
int rrdpipe_connect(rrdpipe_t *self);
bool rrdpipe_connected(const rrdpipe_t *self);

/* Commands sent and not yet answered. */
size_t rrdpipe_pending(const rrdpipe_t *self);

/* Connections made so far. */
uint64_t rrdpipe_connects(const rrdpipe_t *self);

/* Why the connection last failed ("" before any failure). */
const char *rrdpipe_error(const rrdpipe_t *self);

#endif
