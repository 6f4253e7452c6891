/* http_ops — /health's body and /metrics' text, rendered off the main loop.
 *
 * Both read the counters, the agents' sessions and the observed hours'
 * counters, which live on the main loop. At 834 agents their render (a
 * line or an object per agent in each: printf and jansson) took 20-30 ms
 * of the loop every second, and the agents' batches that arrived meanwhile
 * waited for it (docs/performance.md §1q). http_ops_start copies what they
 * read on the loop (the counters, and the sessions table: ~0.3 MB at 834
 * agents, a memcpy) and renders the copies on a thread of its own
 * (common/bgjob.c); done is called back on the loop with the bodies. One
 * render at a time; a start while one runs is refused, and the caller
 * starts again at its next tick.
 *
 * http_ops_render is the same render on the caller's thread, from the
 * live inputs (the first snapshot, before there is anything to keep). */
#ifndef POE_HTTP_OPS_H
#define POE_HTTP_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "http_cache.h"
#include "observed.h"
#include "session.h"
#include "stats.h"

struct event_base;
typedef struct http_ops http_ops_t;

/* What the render's inputs were read from. */
typedef struct {
    const stats_t *stats;
    const sess_table_t *sessions;       /* NULL: none */
    const observed_counters_t *hours;   /* NULL: no observed hours */
    bool archive_up;
    int64_t now_ms;                     /* wall clock the documents say */
    int64_t mono_ms;                    /* monotonic time they were taken */
} http_ops_in_t;

/* Called on the loop with a reference to each body (NULL: out of memory,
 * logged) and the inputs' mono_ms; the callee owns the references. */
typedef void(http_ops_done_fn)(void *arg, http_cache_body_t *health, http_cache_body_t *metrics,
                               int64_t mono_ms);

/* A renderer on base, calling done(arg). NULL (logged) when its thread
 * cannot be made. */
http_ops_t *http_ops_new(struct event_base *base, http_ops_done_fn *done, void *arg);

/* Wait for a running render (its done is called), stop the thread, free,
 * set *self_p to NULL. */
void http_ops_destroy(http_ops_t **self_p);

bool http_ops_busy(const http_ops_t *self);

/* Copy in's inputs now and render them on the thread. 0; -1 when a render
 * is still running or the copy ran out of memory (logged). */
int http_ops_start(http_ops_t *self, const http_ops_in_t *in);

/* Render in's inputs here: references in *health and *metrics (NULL: out
 * of memory, logged). */
void http_ops_render(const http_ops_in_t *in, http_cache_body_t **health,
                     http_cache_body_t **metrics);

#endif
