/* bottleneck — see bottleneck.h. */
#include "bottleneck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erlang.h"
#include "log.h"

enum { C_WAIT = 0, C_ARR = 1, C_DEP = 2, C_LANES = 3, C_QUEUE = 4 };

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bn_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, s_cmp_double);
    double x = p * (double)(n - 1);
    size_t i = (size_t)floor(x);
    if (i + 1 >= n)
        return v[n - 1];
    double w = x - (double)i;
    return v[i] * (1.0 - w) + v[i + 1] * w;
}

static double s_at(const arch_series_t *s, size_t r, int c) { return s->values[r * ARCH_NCOLS + c]; }

/* Percentiles, mean and time above target from the rows with a known wait. */
static int s_waits(const arch_series_t *s, const int16_t *how, double target_s, bn_result_t *o)
{
    double *w = malloc((s->nrows ? s->nrows : 1) * sizeof *w);
    if (!w) {
        log_error("out of memory analysing %s", o->q.crossing);
        return -1;
    }
    size_t n = 0, above = 0;
    double sum = 0;
    for (size_t r = 0; r < s->nrows; r++) {
        double v = s_at(s, r, C_WAIT);
        if (how[r] < 0 || isnan(v))
            continue;
        w[n++] = v;
        sum += v;
        above += v > target_s;
    }
    o->nwait = n;
    o->mean_wait_s = n ? sum / (double)n : NAN;
    o->p50_s = bn_percentile(w, n, 0.50);
    o->p85_s = bn_percentile(w, n, 0.85);
    o->p95_s = bn_percentile(w, n, 0.95);
    free(w);
    o->hours_above_week = (double)above * (double)s->step / 3600.0;
    return 0;
}

/* Per-lane service rate: departures per lane-second over rows in which every
 * open booth had someone to serve (queue >= lanes open). Without such rows,
 * over all rows with a lane open (a lower bound: idle booths count). */
static void s_service_rate(const arch_series_t *s, const int16_t *how, bn_result_t *o)
{
    double dep[2] = { 0, 0 }, lane_s[2] = { 0, 0 };
    for (size_t r = 0; r < s->nrows; r++) {
        double d = s_at(s, r, C_DEP), l = s_at(s, r, C_LANES), q = s_at(s, r, C_QUEUE);
        if (how[r] < 0 || isnan(d) || isnan(l) || l <= 0)
            continue;
        int busy = !isnan(q) && q >= l;
        dep[busy] += d;
        lane_s[busy] += l * (double)s->step;
    }
    o->mu_busy = lane_s[1] > 0 && dep[1] > 0;
    if (o->mu_busy)
        o->mu = dep[1] / lane_s[1];
    else if (lane_s[0] + lane_s[1] > 0 && dep[0] + dep[1] > 0)
        o->mu = (dep[0] + dep[1]) / (lane_s[0] + lane_s[1]);
    else
        o->mu = NAN;
}

/* Demand, lanes and wait by hour of week; utilisation; weeks observed. */
static void s_weekly(const arch_series_t *s, const int16_t *how, bn_result_t *o)
{
    double arr[BN_HOURS] = { 0 }, lanes[BN_HOURS] = { 0 }, wait[BN_HOURS] = { 0 };
    size_t n[BN_HOURS] = { 0 }, nw[BN_HOURS] = { 0 };
    double arr_all = 0, cap_lane_s = 0, util_arr = 0;
    size_t nobs = 0;
    for (size_t r = 0; r < s->nrows; r++) {
        int h = how[r];
        double a = s_at(s, r, C_ARR), l = s_at(s, r, C_LANES), w = s_at(s, r, C_WAIT);
        if (h < 0 || isnan(l))
            continue;
        nobs++;
        double av = isnan(a) ? 0 : a;
        arr[h] += av;
        lanes[h] += l;
        n[h]++;
        arr_all += av;
        if (!isnan(w)) {
            wait[h] += w;
            nw[h]++;
        }
        if (l > 0) {
            cap_lane_s += l * (double)s->step;
            util_arr += av;
        }
    }
    o->weeks = (double)nobs * (double)s->step / (7 * 86400.0);
    o->arrivals_week = o->weeks > 0 ? arr_all / o->weeks : NAN;
    o->utilisation = cap_lane_s > 0 && !isnan(o->mu) ? util_arr / (cap_lane_s * o->mu) : NAN;
    for (int h = 0; h < BN_HOURS; h++) {
        o->lambda_how[h] = n[h] ? arr[h] / ((double)n[h] * (double)s->step) : NAN;
        o->lanes_how[h] = n[h] ? lanes[h] / (double)n[h] : NAN;
        o->wait_how[h] = nw[h] ? wait[h] / (double)nw[h] : NAN;
    }
}

static void s_needs(double target_s, int max_lanes, bn_result_t *o)
{
    o->need_max = 0;
    for (int h = 0; h < BN_HOURS; h++) {
        if (isnan(o->lambda_how[h]) || isnan(o->mu)) {
            o->need_how[h] = BN_NO_DATA;
            continue;
        }
        o->need_how[h] = erl_lanes_needed(o->lambda_how[h], o->mu, target_s, max_lanes);
        if (o->need_how[h] > o->need_max)
            o->need_max = o->need_how[h];
    }
}

int bn_analyse(const scan_queue_t *q, const arch_series_t *s, const int16_t *how, double target_s,
               int max_lanes, bn_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->q = *q;
    out->step = s->step;
    if (s_waits(s, how, target_s, out) != 0)
        return -1;
    s_service_rate(s, how, out);
    s_weekly(s, how, out);
    if (out->weeks > 0)
        out->hours_above_week /= out->weeks;
    s_needs(target_s, max_lanes, out);
    return 0;
}

static int s_rank_cmp(const void *a, const void *b)
{
    const bn_result_t *x = a, *y = b;
    if ((x->nwait == 0) != (y->nwait == 0))
        return x->nwait == 0 ? 1 : -1;
    if (x->hours_above_week != y->hours_above_week)
        return x->hours_above_week > y->hours_above_week ? -1 : 1;
    if (x->p95_s != y->p95_s)
        return x->p95_s > y->p95_s ? -1 : 1;
    if (x->p50_s != y->p50_s)
        return x->p50_s > y->p50_s ? -1 : 1;
    return 0;
}

void bn_rank(bn_result_t *r, size_t n)
{
    if (n > 1)
        qsort(r, n, sizeof *r, s_rank_cmp);
}
