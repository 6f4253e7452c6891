/* http_worker — see http_worker.h. Owns the HTTP side of the API:
 * limits, method and path dispatch, status codes and headers (type, CORS,
 * caching, ETag/Last-Modified, gzip). What goes in a body belongs to the
 * views (through http_snap.c) and to the main loop's jobs (http.c); what a
 * request may ask belongs to route.c.
 *
 * Hand-offs between threads: the snapshot inbox is one atomic pointer
 * (each pointer in it holds one reference); answered jobs come back on a
 * mutex-protected list and an eventfd wakes the worker's loop. */
#include "http_worker.h"

#include "catalog.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <pthread.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "feed.h"
#include "log.h"
#include "sse.h"
#include "static.h"
#include "timeutil.h"

#define HTTP_ALLOW "GET, HEAD, OPTIONS"
#define HTTP_MAX_HEADERS_SIZE 8192
/* Nothing we serve takes a body; a small one is read and answered with a
 * JSON 405 rather than libevent's own HTML 413. */
#define HTTP_MAX_BODY_SIZE 1024
/* libevent's own limits, beyond which it drops the request with HTML. */
#define HTTP_HARD_HEADERS_SIZE (64 * 1024)
#define HTTP_HARD_BODY_SIZE (64 * 1024)
/* Idle keep-alive connections and slow clients are dropped after this. */
#define HTTP_TIMEOUT_S 10
/* libevent writes at most 16 KB per loop turn by default: a 130 KB body
 * would take 9 turns (and 9 epoll_waits). One write per turn instead. */
#define HTTP_MAX_SINGLE_WRITE (1u << 20)

/* The dashboards' pages: no inline script or style, nothing from other
 * origins (the pages ship every script they run). */
#define CSP_PAGES "default-src 'self'; img-src 'self' data:; object-src 'none'; " \
                  "base-uri 'none'; frame-ancestors 'none'"

struct http_worker {
    http_worker_cfg_t cfg;
    int index;
    struct event_base *base;
    struct evhttp *http;
    struct event *ev_wake;
    int wake_fd;                        /* eventfd */
    pthread_t thread;
    bool running;
    bool stall_logged;                  /* /health said the main loop is stuck */
    atomic_bool stopping;
    _Atomic(http_snap_t *) inbox;       /* the newest published, not yet taken */
    http_snap_t *cur;                   /* the one this thread serves */
    pthread_mutex_t mu;                 /* guards answered */
    http_job_t *answered;
    static_dir_t *dash;
    catalog_t *catalog;                 /* the pages' catalogs (/v1/labels); NULL when unusable */
    sse_t *sse;                         /* this worker's /v1/stream clients; NULL: no stream */
    struct evhttp_connection **conns;   /* cfg.max_conns: the limit is global */
    int nconns;
};

/* ---- responses ---------------------------------------------------------- */

static const char *s_reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void s_common_headers(struct evhttp_request *req, const char *ctype, const char *cache)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (ctype)
        evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Access-Control-Expose-Headers", "ETag, Last-Modified");
    evhttp_add_header(h, "Cache-Control", cache);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

static void s_body_release_cb(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    http_cache_body_unref(arg);
}

static void s_segment_release_cb(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
    (void)seg;
    (void)flags;
    http_cache_body_unref(arg);
}

/* A body with a memfd goes by sendfile(2): the output buffer is marked as
 * draining to a socket (which it does, moved whole into the connection's
 * by evhttp), so libevent keeps the segment as a sendfile chain. The
 * segment is this response's own (segments are not shared between
 * threads); the memfd is shared and never written again. */
static void s_send_file(struct evhttp_request *req, int code, struct evbuffer *buf,
                        http_cache_body_t *body)
{
    struct evbuffer_file_segment *seg =
        evbuffer_file_segment_new(body->fd, 0, (ev_off_t)body->len, EVBUF_FS_DISABLE_LOCKING);
    if (!seg) {
        http_cache_body_unref(body);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evbuffer_file_segment_add_cleanup_cb(seg, s_segment_release_cb, body);
    evbuffer_set_flags(buf, EVBUFFER_FLAG_DRAINS_TO_FD);
    int rc = evbuffer_add_file_segment(buf, seg, 0, -1);
    evbuffer_file_segment_free(seg); /* the buffer holds its own reference */
    if (rc != 0) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, code, s_reason(code), NULL);
}

