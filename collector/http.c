/* http — see http.h. Owns the HTTP side of the API: listening, limits,
 * method and path dispatch, status codes and headers (type, CORS, caching,
 * ETag/Last-Modified, gzip). What goes in a body belongs to feed.c,
 * feed_hours.c, view_cbp.c and view_cbsa.c; what a request may ask belongs
 * to route.c; shared bodies and gzip to http_cache.c.
 *
 * Every feed is rendered at most once per state version and second and
 * served from that cached body by reference (no copy per response); its
 * gzip form is made once per rendered body, on the first request that
 * accepts it. */
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
#include "metrics.h"
#include "feed_hours.h"
#include "http_cache.h"
#include "log.h"
#include "route.h"
#include "static.h"
#include "timeutil.h"
#include "view_cbp.h"
#include "view_cbsa.h"

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
/* Connections served at once; more get a JSON 503 and are closed. */
#define HTTP_MAX_CONNECTIONS 512

#define CT_JSON "application/json; charset=utf-8"
#define CT_XML "text/xml; charset=ISO-8859-1"
#define CT_CSV "text/csv; charset=utf-8"
/* Live views change with every batch (agents send every 5 s). */
#define CACHE_LIVE "public, max-age=5"
#define CACHE_HISTORY "public, max-age=60"
/* Observed hours are relearned every few minutes. */
#define CACHE_HOURS "public, max-age=300"
#define CACHE_NONE "no-store"

/* Cached views, one slot each. */
enum { SLOT_CROSSINGS, SLOT_CBP_XML, SLOT_CBP_JSON, SLOT_CBSA_CSV, SLOT_CBSA_JSON, SLOT_HOURS,
       SLOT_MISMATCHES, SLOT_COUNT };

struct http_server {
    struct evhttp *http;
    http_ctx_t ctx;
    http_cache_slot_t slots[SLOT_COUNT];
    int64_t started_s;
    struct evhttp_connection *conns[HTTP_MAX_CONNECTIONS];
    int nconns;
    bool archive_failing;   /* so a dead rrdcached is logged once, not per request */
    static_dir_t *dash;     /* the dashboards' files; NULL when not installed */
};

/* What one request for a view needs to know. */
typedef struct {
    enum route_kind kind;
    const char *id;          /* crossing for per-crossing views */
    const char *ctype, *cache;
    int slot;                /* -1: rendered per request */
    uint64_t version;
    int64_t second;          /* Last-Modified */
} s_view_t;

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
    s_send_body(req, code, CT_JSON, cache, body);
}

static void s_send_error(struct evhttp_request *req, int code, const char *reason)
{
    s_send_json(req, code, CACHE_NONE, feed_error_json(code, reason));
}

/* ---- conditional GET ------------------------------------------------------ */

/* Adds ETag and Last-Modified; answers 304 and returns true when the client
 * already has this representation. If-None-Match wins over
 * If-Modified-Since (RFC 9110 13.2.2). */
static bool s_not_modified(struct evhttp_request *req, const s_view_t *v)
{
    char etag[64], date[40];
    route_etag(v->version, v->second, etag, sizeof etag);
    route_http_date(v->second, date, sizeof date);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "ETag", etag);
    evhttp_add_header(out, "Last-Modified", date);
    evhttp_add_header(out, "Vary", "Accept-Encoding");
    const char *inm = evhttp_find_header(in, "If-None-Match");
    const char *ims = evhttp_find_header(in, "If-Modified-Since");
    int64_t since;
    bool fresh = inm ? route_etag_matches(inm, etag)
                     : ims && route_parse_http_date(ims, &since) == 0 && v->second <= since;
    if (!fresh)
        return false;
    s_common_headers(req, NULL, v->cache);
    evhttp_send_reply(req, 304, s_reason(304), NULL);
    return true;
}

/* ---- rendering ------------------------------------------------------------ */

