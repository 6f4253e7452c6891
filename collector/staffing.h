/* staffing — what a port's staff do when a queue grows, learned from the
 * lane counts, so the estimator can expect the next booth to open.
 *
 * Ports answer a long queue by opening booths one after another ("surge
 * staffing"). Every rise in the lanes open while units wait is a staffing
 * step; the gap between successive steps is learned (a decayed mean of
 * gaps under an hour), and so is the most lanes ever seen open. While a
 * surge is on — the last step no older than 2 learned gaps and the queue
 * still long — the forecast adds one lane per gap after the last step, up
 * to the most seen. A drop in lanes (a closure) ends the surge. Pure
 * arithmetic, no I/O: tests/unit/test_staffing.c. */
#ifndef POE_STAFFING_H
#define POE_STAFFING_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t lanes;          /* lanes open at the last observation */
    uint32_t max_lanes;      /* the most seen open */
    int64_t last_step_ms;    /* last rise in lanes under a queue; 0 none */
    double gap_s;            /* learned time between steps of a surge; 0 unknown */
    int n_gaps;              /* gaps learned, up to STAFF_GAP_MEMORY */
    bool surge;              /* steps are coming */
} staff_t;

void staff_init(staff_t *s);

/* Note the lanes open at t_ms while the estimated queue holds `units`
 * (waiting and at booths). */
void staff_observe(staff_t *s, int64_t t_ms, uint32_t lanes, double units);

/* Lanes the surge is expected to have added between now_ms and t_ms
 * (t_ms >= now_ms); 0 when no surge is on. */
int staff_added(const staff_t *s, int64_t now_ms, int64_t t_ms);

/* When the surge's next step after t_ms is expected, as forecast at now_ms;
 * INT64_MAX when none (no surge, or the forecast has reached the most lanes
 * seen by t_ms). */
int64_t staff_next_step(const staff_t *s, int64_t now_ms, int64_t t_ms);

#endif
