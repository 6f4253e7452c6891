/* sse — see sse.h. A client is a connection holding its answer open
 * (httpconn_stream), fed with pieces (httpconn frames them: chunked for
 * HTTP/1.1, plain for 1.0, whose body runs to the close). Each client has its own
 * cursor (the last sequence number it was sent or skipped): bringing it up
 * to date is one read of the shared ring after its cursor, so a fresh
 * stream, a resumed one and a live one take the same path. */
#include "sse.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"
#include "vec.h"

typedef struct {
    httpconn_t *conn;
    char crossing[8];       /* "" = every crossing */
    uint64_t after;         /* sent (or skipped) everything up to this seq */
    bool need_snapshot;     /* its next frame must be a snapshot */
    bool drop;
} s_client_t;

struct sse {
    struct event_base *base;
    sse_ring_t *ring;
    void *reader;           /* the wake argument it registered with */
    s_client_t *clients;
    size_t nclients, cap;
    sse_event_t **buf;      /* SSE_RING: references read from the ring */
    struct event *hb;
};

int sse_parse_id(const char *s, uint64_t *seq)
{
    if (!s || !*s || strlen(s) > 19)
        return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *seq = v;
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

static void s_body_release_cb(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    http_cache_body_unref(arg);
}

/* Send b as one piece (b is emptied), written at once as far as the
 * socket takes it. A client whose unread output passed SSE_MAX_BACKLOG is
 * marked to be dropped. */
static void s_flush(s_client_t *c, struct evbuffer *b)
{
    if (httpconn_stream_send(c->conn, b) != 0)
        c->drop = true;
    if (httpconn_backlog(c->conn) > SSE_MAX_BACKLOG)
        c->drop = true;   /* it stopped reading: it will reconnect and resume */
}

/* Add event e to b: a copy, as small frames (a few hundred bytes) cost
 * less copied into the buffer's free space than as a chain of their own
 * each (a reference, plus a new chain for what follows it). -1 when out
 * of memory. */
static int s_add_event(struct evbuffer *b, const sse_event_t *e)
{
    return evbuffer_add(b, e->frame, e->len);
}

/* The snapshot frame of snap for c into b: its id is the feed sequence the
 * snapshot was rendered at; the body goes by reference. -1 when snap has
 * no body for it or memory ran out. */
static int s_add_snapshot(struct evbuffer *b, const s_client_t *c, http_snap_t *snap)
{
    http_snap_doc_t *doc = c->crossing[0] ? http_snap_find(snap, ROUTE_CROSSING, c->crossing)
                                          : http_snap_find(snap, ROUTE_CROSSINGS, NULL);
    if (!doc || !doc->plain)
        return -1;
    if (evbuffer_add_printf(b, "id: %" PRIu64 "\nevent: snapshot\ndata: ",
                            http_snap_feed_seq(snap)) < 0)
        return -1;
    /* a piece at a time: a crossing's document is in parts */
    struct iovec iov[1 + HTTP_CACHE_PARTS_MAX];
    size_t n = http_cache_body_iov(doc->plain, 0, iov, sizeof iov / sizeof iov[0]);
    for (size_t i = 0; i < n; i++) {
        http_cache_body_ref(doc->plain);
        if (evbuffer_add_reference(b, iov[i].iov_base, iov[i].iov_len, s_body_release_cb,
                                   doc->plain) != 0) {
            http_cache_body_unref(doc->plain);
            return -1;
        }
    }
    return evbuffer_add(b, "\n\n", 2);
}

/* Bring c up to date: the ring's events after its cursor (those of its
 * crossing), or — when it needs one or fell behind the ring — a snapshot
 * and the events after it. A client whose snapshot cannot be had yet (none
 * published, or older than the ring reaches) waits for the next pump. */
static void s_sync(sse_t *self, s_client_t *c, http_snap_t *snap)
{
    uint64_t newest = 0;
    int n = -1;
    if (!c->need_snapshot && (n = sse_ring_read(self->ring, c->after, self->buf, &newest)) < 0)
        c->need_snapshot = true;
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        c->drop = true;
        goto out;
    }
    if (c->need_snapshot) {
        if (!snap || (n = sse_ring_read(self->ring, http_snap_feed_seq(snap), self->buf,
                                        &newest)) < 0)
            goto out;   /* the next snapshot will do */
        if (s_add_snapshot(b, c, snap) != 0) {
            c->drop = true;
            goto out;
        }
        c->need_snapshot = false;
    }
    for (int i = 0; i < n; i++)
        if ((!c->crossing[0] || strcmp(c->crossing, self->buf[i]->crossing) == 0) &&
            s_add_event(b, self->buf[i]) != 0)
            c->drop = true;
    if (!c->drop) {
        c->after = newest;
        s_flush(c, b);
    }
out:
    for (int i = 0; i < n; i++)
        sse_event_unref(self->buf[i]);
    if (b)
        evbuffer_free(b);
}