/* Send body (taking one reference of it). HEAD gets the headers a GET
 * would, Content-Length included, and no body. */
static void s_send_body(struct evhttp_request *req, int code, const char *ctype,
                        const char *cache, http_cache_body_t *body)
{
    s_common_headers(req, ctype, cache);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[32];
        snprintf(len, sizeof len, "%zu", body->len);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
        http_cache_body_unref(body);
        evhttp_send_reply(req, code, s_reason(code), NULL);
        return;
    }
    struct evbuffer *buf = evhttp_request_get_output_buffer(req);
    if (body->fd >= 0 && body->len > 0) {
        s_send_file(req, code, buf, body);
        return;
    }
    if (evbuffer_add_reference(buf, body->data, body->len, s_body_release_cb, body) != 0) {
        http_cache_body_unref(body);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, code, s_reason(code), NULL);
}

static void s_send_json(struct evhttp_request *req, int code, const char *cache, char *json)
{
    http_cache_body_t *body = json ? http_cache_body_new(json, strlen(json)) : NULL;
    if (!body) {
        log_error("http: out of memory rendering %s", evhttp_request_get_uri(req));
        evhttp_send_error(req, 503, NULL);
        return;
    }
    s_send_body(req, code, HTTP_CT_JSON, cache, body);
}

static void s_send_error(struct evhttp_request *req, int code, const char *reason)
{
    s_send_json(req, code, HTTP_CACHE_NONE, feed_error_json(code, reason));
}

/* Adds ETag, Last-Modified and Vary; answers 304 and returns true when the
 * client already has this representation. If-None-Match wins over
 * If-Modified-Since (RFC 9110 13.2.2). */
static bool s_not_modified(struct evhttp_request *req, const char *etag, int64_t mtime_s,
                           const char *cache)
{
    char date[40];
    route_http_date(mtime_s, date, sizeof date);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "ETag", etag);
    evhttp_add_header(out, "Last-Modified", date);
    evhttp_add_header(out, "Vary", "Accept-Encoding");
    const char *inm = evhttp_find_header(in, "If-None-Match");
    const char *ims = evhttp_find_header(in, "If-Modified-Since");
    int64_t since;
    bool fresh = inm ? route_etag_matches(inm, etag)
                     : ims && route_parse_http_date(ims, &since) == 0 && mtime_s <= since;
    if (!fresh)
        return false;
    s_common_headers(req, NULL, cache);
    evhttp_send_reply(req, 304, s_reason(304), NULL);
    return true;
}

static bool s_wants_gzip(struct evhttp_request *req)
{
    return route_accepts_gzip(
        evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding"));
}

/* ---- the published documents ---------------------------------------------- */

/* The newest snapshot published to this worker (NULL before the first). */
static http_snap_t *s_snap(http_worker_t *self)
{
    http_snap_t *next = atomic_exchange_explicit(&self->inbox, NULL, memory_order_acq_rel);
    if (next) {
        http_snap_unref(self->cur);
        self->cur = next;
    }
    return self->cur;
}

static void s_serve_doc(struct evhttp_request *req, http_snap_doc_t *doc)
{
    char etag[64];
    route_etag(doc->version, doc->second, etag, sizeof etag);
    if (s_not_modified(req, etag, doc->second, doc->cache))
        return;
    if (!doc->plain) {
        log_error("http: out of memory rendering %s", evhttp_request_get_uri(req));
        s_send_error(req, 503, "out of memory");
        return;
    }
    http_cache_body_t *body = s_wants_gzip(req) ? http_snap_doc_gz(doc) : NULL;
    if (body) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
    } else {
        body = doc->plain;
        http_cache_body_ref(body);
    }
    s_send_body(req, 200, doc->ctype, doc->cache, body);
}

/* /health and /metrics: what the main loop rendered into the snapshot, so
 * a busy (or stuck) main loop never delays them; http_snap_ops_answer
 * turns a snapshot too old into a 503 (logged once per stall and worker).
 * Age says how old the counters are (RFC 9111 5.1). */
