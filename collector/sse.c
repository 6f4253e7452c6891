/* sse — see sse.h. Frames are formatted once when published and kept in a
 * ring (seq → frame) shared by every client; a client is an evhttp
 * request held open with evhttp_send_reply_start and fed with chunks. */
#include "sse.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "log.h"
#include "timeutil.h"

typedef struct {
    uint64_t seq;
    char crossing[7];
    char *frame;            /* "id: N\nevent: wait\ndata: {...}\n\n" */
} s_event_t;

typedef struct {
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    char crossing[7];       /* "" = every crossing */
    bool drop;
} s_client_t;

struct sse {
    struct event_base *base;
    state_t *state;
    int64_t stale_after_ms;
    s_event_t ring[SSE_RING];
    uint64_t seq;           /* the newest published */
    uint64_t first;         /* the first seq published since start (0: none yet) */
    s_client_t *clients;
    int nclients, max_clients;
    uint64_t refused;
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

static void s_send(s_client_t *c, const char *data, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    if (!b || evbuffer_add(b, data, len) != 0) {
        c->drop = true;
    } else {
        evhttp_send_reply_chunk(c->req, b);
    }
    if (b)
        evbuffer_free(b);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
    if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > SSE_MAX_BACKLOG)
        c->drop = true;   /* it stopped reading: it will reconnect and resume */
}

/* Free the connections of clients marked drop (their close callback comes
 * back through sse_conn_closed and removes them). */
static void s_reap(sse_t *self)
{
    for (int i = 0; i < self->nclients;) {
        if (self->clients[i].drop) {
            struct evhttp_connection *evcon = self->clients[i].evcon;
            self->clients[i] = self->clients[--self->nclients];
            log_warn("sse: dropping a stream that stopped reading");
            evhttp_connection_free(evcon);
        } else {
            i++;
        }
    }
}

static void s_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sse_t *self = arg;
    char line[64];
    int n = snprintf(line, sizeof line, ": hb %" PRIu64 "\n\n", self->seq);
    for (int i = 0; i < self->nclients; i++)
        s_send(&self->clients[i], line, (size_t)n);
    s_reap(self);
}

sse_t *sse_new(struct event_base *base, state_t *state, int64_t stale_after_ms, int max_clients)
{
    sse_t *self = calloc(1, sizeof *self);
    if (self) {
        self->base = base;
        self->state = state;
        self->stale_after_ms = stale_after_ms;
        self->max_clients = max_clients > 0 ? max_clients : SSE_DEFAULT_CLIENTS;
        self->clients = calloc((size_t)self->max_clients, sizeof *self->clients);
        self->hb = event_new(base, -1, EV_PERSIST, s_on_heartbeat, self);
    }
    if (!self || !self->clients || !self->hb) {
        log_error("sse: out of memory");
        sse_destroy(&self);
        return NULL;
    }
    struct timeval tv = { SSE_HEARTBEAT_MS / 1000, (SSE_HEARTBEAT_MS % 1000) * 1000 };
    event_add(self->hb, &tv);
    return self;
}

void sse_destroy(sse_t **self_p)
{
    sse_t *self = *self_p;
    if (!self)
        return;
    if (self->hb)
        event_free(self->hb);
    for (int i = 0; i < SSE_RING; i++)
        free(self->ring[i].frame);
    /* the HTTP server frees the connections (and their requests) */
    free(self->clients);
    free(self);
    *self_p = NULL;
}

void sse_publish(sse_t *self, uint64_t seq, const char *crossing, const char *body)
{
    if (!self)
        return;
    size_t len = strlen(body) + 64;
    char *frame = malloc(len);
    if (!frame) {
        log_error("sse: out of memory: update %" PRIu64 " not streamed", seq);
        return;   /* the gap shows in the ids; a reconnect takes a snapshot */
    }
    int n = snprintf(frame, len, "id: %" PRIu64 "\nevent: wait\ndata: %s\n\n", seq, body);
    s_event_t *e = &self->ring[seq % SSE_RING];
    free(e->frame);
    e->seq = seq;
    snprintf(e->crossing, sizeof e->crossing, "%s", crossing);
    e->frame = frame;
    self->seq = seq;
    if (!self->first)
        self->first = seq;
    for (int i = 0; i < self->nclients; i++) {
        s_client_t *c = &self->clients[i];
        if (!c->crossing[0] || strcmp(c->crossing, crossing) == 0)
            s_send(c, frame, (size_t)n);
    }
    s_reap(self);
}

