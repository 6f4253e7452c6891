/* archive_guard — the archive's time guards (archive_int.h): one per RRD
 * file, the last update sent or accepted, found by path in an open-
 * addressing table. Entries are never removed (a forgotten guard is marked
 * unknown), so pointers to them stay valid for the archive's life: the
 * staging's queue cache and the sync's items hold them. */
#include "archive_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int s_table_grow(archive_t *self)
{
    size_t ncap = self->cap ? self->cap * 2 : 1024;
    guard_t **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < self->cap; i++) {
        guard_t *g = self->slots[i];
        if (!g)
            continue;
        size_t j = g->hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = g;
    }
    free(self->slots);
    self->slots = ns;
    self->cap = ncap;
    return 0;
}

/* The guard of path, added (unknown) when missing. Entries are never
 * removed: a forgotten guard is marked unknown instead, which keeps the
 * probing simple. */
guard_t *arch_guard(archive_t *self, const char *path)
{
    if ((self->used + 1) * 10 > self->cap * 7 && s_table_grow(self) != 0)
        return NULL;
    uint64_t h = s_hash(path);
    size_t i = h & (self->cap - 1);
    for (guard_t *g; (g = self->slots[i]); i = (i + 1) & (self->cap - 1))
        if (g->hash == h && strcmp(g->path, path) == 0)
            return g;
    guard_t *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return NULL;
    }
    g->hash = h;
    self->slots[i] = g;
    self->used++;
    return g;
}

void arch_guards_free(archive_t *self)
{
    for (size_t i = 0; i < self->cap; i++) {
        if (self->slots[i])
            free(self->slots[i]->path);
        free(self->slots[i]);
    }
    free(self->slots);
}

int arch_guards_init(archive_t *self) { return s_table_grow(self); }