static void s_ops(http_worker_t *self, struct evhttp_request *req, enum route_kind kind)
{
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(req, 503, "starting");
        return;
    }
    http_snap_answer_t a;
    http_snap_ops_answer(snap, kind, tu_mono_ms(), &a);
    if (!a.body) {
        log_error("http: out of memory rendering %s", evhttp_request_get_uri(req));
        s_send_error(req, 503, "out of memory");
        return;
    }
    if ((a.code == 503) != self->stall_logged) {
        self->stall_logged = a.code == 503;
        log_warn("http: worker %d: %s", self->index,
                 a.code == 503 ? "main loop stopped publishing: /health and /metrics answer 503"
                               : "main loop publishing again");
    }
    if (a.age_s >= 0) {
        char age[24];
        snprintf(age, sizeof age, "%lld", (long long)a.age_s);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Age", age);
    }
    s_send_body(req, a.code, a.ctype, a.cache, a.body);
}

/* One file of the dashboards (collector/static.c), with its ETag,
 * Last-Modified, gzip and conditional GET. */
static void s_static(http_worker_t *self, struct evhttp_request *req, const char *rel)
{
    static_file_t f;
    int rc = self->dash ? static_get(self->dash, rel, s_wants_gzip(req), &f) : -1;
    if (rc == -2) {
        s_send_error(req, 503, "out of memory");
        return;
    }
    if (rc != 0) {
        s_send_error(req, 404, self->dash ? "no such file"
                                          : "no such path (dashboards not installed: see --dashboards)");
        return;
    }
    if (strncmp(f.ctype, "text/html", 9) == 0)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
                          CSP_PAGES);
    if (s_not_modified(req, f.etag, f.mtime_s, f.cache)) {
        http_cache_body_unref(f.body);
        http_cache_body_unref(f.gz);
        return;
    }
    if (f.gz) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
        http_cache_body_unref(f.body);
        s_send_body(req, 200, f.ctype, f.cache, f.gz);
    } else {
        s_send_body(req, 200, f.ctype, f.cache, f.body);
    }
}

/* ---- jobs for the main loop ------------------------------------------------ */

static void s_post_job(http_worker_t *self, struct evhttp_request *req, enum route_kind kind,
                       const char *id)
{
    http_job_t *job = calloc(1, sizeof *job);
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (!job || (q && !(job->query = strdup(q)))) {
        free(job);
        s_send_error(req, 503, "out of memory");
        return;
    }
    job->kind = kind;
    snprintf(job->id, sizeof job->id, "%s", id ? id : "");
    job->gzip_ok = s_wants_gzip(req);
    job->worker = self;
    job->req = req;
    /* Answered later: evhttp keeps the request (detached, if the client
     * goes away meanwhile) until evhttp_send_reply. */
    self->cfg.job_fn(self->cfg.job_arg, job);
}

void http_job_free(http_job_t *job)
{
    if (!job)
        return;
    http_cache_body_unref(job->body);
    free(job->query);
    free(job);
}

static void s_send_answer(http_job_t *job)
{
    struct evhttp_request *req = job->req;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (job->vary)
        evhttp_add_header(out, "Vary", "Accept-Encoding");
    if (job->is_gz)
        evhttp_add_header(out, "Content-Encoding", "gzip");
    if (!job->body) {
        s_send_error(req, 503, "out of memory");
    } else {
        s_send_body(req, job->code, job->ctype, job->cache, job->body);
        job->body = NULL;
    }
    http_job_free(job);
}

static void s_send_answered(http_worker_t *self)
{
    pthread_mutex_lock(&self->mu);
    http_job_t *list = self->answered;
    self->answered = NULL;
    pthread_mutex_unlock(&self->mu);
    /* The list is newest first: answer in the order asked. */
    http_job_t *fifo = NULL;
    while (list) {
        http_job_t *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        http_job_t *next = fifo->next;
        s_send_answer(fifo);
        fifo = next;
    }
}

static void s_on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    http_worker_t *self = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_warn("http: worker %d: eventfd: %s", self->index, strerror(errno));
    s_send_answered(self);
    if (self->sse)
        sse_pump(self->sse, s_snap(self));
    if (atomic_load(&self->stopping))
        event_base_loopbreak(self->base);
}