/* Forget client i (the ring's count with it). */
static void s_remove(sse_t *self, size_t i)
{
    self->clients[i] = self->clients[--self->nclients];
    sse_ring_leave(self->ring);
}

/* Close the connections of clients marked drop (on the next loop turn);
 * their close callbacks find them already forgotten. */
static void s_reap(sse_t *self)
{
    for (size_t i = 0; i < self->nclients;) {
        if (self->clients[i].drop) {
            httpconn_t *conn = self->clients[i].conn;
            s_remove(self, i);
            sse_ring_count(self->ring, SSE_DROPPED_SLOW);
            log_warn("sse: dropping a stream that stopped reading (or out of memory)");
            httpconn_close(conn);
        } else {
            i++;
        }
    }
}

void sse_pump(sse_t *self, http_snap_t *snap)
{
    for (size_t i = 0; i < self->nclients; i++)
        s_sync(self, &self->clients[i], snap);
    s_reap(self);
}

static void s_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sse_t *self = arg;
    for (size_t i = 0; i < self->nclients; i++) {
        s_client_t *c = &self->clients[i];
        struct evbuffer *b = evbuffer_new();
        if (!b || evbuffer_add_printf(b, ": hb %" PRIu64 "\n\n", c->after) < 0)
            c->drop = true;
        else
            s_flush(c, b);
        if (b)
            evbuffer_free(b);
    }
    s_reap(self);
}

/* ---- streams ------------------------------------------------------------------ */

sse_t *sse_new(struct event_base *base, sse_ring_t *ring, void (*wake)(void *arg), void *arg)
{
    sse_t *self = calloc(1, sizeof *self);
    if (self) {
        self->base = base;
        self->ring = ring;
        self->buf = calloc(SSE_RING, sizeof *self->buf);
        self->hb = event_new(base, -1, EV_PERSIST, s_on_heartbeat, self);
    }
    struct timeval tv = { SSE_HEARTBEAT_MS / 1000, (SSE_HEARTBEAT_MS % 1000) * 1000 };
    if (!self || !self->buf || !self->hb || event_add(self->hb, &tv) != 0) {
        log_error("sse: out of memory");
        sse_destroy(&self);
        return NULL;
    }
    if (sse_ring_add_reader(ring, wake, arg) != 0) {
        log_error("sse: more than %d workers", SSE_MAX_READERS);
        sse_destroy(&self);
        return NULL;
    }
    self->reader = arg;
    return self;
}

