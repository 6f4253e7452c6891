/* ingest — see ingest.h. */
#include "ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "curvesock.h"
#include "log.h"
#include "owner.h"
#include "peerwatch.h"
#include "timeutil.h"
#include "validate.h"
#include "vec.h"
#include "wire.h"
#include "zwatch.h"

/* Frames handled per wake-up before yielding to HTTP and timers. Measured
 * (docs/performance.md 1b): 16 per turn cut /health's worst wait in a
 * catch-up flood from ~3 s to ~1.3 s but halved the rate and doubled the
 * time to durable; the loop's other work keeps /health far from 20 ms
 * either way, so the rate wins. */
#define INGEST_BURST 256
/* ZMQ_MAXMSGSIZE of the agent socket. Frames above WIRE_MAX_FRAME up to
 * this are received whole, so they can be counted and logged with their
 * peer (`oversized`); beyond it libzmq drops the connection and the 4.3
 * monitor cannot tell that from a peer leaving (docs/security.md). */
#define INGEST_HARD_FRAME (16 * WIRE_MAX_FRAME)
/* Handshake refusals: a peer retrying within this counts once. */
#define INGEST_HANDSHAKE_WINDOW_MS 60000
/* At most one line per agent about refused samples this often. */
#define INGEST_REFUSED_LOG_MS 30000

/* A session's accepted point when a sync started: what that sync makes
 * durable once rrdcached has written it. */
typedef struct {
    char crossing[7];
    enum tax_dir dir;
    uint64_t epoch, acked;
} acked_snap_t;

struct ingest {
    struct event_base *base;
    void *sock;
    void *monitor;              /* PAIR receiving the ROUTER's handshake events */
    peerwatch_t *peers;         /* handshake outcomes per peer (counted once per episode) */
    zwatch_t *watch;
    zwatch_t *watch_monitor;
    struct event *ev_sync;
    ingest_ctx_t ctx;
    sess_table_t *sessions;
    uint64_t arch_gen;          /* archive generation the sessions agree with */
    bool sync_failing;          /* for logging the start and end of an outage once */
    acked_snap_t *snap;         /* per session, at the start of the running sync */
    size_t nsnap, snapcap;
    char last_reject[400];      /* rate limit of repeated rejection lines */
    int64_t last_reject_ms;
    uint64_t repeats;
    /* Shadow queue states of the batch being handled (one crossing
     * direction per batch), committed only once rrdcached accepted it. */
    qstate_t shadow[TAX_NQUEUES];
    bool touched[TAX_NQUEUES];
    bool valid_q[WIRE_MAX_QUEUE_SAMPLES];   /* samples of that batch that passed validation */
    bool valid_l[WIRE_MAX_LANE_SAMPLES];
    wire_refusals_t refused;    /* what of that batch was refused, for its ack */
    char refused_why[REJ_MAX][200]; /* the first reason text per code, for the log */
};

/* Every rejection is counted; the log gets each distinct reason at once and
 * repeats of it at most every 30 s, so a retrying agent cannot flood it. */
static void s_log_limited(ingest_t *self, const char *line);

static void s_reject(ingest_t *self, enum stats_reject code, const char *who, const char *why)
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

static qstate_t *s_shadow(ingest_t *self, xstate_t *x, enum tax_dir dir, int k)
{
    if (!self->touched[k]) {
        self->shadow[k] = x->q[dir - 1][k];
        self->touched[k] = true;
    }
    return &self->shadow[k];
}

/* Estimate and stage one queue sample. Returns 1 staged, 0 skipped (already
 * applied/archived), -1 archive unreachable. */