static void s_wake(http_worker_t *self)
{
    uint64_t one = 1;
    if (write(self->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("http: worker %d: eventfd: %s", self->index, strerror(errno));
}

/* The ring has new updates (called on the main loop's thread). */
static void s_wake_sse(void *arg)
{
    s_wake(arg);
}

void http_worker_answer(http_worker_t *self, http_job_t *job)
{
    pthread_mutex_lock(&self->mu);
    job->next = self->answered;
    self->answered = job;
    pthread_mutex_unlock(&self->mu);
    s_wake(self);
}

/* ---- routes ------------------------------------------------------------- */

/* /v1/labels[?lang=xx]: the feed's words in the language asked (?lang=,
 * else Accept-Language), from the dashboards' catalogs. */
static void s_labels(http_worker_t *self, struct evhttp_request *req)
{
    if (!self->catalog) {
        s_send_error(req, 503, "no message catalogs (dashboards not installed or their catalogs unusable)");
        return;
    }
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    const char *lang = NULL;
    char why[128];
    if (q && *q) {
        for (int i = 0; i < CATALOG_NLANGS && !lang; i++)
            if (strncmp(q, "lang=", 5) == 0 && strcmp(q + 5, catalog_langs[i]) == 0)
                lang = catalog_langs[i];
        if (!lang) {
            s_send_error(req, 400, "the labels take only lang=en, lang=es or lang=fr");
            return;
        }
    } else {
        lang = catalog_pick(evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language"),
                            why, sizeof why);
        if (!lang) {
            s_send_error(req, 400, why);
            return;
        }
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Language", lang);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Vary", "Accept-Language");
    s_send_json(req, 200, "public, max-age=3600", catalog_labels_json(self->catalog, lang));
}

/* /v1/stream[?crossing=ID]: the browsers' live stream (collector/sse). */
static void s_stream(http_worker_t *self, struct evhttp_request *req)
{
    if (!self->sse) {
        s_send_error(req, 503, "live stream off: this collector runs without --feed; poll /v1/crossings");
        return;
    }
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(req, 503, "starting");
        return;
    }
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    char id[ROUTE_ID_MAX] = "";
    if (q && *q) {
        if (strncmp(q, "crossing=", 9) != 0 || strlen(q + 9) >= sizeof id || strchr(q + 9, '&')) {
            s_send_error(req, 400, "the stream takes only crossing=ID");
            return;
        }
        snprintf(id, sizeof id, "%s", q + 9);
        if (!tax_crossing_id_valid(id) || !http_snap_find(snap, ROUTE_CROSSING, id)) {
            char why[64];
            snprintf(why, sizeof why, "unknown crossing '%s'", id);
            s_send_error(req, 404, why);
            return;
        }
    }
    sse_attach(self->sse, req, id, snap);
}

static void s_route(http_worker_t *self, struct evhttp_request *req, enum route_kind kind,
                    const char *id)
{
    if (kind == ROUTE_HEALTH || kind == ROUTE_METRICS) {
        s_ops(self, req, kind);
        return;
    }
    if (kind == ROUTE_HISTORY || kind == ROUTE_FORECAST || kind == ROUTE_CBP_GRAPH) {
        s_post_job(self, req, kind, id);
        return;
    }
    if (kind == ROUTE_DASH_BOARD) {
        s_static(self, req, "index.html");
        return;
    }
    if (kind == ROUTE_DASH_SW) {
        s_static(self, req, "sw.js");
        return;
    }
    if (kind == ROUTE_LABELS) {
        s_labels(self, req);
        return;
    }
    if (kind == ROUTE_STREAM) {
        s_stream(self, req);
        return;
    }
    if (kind == ROUTE_DASH_ASSET) {
        s_static(self, req,
                 route_asset_path(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req))));
        return;
    }
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(req, 503, "starting");
        return;
    }
    if ((kind == ROUTE_CROSSING || kind == ROUTE_CBP_PORT || kind == ROUTE_DASH_CROSSING ||
         kind == ROUTE_HOURS_ONE) &&
        (!tax_crossing_id_valid(id) || !http_snap_find(snap, ROUTE_CROSSING, id))) {
        char why[64];
        snprintf(why, sizeof why, "unknown crossing '%s'", id);
        s_send_error(req, 404, why);
        return;
    }
    if ((kind == ROUTE_HOURS || kind == ROUTE_HOURS_ONE || kind == ROUTE_MISMATCHES) &&
        !self->cfg.has_registry) {
        s_send_error(req, 503, "no registry");
        return;
    }
    if (kind == ROUTE_DASH_CROSSING) {
        s_static(self, req, "crossing.html");
        return;
    }
    http_snap_doc_t *doc = http_snap_find(snap, kind, id);
    if (doc)
        s_serve_doc(req, doc);
    else
        s_send_error(req, 404, "no such path");
}