/* A malloc'ed body for the view at now_ms, its length in *len. */
static char *s_render(http_server_t *self, const s_view_t *v, int64_t now_ms, size_t *len)
{
    state_t *st = self->ctx.state;
    int64_t stale = self->ctx.stale_after_ms;
    char *out = NULL;
    switch (v->kind) {
    case ROUTE_CROSSINGS: out = feed_crossings_json(st, now_ms, stale, NULL); break;
    case ROUTE_CROSSING: out = feed_crossings_json(st, now_ms, stale, v->id); break;
    case ROUTE_CBP_XML: return view_cbp_xml(st, now_ms, stale, len);
    case ROUTE_CBP_BWTNEW:
    case ROUTE_CBP_WAITTIMES: out = view_cbp_json(st, now_ms, stale, NULL); break;
    case ROUTE_CBP_PORT: out = view_cbp_json(st, now_ms, stale, v->id); break;
    case ROUTE_CBSA_CSV: out = view_cbsa_csv(st, now_ms, stale); break;
    case ROUTE_CBSA_JSON: out = view_cbsa_json(st, now_ms, stale); break;
    case ROUTE_HOURS: out = feed_hours_json(self->ctx.registry, self->ctx.observed, now_ms / 1000, NULL); break;
    case ROUTE_HOURS_ONE: out = feed_hours_json(self->ctx.registry, self->ctx.observed, now_ms / 1000, v->id); break;
    case ROUTE_MISMATCHES: out = feed_mismatches_json(self->ctx.registry, self->ctx.observed, now_ms / 1000); break;
    default: break;
    }
    if (out)
        *len = strlen(out);
    return out;
}

/* The body to send (one reference), gzip'ed when asked and worth it. */
static http_cache_body_t *s_view_body(http_server_t *self, const s_view_t *v, int64_t now_ms, bool gz,
                                bool *is_gz)
{
    http_cache_slot_t tmp = { 0 };
    http_cache_slot_t *slot = v->slot >= 0 ? &self->slots[v->slot] : &tmp;
    if (!http_cache_slot_fresh(slot, v->version, v->second)) {
        size_t len = 0;
        char *data = s_render(self, v, now_ms, &len);
        http_cache_body_t *b = http_cache_body_new(data, len);
        if (!b)
            return NULL;
        http_cache_slot_set(slot, b, v->version, v->second);
    }
    http_cache_body_t *b = gz ? http_cache_slot_gz(slot) : NULL;
    *is_gz = b != NULL;
    if (!b) {
        b = slot->plain;
        http_cache_body_ref(b);
    }
    http_cache_slot_clear(&tmp);
    return b;
}

static void s_serve_view(http_server_t *self, struct evhttp_request *req, s_view_t *v, int64_t now_ms)
{
    if (s_not_modified(req, v))
        return;
    const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
    bool gz = route_accepts_gzip(ae);
    bool is_gz = false;
    http_cache_body_t *body = s_view_body(self, v, now_ms, gz, &is_gz);
    if (!body) {
        log_error("http: out of memory rendering %s", evhttp_request_get_uri(req));
        s_send_error(req, 503, "out of memory");
        return;
    }
    if (is_gz)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
    s_send_body(req, 200, v->ctype, v->cache, body);
}

/* ---- routes ------------------------------------------------------------- */

static void s_health(http_server_t *self, struct evhttp_request *req)
{
    bool up = self->ctx.archive && arch_connected(self->ctx.archive);
    s_send_json(req, 200, CACHE_NONE,
                feed_health_json(self->ctx.stats, up, self->ctx.sessions, tu_now_ms()));
}