static int s_stage_queue(ingest_t *self, xstate_t *x, const Poenet__Batch *b,
                         const Poenet__QueueSample *q, int64_t now_ms)
{
    enum tax_mode m = (enum tax_mode)q->mode;
    enum tax_type t = (enum tax_type)q->type;
    qstate_t *sh = s_shadow(self, x, (enum tax_dir)b->direction, tax_queue_index(m, t));
    const plan_t *plan = x->plan[b->direction - 1];
    plan_ref_t ref = { .plan = plan, .queue = tax_queue_index(m, t) };
    est_input_t in = { .plan = plan ? plan_ref_lanes : NULL, .plan_arg = &ref,
                       .t_end_ms = (int64_t)q->t_end_ms, .interval_ms = b->interval_ms,
                       .arrivals = q->arrivals, .departures = q->departures,
                       .lanes_open = q->lanes_open,
                       .has_queue_len = q->has_queue_len, .queue_len = q->queue_len,
                       .tt_count = q->has_tt_count ? q->tt_count : 0,
                       .tt_sum_s = q->tt_sum_s, .tt_max_s = q->tt_max_s };
    /* A sample the state has already counted may still be missing from
     * the archive: rrdcached can lose rows it had accepted, and the
     * rollback that follows brings them again. The archive's time guard
     * decides; the estimate of that moment is gone, so the row says
     * queue and wait unknown rather than today's. */
    bool fresh = qstate_apply(sh, &in, (int64_t)q->t_end_ms, now_ms) == 1;
    arch_queue_row_t row = { .t_s = (int64_t)(q->t_end_ms / 1000),
                             .interval_s = b->interval_ms / 1000, .arrivals = q->arrivals,
                             .departures = q->departures, .lanes_open = q->lanes_open,
                             .queue = fresh ? sh->out.queue : NAN,
                             .wait_s = fresh && sh->out.has_wait ? sh->out.wait_s : NAN };
    return arch_add_queue(self->ctx.archive, b->crossing, (enum tax_dir)b->direction, m, t, &row);
}

static int s_stage_lane(ingest_t *self, const Poenet__Batch *b, const Poenet__LaneSample *l)
{
    arch_lane_row_t row = { .t_s = (int64_t)(l->t_end_ms / 1000),
                            .interval_s = b->interval_ms / 1000, .departures = l->departures,
                            .open = l->open };
    return arch_add_lane(self->ctx.archive, b->crossing, (enum tax_dir)b->direction, l->lane_id,
                         &row);
}

/* A sample refused by validation: counted by reason, and remembered for
 * the batch's ack and its one log line (s_log_refused). */
static void s_refuse_sample(ingest_t *self, enum stats_reject code, uint64_t t_end_ms,
                            const char *why)
{
    self->ctx.stats->rejected[code]++;
    size_t before = self->refused.n;
    wire_refusals_add(&self->refused, stats_reject_name(code), 1, t_end_ms);
    if (self->refused.n > before)
        snprintf(self->refused_why[code], sizeof self->refused_why[code], "%s", why);
}

static uint64_t s_refused_total(const sess_t *s)
{
    uint64_t n = 0;
    for (int r = 0; r < REJ_MAX; r++)
        n += s->refused[r];
    return n;
}

/* After a batch with refused samples is archived: the agent's counts, and
 * one line per agent at most every INGEST_REFUSED_LOG_MS (a clock a day
 * off refuses every sample of every batch: a line each would drown the
 * log). The ack tells the agent the same. */
static void s_log_refused(ingest_t *self, sess_t *s, const char *who, uint64_t seq,
                          int64_t now_mono)
{
    for (size_t i = 0; i < self->refused.n; i++) {
        int r = stats_reject_parse(self->refused.v[i].reason);
        if (r >= 0)
            s->refused[r] += self->refused.v[i].samples;
    }
    if (self->refused.n == 0 ||
        (s->refused_log_ms && now_mono - s->refused_log_ms < INGEST_REFUSED_LOG_MS))
        return;
    uint64_t total = s_refused_total(s);
    char line[400];
    int n = snprintf(line, sizeof line, "%s: batch %" PRIu64 ": samples refused:", who, seq);
    for (size_t i = 0; i < self->refused.n && n > 0 && (size_t)n < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %s %u", self->refused.v[i].reason,
                      self->refused.v[i].samples);
    int r0 = stats_reject_parse(self->refused.v[0].reason);
    log_warn("%s (%" PRIu64 " refused since the last such line); first: %s", line,
             total - s->refused_logged, r0 >= 0 ? self->refused_why[r0] : "?");
    s->refused_log_ms = now_mono;
    s->refused_logged = total;
}

/* Validate and stage every sample; returns samples staged, -1 when the
 * archive could not be reached. */
