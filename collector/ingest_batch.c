/* ingest_batch — the batch half of ingest (see ingest.h and ingest_int.h):
 * an agent's batch judged against its session, sender and samples,
 * estimated on shadow copies of its queues and staged in the archive; the
 * group of batches of different agents sent to rrdcached in one BATCH and
 * committed or refused together; heartbeats. */
#include "ingest_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "owner.h"
#include "timeutil.h"
#include "validate.h"

static qstate_t *s_shadow(member_t *m, enum tax_dir dir, int k)
{
    if (!m->touched[k]) {
        m->shadow[k] = *m->x->q[dir - 1][k];
        m->touched[k] = true;
    }
    return &m->shadow[k];
}

/* Estimate and stage one queue sample. Returns 1 staged, 0 skipped (already
 * applied/archived), -1 archive unreachable. */
static int s_stage_queue(ingest_t *self, member_t *m, const Poenet__Batch *b,
                         const Poenet__QueueSample *q, int64_t now_ms)
{
    enum tax_mode md = (enum tax_mode)q->mode;
    enum tax_type t = (enum tax_type)q->type;
    qstate_t *sh = s_shadow(m, (enum tax_dir)b->direction, tax_queue_index(md, t));
    const plan_t *plan = m->x->plan[b->direction - 1];
    plan_ref_t ref = { .plan = plan, .queue = tax_queue_index(md, t) };
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
    arch_queue_row_t row = { .t_ms = (int64_t)q->t_end_ms,
                             .interval_ms = b->interval_ms, .arrivals = q->arrivals,
                             .departures = q->departures, .lanes_open = q->lanes_open,
                             .queue = fresh ? sh->out.queue : NAN,
                             .wait_s = fresh && sh->out.has_wait ? sh->out.wait_s : NAN };
    return arch_add_queue(self->ctx.archive, b->crossing, (enum tax_dir)b->direction, md, t, &row);
}

static int s_stage_lane(ingest_t *self, const Poenet__Batch *b, const Poenet__LaneSample *l)
{
    arch_lane_row_t row = { .t_ms = (int64_t)l->t_end_ms,
                            .interval_ms = b->interval_ms, .departures = l->departures,
                            .open = l->open };
    return arch_add_lane(self->ctx.archive, b->crossing, (enum tax_dir)b->direction, l->lane_id,
                         &row);
}

/* A sample refused by validation: counted by reason, and remembered for
 * the batch's ack and its one log line (s_log_refused). */
