/* link — see link.h. */
#include "link.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "curvesock.h"
#include "log.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "wire.h"
#include "zwatch.h"

#define LINK_TICK_MS 250
#define LINK_HEARTBEAT_MS 1000
#define LINK_DEAD_MS 3000
#define LINK_REFUSAL_LOG_MS 60000

struct link {
    void *sock;
    char *endpoint;
    zwatch_t *watch;
    struct event *ev_tick;
    outbox_t *outbox;
    spool_t *spool;
    char crossing[8];
    int direction;
    uint64_t epoch;
    link_progress_fn *on_progress;
    void *arg;
    int64_t last_rx_ms;      /* anything heard from the collector */
    int64_t last_tx_ms;
    int64_t last_hb_ms;
    bool alive;
    refusals_t refused;
    char who[300];           /* "collector <endpoint>" for log lines */
    link_refused_fn *on_refused;
    void *refused_arg;
    /* Refusals of the sender itself (a revoked key, a crossing it may not
     * send): every held batch is refused again on each resend, so the
     * line is said when it changes and then once a minute with a count. */
    char refusal[200];
    int64_t refusal_log_ms;
    uint64_t refusals_quiet;
};

static void s_set_int(void *sock, int opt, int v) { zmq_setsockopt(sock, opt, &v, sizeof v); }

static void s_handle_ack(link_t *self, const Poenet__Ack *ack)
{
    if (ack->epoch != self->epoch)
        return; /* an answer to an earlier run of this agent */
    if (!ack->has_durable_seq) {
        /* A refusal: nothing about delivery changed; the spool keeps it. */
        const char *why = ack->error ? ack->error : "(no reason given)";
        int64_t now = tu_mono_ms();
        if (strncmp(why, self->refusal, sizeof self->refusal - 1) != 0 ||
            now - self->refusal_log_ms >= LINK_REFUSAL_LOG_MS) {
            log_error("%s refuses this sender: %s (%" PRIu64 " more such refusals since the last "
                      "line; the batches stay spooled)", self->who, why, self->refusals_quiet);
            snprintf(self->refusal, sizeof self->refusal, "%s", why);
            self->refusal_log_ms = now;
            self->refusals_quiet = 0;
        } else {
            self->refusals_quiet++;
        }
        return;
    }
    if (ack->error)
        log_warn("collector %s: %s (acked through %" PRIu64 ")", self->endpoint, ack->error,
                 ack->acked_seq);
    if (ack->acked_seq < outbox_acked_seq(self->outbox))
        log_warn("collector %s rolled back to seq %" PRIu64 " (it lost data it had accepted): "
                 "resending from the spool", self->endpoint, ack->acked_seq);
    if (ack->n_refused > 0) {
        wire_refusals_t r;
        wire_refusals_from_ack(ack, &r);
        refusals_add(&self->refused, &r, tu_now_ms(), tu_mono_ms(), self->who);
        if (self->on_refused)
            self->on_refused(self->refused_arg, &r);
    }
    uint64_t durable = ack->has_durable_seq ? ack->durable_seq : 0;
    bool moved = outbox_ack(self->outbox, ack->acked_seq, durable, ack->has_resend && ack->resend,
                            tu_mono_ms());
    if (moved && self->on_progress)
        self->on_progress(self->arg);
}

static void s_handle_frame(link_t *self, const void *data, size_t len)
{
    char why[160];
    Poenet__Envelope *env;
    if (wire_decode(data, len, &env, why, sizeof why) != 0) {
        log_warn("collector %s sent a bad frame: %s", self->endpoint, why);
        return;
    }
    if (!self->alive)
        log_info("collector %s answers", self->endpoint);
    self->alive = true;
    self->last_rx_ms = tu_mono_ms();
    if (env->body_case == POENET__ENVELOPE__BODY_ACK)
        s_handle_ack(self, env->ack);
    wire_free(&env);
}

/* One message from the collector; -1 when there is none. */
static int s_recv_one(void *arg)
{
    link_t *self = arg;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
        if (errno != EAGAIN && errno != EINTR)
            log_warn("recv from %s: %s", self->endpoint, zmq_strerror(errno));
        zmq_msg_close(&msg);
        return -1;
    }
    s_handle_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
    zmq_msg_close(&msg);
    return 0;
}

/* Send batch seq from the spool; 0 sent, -1 not now (the tick retries). */
static int s_send_seq(link_t *self, uint64_t seq)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = spool_read(self->spool, seq, &buf, &len);
    if (rc != 0)
        return -1;
    /* The spool holds nothing below its first seq (released once durable
     * everywhere, or dropped when over budget). If this collector is behind
     * that (it lost its state), say so, or it would wait for them forever. */
    uint64_t dropped = spool_first_seq(self->spool) - 1;
    if (dropped > outbox_acked_seq(self->outbox)) {
        size_t nlen;
        uint8_t *n = wire_batch_restamp(buf, len, dropped, &nlen);
        if (n) {
            free(buf);
            buf = n;
            len = nlen;
        }
    }
    rc = zmq_send(self->sock, buf, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
    free(buf);
    return rc;
}

