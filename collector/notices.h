/* notices — short notices the port managers publish per crossing
 * (construction, changed hours, a closed lane type), in one or more of
 * English, Spanish and French, each with a validity window. Kept in a
 * libconfig file beside the registry (deploy/notices.conf, format in
 * docs/registry.md), read at start and again on SIGHUP.
 *
 * A bad entry (unknown crossing, unknown kind, a date that is not
 * ISO-8601 with a zone, an end not after its start, no text, a text too
 * long, not UTF-8, with control characters or "]]>") is rejected with
 * "file:line: reason", logged, counted and skipped; the good entries
 * load. A file that cannot be read or parsed loads nothing (NULL).
 *
 * Shown where a notice is valid now (from <= now < until): in the native
 * feed (collector/feed.c "notices"), the dashboards, and CBP's views as
 * construction_notice (collector/view_cbp.c). Immutable once loaded. */
#ifndef POE_NOTICES_H
#define POE_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

#define NOTICES_NLANGS 3          /* en, es, fr (catalog_langs' order) */
#define NOTICES_MAX_TEXT 500      /* bytes of one text */
#define NOTICES_MAX 1024          /* entries in a file */
#define NOTICES_PER_CROSSING 8    /* valid at once, shown */

typedef struct {
    char crossing[7];
    char kind[16];                /* "construction", "hours", "lane_closed", "other" */
    int64_t from_s, until_s;      /* valid on [from, until) */
    char *text[NOTICES_NLANGS];   /* NULL where the port wrote none */
    int line;                     /* in the file */
} notice_t;

typedef struct notices notices_t;

extern const char *const notices_kinds[];   /* NULL-terminated */
extern const char *const notices_langs[NOTICES_NLANGS];

/* Load path against the registry. NULL when the file cannot be read or is
 * not valid libconfig (reason logged); else the good entries, *nbad the
 * rejected ones. */
notices_t *notices_load(const char *path, const registry_t *reg, int *nbad);
void notices_destroy(notices_t **self_p);

size_t notices_count(const notices_t *self);

/* The notices of crossing valid at Unix second now_s, in file order, at
 * most max into out. self may be NULL (no notices). Returns the number. */
size_t notices_valid(const notices_t *self, const char *crossing, int64_t now_s,
                     const notice_t **out, size_t max);

/* The first Unix second after now_s at which notices_valid(self,
 * crossing, ...) can answer otherwise than at now_s (a window of the
 * crossing opens or ends); INT64_MAX when none will. self may be NULL. */
int64_t notices_next_change(const notices_t *self, const char *crossing, int64_t now_s);

/* Parse "YYYY-MM-DDTHH:MM[:SS](Z|+HH:MM|-HH:MM)" to Unix seconds. 0 or -1. */
int notices_parse_time(const char *s, int64_t *out);

#endif
