/* demand — see demand.h. */
#include "demand.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rng.h"
#include "wtab.h"

#define DEMAND_STREAM 1
#define DEMAND_WEEKS_STREAM 2        /* a scenario's later weeks draw here: the first week's
                                      * draws, and so every older scenario, stay as they were */
#define DEMAND_DAY_STREAM 3

struct demand {
    int nq;
    double vph[SCEN_MAX_QUEUES][WTAB_HOURS];
    double factor[SCEN_MAX_QUEUES][WTAB_HOURS];
    double max[SCEN_MAX_QUEUES];
    /* Multi-week: hourly factors past the first week, a factor per day
     * (weekday × day noise, the holiday's own), the holiday's shape. */
    int nhours, ndays;
    double *later;                   /* [qi * nhours + h], h >= WTAB_HOURS */
    double *day;                     /* [d] */
    int holiday;                     /* day index, or -1 */
    double hol_vph[SCEN_MAX_QUEUES][24];
};

typedef struct {
    const char *name;
    double v[24];
} shape_t;

/* Daily shapes, by hour of day (UTC stands in for local time). The
 * commute shape follows the San Ysidro northbound pattern of the CBP
 * hourly averages: a morning rush from 4 am, a plateau until early
 * afternoon, then decline. */
static const shape_t s_shapes[] = {
    { "commute", { 0.18, 0.15, 0.15, 0.25, 0.70, 1.00, 1.00, 1.00, 0.95, 0.85, 0.62, 0.55,
                   0.52, 0.52, 0.55, 0.55, 0.50, 0.45, 0.42, 0.38, 0.34, 0.30, 0.24, 0.20 } },
    { "flat", { 0.55, 0.50, 0.50, 0.55, 0.65, 0.80, 0.90, 0.95, 1.00, 1.00, 0.95, 0.95,
                0.95, 0.95, 0.95, 1.00, 1.00, 0.95, 0.90, 0.85, 0.75, 0.70, 0.65, 0.60 } },
    { "walkers", { 0.10, 0.08, 0.08, 0.15, 0.45, 0.80, 1.00, 1.00, 0.90, 0.75, 0.65, 0.60,
                   0.62, 0.66, 0.70, 0.75, 0.70, 0.60, 0.50, 0.40, 0.32, 0.25, 0.18, 0.12 } },
    { "trucks", { 0.02, 0.02, 0.02, 0.02, 0.05, 0.20, 0.60, 0.90, 1.00, 1.00, 1.00, 0.95,
                  0.95, 1.00, 1.00, 0.95, 0.85, 0.60, 0.30, 0.10, 0.05, 0.03, 0.02, 0.02 } },
};

const double *demand_shape(const char *name)
{
    for (size_t i = 0; i < sizeof s_shapes / sizeof s_shapes[0]; i++)
        if (strcmp(s_shapes[i].name, name) == 0)
            return s_shapes[i].v;
    return NULL;
}

static int s_fill_queue(demand_t *self, int qi, const scen_queue_t *q, const wtab_t *csv)
{
    int k = tax_queue_index(q->mode, q->type);
    if (csv && wtab_has(csv, k)) {
        for (int h = 0; h < WTAB_HOURS; h++)
            self->vph[qi][h] = wtab_get(csv, k, h);
        return 0;
    }
    const double *shape = demand_shape(q->profile);
    if (!shape) {
        log_error("unknown demand profile '%s' for %s-%s", q->profile, tax_mode_name(q->mode),
                  tax_type_name(q->type));
        return -1;
    }
    for (int h = 0; h < WTAB_HOURS; h++)
        self->vph[qi][h] = shape[h % 24] * q->peak_vph;
    return 0;
}

static double s_at(const demand_t *self, int qi, int h);

static bool s_has_weeks(const scen_weeks_t *w)
{
    bool any = w->day_noise > 0 || w->holiday_day > 0;
    for (int d = 0; d < 7; d++)
        any = any || w->weekday[d] > 0;
    return any;
}