static void s_refuse_sample(ingest_t *self, member_t *m, enum stats_reject code,
                            uint64_t t_end_ms, const char *why)
{
    self->ctx.stats->rejected[code]++;
    size_t before = m->refused.n;
    wire_refusals_add(&m->refused, stats_reject_name(code), 1, t_end_ms);
    if (m->refused.n > before)
        snprintf(m->refused_why[code], sizeof m->refused_why[code], "%s", why);
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
static void s_log_refused(const member_t *m, sess_t *s, uint64_t seq, int64_t now_mono)
{
    for (size_t i = 0; i < m->refused.n; i++) {
        int r = stats_reject_parse(m->refused.v[i].reason);
        if (r >= 0)
            s->refused[r] += m->refused.v[i].samples;
    }
    if (m->refused.n == 0 ||
        (s->refused_log_ms && now_mono - s->refused_log_ms < INGEST_REFUSED_LOG_MS))
        return;
    uint64_t total = s_refused_total(s);
    char line[400];
    int n = snprintf(line, sizeof line, "%s: batch %" PRIu64 ": samples refused:", m->who, seq);
    for (size_t i = 0; i < m->refused.n && n > 0 && (size_t)n < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %s %u", m->refused.v[i].reason,
                      m->refused.v[i].samples);
    int r0 = stats_reject_parse(m->refused.v[0].reason);
    log_warn("%s (%" PRIu64 " refused since the last such line); first: %s", line,
             total - s->refused_logged, r0 >= 0 ? m->refused_why[r0] : "?");
    s->refused_log_ms = now_mono;
    s->refused_logged = total;
}

/* Validate and stage every sample; returns samples staged, -1 when the
 * archive could not be reached. */
static long s_stage_batch(ingest_t *self, member_t *m, const Poenet__Batch *b, int64_t min_t_ms,
                          int64_t now_ms)
{
    val_ctx_t vctx = { .now_ms = now_ms, .max_skew_ms = self->ctx.max_skew_ms,
                       .min_t_ms = min_t_ms };
    char why[200];
    enum stats_reject code;
    long staged = 0;
    memset(m->touched, 0, sizeof m->touched);
    memset(&m->refused, 0, sizeof m->refused);
    for (size_t i = 0; i < b->n_queues; i++) {
        wire_mask_put(&m->valid_q, i, false);
        if (val_queue_sample(&vctx, b, m->x->reg, b->queues[i], why, sizeof why, &code) != 0) {
            s_refuse_sample(self, m, code, b->queues[i]->t_end_ms, why);
            continue;
        }
        wire_mask_put(&m->valid_q, i, true);
        int rc = s_stage_queue(self, m, b, b->queues[i], now_ms);
        if (rc < 0)
            return -1;
        staged += rc;
        self->ctx.stats->samples_already_archived += rc == 0;
    }
    for (size_t i = 0; i < b->n_lanes; i++) {
        wire_mask_put(&m->valid_l, i, false);
        if (val_lane_sample(&vctx, b, m->x->reg, b->lanes[i], why, sizeof why, &code) != 0) {
            s_refuse_sample(self, m, code, b->lanes[i]->t_end_ms, why);
            continue;
        }
        wire_mask_put(&m->valid_l, i, true);
        int rc = s_stage_lane(self, b, b->lanes[i]);
        if (rc < 0)
            return -1;
        staged += rc;
        self->ctx.stats->samples_already_archived += rc == 0;
    }
    return staged;
}

static void s_commit_state(ingest_t *self, member_t *m, enum tax_dir dir)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        if (!m->touched[k])
            continue;
        if (state_commit(self->ctx.state, m->x, dir, k, &m->shadow[k]) != 0) {
            /* archived, but the views keep the queue's previous state
             * until its next sample */
            log_error("ingest: out of memory for a queue of %s", m->x->reg->id);
            continue;
        }
        if (self->ctx.on_change)
            self->ctx.on_change(self->ctx.on_change_arg, m->x, dir, k);
    }
}

static uint8_t *s_ack(const sess_t *s, bool resend, const char *error, size_t *reply_len)
{
    return wire_pack_ack(s->epoch, s->acked_seq, s->durable_seq, resend, error, reply_len);
}

/* The ack of a batch just archived, with what of it was refused. */
static uint8_t *s_ack_refused(member_t *m, const sess_t *s, uint64_t seq, int64_t now_ms,
                              size_t *reply_len)
{
    m->refused.seq = seq;
    m->refused.collector_ms = now_ms;
    return wire_pack_ack_refused(s->epoch, s->acked_seq, s->durable_seq, false, NULL,
                                 &m->refused, reply_len);
}

/* rrdcached may have lost rows it accepted: go back to what is on disk. */
void ingest_check_archive(ingest_t *self)
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

/* ---- the group: batches of different agents committed in one BATCH ------------ */

/* A member's reply goes to its sender now (socket path) or back to the
 * caller of ingest_handle_frame (*out). */
