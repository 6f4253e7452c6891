/* hourswin — see hourswin.h. */
#include "hourswin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double hw_demand_sum(const hw_demand_t *d, int di, int start, int len)
{
    double s = 0;
    for (int i = 0; i < len; i++)
        s += d->v[di][(start + i) % HW_MINUTES];
    return s;
}

/* Runs of minutes where cls(m) gives the same non-negative class; a run
 * touching both ends of the week is one run that wraps. Calls emit for
 * each run of class >= 0. */
typedef int (*s_class_fn)(const void *arg, int m);
typedef void (*s_emit_fn)(void *arg, int start, int len, int cls);

static void s_runs(s_class_fn cls, const void *carg, s_emit_fn emit, void *earg)
{
    /* Start the scan at a class change so no run is cut at the week end. */
    int first = 0, c0 = cls(carg, 0);
    while (first < HW_MINUTES && cls(carg, first) == c0)
        first++;
    if (first == HW_MINUTES) {
        if (c0 >= 0)
            emit(earg, 0, HW_MINUTES, c0);
        return;
    }
    int start = first, cur = cls(carg, first % HW_MINUTES);
    for (int i = 1; i <= HW_MINUTES; i++) {
        int m = (first + i) % HW_MINUTES;
        int c = i == HW_MINUTES ? -99 : cls(carg, m);
        if (c != cur) {
            if (cur >= 0)
                emit(earg, start % HW_MINUTES, first + i - start, cur);
            start = first + i;
            cur = c;
        }
    }
}

typedef struct {
    const int8_t *us, *other;
} s_pair_t;

static int s_mismatch_class(const void *arg, int m)
{
    const s_pair_t *p = arg;
    if (p->us[m] == HOURS_OPEN && p->other[m] == HOURS_CLOSED)
        return HOURS_US;
    if (p->other[m] == HOURS_OPEN && p->us[m] == HOURS_CLOSED)
        return HOURS_OTHER;
    return -1;
}

typedef struct {
    const hw_demand_t *d;
    hw_span_t *out;
    int max, n, minutes;
} s_collect_t;

static void s_emit_window(void *arg, int start, int len, int cls)
{
    s_collect_t *c = arg;
    c->minutes += len;
    if (c->n < c->max) {
        hw_span_t *w = &c->out[c->n];
        memset(w, 0, sizeof *w);
        w->start = start;
        w->len = len;
        w->open_side = (enum hours_side)cls;
        for (int di = 0; di < TAX_NDIRS; di++)
            w->demand[di] = hw_demand_sum(c->d, di, start, len);
    }
    c->n++;
}

static int s_cmp_start(const void *a, const void *b)
{
    const hw_span_t *x = a, *y = b;
    return x->start - y->start;
}

int hw_mismatch(const int8_t *us, const int8_t *other, const hw_demand_t *d, hw_span_t *out,
                int max, int *n)
{
    s_pair_t p = { us, other };
    s_collect_t c = { .d = d, .out = out, .max = max };
    s_runs(s_mismatch_class, &p, s_emit_window, &c);
    int kept = c.n < max ? c.n : max;
    if (kept > 1)
        qsort(out, (size_t)kept, sizeof *out, s_cmp_start);
    *n = c.n;
    return c.minutes;
}

static int s_open_class(const void *arg, int m)
{
    const int8_t *s = arg;
    return s[m] == HOURS_OPEN ? 1 : -1;
}

static void s_emit_open(void *arg, int start, int len, int cls)
{
    (void)cls;
    s_collect_t *c = arg;
    if (c->n < c->max) {
        hw_span_t *w = &c->out[c->n];
        memset(w, 0, sizeof *w);
        w->start = start;
        w->len = len;
        if (len < HW_MINUTES) {
            int h = len < 60 ? len : 60;
            for (int di = 0; di < TAX_NDIRS; di++) {
                w->demand[di] = hw_demand_sum(c->d, di, start, len);
                w->first_h[di] = hw_demand_sum(c->d, di, start, h);
                w->last_h[di] = hw_demand_sum(c->d, di, start + len - h, h);
            }
        } else {
            for (int di = 0; di < TAX_NDIRS; di++)
                w->demand[di] = hw_demand_sum(c->d, di, 0, HW_MINUTES);
        }
    }
    c->n++;
}

