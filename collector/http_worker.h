/* http_worker — one HTTP worker thread: its own event base, accepting on
 * the collector's shared listening socket; each connection is an httpconn
 * (collector/httpconn.h) whose requests come to this module's routes.
 *
 * A worker answers the public documents from the newest snapshot the
 * server published to it (http_snap.h: published by an atomic exchange of
 * the worker's inbox, picked up at the next request, bodies written by
 * reference, never copied) and the dashboards' files from its own file
 * cache (static.h). /health and /metrics come from the same snapshot (the
 * main loop renders them into it; a snapshot older than HTTP_SNAP_STUCK_MS
 * makes both a 503). The rest — /v1/history, /v1/forecast and CBP's
 * graph, which read on demand what only the collector's main loop may
 * touch — goes to the server as a job (the job_fn, called on the worker's
 * thread, must only queue it);
 * the main loop fills in the answer and hands it back with
 * http_worker_answer, and the worker sends it. /v1/stream is served from
 * the worker's own streams (collector/sse), fed from the main loop's ring
 * of the live feed's updates (collector/sse_ring), which wakes the worker
 * through the same eventfd. Nothing else is shared:
 * the HTTP behaviour (limits, 304/ETag, HEAD, CORS, gzip, JSON errors) is
 * all on the worker's thread. */
#ifndef POE_HTTP_WORKER_H
#define POE_HTTP_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "http_cache.h"
#include "http_snap.h"
#include "route.h"
#include "sse_ring.h"

typedef struct http_worker http_worker_t;

/* A request handed to the main loop, and its answer. */
typedef struct http_job {
    /* the question, filled in by the worker */
    enum route_kind kind;   /* ROUTE_HISTORY, _FORECAST or _CBP_GRAPH */
    char id[ROUTE_ID_MAX];  /* the {id} segment, "" when none */
    char *query;            /* the query string (malloc'ed), NULL when none */
    bool gzip_ok;           /* the client accepts gzip */
    /* the answer, filled in by the main loop */
    int code;
    const char *ctype, *cache;
    http_cache_body_t *body;  /* one reference, given to the worker */
    bool is_gz, vary;
    /* the worker's */
    http_worker_t *worker;
    struct httpconn *conn;  /* waits, reading nothing more, for the answer */
    struct http_job *next;
} http_job_t;

typedef void (*http_worker_job_fn)(void *arg, http_job_t *job);

typedef struct {
    int listen_fd;              /* shared; the worker accepts on a dup of it */
    const char *dashboards;     /* directory of the web pages; NULL: none */
    bool has_registry;          /* /v1/hours needs one */
    atomic_int *nconns;         /* connections open across every worker */
    int max_conns;              /* beyond it: a JSON 503 and close */
    http_worker_job_fn job_fn;  /* called on the worker's thread */
    void *job_arg;
    sse_ring_t *sse;            /* the live feed's updates for /v1/stream; NULL: no stream */
} http_worker_cfg_t;

/* Set up (not yet running). NULL on failure (logged). */
http_worker_t *http_worker_new(const http_worker_cfg_t *cfg, int index);

/* Start the worker's thread. 0 or -1 (logged). */
int http_worker_start(http_worker_t *self);

/* Make snap (taking a new reference of it) the worker's next snapshot.
 * Any thread. */
void http_worker_publish(http_worker_t *self, http_snap_t *snap);

/* Give back an answered job; the worker sends it and frees the job. Any
 * thread. */
void http_worker_answer(http_worker_t *self, http_job_t *job);

/* Stop the thread and wait for it (idempotent). */
void http_worker_stop(http_worker_t *self);

/* Stop, send what was answered, close every connection, free. */
void http_worker_destroy(http_worker_t **self_p);

/* Free a job and its body (a job never sent). */
void http_job_free(http_job_t *job);

#endif
