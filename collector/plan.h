/* plan — the lanes each port plans to open, hour by hour of the week (its
 * staffing plan), so the estimator can see a shift change coming.
 *
 * Plans are read at start from --lane-plans DIR: one file per crossing
 * direction, DIR/<crossing>-<direction>.csv (e.g. 250401-northbound.csv),
 * in the weekly-table format of common/wtab.h: a column per queue
 * (passenger-standard, ...), a row wherever the plan changes, hour 0 =
 * Monday 00:00 in the zone of the port that inspects that direction unless
 * the file says "# timezone: ZONE". A queue without a column has no plan
 * (its lanes are assumed to stay as they are). poe-sim --plan-out writes
 * the plan of a simulated scenario. */
#ifndef POE_PLAN_H
#define POE_PLAN_H

#include <stdint.h>

#include "registry.h"
#include "taxonomy.h"

typedef struct plan plan_t;

/* Load one plan file; hours are local to default_tz unless the file names
 * its zone. NULL with a logged "file:line: reason" error. */
plan_t *plan_load(const char *path, const char *default_tz);
void plan_destroy(plan_t **self_p);

/* Lanes planned for queue (tax_queue_index) at Unix ms t; -1 when the plan
 * has no column for that queue or its zone is unusable. */
int plan_lanes(const plan_t *self, int queue, int64_t t_ms);

/* What the estimator calls (est_plan_fn): arg is a plan_ref_t. */
typedef struct {
    const plan_t *plan;
    int queue;
} plan_ref_t;
int plan_ref_lanes(const void *arg, int64_t t_ms);

/* The plans of every crossing direction of the registry found in dir:
 * plans[i][d] for reg_at(reg, i) and direction d+1 (NULL: none). Returns
 * 0, or -1 when a file exists but is broken (logged; *plans is then NULL:
 * all or nothing); *nfound counts the plans loaded. Free with
 * plan_free_all. */
int plan_load_dir(const char *dir, const registry_t *reg, plan_t *(**plans)[TAX_NDIRS],
                  int *nfound);
void plan_free_all(plan_t *(**plans)[TAX_NDIRS], size_t n);

#endif