static void s_member_reply(ingest_t *self, member_t *m, uint8_t *reply, size_t len,
                           uint8_t **out, size_t *out_len)
{
    if (m->has_id && reply) {
        /* ROUTER drops replies to vanished peers: the agent resends. */
        zmq_send(self->sock, zmq_msg_data(&m->id), zmq_msg_size(&m->id),
                 ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(self->sock, reply, len, ZMQ_DONTWAIT);
        self->group_sent = true;
        free(reply);
    } else if (out) {
        *out = reply;
        *out_len = len;
    } else {
        free(reply);
    }
    if (m->has_id)
        zmq_msg_close(&m->id);
    m->has_id = false;
    wire_free(&m->env);
}

/* rrdcached accepted the group: this member's batch counts. */
static uint8_t *s_member_accepted(ingest_t *self, member_t *m, size_t *reply_len)
{
    const Poenet__Batch *b = m->env->batch;
    enum tax_dir dir = (enum tax_dir)b->direction;
    sess_t *s = sess_get(self->sessions, b->crossing, dir);
    if (!s)
        return NULL;
    s_commit_state(self, m, dir);
    s->solo = false;
    bool resent = sess_is_resend(s, b->seq);
    sess_commit(s, b->seq);
    if (self->ctx.on_batch)
        self->ctx.on_batch(self->ctx.on_batch_arg, b, &m->valid_q, &m->valid_l, resent);
    if (b->has_bad_lines && b->bad_lines > s->bad_lines) {
        self->ctx.stats->agent_bad_lines += b->bad_lines - s->bad_lines;
        s->bad_lines = b->bad_lines;
    }
    for (size_t i = 0; i < b->n_queues; i++)
        if ((int64_t)b->queues[i]->t_end_ms > s->newest_ms)
            s->newest_ms = (int64_t)b->queues[i]->t_end_ms;
    uint64_t refused = 0;
    for (size_t i = 0; i < m->refused.n; i++)
        refused += m->refused.v[i].samples;
    s_log_refused(m, s, b->seq, tu_mono_ms());
    /* A batch of which nothing was valid is delivered (resending cannot
     * help) but not "accepted": its ack says why, sample by reason. */
    if (refused > 0 && refused == b->n_queues + b->n_lanes)
        self->ctx.stats->batches_refused++;
    else
        self->ctx.stats->batches_accepted++;
    self->ctx.stats->samples_accepted += (uint64_t)m->staged;
    return s_ack_refused(m, s, b->seq, m->now_ms, reply_len);
}

/* Nothing of these members counts: each is refused with why, and asked to
 * resend from its session's accepted point when rrdcached restarted. */
static void s_members_fail(ingest_t *self, member_t *ms, size_t n, bool restarted,
                           const char *why, uint8_t **out, size_t *out_len)
{
    for (size_t i = 0; i < n; i++) {
        member_t *m = &ms[i];
        const Poenet__Batch *b = m->env->batch;
        sess_t *s = sess_get(self->sessions, b->crossing, (enum tax_dir)b->direction);
        char line[300];
        if (restarted)
            snprintf(line, sizeof line, "rrdcached restarted while the batch was staged: send "
                     "again from batch %" PRIu64, s ? s->acked_seq + 1 : 0);
        else
            snprintf(line, sizeof line, "%s", why);
        ingest_reject(self, REJ_ARCHIVE, m->who, line);
        /* Which member's rows rrdcached refused is not known: each goes
         * alone next time, so one broken file cannot hold back the others
         * it happens to arrive with, batch after batch. */
        if (s && !restarted && n > 1)
            s->solo = true;
        size_t len = 0;
        uint8_t *reply = s ? s_ack(s, restarted, line, &len) : NULL;
        s_member_reply(self, m, reply, len, out, out_len);
    }
}

/* rrdcached accepted these members' rows: each batch counts, in order. */
static void s_members_accept(ingest_t *self, member_t *ms, size_t n, uint8_t **out,
                             size_t *out_len)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        uint8_t *reply = s_member_accepted(self, &ms[i], &len);
        s_member_reply(self, &ms[i], reply, len, out, out_len);
    }
}

/* Nothing of the group counts (see s_members_fail). */
static void s_group_fail(ingest_t *self, bool restarted, const char *why, uint8_t **out,
                         size_t *out_len)
{
    arch_abort(self->ctx.archive);
    if (restarted)
        ingest_check_archive(self);
    s_members_fail(self, self->group, self->ngroup, restarted, why, out, out_len);
    self->ngroup = 0;
    self->group_rows = 0;
}

