/* textbuf — see textbuf.h.
 *
 * The buffer always has room for the terminating NUL once anything was
 * reserved; an untouched builder has no buffer at all and reads as "". */
#include "textbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

struct textbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

textbuf_t *textbuf_new(void) { return calloc(1, sizeof(textbuf_t)); }

void textbuf_destroy(textbuf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->p);
    free(*self_p);
    *self_p = NULL;
}

/* Room for more bytes and the NUL; fails the builder when there is none. */
static int s_reserve(textbuf_t *self, size_t more)
{
    if (!self || self->failed)
        return -1;
    if (more > SIZE_MAX - self->len - 1 || VEC_RESERVE(self->p, self->cap, self->len + more + 1) != 0) {
        self->failed = true;
        return -1;
    }
    return 0;
}

int textbuf_append_n(textbuf_t *self, const void *s, size_t n)
{
    if (s_reserve(self, n) != 0)
        return -1;
    memcpy(self->p + self->len, s, n);
    self->len += n;
    self->p[self->len] = '\0';
    return 0;
}

int textbuf_append(textbuf_t *self, const char *s) { return textbuf_append_n(self, s, strlen(s)); }

int textbuf_vprintf(textbuf_t *self, const char *fmt, va_list ap)
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

int textbuf_printf(textbuf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = textbuf_vprintf(self, fmt, ap);
    va_end(ap);
    return rc;
}

const char *textbuf_data(const textbuf_t *self)
{
    if (!self || self->failed)
        return NULL;
    return self->p ? self->p : "";
}

size_t textbuf_len(const textbuf_t *self) { return self && !self->failed ? self->len : 0; }

bool textbuf_failed(const textbuf_t *self) { return !self || self->failed; }

char *textbuf_take(textbuf_t **self_p)
{
    textbuf_t *self = self_p ? *self_p : NULL;
    char *out = NULL;
    if (self && !self->failed) {
        out = self->p ? self->p : strdup("");
        self->p = NULL;
    }
    textbuf_destroy(self_p);
    return out;
}
