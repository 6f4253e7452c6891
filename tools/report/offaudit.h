/* offaudit — how good are the official numbers? The analysis behind
 * `poe-report official` (docs/guide-planners.md), pure: two series of one
 * queue on one time grid, our measured wait and the official one (CBP or
 * CBSA, as archived at each poll), in, figures out.
 *
 * - MAE and bias (official − measured) over the rows where both are known;
 * - the lag at which the official series correlates best with ours
 *   (Pearson r, lag 0..max_lag): best_lag_s counts from each official
 *   value's update time (its age removed), so an officer's estimate that
 *   describes the queue of 20 minutes before the update peaks at 20 minutes
 *   however long the value then sits; seen_lag_s counts from the time a
 *   traveller reads it (official at t against ours at t − lag), so it adds
 *   the holding time;
 * - the share of official values (in whole minutes) that are multiples of 5
 *   and of 15: estimates by eye round, measurements do not;
 * - the distribution of the official update age when fetched;
 * - the hours marked "Update Pending". */
#ifndef POE_REPORT_OFFAUDIT_H
#define POE_REPORT_OFFAUDIT_H

#include <stddef.h>
#include <stdint.h>

#define OA_AGE_BUCKETS 5   /* < 15 min, 15-60 min, 1-2 h, 2-6 h, >= 6 h */

typedef struct {
    int64_t step_s;            /* grid step */
    size_t n;                  /* rows */
    const double *measured_s;  /* our wait, NAN unknown */
    const double *official_s;  /* official wait, NAN unknown */
    const double *age_s;       /* official update age when fetched, NAN unknown (may be NULL) */
    const double *status;      /* enum off_status per row, NAN unknown (may be NULL) */
    int64_t max_lag_s;         /* lags tried: 0..max_lag_s in steps of step_s */
} oa_input_t;

typedef struct {
    size_t pairs;              /* rows with both values */
    double mae_min, bias_min;  /* NAN without pairs */
    int64_t best_lag_s;        /* from the update time; -1 when no lag had enough pairs (or no ages) */
    double best_r;             /* correlation at best_lag_s, NAN when none */
    int64_t seen_lag_s;        /* from the reading time; -1 when none */
    double seen_r;
    double r_at_zero;
    size_t official_values;    /* rows with an official wait */
    double share_mult5, share_mult15;  /* of official_values, NAN when none */
    double age_p50_s, age_p90_s, age_max_s;
    double age_share[OA_AGE_BUCKETS];
    double pending_hours;      /* rows with status "Update Pending" × step */
} oa_result_t;

/* 0, or -1 when the input is unusable (no rows, bad step). */
int oa_run(const oa_input_t *in, oa_result_t *out);

/* Bucket labels for age_share. */
const char *oa_age_bucket_name(int i);

#endif