void hw_open_runs(const int8_t *state, const hw_demand_t *d, hw_span_t *out, int max, int *n)
{
    s_collect_t c = { .d = d, .out = out, .max = max };
    s_runs(s_open_class, state, s_emit_open, &c);
    int kept = c.n < max ? c.n : max;
    if (kept > 1)
        qsort(out, (size_t)kept, sizeof *out, s_cmp_start);
    *n = c.n;
}

void hw_demand_by_hour(const hw_demand_t *d, const int16_t *how, double out[HW_HOURS])
{
    memset(out, 0, HW_HOURS * sizeof *out);
    for (int m = 0; m < HW_MINUTES; m++)
        if (how[m] >= 0 && how[m] < HW_HOURS)
            for (int di = 0; di < TAX_NDIRS; di++)
                out[how[m]] += d->v[di][m];
}

typedef struct {
    double v;
    int h;
} s_hour_t;

static int s_cmp_hour(const void *a, const void *b)
{
    const s_hour_t *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->h - y->h;   /* deterministic */
}

int hw_schedule(const double demand[HW_HOURS], double share, bool open[HW_HOURS], double *covered)
{
    s_hour_t hs[HW_HOURS];
    double total = 0;
    for (int h = 0; h < HW_HOURS; h++) {
        hs[h].v = demand[h] > 0 ? demand[h] : 0;
        hs[h].h = h;
        total += hs[h].v;
        open[h] = false;
    }
    if (total <= 0) {
        *covered = 1.0;
        return 0;
    }
    qsort(hs, HW_HOURS, sizeof hs[0], s_cmp_hour);
    double sum = 0;
    int n = 0;
    /* A tiny tolerance so a share that is met exactly is not missed by rounding. */
    while (n < HW_HOURS && hs[n].v > 0 && sum < share * total * (1 - 1e-12)) {
        open[hs[n].h] = true;
        sum += hs[n].v;
        n++;
    }
    *covered = sum / total;
    return n;
}

/* One day's hours as "HH:MM-HH:MM,HH:MM-HH:MM" (a key to compare days). */
static void s_day_ranges(const bool *day, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int h = 0; h < 24; h++) {
        if (!day[h] || (h > 0 && day[h - 1]))
            continue;
        int e = h;
        while (e < 24 && day[e])
            e++;
        int w = snprintf(buf + used, len - used, "%s%02d:00-%02d:00", used ? "," : "", h, e);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

char *hw_schedule_text(const bool open[HW_HOURS], char *buf, size_t len)
{
    static const char *const days[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    char key[7][200];
    for (int d = 0; d < 7; d++)
        s_day_ranges(&open[d * 24], key[d], sizeof key[d]);
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < 7;) {
        int e = d;
        while (e + 1 < 7 && strcmp(key[e + 1], key[d]) == 0)
            e++;
        if (key[d][0]) {
            char dayspec[16];
            if (d == 0 && e == 6)
                snprintf(dayspec, sizeof dayspec, "daily");
            else if (e > d)
                snprintf(dayspec, sizeof dayspec, "%s-%s", days[d], days[e]);
            else
                snprintf(dayspec, sizeof dayspec, "%s", days[d]);
            /* One rule per range of the day. */
            char tmp[200];
            snprintf(tmp, sizeof tmp, "%s", key[d]);
            for (char *save = NULL, *r = strtok_r(tmp, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
                int w = snprintf(buf + used, len - used, "%s%s %s", used ? "; " : "", dayspec, r);
                if (w < 0 || (size_t)w >= len - used)
                    return buf;
                used += (size_t)w;
            }
        }
        d = e + 1;
    }
    if (!used)
        snprintf(buf, len, "closed");
    return buf;
}
