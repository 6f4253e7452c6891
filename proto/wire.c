/* wire — see wire.h. */
#include "wire.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"

bool wire_lane_id_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(isalnum(c) || c == '_' || c == '-') || n >= WIRE_LANE_ID_MAX)
            return false;
    }
    return n > 0;
}

bool wire_interval_valid(int64_t ms)
{
    if (ms >= WIRE_INTERVAL_MIN_MS && ms <= 1000)
        return 1000 % ms == 0;
    return ms > 1000 && ms <= 60000 && ms % 1000 == 0 && 60000 % ms == 0;
}

static int s_fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -1;
}

static int s_check_batch(const Poenet__Batch *b, char *why, size_t len)
{
    if (!tax_crossing_id_valid(b->crossing))
        return s_fail(why, len, "batch: crossing '%.16s' is not a 6-digit port number", b->crossing);
    if (!tax_dir_valid((int)b->direction))
        return s_fail(why, len, "batch: direction %u unknown", b->direction);
    if (b->seq == 0)
        return s_fail(why, len, "batch: seq 0 (sequences start at 1)");
    if (b->n_queues > WIRE_MAX_QUEUE_SAMPLES || b->n_lanes > WIRE_MAX_LANE_SAMPLES)
        return s_fail(why, len, "batch: too many samples (%zu queue, %zu lane)", b->n_queues, b->n_lanes);
    for (size_t i = 0; i < b->n_queues; i++) {
        const Poenet__QueueSample *q = b->queues[i];
        if (!tax_mode_valid((int)q->mode) || !tax_type_valid((int)q->type))
            return s_fail(why, len, "batch: queue sample %zu: mode %u / type %u unknown", i, q->mode, q->type);
    }
    for (size_t i = 0; i < b->n_lanes; i++) {
        const Poenet__LaneSample *l = b->lanes[i];
        if (!wire_lane_id_valid(l->lane_id))
            return s_fail(why, len, "batch: lane sample %zu: bad lane id", i);
        if (!tax_mode_valid((int)l->mode) || !tax_type_valid((int)l->type))
            return s_fail(why, len, "batch: lane sample %zu: mode %u / type %u unknown", i, l->mode, l->type);
    }
    return 0;
}

static bool s_reason_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_') || n >= WIRE_REASON_MAX)
            return false;
    return n > 0;
}

static int s_check_ack(const Poenet__Ack *a, char *why, size_t len)
{
    if (a->n_refused > WIRE_MAX_REFUSED)
        return s_fail(why, len, "ack: %zu refusal reasons (at most %d)", a->n_refused,
                      WIRE_MAX_REFUSED);
    for (size_t i = 0; i < a->n_refused; i++)
        if (!s_reason_valid(a->refused[i]->reason))
            return s_fail(why, len, "ack: refusal %zu: reason is not 1..%d of [a-z_]", i,
                          WIRE_REASON_MAX);
    return 0;
}

int wire_refusals_add(wire_refusals_t *r, const char *reason, uint32_t n, uint64_t t_end_ms)
{
    if (!s_reason_valid(reason))
        return -1;
    size_t i = 0;
    while (i < r->n && strcmp(r->v[i].reason, reason) != 0)
        i++;
    if (i == r->n) {
        if (r->n == WIRE_MAX_REFUSED)
            return -1;
        memset(&r->v[i], 0, sizeof r->v[i]);
        snprintf(r->v[i].reason, sizeof r->v[i].reason, "%s", reason);
        r->n++;
    }
    r->v[i].samples += n;
    if (t_end_ms && (!r->v[i].first_t_end_ms || t_end_ms < r->v[i].first_t_end_ms))
        r->v[i].first_t_end_ms = t_end_ms;
    return 0;
}

void wire_refusals_from_ack(const Poenet__Ack *ack, wire_refusals_t *out)
{
    memset(out, 0, sizeof *out);
    out->seq = ack->has_refused_seq ? ack->refused_seq : 0;
    out->collector_ms = ack->has_collector_ms ? (int64_t)ack->collector_ms : 0;
    for (size_t i = 0; i < ack->n_refused; i++) {
        const Poenet__Refused *f = ack->refused[i];
        wire_refusals_add(out, f->reason, f->samples,
                          f->has_first_t_end_ms ? f->first_t_end_ms : 0);
    }
}

/* protobuf-c keeps the fields it does not know, with their numbers, and
 * re-packs them as read. It also reads numbers the encoding forbids: 0
 * written in two bytes (0x80 0x00) and numbers past 2^29-1 in five. Packed
 * again, a field numbered 0 becomes a one-byte tag that no decoder takes,
 * so a frame carrying one could not be re-stamped into a frame that decodes
 * (found by fuzz_wire). Such a frame is malformed: refused whole. */
#define WIRE_MAX_FIELD_NUMBER 536870911u /* 2^29 - 1 */

