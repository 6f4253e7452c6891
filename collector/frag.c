/* frag — see frag.h. */
#include "frag.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

typedef struct {
    /* Where the fragment's text is: its own render (FRAG_HOLE in its
     * hole), or the last document joined of all the cache's fragments
     * (s_rehome: its fill in the hole); NULL: none. */
    http_cache_body_t *src;
    size_t off, len;        /* the text's place in src */
    bool joined;            /* src is a joined document, not the render */
    uint64_t changes;       /* xstate_t.changes it was rendered at */
    int64_t rendered_ms, valid_until_ms;
    size_t hole;            /* offset of the hole in the text; SIZE_MAX: none */
    size_t hole_len;        /* bytes of src in the hole */
    http_cache_body_t *fill;/* what goes there (the cache's fill), NULL: none yet */
    int64_t fill_s;         /* the second it was made for */
    http_cache_body_t *doc; /* head, the fragment filled, tail (frag_cache_docs) */
    uint64_t doc_gen;       /* the cache's doc_gen doc was made at */
    int64_t doc_fill_s;     /* the second of the fill doc holds */
} s_frag_t;

#define HOLE_LEN (sizeof FRAG_HOLE - 1)

struct frag_cache {
    frag_render_fn render;
    frag_fill_fn fill;
    const state_t *st;      /* what the fragments are of */
    int64_t stale_after_ms;
    size_t n;
    s_frag_t *f;            /* state order */
    size_t rendered;        /* by the last update */
    http_cache_body_t *doc_head, *doc_tail; /* frag_cache_docs; NULL: no documents */
    uint64_t doc_gen;       /* bumped when they change */
    char home_sep[8];       /* the separator of the document the texts are in */
    size_t cursor;          /* frag_cache_step: the next fragment to look at */
    bool sweep_rendered;    /* ... and whether this sweep rendered one */
};

frag_cache_t *frag_cache_new(frag_render_fn render, frag_fill_fn fill)
{
    frag_cache_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("frag: out of memory");
        return NULL;
    }
    self->render = render;
    self->fill = fill;
    return self;
}

static void s_drop(http_cache_body_t **b)
{
    http_cache_body_unref(*b);
    *b = NULL;
}

static void s_clear(frag_cache_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        s_drop(&self->f[i].src);
        s_drop(&self->f[i].fill);
        s_drop(&self->f[i].doc);
    }
    free(self->f);
    self->f = NULL;
    self->n = 0;
    self->st = NULL;
}

static void s_drop_docs(frag_cache_t *self)
{
    s_drop(&self->doc_head);
    s_drop(&self->doc_tail);
}

void frag_cache_destroy(frag_cache_t **self_p)
{
    frag_cache_t *self = *self_p;
    if (!self)
        return;
    s_clear(self);
    s_drop_docs(self);
    free(self);
    *self_p = NULL;
}

/* A body holding a copy of text (len bytes). */
static http_cache_body_t *s_body_of(const char *text, size_t len)
{
    return http_cache_body_new(strndup(text, len), len);
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
    self->cursor = 0;
    self->sweep_rendered = false;
    return 0;
}

static bool s_current(const s_frag_t *f, const xstate_t *x, int64_t now_ms)
{
    return f->src && f->changes == x->changes && now_ms >= f->rendered_ms &&
           now_ms < f->valid_until_ms;
}

/* Render f of x again at now_ms. false: out of memory. */
static bool s_render(frag_cache_t *self, s_frag_t *f, const state_t *st, const xstate_t *x,
                     int64_t now_ms, int64_t stale_after_ms)
{
    s_drop(&f->src);
    s_drop(&f->doc);
    char *own = self->render(st, x, now_ms, stale_after_ms, &f->valid_until_ms);
    size_t len = own ? strlen(own) : 0;
    /* Renderers leave room their buffers grew by (jansson, textbuf: up
     * to twice the text); a kept text needs none. */
    char *fit = own ? realloc(own, len + 1) : NULL;
    if (fit)
        own = fit;
    const char *h = own && self->fill ? strstr(own, FRAG_HOLE) : NULL;
    f->hole = h ? (size_t)(h - own) : SIZE_MAX;
    f->src = http_cache_body_new(own, len);
    f->off = 0;
    f->len = len;
    f->joined = false;
    f->hole_len = HOLE_LEN;
    f->changes = x->changes;
    f->rendered_ms = now_ms;
    self->rendered++;
    return f->src != NULL;
}

