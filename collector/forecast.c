/* forecast — see forecast.h for the method. */
#include "forecast.h"
#include "fcpend.h"
#include "fcpresent.h"
#include "fcprofile.h"

#include <pthread.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ODD_DAY_RATIO 1.5            /* a day's waits this far from the profile are odd */
#define ODD_DAY_MIN_STEPS 64         /* over 16 h of the day at least */
#define SCORE_DECAY 0.997            /* blend and band memory: ~330 scored issues */
#define PRIOR_N 4.0                  /* the blend prior counts as 4 scored errors */
#define REGIME_QUEUE_S 600.0         /* a wait now this long is "a queue" */
#define MIX_GRID 5                   /* mixes: weights in fifths (tenths did no better) */
_Static_assert(FC_NCAND == (MIX_GRID + 1) * (MIX_GRID + 2) * (MIX_GRID + 3) / 6,
               "FC_NCAND: the mixes of FC_NCOMP = 4 predictors at MIX_GRID");
#define REACT_NB FCPR_REACT_NB       /* wait buckets of the learned staffing response */
#define REACT_DECAY 0.99f
#define BAND_MIN_N 50.0              /* errors before the learned band is used */
#define BAND_TAIL 0.10               /* the share of truths meant below P10, above P90 */
#define BAND_GAMMA 0.005             /* the tails' levels move this much a miss (ACI) */
#define BAND_LVL_MIN 0.01            /* a tail's level stays within [this, 0.45] */
#define BAND_SCALE_S 60.0            /* relative errors are of (P50 + this) */
#define BAND_R_MIN (-1.0)
#define BAND_R_MAX 3.0
#define SHORT_WIDEN 1.5
#define PRIOR_Q10 (-0.5)
#define PRIOR_Q90 1.0
#define ANOMALY_TAU_S 7200.0
#define LEVEL_TAU_S (3 * 3600.0)     /* the level is of the last few hours */
#define LEVEL_FADE_S (12 * 3600.0)   /* and holds for the rest of the day */
#define LEVEL_MIN_W 0.5              /* an hour and a half of it */
#define LEVEL_MAX 1.5                /* a level beyond e^±1.5 is not believed */
#define JOINS 12                     /* steps awaiting their travel times: 3 h of waits */
/* Issues kept to be scored at a horizon: its steps ahead, and as long
 * again as a step may wait for its travel times (at the day ahead, the
 * FC_NSTEPS + 1 + JOINS steps a single ring of every horizon kept). */
#define PEND_LAG (2 + JOINS)
#define PRESENT_MAX_S FCPR_MAX_S     /* the present run forward is used this far */
#define WAIT_MIN_COVER_S 300.0       /* a step's wait needs 5 min of it */

enum { C_PRESENT = 0, C_PROFILE = 1, C_ANOMALY = 2, C_LEVEL = 3 };

static const int s_h_steps[FC_NH] = { 0, 1, 3, 7, 15, 31, 63, 95 };

/* What is learned at one regime and horizon: the decayed absolute errors
 * of each mix (the prior's too), the band's decayed histogram of relative
 * errors (a float's 7 digits do) and the levels its tails are read at
 * (0.10 and 0.90 to start, moved by their misses: adaptive conformal).
 * Made at its first scored error; until then it is the prior, the same
 * for every queue (s_prior), so a queue that has scored nothing at a
 * horizon holds nothing for it. */
typedef struct {
    float loss[FC_NCAND];
    float band[FC_NBINS];
    double scored;                   /* decayed count of the errors scored */
    double band_n;
    float tail[2];
    uint8_t best;                    /* the mix with the least loss */
} s_learned_t;

/* A closed step waiting for the travel times of the units that joined in
 * it (or its first travel times, before it closes). */
typedef struct {
    int64_t step;                    /* INT64_MIN none */
    float est;                       /* the estimator's wait of the step; NAN none */
    float tt_sum;                    /* travel times of its joiners seen so far */
    uint16_t tt_n;
    int16_t slot;
    bool hol, closed, score;
} s_join_t;