/* Wait for the oldest group in flight, count and answer its members. */
static void s_flight_land(ingest_t *self)
{
    ingest_flight_t *f = &self->flights[self->ffirst];
    char why[300];
    int rc = arch_commit_wait(self->ctx.archive, why, sizeof why);
    size_t n = f->n;
    f->n = 0;
    /* Off the ring before the replies: they may not land it again. */
    self->ffirst = (self->ffirst + 1) % INGEST_FLIGHTS;
    self->nflights--;
    /* Rows lost meanwhile (a sync found them unwritten, a new connection)
     * rolled the sessions back: counting this group would skip what must
     * come again, as in s_group_check. */
    bool restarted = arch_generation(self->ctx.archive) != f->gen;
    if (restarted)
        ingest_check_archive(self);
    if (rc == 0 && !restarted)
        s_members_accept(self, f->m, n, NULL, NULL);
    else
        s_members_fail(self, f->m, n, restarted, why, NULL, NULL);
}

void ingest_flights_land(ingest_t *self, size_t n)
{
    while (n-- > 0 && self->nflights > 0)
        s_flight_land(self);
}

void ingest_flights_land_ready(ingest_t *self)
{
    while (self->nflights > 0 && arch_commit_ready(self->ctx.archive))
        s_flight_land(self);
}

/* Send the group's rows to rrdcached in one BATCH; on success commit and
 * acknowledge every member in order, else refuse them all. */
void ingest_group_end(ingest_t *self, uint8_t **out, size_t *out_len)
{
    ingest_flights_land(self, INGEST_FLIGHTS);
    if (self->ngroup == 0)
        return;
    char why[300];
    if (arch_commit(self->ctx.archive, why, sizeof why) != 0) {
        s_group_fail(self, false, why, out, out_len);
        return;
    }
    s_members_accept(self, self->group, self->ngroup, out, out_len);
    self->ngroup = 0;
    self->group_rows = 0;
}

void ingest_group_launch(ingest_t *self)
{
    ingest_flights_land_ready(self);
    if (self->ngroup == 0)
        return;
    if (self->nflights == INGEST_FLIGHTS)
        ingest_flights_land(self, 1);
    char why[300];
    int rc = arch_commit_send(self->ctx.archive, why, sizeof why);
    if (rc < 0) {
        s_group_fail(self, false, why, NULL, NULL);
        return;
    }
    if (rc > 0) {   /* nothing to write: every row was archived before */
        s_members_accept(self, self->group, self->ngroup, NULL, NULL);
    } else {
        ingest_flight_t *f = &self->flights[(self->ffirst + self->nflights++) % INGEST_FLIGHTS];
        member_t *t = f->m;
        f->m = self->group;
        f->n = self->ngroup;
        f->gen = self->arch_gen;   /* s_group_check: the group agrees with it */
        self->group = t;
        ingest_flight_watch(self);
    }
    self->ngroup = 0;
    self->group_rows = 0;
}

/* Where a batch of this crossing direction waits: 1 in the group, 2 + i
 * in the i-th flight (oldest first), 0 nowhere. */
static size_t s_pending(const ingest_t *self, const char *crossing, uint32_t dir)
{
    for (size_t i = 0; i < self->ngroup; i++) {
        const Poenet__Batch *o = self->group[i].env->batch;
        if (o->direction == dir && strcmp(o->crossing, crossing) == 0)
            return 1;
    }
    for (size_t k = 0; k < self->nflights; k++) {
        const ingest_flight_t *f = &self->flights[(self->ffirst + k) % INGEST_FLIGHTS];
        for (size_t i = 0; i < f->n; i++) {
            const Poenet__Batch *o = f->m[i].env->batch;
            if (o->direction == dir && strcmp(o->crossing, crossing) == 0)
                return 2 + k;
        }
    }
    return 0;
}

/* Whether b must start a group of its own: the group holds a batch of its
 * crossing direction already, or its session goes alone. */
