/* frag — see frag.h. */
#include "frag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct {
    char *text;             /* NULL: none (not rendered yet, or out of memory) */
    size_t len;
    uint64_t changes;       /* xstate_t.changes it was rendered at */
    int64_t rendered_ms, valid_until_ms;
} s_frag_t;

struct frag_cache {
    frag_render_fn render;
    const state_t *st;      /* what the fragments are of */
    int64_t stale_after_ms;
    size_t n;
    s_frag_t *f;            /* state order */
    size_t rendered;        /* by the last update */
};

frag_cache_t *frag_cache_new(frag_render_fn render)
{
    frag_cache_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("frag: out of memory");
        return NULL;
    }
    self->render = render;
    return self;
}

static void s_clear(frag_cache_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->f[i].text);
    free(self->f);
    self->f = NULL;
    self->n = 0;
    self->st = NULL;
}

void frag_cache_destroy(frag_cache_t **self_p)
{
    frag_cache_t *self = *self_p;
    if (!self)
        return;
    s_clear(self);
    free(self);
    *self_p = NULL;
}

/* Another state, or another staleness limit: nothing kept applies. */
static int s_bind(frag_cache_t *self, const state_t *st, int64_t stale_after_ms)
{
    if (self->st == st && self->n == state_count(st) && self->stale_after_ms == stale_after_ms)
        return 0;
    s_clear(self);
    size_t n = state_count(st);
    if (n && !(self->f = calloc(n, sizeof *self->f)))
        return -1;
    self->n = n;
    self->st = st;
    self->stale_after_ms = stale_after_ms;
    return 0;
}

static bool s_current(const s_frag_t *f, const xstate_t *x, int64_t now_ms)
{
    return f->text && f->changes == x->changes && now_ms >= f->rendered_ms &&
           now_ms < f->valid_until_ms;
}

int frag_cache_update(frag_cache_t *self, state_t *st, int64_t now_ms, int64_t stale_after_ms)
{
    self->rendered = 0;
    if (s_bind(self, st, stale_after_ms) != 0) {
        log_error("frag: out of memory");
        return -1;
    }
    bool oom = false;
    for (size_t i = 0; i < self->n; i++) {
        s_frag_t *f = &self->f[i];
        const xstate_t *x = state_at(st, i);
        if (s_current(f, x, now_ms))
            continue;
        free(f->text);
        f->text = self->render(st, x, now_ms, stale_after_ms, &f->valid_until_ms);
        f->len = f->text ? strlen(f->text) : 0;
        f->changes = x->changes;
        f->rendered_ms = now_ms;
        self->rendered++;
        oom |= !f->text;
    }
    if (oom)
        log_error("frag: out of memory rendering a crossing");
    return oom ? -1 : 0;
}

size_t frag_cache_rendered(const frag_cache_t *self) { return self->rendered; }
size_t frag_cache_count(const frag_cache_t *self) { return self->n; }

/* The position of the last "[]" in s, NULL when none. */
static const char *s_hole(const char *s)
{
    const char *hole = NULL;
    for (const char *p = s ? strstr(s, "[]") : NULL; p; p = strstr(p + 1, "[]"))
        hole = p;
    return hole;
}

/* head (headlen bytes), the fragments [i0, i0 + n) separated by sep,
 * then tail. */
static char *s_join(const frag_cache_t *self, const char *head, size_t headlen, const char *sep,
                    const char *tail, size_t i0, size_t n, size_t *len)
{
    if (i0 > self->n || n > self->n - i0)
        return NULL;
    size_t seplen = strlen(sep), taillen = strlen(tail);
    size_t total = headlen + taillen + (n ? n - 1 : 0) * seplen;
    for (size_t i = i0; i < i0 + n; i++) {
        if (!self->f[i].text)
            return NULL;
        total += self->f[i].len;
    }
    char *out = malloc(total + 1);
    if (!out)
        return NULL;
    memcpy(out, head, headlen);
    size_t o = headlen;
    for (size_t i = i0; i < i0 + n; i++) {
        if (i > i0) {
            memcpy(out + o, sep, seplen);
            o += seplen;
        }
        memcpy(out + o, self->f[i].text, self->f[i].len);
        o += self->f[i].len;
    }
    memcpy(out + o, tail, taillen + 1);            /* with the NUL */
    *len = total;
    return out;
}

char *frag_cache_join(const frag_cache_t *self, const char *envelope, size_t i0, size_t n,
                      size_t *len)
{
    const char *hole = s_hole(envelope);
    if (!hole)
        return NULL;
    /* through '[', then from ']' */
    return s_join(self, envelope, (size_t)(hole - envelope) + 1, ",", hole + 1, i0, n, len);
}

char *frag_cache_wrap(const frag_cache_t *self, const char *head, const char *sep,
                      const char *tail, size_t i0, size_t n, size_t *len)
{
    if (!head || !sep || !tail)
        return NULL;
    return s_join(self, head, strlen(head), sep, tail, i0, n, len);
}

char *frag_cache_copy(const frag_cache_t *self, size_t i, size_t *len)
{
    if (i >= self->n || !self->f[i].text)
        return NULL;
    char *out = malloc(self->f[i].len + 1);
    if (!out)
        return NULL;
    memcpy(out, self->f[i].text, self->f[i].len + 1);
    *len = self->f[i].len;
    return out;
}