struct fc {
    fcp_t prof;                      /* the profiles (collector/fcprofile.c) */
    /* The step being accumulated. */
    int64_t acc_step;
    double acc_dur, acc_arr, acc_lanes, acc_wait, acc_wait_dur;
    bool acc_score;
    int64_t first_s, last_s;         /* span of the data seen; 0 none */
    int64_t resumed_s;               /* data came back after a gap here; 0 none */
    uint64_t gaps, odd_days;
    /* The local day being closed: its mean log ratio to the profile. */
    int day;
    double day_lr, day_n;
    fcpend_t pend;                   /* issues waiting to be scored (collector/fcpend.c) */
    /* Per regime (a queue at issue or not) and horizon: learned[at - 1],
     * at = learned_at[r][h]; 0: the prior. One block grown as they are made
     * and a byte each, not a pointer and an allocation each. */
    s_learned_t *learned;
    uint8_t learned_at[FC_NREG][FC_NH];
    uint8_t learned_n;
    /* Staffing as the port reacts: the mean change of lanes over a step
     * after a step whose wait was in each bucket; the most lanes seen. */
    float react[REACT_NB], react_w[REACT_NB];
    int64_t prev_step;
    float prev_wait, prev_lanes, lanes_max;
    /* Today's level: the decayed mean log ratio of the wait to the profile. */
    double level, level_w;
    uint64_t ignored;
    s_join_t join[JOINS];
    int64_t tt_last_s;               /* travel times last seen; 0 never */
};

/* Mix i of the grid: weights in fifths summing to 1 (i = 0: all present,
 * ..., the last: all anomaly). */
static void s_mix_weights(int i, double w[FC_NCOMP])
{
    for (int a = 0; a <= MIX_GRID; a++)
        for (int b = 0; b <= MIX_GRID - a; b++)
            for (int c = 0; c <= MIX_GRID - a - b; c++, i--)
                if (i == 0) {
                    w[0] = (double)a / MIX_GRID;
                    w[1] = (double)b / MIX_GRID;
                    w[2] = (double)c / MIX_GRID;
                    w[3] = (double)(MIX_GRID - a - b - c) / MIX_GRID;
                    return;
                }
    for (int c = 0; c < FC_NCOMP; c++)
        w[c] = 1.0 / FC_NCOMP;
}

/* A mix of the predictors that have a value (weights renormalised; equal
 * weights when the mix has none of them); NAN when none has. */
static double s_mix(const double w[FC_NCOMP], const double comp[FC_NCOMP])
{
    double sum = 0, wsum = 0, esum = 0;
    int n = 0;
    for (int c = 0; c < FC_NCOMP; c++) {
        if (isnan(comp[c]))
            continue;
        sum += w[c] * comp[c];
        wsum += w[c];
        esum += comp[c];
        n++;
    }
    return n == 0 ? NAN : wsum > 0 ? sum / wsum : esum / n;
}

static double s_prior_rms(int c, int j);
static int s_choose(const float loss[FC_NCAND]);
static bool s_band(const fc_t *self, int r, int h, double *q10, double *q90);

/* The prior, the same for every queue and regime: each mix's error as the
 * mix of its predictors' prior errors, worth PRIOR_N scored errors, and
 * the mix it chooses. Made once (the collector's queues share it). */
static s_learned_t s_prior[FC_NH];
static pthread_once_t s_prior_once = PTHREAD_ONCE_INIT;

static void s_prior_make(void)
{
    for (int h = 0; h < FC_NH; h++) {
        s_learned_t *l = &s_prior[h];
        for (int i = 0; i < FC_NCAND; i++) {
            double w[FC_NCOMP], e = 0;
            s_mix_weights(i, w);
            for (int c = 0; c < FC_NCOMP; c++)
                e += w[c] * s_prior_rms(c, s_h_steps[h]);
            l->loss[i] = (float)(PRIOR_N * e);
        }
        l->best = (uint8_t)s_choose(l->loss);
        l->tail[0] = (float)BAND_TAIL;
        l->tail[1] = (float)(1.0 - BAND_TAIL);
    }
}

