/* fcpend — see fcpend.h. */
#include "fcpend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 4

/* The first entry of horizon h's ring: the block's entries after those
 * of the horizons before it. */
static fcpend_entry_t *s_ring(const fcpend_t *p, int h)
{
    size_t off = 0;
    for (int g = 0; g < h; g++)
        off += p->h[g].cap;
    return p->e + off;
}

static fcpend_entry_t *s_at(fcpend_entry_t *ring, const fcpend_ring_t *r, int i)
{
    return &ring[(r->head + i) % r->cap];
}

/* Room for one more at horizon h: its ring unrolled into one twice as
 * large (at most `keep`, which the window never exceeds), the others
 * unrolled as they are, into a new block. */
static int s_grow(fcpend_t *p, int h, int keep)
{
    fcpend_ring_t *r = &p->h[h];
    int cap = r->cap ? r->cap * 2 : FIRST_CAP;
    cap = cap > keep ? keep : cap;
    if (cap <= r->n)
        return -1;
    size_t total = (size_t)cap - r->cap;
    for (int g = 0; g < FC_NH; g++)
        total += p->h[g].cap;
    fcpend_entry_t *e = malloc(total * sizeof *e), *to = e;
    if (!e)
        return -1;
    for (int g = 0; g < FC_NH; g++) {
        fcpend_ring_t *rg = &p->h[g];
        fcpend_entry_t *from = s_ring(p, g);
        for (int i = 0; i < rg->n; i++)
            to[i] = *s_at(from, rg, i);
        rg->head = 0;
        to += g == h ? cap : rg->cap;
    }
    free(p->e);
    p->e = e;
    r->cap = (uint16_t)cap;
    return 0;
}

static int16_t s_comp_pack(float v)
{
    if (isnan(v))
        return FCPEND_COMP_NONE;
    double u = round(v / FCPEND_COMP_UNIT_S);
    return (int16_t)(u < -INT16_MAX ? -INT16_MAX : u > INT16_MAX ? INT16_MAX : u);
}

double fcpend_comp(const fcpend_entry_t *e, int c)
{
    int16_t v = e->comp[c];
    return v == FCPEND_COMP_NONE ? NAN : v * FCPEND_COMP_UNIT_S;
}

int fcpend_put(fcpend_t *p, int h, int keep, int64_t step, int regime,
               const float comp[FC_NCOMP], float p50)
{
    if (h < 0 || h >= FC_NH || keep < 1 || keep > UINT16_MAX || step < FCPEND_STEP_MIN ||
        step > FCPEND_STEP_MAX || regime < 0 || regime > 1)
        return -1;
    fcpend_ring_t *r = &p->h[h];
    fcpend_entry_t *ring = s_ring(p, h);
    if (r->n > 0) {
        int32_t last = s_at(ring, r, r->n - 1)->step;
        if (last == step)
            return 0;
        if (last > step)
            r->n = 0;
    }
    /* Issues `keep` steps old or more are past needing. */
    while (r->n > 0 && s_at(ring, r, 0)->step <= step - keep) {
        r->head = (uint16_t)((r->head + 1) % r->cap);
        r->n--;
    }
    if (r->n == r->cap) {
        if (s_grow(p, h, keep) != 0)
            return -1;
        ring = s_ring(p, h);
    }
    fcpend_entry_t *e = s_at(ring, r, r->n);
    e->step = (int)step;
    e->regime = (unsigned)regime;
    for (int c = 0; c < FC_NCOMP; c++)
        e->comp[c] = s_comp_pack(comp[c]);
    e->p50 = p50;
    r->n++;
    return 0;
}

const fcpend_entry_t *fcpend_get(const fcpend_t *p, int h, int64_t step)
{
    if (h < 0 || h >= FC_NH)
        return NULL;
    const fcpend_ring_t *r = &p->h[h];
    fcpend_entry_t *ring = s_ring(p, h);
    /* Newest first: the issue wanted is usually near the end. */
    for (int i = r->n - 1; i >= 0; i--) {
        const fcpend_entry_t *e = s_at(ring, r, i);
        if (e->step == step)
            return e;
        if (e->step < step)
            break;
    }
    return NULL;
}

void fcpend_free(fcpend_t *p)
{
    free(p->e);
    memset(p, 0, sizeof *p);
}

size_t fcpend_bytes(const fcpend_t *p)
{
    size_t n = 0;
    for (int h = 0; h < FC_NH; h++)
        n += (size_t)p->h[h].cap * sizeof *p->e;
    return n;
}
