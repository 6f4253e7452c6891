/* giveway — whether work that can wait gives way to more urgent work now,
 * for at most a bound: the forecast runs (collector/fcstore) and the
 * documents' renders (collector/http) wait while agents' frames wait on
 * the loop (ingest_busy), but never longer than their maximum, so a loop
 * busy without end still forecasts and publishes.
 *
 * A busy spell starts when busy() first says so; the work waits until the
 * spell ends or has lasted max_ms. Once the maximum is reached the work
 * runs, and a spell still going on counts as a new one from the next
 * call. Pure: the caller passes the (monotonic) time. */
#ifndef POE_GIVEWAY_H
#define POE_GIVEWAY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool (*busy)(void *arg);    /* NULL: never busy */
    void *arg;
    int64_t max_ms;
    int64_t since_ms;           /* the spell began (monotonic); 0: none */
} giveway_t;

void giveway_init(giveway_t *g, bool (*busy)(void *arg), void *arg, int64_t max_ms);

/* True when the work should wait now (at mono_ms). */
bool giveway_wait(giveway_t *g, int64_t mono_ms);

#endif
