/* estimator — the expected wait for a unit joining a queue now.
 *
 * Pure arithmetic on one queue's interval samples, no I/O, so it is tested
 * on hand-computed cases. First estimator (foundation): the count-based
 * queue (entries minus departures, replaced by a queue-detector reading
 * when there is one) divided by the service rate (lanes open × a per-lane
 * rate learned from busy intervals, starting from a prior per lane type). */
#ifndef POE_ESTIMATOR_H
#define POE_ESTIMATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "taxonomy.h"

typedef struct {
    enum tax_mode mode;
    enum tax_type type;
    double queue;           /* units waiting after the last interval */
    double lane_rate;       /* units per lane-second, smoothed */
    int busy_intervals;     /* intervals that taught lane_rate */
} est_t;

typedef struct {
    uint32_t interval_ms;
    uint32_t arrivals, departures, lanes_open;
    bool has_queue_len;
    uint32_t queue_len;
    uint32_t tt_count;      /* re-identified travel times ending in the interval */
    uint32_t tt_sum_s, tt_max_s;
} est_input_t;

typedef struct {
    double queue;           /* units waiting now */
    double service_rate;    /* units per second the open lanes clear */
    bool has_wait;          /* false when no lane is open */
    double wait_s;
} est_output_t;

void est_init(est_t *e, enum tax_mode mode, enum tax_type type);

/* Prior per-lane service rate (units/s) for a queue type. */
double est_prior_lane_rate(enum tax_mode mode, enum tax_type type);

/* Apply one interval (in event-time order) and estimate the wait. */
void est_update(est_t *e, const est_input_t *in, est_output_t *out);

#endif
