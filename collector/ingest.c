/* ingest — see ingest.h. The socket half: frames in and replies out, the
 * durable sync's timer and result, the handshake monitor, the lifecycle;
 * what happens to a batch is collector/ingest_batch.c. */
#include "ingest_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "curvesock.h"
#include "log.h"
#include "peerwatch.h"
#include "timeutil.h"
#include "vec.h"
#include "wire.h"
#include "zwatch.h"

/* Every rejection is counted; the log gets each distinct reason at once and
 * repeats of it at most every 30 s, so a retrying agent cannot flood it. */
static void s_log_limited(ingest_t *self, const char *line);

void ingest_reject(ingest_t *self, enum stats_reject code, const char *who, const char *why)
{
    self->ctx.stats->rejected[code]++;
    char line[sizeof self->last_reject];
    snprintf(line, sizeof line, "%s: rejected (%s): %s", who, stats_reject_name(code), why);
    s_log_limited(self, line);
}

static void s_log_limited(ingest_t *self, const char *line)
{
    int64_t now = tu_mono_ms();
    if (strcmp(line, self->last_reject) == 0 && now - self->last_reject_ms < 30000) {
        self->repeats++;
        return;
    }
    if (self->repeats)
        log_warn("(last rejection repeated %" PRIu64 " more times)", self->repeats);
    log_warn("%s", line);
    snprintf(self->last_reject, sizeof self->last_reject, "%s", line);
    self->last_reject_ms = now;
    self->repeats = 0;
}

/* A frame above the protocol's limit (and below libzmq's hard one): counted
 * and logged with who sent it — the key and its binding with CURVE, the
 * peer's address always — then dropped unanswered. */
static void s_oversized(ingest_t *self, zmq_msg_t *body)
{
    self->ctx.stats->frames_in++;
    const char *addr = zmq_msg_gets(body, "Peer-Address");
    const char *key = self->ctx.server_key ? zmq_msg_gets(body, "User-Id") : NULL;
    const zap_entry_t *e = key && self->ctx.zap ? zap_lookup(self->ctx.zap, key) : NULL;
    char who[160], why[120];
    if (e)
        snprintf(who, sizeof who, "peer %s (key %.40s of %s/%s)", addr ? addr : "?", key,
                 e->crossing, e->dir ? tax_dir_name(e->dir) : "*");
    else
        snprintf(who, sizeof who, "peer %s%s%.40s", addr ? addr : "?", key ? " key " : "",
                 key ? key : "");
    snprintf(why, sizeof why, "frame of %zu bytes, the limit is %d: dropped",
             zmq_msg_size(body), WIRE_MAX_FRAME);
    ingest_reject(self, REJ_OVERSIZED, who, why);
}

/* Read one message: [routing id][payload]. Anything else is drained and
 * counted as a bad frame. Returns -1 when there is nothing more to read. */
static int s_recv_one(void *arg)
{
    ingest_t *self = arg;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, self->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return -1;
    }
    zmq_msg_init(&body);
    bool ok = zmq_msg_more(&id) && zmq_msg_recv(&body, self->sock, 0) >= 0;
    bool extra = ok && zmq_msg_more(&body);
    while (extra) { /* drain the rest of a multipart message */
        zmq_msg_t junk;
        zmq_msg_init(&junk);
        zmq_msg_recv(&junk, self->sock, 0);
        extra = zmq_msg_more(&junk);
        zmq_msg_close(&junk);
        ok = false;
    }
    if (!ok) {
        self->ctx.stats->frames_in++;
        ingest_reject(self, REJ_DECODE, "frame", "not a single-part message");
    } else if (zmq_msg_size(&body) > WIRE_MAX_FRAME) {
        s_oversized(self, &body);
    } else {
        size_t rlen = 0;
        /* ZAP's user id is the sender's key: it comes with each message,
         * so a key revoked since the handshake is caught here. */
        const char *key = self->ctx.server_key ? zmq_msg_gets(&body, "User-Id") : NULL;
        uint8_t *reply = ingest_frame(self, zmq_msg_data(&body), zmq_msg_size(&body), &id, key,
                                 tu_now_ms(), &rlen);
        if (reply) {
            /* ROUTER drops replies to vanished peers: the agent resends. */
            zmq_send(self->sock, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
            zmq_send(self->sock, reply, rlen, ZMQ_DONTWAIT);
            free(reply);
        }
    }
    zmq_msg_close(&body);
    zmq_msg_close(&id);
    return 0;
}

