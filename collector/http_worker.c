/* http_worker — see http_worker.h. Owns the HTTP side of the API:
 * limits, method and path dispatch, status codes and headers (type, CORS,
 * caching, ETag/Last-Modified, gzip). What goes in a body belongs to the
 * views (through http_snap.c) and to the main loop's jobs (http.c); what a
 * request may ask belongs to route.c; reading requests and writing answers
 * on a connection belongs to httpconn.c.
 *
 * Hand-offs between threads: the snapshot inbox is one atomic pointer
 * (each pointer in it holds one reference); answered jobs come back on a
 * mutex-protected list and an eventfd wakes the worker's loop. */
#include "http_worker.h"

#include "catalog.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "feed.h"
#include "httpconn.h"
#include "log.h"
#include "sse.h"
#include "static.h"
#include "timeutil.h"

#define HTTP_ALLOW "GET, HEAD, OPTIONS"
#define HTTP_MAX_HEADERS_SIZE 8192
/* Nothing we serve takes a body; a small one is read and answered with a
 * JSON 405; a bigger one with a JSON 413. */
#define HTTP_MAX_BODY_SIZE 1024
/* Idle keep-alive connections and slow clients are dropped after this. */
#define HTTP_TIMEOUT_S 10
/* The worker's read buffer, shared by its connections. */
#define HTTP_READ_BUF (64 * 1024)
/* Connections over the limit still get their JSON 503 (up to this many
 * at once per worker); beyond, they are closed unanswered. */
#define HTTP_REFUSE_SLOTS 16
/* After accept fails for want of descriptors, accepting pauses this long
 * (a level-triggered listening socket would otherwise spin). */
#define HTTP_ACCEPT_PAUSE_MS 100

/* The dashboards' pages: no inline script or style, nothing from other
 * origins (the pages ship every script they run). */
#define CSP_PAGES "default-src 'self'; img-src 'self' data:; object-src 'none'; " \
                  "base-uri 'none'; frame-ancestors 'none'"

typedef struct {
    httpconn_t *conn;
    bool refused;           /* over the limit: answered 503, then closed */
} s_slot_t;

struct http_worker {
    http_worker_cfg_t cfg;
    int index;
    struct event_base *base;
    int listen_fd;                      /* this worker's dup of the shared socket */
    struct event *ev_accept, *ev_resume;
    struct event *ev_wake;
    int wake_fd;                        /* eventfd */
    pthread_t thread;
    bool running;
    bool stall_logged;                  /* /health said the main loop is stuck */
    bool accept_logged;                 /* accept failing: said once per spell */
    atomic_bool stopping;
    _Atomic(http_snap_t *) inbox;       /* the newest published, not yet taken */
    http_snap_t *cur;                   /* the one this thread serves */
    pthread_mutex_t mu;                 /* guards answered */
    http_job_t *answered;
    static_dir_t *dash;
    catalog_t *catalog;                 /* the pages' catalogs (/v1/labels); NULL when unusable */
    sse_t *sse;                         /* this worker's /v1/stream clients; NULL: no stream */
    httpconn_cfg_t conn_cfg;
    char *rbuf;
    s_slot_t *slots;                    /* cfg.max_conns + HTTP_REFUSE_SLOTS */
    int nslots, nrefused;
};

/* ---- responses ---------------------------------------------------------- */

static void s_common_headers(httpconn_head_t *h, const char *ctype, const char *cache)
{
    if (ctype)
        httpconn_head_add(h, "Content-Type", ctype);
    httpconn_head_add(h, "Access-Control-Allow-Origin", "*");
    httpconn_head_add(h, "Access-Control-Expose-Headers", "ETag, Last-Modified");
    httpconn_head_add(h, "Cache-Control", cache);
    httpconn_head_add(h, "X-Content-Type-Options", "nosniff");
}

