/* state — see state.h. */
#include "state.h"

#include "notices.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct state {
    size_t n;
    xstate_t *x;        /* registry order */
    qstate_t unseen[TAX_NQUEUES];   /* the queues never seen, per mode and type */
    size_t nqueues;     /* queues made */
    size_t *by_id;      /* indexes sorted by crossing id, for bsearch */
    uint64_t version;
    struct notices *notices, *retired;
};

static const state_t *s_sort_ctx;

static int s_cmp_idx(const void *a, const void *b)
{
    const xstate_t *xa = &s_sort_ctx->x[*(const size_t *)a];
    const xstate_t *xb = &s_sort_ctx->x[*(const size_t *)b];
    return strcmp(xa->reg->id, xb->reg->id);
}

state_t *state_new(const registry_t *reg)
{
    state_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->n = reg_count(reg);
    self->x = calloc(self->n ? self->n : 1, sizeof *self->x);
    self->by_id = calloc(self->n ? self->n : 1, sizeof *self->by_id);
    if (!self->x || !self->by_id) {
        state_destroy(&self);
        return NULL;
    }
    for (int k = 0; k < TAX_NQUEUES; k++) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        est_init(&self->unseen[k].est, m, t);
    }
    for (size_t i = 0; i < self->n; i++) {
        xstate_t *x = &self->x[i];
        x->reg = reg_at(reg, i);
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++)
                x->q[d][k] = &self->unseen[k];
        self->by_id[i] = i;
    }
    s_sort_ctx = self;
    qsort(self->by_id, self->n, sizeof *self->by_id, s_cmp_idx);
    s_sort_ctx = NULL;
    return self;
}

void state_destroy(state_t **self_p)
{
    state_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->x && i < self->n; i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++)
                if (self->x[i].q[d][k] != &self->unseen[k])
                    free((qstate_t *)self->x[i].q[d][k]);
    free(self->x);
    free(self->by_id);
    notices_destroy(&self->notices);
    notices_destroy(&self->retired);
    free(self);
    *self_p = NULL;
}

size_t state_count(const state_t *self) { return self->n; }

xstate_t *state_at(state_t *self, size_t i) { return i < self->n ? &self->x[i] : NULL; }

xstate_t *state_find(state_t *self, const char *crossing)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        xstate_t *x = &self->x[self->by_id[mid]];
        int c = strcmp(crossing, x->reg->id);
        if (c == 0)
            return x;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int qstate_apply(qstate_t *q, const est_input_t *in, int64_t t_end_ms, int64_t now_ms)
{
    if (q->seen && t_end_ms <= q->updated_ms)
        return 0;
    est_update(&q->est, in, &q->out);
    q->seen = true;
    q->updated_ms = t_end_ms;
    q->received_ms = now_ms;
    q->interval_ms = in->interval_ms;
    q->lanes_open = in->lanes_open;
    q->arrivals = in->arrivals;
    q->departures = in->departures;
    q->total_arrivals += in->arrivals;
    q->total_departures += in->departures;
    q->total_tt_count += in->tt_count;
    q->total_tt_sum_s += in->tt_sum_s;
    return 1;
}

/* Queue (d, k) of x, made (from the never-seen state) if it is not yet;
 * NULL when out of memory. */
static qstate_t *s_queue_mut(state_t *self, xstate_t *x, int d, int k)
{
    if (x->q[d][k] != &self->unseen[k])
        return (qstate_t *)x->q[d][k];   /* made here, by this state */
    qstate_t *q = malloc(sizeof *q);
    if (!q)
        return NULL;
    *q = self->unseen[k];
    x->q[d][k] = q;
    self->nqueues++;
    return q;
}

int state_commit(state_t *self, xstate_t *x, enum tax_dir dir, int k, const qstate_t *src)
{
    qstate_t *dst = s_queue_mut(self, x, dir - 1, k);
    if (!dst)
        return -1;
    *dst = *src;
    self->version++;
    x->changes++;
    return 0;
}

int state_apply(state_t *self, xstate_t *x, enum tax_dir dir, const est_input_t *in,
                int64_t t_end_ms, enum tax_mode mode, enum tax_type type, int64_t now_ms)
{
    int k = tax_queue_index(mode, type);
    const qstate_t *cur = x->q[dir - 1][k];
    if (cur->seen && t_end_ms <= cur->updated_ms)
        return 0;   /* ignored: no need to make the queue */
    qstate_t *q = s_queue_mut(self, x, dir - 1, k);
    if (!q)
        return -1;
    int rc = qstate_apply(q, in, t_end_ms, now_ms);
    self->version += (uint64_t)rc;
    x->changes += (uint64_t)rc;
    return rc;
}

size_t state_queues(const state_t *self) { return self->nqueues; }

uint64_t state_version(const state_t *self) { return self->version; }

void state_set_notices(state_t *self, struct notices *n)
{
    notices_destroy(&self->retired);
    self->retired = self->notices;
    self->notices = n;
    self->version++;
    for (size_t i = 0; i < self->n; i++)
        self->x[i].changes++;
}

const struct notices *state_notices(const state_t *self) { return self->notices; }

const char *qstate_status(const qstate_t *q, int64_t now_ms, int64_t stale_after_ms)
{
    if (!q->seen)
        return "no_data";
    if (now_ms - q->updated_ms > stale_after_ms)
        return "stale";
    return q->lanes_open > 0 ? "open" : "closed";
}

size_t state_apply_official(state_t *self, const off_doc_t *doc, int64_t fetched_s,
                            int64_t stale_after_s)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->n; i++) {
        const off_rec_t *r = &doc->recs[i];
        xstate_t *x = state_find(self, r->reg->id);
        if (!x || !tax_dir_valid(r->dir))
            continue;
        x->off_stale_after_s = stale_after_s;
        x->off[r->dir - 1][tax_queue_index(r->mode, r->type)] = (qofficial_t){
            .source = doc->source, .status = r->status, .has_wait = r->has_wait,
            .has_lanes = r->has_lanes, .wait_s = r->wait_s, .lanes_open = r->lanes_open,
            .updated_s = r->updated_s, .fetched_s = fetched_s
        };
        x->changes++;
        n++;
    }
    if (n)
        self->version++;
    return n;
}

bool qofficial_fresh(const xstate_t *x, const qofficial_t *o, int64_t now_s)
{
    return o->status != OFF_ST_NONE && o->updated_s > 0 &&
           now_s - o->updated_s <= x->off_stale_after_s;
}