/* ---- connections ---------------------------------------------------------- */

static void s_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    http_worker_t *self = arg;
    sse_conn_closed(self->sse, evcon);
    for (int i = 0; i < self->nconns; i++) {
        if (self->conns[i] == evcon) {
            self->conns[i] = self->conns[--self->nconns];
            atomic_fetch_sub(self->cfg.nconns, 1);
            return;
        }
    }
}

/* libevent 2.1 has no connection limit of its own: connections are counted
 * at their first request (close callback to forget them) across every
 * worker, and one over the limit gets a JSON 503 and is closed. Idle ones
 * are dropped by the timeout. Returns false when the request was refused. */
static bool s_conn_admit(http_worker_t *self, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return true;
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i] == evcon)
            return true;
    if (atomic_fetch_add(self->cfg.nconns, 1) >= self->cfg.max_conns ||
        self->nconns == self->cfg.max_conns) {
        atomic_fetch_sub(self->cfg.nconns, 1);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        s_send_error(req, 503, "too many connections");
        return false;
    }
    self->conns[self->nconns++] = evcon;
    evhttp_connection_set_closecb(evcon, s_conn_closed, self);
    return true;
}

/* A browser asks before a cross-origin GET that carries a header outside
 * CORS's safe list — If-None-Match, If-Modified-Since, Cache-Control are
 * the ones a feed client sends to revalidate. Answered for every known
 * path, cached by the browser for a day. */
static void s_send_preflight(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Allow", HTTP_ALLOW);
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, HEAD");
    evhttp_add_header(h, "Access-Control-Allow-Headers",
                      "If-None-Match, If-Modified-Since, Cache-Control");
    evhttp_add_header(h, "Access-Control-Max-Age", "86400");
    evhttp_add_header(h, "Content-Length", "0");
    evhttp_send_reply(req, 204, "No Content", NULL);
}

static bool s_method_allowed(struct evhttp_request *req)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
}

/* Total size of the request's header lines, as sent. */
static size_t s_headers_size(struct evhttp_request *req)
{
    size_t n = 0;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
        n += strlen(kv->key) + strlen(kv->value) + 4;
    return n;
}