/* The end of a burst ends the group; its replies were sent after the
 * watcher's last look at the socket, which a send can take the edge of. */
static void s_on_drained(void *arg)
{
    ingest_t *self = arg;
    ingest_group_launch(self);
    if (self->group_sent) {
        self->group_sent = false;
        zwatch_kick(self->watch);
    }
}

/* The archive's connection moved for the groups in flight: answer those
 * rrdcached has (arch_commit_ready does not block), and watch again while
 * some remain. The timeout only re-checks: a stopped rrdcached is
 * arch_commit_wait's to time out. */
static void s_on_flight(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ingest_t *self = arg;
    ingest_flights_land_ready(self);
    if (self->nflights > 0)
        ingest_flight_watch(self);
    if (self->group_sent) {
        self->group_sent = false;
        zwatch_kick(self->watch);
    }
}

void ingest_flight_watch(ingest_t *self)
{
    bool writing;
    int fd = arch_commit_fd(self->ctx.archive, &writing);
    struct timeval again = { 0, 100000 };
    if (self->ev_flight)
        event_free(self->ev_flight);
    self->ev_flight = event_new(self->base, fd, fd < 0 ? 0 : writing ? EV_WRITE : EV_READ,
                                s_on_flight, self);
    if (!self->ev_flight || event_add(self->ev_flight, fd < 0 ? &(struct timeval){ 0, 0 }
                                                              : &again) != 0) {
        log_error("ingest: cannot watch rrdcached's answer: waiting for it");
        ingest_flights_land(self, INGEST_FLIGHTS);
    }
}

/* Sessions' accepted points now, for the sync about to start. */
static int s_snapshot(ingest_t *self)
{
    size_t n = sess_count(self->sessions);
    if (VEC_RESERVE(self->snap, self->snapcap, n) != 0) {
        log_error("archive sync: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const sess_t *s = sess_at(self->sessions, i);
        acked_snap_t *a = &self->snap[i];
        memcpy(a->crossing, s->crossing, sizeof a->crossing);
        a->dir = s->dir;
        a->epoch = s->epoch;
        a->acked = s->acked_seq;
    }
    self->nsnap = n;
    return 0;
}

/* A sync ended: what it covered becomes durable (ingest_sessions.c), or
 * acknowledgements are held back while the archive fails. */
static int s_sync_result(ingest_t *self, int rc, const char *why, bool blocking)
{
    if (rc != 0) {
        if (!self->sync_failing)
            log_error("archive sync failed, acknowledgements held back: %s", why);
        self->sync_failing = true;
        ingest_check_archive(self);
        return -1;
    }
    if (self->sync_failing)
        log_info("archive sync works again");
    self->sync_failing = false;
    return ingest_sessions_synced(self, blocking);
}

static void s_synced(void *arg, int rc, const char *why)
{
    s_sync_result(arg, rc, why, false);
}

int ingest_sync(ingest_t *self)
{
    /* Blocking (at exit): a pipelined sync still running is redone here,
     * after the groups in flight count. */
    ingest_flights_land(self, INGEST_FLIGHTS);
    arch_sync_cancel(self->ctx.archive);
    ingest_check_archive(self);
    if (s_snapshot(self) != 0)
        return -1;
    char why[400] = "";
    bool pending = arch_pending_sync(self->ctx.archive) > 0;
    int rc = pending ? arch_sync(self->ctx.archive, why, sizeof why) : 0;
    return s_sync_result(self, rc, why, true);
}

/* Every sync_ms, unless one is running: a pipelined sync (FLUSHALL, then
 * every file written since the last one read until rrdcached wrote it, on
 * a thread and connections of its own) that never blocks the loop; ingest and HTTP go on meanwhile,
 * and rows committed meanwhile wait for the next one. */
static void s_on_sync(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ingest_t *self = arg;
    if (arch_sync_running(self->ctx.archive))
        return;
    ingest_check_archive(self);
    if (s_snapshot(self) != 0)
        return;
    char why[400] = "";
    int rc = arch_sync_start(self->ctx.archive, self->base, s_synced, self, why, sizeof why);
    if (rc != 0)   /* 1: nothing was pending, everything accepted is on disk */
        s_sync_result(self, rc > 0 ? 0 : -1, why, false);
}

/* The peer's address of a just-accepted connection ("" when the socket is
 * already gone: a fast failure may close it before this runs). */
static void s_peer_addr(int fd, char *out, size_t len)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    out[0] = '\0';
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) != 0)
        return;
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, out, (socklen_t)len);
    else if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, out, (socklen_t)len);
}