static long s_stage_batch(ingest_t *self, xstate_t *x, const Poenet__Batch *b,
                          int64_t min_t_ms, int64_t now_ms)
{
    val_ctx_t vctx = { .now_ms = now_ms, .max_skew_ms = self->ctx.max_skew_ms,
                       .min_t_ms = min_t_ms };
    char why[200];
    enum stats_reject code;
    long staged = 0;
    memset(self->touched, 0, sizeof self->touched);
    memset(&self->refused, 0, sizeof self->refused);
    for (size_t i = 0; i < b->n_queues; i++) {
        self->valid_q[i] = false;
        if (val_queue_sample(&vctx, b, x->reg, b->queues[i], why, sizeof why, &code) != 0) {
            s_refuse_sample(self, code, b->queues[i]->t_end_ms, why);
            continue;
        }
        self->valid_q[i] = true;
        int rc = s_stage_queue(self, x, b, b->queues[i], now_ms);
        if (rc < 0)
            return -1;
        staged += rc;
        self->ctx.stats->samples_already_archived += rc == 0;
    }
    for (size_t i = 0; i < b->n_lanes; i++) {
        self->valid_l[i] = false;
        if (val_lane_sample(&vctx, b, x->reg, b->lanes[i], why, sizeof why, &code) != 0) {
            s_refuse_sample(self, code, b->lanes[i]->t_end_ms, why);
            continue;
        }
        self->valid_l[i] = true;
        int rc = s_stage_lane(self, b, b->lanes[i]);
        if (rc < 0)
            return -1;
        staged += rc;
        self->ctx.stats->samples_already_archived += rc == 0;
    }
    return staged;
}

static void s_commit_state(ingest_t *self, xstate_t *x, enum tax_dir dir)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        if (!self->touched[k])
            continue;
        state_commit(self->ctx.state, &x->q[dir - 1][k], &self->shadow[k]);
        if (self->ctx.on_change)
            self->ctx.on_change(self->ctx.on_change_arg, x, dir, k);
    }
}

static uint8_t *s_ack(const sess_t *s, bool resend, const char *error, size_t *reply_len)
{
    return wire_pack_ack(s->epoch, s->acked_seq, s->durable_seq, resend, error, reply_len);
}

/* The ack of a batch just archived, with what of it was refused. */
static uint8_t *s_ack_refused(ingest_t *self, const sess_t *s, uint64_t seq, int64_t now_ms,
                              size_t *reply_len)
{
    self->refused.seq = seq;
    self->refused.collector_ms = now_ms;
    return wire_pack_ack_refused(s->epoch, s->acked_seq, s->durable_seq, false, NULL,
                                 &self->refused, reply_len);
}

/* rrdcached may have lost rows it accepted: go back to what is on disk. */
static void s_check_archive(ingest_t *self)
{
    uint64_t gen = arch_generation(self->ctx.archive);
    if (gen == self->arch_gen)
        return;
    self->arch_gen = gen;
    size_t n = sess_rollback(self->sessions);
    log_warn("archive may have lost accepted rows: %zu agent(s) rolled back to their durable "
             "point and will resend", n);
}

/* With CURVE, the key must be allowed (still: SIGHUP may have revoked it)
 * and bound to this crossing direction. Sets *backfill for the key. */
static int s_authorize(ingest_t *self, const char *key, const char *crossing, uint32_t dir,
                       const char *who, bool *backfill, char *why, size_t whylen,
                       enum stats_reject *code)
{
    *backfill = self->ctx.allow_backfill;
    if (!self->ctx.zap)
        return 0;
    const zap_entry_t *e = zap_lookup(self->ctx.zap, key);
    if (!e) {
        snprintf(why, whylen, "key %.40s is not (or no longer) allowed", key ? key : "(none)");
        *code = REJ_UNAUTHORIZED;
        return -1;
    }
    bool any_crossing = strcmp(e->crossing, "*") == 0, any_dir = e->dir == 0;
    if ((!any_crossing && strcmp(e->crossing, crossing) != 0) ||
        (!any_dir && (uint32_t)e->dir != dir)) {
        snprintf(why, whylen, "key of %s/%s sent data for %s", e->crossing,
                 any_dir ? "*" : tax_dir_name(e->dir), who);
        *code = REJ_WRONG_AGENT;
        return -1;
    }
    *backfill = *backfill || e->backfill;
    return 0;
}

/* A batch refused for its sender (owner.h): counted per batch, logged
 * once per series and INGEST_REFUSED_LOG_MS (a region forwarding what it
 * does not own refuses every batch of every such series). Against a
 * declared owner it is acknowledged as delivered — resending cannot make
 * its sender the owner — with every sample under that reason, so the
 * sender's relay moves on and says it in its log and metrics. Against the
 * first sender of an unowned series (a guess: it may be an unnamed
 * region's old key being rotated) it is refused without delivery, so the
 * sender keeps it and it comes through once that claim lapses. */