static bool s_must_end(ingest_t *self, const Poenet__Batch *b)
{
    if (self->ngroup == 0)
        return false;
    if (tax_dir_valid((int)b->direction) && tax_crossing_id_valid(b->crossing)) {
        const sess_t *s = sess_find(self->sessions, b->crossing, (enum tax_dir)b->direction);
        if (s && s->solo)
            return true;
    }
    return s_pending(self, b->crossing, b->direction) == 1;
}

/* Judge a batch and, when it is the session's next, stage it into the
 * group. Returns 1 when it joined (its env and id are the group's now; the
 * reply comes with the group's end), 0 with *reply (maybe NULL) when it
 * was answered at once. The group holds no batch of the same crossing
 * direction (the caller ended it first). */
static int s_batch_join(ingest_t *self, Poenet__Envelope *env, zmq_msg_t *id, const char *key,
                        int64_t now_ms, uint8_t **reply, size_t *reply_len)
{
    const Poenet__Batch *b = env->batch;
    char who[48], why[300];
    snprintf(who, sizeof who, "agent %s/%s", b->crossing,
             tax_dir_name((enum tax_dir)b->direction));
    xstate_t *x = state_find(self->ctx.state, b->crossing);
    enum stats_reject code;
    bool backfill = false;
    *reply = NULL;
    if (s_authorize(self, key, b->crossing, b->direction, who, &backfill, why, sizeof why,
                    &code) != 0 ||
        val_batch(b, x ? x->reg : NULL, why, sizeof why, &code) != 0) {
        ingest_reject(self, code, who, why);
        *reply = wire_pack_refusal(b->epoch, why, reply_len);
        return 0;
    }
    sess_t *s = sess_get(self->sessions, b->crossing, (enum tax_dir)b->direction);
    if (!s)
        return 0;
    if (self->ctx.zap && key) {
        if (owner_check(self->ctx.zap, key, b->crossing, s, now_ms, why, sizeof why, &code) != 0) {
            *reply = s_refuse_source(self, s, b, code, why, now_ms, reply_len);
            return 0;
        }
        owner_take(self->ctx.zap, s, key, now_ms);
    }
    s->last_seen_ms = now_ms;
    ingest_check_archive(self);
    switch (sess_judge(s, b->epoch, b->seq, b->has_dropped_through ? b->dropped_through : 0)) {
    case SESS_STALE_EPOCH:
        ingest_reject(self, REJ_STALE_EPOCH, who, "batch from a replaced agent session");
        return 0;
    case SESS_DUPLICATE:
        self->ctx.stats->batches_duplicate++;
        *reply = s_ack(s, false, NULL, reply_len);
        return 0;
    case SESS_GAP:
        self->ctx.stats->rejected[REJ_GAP]++;
        log_debug("%s: seq %" PRIu64 " after %" PRIu64 ": asking for a resend", who, b->seq,
                  s->acked_seq);
        *reply = s_ack(s, true, NULL, reply_len);
        return 0;
    case SESS_ACCEPT:
        break;
    }
    double n = (double)(b->n_queues + b->n_lanes), rate = self->ctx.max_samples_per_s;
    if (rate > 0 && !sess_take_tokens(s, n, rate, rate * 10, now_ms)) {
        snprintf(why, sizeof why, "above %.0f samples/s: not acknowledged, send again later", rate);
        ingest_reject(self, REJ_RATE, who, why);
        *reply = s_ack(s, false, why, reply_len);
        return 0;
    }
    member_t *m = &self->group[self->ngroup++];
    m->env = env;
    m->has_id = id != NULL;
    if (id) {
        zmq_msg_init(&m->id);
        zmq_msg_move(&m->id, id);
    }
    m->x = x;
    m->solo = s->solo;
    m->now_ms = now_ms;
    snprintf(m->who, sizeof m->who, "%s", who);
    int64_t min_t = backfill || self->ctx.max_age_ms <= 0 ? 0 : now_ms - self->ctx.max_age_ms;
    m->staged = s_stage_batch(self, m, b, min_t, now_ms);
    self->group_rows += (long)(b->n_queues + b->n_lanes);
    return 1;
}