/* Send body (taking one reference of it) with h's lines and the common
 * ones. HEAD gets the headers a GET would, Content-Length included, and
 * no body (httpconn). */
static void s_send_body(httpconn_t *c, httpconn_head_t *h, int code, const char *ctype,
                        const char *cache, http_cache_body_t *body)
{
    s_common_headers(h, ctype, cache);
    if (httpconn_respond(c, code, h, body) != 0)
        log_error("http: response head over %d bytes: sent a 500", HTTPCONN_HEAD_MAX);
}

static void s_send_json(httpconn_t *c, httpconn_head_t *h, int code, const char *cache,
                        char *json)
{
    http_cache_body_t *body = json ? http_cache_body_new(json, strlen(json)) : NULL;
    if (!body) {
        log_error("http: out of memory rendering a response");
        httpconn_head_init(h);
        h->close = true;
        httpconn_respond(c, 503, h, NULL);
        return;
    }
    s_send_body(c, h, code, HTTP_CT_JSON, cache, body);
}

static void s_send_error(httpconn_t *c, httpconn_head_t *h, int code, const char *reason)
{
    s_send_json(c, h, code, HTTP_CACHE_NONE, feed_error_json(code, reason));
}

/* Adds ETag, Last-Modified and Vary; answers 304 and returns true when the
 * client already has this representation. If-None-Match wins over
 * If-Modified-Since (RFC 9110 13.2.2). */
static bool s_not_modified(httpconn_t *c, const httpreq_t *req, httpconn_head_t *h,
                           const char *etag, int64_t mtime_s, const char *cache)
{
    char date[40];
    route_http_date(mtime_s, date, sizeof date);
    httpconn_head_add(h, "ETag", etag);
    httpconn_head_add(h, "Last-Modified", date);
    httpconn_head_add(h, "Vary", "Accept-Encoding");
    const char *inm = httpreq_header(req, "If-None-Match");
    const char *ims = httpreq_header(req, "If-Modified-Since");
    int64_t since;
    bool fresh = inm ? route_etag_matches(inm, etag)
                     : ims && route_parse_http_date(ims, &since) == 0 && mtime_s <= since;
    if (!fresh)
        return false;
    s_common_headers(h, NULL, cache);
    httpconn_respond(c, 304, h, NULL);
    return true;
}

static bool s_wants_gzip(const httpreq_t *req)
{
    return route_accepts_gzip(httpreq_header(req, "Accept-Encoding"));
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

static void s_serve_doc(httpconn_t *c, const httpreq_t *req, httpconn_head_t *h,
                        http_snap_doc_t *doc)
{
    char etag[64];
    route_etag(doc->version, doc->second, etag, sizeof etag);
    if (s_not_modified(c, req, h, etag, doc->second, doc->cache))
        return;
    if (!doc->plain) {
        log_error("http: out of memory rendering %s", req->path);
        s_send_error(c, h, 503, "out of memory");
        return;
    }
    http_cache_body_t *body = s_wants_gzip(req) ? http_snap_doc_gz(doc) : NULL;
    if (body) {
        httpconn_head_add(h, "Content-Encoding", "gzip");
    } else {
        body = doc->plain;
        http_cache_body_ref(body);
    }
    s_send_body(c, h, 200, doc->ctype, doc->cache, body);
}

/* /health and /metrics: what the main loop rendered into the snapshot, so
 * a busy (or stuck) main loop never delays them; http_snap_ops_answer
 * turns a snapshot too old into a 503 (logged once per stall and worker).
 * Age says how old the counters are (RFC 9111 5.1). */
static void s_ops(http_worker_t *self, httpconn_t *c, httpconn_head_t *h, enum route_kind kind)
{
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(c, h, 503, "starting");
        return;
    }
    http_snap_answer_t a;
    http_snap_ops_answer(snap, kind, tu_mono_ms(), &a);
    if (!a.body) {
        log_error("http: out of memory rendering %s", kind == ROUTE_HEALTH ? "/health" : "/metrics");
        s_send_error(c, h, 503, "out of memory");
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
        httpconn_head_add(h, "Age", age);
    }
    s_send_body(c, h, a.code, a.ctype, a.cache, a.body);
}

