/* fcprofile — see fcprofile.h. */
#include "fcprofile.h"

#include <math.h>
#include <string.h>

#define CLIP 3.0                     /* usual deviations a new value may move a slot by */
#define CLIP_FLOOR_S 60.0            /* and a minute more: a steady slot is not frozen */
#define SHRINK_DECAY 0.997           /* the shrinkage's memory: ~330 steps, as the blend's */
#define NEIGH 2                      /* neighbours either side: the half hour around */

void fcp_init(fcp_t *p)
{
    memset(p, 0, sizeof *p);
    p->last_slot[0] = p->last_slot[1] = -1;
}

/* A running mean of the weeks seen until there are 1 / (1 − FCP_DECAY)
 * of them (4), then an exponential one with that memory (each week counts
 * FCP_DECAY of the one after it): with two or three weeks, equal weights
 * are the steadiest estimate (weighting the last week more, from the
 * start, only added noise); recency matters once there are weeks to
 * spare. (The weight of a week is the mean's: w = min(w + 1, 4); the
 * steady state is that of w = FCP_DECAY·w + 1.) */
static void s_update(float *mean, float *w, double x)
{
    const float cap = 1.0f / (1.0f - FCP_DECAY);
    *w = *w + 1.0f < cap ? *w + 1.0f : cap;
    *mean += (float)((x - *mean) / *w);
}

/* Mean wait of the known neighbours of week slot `slot` (the week wraps:
 * Sunday night runs into Monday); NAN when none is known. `before`: as
 * they were before the last two updates (the same day's values). */
static double s_week_neigh(const fcp_t *p, int slot, bool before)
{
    double sum = 0;
    int n = 0;
    for (int o = -NEIGH; o <= NEIGH; o++) {
        if (o == 0)
            continue;
        int s = ((slot + o) % FC_SLOTS + FC_SLOTS) % FC_SLOTS;
        float m = p->wait[s], w = p->wait_w[s];
        for (int i = 0; before && i < 2; i++)
            if (p->last_slot[i] == s) {
                m = p->last_wait[i];
                w = p->last_w[i];
                break;
            }
        if (w >= FCP_MIN_W) {
            sum += m;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* The same for the holiday's day (no wrap: the days around are not
 * holidays). */
static double s_day_neigh(const fcp_t *p, int d)
{
    double sum = 0;
    int n = 0;
    for (int o = -NEIGH; o <= NEIGH; o++) {
        int s = d + o;
        if (o == 0 || s < 0 || s >= FC_DAY_SLOTS || p->hwait_w[s] < FCP_MIN_W)
            continue;
        sum += p->hwait[s];
        n++;
    }
    return n ? sum / n : NAN;
}

double fcp_shrink(const fcp_t *p)
{
    if (p->shr_xx <= 0)
        return 0.0;
    double l = p->shr_xy / p->shr_xx;
    return l < 0 ? 0.0 : l > 1 ? 1.0 : l;
}

/* Robust update of a wait slot: once known, a value is kept within CLIP
 * of its usual deviation (an incident, a feed gone wrong, must not become
 * next week's profile). Returns the value as entered. */
static double s_wait_update(float *wm, float *ww, float *wd, double wait)
{
    double dev = wait - *wm;
    if (*ww >= 1.0f) {
        double cap = CLIP * *wd + CLIP_FLOOR_S;
        dev = dev > cap ? cap : dev < -cap ? -cap : dev;
    }
    double x = *wm + dev;
    float w0 = *ww;
    s_update(wm, ww, x);
    *ww = w0;
    s_update(wd, ww, fabs(dev));
    return x;
}

void fcp_update_wait(fcp_t *p, int slot, bool holiday, double wait)
{
    int d = slot % FC_DAY_SLOTS;
    if (isfinite(wait) && holiday) {
        s_wait_update(&p->hwait[d], &p->hwait_w[d], &p->hwait_dev[d], wait);
    } else if (isfinite(wait)) {
        float m0 = p->wait[slot], w0 = p->wait_w[slot];
        double x = s_wait_update(&p->wait[slot], &p->wait_w[slot], &p->wait_dev[slot], wait);
        /* What the slot's and its neighbours' means (from the weeks
         * before) said of this value: the shrinkage's regression. */
        double nb = w0 >= 1.0f ? s_week_neigh(p, slot, true) : NAN;
        if (!isnan(nb)) {
            double a = nb - m0, y = x - m0;
            p->shr_xy = SHRINK_DECAY * p->shr_xy + a * y;
            p->shr_xx = SHRINK_DECAY * p->shr_xx + a * a;
        }
        p->last_slot[1] = p->last_slot[0];
        p->last_wait[1] = p->last_wait[0];
        p->last_w[1] = p->last_w[0];
        p->last_slot[0] = slot;
        p->last_wait[0] = m0;
        p->last_w[0] = w0;
    }
}

void fcp_update(fcp_t *p, int slot, bool holiday, double wait, double arr, double lanes)
{
    int d = slot % FC_DAY_SLOTS;
    fcp_update_wait(p, slot, holiday, wait);
    float *am = holiday ? &p->harr[d] : &p->arr[slot];
    float *lm = holiday ? &p->hlanes[d] : &p->lanes[slot];
    float *aw = holiday ? &p->harr_w[d] : &p->arr_w[slot];
    float w0 = *aw;
    s_update(am, aw, arr);
    *aw = w0;
    s_update(lm, aw, lanes);
}

static double s_shrunk(double own, double nb, double l)
{
    return isnan(nb) ? own : own + l * (nb - own);
}

void fcp_lookup(const fcp_t *p, int slot, bool hol, double *wait, double *arr, double *lanes)
{
    int d = slot % FC_DAY_SLOTS;
    double l = NAN, shrink = fcp_shrink(p);
    *wait = *arr = NAN;
    if (hol) {
        if (p->hwait_w[d] >= FCP_MIN_W)
            *wait = s_shrunk(p->hwait[d], s_day_neigh(p, d), shrink);
        if (p->harr_w[d] >= FCP_MIN_W) {
            *arr = p->harr[d];
            l = p->hlanes[d];
        }
        slot = 6 * FC_DAY_SLOTS + d;
    }
    if (isnan(*wait) && p->wait_w[slot] >= FCP_MIN_W)
        *wait = s_shrunk(p->wait[slot], shrink > 0 ? s_week_neigh(p, slot, false) : NAN, shrink);
    if (isnan(*arr) && p->arr_w[slot] >= FCP_MIN_W) {
        *arr = p->arr[slot];
        l = p->lanes[slot];
    }
    if (lanes)
        *lanes = l;
}