/* A failed handshake that ZAP did not decide (ZAP counts its own denials,
 * collector/zap.c): a plaintext peer, a wrong server key, a peer that
 * never finished. Counted once per peer address and episode of retries. */
static void s_handshake_failed(ingest_t *self, uint16_t event, const char *addr)
{
    int64_t now = tu_mono_ms();
    const char *kind = event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           ? "protocol error (a plaintext peer, or not our CURVE server key)"
                           : "handshake failed (a plaintext peer, a wrong server key, or one that "
                             "never finished)";
    char who[PEERWATCH_WHO_MAX];
    snprintf(who, sizeof who, "failed %s", *addr ? addr : "?");
    if (*addr)
        peerwatch_adopt(self->peers, "failed ?", who, now);
    else if (peerwatch_latest(self->peers, "failed ", now, who, sizeof who))
        addr = who + strlen("failed "); /* most likely the peer that failed last */
    uint64_t attempts = 0;
    switch (peerwatch_seen(self->peers, who, now, &attempts)) {
    case PEERWATCH_NEW:
        self->ctx.stats->handshake_failed++;
        log_warn("handshake from %s: %s; its retries are counted once", *addr ? addr : "an "
                 "unknown address", kind);
        break;
    case PEERWATCH_REMIND:
        log_warn("handshake from %s: still failing, %" PRIu64 " attempts so far",
                 *addr ? addr : "an unknown address", attempts);
        break;
    case PEERWATCH_QUIET:
        break;
    }
}

/* One socket-monitor event: [u16 event, u32 value][endpoint]. ACCEPTED and
 * DISCONNECTED carry the connection's fd; a handshake outcome belongs to
 * the oldest accepted connection still waiting for one (peerwatch.h). */
static int s_on_monitor(void *arg)
{
    ingest_t *self = arg;
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&ev);
        return -1;
    }
    zmq_msg_init(&addr);
    zmq_msg_recv(&addr, self->monitor, 0);
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&ev) >= 6) {
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
    }
    char peer[PEERWATCH_ADDR_MAX];
    if (event == ZMQ_EVENT_ACCEPTED) {
        s_peer_addr((int)value, peer, sizeof peer);
        peerwatch_accepted(self->peers, (int)value, peer);
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
        peerwatch_closed(self->peers, (int)value);
    } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        peerwatch_handshake_done(self->peers, peer, sizeof peer);
    } else if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                        ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) {
        peerwatch_handshake_done(self->peers, peer, sizeof peer);
        self->ctx.stats->handshake_attempts_failed++;
        if (event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) /* ZAP's denial: counted there */
            s_handshake_failed(self, event, peer);
    }
    zmq_msg_close(&addr);
    zmq_msg_close(&ev);
    return 0;
}

static int s_start_monitor(ingest_t *self, struct event_base *base, void *zctx)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://poenet-ingest-monitor-%p", (void *)self);
    self->peers = peerwatch_new(INGEST_HANDSHAKE_WINDOW_MS);
    if (!self->peers ||
        zmq_socket_monitor(self->sock, ep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0)
        return -1;
    self->monitor = zmq_socket(zctx, ZMQ_PAIR);
    if (!self->monitor || zmq_connect(self->monitor, ep) != 0)
        return -1;
    zwatch_handlers_t h = { .on_message = s_on_monitor, .arg = self };
    self->watch_monitor = zwatch_new(base, self->monitor, &h);
    return self->watch_monitor ? 0 : -1;
}