/* f's hole filled for the second of now_ms. false: out of memory. */
static bool s_fill(frag_cache_t *self, s_frag_t *f, const xstate_t *x, int64_t now_ms)
{
    int64_t now_s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    if (f->hole == SIZE_MAX || (f->fill && f->fill_s == now_s))
        return true;
    s_drop(&f->fill);
    char *t = self->fill(x, now_ms);
    f->fill = t ? http_cache_body_new(t, strlen(t)) : NULL;
    f->fill_s = now_s;
    return f->fill != NULL;
}

/* Whether f can go into a document: rendered, its hole filled. */
static bool s_usable(const s_frag_t *f)
{
    return f->src && (f->hole == SIZE_MAX || f->fill);
}

/* f as a document shows it (usable): its text, or the text around its
 * hole with the fill between. Returns the number of parts (1 or 3). */
static size_t s_parts(const s_frag_t *f, http_cache_part_t *p)
{
    if (f->hole == SIZE_MAX) {
        p[0] = (http_cache_part_t){ f->src, f->off, f->len };
        return 1;
    }
    size_t after = f->hole + f->hole_len;
    p[0] = (http_cache_part_t){ f->src, f->off, f->hole };
    p[1] = (http_cache_part_t){ f->fill, 0, f->fill->len };
    p[2] = (http_cache_part_t){ f->src, f->off + after, f->len - after };
    return 3;
}

/* Whether f's document is the one the documents' head and tail and its
 * fill's second make. */
static bool s_doc_current(const frag_cache_t *self, const s_frag_t *f)
{
    return f->doc && f->doc_gen == self->doc_gen &&
           (f->hole == SIZE_MAX || f->doc_fill_s == f->fill_s);
}

/* Fragment i's document made anew: the head, the fragment and the tail by
 * reference, no bytes copied (the old document stays with whoever holds
 * it). f is usable. false: out of memory. */
static bool s_doc(frag_cache_t *self, size_t i)
{
    s_frag_t *f = &self->f[i];
    http_cache_part_t p[HTTP_CACHE_PARTS_MAX];
    p[0] = (http_cache_part_t){ self->doc_head, 0, self->doc_head->len };
    size_t n = 1 + s_parts(f, p + 1);
    p[n++] = (http_cache_part_t){ self->doc_tail, 0, self->doc_tail->len };
    http_cache_body_t *b = http_cache_body_parts(p, n);
    if (!b)
        return false;
    http_cache_body_unref(f->doc);
    f->doc = b;
    f->doc_gen = self->doc_gen;
    f->doc_fill_s = f->fill_s;
    return true;
}

/* Fragment i of st at now_ms brought up to date: rendered, filled and put
 * in its document as needed. Returns whether it was rendered; *oom when
 * memory ran out. */
static bool s_refresh(frag_cache_t *self, size_t i, state_t *st, int64_t now_ms,
                      int64_t stale_after_ms, bool *oom)
{
    s_frag_t *f = &self->f[i];
    const xstate_t *x = state_at(st, i);
    bool rendered = !s_current(f, x, now_ms);
    if (rendered)
        *oom |= !s_render(self, f, st, x, now_ms, stale_after_ms);
    *oom |= f->src && !s_fill(self, f, x, now_ms);
    if (self->doc_head && s_usable(f) && !s_doc_current(self, f))
        *oom |= !s_doc(self, i);
    return rendered;
}

int frag_cache_update(frag_cache_t *self, state_t *st, int64_t now_ms, int64_t stale_after_ms)
{
    self->rendered = 0;
    if (s_bind(self, st, stale_after_ms) != 0) {
        log_error("frag: out of memory");
        return -1;
    }
    bool oom = false;
    for (size_t i = 0; i < self->n; i++)
        (void)s_refresh(self, i, st, now_ms, stale_after_ms, &oom);
    if (oom)
        log_error("frag: out of memory rendering a crossing");
    return oom ? -1 : 0;
}

