/* http — see http.h. Owns the HTTP side of the API: listening, method and
 * path dispatch, status codes, headers (type, CORS, caching, ETag) and the
 * per-second cache of the /v1/crossings body. What goes in a body belongs
 * to feed.c; what a request may ask belongs to route.c.
 *
 * Bodies are handed to libevent by reference, never copied: the cached
 * /v1/crossings body is refcounted so a response still being written keeps
 * its body alive after the cache has moved on to a newer one. */
#include "http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "feed.h"
#include "log.h"
#include "route.h"
#include "timeutil.h"

#define HTTP_MAX_HEADERS_SIZE 8192
/* Nothing we serve takes a body; a small one is read and answered with a
 * JSON 405 rather than libevent's own HTML 413. */
#define HTTP_MAX_BODY_SIZE 1024
#define HTTP_TIMEOUT_S 30

#define HTTP_CONTENT_TYPE "application/json; charset=utf-8"
#define HTTP_CACHE_CROSSINGS "public, max-age=5"
#define HTTP_CACHE_HISTORY "public, max-age=60"
#define HTTP_CACHE_NONE "no-store"

/* A rendered body shared between the cache and responses in flight. */
typedef struct {
    unsigned refs;
    size_t len;
    char *data;     /* from feed_* (malloc) */
} s_body_t;

struct http_server {
    struct evhttp *http;
    http_ctx_t ctx;
    s_body_t *all;          /* cached /v1/crossings, or NULL */
    uint64_t all_version;
    int64_t all_second;
    bool archive_failing;   /* so a dead rrdcached is logged once, not per request */
};

/* ---- bodies ------------------------------------------------------------- */

static s_body_t *s_body_new(char *data)
{
    s_body_t *b = malloc(sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    b->refs = 1;
    b->len = strlen(data);
    b->data = data;
    return b;
}

static void s_body_unref(s_body_t *b)
{
    if (b && --b->refs == 0) {
        free(b->data);
        free(b);
    }
}

/* evbuffer cleanup: the response that referenced the body is done. */
static void s_body_release_cb(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    s_body_unref(arg);
}

/* ---- responses ---------------------------------------------------------- */

static const char *s_reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void s_common_headers(struct evhttp_request *req, const char *cache_control)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", HTTP_CONTENT_TYPE);
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Cache-Control", cache_control);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

/* Send body (taking one reference of it). HEAD gets the headers a GET
 * would, Content-Length included, and no body. */
static void s_send_body(struct evhttp_request *req, int code, const char *cache_control,
                        s_body_t *body)
{
    s_common_headers(req, cache_control);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[32];
        snprintf(len, sizeof len, "%zu", body->len);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
        s_body_unref(body);
        evhttp_send_reply(req, code, s_reason(code), NULL);
        return;
    }
    struct evbuffer *buf = evhttp_request_get_output_buffer(req);
    if (evbuffer_add_reference(buf, body->data, body->len, s_body_release_cb, body) != 0) {
        s_body_unref(body);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, code, s_reason(code), NULL);
}

/* Send a freshly rendered body; NULL (out of memory) becomes a 503. */
static void s_send_json(struct evhttp_request *req, int code, const char *cache_control,
                        char *json)
{
    s_body_t *body = json ? s_body_new(json) : NULL;
    if (!body) {
        log_error("http: out of memory rendering %s", evhttp_request_get_uri(req));
        evhttp_send_error(req, 503, NULL);
        return;
    }
    s_send_body(req, code, cache_control, body);
}

static void s_send_error(struct evhttp_request *req, int code, const char *reason)
{
    s_send_json(req, code, HTTP_CACHE_NONE, feed_error_json(code, reason));
}

static void s_send_not_modified(struct evhttp_request *req, const char *etag)
{
    s_common_headers(req, HTTP_CACHE_CROSSINGS);
    evhttp_add_header(evhttp_request_get_output_headers(req), "ETag", etag);
    evhttp_send_reply(req, 304, s_reason(304), NULL);
}