static bool s_field_numbers_valid(const ProtobufCMessage *m, uint32_t *bad)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++) {
        uint32_t tag = m->unknown_fields[i].tag;
        if (tag == 0 || tag > WIRE_MAX_FIELD_NUMBER) {
            *bad = tag;
            return false;
        }
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
            for (size_t j = 0; j < n; j++)
                if (!s_field_numbers_valid(arr[j], bad))
                    return false;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(const void *)(base + f->offset);
        if (sub && !s_field_numbers_valid(sub, bad))
            return false;
    }
    return true;
}

int wire_decode(const void *buf, size_t len, Poenet__Envelope **out, char *why, size_t whylen)
{
    *out = NULL;
    if (len == 0)
        return s_fail(why, whylen, "empty frame");
    if (len > WIRE_MAX_FRAME)
        return s_fail(why, whylen, "frame too large: %zu bytes (limit %d)", len, WIRE_MAX_FRAME);
    Poenet__Envelope *m = poenet__envelope__unpack(NULL, len, buf);
    if (!m)
        return s_fail(why, whylen, "not a poenet message (%zu bytes failed to decode)", len);
    int rc = 0;
    uint32_t bad = 0;
    if (!s_field_numbers_valid(&m->base, &bad)) {
        poenet__envelope__free_unpacked(m, NULL);
        return s_fail(why, whylen, "field number %u is not valid (1..%u)", bad, WIRE_MAX_FIELD_NUMBER);
    }
    switch (m->body_case) {
    case POENET__ENVELOPE__BODY_BATCH:
        rc = s_check_batch(m->batch, why, whylen);
        break;
    case POENET__ENVELOPE__BODY_ACK:
        rc = s_check_ack(m->ack, why, whylen);
        break;
    case POENET__ENVELOPE__BODY_HEARTBEAT:
        break;
    default:
        rc = s_fail(why, whylen, "envelope carries no body");
        break;
    }
    if (rc != 0) {
        poenet__envelope__free_unpacked(m, NULL);
        return -1;
    }
    *out = m;
    return 0;
}

void wire_free(Poenet__Envelope **msg_p)
{
    if (*msg_p) {
        poenet__envelope__free_unpacked(*msg_p, NULL);
        *msg_p = NULL;
    }
}

static uint8_t *s_pack(const Poenet__Envelope *env, size_t *len)
{
    *len = poenet__envelope__get_packed_size(env);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        poenet__envelope__pack(env, buf);
    return buf;
}

uint8_t *wire_pack_ack(uint64_t epoch, uint64_t acked_seq, uint64_t durable_seq, bool resend,
                       const char *error, size_t *len)
{
    return wire_pack_ack_refused(epoch, acked_seq, durable_seq, resend, error, NULL, len);
}

uint8_t *wire_pack_ack_refused(uint64_t epoch, uint64_t acked_seq, uint64_t durable_seq,
                               bool resend, const char *error, const wire_refusals_t *refused,
                               size_t *len)
{
    Poenet__Refused rv[WIRE_MAX_REFUSED];
    Poenet__Refused *rp[WIRE_MAX_REFUSED];
    Poenet__Ack ack = POENET__ACK__INIT;
    size_t n = refused ? refused->n : 0;
    for (size_t i = 0; i < n && i < WIRE_MAX_REFUSED; i++) {
        poenet__refused__init(&rv[i]);
        rv[i].reason = (char *)refused->v[i].reason;
        rv[i].samples = refused->v[i].samples;
        rv[i].has_first_t_end_ms = refused->v[i].first_t_end_ms > 0;
        rv[i].first_t_end_ms = refused->v[i].first_t_end_ms;
        rp[i] = &rv[i];
    }
    if (n) {
        ack.n_refused = n;
        ack.refused = rp;
        ack.has_refused_seq = true;
        ack.refused_seq = refused->seq;
        ack.has_collector_ms = refused->collector_ms > 0;
        ack.collector_ms = (uint64_t)refused->collector_ms;
    }
    ack.epoch = epoch;
    ack.acked_seq = acked_seq;
    ack.has_durable_seq = true;
    ack.durable_seq = durable_seq;
    ack.has_resend = resend;
    ack.resend = resend;
    ack.error = (char *)error;
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    return s_pack(&env, len);
}

uint8_t *wire_pack_refusal(uint64_t epoch, const char *error, size_t *len)
{
    Poenet__Ack ack = POENET__ACK__INIT;
    ack.epoch = epoch;
    ack.error = (char *)error;
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    return s_pack(&env, len);
}

