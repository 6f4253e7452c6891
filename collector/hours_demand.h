/* hours_demand — the archived demand of a typical week per crossing,
 * direction and mode, for the one-side-open windows of
 * /v1/hours/mismatches (issue 12) without reading the archive on request.
 *
 * Arrivals of every lane type of a mode are summed in 5-minute bins of the
 * week (bins in UTC: a window is absolute time; a DST change shifts local
 * demand by an hour against the bins for the weeks on its other side), with
 * the seconds of data each bin holds counted from one lane type of the mode
 * (all lane types of a direction come in the same batches). The demand of
 * a window is the sum over its bins of their mean rate × the seconds of the
 * window in them: arrivals in that window of a typical week. Fed by the
 * start-up load (the last 35 days of the archive) and every archived
 * interval after; kept since the collector started. Pure, not thread-safe
 * (observed.c locks). */
#ifndef POE_HOURS_DEMAND_H
#define POE_HOURS_DEMAND_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define HDEM_BIN_S 300
#define HDEM_BINS (7 * 86400 / HDEM_BIN_S)

typedef struct hours_demand hours_demand_t;

/* Bins for every crossing, direction and mode with lanes of reg. NULL when
 * out of memory. */
hours_demand_t *hours_demand_new(const registry_t *reg);
void hours_demand_destroy(hours_demand_t **self_p);

/* Arrivals of one interval of queue (m, t) of crossing ci (registry order),
 * ending at t_end_ms, interval_ms long (in ms: agents' intervals may be a
 * part of a second). */
void hours_demand_add(hours_demand_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                      enum tax_type t, int64_t t_end_ms, uint32_t interval_ms, double arrivals);

/* Arrivals of direction d, mode m in [from_s, to_s) of a typical week (the
 * window folded onto the week's bins; at most a week long). Bins without
 * data count nothing; *covered (may be NULL) gets the share of the window
 * with data. -1 when there is none at all (or no such mode). */
double hours_demand_sum(const hours_demand_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                        int64_t from_s, int64_t to_s, double *covered);

#endif