static bool s_known_crossing(const http_server_t *self, const char *id)
{
    if (!tax_crossing_id_valid(id))
        return false;
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

/* History bodies are made per request (any range), so is their gzip form:
 * a week of minute rows is ~300 KB of JSON that gzip makes 2.5-3x smaller
 * (measured: 4,302 -> 1,732 bytes for two hours in test_http), and planners
 * fetch weeks. Small bodies go as they are. */
#define HISTORY_GZIP_MIN 1024

static void s_send_history(struct evhttp_request *req, char *json)
{
    http_cache_body_t *body = json ? http_cache_body_new(json, strlen(json)) : NULL;
    if (!body) {
        s_send_error(req, 503, "out of memory");
        return;
    }
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Vary", "Accept-Encoding");
    const char *ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
    if (body->len >= HISTORY_GZIP_MIN && route_accepts_gzip(ae)) {
        http_cache_body_t *gz = http_cache_body_gzip(body);
        if (gz) { /* out of memory: the identity body is still right */
            http_cache_body_unref(body);
            body = gz;
            evhttp_add_header(out, "Content-Encoding", "gzip");
        }
    }
    s_send_body(req, 200, CT_JSON, CACHE_HISTORY, body);
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
    s_send_history(req, json);
}

/* Fills v for a view route; false when kind is not a view. */
static bool s_view_for(http_server_t *self, enum route_kind kind, const char *id, int64_t now_ms,
                       s_view_t *v)
{
    *v = (s_view_t){ .kind = kind, .id = id, .ctype = CT_JSON, .cache = CACHE_LIVE, .slot = -1,
                     .version = state_version(self->ctx.state), .second = now_ms / 1000 };
    switch (kind) {
    case ROUTE_CROSSINGS: v->slot = SLOT_CROSSINGS; break;
    case ROUTE_CROSSING: case ROUTE_CBP_PORT: break;
    case ROUTE_CBP_XML: v->slot = SLOT_CBP_XML; v->ctype = CT_XML; break;
    case ROUTE_CBP_BWTNEW: case ROUTE_CBP_WAITTIMES: v->slot = SLOT_CBP_JSON; break;
    case ROUTE_CBSA_CSV: v->slot = SLOT_CBSA_CSV; v->ctype = CT_CSV; break;
    case ROUTE_CBSA_JSON: v->slot = SLOT_CBSA_JSON; break;
    case ROUTE_HOURS:
    case ROUTE_HOURS_ONE: {
        /* The registry never changes while running; the observed hours
         * change when relearned. */
        uint64_t ov = self->ctx.observed ? observed_version(self->ctx.observed) : 0;
        int64_t os = self->ctx.observed ? observed_changed_s(self->ctx.observed) : 0;
        *v = (s_view_t){ .kind = kind, .id = id, .ctype = CT_JSON, .cache = CACHE_HOURS,
                         .slot = kind == ROUTE_HOURS ? SLOT_HOURS : -1, .version = ov,
                         .second = os > self->started_s ? os : self->started_s };
        break;
    }
    case ROUTE_MISMATCHES:
        /* Windows are per week: re-rendered once an hour at most, or when
         * the observed hours change. */
        *v = (s_view_t){ .kind = kind, .ctype = CT_JSON, .cache = CACHE_HOURS,
                         .slot = SLOT_MISMATCHES,
                         .version = 1 + (self->ctx.observed ? observed_version(self->ctx.observed) : 0),
                         .second = now_ms / 1000 / 3600 * 3600 };
        break;
    default: return false;
    }
    return true;
}

/* The dashboards' pages: no inline script or style, nothing from other
 * origins (the pages ship every script they run). */
#define CSP_PAGES "default-src 'self'; img-src 'self' data:; object-src 'none'; " \
                  "base-uri 'none'; frame-ancestors 'none'"

/* One file of the dashboards (collector/static.c), with its ETag,
 * Last-Modified, gzip and conditional GET. */
static void s_static(http_server_t *self, struct evhttp_request *req, const char *rel)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    static_file_t f;
    bool gz = route_accepts_gzip(evhttp_find_header(in, "Accept-Encoding"));
    int rc = self->dash ? static_get(self->dash, rel, gz, &f) : -1;
    if (rc == -2) {
        s_send_error(req, 503, "out of memory");
        return;
    }
    if (rc != 0) {
        s_send_error(req, 404, self->dash ? "no such file"
                                          : "no such path (dashboards not installed: see --dashboards)");
        return;
    }
    char date[40];
    route_http_date(f.mtime_s, date, sizeof date);
    evhttp_add_header(out, "ETag", f.etag);
    evhttp_add_header(out, "Last-Modified", date);
    evhttp_add_header(out, "Vary", "Accept-Encoding");
    if (strncmp(f.ctype, "text/html", 9) == 0)
        evhttp_add_header(out, "Content-Security-Policy", CSP_PAGES);
    const char *inm = evhttp_find_header(in, "If-None-Match");
    const char *ims = evhttp_find_header(in, "If-Modified-Since");
    int64_t since;
    if (inm ? route_etag_matches(inm, f.etag)
            : ims && route_parse_http_date(ims, &since) == 0 && f.mtime_s <= since) {
        http_cache_body_unref(f.body);
        http_cache_body_unref(f.gz);
        s_common_headers(req, NULL, f.cache);
        evhttp_send_reply(req, 304, s_reason(304), NULL);
        return;
    }
    if (f.gz) {
        evhttp_add_header(out, "Content-Encoding", "gzip");
        http_cache_body_unref(f.body);
        s_send_body(req, 200, f.ctype, f.cache, f.gz);
    } else {
        s_send_body(req, 200, f.ctype, f.cache, f.body);
    }
}