static void s_refuse(sse_t *self, struct evhttp_request *req, int code, const char *why)
{
    self->refused++;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    if (code == 503) {
        evhttp_add_header(h, "Retry-After", "30");
        evhttp_add_header(h, "Connection", "close");
    }
    char *body = feed_error_json(code, why);
    struct evbuffer *b = evhttp_request_get_output_buffer(req);
    if (body)
        evbuffer_add(b, body, strlen(body));
    free(body);
    evhttp_send_reply(req, code, code == 503 ? "Service Unavailable" : "Bad Request", NULL);
}

/* The first frames of a stream: the replay after last (resuming), or a
 * snapshot. Returns 0, -1 when out of memory. */
static int s_start(sse_t *self, s_client_t *c, bool resume, uint64_t last)
{
    s_send(c, "retry: 3000\n\n", 13);
    /* the oldest event still in the ring */
    uint64_t oldest = self->seq >= SSE_RING ? self->seq - SSE_RING + 1 : 1;
    if (self->first > oldest)
        oldest = self->first;
    if (resume && (self->seq == last || (self->first && last + 1 >= oldest))) {
        for (uint64_t s = last + 1; s <= self->seq; s++) {
            const s_event_t *e = &self->ring[s % SSE_RING];
            if (e->seq == s && e->frame && (!c->crossing[0] || strcmp(c->crossing, e->crossing) == 0))
                s_send(c, e->frame, strlen(e->frame));
        }
        return 0;
    }
    char *body = feed_crossings_json(self->state, tu_now_ms(), self->stale_after_ms,
                                     c->crossing[0] ? c->crossing : NULL);
    if (!body)
        return -1;
    size_t len = strlen(body) + 64;
    char *frame = malloc(len);
    if (!frame) {
        free(body);
        return -1;
    }
    int n = snprintf(frame, len, "id: %" PRIu64 "\nevent: snapshot\ndata: %s\n\n", self->seq, body);
    s_send(c, frame, (size_t)n);
    free(frame);
    free(body);
    return 0;
}

void sse_attach(sse_t *self, struct evhttp_request *req, const char *crossing)
{
    const char *lei = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
    uint64_t last = 0;
    char why[128];
    if (lei && sse_parse_id(lei, &last) != 0) {
        s_refuse(self, req, 400, "Last-Event-ID must be a decimal sequence number of the feed");
        return;
    }
    if (lei && last > self->seq) {
        snprintf(why, sizeof why, "Last-Event-ID %" PRIu64 " is ahead of the feed (at %" PRIu64
                 "); reconnect without it", last, self->seq);
        s_refuse(self, req, 400, why);
        return;
    }
    if (self->nclients >= self->max_clients) {
        snprintf(why, sizeof why, "live stream full (%d clients); poll /v1/crossings instead",
                 self->max_clients);
        s_refuse(self, req, 503, why);
        return;
    }
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon) {
        s_refuse(self, req, 400, "no connection");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        evhttp_send_reply(req, 200, "OK", NULL);
        return;
    }
    /* a stream is quiet between heartbeats: no idle timeout for it */
    evhttp_connection_set_timeout(evcon, 3 * SSE_HEARTBEAT_MS / 1000);
    evhttp_send_reply_start(req, 200, "OK");
    s_client_t *c = &self->clients[self->nclients++];
    *c = (s_client_t){ .req = req, .evcon = evcon };
    snprintf(c->crossing, sizeof c->crossing, "%s", crossing ? crossing : "");
    if (s_start(self, c, lei != NULL, last) != 0)
        c->drop = true;
    s_reap(self);
}

void sse_conn_closed(sse_t *self, struct evhttp_connection *evcon)
{
    if (!self)
        return;
    for (int i = 0; i < self->nclients; i++) {
        if (self->clients[i].evcon == evcon) {
            self->clients[i] = self->clients[--self->nclients];
            return;
        }
    }
}

int sse_clients(const sse_t *self) { return self ? self->nclients : 0; }
uint64_t sse_refused(const sse_t *self) { return self ? self->refused : 0; }