/* One file of the dashboards (collector/static.c), with its ETag,
 * Last-Modified, gzip and conditional GET. */
static void s_static(http_worker_t *self, httpconn_t *c, const httpreq_t *req,
                     httpconn_head_t *h, const char *rel)
{
    static_file_t f;
    int rc = self->dash ? static_get(self->dash, rel, s_wants_gzip(req), &f) : -1;
    if (rc == -2) {
        s_send_error(c, h, 503, "out of memory");
        return;
    }
    if (rc != 0) {
        s_send_error(c, h, 404, self->dash ? "no such file"
                                           : "no such path (dashboards not installed: see --dashboards)");
        return;
    }
    if (strncmp(f.ctype, "text/html", 9) == 0)
        httpconn_head_add(h, "Content-Security-Policy", CSP_PAGES);
    if (s_not_modified(c, req, h, f.etag, f.mtime_s, f.cache)) {
        http_cache_body_unref(f.body);
        http_cache_body_unref(f.gz);
        return;
    }
    if (f.gz) {
        httpconn_head_add(h, "Content-Encoding", "gzip");
        http_cache_body_unref(f.body);
        s_send_body(c, h, 200, f.ctype, f.cache, f.gz);
    } else {
        s_send_body(c, h, 200, f.ctype, f.cache, f.body);
    }
}

/* ---- jobs for the main loop ------------------------------------------------ */