void link_pump(link_t *self)
{
    outbox_skip_to(self->outbox, spool_first_seq(self->spool));
    bool sent = false;
    uint64_t seq;
    while ((seq = outbox_peek(self->outbox, spool_last_seq(self->spool))) != 0) {
        if (s_send_seq(self, seq) != 0)
            break; /* no connection, HWM, or a spool read error: the tick retries */
        outbox_sent(self->outbox, tu_mono_ms());
        self->last_tx_ms = tu_mono_ms();
        sent = true;
    }
    /* A send can consume the edge that announced incoming acks. */
    if (sent)
        zwatch_kick(self->watch);
}

/* Acknowledgements free credit: send what it allows. */
static void s_on_drained(void *arg) { link_pump(arg); }

static void s_heartbeat(link_t *self, int64_t now)
{
    size_t len;
    uint64_t durable = outbox_durable_seq(self->outbox);
    wire_agent_status_t st = { .crossing = self->crossing, .direction = self->direction,
                               .spool_batches = spool_last_seq(self->spool) - durable,
                               .oldest_unacked_ms =
                                   (uint64_t)spool_time_of(self->spool, durable + 1) };
    uint8_t *buf = wire_pack_heartbeat(self->epoch, (uint64_t)tu_now_ms(), &st, &len);
    if (buf && zmq_send(self->sock, buf, len, ZMQ_DONTWAIT) >= 0)
        self->last_tx_ms = now;
    free(buf);
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    link_t *self = arg;
    int64_t now = tu_mono_ms();
    if (self->alive && now - self->last_rx_ms > LINK_DEAD_MS) {
        self->alive = false;
        log_warn("collector %s silent for %d s: %" PRIu64 " batches not yet durable there, "
                 "will resend", self->endpoint, LINK_DEAD_MS / 1000,
                 spool_last_seq(self->spool) - outbox_durable_seq(self->outbox));
        outbox_rewind(self->outbox);
    }
    if (self->refused.total)
        refusals_tick(&self->refused, now, self->who);
    if (outbox_tick(self->outbox, now))
        log_info("no acknowledgement from %s: resending from seq %" PRIu64, self->endpoint,
                 outbox_acked_seq(self->outbox) + 1);
    /* Heartbeats go every second, busy or not: they carry the agent's
     * status and draw the acknowledgements that report durability. */
    if (now - self->last_hb_ms >= LINK_HEARTBEAT_MS) {
        s_heartbeat(self, now);
        self->last_hb_ms = now;
    }
    link_pump(self);
}

static int s_configure(link_t *self, const link_opts_t *o)
{
    s_set_int(self->sock, ZMQ_IMMEDIATE, 1);
    s_set_int(self->sock, ZMQ_LINGER, 1000);
    s_set_int(self->sock, ZMQ_RECONNECT_IVL, 100);
    s_set_int(self->sock, ZMQ_RECONNECT_IVL_MAX, 5000);
    /* ZMTP heartbeats drop a TCP connection that went silent (a cut link
     * sends no reset), so ZeroMQ reconnects instead of waiting for TCP's
     * own timeout of many minutes. */
    s_set_int(self->sock, ZMQ_HEARTBEAT_IVL, 1000);
    s_set_int(self->sock, ZMQ_HEARTBEAT_TIMEOUT, 3000);
    int64_t maxmsg = WIRE_MAX_FRAME;
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (o->key && curvesock_client(self->sock, o->key, o->server_key) != 0)
        return -1;
    if (zmq_connect(self->sock, o->endpoint) != 0) {
        log_error("cannot connect to collector '%s': %s", o->endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

link_t *link_new(struct event_base *base, void *zctx, const link_opts_t *o, spool_t *spool,
                 outbox_t *outbox, link_progress_fn *on_progress, void *arg)
{
    link_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(o->endpoint);
    self->spool = spool;
    self->outbox = outbox;
    self->epoch = spool_epoch(spool);
    snprintf(self->crossing, sizeof self->crossing, "%s", o->crossing);
    self->direction = o->direction;
    self->on_progress = on_progress;
    self->arg = arg;
    self->on_refused = o->on_refused;
    self->refused_arg = o->refused_arg;
    /* A forwarder has a link per relay to one upstream: say whose stream. */
    snprintf(self->who, sizeof self->who, "collector %s (stream %s/%s)", o->endpoint,
             o->crossing, tax_dir_valid(o->direction) ? tax_dir_name((enum tax_dir)o->direction)
                                                      : "?");
    self->sock = zmq_socket(zctx, ZMQ_DEALER);
    if (!self->endpoint || !self->sock || s_configure(self, o) != 0)
        goto fail;
    zwatch_handlers_t h = { .on_message = s_recv_one, .on_drained = s_on_drained, .arg = self };
    self->watch = zwatch_new(base, self->sock, &h);
    self->ev_tick = event_new(base, -1, EV_PERSIST, s_on_tick, self);
    if (!self->watch || !self->ev_tick)
        goto fail;
    struct timeval tick = { 0, LINK_TICK_MS * 1000 };
    event_add(self->ev_tick, &tick);
    self->last_rx_ms = self->last_tx_ms = tu_mono_ms();
    return self;
fail:
    link_destroy(&self);
    return NULL;
}

void link_destroy(link_t **self_p)
{
    link_t *self = *self_p;
    if (!self)
        return;
    zwatch_destroy(&self->watch);
    if (self->ev_tick)
        event_free(self->ev_tick);
    if (self->sock)
        zmq_close(self->sock);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

bool link_alive(const link_t *self) { return self->alive; }
const char *link_endpoint(const link_t *self) { return self->endpoint; }
const refusals_t *link_refusals(const link_t *self) { return &self->refused; }