/* What regime r has learned at horizon h: its own, or the prior. */
static const s_learned_t *s_learned(const fc_t *self, int r, int h)
{
    int at = self->learned_at[r][h];
    return at ? &self->learned[at - 1] : &s_prior[h];
}

/* The same, to be learned into: made from the prior at the first error
 * scored there. NULL when memory ran out (nothing is learned then).
 * Making one moves the others: one found before is not used after. */
static s_learned_t *s_learning(fc_t *self, int r, int h)
{
    int at = self->learned_at[r][h];
    if (at)
        return &self->learned[at - 1];
    s_learned_t *l = realloc(self->learned, (self->learned_n + 1u) * sizeof *l);
    if (!l)
        return NULL;
    self->learned = l;
    l += self->learned_n++;
    *l = s_prior[h];
    self->learned_at[r][h] = self->learned_n;
    return l;
}

fc_t *fc_new(void)
{
    if (pthread_once(&s_prior_once, s_prior_make) != 0)
        return NULL;
    fc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    fcp_init(&self->prof);
    self->acc_step = INT64_MIN;
    for (int i = 0; i < JOINS; i++)
        self->join[i].step = INT64_MIN;
    return self;
}

void fc_destroy(fc_t **self_p)
{
    fc_t *self = *self_p;
    if (!self)
        return;
    fcp_free(&self->prof);
    fcpend_free(&self->pend);
    free(self->learned);
    free(self);
    *self_p = NULL;
}

size_t fc_bytes(const fc_t *self)
{
    return sizeof *self + fcp_bytes(&self->prof) + fcpend_bytes(&self->pend) +
           self->learned_n * sizeof *self->learned;
}

uint64_t fc_ignored(const fc_t *self) { return self->ignored; }

uint64_t fc_gaps(const fc_t *self) { return self->gaps; }

uint64_t fc_odd_days(const fc_t *self) { return self->odd_days; }

static int64_t s_floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static int s_utc_slot(int64_t t_s)
{
    /* 1970-01-01 was a Thursday: Monday 00:00 UTC is 3 days before. */
    int64_t m = s_floor_div(t_s + 3 * 86400, FC_STEP_S);
    return (int)(((m % FC_SLOTS) + FC_SLOTS) % FC_SLOTS);
}

static int s_slot(const fc_calendar_t *cal, int64_t t_s, bool *holiday)
{
    *holiday = false;
    int s = cal && cal->slot ? cal->slot(cal->arg, t_s, holiday) : -1;
    if (s < 0 || s >= FC_SLOTS) {
        *holiday = false;
        return s_utc_slot(t_s);
    }
    return s;
}

/* ---- profiles ----------------------------------------------------------- */

static void s_profile_at(const fc_t *self, const fc_calendar_t *cal, int64_t t_s, double *wait,
                         double *arr, double *lanes)
{
    bool hol;
    int slot = s_slot(cal, t_s, &hol);
    fcp_lookup(&self->prof, slot, hol, wait, arr, lanes);
}

/* ---- scoring ------------------------------------------------------------ */

static int s_bin(double r)
{
    double f = (r - BAND_R_MIN) / (BAND_R_MAX - BAND_R_MIN) * FC_NBINS;
    int b = (int)floor(f);
    return b < 0 ? 0 : b >= FC_NBINS ? FC_NBINS - 1 : b;
}

