/* textbuf — a string built by appending, for documents rendered in memory
 * (the metrics page, the CBP XML feed, the simulator's comment block).
 *
 * Not "strbuf": libconfig exports strbuf_append and strbuf_release (its
 * scanner's own buffer), and a strbuf_append of ours would interpose on it
 * and break every configuration file libconfig reads.
 *
 * The builder owns a NUL-terminated buffer that grows as needed (vec.h).
 * Errors are sticky: once an append fails for want of memory the builder
 * is failed, every later append is a no-op returning -1, and textbuf_data
 * and textbuf_take return NULL. A renderer can therefore append without
 * checking each call and check once at the end. NULL is accepted wherever
 * a builder is, as a failed builder, so a textbuf_new that ran out of memory
 * needs no check of its own either. */
#ifndef POE_TEXTBUF_H
#define POE_TEXTBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct textbuf textbuf_t;

/* An empty builder, or NULL when out of memory. */
textbuf_t *textbuf_new(void);

/* Free the builder and its text; sets *self_p to NULL. */
void textbuf_destroy(textbuf_t **self_p);

/* Append the string s / the n bytes at s (which may hold any byte but
 * NUL if the result is to be read as a C string). 0, or -1 when the
 * builder is (now) failed. */
int textbuf_append(textbuf_t *self, const char *s);
int textbuf_append_n(textbuf_t *self, const void *s, size_t n);

/* Append printf-formatted text. 0, or -1 when the builder is (now) failed
 * (out of memory, or a format vsnprintf refuses). */
int textbuf_printf(textbuf_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int textbuf_vprintf(textbuf_t *self, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The text so far, NUL-terminated ("" when nothing was appended), valid
 * until the next append; NULL when the builder failed. */
const char *textbuf_data(const textbuf_t *self);

/* Bytes appended so far (without the NUL); 0 when failed. */
size_t textbuf_len(const textbuf_t *self);

/* Whether an append (or textbuf_new) ran out of memory. */
bool textbuf_failed(const textbuf_t *self);

/* Hand the text over and destroy the builder (*self_p becomes NULL): a
 * malloc'd NUL-terminated string the caller frees ("" when nothing was
 * appended), or NULL when the builder failed. */
char *textbuf_take(textbuf_t **self_p);

#endif