static uint8_t *s_refuse_source(ingest_t *self, sess_t *s, const Poenet__Batch *b,
                                enum stats_reject code, const char *why, int64_t now_ms,
                                size_t *reply_len)
{
    self->ctx.stats->rejected[code]++;
    s->source_refused++;
    int64_t mono = tu_mono_ms();
    if (!s->source_log_ms || mono - s->source_log_ms >= INGEST_REFUSED_LOG_MS ||
        s->source_log_code != (int)code) {
        log_warn("agent %s/%s: batch %" PRIu64 " refused (%s): %s (%" PRIu64 " such batch(es) "
                 "since the last line)", b->crossing, tax_dir_name((enum tax_dir)b->direction),
                 b->seq, stats_reject_name(code), why, s->source_refused);
        s->source_log_ms = mono;
        s->source_log_code = (int)code;
        s->source_refused = 0;
    }
    if (code == REJ_SECOND_SOURCE && !zap_owner(self->ctx.zap, b->crossing))
        return wire_pack_refusal(b->epoch, why, reply_len);
    wire_refusals_t r;
    memset(&r, 0, sizeof r);
    uint64_t first = 0;
    for (size_t i = 0; i < b->n_queues; i++)
        if (!first || b->queues[i]->t_end_ms < first)
            first = b->queues[i]->t_end_ms;
    for (size_t i = 0; i < b->n_lanes; i++)
        if (!first || b->lanes[i]->t_end_ms < first)
            first = b->lanes[i]->t_end_ms;
    wire_refusals_add(&r, stats_reject_name(code), (uint32_t)(b->n_queues + b->n_lanes), first);
    r.seq = b->seq;
    r.collector_ms = now_ms;
    self->ctx.stats->batches_refused++;
    return wire_pack_ack_refused(b->epoch, b->seq, b->seq, false, NULL, &r, reply_len);
}

static uint8_t *s_handle_batch(ingest_t *self, const Poenet__Batch *b, const char *key,
                               int64_t now_ms, size_t *reply_len)
{
    char who[48], why[300];
    snprintf(who, sizeof who, "agent %s/%s", b->crossing,
             tax_dir_name((enum tax_dir)b->direction));
    xstate_t *x = state_find(self->ctx.state, b->crossing);
    enum stats_reject code;
    bool backfill = false;
    if (s_authorize(self, key, b->crossing, b->direction, who, &backfill, why, sizeof why,
                    &code) != 0 ||
        val_batch(b, x ? x->reg : NULL, why, sizeof why, &code) != 0) {
        s_reject(self, code, who, why);
        return wire_pack_refusal(b->epoch, why, reply_len);
    }
    sess_t *s = sess_get(self->sessions, b->crossing, (enum tax_dir)b->direction);
    if (!s)
        return NULL;
    if (self->ctx.zap && key) {
        if (owner_check(self->ctx.zap, key, b->crossing, s, now_ms, why, sizeof why, &code) != 0)
            return s_refuse_source(self, s, b, code, why, now_ms, reply_len);
        owner_take(self->ctx.zap, s, key, now_ms);
    }
    s->last_seen_ms = now_ms;
    s_check_archive(self);
    switch (sess_judge(s, b->epoch, b->seq, b->has_dropped_through ? b->dropped_through : 0)) {
    case SESS_STALE_EPOCH:
        s_reject(self, REJ_STALE_EPOCH, who, "batch from a replaced agent session");
        return NULL;
    case SESS_DUPLICATE:
        self->ctx.stats->batches_duplicate++;
        return s_ack(s, false, NULL, reply_len);
    case SESS_GAP:
        self->ctx.stats->rejected[REJ_GAP]++;
        log_debug("%s: seq %" PRIu64 " after %" PRIu64 ": asking for a resend", who, b->seq,
                  s->acked_seq);
        return s_ack(s, true, NULL, reply_len);
    case SESS_ACCEPT:
        break;
    }
    double n = (double)(b->n_queues + b->n_lanes), rate = self->ctx.max_samples_per_s;
    if (rate > 0 && !sess_take_tokens(s, n, rate, rate * 10, now_ms)) {
        snprintf(why, sizeof why, "above %.0f samples/s: not acknowledged, send again later", rate);
        s_reject(self, REJ_RATE, who, why);
        return s_ack(s, false, why, reply_len);
    }
    int64_t min_t = backfill || self->ctx.max_age_ms <= 0 ? 0 : now_ms - self->ctx.max_age_ms;
    long staged = s_stage_batch(self, x, b, min_t, now_ms);
    if (staged >= 0 && arch_generation(self->ctx.archive) != self->arch_gen) {
        /* rrdcached came back while the batch was staged: the batch was
         * judged against sessions the restart rolls back, and committing
         * it would put its rows in before the lost ones it follows (they
         * would then be skipped as old). Roll back and ask for those. */
        arch_abort(self->ctx.archive);
        s_check_archive(self);
        snprintf(why, sizeof why, "rrdcached restarted while the batch was staged: send "
                 "again from batch %" PRIu64, s->acked_seq + 1);
        s_reject(self, REJ_ARCHIVE, who, why);
        return s_ack(s, true, why, reply_len);
    }
    if (staged < 0 || arch_commit(self->ctx.archive, why, sizeof why) != 0) {
        if (staged < 0) {
            arch_abort(self->ctx.archive);
            snprintf(why, sizeof why, "%s", arch_last_error(self->ctx.archive));
        }
        s_reject(self, REJ_ARCHIVE, who, why);
        return s_ack(s, false, why, reply_len);
    }
    s_commit_state(self, x, (enum tax_dir)b->direction);
    bool resent = sess_is_resend(s, b->seq);
    sess_commit(s, b->seq);
    if (self->ctx.on_batch)
        self->ctx.on_batch(self->ctx.on_batch_arg, b, self->valid_q, self->valid_l, resent);
    if (b->has_bad_lines && b->bad_lines > s->bad_lines) {
        self->ctx.stats->agent_bad_lines += b->bad_lines - s->bad_lines;
        s->bad_lines = b->bad_lines;
    }
    for (size_t i = 0; i < b->n_queues; i++)
        if ((int64_t)b->queues[i]->t_end_ms > s->newest_ms)
            s->newest_ms = (int64_t)b->queues[i]->t_end_ms;
    uint64_t refused = 0;
    for (size_t i = 0; i < self->refused.n; i++)
        refused += self->refused.v[i].samples;
    s_log_refused(self, s, who, b->seq, tu_mono_ms());
    /* A batch of which nothing was valid is delivered (resending cannot
     * help) but not "accepted": its ack says why, sample by reason. */
    if (refused > 0 && refused == b->n_queues + b->n_lanes)
        self->ctx.stats->batches_refused++;
    else
        self->ctx.stats->batches_accepted++;
    self->ctx.stats->samples_accepted += (uint64_t)staged;
    return s_ack_refused(self, s, b->seq, now_ms, reply_len);
}