/* After a member was staged: a new rrdcached connection opened meanwhile
 * voids the whole group (it was judged against sessions the restart rolls
 * back, and committing it would put its rows in before the lost ones it
 * follows); a staging failure fails it. */
static int s_group_check(ingest_t *self, uint8_t **out, size_t *out_len)
{
    member_t *m = &self->group[self->ngroup - 1];
    if (m->staged >= 0 && arch_generation(self->ctx.archive) != self->arch_gen) {
        s_group_fail(self, true, NULL, out, out_len);
        return -1;
    }
    if (m->staged < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", arch_last_error(self->ctx.archive));
        s_group_fail(self, false, why, out, out_len);
        return -1;
    }
    return 0;
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
            ingest_reject(self, code, who, why);
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
            ingest_check_archive(self);
            return s_ack(s, false, NULL, reply_len);
        }
    }
    return wire_pack_heartbeat(hb->epoch, (uint64_t)now_ms, NULL, reply_len);
}

/* One frame: a batch may join the group (id given: the socket path, whose
 * group ends with the burst or when full); everything else ends the group
 * first — replies to one agent keep their order — and is answered at once.
 * Returns the reply to send now (NULL: none, or it comes with the group). */
uint8_t *ingest_frame(ingest_t *self, const void *data, size_t len, zmq_msg_t *id,
                      const char *peer_key, int64_t now_ms, size_t *reply_len)
{
    self->ctx.stats->frames_in++;
    char why[200];
    Poenet__Envelope *env;
    if (wire_decode(data, len, &env, why, sizeof why) != 0) {
        ingest_reject(self, REJ_DECODE, "frame", why);
        return NULL;
    }
    uint8_t *reply = NULL;
    if (env->body_case == POENET__ENVELOPE__BODY_BATCH) {
        const Poenet__Batch *b = env->batch;
        if (!id)
            ingest_group_end(self, NULL, NULL);
        else if (s_must_end(self, b))
            ingest_group_launch(self);
        /* Its session's previous batch must count first. */
        size_t where = s_pending(self, b->crossing, b->direction);
        if (where >= 2)
            ingest_flights_land(self, where - 1);
        if (s_batch_join(self, env, id, peer_key, now_ms, &reply, reply_len) == 0) {
            wire_free(&env);
            return reply;
        }
        if (s_group_check(self, &reply, reply_len) != 0)
            return reply;
        if (!id)
            ingest_group_end(self, &reply, reply_len);
        else if (self->ngroup == INGEST_GROUP_MAX || self->group_rows >= INGEST_GROUP_ROWS ||
                 self->group[self->ngroup - 1].solo)
            ingest_group_launch(self);
        return reply;
    }
    if (env->body_case == POENET__ENVELOPE__BODY_HEARTBEAT) {
        /* Replies to one agent keep their order: a batch of its session
         * still waiting is answered first. Other sessions' do not wait. */
        const Poenet__Heartbeat *hb = env->heartbeat;
        size_t where = hb->crossing && hb->has_direction ? s_pending(self, hb->crossing,
                                                                     hb->direction) : 0;
        if (!id || where == 1)
            ingest_group_end(self, NULL, NULL);
        else if (where >= 2)
            ingest_flights_land(self, where - 1);
        reply = s_handle_heartbeat(self, hb, peer_key, now_ms, reply_len);
    } else {
        ingest_reject(self, REJ_NOT_BATCH, "frame", "agents send batches and heartbeats only");
    }
    wire_free(&env);
    return reply;
}

uint8_t *ingest_handle_frame(ingest_t *self, const void *data, size_t len, const char *peer_key,
                             int64_t now_ms, size_t *reply_len)
{
    return ingest_frame(self, data, len, NULL, peer_key, now_ms, reply_len);
}
