/* http — the collector's HTTP server (libevent evhttp) and its routes:
 * /health, /v1/crossings, /v1/crossings/{id}, /v1/history.
 *
 * Runs on the collector's one event loop. Only GET and HEAD. JSON bodies
 * are made with jansson; /v1/crossings is rendered once per state version
 * and served from that cached body. */
#ifndef POE_HTTP_H
#define POE_HTTP_H

#include <stdint.h>

#include "archive.h"
#include "observed.h"
#include "registry.h"
#include "state.h"
#include "session.h"
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
} http_ctx_t;

typedef struct http_server http_server_t;

/* Listen on "ADDR:PORT" (IPv4). NULL on failure (reason logged). */
http_server_t *http_new(struct event_base *base, const char *addr_port,
                        const http_ctx_t *ctx);
void http_destroy(http_server_t **self_p);

#endif
