/* strbuf — see strbuf.h.
 *
 * The buffer always has room for the terminating NUL once anything was
 * reserved; an untouched builder has no buffer at all and reads as "". */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

strbuf_t *strbuf_new(void) { return calloc(1, sizeof(strbuf_t)); }

void strbuf_destroy(strbuf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->p);
    free(*self_p);
    *self_p = NULL;
}

/* Room for more bytes and the NUL; fails the builder when there is none. */
static int s_reserve(strbuf_t *self, size_t more)
{
    if (!self || self->failed)
        return -1;
    if (more > SIZE_MAX - self->len - 1 || VEC_RESERVE(self->p, self->cap, self->len + more + 1) != 0) {
        self->failed = true;
        return -1;
    }
    return 0;
}

int strbuf_append_n(strbuf_t *self, const void *s, size_t n)
{
    if (s_reserve(self, n) != 0)
        return -1;
    memcpy(self->p + self->len, s, n);
    self->len += n;
    self->p[self->len] = '\0';
    return 0;
}

int strbuf_append(strbuf_t *self, const char *s) { return strbuf_append_n(self, s, strlen(s)); }

int strbuf_vprintf(strbuf_t *self, const char *fmt, va_list ap)
{
    if (!self || self->failed)
        return -1;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    if (n < 0) {
        self->failed = true;
        return -1;
    }
    if (s_reserve(self, (size_t)n) != 0)
        return -1;
    vsnprintf(self->p + self->len, self->cap - self->len, fmt, ap);
    self->len += (size_t)n;
    return 0;
}

int strbuf_printf(strbuf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = strbuf_vprintf(self, fmt, ap);
    va_end(ap);
    return rc;
}

const char *strbuf_data(const strbuf_t *self)
{
    if (!self || self->failed)
        return NULL;
    return self->p ? self->p : "";
}

size_t strbuf_len(const strbuf_t *self) { return self && !self->failed ? self->len : 0; }

bool strbuf_failed(const strbuf_t *self) { return !self || self->failed; }

char *strbuf_take(strbuf_t **self_p)
{
    strbuf_t *self = self_p ? *self_p : NULL;
    char *out = NULL;
    if (self && !self->failed) {
        out = self->p ? self->p : strdup("");
        self->p = NULL;
    }
    strbuf_destroy(self_p);
    return out;
}