void frag_cache_restart(frag_cache_t *self)
{
    self->rendered = 0;
    self->cursor = 0;
    self->sweep_rendered = false;
}

int frag_cache_step(frag_cache_t *self, state_t *st, int64_t now_ms, int64_t stale_after_ms,
                    int64_t deadline_mono_ms)
{
    if (s_bind(self, st, stale_after_ms) != 0) {
        log_error("frag: out of memory");
        return -1;
    }
    bool oom = false;
    for (;;) {
        if (self->cursor >= self->n) {
            self->cursor = 0;
            if (!self->sweep_rendered)
                break;               /* a whole sweep found every one current */
            self->sweep_rendered = false;
        }
        if (s_refresh(self, self->cursor++, st, now_ms, stale_after_ms, &oom)) {
            self->sweep_rendered = true;
            if (tu_mono_ms() >= deadline_mono_ms)
                break;
        }
    }
    if (oom) {
        log_error("frag: out of memory rendering a crossing");
        return -1;
    }
    return self->sweep_rendered || self->cursor ? 0 : 1;
}

size_t frag_cache_rendered(const frag_cache_t *self) { return self->rendered; }
size_t frag_cache_count(const frag_cache_t *self) { return self->n; }

size_t frag_cache_own_bytes(const frag_cache_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++)
        if (self->f[i].src && !self->f[i].joined)
            n += self->f[i].len;
    return n;
}

/* The position of the last "[]" in s, NULL when none. */
static const char *s_brackets(const char *s)
{
    const char *last = NULL;
    for (const char *p = s ? strstr(s, "[]") : NULL; p; p = strstr(p + 1, "[]"))
        last = p;
    return last;
}

/* A join being made: its pieces, and where each fragment went. */
typedef struct {
    http_cache_piece_t *pc;
    size_t k, at;           /* pieces, bytes so far */
    size_t *pos;            /* each fragment's offset in the document */
} s_join_t;

static void s_put_mem(s_join_t *j, const char *data, size_t len)
{
    if (len)
        j->pc[j->k++] = (http_cache_piece_t){ data, -1, 0, len };
    j->at += len;
}

/* Fragment f, after gap bytes of sep (0 or its length): its parts still
 * in the document they were joined in go as ranges of its file, and one
 * that starts where the last piece ends there (gap bytes on, which the
 * document holds too: same_sep) extends that piece, so that an unchanged
 * run of fragments is one read. */
static void s_put_frag(s_join_t *j, const s_frag_t *f, const char *sep, size_t gap,
                       bool same_sep)
{
    http_cache_part_t p[3];
    for (size_t i = 0, np = s_parts(f, p); i < np; i++) {
        if (p[i].len == 0)
            continue;
        http_cache_piece_t x = http_cache_part_piece(&p[i]);
        http_cache_piece_t *last = j->k ? &j->pc[j->k - 1] : NULL;
        if (last && x.fd >= 0 && last->fd == x.fd && (gap == 0 || same_sep) &&
            last->off + last->len + gap == x.off) {
            last->len += gap + x.len;
            j->at += gap + x.len;
        } else {
            s_put_mem(j, sep, gap);
            j->pc[j->k++] = x;
            j->at += x.len;
        }
        gap = 0;
    }
    s_put_mem(j, sep, gap);   /* an empty fragment's separator */
}

/* Every fragment's text from now in b (a document of them all, joined
 * with sep, fragment i at pos[i]): its own render freed, its document
 * made anew from b. The fragments' bytes were held twice, rendered on
 * the heap and joined in the memfd (9 MB of 10,000 series'); now once,
 * and the next join reads them from b's file. */
static void s_rehome(frag_cache_t *self, http_cache_body_t *b, const size_t *pos,
                     const char *sep)
{
    for (size_t i = 0; i < self->n; i++) {
        s_frag_t *f = &self->f[i];
        size_t fill = f->hole == SIZE_MAX ? 0 : f->fill->len;
        size_t len = f->hole == SIZE_MAX ? f->len : f->len - f->hole_len + fill;
        http_cache_body_ref(b);
        http_cache_body_unref(f->src);
        f->src = b;
        f->off = pos[i];
        f->len = len;
        f->hole_len = fill;
        f->joined = true;
        if (self->doc_head && !s_doc(self, i))
            log_error("frag: out of memory");   /* the document before stays right */
    }
    snprintf(self->home_sep, sizeof self->home_sep, "%s", sep);
}