static void s_score(fc_t *self, int64_t step, double truth)
{
    for (int h = 0; h < FC_NH; h++) {
        const fcpend_entry_t *p = fcpend_get(&self->pend, h, step - s_h_steps[h]);
        if (!p)
            continue;
        int r = p->regime;
        double comp[FC_NCOMP];
        for (int c = 0; c < FC_NCOMP; c++)
            comp[c] = fcpend_comp(p, c);
        bool mixed = !isnan(s_mix((const double[FC_NCOMP]){ 1, 1, 1, 1 }, comp));
        s_learned_t *l;
        if ((!mixed && isnan(p->p50)) || !(l = s_learning(self, r, h)))
            continue;
        if (mixed) {
            int i = 0;
            double w[FC_NCOMP];
            /* every mix of the grid, in the order of s_mix_weights */
            for (int a = 0; a <= MIX_GRID; a++)
                for (int b = 0; b <= MIX_GRID - a; b++)
                    for (int c = 0; c <= MIX_GRID - a - b; c++, i++) {
                        w[0] = (double)a / MIX_GRID;
                        w[1] = (double)b / MIX_GRID;
                        w[2] = (double)c / MIX_GRID;
                        w[3] = (double)(MIX_GRID - a - b - c) / MIX_GRID;
                        l->loss[i] = (float)(SCORE_DECAY * l->loss[i] +
                                             fabs(truth - s_mix(w, comp)));
                    }
            l->scored = SCORE_DECAY * l->scored + 1.0;
            l->best = (uint8_t)s_choose(l->loss);
        }
        if (isnan(p->p50))
            continue;
        double e = (truth - p->p50) / (p->p50 + BAND_SCALE_S), q10, q90;
        if (s_band(self, r, h, &q10, &q90)) {
            /* Adaptive conformal inference (Gibbs & Candès, 2021): a tail
             * missed more often than BAND_TAIL reads its quantile further
             * out, one missed less often further in. The past errors alone
             * lag a forecast that is improving (the profile gaining weeks)
             * or worsening, and keep the band too wide or too narrow. */
            float *tail = l->tail;
            tail[0] += (float)(BAND_GAMMA * (BAND_TAIL - (e < q10)));
            tail[1] -= (float)(BAND_GAMMA * (BAND_TAIL - (e > q90)));
            tail[0] = fminf(fmaxf(tail[0], (float)BAND_LVL_MIN), 0.45f);
            tail[1] = fminf(fmaxf(tail[1], 0.55f), (float)(1.0 - BAND_LVL_MIN));
        }
        for (int b = 0; b < FC_NBINS; b++)
            l->band[b] *= (float)SCORE_DECAY;
        l->band[s_bin(e)] += 1.0f;
        l->band_n = SCORE_DECAY * l->band_n + 1.0;
    }
}

/* ---- accumulation ------------------------------------------------------- */

/* A whole day unlike its kind of day (waits ODD_DAY_RATIO times the
 * profile or 1/ODD_DAY_RATIO, over most of the day) that the calendar
 * does not call a holiday: probably one the registry does not know. */
static void s_day_check(fc_t *self, int day, bool hol, double lr)
{
    if (day != self->day) {
        if (self->day_n >= ODD_DAY_MIN_STEPS &&
            fabs(self->day_lr / self->day_n) >= log(ODD_DAY_RATIO))
            self->odd_days++;
        self->day = day;
        self->day_lr = self->day_n = 0;
    }
    if (!hol) {
        self->day_lr += lr;
        self->day_n += 1;
    }
}

/* ---- the lagging truth: travel times ------------------------------------ */

/* A step's wait is final: the mean travel time of its joiners when enough
 * were seen, else the estimator's; the profile learns it, the forecasts
 * issued for it are scored on it. */
static void s_join_final(fc_t *self, s_join_t *j)
{
    if (j->step == INT64_MIN)
        return;
    if (j->closed) {
        double wait = j->tt_n >= FC_TT_MIN_N ? (double)j->tt_sum / j->tt_n : (double)j->est;
        if (wait > FC_MAX_WAIT_S)
            wait = NAN;
        fcp_update_wait(&self->prof, j->slot, j->hol, wait);
        if (j->score && isfinite(wait))
            s_score(self, j->step, wait);
    }
    j->step = INT64_MIN;
}

/* The entry of step `step`, made (the step it replaces made final) unless
 * a newer step holds it; NULL then. */
static s_join_t *s_join_at(fc_t *self, int64_t step)
{
    s_join_t *j = &self->join[((step % JOINS) + JOINS) % JOINS];
    if (j->step == step)
        return j;
    if (j->step != INT64_MIN && j->step > step)
        return NULL;
    s_join_final(self, j);
    *j = (s_join_t){ .step = step, .est = NAN };
    return j;
}