/* ---- routes ------------------------------------------------------------- */

static void s_health(http_server_t *self, struct evhttp_request *req)
{
    bool up = self->ctx.archive && arch_connected(self->ctx.archive);
    s_send_json(req, 200, HTTP_CACHE_NONE,
                feed_health_json(self->ctx.stats, up, self->ctx.sessions, tu_now_ms()));
}

/* The cached body of all crossings for this state version and second,
 * rendered when either moved on. Returns a new reference, NULL when out of
 * memory. */
static s_body_t *s_crossings_body(http_server_t *self, uint64_t version, int64_t now_ms)
{
    int64_t second = now_ms / 1000;
    if (!self->all || self->all_version != version || self->all_second != second) {
        char *json = feed_crossings_json(self->ctx.state, now_ms, self->ctx.stale_after_ms, NULL);
        s_body_t *b = json ? s_body_new(json) : NULL;
        if (!b)
            return NULL;
        s_body_unref(self->all);
        self->all = b;
        self->all_version = version;
        self->all_second = second;
    }
    self->all->refs++;
    return self->all;
}

/* Answers 304 and returns true when the client already has this version
 * and second; otherwise adds the ETag header for the 200 to come. */
static bool s_not_modified(struct evhttp_request *req, uint64_t version, int64_t now_ms)
{
    char etag[48];
    route_etag(version, now_ms / 1000, etag, sizeof etag);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    if (route_etag_matches(inm, etag)) {
        s_send_not_modified(req, etag);
        return true;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "ETag", etag);
    return false;
}

static void s_crossings(http_server_t *self, struct evhttp_request *req)
{
    int64_t now_ms = tu_now_ms();
    uint64_t version = state_version(self->ctx.state);
    if (s_not_modified(req, version, now_ms))
        return;
    s_body_t *body = s_crossings_body(self, version, now_ms);
    if (!body) {
        log_error("http: out of memory rendering /v1/crossings");
        evhttp_send_error(req, 503, NULL);
        return;
    }
    s_send_body(req, 200, HTTP_CACHE_CROSSINGS, body);
}

static void s_crossing(http_server_t *self, struct evhttp_request *req, const char *id)
{
    if (!tax_crossing_id_valid(id) || !state_find(self->ctx.state, id)) {
        char why[64];
        snprintf(why, sizeof why, "unknown crossing '%s'", id);
        s_send_error(req, 404, why);
        return;
    }
    int64_t now_ms = tu_now_ms();
    uint64_t version = state_version(self->ctx.state);
    if (s_not_modified(req, version, now_ms))
        return;
    s_send_json(req, 200, HTTP_CACHE_CROSSINGS,
                feed_crossings_json(self->ctx.state, now_ms, self->ctx.stale_after_ms, id));
}

static bool s_known_crossing(const http_server_t *self, const char *id)
{
    if (self->ctx.registry)
        return reg_find(self->ctx.registry, id) != NULL;
    return state_find(self->ctx.state, id) != NULL;
}

/* Log the archive going away and coming back, not every failed request. */
static void s_note_archive(http_server_t *self, bool ok, const char *why)
{
    if (!ok && !self->archive_failing)
        log_warn("http: history unavailable: %s", why);
    else if (ok && self->archive_failing)
        log_info("http: history available again");
    self->archive_failing = !ok;
}

