/* fcpresent — the forecast's present run forward (collector/forecast.c):
 * the estimator's present as a fluid queue, minute by minute, for the next
 * FCPR_MAX_S: the units in the system now; arrivals at the rate of the
 * last 15 minutes (its trend damped over 30 minutes) or, once the weekly
 * arrival profile is known, that profile scaled by today's ratio to it
 * (fading over an hour); the lanes the caller expects, after 30 minutes
 * fading into the lanes usually open then unless they follow a plan; and
 * without a plan the port's learned reaction to its queue (the mean change
 * of lanes a step after a wait in each 5-minute bucket, within the most
 * lanes seen; beyond the longest wait seen, as at that wait). Its own
 * module since issue 15 (forecast.c grew past the size of a file).
 *
 * Pure arithmetic, no I/O: tests/unit/test_forecast.c. */
#ifndef POE_FCPRESENT_H
#define POE_FCPRESENT_H

#include <stdint.h>

#include "forecast.h"

#define FCPR_REACT_NB 10                 /* wait buckets of the learned staffing response */
#define FCPR_REACT_BUCKET_S 300.0        /* 5 minutes each (the last: 45 min and more) */
#define FCPR_MAX_S (2 * 3600.0)          /* the present run forward is used this far */

/* The port's learned reaction (forecast.c keeps it). */
typedef struct {
    const float *react;                  /* FCPR_REACT_NB: mean change of lanes a step later */
    const float *react_w;                /* FCPR_REACT_NB: its decayed weight (>= 1: known) */
    float lanes_max;                     /* the most lanes seen */
} fcpr_react_t;

/* The reaction's bucket of a wait (seconds). */
int fcpr_bucket(double wait);

/* The mean wait of a unit joining in each step from s0 (the step of
 * p->now_s), the queue run forward as far as FCPR_MAX_S reaches (NAN
 * beyond). pa_now: the arrival profile now (NAN unknown); prof_arr,
 * prof_l: the arrival and lanes profiles of each step (NAN unknown). */
void fcpr_run(const fcpr_react_t *r, const fc_present_t *p, double pa_now, int64_t s0,
              const double prof_arr[FC_NSTEPS], const double prof_l[FC_NSTEPS],
              double out[FC_NSTEPS]);

#endif