void sse_destroy(sse_t **self_p)
{
    sse_t *self = *self_p;
    if (!self)
        return;
    if (self->reader)
        sse_ring_remove_reader(self->ring, self->reader);
    if (self->hb)
        event_free(self->hb);
    /* the worker freed the connections */
    while (self->nclients)
        s_remove(self, 0);
    free(self->clients);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

static void s_refuse(sse_t *self, httpconn_t *conn, int code, enum sse_why why,
                     const char *reason)
{
    if (why < SSE_WHY_MAX)   /* SSE_WHY_MAX: counted already, or not a refusal of input */
        sse_ring_count(self->ring, why);
    httpconn_head_t h;
    httpconn_head_init(&h);
    httpconn_head_add(&h, "Content-Type", "application/json; charset=utf-8");
    httpconn_head_add(&h, "Cache-Control", "no-store");
    httpconn_head_add(&h, "Access-Control-Allow-Origin", "*");
    httpconn_head_add(&h, "X-Content-Type-Options", "nosniff");
    if (code == 503) {
        httpconn_head_add(&h, "Retry-After", "30");
        h.close = true;
    }
    char *body = feed_error_json(code, reason);
    httpconn_respond(conn, code, &h, body ? http_cache_body_new(body, strlen(body)) : NULL);
}

/* A stream never reads and is quiet between heartbeats: no read timeout
 * (a closed client is still seen: reading stays on); a write that makes no
 * progress for three heartbeats ends it. */
static const struct timeval s_write_timeout = { 3 * SSE_HEARTBEAT_MS / 1000, 0 };

void sse_attach(sse_t *self, httpconn_t *conn, const httpreq_t *req, const char *crossing,
                http_snap_t *snap)
{
    const char *lei = httpreq_header(req, "Last-Event-ID");
    uint64_t last = 0, at = sse_ring_seq(self->ring);
    char why[160];
    if (lei && sse_parse_id(lei, &last) != 0) {
        s_refuse(self, conn, 400, SSE_REFUSED_BAD_ID,
                 "Last-Event-ID must be a decimal sequence number of the feed");
        return;
    }
    if (lei && last > at) {
        snprintf(why, sizeof why, "Last-Event-ID %" PRIu64 " is ahead of the feed (at %" PRIu64
                 "; the collector restarted?): reconnect without it", last, at);
        s_refuse(self, conn, 400, SSE_REFUSED_FUTURE_ID, why);
        return;
    }
    if (VEC_RESERVE(self->clients, self->cap, self->nclients + 1) != 0) {
        s_refuse(self, conn, 503, SSE_WHY_MAX, "out of memory");
        return;
    }
    if (req->method != HTTPREQ_HEAD && !sse_ring_admit(self->ring)) {
        snprintf(why, sizeof why, "live stream full (%d clients); poll /v1/crossings instead",
                 sse_ring_max_clients(self->ring));
        s_refuse(self, conn, 503, SSE_WHY_MAX, why);
        return;
    }
    httpconn_head_t h;
    httpconn_head_init(&h);
    httpconn_head_add(&h, "Content-Type", "text/event-stream; charset=utf-8");
    httpconn_head_add(&h, "Cache-Control", "no-store");
    httpconn_head_add(&h, "Access-Control-Allow-Origin", "*");
    httpconn_head_add(&h, "X-Content-Type-Options", "nosniff");
    httpconn_head_add(&h, "X-Accel-Buffering", "no");   /* nginx: pass each event at once */
    if (req->method == HTTPREQ_HEAD) {
        httpconn_respond(conn, 200, &h, NULL);
        return;
    }
    if (httpconn_stream(conn, &h, &s_write_timeout) != 0) {
        sse_ring_leave(self->ring);
        return;
    }
    s_client_t *c = &self->clients[self->nclients++];
    *c = (s_client_t){ .conn = conn, .after = last, .need_snapshot = !lei };
    snprintf(c->crossing, sizeof c->crossing, "%s", crossing ? crossing : "");
    struct evbuffer *b = evbuffer_new();
    if (!b || evbuffer_add(b, "retry: 3000\n\n", 13) != 0)
        c->drop = true;
    else
        s_flush(c, b);
    if (b)
        evbuffer_free(b);
    if (!c->drop)
        s_sync(self, c, snap);
    /* a client marked drop here goes at the next pump or heartbeat */
}

void sse_conn_closed(sse_t *self, httpconn_t *conn)
{
    if (!self)
        return;
    for (size_t i = 0; i < self->nclients; i++) {
        if (self->clients[i].conn == conn) {
            s_remove(self, i);
            return;
        }
    }
}