/* An agent's heartbeat: record its status, answer with where it stands. */
static uint8_t *s_handle_heartbeat(ingest_t *self, const Poenet__Heartbeat *hb, const char *key,
                                   int64_t now_ms, size_t *reply_len)
{
    self->ctx.stats->heartbeats_in++;
    bool backfill;
    char why[200];
    enum stats_reject code;
    char who[64];
    if (hb->crossing && hb->has_direction) {
        snprintf(who, sizeof who, "heartbeat of %.8s/%s", hb->crossing,
                 tax_dir_valid((int)hb->direction) ? tax_dir_name((enum tax_dir)hb->direction)
                                                   : "?");
        if (s_authorize(self, key, hb->crossing, hb->direction, who, &backfill, why, sizeof why,
                        &code) != 0) {
            s_reject(self, code, who, why);
            return wire_pack_refusal(hb->epoch, why, reply_len);
        }
    }
    /* Only crossings of the registry get a session: a stranger's heartbeats
     * must not grow the table or the sessions file. */
    if (hb->crossing && hb->has_direction && tax_crossing_id_valid(hb->crossing) &&
        tax_dir_valid((int)hb->direction) && state_find(self->ctx.state, hb->crossing)) {
        sess_t *s = sess_get(self->sessions, hb->crossing, (enum tax_dir)hb->direction);
        /* A second sender's status is not the series' (its batches say why). */
        bool other = s && key && s->source[0] && strcmp(s->source, key) != 0;
        if (s && !other && s->epoch == hb->epoch) {
            s->last_seen_ms = now_ms;
            s->spool_batches = hb->has_spool_batches ? hb->spool_batches : 0;
            s->oldest_unacked_ms = hb->has_oldest_unacked_ms ? (int64_t)hb->oldest_unacked_ms : 0;
            s_check_archive(self);
            return s_ack(s, false, NULL, reply_len);
        }
    }
    return wire_pack_heartbeat(hb->epoch, (uint64_t)now_ms, NULL, reply_len);
}

