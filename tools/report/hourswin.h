/* hourswin — hours of operation against demand, for one crossing and mode:
 * the weekly windows when one side is open and the other closed, each
 * side's open stretches (with the demand in their first and last hour),
 * and a recommended common schedule: the fewest open hours of the week
 * that still cover a chosen share of the archived demand.
 *
 * Pure: everything works on one week cut into minutes from a Monday 00:00
 * UTC (HW_MINUTES of them). The caller fills, per minute, each side's state
 * (enum hours_state, from the registry's rules in that side's zone), the
 * archived arrivals per direction (units per week), and the hour of the
 * week in the zone the schedule is written in. */
#ifndef POE_REPORT_HOURSWIN_H
#define POE_REPORT_HOURSWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hours.h"
#include "taxonomy.h"

#define HW_MINUTES (7 * 24 * 60)
#define HW_HOURS (7 * 24)

/* Arrivals per minute of the week, per direction (index dir - 1). */
typedef struct {
    double v[TAX_NDIRS][HW_MINUTES];
} hw_demand_t;

/* A stretch of the week [start, start + len) in minutes from the week start;
 * it may wrap past the end of the week into its beginning. */
typedef struct {
    int start, len;
    enum hours_side open_side;    /* windows: the side that is open */
    double demand[TAX_NDIRS];     /* windows: arrivals in the stretch */
    double first_h[TAX_NDIRS];    /* open stretches: arrivals in the first hour */
    double last_h[TAX_NDIRS];     /* ... and in the last hour */
} hw_span_t;

/* Demand of [start, start + len) (wrapping) for direction index di. */
double hw_demand_sum(const hw_demand_t *d, int di, int start, int len);

/* Windows when exactly one side is open and the other closed (an unknown
 * minute is neither). Writes up to max (in order of start; *n counts all)
 * with their demand. Returns the minutes in all windows. */
int hw_mismatch(const int8_t *us, const int8_t *other, const hw_demand_t *d, hw_span_t *out,
                int max, int *n);

/* A side's open stretches (runs of HOURS_OPEN), each with the demand in its
 * first and last hour. A side open the whole week gives one stretch of
 * HW_MINUTES (no first or last hour: both 0). Up to max; *n counts all. */
void hw_open_runs(const int8_t *state, const hw_demand_t *d, hw_span_t *out, int max, int *n);

/* Demand by hour of the week (both directions), how[m] being the hour of
 * the week (0..167, -1 skip) of minute m. */
void hw_demand_by_hour(const hw_demand_t *d, const int16_t *how, double out[HW_HOURS]);

/* The fewest hours of the week covering at least share (0..1] of the
 * demand: hours by demand, highest first, until the share is reached.
 * Hours with no demand are never opened. Fills open[], returns the number
 * of hours opened and the share covered in *covered (1 when no demand). */
int hw_schedule(const double demand[HW_HOURS], double share, bool open[HW_HOURS], double *covered);

/* The schedule as registry rules (docs/registry.md), one per run of open
 * hours within a day: "mon 05:00-23:00; tue 05:00-23:00; ...", joined with
 * "; ", days in order; consecutive days with the same hours are merged
 * ("mon-fri 05:00-23:00"). "closed" when nothing is open. Returns buf. */
char *hw_schedule_text(const bool open[HW_HOURS], char *buf, size_t len);

#endif