static void s_dispatch(struct evhttp_request *req, void *arg)
{
    http_worker_t *self = arg;
    if (!s_conn_admit(self, req))
        return;
    const char *raw = evhttp_request_get_uri(req);
    if (raw && strlen(raw) > ROUTE_MAX_URI) {
        s_send_error(req, 414, "request URI too long");
        return;
    }
    /* libevent itself only cuts requests beyond its hard limits (with an
     * HTML 400/413); ours are lower so clients get the right JSON status. */
    if (s_headers_size(req) > HTTP_MAX_HEADERS_SIZE) {
        s_send_error(req, 431, "request header fields too large");
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > HTTP_MAX_BODY_SIZE) {
        s_send_error(req, 413, "request body too large");
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char id[ROUTE_ID_MAX];
    enum route_kind kind = route_match(uri ? evhttp_uri_get_path(uri) : NULL, id, sizeof id);
    if (kind == ROUTE_NONE) {
        s_send_error(req, 404, "no such path");
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS) {
        s_send_preflight(req);
        return;
    }
    if (!s_method_allowed(req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", HTTP_ALLOW);
        s_send_error(req, 405, "method not allowed: use GET or HEAD");
        return;
    }
    s_route(self, req, kind, id);
}

/* ---- the worker ----------------------------------------------------------- */

static struct bufferevent *s_new_bev(struct event_base *base, void *arg)
{
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev)
        bufferevent_set_max_single_write(bev, HTTP_MAX_SINGLE_WRITE);
    return bev;
}

static void s_configure(http_worker_t *self)
{
    evhttp_set_max_headers_size(self->http, HTTP_HARD_HEADERS_SIZE);
    evhttp_set_max_body_size(self->http, HTTP_HARD_BODY_SIZE);
    evhttp_set_timeout(self->http, HTTP_TIMEOUT_S);
    /* Every method reaches s_dispatch, so the 405 carries Allow and JSON. */
    evhttp_set_allowed_methods(self->http,
                               EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(self->http, s_new_bev, NULL);
    evhttp_set_gencb(self->http, s_dispatch, self);
}

http_worker_t *http_worker_new(const http_worker_cfg_t *cfg, int index)
{
    http_worker_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("http: out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    self->index = index;
    self->wake_fd = -1;
    pthread_mutex_init(&self->mu, NULL);
    atomic_init(&self->inbox, NULL);
    atomic_init(&self->stopping, false);
    int fd = -1;
    if (!(self->conns = calloc((size_t)(cfg->max_conns > 0 ? cfg->max_conns : 1), sizeof *self->conns)) ||
        !(self->base = event_base_new()) || !(self->http = evhttp_new(self->base)) ||
        (self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        !(self->ev_wake = event_new(self->base, self->wake_fd, EV_READ | EV_PERSIST, s_on_wake,
                                    self)) ||
        event_add(self->ev_wake, NULL) != 0 || (fd = dup(cfg->listen_fd)) < 0 ||
        !evhttp_accept_socket_with_handle(self->http, fd)) {
        log_error("http: worker %d: cannot set up: %s", index, strerror(errno));
        if (fd >= 0)
            close(fd);
        http_worker_destroy(&self);
        return NULL;
    }
    s_configure(self);
    if (cfg->sse && !(self->sse = sse_new(self->base, cfg->sse, s_wake_sse, self))) {
        http_worker_destroy(&self);
        return NULL;
    }
    if (cfg->dashboards && (self->dash = static_new(cfg->dashboards)) && index == 0)
        log_info("http: dashboards from %s", static_root(self->dash));
    if (self->dash) {
        /* a broken or incomplete catalog is logged (once) with its reason;
         * the pages then fall back to English for what they cannot find */
        char dir[PATH_MAX + 8], why[256] = "";
        snprintf(dir, sizeof dir, "%s/i18n", static_root(self->dash));
        self->catalog = catalog_load(dir, why, sizeof why);
        if (!self->catalog && index == 0)
            log_error("dashboards: message catalogs in %s unusable: %s", dir, why);
        else if (index == 0)
            log_info("dashboards: message catalogs en, es, fr: %zu keys each", catalog_size(self->catalog));
    }
    return self;
}

static void *s_thread(void *arg)
{
    http_worker_t *self = arg;
    event_base_dispatch(self->base);
    return NULL;
}

int http_worker_start(http_worker_t *self)
{
    int rc = pthread_create(&self->thread, NULL, s_thread, self);
    if (rc != 0) {
        log_error("http: worker %d: no thread: %s", self->index, strerror(rc));
        return -1;
    }
    self->running = true;
    return 0;
}

void http_worker_publish(http_worker_t *self, http_snap_t *snap)
{
    http_snap_ref(snap);
    http_snap_t *old = atomic_exchange_explicit(&self->inbox, snap, memory_order_acq_rel);
    http_snap_unref(old); /* published, never taken: nobody else holds this one */
}

void http_worker_stop(http_worker_t *self)
{
    if (!self->running)
        return;
    atomic_store(&self->stopping, true);
    s_wake(self);
    pthread_join(self->thread, NULL);
    self->running = false;
}

void http_worker_destroy(http_worker_t **self_p)
{
    http_worker_t *self = *self_p;
    if (!self)
        return;
    http_worker_stop(self);
    /* The thread is gone: what it was asked is answered from here, then
     * evhttp_free closes the connections (releasing their bodies; their
     * close callbacks still need self). */
    s_send_answered(self);
    if (self->http)
        evhttp_free(self->http);
    sse_destroy(&self->sse);   /* after evhttp_free: its close callbacks reach it */
    if (self->ev_wake)
        event_free(self->ev_wake);
    if (self->wake_fd >= 0)
        close(self->wake_fd);
    if (self->base)
        event_base_free(self->base);
    http_snap_unref(atomic_exchange(&self->inbox, NULL));
    http_snap_unref(self->cur);
    static_destroy(&self->dash);
    catalog_destroy(&self->catalog);
    pthread_mutex_destroy(&self->mu);
    free(self->conns);
    free(self);
    *self_p = NULL;
}
