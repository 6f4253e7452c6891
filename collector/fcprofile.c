/* fcprofile — see fcprofile.h. */
#include "fcprofile.h"

#include <math.h>
#include <stdlib.h>
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

void fcp_free(fcp_t *p)
{
    free(p->chunks);
    fcp_init(p);
}

size_t fcp_bytes(const fcp_t *p)
{
    return p->n * sizeof *p->chunks;
}

/* Cells: the week's slots 0..FC_SLOTS-1, then the holiday's day. The chunk
 * of a cell (NULL while none of its slots has a value) and the cell's
 * index in it. */
static fcp_chunk_t *s_chunk(const fcp_t *p, int cell, int *i)
{
    *i = cell % FCP_CHUNK;
    int at = p->at[cell / FCP_CHUNK];
    return at ? &p->chunks[at - 1] : NULL;
}

/* The same, made when missing (NULL: out of memory). Making one moves the
 * others: a chunk found before is not used after. */
static fcp_chunk_t *s_make(fcp_t *p, int cell, int *i)
{
    fcp_chunk_t *c = s_chunk(p, cell, i);
    if (c)
        return c;
    c = realloc(p->chunks, (p->n + 1u) * sizeof *c);
    if (!c)
        return NULL;
    p->chunks = c;
    c += p->n++;
    memset(c, 0, sizeof *c);
    p->at[cell / FCP_CHUNK] = p->n;
    return c;
}

/* A running mean of the weeks seen until there are 1 / (1 − FCP_DECAY)
 * of them (4), then an exponential one with that memory (each week counts
 * FCP_DECAY of the one after it): with two or three weeks, equal weights
 * are the steadiest estimate (weighting the last week more, from the
 * start, only added noise); recency matters once there are weeks to
 * spare. (The weight of a week is the mean's: w = min(w + 1, 4); the
 * steady state is that of w = FCP_DECAY·w + 1.) The weight only ever
 * takes the values 0..4, so a byte holds it exactly and the arithmetic is
 * that of the float it was. */
static void s_update(fcp_val_t *mean, uint8_t *wp, double x)
{
    const float cap = 1.0f / (1.0f - FCP_DECAY);
    float w = *wp + 1.0f < cap ? *wp + 1.0f : cap;
    *wp = (uint8_t)w;
    float m = (float)*mean + (float)((x - (float)*mean) / w);
    /* a mean beyond the type would be infinite from then on */
    *mean = (fcp_val_t)(m > FCP_VAL_MAX ? FCP_VAL_MAX : m < -FCP_VAL_MAX ? -FCP_VAL_MAX : m);
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
        int s = ((slot + o) % FC_SLOTS + FC_SLOTS) % FC_SLOTS, i;
        const fcp_chunk_t *c = s_chunk(p, s, &i);
        float m = c ? (float)c->wait[i] : 0.0f, w = c ? c->wait_w[i] : 0.0f;
        for (int k = 0; before && k < 2; k++)
            if (p->last_slot[k] == s) {
                m = p->last_wait[k];
                w = p->last_w[k];
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
        int s = d + o, i;
        if (o == 0 || s < 0 || s >= FC_DAY_SLOTS)
            continue;
        const fcp_chunk_t *c = s_chunk(p, FC_SLOTS + s, &i);
        if (!c || c->wait_w[i] < FCP_MIN_W)
            continue;
        sum += c->wait[i];
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
static double s_wait_update(fcp_val_t *wm, uint8_t *ww, fcp_val_t *wd, double wait)
{
    double dev = wait - *wm;
    if (*ww >= 1) {
        double cap = CLIP * *wd + CLIP_FLOOR_S;
        dev = dev > cap ? cap : dev < -cap ? -cap : dev;
    }
    double x = *wm + dev;
    uint8_t w0 = *ww;
    s_update(wm, ww, x);
    *ww = w0;
    s_update(wd, ww, fabs(dev));
    return x;
}

int fcp_update_wait(fcp_t *p, int slot, bool holiday, double wait)
{
    if (!isfinite(wait))
        return 0;
    int d = slot % FC_DAY_SLOTS, i;
    fcp_chunk_t *c = s_make(p, holiday ? FC_SLOTS + d : slot, &i);
    if (!c)
        return -1;
    if (holiday) {
        s_wait_update(&c->wait[i], &c->wait_w[i], &c->wait_dev[i], wait);
        return 0;
    }
    float m0 = c->wait[i];
    uint8_t w0 = c->wait_w[i];
    double x = s_wait_update(&c->wait[i], &c->wait_w[i], &c->wait_dev[i], wait);
    /* What the slot's and its neighbours' means (from the weeks
     * before) said of this value: the shrinkage's regression. */
    double nb = w0 >= 1 ? s_week_neigh(p, slot, true) : NAN;
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
    return 0;
}

int fcp_update(fcp_t *p, int slot, bool holiday, double wait, double arr, double lanes)
{
    int i;
    if (fcp_update_wait(p, slot, holiday, wait) != 0)
        return -1;
    fcp_chunk_t *c = s_make(p, holiday ? FC_SLOTS + slot % FC_DAY_SLOTS : slot, &i);
    if (!c)
        return -1;
    uint8_t w0 = c->arr_w[i];
    s_update(&c->arr[i], &c->arr_w[i], arr);
    c->arr_w[i] = w0;
    s_update(&c->lanes[i], &c->arr_w[i], lanes);
    return 0;
}

static double s_shrunk(double own, double nb, double l)
{
    return isnan(nb) ? own : own + l * (nb - own);
}

void fcp_lookup(const fcp_t *p, int slot, bool hol, double *wait, double *arr, double *lanes)
{
    int d = slot % FC_DAY_SLOTS, i;
    double l = NAN, shrink = fcp_shrink(p);
    const fcp_chunk_t *c;
    *wait = *arr = NAN;
    if (hol) {
        if ((c = s_chunk(p, FC_SLOTS + d, &i))) {
            if (c->wait_w[i] >= FCP_MIN_W)
                *wait = s_shrunk(c->wait[i], s_day_neigh(p, d), shrink);
            if (c->arr_w[i] >= FCP_MIN_W) {
                *arr = c->arr[i];
                l = c->lanes[i];
            }
        }
        slot = 6 * FC_DAY_SLOTS + d;
    }
    if ((c = s_chunk(p, slot, &i))) {
        if (isnan(*wait) && c->wait_w[i] >= FCP_MIN_W)
            *wait = s_shrunk(c->wait[i], shrink > 0 ? s_week_neigh(p, slot, false) : NAN,
                             shrink);
        if (isnan(*arr) && c->arr_w[i] >= FCP_MIN_W) {
            *arr = c->arr[i];
            l = c->lanes[i];
        }
    }
    if (lanes)
        *lanes = l;
}

double fcp_mean(const fcp_t *p, int slot)
{
    int i;
    const fcp_chunk_t *c = slot >= 0 && slot < FC_SLOTS ? s_chunk(p, slot, &i) : NULL;
    return c && c->wait_w[i] > 0 ? c->wait[i] : NAN;
}