uint8_t *ingest_handle_frame(ingest_t *self, const void *data, size_t len, const char *peer_key,
                             int64_t now_ms, size_t *reply_len)
{
    self->ctx.stats->frames_in++;
    char why[200];
    Poenet__Envelope *env;
    if (wire_decode(data, len, &env, why, sizeof why) != 0) {
        s_reject(self, REJ_DECODE, "frame", why);
        return NULL;
    }
    uint8_t *reply = NULL;
    switch (env->body_case) {
    case POENET__ENVELOPE__BODY_BATCH:
        reply = s_handle_batch(self, env->batch, peer_key, now_ms, reply_len);
        break;
    case POENET__ENVELOPE__BODY_HEARTBEAT:
        reply = s_handle_heartbeat(self, env->heartbeat, peer_key, now_ms, reply_len);
        break;
    default:
        s_reject(self, REJ_NOT_BATCH, "frame", "agents send batches and heartbeats only");
        break;
    }
    wire_free(&env);
    return reply;
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
    s_reject(self, REJ_OVERSIZED, who, why);
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
        s_reject(self, REJ_DECODE, "frame", "not a single-part message");
    } else if (zmq_msg_size(&body) > WIRE_MAX_FRAME) {
        s_oversized(self, &body);
    } else {
        size_t rlen = 0;
        /* ZAP's user id is the sender's key: it comes with each message,
         * so a key revoked since the handshake is caught here. */
        const char *key = self->ctx.server_key ? zmq_msg_gets(&body, "User-Id") : NULL;
        uint8_t *reply = ingest_handle_frame(self, zmq_msg_data(&body), zmq_msg_size(&body), key,
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

/* What the sync covered is durable: the batches accepted before it started
 * (a session rolled back or restarted meanwhile keeps what it has). */
static size_t s_mark_durable(ingest_t *self)
{
    size_t moved = 0;
    for (size_t i = 0; i < self->nsnap; i++) {
        const acked_snap_t *a = &self->snap[i];
        sess_t *s = sess_get(self->sessions, a->crossing, a->dir);
        if (!s || s->epoch != a->epoch)
            continue;
        uint64_t to = a->acked < s->acked_seq ? a->acked : s->acked_seq;
        if (to > s->durable_seq) {
            s->durable_seq = to;
            moved++;
        }
    }
    return moved;
}

static int s_sync_result(ingest_t *self, int rc, const char *why)
{
    if (rc != 0) {
        if (!self->sync_failing)
            log_error("archive sync failed, acknowledgements held back: %s", why);
        self->sync_failing = true;
        s_check_archive(self);
        return -1;
    }
    if (self->sync_failing)
        log_info("archive sync works again");
    self->sync_failing = false;
    if (s_mark_durable(self) > 0 && self->ctx.sessions_path)
        return sess_save(self->sessions, self->ctx.sessions_path);
    return 0;
}

static void s_synced(void *arg, int rc, const char *why)
{
    s_sync_result(arg, rc, why);
}

int ingest_sync(ingest_t *self)
{
    /* Blocking (at exit): a pipelined sync still running is redone here. */
    arch_sync_cancel(self->ctx.archive);
    s_check_archive(self);
    if (s_snapshot(self) != 0)
        return -1;
    char why[400] = "";
    bool pending = arch_pending_sync(self->ctx.archive) > 0;
    int rc = pending ? arch_sync(self->ctx.archive, why, sizeof why) : 0;
    return s_sync_result(self, rc, why);
}

/* Every sync_ms, unless one is running: a pipelined sync (FLUSH + INFO of
 * every file written since the last one, many in flight on connections of
 * its own) that never blocks the loop; ingest and HTTP go on meanwhile,
 * and rows committed meanwhile wait for the next one. */
static void s_on_sync(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ingest_t *self = arg;
    if (arch_sync_running(self->ctx.archive))
        return;
    s_check_archive(self);
    if (s_snapshot(self) != 0)
        return;
    char why[400] = "";
    int rc = arch_sync_start(self->ctx.archive, self->base, s_synced, self, why, sizeof why);
    if (rc != 0)   /* 1: nothing was pending, everything accepted is on disk */
        s_sync_result(self, rc > 0 ? 0 : -1, why);
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
    self->sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!self->sessions || !self->sock)
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
    zwatch_handlers_t h = { .on_message = s_recv_one, .arg = self, .burst = INGEST_BURST };
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