static void s_post_job(http_worker_t *self, httpconn_t *c, const httpreq_t *req,
                       httpconn_head_t *h, enum route_kind kind, const char *id)
{
    if (atomic_load(&self->stopping)) {
        s_send_error(c, h, 503, "shutting down");
        return;
    }
    http_job_t *job = calloc(1, sizeof *job);
    if (!job || (req->query && !(job->query = strdup(req->query)))) {
        free(job);
        s_send_error(c, h, 503, "out of memory");
        return;
    }
    job->kind = kind;
    snprintf(job->id, sizeof job->id, "%s", id ? id : "");
    job->gzip_ok = s_wants_gzip(req);
    job->worker = self;
    /* Answered later: the connection waits (reading nothing more) until
     * httpconn_respond, which drops the answer if the client went. */
    job->conn = c;
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
    httpconn_head_t h;
    httpconn_head_init(&h);
    if (job->vary)
        httpconn_head_add(&h, "Vary", "Accept-Encoding");
    if (job->is_gz)
        httpconn_head_add(&h, "Content-Encoding", "gzip");
    if (!job->body) {
        httpconn_head_init(&h);
        s_send_error(job->conn, &h, 503, "out of memory");
    } else {
        s_send_body(job->conn, &h, job->code, job->ctype, job->cache, job->body);
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
    pthread_setname_np(pthread_self(), "poe-http");   /* top -H, perf sched */
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
static void s_labels(http_worker_t *self, httpconn_t *c, const httpreq_t *req,
                     httpconn_head_t *h)
{
    if (!self->catalog) {
        s_send_error(c, h, 503, "no message catalogs (dashboards not installed or their catalogs unusable)");
        return;
    }
    const char *q = req->query;
    const char *lang = NULL;
    char why[128];
    if (q && *q) {
        for (int i = 0; i < CATALOG_NLANGS && !lang; i++)
            if (strncmp(q, "lang=", 5) == 0 && strcmp(q + 5, catalog_langs[i]) == 0)
                lang = catalog_langs[i];
        if (!lang) {
            s_send_error(c, h, 400, "the labels take only lang=en, lang=es or lang=fr");
            return;
        }
    } else {
        lang = catalog_pick(httpreq_header(req, "Accept-Language"), why, sizeof why);
        if (!lang) {
            s_send_error(c, h, 400, why);
            return;
        }
    }
    httpconn_head_add(h, "Content-Language", lang);
    httpconn_head_add(h, "Vary", "Accept-Language");
    s_send_json(c, h, 200, "public, max-age=3600", catalog_labels_json(self->catalog, lang));
}

/* /v1/stream[?crossing=ID]: the browsers' live stream (collector/sse). */
static void s_stream(http_worker_t *self, httpconn_t *c, const httpreq_t *req,
                     httpconn_head_t *h)
{
    if (!self->sse) {
        s_send_error(c, h, 503, "live stream off: this collector runs without --feed; poll /v1/crossings");
        return;
    }
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(c, h, 503, "starting");
        return;
    }
    const char *q = req->query;
    char id[ROUTE_ID_MAX] = "";
    if (q && *q) {
        if (strncmp(q, "crossing=", 9) != 0 || strlen(q + 9) >= sizeof id || strchr(q + 9, '&')) {
            s_send_error(c, h, 400, "the stream takes only crossing=ID");
            return;
        }
        snprintf(id, sizeof id, "%s", q + 9);
        if (!tax_crossing_id_valid(id) || !http_snap_find(snap, ROUTE_CROSSING, id)) {
            char why[64];
            snprintf(why, sizeof why, "unknown crossing '%s'", id);
            s_send_error(c, h, 404, why);
            return;
        }
    }
    sse_attach(self->sse, c, req, id, snap);
}

static void s_route(http_worker_t *self, httpconn_t *c, const httpreq_t *req,
                    httpconn_head_t *h, enum route_kind kind, const char *id)
{
    if (kind == ROUTE_HEALTH || kind == ROUTE_METRICS) {
        s_ops(self, c, h, kind);
        return;
    }
    if (kind == ROUTE_HISTORY || kind == ROUTE_FORECAST || kind == ROUTE_CBP_GRAPH) {
        s_post_job(self, c, req, h, kind, id);
        return;
    }
    if (kind == ROUTE_DASH_BOARD || kind == ROUTE_DASH_SW || kind == ROUTE_DASH_ASSET) {
        s_static(self, c, req, h,
                 kind == ROUTE_DASH_BOARD ? "index.html"
                 : kind == ROUTE_DASH_SW  ? "sw.js"
                                          : route_asset_path(req->path));
        return;
    }
    if (kind == ROUTE_LABELS) {
        s_labels(self, c, req, h);
        return;
    }
    if (kind == ROUTE_STREAM) {
        s_stream(self, c, req, h);
        return;
    }
    http_snap_t *snap = s_snap(self);
    if (!snap) {
        s_send_error(c, h, 503, "starting");
        return;
    }
    if ((kind == ROUTE_CROSSING || kind == ROUTE_CBP_PORT || kind == ROUTE_DASH_CROSSING ||
         kind == ROUTE_HOURS_ONE) &&
        (!tax_crossing_id_valid(id) || !http_snap_find(snap, ROUTE_CROSSING, id))) {
        char why[64];
        snprintf(why, sizeof why, "unknown crossing '%s'", id);
        s_send_error(c, h, 404, why);
        return;
    }
    if ((kind == ROUTE_HOURS || kind == ROUTE_HOURS_ONE || kind == ROUTE_MISMATCHES) &&
        !self->cfg.has_registry) {
        s_send_error(c, h, 503, "no registry");
        return;
    }
    if (kind == ROUTE_DASH_CROSSING) {
        s_static(self, c, req, h, "crossing.html");
        return;
    }
    http_snap_doc_t *doc = http_snap_find(snap, kind, id);
    if (doc)
        s_serve_doc(c, req, h, doc);
    else
        s_send_error(c, h, 404, "no such path");
}

/* A browser asks before a cross-origin GET that carries a header outside
 * CORS's safe list — If-None-Match, If-Modified-Since, Cache-Control are
 * the ones a feed client sends to revalidate. Answered for every known
 * path, cached by the browser for a day. */
static void s_send_preflight(httpconn_t *c, httpconn_head_t *h)
{
    httpconn_head_add(h, "Allow", HTTP_ALLOW);
    httpconn_head_add(h, "Access-Control-Allow-Origin", "*");
    httpconn_head_add(h, "Access-Control-Allow-Methods", "GET, HEAD");
    httpconn_head_add(h, "Access-Control-Allow-Headers",
                      "If-None-Match, If-Modified-Since, Cache-Control");
    httpconn_head_add(h, "Access-Control-Max-Age", "86400");
    httpconn_head_add(h, "Content-Length", "0");
    httpconn_respond(c, 204, h, NULL);
}

/* The request's limits, in the order a client would fix them; true when
 * one was broken (and answered). */
static bool s_over_limits(httpconn_t *c, const httpreq_t *req, httpconn_head_t *h)
{
    if (req->target_len > ROUTE_MAX_URI || req->error == 414) {
        h->close = req->error != 0;
        s_send_error(c, h, 414, "request URI too long");
    } else if (req->error) {
        h->close = true;   /* the connection cannot read on past it */
        s_send_error(c, h, req->error, req->reason);
    } else if (req->headers_size > HTTP_MAX_HEADERS_SIZE) {
        s_send_error(c, h, 431, "request header fields too large");
    } else if (req->body_len > HTTP_MAX_BODY_SIZE) {
        s_send_error(c, h, 413, "request body too large");
    } else {
        return false;
    }
    return true;
}

static void s_on_request(void *arg, httpconn_t *c, const httpreq_t *req)
{
    http_worker_t *self = arg;
    httpconn_head_t h;
    httpconn_head_init(&h);
    if (self->slots[httpconn_slot(c)].refused) {
        h.close = true;
        httpconn_head_add(&h, "Retry-After", "1");
        s_send_error(c, &h, 503, "too many connections");
        return;
    }
    if (s_over_limits(c, req, &h))
        return;
    char id[ROUTE_ID_MAX];
    enum route_kind kind = route_match(req->path, id, sizeof id);
    if (kind == ROUTE_NONE) {
        s_send_error(c, &h, 404, "no such path");
        return;
    }
    if (req->method == HTTPREQ_OPTIONS) {
        s_send_preflight(c, &h);
        return;
    }
    if (req->method != HTTPREQ_GET && req->method != HTTPREQ_HEAD) {
        httpconn_head_add(&h, "Allow", HTTP_ALLOW);
        s_send_error(c, &h, 405, "method not allowed: use GET or HEAD");
        return;
    }
    s_route(self, c, req, &h, kind, id);
}

/* ---- connections ---------------------------------------------------------- */

static void s_on_close(void *arg, httpconn_t *c)
{
    http_worker_t *self = arg;
    sse_conn_closed(self->sse, c);
    int i = httpconn_slot(c);
    if (self->slots[i].refused)
        self->nrefused--;
    else
        atomic_fetch_sub(self->cfg.nconns, 1);
    self->slots[i] = self->slots[--self->nslots];
    httpconn_set_slot(self->slots[i].conn, i);
}

/* A new connection: counted across every worker against the limit; one
 * over it is still read, to answer its request with a JSON 503 (libevent
 * 2.1's evhttp had no limit of its own; this keeps that answer). */
static void s_admit(http_worker_t *self, int fd)
{
    bool refused = atomic_fetch_add(self->cfg.nconns, 1) >= self->cfg.max_conns;
    if (refused)
        atomic_fetch_sub(self->cfg.nconns, 1);
    if (refused && self->nrefused == HTTP_REFUSE_SLOTS) {
        close(fd);
        return;
    }
    httpconn_t *c = httpconn_new(self->base, fd, &self->conn_cfg);
    if (!c) {
        log_error("http: worker %d: out of memory for a connection", self->index);
        if (!refused)
            atomic_fetch_sub(self->cfg.nconns, 1);
        return;
    }
    httpconn_set_slot(c, self->nslots);
    self->slots[self->nslots++] = (s_slot_t){ c, refused };
    self->nrefused += refused;
}

static void s_on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_worker_t *self = arg;
    event_add(self->ev_accept, NULL);
}

