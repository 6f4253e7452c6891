/* strbuf — a string built by appending, for documents rendered in memory
 * (the metrics page, the CBP XML feed, the simulator's comment block).
 *
 * The builder owns a NUL-terminated buffer that grows as needed (vec.h).
 * Errors are sticky: once an append fails for want of memory the builder
 * is failed, every later append is a no-op returning -1, and strbuf_data
 * and strbuf_take return NULL. A renderer can therefore append without
 * checking each call and check once at the end. NULL is accepted wherever
 * a builder is, as a failed builder, so a strbuf_new that ran out of memory
 * needs no check of its own either. */
#ifndef POE_STRBUF_H
#define POE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct strbuf strbuf_t;

/* An empty builder, or NULL when out of memory. */
strbuf_t *strbuf_new(void);

/* Free the builder and its text; sets *self_p to NULL. */
void strbuf_destroy(strbuf_t **self_p);

/* Append the string s / the n bytes at s (which may hold any byte but
 * NUL if the result is to be read as a C string). 0, or -1 when the
 * builder is (now) failed. */
int strbuf_append(strbuf_t *self, const char *s);
int strbuf_append_n(strbuf_t *self, const void *s, size_t n);

/* Append printf-formatted text. 0, or -1 when the builder is (now) failed
 * (out of memory, or a format vsnprintf refuses). */
int strbuf_printf(strbuf_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vprintf(strbuf_t *self, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The text so far, NUL-terminated ("" when nothing was appended), valid
 * until the next append; NULL when the builder failed. */
const char *strbuf_data(const strbuf_t *self);

/* Bytes appended so far (without the NUL); 0 when failed. */
size_t strbuf_len(const strbuf_t *self);

/* Whether an append (or strbuf_new) ran out of memory. */
bool strbuf_failed(const strbuf_t *self);

/* Hand the text over and destroy the builder (*self_p becomes NULL): a
 * malloc'd NUL-terminated string the caller frees ("" when nothing was
 * appended), or NULL when the builder failed. */
char *strbuf_take(strbuf_t **self_p);

#endif