void fc_observe_travel(fc_t *self, int64_t t_s, double span_s, uint32_t count, double sum_s)
{
    if (count == 0 || !isfinite(sum_s) || sum_s < 0 || !isfinite(span_s) || span_s < 0 ||
        (self->last_s && t_s < self->last_s - FC_STEP_S))
        return;
    double mean = sum_s / count;
    if (mean > FC_MAX_WAIT_S)
        return;
    self->tt_last_s = t_s;
    /* They left over the span: on average in its middle, and joined
     * their mean travel time before. */
    int64_t joined = s_floor_div(t_s - (int64_t)(span_s / 2 + mean), FC_STEP_S);
    /* First in, first out: those who joined before `joined` have left. */
    for (int i = 0; i < JOINS; i++)
        if (self->join[i].step < joined && self->join[i].closed)
            s_join_final(self, &self->join[i]);
    s_join_t *j = s_join_at(self, joined);
    if (!j)
        return;
    j->tt_sum += (float)sum_s;
    j->tt_n = (uint16_t)(j->tt_n + count > UINT16_MAX ? UINT16_MAX : j->tt_n + count);
}

static void s_close_step(fc_t *self, const fc_calendar_t *cal)
{
    if (self->acc_step == INT64_MIN || self->acc_dur <= 0)
        return;
    bool hol;
    int slot = s_slot(cal, self->acc_step * FC_STEP_S, &hol);
    double cover = self->acc_dur < WAIT_MIN_COVER_S ? self->acc_dur : WAIT_MIN_COVER_S;
    double wait = self->acc_wait_dur >= cover ? self->acc_wait / self->acc_wait_dur : NAN;
    double lanes = self->acc_lanes / self->acc_dur;
    /* Today's level against the profile (before this step enters it). */
    double pw, pa;
    fcp_lookup(&self->prof, slot, hol, &pw, &pa, NULL);
    if (isfinite(wait) && !isnan(pw)) {
        double lr = log((wait + BAND_SCALE_S) / (pw + BAND_SCALE_S));
        s_day_check(self, slot / FC_DAY_SLOTS, hol, lr);
        double a = exp(-FC_STEP_S / LEVEL_TAU_S);
        self->level = a * self->level + (1 - a) * lr;
        self->level_w = a * self->level_w + (1 - a);
    }
    /* With travel times about, the step's wait is learned and scored when
     * its joiners have left (s_join_final); else the estimator's, now. */
    bool defer = self->tt_last_s && self->acc_step * FC_STEP_S - self->tt_last_s < FC_GAP_S;
    fcp_update(&self->prof, slot, hol, defer ? NAN : wait, self->acc_arr / self->acc_dur, lanes);
    /* The port's reaction: lanes now against lanes and wait a step ago,
     * when it had a lane left to open (at its most lanes a port cannot
     * show how it reacts; the run forward stops there anyway). */
    if (self->prev_step == self->acc_step - 1 && isfinite(self->prev_wait) &&
        self->prev_lanes < self->lanes_max) {
        int b = fcpr_bucket(self->prev_wait);
        self->react_w[b] = self->react_w[b] * REACT_DECAY + 1.0f;
        self->react[b] += (float)((lanes - self->prev_lanes - self->react[b]) / self->react_w[b]);
    }
    self->prev_step = self->acc_step;
    self->prev_wait = (float)wait;
    self->prev_lanes = (float)lanes;
    self->lanes_max = self->lanes_max > lanes ? self->lanes_max : (float)lanes;
    s_join_t *j = s_join_at(self, self->acc_step);
    if (defer && j) {
        j->est = (float)wait;
        j->slot = (int16_t)slot;
        j->hol = hol;
        j->score = self->acc_score;
        j->closed = true;
    } else if (self->acc_score && isfinite(wait)) {
        s_score(self, self->acc_step, wait);
    }
}

