/* frag — see frag.h. */
#include "frag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct {
    char *own;              /* the text, malloc'ed; NULL when in body or none */
    http_cache_body_t *body;/* a document holding the text at off (frag_cache_doc) */
    size_t off;
    size_t len;
    uint64_t changes;       /* xstate_t.changes it was rendered at */
    int64_t rendered_ms, valid_until_ms;
    size_t hole;            /* offset of FRAG_HOLE in text; SIZE_MAX: none */
    size_t hole_len;        /* the text's bytes in its place: FRAG_HOLE's in an own
                             * text, the fill of its second in a document's */
    uint64_t doc_gen;       /* the cache's doc_gen body was made at (docs mode) */
    int64_t doc_fill_s;     /* the second of the fill body holds */
    char *fill;             /* what goes there (the cache's fill), NULL: none yet */
    size_t fill_len;
    int64_t fill_s;         /* the second it was made for */
} s_frag_t;

#define HOLE_LEN (sizeof FRAG_HOLE - 1)
/* A document this long or longer gets a map of its own (s_doc_body): at
 * 10,000 series a crossing's /v1/crossings/{id} is ~10.5 KB (three pages),
 * CBP's port document ~1.5 KB (heap). */
#define FRAG_DOC_MAP_MIN (8 * 1024)

struct frag_cache {
    frag_render_fn render;
    frag_fill_fn fill;
    const state_t *st;      /* what the fragments are of */
    int64_t stale_after_ms;
    size_t n;
    s_frag_t *f;            /* state order */
    size_t rendered;        /* by the last update */
    char *doc_head, *doc_tail; /* frag_cache_docs; NULL: no documents */
    uint64_t doc_gen;       /* bumped when they change */
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

/* f's text, NULL when none (not rendered yet, or out of memory). Read
 * through body->data at each use: the body's bytes stay, even if they
 * move to a memfd's map (http_cache_body_fd). */
static const char *s_text(const s_frag_t *f)
{
    return f->body ? f->body->data + f->off : f->own;
}

static void s_drop_text(s_frag_t *f)
{
    free(f->own);
    f->own = NULL;
    http_cache_body_unref(f->body);
    f->body = NULL;
}

static void s_clear(frag_cache_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        s_drop_text(&self->f[i]);
        free(self->f[i].fill);
    }
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
    free(self->doc_head);
    free(self->doc_tail);
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
    return s_text(f) && f->changes == x->changes && now_ms >= f->rendered_ms &&
           now_ms < f->valid_until_ms;
}

/* Render f of x again at now_ms. false: out of memory. */
static bool s_render(frag_cache_t *self, s_frag_t *f, const state_t *st, const xstate_t *x,
                     int64_t now_ms, int64_t stale_after_ms)
{
    s_drop_text(f);
    f->own = self->render(st, x, now_ms, stale_after_ms, &f->valid_until_ms);
    f->len = f->own ? strlen(f->own) : 0;
    /* Renderers leave room their buffers grew by (jansson, textbuf: up
     * to twice the text); a kept text needs none. */
    char *fit = f->own ? realloc(f->own, f->len + 1) : NULL;
    if (fit)
        f->own = fit;
    f->changes = x->changes;
    f->rendered_ms = now_ms;
    const char *h = f->own && self->fill ? strstr(f->own, FRAG_HOLE) : NULL;
    f->hole = h ? (size_t)(h - f->own) : SIZE_MAX;
    f->hole_len = HOLE_LEN;
    self->rendered++;
    return f->own != NULL;
}

/* f's hole filled for the second of now_ms. false: out of memory. */
static bool s_fill(frag_cache_t *self, s_frag_t *f, const xstate_t *x, int64_t now_ms)
{
    int64_t now_s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    if (f->hole == SIZE_MAX || (f->fill && f->fill_s == now_s))
        return true;
    free(f->fill);
    f->fill = self->fill(x, now_ms);
    f->fill_len = f->fill ? strlen(f->fill) : 0;
    f->fill_s = now_s;
    return f->fill != NULL;
}

static bool s_usable(const s_frag_t *f);
static size_t s_len(const s_frag_t *f);
static size_t s_emit(const s_frag_t *f, char *out);

/* Whether f's document is the one the documents' head and tail and its
 * fill's second make. */
static bool s_doc_current(const frag_cache_t *self, const s_frag_t *f)
{
    return f->body && f->doc_gen == self->doc_gen &&
           (f->hole == SIZE_MAX || f->doc_fill_s == f->fill_s);
}

/* A body of len bytes: a map of its own from FRAG_DOC_MAP_MIN on (its
 * pages go back when the last snapshot holding it goes, rather than lie
 * freed in the heap until the next render: docs/performance.md §1m), else
 * from the heap (a page or two for a short text would waste more). */
static http_cache_body_t *s_doc_body(size_t len)
{
    if (len >= FRAG_DOC_MAP_MIN)
        return http_cache_body_map(len);
    char *d = malloc(len + 1);
    if (d)
        d[len] = '\0';
    return d ? http_cache_body_new(d, len) : NULL;
}

