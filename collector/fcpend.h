/* fcpend — the forecasts one queue issued that still wait for the wait of
 * their target step (collector/forecast.c scores them on it): per horizon
 * the blend learns at, the predictors' values and the P50 of each issue,
 * kept as long as that horizon needs them.
 *
 * An issue at step s is scored at horizon h when step s + h_steps[h] has
 * its wait, at most a few steps after it closes (its travel times); so a
 * horizon keeps the issues of the last `keep` steps (h_steps[h] plus that
 * lag) and no more: an issue's near horizons are dropped long before its
 * day-ahead one. Each horizon's ring grows as issues arrive (doubling, up
 * to `keep` entries): a queue that has run a few forecasts holds a few.
 *
 * Pure, no I/O: tests/unit/test_forecast.c. */
#ifndef POE_FCPEND_H
#define POE_FCPEND_H

#include <stddef.h>
#include <stdint.h>

#include "forecast.h"

/* Issue steps a ring keeps: 31 bits (Unix s / FC_STEP_S is about 2^21),
 * so the regime shares their word. The predictors' values are kept in
 * 16 bits, in units of FCPEND_COMP_UNIT_S seconds (±65,534 s: the anomaly
 * and the level may go below 0 or above FC_MAX_WAIT_S before the blend
 * clamps), rounded: a second at most, against errors scored in minutes.
 * 16 bytes an entry, not 24 as floats: a queue's forecast holds ~330 of
 * them once it has a day of history (10,000 queues: 26 MB less). */
#define FCPEND_STEP_MIN (-(INT64_C(1) << 30))
#define FCPEND_STEP_MAX ((INT64_C(1) << 30) - 1)
#define FCPEND_COMP_UNIT_S 2.0
#define FCPEND_COMP_NONE INT16_MIN   /* the predictor had no value */

typedef struct {
    signed int step : 31;            /* issue step (Unix s / FC_STEP_S) */
    unsigned int regime : 1;         /* at issue */
    int16_t comp[FC_NCOMP];          /* the predictors' values: fcpend_comp */
    float p50;
} fcpend_entry_t;

/* Predictor c's value kept in e, in seconds; NAN: it had none. */
double fcpend_comp(const fcpend_entry_t *e, int c);

/* A horizon's ring: cap entries of fcpend_t.e, after those of the
 * horizons before it; n of them from head on, oldest first. */
typedef struct {
    uint16_t cap, head, n;
} fcpend_ring_t;

/* Every horizon's ring in one block (a queue holds one allocation for
 * its issues, not eight, and no pointer per horizon). */
typedef struct {
    fcpend_entry_t *e;
    fcpend_ring_t h[FC_NH];
} fcpend_t;                          /* zeroed: empty */

/* Keep the issue at `step` at horizon h (0..FC_NH-1), dropping those
 * `keep` or more steps older (keep 1..UINT16_MAX). An issue already kept
 * at that step is left as it is; one older than the newest kept starts the
 * horizon afresh (the clock went back). 0, or -1 when the step is outside
 * FCPEND_STEP_MIN..MAX or the regime not 0 or 1, or memory ran out (the
 * issue is then not kept). comp: NAN for a predictor without a value;
 * beyond ±65,534 s a value is kept as that. */
int fcpend_put(fcpend_t *p, int h, int keep, int64_t step, int regime,
               const float comp[FC_NCOMP], float p50);

/* The issue kept at `step` for horizon h, or NULL. */
const fcpend_entry_t *fcpend_get(const fcpend_t *p, int h, int64_t step);

/* Free every ring (p is empty after). */
void fcpend_free(fcpend_t *p);

/* Bytes the rings hold beyond the fcpend_t itself. */
size_t fcpend_bytes(const fcpend_t *p);

#endif