static void s_history(http_server_t *self, struct evhttp_request *req)
{
    route_history_t q;
    char why[256];
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (route_parse_history(query, tu_now_ms() / 1000, &q, why, sizeof why) != 0) {
        s_send_error(req, 400, why);
        return;
    }
    if (!s_known_crossing(self, q.crossing)) {
        snprintf(why, sizeof why, "unknown crossing '%s'", q.crossing);
        s_send_error(req, 404, why);
        return;
    }
    if (!self->ctx.archive) {
        s_send_error(req, 503, "history archive not configured");
        return;
    }
    arch_series_t s = { .start = q.from, .end = q.to, .step = q.step };
    why[0] = '\0';
    int rc = arch_fetch_queue(self->ctx.archive, q.crossing, q.dir, q.mode, q.type, q.from,
                              q.to, q.step, &s, why, sizeof why);
    s_note_archive(self, rc >= 0, why);
    if (rc < 0) {
        s_send_error(req, 503, "history archive unavailable");
        return;
    }
    if (rc == 1) /* nothing archived for this queue yet: an empty series */
        s = (arch_series_t){ .start = q.from, .end = q.to, .step = q.step };
    char *json = feed_history_json(&s);
    if (rc == 0)
        arch_series_free(&s);
    s_send_json(req, 200, HTTP_CACHE_HISTORY, json);
}

static bool s_method_allowed(struct evhttp_request *req)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
}

static void s_dispatch(struct evhttp_request *req, void *arg)
{
    http_server_t *self = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char id[ROUTE_ID_MAX];
    enum route_kind kind = route_match(uri ? evhttp_uri_get_path(uri) : NULL, id, sizeof id);
    if (kind == ROUTE_NONE) {
        s_send_error(req, 404, "no such path");
        return;
    }
    if (!s_method_allowed(req)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        s_send_error(req, 405, "method not allowed: use GET or HEAD");
        return;
    }
    switch (kind) {
    case ROUTE_HEALTH: s_health(self, req); break;
    case ROUTE_CROSSINGS: s_crossings(self, req); break;
    case ROUTE_CROSSING: s_crossing(self, req, id); break;
    case ROUTE_HISTORY: s_history(self, req); break;
    case ROUTE_NONE: break;
    }
}

/* ---- server ------------------------------------------------------------- */

/* Accepted sockets inherit TCP_NODELAY from the listening one on Linux;
 * without it a 50 KB body waits ~40 ms on Nagle and delayed ACK. */
static void s_set_nodelay(struct evhttp_bound_socket *bound)
{
    int one = 1;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(bound);
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("http: TCP_NODELAY not set (%s): large responses will be slow",
                 strerror(errno));
}

static void s_configure(http_server_t *self)
{
    evhttp_set_max_headers_size(self->http, HTTP_MAX_HEADERS_SIZE);
    evhttp_set_max_body_size(self->http, HTTP_MAX_BODY_SIZE);
    evhttp_set_timeout(self->http, HTTP_TIMEOUT_S);
    /* Every method reaches s_dispatch, so the 405 carries Allow and JSON. */
    evhttp_set_allowed_methods(self->http,
                               EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(self->http, s_dispatch, self);
}

http_server_t *http_new(struct event_base *base, const char *addr_port, const http_ctx_t *ctx)
{
    char addr[INET_ADDRSTRLEN];
    uint16_t port;
    if (route_parse_listen(addr_port, addr, sizeof addr, &port) != 0) {
        log_error("http: bad listen address '%s' (want A.B.C.D:PORT)",
                  addr_port ? addr_port : "");
        return NULL;
    }
    http_server_t *self = calloc(1, sizeof *self);
    if (!self || !(self->http = evhttp_new(base))) {
        log_error("http: out of memory");
        free(self);
        return NULL;
    }
    self->ctx = *ctx;
    s_configure(self);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(self->http, addr, port);
    if (!bound) {
        log_error("http: cannot listen on %s: %s", addr_port, strerror(errno));
        http_destroy(&self);
        return NULL;
    }
    s_set_nodelay(bound);
    log_info("http: listening on %s", addr_port);
    return self;
}

void http_destroy(http_server_t **self_p)
{
    http_server_t *self = *self_p;
    if (!self)
        return;
    /* Frees responses in flight first: they release their body references. */
    evhttp_free(self->http);
    s_body_unref(self->all);
    free(self);
    *self_p = NULL;
}