/* head (headlen bytes), the fragments [i0, i0 + n) separated by sep,
 * then tail, gathered into one body (http_cache_body_gather: a big one
 * straight into its memfd). A join of every fragment becomes their home
 * (s_rehome). */
static http_cache_body_t *s_join(frag_cache_t *self, const char *head, size_t headlen,
                                 const char *sep, const char *tail, size_t i0, size_t n)
{
    if (i0 > self->n || n > self->n - i0)
        return NULL;
    for (size_t i = i0; i < i0 + n; i++)
        if (!s_usable(&self->f[i]))
            return NULL;
    size_t seplen = strlen(sep);
    bool whole = i0 == 0 && n == self->n && n > 0 && seplen < sizeof self->home_sep;
    bool same_sep = strcmp(sep, self->home_sep) == 0;
    s_join_t j = { .pc = malloc((2 + 4 * n) * sizeof *j.pc),
                   .pos = whole ? malloc(n * sizeof *j.pos) : NULL };
    http_cache_body_t *b = NULL;
    if (j.pc && (!whole || j.pos)) {
        s_put_mem(&j, head, headlen);
        for (size_t i = i0; i < i0 + n; i++) {
            size_t gap = i > i0 ? seplen : 0;
            if (j.pos)
                j.pos[i] = j.at + gap;
            s_put_frag(&j, &self->f[i], sep, gap, same_sep);
        }
        s_put_mem(&j, tail, strlen(tail));
        b = http_cache_body_gather(j.pc, j.k, j.at);
    }
    if (b && whole)
        s_rehome(self, b, j.pos, sep);
    free(j.pc);
    free(j.pos);
    return b;
}

http_cache_body_t *frag_cache_join(frag_cache_t *self, const char *envelope, size_t i0,
                                   size_t n)
{
    const char *at = s_brackets(envelope);
    if (!at)
        return NULL;
    /* through '[', then from ']' */
    return s_join(self, envelope, (size_t)(at - envelope) + 1, ",", at + 1, i0, n);
}

http_cache_body_t *frag_cache_wrap(frag_cache_t *self, const char *head, const char *sep,
                                   const char *tail, size_t i0, size_t n)
{
    if (!head || !sep || !tail)
        return NULL;
    return s_join(self, head, strlen(head), sep, tail, i0, n);
}

http_cache_body_t *frag_cache_copy(frag_cache_t *self, size_t i)
{
    return s_join(self, "", 0, "", "", i, 1);
}

/* Whether b holds text (len bytes). */
static bool s_holds(const http_cache_body_t *b, const char *text, size_t len)
{
    return b && b->len == len && memcmp(b->data, text, len) == 0;
}

/* The documents' head and tail := head (headlen bytes) and tail. */
static int s_docs(frag_cache_t *self, const char *head, size_t headlen, const char *tail)
{
    size_t taillen = strlen(tail);
    if (s_holds(self->doc_head, head, headlen) && s_holds(self->doc_tail, tail, taillen))
        return 0;
    s_drop_docs(self);
    self->doc_head = s_body_of(head, headlen);
    self->doc_tail = s_body_of(tail, taillen);
    self->doc_gen++;
    if (self->doc_head && self->doc_tail)
        return 0;
    s_drop_docs(self);
    log_error("frag: out of memory");
    return -1;
}

int frag_cache_docs(frag_cache_t *self, const char *head, const char *tail)
{
    return s_docs(self, head, strlen(head), tail);
}

int frag_cache_docs_in(frag_cache_t *self, const char *envelope)
{
    const char *at = s_brackets(envelope);
    if (!at) {
        s_drop_docs(self);
        return -1;
    }
    /* through '[', then from ']' */
    return s_docs(self, envelope, (size_t)(at - envelope) + 1, at + 1);
}

http_cache_body_t *frag_cache_doc(const frag_cache_t *self, size_t i)
{
    if (!self->doc_head || i >= self->n || !s_doc_current(self, &self->f[i]))
        return NULL;
    http_cache_body_ref(self->f[i].doc);
    return self->f[i].doc;
}
