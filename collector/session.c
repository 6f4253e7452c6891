/* session — see session.h. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sess_table {
    sess_t *v;
    size_t n, cap;
};

sess_table_t *sess_table_new(void) { return calloc(1, sizeof(sess_table_t)); }

void sess_table_destroy(sess_table_t **self_p)
{
    if (*self_p) {
        free((*self_p)->v);
        free(*self_p);
        *self_p = NULL;
    }
}

/* Agents per collector are few (two per crossing of a region): a linear
 * scan beats a hash table here. */
sess_t *sess_get(sess_table_t *self, const char *crossing, enum tax_dir dir)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->v[i].dir == dir && strcmp(self->v[i].crossing, crossing) == 0)
            return &self->v[i];
    if (self->n == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 32;
        sess_t *nv = realloc(self->v, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        self->v = nv;
        self->cap = ncap;
    }
    sess_t *s = &self->v[self->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->crossing, sizeof s->crossing, "%s", crossing);
    s->dir = dir;
    return s;
}

size_t sess_count(const sess_table_t *self) { return self->n; }
const sess_t *sess_at(const sess_table_t *self, size_t i) { return i < self->n ? &self->v[i] : NULL; }

enum sess_verdict sess_judge(sess_t *s, uint64_t epoch, uint64_t seq)
{
    if (epoch < s->epoch)
        return SESS_STALE_EPOCH;
    if (epoch > s->epoch) {
        s->epoch = epoch;
        s->acked_seq = seq - 1;
        s->bad_lines = 0; /* a new agent run counts from zero */
        return SESS_ACCEPT;
    }
    if (seq <= s->acked_seq) {
        s->duplicates++;
        return SESS_DUPLICATE;
    }
    if (seq > s->acked_seq + 1) {
        s->gaps++;
        return SESS_GAP;
    }
    return SESS_ACCEPT;
}

void sess_commit(sess_t *s, uint64_t seq)
{
    if (seq > s->acked_seq)
        s->acked_seq = seq;
    s->batches++;
}

const char *sess_verdict_name(enum sess_verdict v)
{
    static const char *names[] = { "accept", "duplicate", "gap", "stale_epoch" };
    return names[v];
}