/* The multi-week variation (scen_weeks_t); nothing for other scenarios. */
static int s_weeks(demand_t *self, const scen_t *sc, uint64_t seed)
{
    const scen_weeks_t *w = &sc->weeks;
    self->holiday = -1;
    if (!s_has_weeks(w))
        return 0;
    self->nhours = (int)ceil(sc->start_h + sc->hours) + 2;
    self->ndays = self->nhours / 24 + 1;
    self->nhours = self->ndays * 24;
    self->later = calloc((size_t)self->nq * self->nhours, sizeof *self->later);
    self->day = calloc((size_t)self->ndays, sizeof *self->day);
    if (!self->later || !self->day)
        return -1;
    rng_t r, rd;
    rng_seed(&r, seed, DEMAND_WEEKS_STREAM);
    rng_seed(&rd, seed, DEMAND_DAY_STREAM);
    for (int qi = 0; qi < self->nq; qi++)
        for (int h = WTAB_HOURS; h < self->nhours; h++) {
            double f = 1.0 + sc->demand_noise * rng_normal(&r);
            self->later[qi * self->nhours + h] = f < 0.2 ? 0.2 : f;
        }
    self->holiday = w->holiday_day - 1;
    const double *hs = w->holiday_profile ? demand_shape(w->holiday_profile) : NULL;
    if (self->holiday >= 0 && !hs) {
        log_error("unknown holiday profile '%s'", w->holiday_profile ? w->holiday_profile : "");
        return -1;
    }
    for (int d = 0; d < self->ndays; d++) {
        double f = 1.0 + w->day_noise * rng_normal(&rd);
        double wd = w->weekday[d % 7] > 0 ? w->weekday[d % 7] : 1.0;
        self->day[d] = (f < 0.3 ? 0.3 : f) * (d == self->holiday ? w->holiday_factor : wd);
    }
    for (int qi = 0; qi < self->nq; qi++) {
        for (int h = 0; hs && h < 24; h++)
            self->hol_vph[qi][h] = hs[h] * sc->q[qi].peak_vph;
        self->max[qi] = 0;
        for (int h = 0; h < self->nhours; h++) {
            double v = s_at(self, qi, h);
            self->max[qi] = v > self->max[qi] ? v : self->max[qi];
        }
    }
    return 0;
}

demand_t *demand_new(const scen_t *sc, const char *csv, uint64_t seed)
{
    demand_t *self = calloc(1, sizeof *self);
    wtab_t *tab = csv ? wtab_new() : NULL;
    if (!self || (csv && (!tab || wtab_load(tab, csv) != 0)))
        goto fail;
    self->nq = sc->nq;
    rng_t r;
    rng_seed(&r, seed, DEMAND_STREAM);
    for (int qi = 0; qi < sc->nq; qi++) {
        if (s_fill_queue(self, qi, &sc->q[qi], tab) != 0)
            goto fail;
        for (int h = 0; h < WTAB_HOURS; h++) {
            double f = 1.0 + sc->demand_noise * rng_normal(&r);
            self->factor[qi][h] = f < 0.2 ? 0.2 : f;
            double v = self->vph[qi][h] * self->factor[qi][h];
            if (v > self->max[qi])
                self->max[qi] = v;
        }
    }
    wtab_destroy(&tab);
    if (s_weeks(self, sc, seed) != 0) {
        demand_destroy(&self);
        return NULL;
    }
    return self;
fail:
    wtab_destroy(&tab);
    free(self);
    return NULL;
}

void demand_destroy(demand_t **self_p)
{
    demand_t *self = *self_p;
    if (self) {
        free(self->later);
        free(self->day);
    }
    free(self);
    *self_p = NULL;
}

static double s_at(const demand_t *self, int qi, int h)
{
    if (h >= 0 && h < self->nhours && self->day) {
        int d = h / 24;
        double f = h < WTAB_HOURS ? self->factor[qi][h] : self->later[qi * self->nhours + h];
        double base = d == self->holiday ? self->hol_vph[qi][h % 24] : self->vph[qi][h % WTAB_HOURS];
        return base * f * self->day[d];
    }
    h = ((h % WTAB_HOURS) + WTAB_HOURS) % WTAB_HOURS;
    return self->vph[qi][h] * self->factor[qi][h];
}

double demand_vph(const demand_t *self, int qi, double t_h)
{
    /* Linear between hour midpoints: no cliff at the top of each hour. */
    double x = t_h - 0.5;
    int h = (int)floor(x);
    double w = x - h;
    return (1.0 - w) * s_at(self, qi, h) + w * s_at(self, qi, h + 1);
}

double demand_max_vph(const demand_t *self, int qi) { return self->max[qi]; }
