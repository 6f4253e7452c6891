/* reident — see reident.h. Open addressing with linear probing on a salted
 * 64-bit FNV-1a key; deletions use tombstones, and the table is swept of
 * expired entries when it fills. */
#include "reident.h"

#include <stdlib.h>

typedef struct {
    uint64_t key;      /* 0 = empty, 1 = tombstone */
    int64_t t_ms;
    int queue;
} reid_slot_t;

struct reident {
    reid_slot_t *slots;
    uint32_t cap;      /* power of two, twice the requested capacity */
    uint32_t used;     /* live + tombstones */
    int64_t horizon_ms;
    uint64_t salt;
};

static uint64_t s_key(const reident_t *self, const char *hash, int queue)
{
    uint64_t h = 1469598103934665603ULL ^ self->salt;
    for (const unsigned char *p = (const unsigned char *)hash; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= (uint64_t)queue;
    h *= 1099511628211ULL;
    return h < 2 ? h + 2 : h;
}

reident_t *reid_new(uint32_t capacity, int64_t horizon_ms, uint64_t salt)
{
    reident_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    uint32_t cap = 16;
    while (cap < capacity * 2u)
        cap <<= 1;
    self->slots = calloc(cap, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    self->cap = cap;
    self->horizon_ms = horizon_ms;
    self->salt = salt;
    return self;
}

void reid_destroy(reident_t **self_p)
{
    if (*self_p) {
        free((*self_p)->slots);
        free(*self_p);
        *self_p = NULL;
    }
}

/* Rebuild without tombstones and expired entries; when still over half
 * full, forget the oldest half so new reads always find room. */
static void s_sweep(reident_t *self, int64_t now_ms)
{
    reid_slot_t *old = self->slots;
    uint32_t cap = self->cap;
    reid_slot_t *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return;
    int64_t cutoff = now_ms - self->horizon_ms;
    uint32_t live = 0;
    for (uint32_t i = 0; i < cap; i++)
        if (old[i].key > 1 && old[i].t_ms >= cutoff)
            live++;
    if (live > cap / 4) {
        /* Median-free approximation: keep reads newer than the midpoint
         * between the oldest kept and now. */
        int64_t oldest = now_ms;
        for (uint32_t i = 0; i < cap; i++)
            if (old[i].key > 1 && old[i].t_ms >= cutoff && old[i].t_ms < oldest)
                oldest = old[i].t_ms;
        cutoff = oldest + (now_ms - oldest) / 2;
    }
    self->used = 0;
    for (uint32_t i = 0; i < cap; i++) {
        if (old[i].key <= 1 || old[i].t_ms < cutoff)
            continue;
        uint32_t j = (uint32_t)old[i].key & (cap - 1);
        while (fresh[j].key)
            j = (j + 1) & (cap - 1);
        fresh[j] = old[i];
        self->used++;
    }
    free(old);
    self->slots = fresh;
}

void reid_entry(reident_t *self, const char *hash, enum tax_mode m, enum tax_type t, int64_t t_ms)
{
    if (self->used + 1 > self->cap / 2)
        s_sweep(self, t_ms);
    if (self->used + 1 > self->cap / 2)
        return; /* sweep could not allocate: drop this read */
    int queue = tax_queue_index(m, t);
    uint64_t key = s_key(self, hash, queue);
    uint32_t j = (uint32_t)key & (self->cap - 1);
    while (self->slots[j].key > 1) {
        if (self->slots[j].key == key) { /* read again before the booth: keep the first */
            return;
        }
        j = (j + 1) & (self->cap - 1);
    }
    if (self->slots[j].key == 0)
        self->used++;
    self->slots[j] = (reid_slot_t){ .key = key, .t_ms = t_ms, .queue = queue };
}

bool reid_booth(reident_t *self, const char *hash, enum tax_mode m, enum tax_type t,
                int64_t t_ms, int64_t *travel_ms)
{
    int queue = tax_queue_index(m, t);
    uint64_t key = s_key(self, hash, queue);
    uint32_t j = (uint32_t)key & (self->cap - 1);
    for (uint32_t probes = 0; probes < self->cap && self->slots[j].key; probes++) {
        if (self->slots[j].key == key) {
            int64_t dt = t_ms - self->slots[j].t_ms;
            self->slots[j].key = 1; /* tombstone: one booth read per entry */
            if (dt < 0 || dt > self->horizon_ms)
                return false;
            *travel_ms = dt;
            return true;
        }
        j = (j + 1) & (self->cap - 1);
    }
    return false;
}
