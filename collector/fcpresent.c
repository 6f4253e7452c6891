/* fcpresent — see fcpresent.h. */
#include "fcpresent.h"

#include <math.h>
#include <stdbool.h>

#define TREND_TAU_S 1800.0
#define RATIO_TAU_S 3600.0
#define OFFSET_TAU_S 1800.0
#define LANES_HOLD_S 1800.0          /* lanes as the caller expects them, then as usual */

static int64_t s_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int fcpr_bucket(double wait)
{
    int b = (int)(wait / FCPR_REACT_BUCKET_S);
    return b < 0 ? 0 : b >= FCPR_REACT_NB ? FCPR_REACT_NB - 1 : b;
}

typedef struct {
    double n, mu, offset, r0, lam0, slope;
    bool ratio;                      /* arrivals follow the profile, scaled */
} s_fluid_t;

static double s_lanes(const fc_present_t *p, int64_t t)
{
    int l = p->lanes_at ? p->lanes_at(p->lanes_arg, t) : -1;
    double lanes = l >= 0 ? l : p->lanes;
    return lanes < 1.0 ? 1.0 : lanes;
}

static void s_fluid_init(const fc_present_t *p, double pa, s_fluid_t *f)
{
    f->n = p->units > 0 && isfinite(p->units) ? p->units : 0.0;
    f->mu = p->lane_rate > 0 && isfinite(p->lane_rate) ? p->lane_rate : 1.0 / 60.0;
    double l = s_lanes(p, p->now_s);
    double model = fmax(f->n + 1.0, l) / (l * f->mu);
    f->offset = p->has_wait && isfinite(p->wait_s) ? p->wait_s - model : 0.0;
    f->lam0 = p->arr_rate >= 0 && isfinite(p->arr_rate) ? p->arr_rate : (isnan(pa) ? 0.0 : pa);
    f->slope = p->arr_rate_prev >= 0 && p->arr_rate >= 0
                   ? (p->arr_rate - p->arr_rate_prev) / FC_STEP_S : 0.0;
    f->ratio = !isnan(pa) && p->arr_rate >= 0;
    if (f->ratio) {
        double r = (f->lam0 + 1e-3) / (pa + 1e-3);
        f->r0 = r < 0.25 ? 0.25 : r > 4.0 ? 4.0 : r;
    }
}

/* Arrival rate dt after now, in step j (prof_arr: the arrival profile of
 * each step, looked up once per run: the calendar is the costly part). */
static double s_lambda(const s_fluid_t *f, double dt, const double *prof_arr, int j)
{
    if (f->ratio) {
        double pa = prof_arr[j];
        if (!isnan(pa))
            return pa * (1.0 + (f->r0 - 1.0) * exp(-dt / RATIO_TAU_S));
    }
    double lam = f->lam0 + f->slope * TREND_TAU_S * (1.0 - exp(-dt / TREND_TAU_S));
    return lam > 0 ? lam : 0.0;
}

/* Lanes dt after now: the caller's (lanes now, plan, surge), fading after
 * half an hour into the lanes usually open then unless a plan says. */
static double s_lanes_ahead(const fc_present_t *p, int64_t t, double dt, double prof_l)
{
    double l = s_lanes(p, t);
    if (p->lanes_planned || isnan(prof_l) || dt <= LANES_HOLD_S)
        return l;
    double f = exp(-(dt - LANES_HOLD_S) / LANES_HOLD_S);
    double v = prof_l + (l - prof_l) * f;
    return v < 1.0 ? 1.0 : v;
}

void fcpr_run(const fcpr_react_t *r, const fc_present_t *p, double pa_now, int64_t s0,
              const double prof_arr[FC_NSTEPS], const double prof_l[FC_NSTEPS],
              double out[FC_NSTEPS])
{
    s_fluid_t f = { 0 };
    s_fluid_init(p, pa_now, &f);
    /* Run as far as the present is used. */
    int64_t t = p->now_s, end = (s0 + FC_NSTEPS) * FC_STEP_S;
    if (end > p->now_s + (int64_t)FCPR_MAX_S + FC_STEP_S)
        end = (s_floor_div(p->now_s + (int64_t)FCPR_MAX_S, FC_STEP_S) + 1) * FC_STEP_S;
    for (int i = 0; i < FC_NSTEPS; i++)
        out[i] = NAN;
    double sum = 0, extra = 0, wprev = p->has_wait && isfinite(p->wait_s) ? p->wait_s : 0.0;
    int n = 0, j = 0;
    bool react = !p->lanes_planned;
    /* Beyond the longest wait seen the port reacts as it did there: a
     * queue run forward past it must not find a port that does nothing. */
    double rx[FCPR_REACT_NB];
    bool rknown = false;
    for (int b = 0; b < FCPR_REACT_NB; b++) {
        if (r->react_w[b] >= 1.0f) {
            rx[b] = r->react[b];
            rknown = true;
        } else {
            rx[b] = b > 0 && rknown ? rx[b - 1] : NAN;
        }
    }
    while (t < end) {
        int js = j < FC_NSTEPS ? j : FC_NSTEPS - 1;
        double dt = (double)(t - p->now_s), l = s_lanes_ahead(p, t, dt, prof_l[js]);
        if (react) {
            /* The port reacts to the queue as it has been seen to. */
            int b = fcpr_bucket(wprev);
            if (!isnan(rx[b]))
                extra += rx[b] * (double)((t / 60 + 1) * 60 - t) / FC_STEP_S;
            double hi = r->lanes_max > l ? r->lanes_max : l;
            if (l + extra > hi)
                extra = hi - l;
            if (l + extra < 1.0)
                extra = 1.0 - l;
            l += extra;
        }
        double w = fmax(f.n + 1.0, l) / (l * f.mu) + f.offset * exp(-dt / OFFSET_TAU_S);
        wprev = w;
        sum += w;
        n++;
        int64_t next = (t / 60 + 1) * 60;
        double d = (double)(next - t);
        double in = s_lambda(&f, dt, prof_arr, j < FC_NSTEPS ? j : FC_NSTEPS - 1) * d;
        double cap = l * f.mu * d;
        f.n = f.n + in - (f.n + in < cap ? f.n + in : cap);
        t = next;
        if (t % FC_STEP_S == 0) {
            out[j++] = sum / n;
            sum = 0;
            n = 0;
        }
    }
}