uint8_t *wire_pack_heartbeat(uint64_t epoch, uint64_t t_ms, const wire_agent_status_t *st,
                             size_t *len)
{
    Poenet__Heartbeat hb = POENET__HEARTBEAT__INIT;
    hb.epoch = epoch;
    hb.t_ms = t_ms;
    if (st) {
        hb.crossing = (char *)st->crossing;
        hb.has_direction = true;
        hb.direction = (uint32_t)st->direction;
        hb.has_spool_batches = true;
        hb.spool_batches = st->spool_batches;
        hb.has_oldest_unacked_ms = st->oldest_unacked_ms > 0;
        hb.oldest_unacked_ms = st->oldest_unacked_ms;
    }
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    return s_pack(&env, len);
}

struct wire_batch {
    char crossing[8];
    int direction;
    uint64_t epoch;
    uint32_t interval_ms;
    size_t nq, nl;
    Poenet__QueueSample q[WIRE_MAX_QUEUE_SAMPLES];
    Poenet__LaneSample l[WIRE_MAX_LANE_SAMPLES];
    char lane_ids[WIRE_MAX_LANE_SAMPLES][WIRE_LANE_ID_MAX + 1];
};

wire_batch_t *wire_batch_new(const char *crossing, int direction, uint64_t epoch, uint32_t interval_ms)
{
    wire_batch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->crossing, sizeof self->crossing, "%s", crossing);
    self->direction = direction;
    self->epoch = epoch;
    self->interval_ms = interval_ms;
    return self;
}

void wire_batch_destroy(wire_batch_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

int wire_batch_add_queue(wire_batch_t *self, const wire_queue_sample_t *s)
{
    if (self->nq >= WIRE_MAX_QUEUE_SAMPLES)
        return -1;
    Poenet__QueueSample *q = &self->q[self->nq++];
    poenet__queue_sample__init(q);
    q->t_end_ms = (uint64_t)s->t_end_ms;
    q->mode = (uint32_t)s->mode;
    q->type = (uint32_t)s->type;
    q->arrivals = s->arrivals;
    q->departures = s->departures;
    q->lanes_open = s->lanes_open;
    q->has_queue_len = s->has_queue_len;
    q->queue_len = s->queue_len;
    if (s->tt_count) {
        q->has_tt_count = q->has_tt_sum_s = q->has_tt_max_s = true;
        q->tt_count = s->tt_count;
        q->tt_sum_s = s->tt_sum_s;
        q->tt_max_s = s->tt_max_s;
    }
    return 0;
}

int wire_batch_add_lane(wire_batch_t *self, const wire_lane_sample_t *s)
{
    if (self->nl >= WIRE_MAX_LANE_SAMPLES)
        return -1;
    size_t i = self->nl++;
    Poenet__LaneSample *l = &self->l[i];
    poenet__lane_sample__init(l);
    snprintf(self->lane_ids[i], sizeof self->lane_ids[i], "%s", s->lane_id);
    l->t_end_ms = (uint64_t)s->t_end_ms;
    l->lane_id = self->lane_ids[i];
    l->mode = (uint32_t)s->mode;
    l->type = (uint32_t)s->type;
    l->departures = s->departures;
    l->open = s->open;
    return 0;
}

size_t wire_batch_count(const wire_batch_t *self) { return self->nq + self->nl; }

uint8_t *wire_batch_pack(wire_batch_t *self, uint64_t seq, uint64_t bad_lines, size_t *len)
{
    Poenet__QueueSample *qp[WIRE_MAX_QUEUE_SAMPLES];
    Poenet__LaneSample *lp[WIRE_MAX_LANE_SAMPLES];
    for (size_t i = 0; i < self->nq; i++)
        qp[i] = &self->q[i];
    for (size_t i = 0; i < self->nl; i++)
        lp[i] = &self->l[i];
    Poenet__Batch b = POENET__BATCH__INIT;
    b.crossing = self->crossing;
    b.direction = (uint32_t)self->direction;
    b.epoch = self->epoch;
    b.seq = seq;
    b.interval_ms = self->interval_ms;
    b.n_queues = self->nq;
    b.queues = qp;
    b.n_lanes = self->nl;
    b.lanes = lp;
    b.has_bad_lines = true;
    b.bad_lines = bad_lines;
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    uint8_t *buf = s_pack(&env, len);
    self->nq = self->nl = 0;
    return buf;
}

uint8_t *wire_batch_restamp(const uint8_t *buf, size_t len, uint64_t dropped_through,
                            size_t *out_len)
{
    Poenet__Envelope *env = poenet__envelope__unpack(NULL, len, buf);
    if (!env)
        return NULL;
    uint8_t *out = NULL;
    uint32_t bad = 0;
    if (env->body_case == POENET__ENVELOPE__BODY_BATCH && s_field_numbers_valid(&env->base, &bad)) {
        Poenet__Batch *b = env->batch;
        b->has_dropped_through = dropped_through > 0;
        b->dropped_through = dropped_through;
        out = s_pack(env, out_len);
    }
    poenet__envelope__free_unpacked(env, NULL);
    return out;
}
