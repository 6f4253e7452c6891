/* bottleneck — the figures of one queue over a period, from its archived
 * rows: wait percentiles, hours per week above a target wait, the per-lane
 * service rate observed when every open booth had someone to serve,
 * utilisation, and per hour of the week the demand, the lanes open, the
 * mean wait and the lanes an M/M/c (Erlang-C) model says keep the mean wait
 * at or under the target. Also the ranking of queues, worst first.
 *
 * Pure: the caller reads the rows (scan.c) and says which hour of the week
 * each row falls in (local time of the side that inspects the queue). */
#ifndef POE_REPORT_BOTTLENECK_H
#define POE_REPORT_BOTTLENECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "scan.h"

#define BN_HOURS 168
#define BN_NO_DATA (-2)     /* need_how[]: no rows in that hour */
#define BN_CANNOT (-1)      /* need_how[]: no lane count reaches the target */

typedef struct {
    scan_queue_t q;
    int64_t step;               /* row length of the series analysed, s */
    size_t nwait;               /* rows with a known wait (open, estimated) */
    double p50_s, p85_s, p95_s; /* NAN when nwait is 0 */
    double mean_wait_s;
    double weeks;               /* observed time (rows with lanes known) in weeks */
    double hours_above_week;    /* hours per observed week with wait > target */
    double mu;                  /* per-lane service rate, units/s (NAN unknown) */
    bool mu_busy;               /* mu from busy rows (queue >= lanes); else from all open rows */
    double arrivals_week;       /* units per observed week */
    double utilisation;         /* arrivals / (lanes open x mu x time); NAN unknown */
    double lambda_how[BN_HOURS];/* arrivals per second by hour of week, NAN no rows */
    double lanes_how[BN_HOURS]; /* mean lanes open */
    double wait_how[BN_HOURS];  /* mean wait, s, NAN none known */
    int need_how[BN_HOURS];     /* Erlang-C lanes needed, or BN_NO_DATA / BN_CANNOT */
    int need_max;               /* most lanes needed in any hour (0 none) */
} bn_result_t;

/* p-th quantile (0..1) of v[0..n) with linear interpolation between order
 * statistics (type 7). Sorts v in place. NAN when n is 0. */
double bn_percentile(double *v, size_t n, double p);

/* Analyse series s of queue q. how[i] is the hour of the week of row i
 * (-1 = skip the row). target_s is the wait target, max_lanes the most
 * lanes the Erlang-C search may propose. 0, or -1 out of memory (logged). */
int bn_analyse(const scan_queue_t *q, const arch_series_t *s, const int16_t *how, double target_s,
               int max_lanes, bn_result_t *out);

/* Sort worst first: more hours above the target, then a higher p95, then a
 * higher p50; queues without any known wait last. */
void bn_rank(bn_result_t *r, size_t n);

#endif
