/* importer — polls the official feeds (CBP /api/bwtnew, CBSA bwt-eng.csv),
 * each request made by a poe-fetch child (collector/fetch.h: libcurl in a
 * process of its own), and hands each parsed document to one apply function.
 *
 * Contract: everything runs on the given event_base (the child's pipe,
 * timers, the apply call), so the importer sits on whichever loop owns the
 * collector's state; it never blocks that loop (DNS, TLS and the transfer
 * are the child's; a child past its deadline is killed). Per source: a poll every interval
 * (>= 60 s), conditional GET (If-None-Match / If-Modified-Since from the
 * last 200), gzip/deflate accepted, connect and total timeouts, at most 5
 * redirects, a body cap (OFF_MAX_DOC_BYTES), a User-Agent naming poenet,
 * and after a failure up to `retries` retries with doubling backoff before
 * the next regular poll. A failed poll or a refused document changes no
 * value: the last good ones stay and age into stale. Every outcome is
 * counted in stats->official[source] (reasons of official.h). */
#ifndef POE_IMPORTER_H
#define POE_IMPORTER_H

#include <stdint.h>

#include "official.h"
#include "registry.h"
#include "stats.h"

struct event_base;

typedef struct {
    const char *url[OFF_NSOURCES];  /* NULL or "" = that source is off */
    long interval_s;                /* default 300, refused below 60 */
    long connect_timeout_s;         /* default 10 */
    long total_timeout_s;           /* default 30 */
    int retries;                    /* default 3 */
    long backoff_s;                 /* first retry after this, doubling; default 15 */
    const char *fetch_helper;       /* path of poe-fetch; NULL: beside the running program */
    const registry_t *registry;
    stats_t *stats;
} importer_opts_t;

/* Called on the importer's base with each document taken (not refused),
 * and with doc NULL when the source answered 304 (nothing changed, the
 * values are as old as they were plus the time since). */
typedef void(importer_apply_fn)(void *arg, enum off_source src, const off_doc_t *doc,
                                int64_t fetched_s);

typedef struct importer importer_t;

/* NULL when no source is configured, or on a bad option or a fetch helper
 * that cannot be run (logged). The first polls go out at once. */
importer_t *importer_new(struct event_base *base, const importer_opts_t *opts,
                         importer_apply_fn *apply, void *arg);
void importer_destroy(importer_t **self_p);

/* Poll every source now (SIGUSR1 of the collector, the tests) unless a
 * request is in flight; the next regular poll follows an interval later. */
void importer_poll_now(importer_t *self);

/* Validate the options without starting (0 or -1, reason logged). */
int importer_check_opts(const importer_opts_t *opts);

#endif
