/* http_snap — one state version's public documents, rendered once and
 * shared read-only by every HTTP worker thread.
 *
 * A snapshot holds every public view of the collector's state at one wall
 * second: /v1/crossings, /v1/crossings/{id} for every crossing, CBP's
 * /xml/bwt.xml, /api/bwtnew (= /api/waittimes) and /api/bwtpublicmod/{id},
 * CBSA's CSV and JSON, /v1/hours and /v1/hours/mismatches (with a
 * registry). Each document carries its entity tag's (version, second), its
 * Content-Type and Cache-Control, its body and its gzip form.
 *
 * Contract: http_snap_render runs on the thread that owns the state (the
 * collector's main loop) and reads it; after that a snapshot is immutable
 * except for the gzip forms, which are made at most once per document
 * (eagerly by http_snap_gzip_from, or by the first thread that asks, then
 * installed with a compare-and-swap). Snapshots and bodies are reference
 * counted with C11 atomics: any thread may drop the last reference.
 *
 * It also carries /health's body and /metrics' text, which the main loop
 * renders from its own counters (they are not documents: no tag, no gzip),
 * and the monotonic time of the render, so a worker answers both without
 * waiting for that loop and can still tell when the loop stopped
 * publishing (http_snap_ops_answer). */
#ifndef POE_HTTP_SNAP_H
#define POE_HTTP_SNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_cache.h"
#include "observed.h"
#include "registry.h"
#include "route.h"
#include "state.h"

#define HTTP_CT_JSON "application/json; charset=utf-8"
#define HTTP_CT_XML "text/xml; charset=ISO-8859-1"
#define HTTP_CT_CSV "text/csv; charset=utf-8"
/* Live views change with every batch (agents send every 5 s). */
#define HTTP_CACHE_LIVE "public, max-age=5"
#define HTTP_CACHE_HISTORY "public, max-age=60"
/* Observed hours are relearned every few minutes. */
#define HTTP_CACHE_HOURS "public, max-age=300"
#define HTTP_CACHE_NONE "no-store"

typedef struct {
    enum route_kind kind;
    char id[ROUTE_ID_MAX];          /* "" for documents without an {id} */
    const char *ctype, *cache;
    uint64_t version;               /* the ETag is (version, second) */
    int64_t second;                 /* also Last-Modified */
    http_cache_body_t *plain;       /* NULL: the view could not be rendered */
    _Atomic(http_cache_body_t *) gz;
} http_snap_doc_t;

typedef struct http_snap http_snap_t;

/* The per-crossing fragments renders keep between them (collector/frag.h):
 * /v1/crossings and /v1/crossings/{id}, /xml/bwt.xml, /api/bwtnew and
 * /api/bwtpublicmod/{id}. Belongs to the thread that renders. A crossing's
 * own documents are the cache's bodies in parts (the envelope around the
 * fragment): snapshots of one second share them while the crossing does
 * not change.
 * /v1/hours and the mismatches, kept across snapshots, are held in a memfd
 * from 16 KB on, as collector/http.c holds the big documents. */
typedef struct http_snap_frags http_snap_frags_t;

http_snap_frags_t *http_snap_frags_new(void);
void http_snap_frags_destroy(http_snap_frags_t **self_p);
/* Fragments the last render made anew (not counting its steps), of the
 * native feed, CBP's JSON and CBP's XML (the rest were kept), and how
 * many each holds. */
void http_snap_frags_rendered(const http_snap_frags_t *self, size_t *feed, size_t *cbp,
                              size_t *xml, size_t *count);

/* What a snapshot is rendered from. */
typedef struct {
    state_t *state;
    const registry_t *registry;     /* NULL: no /v1/hours documents */
    int64_t stale_after_ms;
    int64_t started_s;              /* Last-Modified of /v1/hours */
    const observed_t *observed;     /* hours learned from the lanes; may be NULL */
    uint64_t feed_seq;              /* the live feed's newest sequence number now */
    /* /health's JSON and /metrics' text, rendered by the caller on the main
     * loop at now_ms (the snapshot takes a reference of each; NULL: could
     * not be rendered, the worker answers 503) */
    http_cache_body_t *health, *metrics;
    int64_t mono_ms;                /* tu_mono_ms() at the render: staleness is
                                       judged on it, immune to wall-clock steps */
    /* http_snap_render: take prev's /health and /metrics (and their
     * mono_ms) instead of the three above, which rendering them again so
     * soon would cost the loop for nothing */
    bool keep_ops;
    /* NULL: every document rendered whole; else the per-crossing ones and
     * the lists of them are made of these fragments, brought up to date
     * at the render (the bytes are the same either way) */
    http_snap_frags_t *frags;
} http_snap_src_t;

