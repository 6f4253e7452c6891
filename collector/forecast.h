/* forecast — the wait of a unit joining a queue in each 15-minute step of
 * the next 24 hours, with P10 / P50 / P90. Pure arithmetic on one queue,
 * no I/O: tests/unit/test_forecast.c; docs/forecast.md has the method and
 * its measured accuracy.
 *
 * Four predictors per step, blended:
 *   - present: the estimator's present run forward as a fluid queue, one
 *     minute at a time, for the next 2 hours: the units in the system now,
 *     arrivals at the rate of the last 15 minutes (its trend damped over 30
 *     minutes, or the weekly arrival profile scaled by today's ratio to it,
 *     the ratio fading over an hour), the lanes the caller expects (lanes
 *     now, the port's lane plan, learned surge staffing; without a plan,
 *     after 30 minutes fading into the lanes usually open then) and,
 *     without a plan, the port's learned reaction to the queue (the mean
 *     change of lanes a step after a wait in each 5-minute bucket, learned
 *     where the port had a lane left to open; beyond the longest wait
 *     seen, as at that wait);
 *   - profile: the hour-of-week profile of the wait (collector/fcprofile.c),
 *     per 15-minute slot of the port's local week: the mean of the weeks
 *     seen until there are four, then recency-weighted; robust; shrunk
 *     toward the slots around it by a learned weight; the registry's
 *     holidays a kind of day of their own;
 *   - anomaly: the profile plus today's departure from it, fading with a
 *     2-hour time constant;
 *   - level: the profile scaled by the ratio of the wait to it over the
 *     last few hours, holding for the rest of the day.
 * The blend is learned, per regime (a queue of 10 minutes or more at
 * issue, or not) and horizon: every mix of the predictors with weights in
 * fifths (56) is scored on every closed step against its wait (the mean
 * travel time of the units that joined in it, once they are out, where
 * re-identification gives 3 or more; else what the estimator measured),
 * and the mix with the least decayed absolute error is used (so its past
 * error is never above that of the profile alone, one of the mixes).
 * P10 / P90 are quantiles of the blended forecast's own past relative
 * errors ((truth − P50) / (P50 + 60 s), a decayed histogram per regime and
 * horizon), interpolated between horizons, read at levels that start at
 * 0.10 / 0.90 and move with the tails' misses (adaptive conformal). With less than a week of data, or for a day after a gap of a
 * day or more, the basis is "short" and the band is wider.
 *
 * Time comes from the caller's calendar (local slot of the week and
 * whether the day is a holiday), so tests run in UTC. Outputs are clamped
 * to [0, FC_MAX_WAIT_S]. */
#ifndef POE_FORECAST_H
#define POE_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_STEP_S 900
#define FC_NSTEPS 96                 /* 24 h */
#define FC_SLOTS 672                 /* 15-minute slots of a week */
#define FC_DAY_SLOTS 96
#define FC_NH 8                      /* horizons the blend and bands are learned at */
#define FC_NCOMP 4
#define FC_NCAND 56                  /* mixes of the predictors tried per horizon */
#define FC_NREG 2                    /* regimes the blend and band are learned in: no queue / a queue */
#define FC_NBINS 48
#define FC_MAX_WAIT_S 43200.0        /* 12 h: anything longer is absurd */
#define FC_SHORT_SPAN_S (7 * 86400)
#define FC_TT_MIN_N 3                /* travel times that make a step's truth */
#define FC_GAP_S 86400               /* no data this long: basis short for as long again */

/* Local slot of the week (0 = Monday 00:00-00:15) of Unix second t, and
 * whether that local day is a holiday; -1 when unknown (the slot of UTC is
 * then used). */
typedef int (*fc_slot_fn)(const void *arg, int64_t t_s, bool *holiday);

typedef struct {
    fc_slot_fn slot;                 /* NULL: UTC weeks, no holidays */
    const void *arg;
} fc_calendar_t;

/* Lanes expected open at t_s (>= now), or -1 when the caller cannot say
 * (lanes now are then kept). */
typedef int (*fc_lanes_fn)(const void *arg, int64_t t_s);