static void s_feed(fc_t *self, const fc_calendar_t *cal, int64_t t_s, int64_t dur_s,
                   double wait, double arrivals, double lanes, bool score)
{
    if (dur_s <= 0 || !isfinite(arrivals) || arrivals < 0 || !isfinite(lanes) || lanes < 0)
        return;
    if (self->last_s && t_s <= self->last_s) {
        self->ignored += t_s < self->last_s - FC_STEP_S;
        return;
    }
    if (isfinite(wait) && (wait < 0 || wait > FC_MAX_WAIT_S))
        wait = NAN;
    int64_t a = t_s - dur_s;
    if (self->last_s && a < self->last_s)
        a = self->last_s;
    if (self->last_s && a - self->last_s >= FC_GAP_S) {
        /* Nothing for a day or more: the profile is older than it looks. */
        self->gaps++;
        self->resumed_s = a;
    }
    if (!self->first_s)
        self->first_s = a;
    self->last_s = t_s;
    double span = (double)(t_s - a);
    while (a < t_s) {
        int64_t step = s_floor_div(a, FC_STEP_S);
        int64_t b = (step + 1) * FC_STEP_S < t_s ? (step + 1) * FC_STEP_S : t_s;
        if (step != self->acc_step) {
            s_close_step(self, cal);
            self->acc_step = step;
            self->acc_dur = self->acc_arr = self->acc_lanes = 0;
            self->acc_wait = self->acc_wait_dur = 0;
            self->acc_score = score;
        }
        double d = (double)(b - a);
        self->acc_dur += d;
        self->acc_arr += arrivals * d / span;
        self->acc_lanes += lanes * d;
        if (isfinite(wait)) {
            self->acc_wait += wait * d;
            self->acc_wait_dur += d;
        }
        a = b;
    }
}

void fc_observe(fc_t *self, const fc_calendar_t *cal, int64_t t_s, uint32_t interval_s,
                double wait_s, double arrivals, double lanes)
{
    s_feed(self, cal, t_s, interval_s, wait_s, arrivals, lanes, true);
}

void fc_learn(fc_t *self, const fc_calendar_t *cal, int64_t t_s, int64_t step_s, double wait_s,
              double arrivals, double lanes)
{
    s_feed(self, cal, t_s, step_s, wait_s, arrivals, lanes, false);
}

/* ---- the blend and the band --------------------------------------------- */

/* Prior root mean squared error of each predictor j steps ahead. */
static double s_prior_rms(int c, int j)
{
    double h = (j + 1) * (double)FC_STEP_S;
    switch (c) {
    case C_PRESENT: return 60.0 + 0.25 * h;
    case C_PROFILE: return 600.0;
    case C_LEVEL: return 650.0;
    default: return 120.0 + 0.05 * h;
    }
}

/* The mix with the least decayed absolute error at horizon h (the first
 * of equals): whatever the predictors, the blend's own past error is never
 * above that of the profile alone (one of the mixes). */
static int s_choose(const float loss[FC_NCAND])
{
    int best = 0;
    for (int i = 1; i < FC_NCAND; i++)
        if (loss[i] < loss[best])
            best = i;
    return best;
}

static void s_weights_at(const fc_t *self, int r, int h, double w[FC_NCOMP])
{
    s_mix_weights(s_learned(self, r, h)->best, w);
}

void fc_weights(const fc_t *self, int regime, int h, double w[FC_NCOMP], double *n)
{
    h = h < 0 ? 0 : h >= FC_NH ? FC_NH - 1 : h;
    regime = regime < 0 ? 0 : regime >= FC_NREG ? FC_NREG - 1 : regime;
    s_weights_at(self, regime, h, w);
    *n = s_learned(self, regime, h)->scored;
}

/* Bracketing horizons of step j and the fraction between them. */
static void s_bracket(int j, int *h0, double *f)
{
    int h = 0;
    while (h + 1 < FC_NH && s_h_steps[h + 1] <= j)
        h++;
    *h0 = h;
    *f = h + 1 < FC_NH ? (double)(j - s_h_steps[h]) / (s_h_steps[h + 1] - s_h_steps[h]) : 0.0;
}

