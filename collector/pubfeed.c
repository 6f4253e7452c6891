/* pubfeed — see pubfeed.h. */
#include "pubfeed.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "curvesock.h"
#include "feed.h"
#include "log.h"
#include "timeutil.h"
#include "zwatch.h"

#define PUB_TOPIC_MAX 96

struct pubfeed {
    void *pub, *snap;
    zwatch_t *watch_snap;        /* snapshot requests */
    struct event *ev_hb;
    state_t *state;
    int64_t stale_after_ms;
    uint64_t seq;
    pubfeed_tap_fn *tap;
    void *tap_arg;
};

static void s_topic(const xstate_t *x, enum tax_dir d, int k, char *buf, size_t len)
{
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    snprintf(buf, len, "wait.%s.%s.%s.%s", x->reg->id, tax_dir_name(d), tax_mode_name(m),
             tax_type_name(t));
}

/* The body of a queue message, stamped with seq; malloc'ed. */
static char *s_body(pubfeed_t *self, const xstate_t *x, enum tax_dir d, int k, uint64_t seq)
{
    json_t *j = feed_queue_update_json(x, d, k, tu_now_ms(), self->stale_after_ms);
    if (!j)
        return NULL;
    json_object_set_new(j, "seq", json_integer((json_int_t)seq));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static void s_send2(void *sock, const char *a, const char *b, int flags)
{
    zmq_send(sock, a, strlen(a), ZMQ_SNDMORE | flags);
    zmq_send(sock, b, strlen(b), flags);
}

void pubfeed_queue_changed(pubfeed_t *self, const xstate_t *x, enum tax_dir d, int k)
{
    char topic[PUB_TOPIC_MAX];
    s_topic(x, d, k, topic, sizeof topic);
    char *body = s_body(self, x, d, k, self->seq + 1);
    if (!body)
        return;
    self->seq++;
    /* PUB drops at its high-water mark rather than block the collector; the
     * sequence numbers let subscribers see it and take a new snapshot. */
    s_send2(self->pub, topic, body, ZMQ_DONTWAIT);
    if (self->tap)
        self->tap(self->tap_arg, self->seq, x->reg->id, body);
    free(body);
}

void pubfeed_set_tap(pubfeed_t *self, pubfeed_tap_fn *fn, void *arg)
{
    self->tap = fn;
    self->tap_arg = arg;
}

static void s_on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pubfeed_t *self = arg;
    char body[64];
    snprintf(body, sizeof body, "{\"seq\":%" PRIu64 "}", self->seq);
    s_send2(self->pub, "hb", body, ZMQ_DONTWAIT);
}

/* Every queue with data under the prefix, then END with the seq. */
static void s_snapshot(pubfeed_t *self, zmq_msg_t *id, const char *prefix)
{
    uint64_t at = self->seq;
    char topic[PUB_TOPIC_MAX];
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < state_count(self->state); i++) {
        const xstate_t *x = state_at(self->state, i);
        for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++)
            for (int k = 0; k < TAX_NQUEUES; k++) {
                if (!x->q[d - 1][k]->seen)
                    continue;
                s_topic(x, (enum tax_dir)d, k, topic, sizeof topic);
                if (strncmp(topic, prefix, plen) != 0)
                    continue;
                char *body = s_body(self, x, (enum tax_dir)d, k, at);
                if (!body)
                    continue;
                zmq_send(self->snap, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
                s_send2(self->snap, topic, body, 0);
                free(body);
            }
    }
    char end[64];
    snprintf(end, sizeof end, "{\"seq\":%" PRIu64 "}", at);
    zmq_send(self->snap, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
    s_send2(self->snap, "END", end, 0);
}

/* One snapshot request: [id][SNAPSHOT prefix]; -1 when none waits. */
static int s_on_snapshot(void *arg)
{
    pubfeed_t *self = arg;
    zmq_msg_t id, req;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, self->snap, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return -1;
    }
    zmq_msg_init(&req);
    if (zmq_msg_more(&id) && zmq_msg_recv(&req, self->snap, 0) >= 0) {
        char text[128] = "";
        size_t n = zmq_msg_size(&req) < sizeof text - 1 ? zmq_msg_size(&req) : sizeof text - 1;
        memcpy(text, zmq_msg_data(&req), n);
        text[n] = '\0';
        if (strncmp(text, "SNAPSHOT", 8) == 0)
            s_snapshot(self, &id, text[8] == ' ' ? text + 9 : "wait.");
    }
    while (zmq_msg_more(&req)) { /* ignore anything else a client sent */
        zmq_msg_close(&req);
        zmq_msg_init(&req);
        if (zmq_msg_recv(&req, self->snap, 0) < 0)
            break;
    }
    zmq_msg_close(&req);
    zmq_msg_close(&id);
    return 0;
}

static void *s_bind(void *zctx, int type, const char *endpoint, const curve_pair_t *key)
{
    void *s = zmq_socket(zctx, type);
    int linger = 0, hwm = 100000;
    int64_t maxmsg = 4096;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* The collector's ZAP handler decides who may subscribe. */
    if ((key && curvesock_server(s, key, "poenet-feed") != 0) || zmq_bind(s, endpoint) != 0) {
        log_error("live feed: cannot bind %s: %s", endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

pubfeed_t *pubfeed_new(struct event_base *base, void *zctx, const char *pub_endpoint,
                   const char *snap_endpoint, state_t *state, int64_t stale_after_ms,
                   const curve_pair_t *server_key)
{
    pubfeed_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->state = state;
    self->stale_after_ms = stale_after_ms;
    self->pub = s_bind(zctx, ZMQ_PUB, pub_endpoint, server_key);
    self->snap = s_bind(zctx, ZMQ_ROUTER, snap_endpoint, server_key);
    if (!self->pub || !self->snap)
        goto fail;
    zwatch_handlers_t h = { .on_message = s_on_snapshot, .arg = self };
    self->watch_snap = zwatch_new(base, self->snap, &h);
    self->ev_hb = event_new(base, -1, EV_PERSIST, s_on_heartbeat, self);
    if (!self->watch_snap || !self->ev_hb)
        goto fail;
    struct timeval second = { 1, 0 };
    event_add(self->ev_hb, &second);
    log_info("live feed on %s, snapshots on %s", pub_endpoint, snap_endpoint);
    return self;
fail:
    pubfeed_destroy(&self);
    return NULL;
}

void pubfeed_destroy(pubfeed_t **self_p)
{
    pubfeed_t *self = *self_p;
    if (!self)
        return;
    zwatch_destroy(&self->watch_snap);
    if (self->ev_hb)
        event_free(self->ev_hb);
    if (self->pub)
        zmq_close(self->pub);
    if (self->snap)
        zmq_close(self->snap);
    free(self);
    *self_p = NULL;
}
