/* fcstore — the forecasts of every queue the collector knows (one fc_t per
 * queue, collector/forecast.h), kept current as data arrives.
 *
 * Each applied interval is observed by its queue's forecast (profiles and
 * scoring are incremental: nothing rescans the archive per request); a
 * queue's forecast is run again when its data has moved at least a minute
 * (event time) since the last run, and published in its xstate_t
 * (x->forecast[d][k]) for the views. The calendar of a queue is the local
 * week of the port that inspects its direction, and the registry's holiday
 * closures of that side are its holidays. At start, fcstore_learn reads the
 * last 5 weeks of every archived queue (15-minute rows) into the profiles.
 * Runs on the collector's event loop (zone lookups are single-threaded).
 * With a loop (fcstore_start), a due run is not made by the caller (ingest's
 * commit, which acknowledges agents after it): the queue waits (once,
 * however often it is due meanwhile) for a timer that runs the waiting ones
 * oldest first, on their newest data, in slices of FCSTORE_SLICE_MS within
 * FCSTORE_BUDGET_MS of each second, and gives way while the loop has other
 * work waiting (fcstore_set_busy) for up to FCSTORE_DEFER_MAX_MS. A return
 * from an outage, where every agent's first batch makes every queue due
 * (10,000 runs, ~0.25 s), so does not hold up the batches behind it. */
#ifndef POE_FCSTORE_H
#define POE_FCSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "state.h"

#define FCSTORE_REFRESH_S 60
#define FCSTORE_LEARN_DAYS 35
#define FCSTORE_GAP_MAX_S 3600       /* an observation spans at most this since the last */
#define FCSTORE_TAP_MIN 120          /* the present is run forward 2 h at most */
#define FCSTORE_BUDGET_MS 100        /* forecast runs per second of the loop, at most */
#define FCSTORE_PENDING_EVERY_MS 100 /* a queue falling due waits this long for its run */
#define FCSTORE_SLICE_MS 5           /* runs in one turn of the loop, at most */
#define FCSTORE_SLICE_GAP_MS 10      /* between slices (and re-asks while busy) */
#define FCSTORE_DEFER_MAX_MS 1000    /* runs give way to a busy loop this long, at most */

struct event_base;

typedef struct fcstore fcstore_t;

fcstore_t *fcstore_new(state_t *state);
void fcstore_destroy(fcstore_t **self_p);

/* Run due forecasts from a timer on base from now on, within budget_ms per
 * second (FCSTORE_BUDGET_MS in the collector); without it every run is
 * immediate. 0, or -1 logged. The budget can be changed later (0: every
 * run waits). */
int fcstore_start(fcstore_t *self, struct event_base *base, int budget_ms);
void fcstore_set_budget(fcstore_t *self, int budget_ms);
/* busy(arg) says whether the loop has other work waiting (the agents'
 * frames: ingest_busy); NULL never. Asked before each slice of runs. */
void fcstore_set_busy(fcstore_t *self, bool (*busy)(void *arg), void *arg);
/* Queues waiting for their run now, and runs that waited since the start. */
size_t fcstore_pending(const fcstore_t *self);
uint64_t fcstore_deferred(const fcstore_t *self);

/* The queue (x, d, k) has just applied an interval: observe it and run
 * its forecast again when due. */
void fcstore_queue_changed(fcstore_t *self, xstate_t *x, enum tax_dir d, int k);

/* Append to path, from now on, every forecast a queue issues at the first
 * run in each whole hour of event time, one line per step:
 * crossing,direction,mode,lane,issued_unix_s,target_unix_s,p10_s,p50_s,
 * p90_s,wait_now_s (target: the step's start; wait_now_s the estimator's
 * wait at issue, empty when none). The forecast's inputs go to path.in
 * (every observation; the present and expected lanes of the first run in
 * each step), so that bench/forecast can score a changed method offline
 * (--replay-inputs). 0, or -1 with a logged error. */
int fcstore_log_to(fcstore_t *self, const char *path);

/* Learn the profiles of every archived queue from (now_s - 35 d, now_s].
 * Returns the queues learned, or -1 when the archive failed (logged). */
int fcstore_learn(fcstore_t *self, archive_t *archive, int64_t now_s);

/* Run every queue's forecast now (a benchmark of the refresh cost). Returns
 * the number of queues run. */
int fcstore_refresh_all(fcstore_t *self);

#endif