static void s_on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    http_worker_t *self = arg;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            self->accept_logged = false;
            return;
        }
        if (fd < 0) {
            if (!self->accept_logged)
                log_warn("http: worker %d: accept: %s (pausing %d ms)", self->index,
                         strerror(errno), HTTP_ACCEPT_PAUSE_MS);
            self->accept_logged = true;
            struct timeval tv = { 0, HTTP_ACCEPT_PAUSE_MS * 1000 };
            event_del(self->ev_accept);
            event_add(self->ev_resume, &tv);
            return;
        }
        if (self->nslots == self->cfg.max_conns + HTTP_REFUSE_SLOTS) {
            close(fd);   /* cannot even be told: the worker's table is full */
            continue;
        }
        s_admit(self, fd);
    }
}

/* ---- the worker ----------------------------------------------------------- */

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
    self->listen_fd = -1;
    pthread_mutex_init(&self->mu, NULL);
    atomic_init(&self->inbox, NULL);
    atomic_init(&self->stopping, false);
    struct timeval io = { HTTP_TIMEOUT_S, 0 };
    size_t nslots = (size_t)(cfg->max_conns > 0 ? cfg->max_conns : 1) + HTTP_REFUSE_SLOTS;
    if (!(self->slots = calloc(nslots, sizeof *self->slots)) ||
        !(self->rbuf = malloc(HTTP_READ_BUF)) || !(self->base = event_base_new()) ||
        (self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        !(self->ev_wake = event_new(self->base, self->wake_fd, EV_READ | EV_PERSIST, s_on_wake,
                                    self)) ||
        event_add(self->ev_wake, NULL) != 0 || (self->listen_fd = dup(cfg->listen_fd)) < 0 ||
        !(self->ev_accept = event_new(self->base, self->listen_fd, EV_READ | EV_PERSIST,
                                      s_on_accept, self)) ||
        !(self->ev_resume = event_new(self->base, -1, 0, s_on_resume, self)) ||
        event_add(self->ev_accept, NULL) != 0) {
        log_error("http: worker %d: cannot set up: %s", index, strerror(errno));
        http_worker_destroy(&self);
        return NULL;
    }
    /* Every connection shares one timeout: libevent keeps such timeouts
     * in a queue (O(1) to restart) instead of its heap. */
    const struct timeval *tv = event_base_init_common_timeout(self->base, &io);
    self->conn_cfg = (httpconn_cfg_t){ .on_request = s_on_request, .on_close = s_on_close,
                                       .arg = self, .read_timeout = tv, .write_timeout = tv,
                                       .rbuf = self->rbuf, .rbuf_len = HTTP_READ_BUF };
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
    /* The thread is gone: what it was asked is answered from here (every
     * job came back: http.c answers those it still held), then every
     * connection is closed. */
    s_send_answered(self);
    for (int i = 0; i < self->nslots; i++) {
        if (!self->slots[i].refused)
            atomic_fetch_sub(self->cfg.nconns, 1);
        httpconn_destroy(&self->slots[i].conn);
    }
    self->nslots = 0;
    sse_destroy(&self->sse);   /* its streams' connections are gone */
    if (self->ev_accept)
        event_free(self->ev_accept);
    if (self->ev_resume)
        event_free(self->ev_resume);
    if (self->listen_fd >= 0)
        close(self->listen_fd);
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
    free(self->slots);
    free(self->rbuf);
    free(self);
    *self_p = NULL;
}