/* Quantile q of the past errors at horizon h, of regime r (r < 0: both). */
static double s_quantile(const fc_t *self, int r, int h, double q)
{
    const s_learned_t *l0 = s_learned(self, r >= 0 ? r : 0, h), *l1 = s_learned(self, 1, h);
    double n = r >= 0 ? l0->band_n : l0->band_n + l1->band_n;
    double need = q * n, acc = 0;
    double width = (BAND_R_MAX - BAND_R_MIN) / FC_NBINS;
    for (int b = 0; b < FC_NBINS; b++) {
        double c = r >= 0 ? l0->band[b] : l0->band[b] + l1->band[b];
        if (acc + c >= need && c > 0)
            return BAND_R_MIN + (b + (need - acc) / c) * width;
        acc += c;
    }
    return BAND_R_MAX;
}

/* The band of regime r at horizon h: its own errors once there are
 * enough, else those of both regimes, read at the regime's tail levels;
 * else the prior (false). */
static bool s_band(const fc_t *self, int r, int h, double *q10, double *q90)
{
    const float *tail = s_learned(self, r, h)->tail;
    if (s_learned(self, r, h)->band_n < BAND_MIN_N)
        r = -1;
    if (r < 0 && s_learned(self, 0, h)->band_n + s_learned(self, 1, h)->band_n < BAND_MIN_N) {
        *q10 = PRIOR_Q10;
        *q90 = PRIOR_Q90;
        return false;
    }
    *q10 = s_quantile(self, r, h, tail[0]);
    *q90 = s_quantile(self, r, h, tail[1]);
    return true;
}

static double s_clamp(double v)
{
    return !isfinite(v) || v < 0 ? 0.0 : v > FC_MAX_WAIT_S ? FC_MAX_WAIT_S : v;
}

/* ---- the run ------------------------------------------------------------ */

/* The issue kept to be scored: its predictors and its P50 unrounded (the
 * result holds whole seconds; the blend learns from the mix itself). */
static void s_record(fc_t *self, int64_t s0, int regime, double comp[FC_NSTEPS][FC_NCOMP],
                     const double p50[FC_NSTEPS])
{
    for (int h = 0; h < FC_NH; h++) {
        float c[FC_NCOMP];
        for (int k = 0; k < FC_NCOMP; k++)
            c[k] = (float)comp[s_h_steps[h]][k];
        /* Not kept (out of memory): that issue is not scored there. */
        (void)fcpend_put(&self->pend, h, s_h_steps[h] + PEND_LAG, s0, regime, c,
                         (float)p50[s_h_steps[h]]);
    }
}

static uint16_t s_seconds(double v)
{
    return (uint16_t)lround(s_clamp(v));
}

/* Step j's P10 / P50 / P90 into *st; returns its P50 unrounded. */
static double s_blend(const fc_t *self, int r, int j, const double comp[FC_NCOMP],
                      double fallback, bool widen, fc_step_t *st)
{
    int h;
    double f, w0[FC_NCOMP], w1[FC_NCOMP], q10a, q90a, q10b, q90b;
    s_bracket(j, &h, &f);
    int h1 = h + 1 < FC_NH ? h + 1 : h;
    s_weights_at(self, r, h, w0);
    s_weights_at(self, r, h1, w1);
    double w[FC_NCOMP];
    for (int c = 0; c < FC_NCOMP; c++)
        w[c] = (1 - f) * w0[c] + f * w1[c];
    double mix = s_mix(w, comp);
    double p50 = s_clamp(isnan(mix) ? fallback : mix);
    s_band(self, r, h, &q10a, &q90a);
    s_band(self, r, h1, &q10b, &q90b);
    double q10 = (1 - f) * q10a + f * q10b, q90 = (1 - f) * q90a + f * q90b;
    if (widen) {
        q10 *= SHORT_WIDEN;
        q90 *= SHORT_WIDEN;
    }
    double scale = p50 + BAND_SCALE_S;
    st->p50_s = s_seconds(p50);
    st->p10_s = s_seconds(fmin(p50 + q10 * scale, p50));
    st->p90_s = s_seconds(fmax(p50 + q90 * scale, p50));
    return p50;
}

