/* hours_demand — see hours_demand.h. */
#include "hours_demand.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_PART_BINS 36                            /* 3 hours */
#define S_NPARTS (HDEM_BINS / S_PART_BINS)
_Static_assert(HDEM_BINS % S_PART_BINS == 0 && S_NPARTS < 256, "s_bins_t.at: a part in a byte");

/* Three hours of the week's bins. */
typedef struct {
    float sum[S_PART_BINS];      /* arrivals, all lane types */
    uint32_t ms[S_PART_BINS];    /* ms of data, from the counting lane type (300,000 a
                                  * week: 14,000 weeks before it wraps) */
} s_part_t;

/* The week's bins in parts of 3 hours, each made when the first arrivals
 * of its hours come, in one block grown a part at a time and found by a
 * byte each (at: 1 + the index in parts; 0: no data then yet). A
 * collector that has seen an hour holds that part per queue, not the
 * day (a day was 2.3 KB: 10,000 series, 6-12 MB in the bench; the whole
 * week is 16 KB either way; docs/performance.md §1j). */
typedef struct {
    s_part_t *parts;
    uint8_t n;
    uint8_t at[S_NPARTS];
} s_bins_t;

struct hours_demand {
    const registry_t *reg;
    size_t n;
    s_bins_t *(*b)[TAX_NDIRS][TAX_NMODES + 1];   /* NULL: no lanes of the mode */
    enum tax_type (*counting)[TAX_NMODES + 1];   /* the lane type whose seconds count */
};

hours_demand_t *hours_demand_new(const registry_t *reg)
{
    hours_demand_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->reg = reg;
    self->n = reg_count(reg);
    self->b = calloc(self->n + 1, sizeof *self->b);
    self->counting = calloc(self->n + 1, sizeof *self->counting);
    if (!self->b || !self->counting)
        goto fail;
    for (size_t i = 0; i < self->n; i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        for (int m = 1; m <= TAX_NMODES; m++) {
            if (!c->max_lanes[m])
                continue;
            for (int t = TAX_NTYPES; t >= 1; t--)
                if (c->type_lanes[m][t])
                    self->counting[i][m] = (enum tax_type)t;
            for (int d = 0; d < TAX_NDIRS; d++)
                if (!(self->b[i][d][m] = calloc(1, sizeof(s_bins_t))))
                    goto fail;
        }
    }
    return self;
fail:
    hours_demand_destroy(&self);
    return NULL;
}

void hours_demand_destroy(hours_demand_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hours_demand_t *self = *self_p;
    for (size_t i = 0; self->b && i < self->n; i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int m = 0; m <= TAX_NMODES; m++) {
                if (self->b[i][d][m])
                    free(self->b[i][d][m]->parts);
                free(self->b[i][d][m]);
            }
    free(self->b);
    free(self->counting);
    free(self);
    *self_p = NULL;
}

static int s_bin(int64_t t)
{
    int64_t b = (t / HDEM_BIN_S) % HDEM_BINS;
    return (int)(b < 0 ? b + HDEM_BINS : b);
}

/* The part of bin k (0..HDEM_BINS-1); NULL while it has no data. */
static s_part_t *s_part(const s_bins_t *b, int k)
{
    int at = b->at[k / S_PART_BINS];
    return at ? &b->parts[at - 1] : NULL;
}

/* Add to bin k; its part is made if need be (out of memory: the arrivals
 * are not counted). */
static void s_add(s_bins_t *b, int k, float arrivals, uint32_t ms)
{
    s_part_t *p = s_part(b, k);
    if (!p) {
        if (!(p = realloc(b->parts, (b->n + 1u) * sizeof *p)))
            return;
        b->parts = p;
        p += b->n++;
        memset(p, 0, sizeof *p);
        b->at[k / S_PART_BINS] = b->n;
    }
    p->sum[k % S_PART_BINS] += arrivals;
    p->ms[k % S_PART_BINS] += ms;
}

void hours_demand_add(hours_demand_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                      enum tax_type t, int64_t t_end_ms, uint32_t interval_ms, double arrivals)
{
    if (!self || ci >= self->n || d < 1 || d > TAX_NDIRS || !tax_mode_valid(m) || isnan(arrivals) ||
        arrivals < 0 || !interval_ms)
        return;
    s_bins_t *b = self->b[ci][d - 1][m];
    if (!b)
        return;
    bool counting = t == self->counting[ci][m];
    const int64_t bin_ms = HDEM_BIN_S * 1000LL;
    if (interval_ms <= bin_ms) {
        /* A short interval across a bin boundary goes by its middle. */
        s_add(b, s_bin((t_end_ms - (int64_t)interval_ms / 2 - 1) / 1000), (float)arrivals,
              counting ? interval_ms : 0);
        return;
    }
    /* A long one (an archived row of 5 minutes or an hour) is spread over
     * its bins in proportion to its time in each. */
    for (int64_t from = t_end_ms - interval_ms; from < t_end_ms;) {
        int64_t next = (from / bin_ms + 1) * bin_ms;
        if (next > t_end_ms)
            next = t_end_ms;
        s_add(b, s_bin(from / 1000), (float)(arrivals * (double)(next - from) / interval_ms),
              counting ? (uint32_t)(next - from) : 0);
        from = next;
    }
}

double hours_demand_sum(const hours_demand_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                        int64_t from_s, int64_t to_s, double *covered)
{
    if (covered)
        *covered = 0;
    if (!self || ci >= self->n || d < 1 || d > TAX_NDIRS || !tax_mode_valid(m) || to_s <= from_s)
        return -1;
    const s_bins_t *b = self->b[ci][d - 1][m];
    if (!b)
        return -1;
    if (to_s - from_s > 7 * 86400)
        to_s = from_s + 7 * 86400;
    double sum = 0;
    int64_t with = 0;
    for (int64_t t = from_s; t < to_s;) {
        int64_t next = (t / HDEM_BIN_S + 1) * HDEM_BIN_S;
        if (next > to_s)
            next = to_s;
        int k = s_bin(t);
        const s_part_t *p = s_part(b, k);
        if (p && p->ms[k % S_PART_BINS]) {
            sum += (double)p->sum[k % S_PART_BINS] * 1000.0 / p->ms[k % S_PART_BINS] *
                   (double)(next - t);
            with += next - t;
        }
        t = next;
    }
    if (covered)
        *covered = (double)with / (double)(to_s - from_s);
    return with ? sum : -1;
}