/* Bring src->frags up to date at now_ms in steps before a render, each
 * stopping once a fragment was rendered at or past deadline_mono_ms
 * (frag_cache_step), so that the loop's other work runs between them:
 * begin, then step until it returns true (every fragment current), then
 * http_snap_render with the same now_ms renders no more than what changed
 * since. The state may move between steps. */
void http_snap_frags_begin(http_snap_frags_t *self, const http_snap_src_t *src, int64_t now_ms);
bool http_snap_frags_step(http_snap_frags_t *self, const http_snap_src_t *src, int64_t now_ms,
                          int64_t deadline_mono_ms);

/* A snapshot older than this makes /health answer 503: the main loop has
 * stopped publishing. It republishes at least every second while it turns
 * (http.c); its longest legitimate stall is one rrdcached wait, bounded at
 * 5 s (rrdcc's timeout), plus a render; systemd's watchdog (WatchdogSec=30s,
 * deploy/systemd) kills a loop stuck for 30 s. 10 s is past the first and
 * well before the second, so a balancer or monitor sees the 503 first. */
#define HTTP_SNAP_STUCK_MS 10000

/* What a worker sends for /health or /metrics. */
typedef struct {
    int code;
    const char *ctype, *cache;
    http_cache_body_t *body;        /* one reference, the caller's; NULL: out of memory */
    int64_t age_s;                  /* the Age header's value; -1: none */
} http_snap_answer_t;

/* Render every document of src at wall time now_ms (one reference). The
 * documents whose tag has not changed since prev (NULL: none) — /v1/hours
 * for the whole run, /v1/hours/mismatches within an hour — are taken from
 * it, not rendered again. NULL when out of memory (logged). */
http_snap_t *http_snap_render(const http_snap_src_t *src, const http_snap_t *prev,
                              int64_t now_ms);

/* A snapshot of prev's documents (shared: their bodies gain a reference)
 * with new /health and /metrics bodies from src (health, metrics, mono_ms;
 * the rest of src is unused): how the main loop keeps those two fresh
 * while a full render waits for its share of the loop. Same version,
 * second and feed sequence as prev. One reference; NULL when out of
 * memory (logged). */
http_snap_t *http_snap_with_ops(const http_snap_t *prev, const http_snap_src_t *src);

/* The same with ops' /health and /metrics (and their time). */
http_snap_t *http_snap_with_ops_of(const http_snap_t *prev, const http_snap_t *ops);

/* The monotonic time its /health and /metrics were rendered (src->mono_ms). */
int64_t http_snap_mono_ms(const http_snap_t *self);

void http_snap_ref(http_snap_t *self);
void http_snap_unref(http_snap_t *self);

uint64_t http_snap_version(const http_snap_t *self);
int64_t http_snap_second(const http_snap_t *self);
/* The live feed's sequence number the snapshot was rendered at: it holds
 * every update up to it and none after (collector/sse streams from it). */
uint64_t http_snap_feed_seq(const http_snap_t *self);

/* Whether a snapshot rendered at monotonic published_mono_ms is too old at
 * now_mono_ms (older than limit_ms): the main loop stopped publishing. Pure. */
bool http_snap_stuck(int64_t published_mono_ms, int64_t now_mono_ms, int64_t limit_ms);

/* The answer to kind (ROUTE_HEALTH or ROUTE_METRICS) from self at
 * monotonic now_mono_ms, for any thread: 200 with the published body and
 * its age in seconds; a JSON 503 naming how long the main loop has not
 * published when http_snap_stuck(..., HTTP_SNAP_STUCK_MS) (no Age: the
 * error is made now). /metrics fails too then, so Prometheus' up == 0
 * (PoenetCollectorDown) still fires for a stuck loop, as it did when the
 * scrape waited on that loop and timed out. Never blocks. */
void http_snap_ops_answer(const http_snap_t *self, enum route_kind kind, int64_t now_mono_ms,
                          http_snap_answer_t *out);

/* The document for (kind, id) (id ignored for kinds without one; WAITTIMES
 * is BWTNEW), NULL when the snapshot has none (an unknown crossing). */
http_snap_doc_t *http_snap_find(const http_snap_t *self, enum route_kind kind, const char *id);

/* Number of documents and the i-th (for writing them out). */
size_t http_snap_count(const http_snap_t *self);
http_snap_doc_t *http_snap_at(const http_snap_t *self, size_t i);

/* The gzip form of doc, made now if no thread made it yet: a new
 * reference, NULL when doc has no body or memory ran out. */
http_cache_body_t *http_snap_doc_gz(http_snap_doc_t *doc);

/* Make the gzip form of every document of min_len bytes or more now
 * (before the snapshot is published, so that no request waits for one).
 * Returns 0, -1 when memory ran out for some (they are made on demand). */
int http_snap_gzip_from(http_snap_t *self, size_t min_len);

#endif