void fc_run(fc_t *self, const fc_calendar_t *cal, const fc_present_t *p, fc_result_t *out)
{
    int64_t s0 = s_floor_div(p->now_s, FC_STEP_S);
    double present[FC_NSTEPS], comp[FC_NSTEPS][FC_NCOMP], p50[FC_NSTEPS];
    double prof_w[FC_NSTEPS], prof_a[FC_NSTEPS], prof_l[FC_NSTEPS];
    for (int j = 0; j < FC_NSTEPS; j++)
        s_profile_at(self, cal, (s0 + j) * FC_STEP_S, &prof_w[j], &prof_a[j], &prof_l[j]);
    double pw_now, pa_now;
    s_profile_at(self, cal, p->now_s, &pw_now, &pa_now, NULL);
    fcpr_react_t react = { self->react, self->react_w, self->lanes_max };
    fcpr_run(&react, p, pa_now, s0, prof_a, prof_l, present);
    bool now_known = p->has_wait && isfinite(p->wait_s);
    double dev = now_known && !isnan(pw_now) ? p->wait_s - pw_now : 0.0;
    out->issued_s = p->now_s;
    out->short_basis = false;
    out->why_short = NULL;
    if (!self->last_s || self->last_s - self->first_s < FC_SHORT_SPAN_S) {
        out->short_basis = true;
        out->why_short = "less than a week of history";
    } else if (self->resumed_s && self->last_s - self->resumed_s < FC_GAP_S) {
        out->short_basis = true;
        out->why_short = "data resumed after a gap of a day or more";
    }
    double fallback = now_known ? p->wait_s : 0.0;
    /* A queue now or not: the predictors are not right in the same way. */
    int regime = now_known && p->wait_s >= REGIME_QUEUE_S;
    double lvl = self->level_w > 0 ? self->level / self->level_w : 0.0;
    lvl = lvl < -LEVEL_MAX ? -LEVEL_MAX : lvl > LEVEL_MAX ? LEVEL_MAX : lvl;
    for (int j = 0; j < FC_NSTEPS; j++) {
        int64_t t = (s0 + j) * FC_STEP_S;
        double mid = (double)(j == 0 ? p->now_s : t) + FC_STEP_S / 2.0;
        double dt = mid - (double)p->now_s, pw = prof_w[j];
        /* The queue run forward says little past PRESENT_MAX_S: a day of
         * arrivals above the lanes now is no forecast. */
        comp[j][C_PRESENT] = now_known && dt <= PRESENT_MAX_S ? s_clamp(present[j]) : NAN;
        comp[j][C_PROFILE] = pw;
        comp[j][C_ANOMALY] = isnan(pw) ? NAN : pw + dev * exp(-dt / ANOMALY_TAU_S);
        comp[j][C_LEVEL] = isnan(pw) || self->level_w < LEVEL_MIN_W
                               ? NAN
                               : (pw + BAND_SCALE_S) * exp(lvl * exp(-dt / LEVEL_FADE_S)) -
                                     BAND_SCALE_S;
        p50[j] = s_blend(self, regime, j, comp[j], fallback, out->short_basis, &out->step[j]);
    }
    s_record(self, s0, regime, comp, p50);
}

int64_t fc_step_time(const fc_result_t *r, int j)
{
    return j == 0 ? r->issued_s : (s_floor_div(r->issued_s, FC_STEP_S) + j) * FC_STEP_S;
}

int fc_best(const fc_result_t *r, int nsteps)
{
    if (!r->issued_s || nsteps <= 0)
        return -1;
    if (nsteps > FC_NSTEPS)
        nsteps = FC_NSTEPS;
    int best = 0;
    for (int j = 1; j < nsteps; j++)
        if (r->step[j].p50_s < r->step[best].p50_s)
            best = j;
    return best;
}