/* Fragment i's document made anew, and its text kept there alone (the
 * old document stays with whoever holds it). f is usable. false: out of
 * memory. */
static bool s_doc(frag_cache_t *self, size_t i)
{
    s_frag_t *f = &self->f[i];
    size_t headlen = strlen(self->doc_head), taillen = strlen(self->doc_tail);
    size_t flen = s_len(f);   /* as written in the document: the hole holds its fill */
    http_cache_body_t *b = s_doc_body(headlen + flen + taillen);
    if (!b)
        return false;
    memcpy(b->data, self->doc_head, headlen);
    s_emit(f, b->data + headlen);
    memcpy(b->data + headlen + flen, self->doc_tail, taillen);
    s_drop_text(f);
    f->body = b;
    f->off = headlen;
    f->len = flen;
    f->doc_gen = self->doc_gen;
    if (f->hole != SIZE_MAX) {
        f->hole_len = f->fill_len;
        f->doc_fill_s = f->fill_s;
    }
    return true;
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
        if (!s_current(f, x, now_ms))
            oom |= !s_render(self, f, st, x, now_ms, stale_after_ms);
        oom |= s_text(f) && !s_fill(self, f, x, now_ms);
        if (self->doc_head && s_usable(f) && !s_doc_current(self, f))
            oom |= !s_doc(self, i);
    }
    if (oom)
        log_error("frag: out of memory rendering a crossing");
    return oom ? -1 : 0;
}

size_t frag_cache_rendered(const frag_cache_t *self) { return self->rendered; }
size_t frag_cache_count(const frag_cache_t *self) { return self->n; }

/* The position of the last "[]" in s, NULL when none. */
static const char *s_brackets(const char *s)
{
    const char *last = NULL;
    for (const char *p = s ? strstr(s, "[]") : NULL; p; p = strstr(p + 1, "[]"))
        last = p;
    return last;
}

/* Whether f can go into a document: rendered, its hole filled. */
static bool s_usable(const s_frag_t *f)
{
    return s_text(f) && (f->hole == SIZE_MAX || f->fill);
}

/* f's length in a document, and f written at out (returns that length). */
static size_t s_len(const s_frag_t *f)
{
    return f->hole == SIZE_MAX ? f->len : f->len - f->hole_len + f->fill_len;
}

static size_t s_emit(const s_frag_t *f, char *out)
{
    const char *text = s_text(f);
    if (f->hole == SIZE_MAX) {
        memcpy(out, text, f->len);
        return f->len;
    }
    size_t after = f->hole + f->hole_len;
    memcpy(out, text, f->hole);
    memcpy(out + f->hole, f->fill, f->fill_len);
    memcpy(out + f->hole + f->fill_len, text + after, f->len - after);
    return s_len(f);
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
        if (!s_usable(&self->f[i]))
            return NULL;
        total += s_len(&self->f[i]);
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
        o += s_emit(&self->f[i], out + o);
    }
    memcpy(out + o, tail, taillen + 1);            /* with the NUL */
    *len = total;
    return out;
}

char *frag_cache_join(const frag_cache_t *self, const char *envelope, size_t i0, size_t n,
                      size_t *len)
{
    const char *at = s_brackets(envelope);
    if (!at)
        return NULL;
    /* through '[', then from ']' */
    return s_join(self, envelope, (size_t)(at - envelope) + 1, ",", at + 1, i0, n, len);
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
    return s_join(self, "", 0, "", "", i, 1, len);
}

int frag_cache_docs(frag_cache_t *self, const char *head, const char *tail)
{
    if (self->doc_head && strcmp(self->doc_head, head) == 0 && strcmp(self->doc_tail, tail) == 0)
        return 0;
    free(self->doc_head);
    free(self->doc_tail);
    self->doc_head = strdup(head);
    self->doc_tail = strdup(tail);
    self->doc_gen++;
    if (self->doc_head && self->doc_tail)
        return 0;
    free(self->doc_head);
    free(self->doc_tail);
    self->doc_head = self->doc_tail = NULL;
    log_error("frag: out of memory");
    return -1;
}

int frag_cache_docs_in(frag_cache_t *self, const char *envelope)
{
    const char *at = s_brackets(envelope);
    if (!at) {
        free(self->doc_head);
        free(self->doc_tail);
        self->doc_head = self->doc_tail = NULL;
        return -1;
    }
    /* through '[', then from ']' */
    char *head = strndup(envelope, (size_t)(at - envelope) + 1);
    int rc = head ? frag_cache_docs(self, head, at + 1) : -1;
    if (!head)
        log_error("frag: out of memory");
    free(head);
    return rc;
}

http_cache_body_t *frag_cache_doc(const frag_cache_t *self, size_t i)
{
    if (!self->doc_head || i >= self->n || !s_doc_current(self, &self->f[i]))
        return NULL;
    http_cache_body_ref(self->f[i].body);
    return self->f[i].body;
}
