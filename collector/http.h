/* http — the collector's HTTP server and its routes:
 * /health, /metrics, /v1/crossings, /v1/crossings/{id}, /v1/history, the
 * CBP and CBSA views, /v1/hours and the dashboards' files.
 *
 * Requests are served by ctx->threads worker threads (http_worker.h),
 * each with its own event base, accepting on one shared listening socket.
 * The public documents are rendered by the collector's main loop once per
 * state version and second (at most every 100 ms), plain and gzip, and
 * published to the workers as one reference-counted snapshot
 * (http_snap.h), with /health's body and /metrics' text, which the main
 * loop renders into every snapshot (republished at least every second), so
 * neither waits for a busy main loop; /v1/history, /v1/forecast and CBP's
 * graph read on demand what only the main loop may touch and are answered
 * there. With ctx->publish_dir the same
 * documents are also written to a docroot (docroot.h) for nginx or a CDN.
 * http_new and http_destroy run on the main loop's thread. Only GET and
 * HEAD (and OPTIONS for CORS preflights). */
#ifndef POE_HTTP_H
#define POE_HTTP_H

#include <stdint.h>

#include "archive.h"
#include "observed.h"
#include "registry.h"
#include "state.h"
#include "session.h"
#include "sse_ring.h"
#include "stats.h"

struct event_base;

typedef struct {
    state_t *state;
    archive_t *archive;
    const registry_t *registry;
    const stats_t *stats;
    const sess_table_t *sessions; /* agents' delivery status for /health; may be NULL */
    int64_t stale_after_ms;   /* a queue whose data is older is "stale" */
    const char *dashboards;   /* directory of the web pages (/, /crossing/{id}); NULL: none */
    const observed_t *observed; /* hours learned from the lanes (/v1/hours); may be NULL */
    int threads;              /* HTTP worker threads (1..16); 0 means 1 */
    const char *publish_dir;  /* docroot the public documents are written to; NULL: none */
    sse_ring_t *sse;          /* the live feed's updates for /v1/stream (its bound on
                                 streams adds to the connections served); NULL: none */
    /* Whether agents' frames wait on this loop now (ingest_busy): a render
     * then would hold them, so it waits, at most HTTP_DEFER_MAX_MS after
     * it was due. NULL: never. */
    bool (*busy)(void *arg);
    void *busy_arg;
} http_ctx_t;

typedef struct http_server http_server_t;

/* Listen on "ADDR:PORT" (IPv4). NULL on failure (reason logged). */
http_server_t *http_new(struct event_base *base, const char *addr_port,
                        const http_ctx_t *ctx);
void http_destroy(http_server_t **self_p);

#endif