/* The present, as the estimator sees it. */
typedef struct {
    int64_t now_s;
    bool has_wait;                   /* a lane is open and the wait is known */
    double wait_s;                   /* the estimator's wait now */
    double units;                    /* in the system (waiting + at booths) */
    double lanes;                    /* open now */
    double lane_rate;                /* units/s per lane */
    double arr_rate;                 /* true arrivals/s over the last 15 min; <0 unknown */
    double arr_rate_prev;            /* over the 15 minutes before; <0 unknown */
    fc_lanes_fn lanes_at;            /* NULL: lanes stay as they are */
    bool lanes_planned;              /* lanes_at follows the port's plan: trust it all day */
    const void *lanes_arg;
} fc_present_t;

/* A step's start is not kept: it follows from the issue (fc_step_time),
 * and 10,000 queues' results were 8 MB of it. Waits are whole seconds, as
 * they are published (at most FC_MAX_WAIT_S, which 16 bits hold): 6 bytes
 * a step, not 12 as floats, 5.8 MB at 10,000 queues. */
typedef struct {
    uint16_t p10_s, p50_s, p90_s;
} fc_step_t;

typedef struct {
    int64_t issued_s;                /* 0: never run */
    bool short_basis;
    const char *why_short;           /* why the basis is short (static text) */
    fc_step_t step[FC_NSTEPS];       /* step[0] holds issued_s */
} fc_result_t;

typedef struct fc fc_t;

fc_t *fc_new(void);
void fc_destroy(fc_t **self_p);

/* One observation (an estimator interval ending at t_s): the wait then
 * (NAN when no lane was open), true arrivals in the interval and lanes
 * open. Observations going back in time more than a step (a clock jump)
 * are ignored and counted in fc_ignored(). Closing a step updates the
 * profiles and scores the forecasts issued for it. */
void fc_observe(fc_t *self, const fc_calendar_t *cal, int64_t t_s, uint32_t interval_s,
                double wait_s, double arrivals, double lanes);

/* Travel times of re-identified units that left the queue in
 * (t_s - span_s, t_s]: how many and their sum. Each joined about its
 * travel time before it left; once units that joined in a later step are
 * leaving (the queue is first in, first out), a step's joiners are all
 * out, and the mean of its travel times, when FC_TT_MIN_N or more, is the
 * wait that step really had: the wait profile learns it and the blend and
 * band are scored on it instead of the estimator's wait. Without travel
 * times for a day, the estimator's wait is used at once, as before. */
void fc_observe_travel(fc_t *self, int64_t t_s, double span_s, uint32_t count, double sum_s);

/* Learn the profiles from an archived row covering (t_s - step_s, t_s]:
 * mean wait (NAN unknown), true arrivals in the row, mean lanes. Used at
 * start; does not score forecasts. */
void fc_learn(fc_t *self, const fc_calendar_t *cal, int64_t t_s, int64_t step_s,
              double wait_s, double arrivals, double lanes);

/* Forecast the next FC_NSTEPS steps from p->now_s; the first run in a step
 * is recorded to be scored when its targets are over. */
void fc_run(fc_t *self, const fc_calendar_t *cal, const fc_present_t *p, fc_result_t *out);

/* The start of step j (0..FC_NSTEPS-1) of r: the issue for step 0, else
 * the start of its 15 minutes. */
int64_t fc_step_time(const fc_result_t *r, int j);

/* Within the first nsteps steps of r (from its issue), the step with the
 * lowest P50 (the earliest of equals). Returns its index, or -1 when r is
 * empty. */
int fc_best(const fc_result_t *r, int nsteps);

/* Observations ignored as going back in time. */
uint64_t fc_ignored(const fc_t *self);

/* Gaps of FC_GAP_S or more in the data (the basis is short for FC_GAP_S
 * after each). */
uint64_t fc_gaps(const fc_t *self);

/* Days whose waits were far from their weekday's profile all day that the
 * calendar did not call holidays (a holiday the registry lacks?). */
uint64_t fc_odd_days(const fc_t *self);

/* Bytes the forecast holds (its struct and what it has allocated): it
 * grows with what the queue has seen — profile chunks of 6 hours, issues
 * waiting to be scored, what each regime and horizon has learned — from
 * about 1 KB new to about 29 KB with weeks of history
 * (docs/performance.md §4). */
size_t fc_bytes(const fc_t *self);

/* Learned blend weights (present, profile, anomaly) at horizon index h
 * (0..FC_NH-1, steps 0 1 3 7 15 31 63 95) and how many errors back them. */
void fc_weights(const fc_t *self, int regime, int h, double w[FC_NCOMP], double *n);

#endif
