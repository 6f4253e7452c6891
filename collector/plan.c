/* plan — see plan.h. */
#include "plan.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hours.h"
#include "log.h"
#include "wtab.h"
#include "zone.h"

#define PLAN_MAX_LANES 999

struct plan {
    wtab_t *tab;
    char tz[64];
    bool utc;
};

/* Lanes are whole numbers a port could have: a plan saying 1e30 lanes is
 * a typo, not a forecast. */
static int s_check_values(const plan_t *self, const char *path)
{
    for (int q = 0; q < TAX_NQUEUES; q++) {
        if (!wtab_has(self->tab, q))
            continue;
        for (int h = 0; h < WTAB_HOURS; h++) {
            double v = wtab_get(self->tab, q, h);
            if (v != floor(v) || v > PLAN_MAX_LANES) {
                enum tax_mode m;
                enum tax_type t;
                tax_queue_from_index(q, &m, &t);
                log_error("%s: %s-%s at hour %d of the week: %g is not a whole number of lanes "
                          "in 0..%d", path, tax_mode_name(m), tax_type_name(t), h, v,
                          PLAN_MAX_LANES);
                return -1;
            }
        }
    }
    return 0;
}

plan_t *plan_load(const char *path, const char *default_tz)
{
    plan_t *self = calloc(1, sizeof *self);
    if (!self || !(self->tab = wtab_new())) {
        log_error("%s: out of memory", path);
        plan_destroy(&self);
        return NULL;
    }
    if (wtab_load(self->tab, path) != 0 || s_check_values(self, path) != 0) {
        plan_destroy(&self);
        return NULL;
    }
    const char *tz = wtab_timezone(self->tab) ? wtab_timezone(self->tab) : default_tz;
    snprintf(self->tz, sizeof self->tz, "%s", tz ? tz : "UTC");
    self->utc = strcmp(self->tz, "UTC") == 0 || strcmp(self->tz, "Etc/UTC") == 0;
    struct tm tm;
    char abbr[16];
    if (!self->utc && zone_local(self->tz, 0, &tm, abbr, sizeof abbr) != 0) {
        log_error("%s: time zone '%s' is not usable", path, self->tz);
        plan_destroy(&self);
    }
    return self;
}

void plan_destroy(plan_t **self_p)
{
    if (!*self_p)
        return;
    wtab_destroy(&(*self_p)->tab);
    free(*self_p);
    *self_p = NULL;
}

/* Hour of the week (0 = Monday 00:00) of Unix ms t on the plan's clock. */
static int s_hour_of_week(const plan_t *self, int64_t t_ms)
{
    int64_t t = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    struct tm tm;
    char abbr[16];
    if (self->utc) {
        time_t tt = (time_t)t;
        if (!gmtime_r(&tt, &tm))
            return -1;
    } else if (zone_local(self->tz, t, &tm, abbr, sizeof abbr) != 0) {
        return -1;
    }
    return ((tm.tm_wday + 6) % 7) * 24 + tm.tm_hour;
}

int plan_lanes(const plan_t *self, int queue, int64_t t_ms)
{
    if (queue < 0 || queue >= TAX_NQUEUES || !wtab_has(self->tab, queue))
        return -1;
    int h = s_hour_of_week(self, t_ms);
    if (h < 0)
        return -1;
    double v = wtab_get(self->tab, queue, h);
    return v < 0 ? -1 : (int)v;
}

int plan_ref_lanes(const void *arg, int64_t t_ms)
{
    const plan_ref_t *ref = arg;
    return ref->plan ? plan_lanes(ref->plan, ref->queue, t_ms) : -1;
}

int plan_load_dir(const char *dir, const registry_t *reg, plan_t *(**plans)[TAX_NDIRS],
                  int *nfound)
{
    size_t n = reg_count(reg);
    *nfound = 0;
    *plans = calloc(n ? n : 1, sizeof **plans);
    if (!*plans) {
        log_error("lane plans: out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        for (int d = 0; d < TAX_NDIRS; d++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s-%s.csv", dir, c->id, tax_dir_name(d + 1));
            if (access(path, F_OK) != 0)
                continue;
            const char *tz = reg_side_tz(c, hours_side_of(c->border, d + 1));
            (*plans)[i][d] = plan_load(path, tz);
            if (!(*plans)[i][d])
                rc = -1;
            else
                (*nfound)++;
        }
    }
    if (rc != 0) {
        plan_free_all(plans, n);
        *nfound = 0;
    }
    return rc;
}

void plan_free_all(plan_t *(**plans)[TAX_NDIRS], size_t n)
{
    if (!*plans)
        return;
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            plan_destroy(&(*plans)[i][d]);
    free(*plans);
    *plans = NULL;
}