/* Counters for operators, in Prometheus text format (collector/metrics.c). */
static void s_metrics(http_server_t *self, struct evhttp_request *req)
{
    bool up = self->ctx.archive && arch_connected(self->ctx.archive);
    char *text = metrics_render(self->ctx.stats, self->ctx.sessions, up, tu_now_ms());
    http_cache_body_t *body = text ? http_cache_body_new(text, strlen(text)) : NULL;
    if (!body) {
        s_send_error(req, 503, "out of memory rendering /metrics");
        return;
    }
    s_send_body(req, 200, "text/plain; version=0.0.4; charset=utf-8", CACHE_NONE, body);
}

static void s_route(http_server_t *self, struct evhttp_request *req, enum route_kind kind,
                    const char *id)
{
    int64_t now_ms = tu_now_ms();
    s_view_t v;
    if (kind == ROUTE_HEALTH) {
        s_health(self, req);
    } else if (kind == ROUTE_METRICS) {
        s_metrics(self, req);
    } else if (kind == ROUTE_HISTORY) {
        s_history(self, req);
    } else if (kind == ROUTE_DASH_BOARD) {
        s_static(self, req, "index.html");
    } else if (kind == ROUTE_DASH_ASSET) {
        s_static(self, req, route_asset_path(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req))));
    } else if ((kind == ROUTE_CROSSING || kind == ROUTE_CBP_PORT || kind == ROUTE_DASH_CROSSING ||
                kind == ROUTE_HOURS_ONE) &&
               !s_known_crossing(self, id)) {
        char why[64];
        snprintf(why, sizeof why, "unknown crossing '%s'", id);
        s_send_error(req, 404, why);
    } else if ((kind == ROUTE_HOURS || kind == ROUTE_HOURS_ONE || kind == ROUTE_MISMATCHES) &&
               !self->ctx.registry) {
        s_send_error(req, 503, "no registry");
    } else if (kind == ROUTE_DASH_CROSSING) {
        s_static(self, req, "crossing.html");
    } else if (s_view_for(self, kind, id, now_ms, &v)) {
        s_serve_view(self, req, &v, now_ms);
    } else {
        s_send_error(req, 404, "no such path");
    }
}

/* ---- connections ---------------------------------------------------------- */

static void s_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    http_server_t *self = arg;
    for (int i = 0; i < self->nconns; i++) {
        if (self->conns[i] == evcon) {
            self->conns[i] = self->conns[--self->nconns];
            return;
        }
    }
}

/* libevent 2.1 has no connection limit of its own: connections are counted
 * at their first request (close callback to forget them) and one over the
 * limit gets a JSON 503 and is closed. Idle ones are dropped by the
 * timeout. Returns false when the request was refused. */
static bool s_conn_admit(http_server_t *self, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return true;
    for (int i = 0; i < self->nconns; i++)
        if (self->conns[i] == evcon)
            return true;
    if (self->nconns == HTTP_MAX_CONNECTIONS) {
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
    http_server_t *self = arg;
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
    evhttp_set_max_headers_size(self->http, HTTP_HARD_HEADERS_SIZE);
    evhttp_set_max_body_size(self->http, HTTP_HARD_BODY_SIZE);
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
    self->started_s = tu_now_ms() / 1000;
    if (ctx->dashboards && (self->dash = static_new(ctx->dashboards)))
        log_info("http: dashboards from %s", static_root(self->dash));
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
    /* Frees connections and responses in flight first: they release their
     * body references and call s_conn_closed, which still needs self. */
    evhttp_free(self->http);
    for (int i = 0; i < SLOT_COUNT; i++)
        http_cache_slot_clear(&self->slots[i]);
    static_destroy(&self->dash);
    free(self);
    *self_p = NULL;
}