ingest_t *ingest_new(struct event_base *base, void *zctx, const char *endpoint,
                     const ingest_ctx_t *ctx)
{
    ingest_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = *ctx;
    self->base = base;
    self->sessions = sess_table_new();
    self->group = calloc(INGEST_GROUP_MAX, sizeof *self->group);
    bool flights = true;
    for (size_t i = 0; i < INGEST_FLIGHTS; i++)
        flights &= (self->flights[i].m = calloc(INGEST_GROUP_MAX, sizeof(member_t))) != NULL;
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!self->sessions || !self->group || !flights || !self->sock)
        goto fail;
    if (ctx->sessions_path && sess_load(self->sessions, ctx->sessions_path) != 0) {
        log_error("cannot read sessions %s", ctx->sessions_path);
        goto fail;
    }
    self->arch_gen = arch_generation(ctx->archive);
    int linger = 1000, hwm = 10000;
    int64_t maxmsg = INGEST_HARD_FRAME;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* ZAP (zap.c) must already be bound: it decides every handshake. */
    if (ctx->server_key && curvesock_server(self->sock, ctx->server_key, "poenet") != 0)
        goto fail;
    /* Drop connections of agents that went silent (cut links send no reset). */
    int hb_ivl = 1000, hb_timeout = 5000;
    zmq_setsockopt(self->sock, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl);
    zmq_setsockopt(self->sock, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout);
    if (zmq_bind(self->sock, endpoint) != 0) {
        log_error("cannot bind %s for agents: %s", endpoint, zmq_strerror(errno));
        goto fail;
    }
    /* Yielding after a burst lets HTTP and the sync timer have their turn. */
    zwatch_handlers_t h = { .on_message = s_recv_one, .on_drained = s_on_drained, .arg = self,
                            .burst = INGEST_BURST };
    self->watch = zwatch_new(base, self->sock, &h);
    self->ev_sync = event_new(base, -1, EV_PERSIST, s_on_sync, self);
    if (!self->watch || !self->ev_sync)
        goto fail;
    if (ctx->server_key && s_start_monitor(self, base, zctx) != 0) {
        log_error("cannot monitor handshakes: %s", zmq_strerror(errno));
        goto fail;
    }
    int64_t sync_ms = ctx->sync_ms > 0 ? ctx->sync_ms : 1000;
    struct timeval every = { (time_t)(sync_ms / 1000), (suseconds_t)((sync_ms % 1000) * 1000) };
    event_add(self->ev_sync, &every);
    log_info("listening for agents on %s", endpoint);
    return self;
fail:
    ingest_destroy(&self);
    return NULL;
}

void ingest_destroy(ingest_t **self_p)
{
    ingest_t *self = *self_p;
    if (!self)
        return;
    ingest_sessions_stop(self);   /* a sessions write still running lands */
    if (self->group && self->flights[0].m)
        ingest_group_end(self, NULL, NULL);   /* replies to agents still there */
    free(self->group);
    for (size_t i = 0; i < INGEST_FLIGHTS; i++)
        free(self->flights[i].m);
    if (self->ev_flight)
        event_free(self->ev_flight);
    zwatch_destroy(&self->watch);
    zwatch_destroy(&self->watch_monitor);
    if (self->ev_sync)
        event_free(self->ev_sync);
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx.archive)
        arch_sync_cancel(self->ctx.archive);   /* its callback would find us gone */
    sess_table_destroy(&self->sessions);
    peerwatch_destroy(&self->peers);
    free(self->snap);
    free(self);
    *self_p = NULL;
}

const sess_table_t *ingest_sessions(const ingest_t *self) { return self->sessions; }

bool ingest_busy(void *arg)
{
    ingest_t *self = arg;
    if (self->nflights > 0)
        return true;
    return zwatch_pending(self->watch);
}
