/* test_wire — the agent/collector codec: the batch builder packed and
 * decoded back field by field, ack and heartbeat round trips, restamping a
 * spooled batch with dropped_through, and every structural rejection of
 * wire_decode with a specific reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taxonomy.h"
#include "wire.h"

#define T0 1795815000000LL /* a multiple of 5000 ms */

/* why must be non-empty and contain keyword. */
static void s_assert_why(const char *why, const char *keyword)
{
    if (why[0] == '\0')
        fail_msg("empty reason (wanted '%s')", keyword);
    if (!strstr(why, keyword))
        fail_msg("reason '%s' does not mention '%s'", why, keyword);
}

/* Decode must fail; returns nothing, checks *out is NULL and the reason. */
static void s_expect_reject(const void *buf, size_t len, const char *keyword)
{
    Poenet__Envelope *m = (Poenet__Envelope *)0x1;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), -1);
    assert_null(m);
    s_assert_why(why, keyword);
}

/* ---- lane ids ------------------------------------------------------------ */

static void test_lane_id_valid(void **state)
{
    (void)state;
    char id32[33], id33[34];
    memset(id32, 'a', 32);
    id32[32] = '\0';
    memset(id33, 'b', 33);
    id33[33] = '\0';
    assert_true(wire_lane_id_valid("P1"));
    assert_true(wire_lane_id_valid("lane_07-B"));
    assert_true(wire_lane_id_valid("x"));
    assert_true(wire_lane_id_valid(id32));
    assert_false(wire_lane_id_valid(id33));
    assert_false(wire_lane_id_valid(""));
    assert_false(wire_lane_id_valid("a b"));
    assert_false(wire_lane_id_valid("a.b"));
    assert_false(wire_lane_id_valid("a/b"));
    assert_false(wire_lane_id_valid("\xc3\xa9"));
}

/* ---- round trips ----------------------------------------------------------- */

static void test_batch_round_trip(void **state)
{
    (void)state;
    wire_batch_t *b = wire_batch_new("250401", TAX_SOUTHBOUND, 777000123, 5000);
    assert_non_null(b);
    assert_int_equal(wire_batch_count(b), 0);

    wire_queue_sample_t q1 = { .t_end_ms = T0, .mode = TAX_PASSENGER, .type = TAX_READY,
                               .arrivals = 17, .departures = 12, .lanes_open = 4,
                               .has_queue_len = true, .queue_len = 0,
                               .tt_count = 3, .tt_sum_s = 1500, .tt_max_s = 720 };
    wire_queue_sample_t q2 = { .t_end_ms = T0 + 5000, .mode = TAX_COMMERCIAL, .type = TAX_FAST,
                               .arrivals = 0, .departures = 2, .lanes_open = 1,
                               .has_queue_len = false, .queue_len = 99 };
    wire_lane_sample_t l1 = { .t_end_ms = T0, .lane_id = "P-01", .mode = TAX_PASSENGER,
                              .type = TAX_READY, .departures = 3, .open = true };
    wire_lane_sample_t l2 = { .t_end_ms = T0 + 5000, .lane_id = "ped_nexus_2",
                              .mode = TAX_PEDESTRIAN, .type = TAX_NEXUS_SENTRI,
                              .departures = 0, .open = false };
    assert_int_equal(wire_batch_add_queue(b, &q1), 0);
    assert_int_equal(wire_batch_add_lane(b, &l1), 0);
    assert_int_equal(wire_batch_add_queue(b, &q2), 0);
    assert_int_equal(wire_batch_add_lane(b, &l2), 0);
    assert_int_equal(wire_batch_count(b), 4);

    size_t len = 0;
    uint8_t *buf = wire_batch_pack(b, 42, 9, &len);
    assert_non_null(buf);
    assert_true(len > 0);
    assert_int_equal(wire_batch_count(b), 0); /* emptied for reuse */

    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_non_null(m);
    assert_int_equal(m->body_case, POENET__ENVELOPE__BODY_BATCH);
    const Poenet__Batch *pb = m->batch;
    assert_string_equal(pb->crossing, "250401");
    assert_int_equal(pb->direction, TAX_SOUTHBOUND);
    assert_int_equal(pb->epoch, 777000123);
    assert_int_equal(pb->seq, 42);
    assert_int_equal(pb->interval_ms, 5000);
    assert_true(pb->has_bad_lines);
    assert_int_equal(pb->bad_lines, 9);
    assert_false(pb->has_dropped_through);
    assert_int_equal(pb->n_queues, 2);
    assert_int_equal(pb->n_lanes, 2);

    const Poenet__QueueSample *a = pb->queues[0];
    assert_int_equal(a->t_end_ms, T0);
    assert_int_equal(a->mode, TAX_PASSENGER);
    assert_int_equal(a->type, TAX_READY);
    assert_int_equal(a->arrivals, 17);
    assert_int_equal(a->departures, 12);
    assert_int_equal(a->lanes_open, 4);
    assert_true(a->has_queue_len); /* a zero reading is still a reading */
    assert_int_equal(a->queue_len, 0);
    assert_true(a->has_tt_count && a->has_tt_sum_s && a->has_tt_max_s);
    assert_int_equal(a->tt_count, 3);
    assert_int_equal(a->tt_sum_s, 1500);
    assert_int_equal(a->tt_max_s, 720);

    const Poenet__QueueSample *c = pb->queues[1];
    assert_int_equal(c->t_end_ms, T0 + 5000);
    assert_int_equal(c->mode, TAX_COMMERCIAL);
    assert_int_equal(c->type, TAX_FAST);
    assert_int_equal(c->arrivals, 0);
    assert_int_equal(c->departures, 2);
    assert_int_equal(c->lanes_open, 1);
    assert_false(c->has_queue_len);
    assert_false(c->has_tt_count);
    assert_false(c->has_tt_sum_s);
    assert_false(c->has_tt_max_s);

    const Poenet__LaneSample *x = pb->lanes[0];
    assert_int_equal(x->t_end_ms, T0);
    assert_string_equal(x->lane_id, "P-01");
    assert_int_equal(x->mode, TAX_PASSENGER);
    assert_int_equal(x->type, TAX_READY);
    assert_int_equal(x->departures, 3);
    assert_true(x->open);
    const Poenet__LaneSample *y = pb->lanes[1];
    assert_int_equal(y->t_end_ms, T0 + 5000);
    assert_string_equal(y->lane_id, "ped_nexus_2");
    assert_int_equal(y->mode, TAX_PEDESTRIAN);
    assert_int_equal(y->type, TAX_NEXUS_SENTRI);
    assert_int_equal(y->departures, 0);
    assert_false(y->open);
    wire_free(&m);
    assert_null(m);
    wire_free(&m); /* idempotent */
    free(buf);

    /* The emptied batch is reusable: the next pack carries only new samples
     * and the same header. */
    assert_int_equal(wire_batch_add_queue(b, &q2), 0);
    buf = wire_batch_pack(b, 43, 10, &len);
    assert_non_null(buf);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->batch->seq, 43);
    assert_int_equal(m->batch->n_queues, 1);
    assert_int_equal(m->batch->n_lanes, 0);
    assert_string_equal(m->batch->crossing, "250401");
    assert_int_equal(m->batch->bad_lines, 10);
    wire_free(&m);
    free(buf);
    wire_batch_destroy(&b);
    assert_null(b);
}

static void test_batch_full(void **state)
{
    (void)state;
    wire_batch_t *b = wire_batch_new("090101", TAX_NORTHBOUND, 1, 60000);
    wire_queue_sample_t q = { .t_end_ms = T0, .mode = TAX_PEDESTRIAN, .type = TAX_STANDARD,
                              .arrivals = 1 };
    wire_lane_sample_t l = { .t_end_ms = T0, .lane_id = "L1", .mode = TAX_PEDESTRIAN,
                             .type = TAX_STANDARD, .open = true };
    for (int i = 0; i < WIRE_MAX_QUEUE_SAMPLES; i++)
        assert_int_equal(wire_batch_add_queue(b, &q), 0);
    assert_int_equal(wire_batch_add_queue(b, &q), -1);
    for (int i = 0; i < WIRE_MAX_LANE_SAMPLES; i++)
        assert_int_equal(wire_batch_add_lane(b, &l), 0);
    assert_int_equal(wire_batch_add_lane(b, &l), -1);
    assert_int_equal(wire_batch_count(b), WIRE_MAX_QUEUE_SAMPLES + WIRE_MAX_LANE_SAMPLES);

    /* A full batch still fits a frame and decodes. */
    size_t len;
    uint8_t *buf = wire_batch_pack(b, 1, 0, &len);
    assert_non_null(buf);
    assert_true(len <= WIRE_MAX_FRAME);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->batch->n_queues, WIRE_MAX_QUEUE_SAMPLES);
    assert_int_equal(m->batch->n_lanes, WIRE_MAX_LANE_SAMPLES);
    wire_free(&m);
    free(buf);
    wire_batch_destroy(&b);
}

static void test_ack_round_trip(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *buf = wire_pack_ack(1234567890123ULL, 99, 97, true, "archive unreachable", &len);
    assert_non_null(buf);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->body_case, POENET__ENVELOPE__BODY_ACK);
    assert_int_equal(m->ack->epoch, 1234567890123ULL);
    assert_int_equal(m->ack->acked_seq, 99);
    assert_true(m->ack->has_durable_seq);
    assert_int_equal(m->ack->durable_seq, 97);
    assert_true(m->ack->has_resend);
    assert_true(m->ack->resend);
    assert_string_equal(m->ack->error, "archive unreachable");
    wire_free(&m);
    free(buf);

    /* Plain ack: no resend flag, no error, zeros allowed. */
    buf = wire_pack_ack(5, 0, 0, false, NULL, &len);
    assert_non_null(buf);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->body_case, POENET__ENVELOPE__BODY_ACK);
    assert_int_equal(m->ack->epoch, 5);
    assert_int_equal(m->ack->acked_seq, 0);
    assert_int_equal(m->ack->durable_seq, 0);
    assert_false(m->ack->has_resend && m->ack->resend);
    assert_null(m->ack->error);
    wire_free(&m);
    free(buf);
}

/* Protocol 2: what was refused of a batch travels in its ack. */
static void test_ack_refusals_round_trip(void **state)
{
    (void)state;
    wire_refusals_t r = { .seq = 41, .collector_ms = 1767225600000LL };
    assert_int_equal(wire_refusals_add(&r, "future", 3, 1767312000000ULL), 0);
    assert_int_equal(wire_refusals_add(&r, "lanes", 1, 1767225595000ULL), 0);
    assert_int_equal(wire_refusals_add(&r, "future", 2, 1767311995000ULL), 0); /* earlier */
    assert_int_equal(r.n, 2);
    assert_int_equal(wire_refusals_add(&r, "Future!", 1, 0), -1);
    assert_int_equal(wire_refusals_add(&r, "", 1, 0), -1);
    size_t len = 0;
    uint8_t *buf = wire_pack_ack_refused(9, 41, 40, false, NULL, &r, &len);
    assert_non_null(buf);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->ack->acked_seq, 41);
    wire_refusals_t back;
    wire_refusals_from_ack(m->ack, &back);
    assert_int_equal(back.seq, 41);
    assert_int_equal(back.collector_ms, 1767225600000LL);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.v[0].reason, "future");
    assert_int_equal(back.v[0].samples, 5);
    assert_int_equal(back.v[0].first_t_end_ms, 1767311995000ULL);
    assert_string_equal(back.v[1].reason, "lanes");
    assert_int_equal(back.v[1].samples, 1);
    wire_free(&m);
    free(buf);
    /* A protocol-1 ack (an old collector) reads as nothing refused. */
    buf = wire_pack_ack(9, 41, 40, false, NULL, &len);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    wire_refusals_from_ack(m->ack, &back);
    assert_int_equal(back.n, 0);
    assert_int_equal(m->ack->n_refused, 0);
    wire_free(&m);
    free(buf);
    /* The table holds WIRE_MAX_REFUSED reasons. */
    wire_refusals_t full = { 0 };
    char name[8] = "r_";
    for (int i = 0; i < WIRE_MAX_REFUSED; i++) {
        name[2] = (char)('a' + i % 26);
        name[3] = (char)('a' + i / 26);
        name[4] = '\0';
        assert_int_equal(wire_refusals_add(&full, name, 1, 0), 0);
    }
    assert_int_equal(wire_refusals_add(&full, "one_more", 1, 0), -1);
}

/* A hostile ack: too many refusals, or a reason that is not a name. */
static void test_ack_refusals_checked(void **state)
{
    (void)state;
    Poenet__Refused rv[WIRE_MAX_REFUSED + 1], *rp[WIRE_MAX_REFUSED + 1];
    for (int i = 0; i <= WIRE_MAX_REFUSED; i++) {
        poenet__refused__init(&rv[i]);
        rv[i].reason = (char *)"future";
        rv[i].samples = 1;
        rp[i] = &rv[i];
    }
    Poenet__Ack ack = POENET__ACK__INIT;
    ack.refused = rp;
    ack.n_refused = WIRE_MAX_REFUSED + 1;
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    uint8_t buf[4096];
    size_t len = poenet__envelope__pack(&env, buf);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), -1);
    assert_non_null(strstr(why, "refusal reasons"));
    ack.n_refused = 1;
    rv[0].reason = (char *)"fut\nure";
    len = poenet__envelope__pack(&env, buf);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), -1);
    assert_non_null(strstr(why, "reason"));
    assert_null(m);
}

static void test_heartbeat_round_trip(void **state)
{
    (void)state;
    /* The collector's heartbeat: no status. */
    size_t len = 0;
    uint8_t *buf = wire_pack_heartbeat(31337, (uint64_t)T0 + 1, NULL, &len);
    assert_non_null(buf);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->body_case, POENET__ENVELOPE__BODY_HEARTBEAT);
    assert_int_equal(m->heartbeat->epoch, 31337);
    assert_int_equal(m->heartbeat->t_ms, (uint64_t)T0 + 1);
    assert_null(m->heartbeat->crossing);
    assert_false(m->heartbeat->has_direction);
    assert_false(m->heartbeat->has_spool_batches);
    assert_false(m->heartbeat->has_oldest_unacked_ms);
    wire_free(&m);
    free(buf);

    /* An agent's heartbeat carries its status. */
    wire_agent_status_t st = { .crossing = "300401", .direction = TAX_SOUTHBOUND,
                               .spool_batches = 42, .oldest_unacked_ms = (uint64_t)T0 - 9000 };
    buf = wire_pack_heartbeat(7, (uint64_t)T0, &st, &len);
    assert_non_null(buf);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    const Poenet__Heartbeat *hb = m->heartbeat;
    assert_int_equal(hb->epoch, 7);
    assert_string_equal(hb->crossing, "300401");
    assert_true(hb->has_direction);
    assert_int_equal(hb->direction, TAX_SOUTHBOUND);
    assert_true(hb->has_spool_batches);
    assert_int_equal(hb->spool_batches, 42);
    assert_true(hb->has_oldest_unacked_ms);
    assert_int_equal(hb->oldest_unacked_ms, (uint64_t)T0 - 9000);
    wire_free(&m);
    free(buf);

    /* Nothing unacknowledged: no oldest time, an empty spool is 0. */
    st.spool_batches = 0;
    st.oldest_unacked_ms = 0;
    buf = wire_pack_heartbeat(7, (uint64_t)T0, &st, &len);
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_true(m->heartbeat->has_spool_batches);
    assert_int_equal(m->heartbeat->spool_batches, 0);
    assert_false(m->heartbeat->has_oldest_unacked_ms);
    wire_free(&m);
    free(buf);
}

static void test_restamp(void **state)
{
    (void)state;
    wire_batch_t *b = wire_batch_new("250401", TAX_NORTHBOUND, 55, 5000);
    wire_queue_sample_t q = { .t_end_ms = T0, .mode = TAX_PASSENGER, .type = TAX_FAST,
                              .arrivals = 3, .departures = 1, .lanes_open = 2,
                              .has_queue_len = true, .queue_len = 8,
                              .tt_count = 1, .tt_sum_s = 61, .tt_max_s = 61 };
    wire_lane_sample_t l = { .t_end_ms = T0, .lane_id = "F1", .mode = TAX_PASSENGER,
                             .type = TAX_FAST, .departures = 1, .open = true };
    wire_batch_add_queue(b, &q);
    wire_batch_add_lane(b, &l);
    size_t len, nlen = 0;
    uint8_t *buf = wire_batch_pack(b, 120, 4, &len);
    wire_batch_destroy(&b);
    assert_non_null(buf);

    uint8_t *n = wire_batch_restamp(buf, len, 117, &nlen);
    assert_non_null(n);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(n, nlen, &m, why, sizeof why), 0);
    const Poenet__Batch *pb = m->batch;
    assert_true(pb->has_dropped_through);
    assert_int_equal(pb->dropped_through, 117);
    /* Everything else as packed. */
    assert_string_equal(pb->crossing, "250401");
    assert_int_equal(pb->direction, TAX_NORTHBOUND);
    assert_int_equal(pb->epoch, 55);
    assert_int_equal(pb->seq, 120);
    assert_int_equal(pb->interval_ms, 5000);
    assert_int_equal(pb->bad_lines, 4);
    assert_int_equal(pb->n_queues, 1);
    assert_int_equal(pb->queues[0]->arrivals, 3);
    assert_int_equal(pb->queues[0]->queue_len, 8);
    assert_int_equal(pb->queues[0]->tt_sum_s, 61);
    assert_int_equal(pb->n_lanes, 1);
    assert_string_equal(pb->lanes[0]->lane_id, "F1");
    wire_free(&m);

    /* Restamping a restamped batch replaces the mark; 0 removes it. */
    size_t n2len;
    uint8_t *n2 = wire_batch_restamp(n, nlen, 0, &n2len);
    assert_non_null(n2);
    assert_int_equal(wire_decode(n2, n2len, &m, why, sizeof why), 0);
    assert_false(m->batch->has_dropped_through);
    assert_int_equal(m->batch->seq, 120);
    wire_free(&m);
    free(n2);
    free(n);

    /* Not a batch: NULL. */
    uint8_t *ack = wire_pack_ack(1, 2, 2, false, NULL, &len);
    assert_null(wire_batch_restamp(ack, len, 5, &nlen));
    free(ack);
    const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff };
    assert_null(wire_batch_restamp(garbage, sizeof garbage, 5, &nlen));
    free(buf);
}

/* ---- rejections: framing ------------------------------------------------------ */

static void test_reject_empty(void **state)
{
    (void)state;
    uint8_t b = 0;
    s_expect_reject(&b, 0, "empty");
}

static void test_reject_oversized(void **state)
{
    (void)state;
    /* A valid heartbeat followed by padding would not matter: the size is
     * refused before any decoding. */
    uint8_t *big = calloc(1, (size_t)WIRE_MAX_FRAME + 1);
    assert_non_null(big);
    s_expect_reject(big, (size_t)WIRE_MAX_FRAME + 1, "too large");
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    wire_decode(big, (size_t)WIRE_MAX_FRAME + 1, &m, why, sizeof why);
    assert_non_null(strstr(why, "1048577")); /* names the size */
    free(big);
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void test_reject_garbage(void **state)
{
    (void)state;
    static const uint8_t fixed[][6] = {
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* varint never ends */
        { 0x0a, 0x7f, 0x00, 0x00, 0x00, 0x00 }, /* field 1 claims 127 bytes */
        { 0x07, 0x01, 0x02, 0x03, 0x04, 0x05 }, /* wire type 7 */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        s_expect_reject(fixed[i], sizeof fixed[i], "not a poenet message");

    /* Seeded random frames: every one refused, whatever the reason. */
    uint8_t buf[512];
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + s_next() % sizeof buf;
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)s_next();
        Poenet__Envelope *m = NULL;
        char why[256] = "";
        if (wire_decode(buf, len, &m, why, sizeof why) != -1)
            fail_msg("random frame %d (%zu bytes) accepted", i, len);
        assert_null(m);
        assert_true(why[0] != '\0');
    }
}

static void test_reject_no_body(void **state)
{
    (void)state;
    /* An envelope holding only an unknown field 4 (varint 1): it decodes,
     * but none of batch/ack/heartbeat is set. */
    const uint8_t unknown_only[] = { 0x20, 0x01 };
    s_expect_reject(unknown_only, sizeof unknown_only, "no body");

    /* An empty envelope packs to zero bytes: refused as an empty frame. */
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    assert_int_equal(poenet__envelope__get_packed_size(&env), 0);
}

/* ---- rejections: batch fields ------------------------------------------------ */

/* Pack a one-sample batch with the builder. */
static uint8_t *s_builder_frame(const char *crossing, int dir, uint64_t seq,
                                const wire_queue_sample_t *q, const wire_lane_sample_t *l,
                                size_t *len)
{
    wire_batch_t *b = wire_batch_new(crossing, dir, 1, 5000);
    assert_non_null(b);
    if (q)
        assert_int_equal(wire_batch_add_queue(b, q), 0);
    if (l)
        assert_int_equal(wire_batch_add_lane(b, l), 0);
    uint8_t *buf = wire_batch_pack(b, seq, 0, len);
    assert_non_null(buf);
    wire_batch_destroy(&b);
    return buf;
}

static const wire_queue_sample_t GOOD_Q = { .t_end_ms = T0, .mode = TAX_PASSENGER,
                                            .type = TAX_STANDARD, .arrivals = 1 };
static const wire_lane_sample_t GOOD_L = { .t_end_ms = T0, .lane_id = "P1",
                                           .mode = TAX_PASSENGER, .type = TAX_STANDARD,
                                           .open = true };

static void s_expect_builder_reject(const char *crossing, int dir, uint64_t seq,
                                    const wire_queue_sample_t *q, const wire_lane_sample_t *l,
                                    const char *keyword)
{
    size_t len;
    uint8_t *buf = s_builder_frame(crossing, dir, seq, q, l, &len);
    s_expect_reject(buf, len, keyword);
    free(buf);
}

static void test_good_builder_frame(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = s_builder_frame("250401", TAX_NORTHBOUND, 1, &GOOD_Q, &GOOD_L, &len);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    wire_free(&m);
    free(buf);
}

/* Field numbers the encoding forbids, which protobuf-c reads as unknown
 * fields: 0 in two bytes (0x80 0x00) and 2^29 in five. Refused anywhere in
 * the frame, and not re-stamped: packed again, field 0 would be a one-byte
 * tag no decoder takes (the frame fuzz_wire found). */
static size_t s_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80; v >>= 7)
        p[n++] = (uint8_t)(v | 0x80);
    p[n++] = (uint8_t)v;
    return n;
}

static void test_reject_bad_field_number(void **state)
{
    (void)state;
    size_t len, nlen;
    uint8_t *good = s_builder_frame("250401", TAX_NORTHBOUND, 1, &GOOD_Q, &GOOD_L, &len);
    static const uint8_t zero[] = { 0x80, 0x00, 0x07 };                 /* field 0 = 7 */
    static const uint8_t huge[] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x07 }; /* field 2^29 */
    const uint8_t *bad[] = { zero, huge };
    const size_t bad_len[] = { sizeof zero, sizeof huge };
    uint8_t frame[1024];
    for (int i = 0; i < 2; i++) {
        /* In the envelope, after the batch. */
        memcpy(frame, good, len);
        memcpy(frame + len, bad[i], bad_len[i]);
        s_expect_reject(frame, len + bad_len[i], "field number");
        assert_null(wire_batch_restamp(frame, len + bad_len[i], 5, &nlen));

        /* Inside the batch: re-wrap the batch with the field appended. */
        Poenet__Envelope *m = NULL;
        char why[256] = "";
        assert_int_equal(wire_decode(good, len, &m, why, sizeof why), 0);
        uint8_t inner[512];
        size_t ilen = poenet__batch__pack(m->batch, inner);
        wire_free(&m);
        memcpy(inner + ilen, bad[i], bad_len[i]);
        ilen += bad_len[i];
        size_t flen = 0;
        frame[flen++] = 0x0a; /* field 1 (batch), length-delimited */
        flen += s_put_varint(frame + flen, ilen);
        memcpy(frame + flen, inner, ilen);
        flen += ilen;
        s_expect_reject(frame, flen, "field number");
        assert_null(wire_batch_restamp(frame, flen, 5, &nlen));
    }
    /* A field number the schema does not have, but a valid one, passes:
     * a newer agent may add fields. */
    static const uint8_t field99[] = { 0x98, 0x06, 0x07 }; /* field 99 = 7 */
    memcpy(frame, good, len);
    memcpy(frame + len, field99, sizeof field99);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(frame, len + sizeof field99, &m, why, sizeof why), 0);
    wire_free(&m);
    uint8_t *n = wire_batch_restamp(frame, len + sizeof field99, 5, &nlen);
    assert_non_null(n);
    assert_int_equal(wire_decode(n, nlen, &m, why, sizeof why), 0);
    wire_free(&m);
    free(n);
    free(good);
}

static void test_reject_crossing(void **state)
{
    (void)state;
    s_expect_builder_reject("25040", TAX_NORTHBOUND, 1, &GOOD_Q, NULL, "crossing");
    s_expect_builder_reject("25040x", TAX_NORTHBOUND, 1, &GOOD_Q, NULL, "crossing");
    s_expect_builder_reject("2504011", TAX_NORTHBOUND, 1, &GOOD_Q, NULL, "crossing");
    s_expect_builder_reject("", TAX_NORTHBOUND, 1, &GOOD_Q, NULL, "crossing");
    /* The reason quotes the id. */
    size_t len;
    uint8_t *buf = s_builder_frame("25040x", TAX_NORTHBOUND, 1, &GOOD_Q, NULL, &len);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), -1);
    assert_non_null(strstr(why, "25040x"));
    free(buf);
}

static void test_reject_direction(void **state)
{
    (void)state;
    s_expect_builder_reject("250401", 0, 1, &GOOD_Q, NULL, "direction 0");
    s_expect_builder_reject("250401", 3, 1, &GOOD_Q, NULL, "direction 3");
}

static void test_reject_seq0(void **state)
{
    (void)state;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 0, &GOOD_Q, NULL, "seq 0");
}

static void test_reject_queue_enums(void **state)
{
    (void)state;
    wire_queue_sample_t q = GOOD_Q;
    q.mode = 9;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &q, NULL, "mode 9");
    q.mode = 0;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &q, NULL, "queue sample 0");
    q = GOOD_Q;
    q.type = 5;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &q, NULL, "type 5");
    q.type = 0;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &q, NULL, "unknown");
}

static void test_reject_lane_enums(void **state)
{
    (void)state;
    wire_lane_sample_t l = GOOD_L;
    l.mode = 4;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &GOOD_Q, &l, "mode 4");
    l = GOOD_L;
    l.type = 7;
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &GOOD_Q, &l, "type 7");
    s_expect_builder_reject("250401", TAX_NORTHBOUND, 1, &GOOD_Q, &l, "lane sample 0");
}

/* Hand-packed batch: lets a test put anything in the repeated fields. */
static uint8_t *s_hand_frame(Poenet__QueueSample **qs, size_t nq, Poenet__LaneSample **ls,
                             size_t nl, size_t *len)
{
    Poenet__Batch b = POENET__BATCH__INIT;
    b.crossing = (char *)"250401";
    b.direction = TAX_NORTHBOUND;
    b.epoch = 1;
    b.seq = 1;
    b.interval_ms = 5000;
    b.n_queues = nq;
    b.queues = qs;
    b.n_lanes = nl;
    b.lanes = ls;
    Poenet__Envelope env = POENET__ENVELOPE__INIT;
    env.body_case = POENET__ENVELOPE__BODY_BATCH;
    env.batch = &b;
    *len = poenet__envelope__get_packed_size(&env);
    uint8_t *buf = malloc(*len);
    assert_non_null(buf);
    assert_int_equal(poenet__envelope__pack(&env, buf), *len);
    return buf;
}

static void s_lane_id_case(const char *id, bool ok)
{
    Poenet__LaneSample l = POENET__LANE_SAMPLE__INIT;
    l.t_end_ms = (uint64_t)T0;
    l.lane_id = (char *)id;
    l.mode = TAX_PASSENGER;
    l.type = TAX_STANDARD;
    l.open = true;
    Poenet__LaneSample *lp = &l;
    size_t len;
    uint8_t *buf = s_hand_frame(NULL, 0, &lp, 1, &len);
    if (ok) {
        Poenet__Envelope *m = NULL;
        char why[256] = "";
        if (wire_decode(buf, len, &m, why, sizeof why) != 0)
            fail_msg("lane id '%s' refused: %s", id, why);
        assert_string_equal(m->batch->lanes[0]->lane_id, id);
        wire_free(&m);
    } else {
        s_expect_reject(buf, len, "lane id");
    }
    free(buf);
}

static void test_reject_lane_id(void **state)
{
    (void)state;
    char id32[33], id33[34];
    memset(id32, 'L', 32);
    id32[32] = '\0';
    memset(id33, 'L', 33);
    id33[33] = '\0';
    s_lane_id_case("P1", true);
    s_lane_id_case(id32, true);
    s_lane_id_case("", false);
    s_lane_id_case(id33, false);
    s_lane_id_case("a b", false);
    s_lane_id_case("lane;rm", false);
}

static void test_reject_too_many_samples(void **state)
{
    (void)state;
    Poenet__QueueSample q = POENET__QUEUE_SAMPLE__INIT;
    q.t_end_ms = (uint64_t)T0;
    q.mode = TAX_PASSENGER;
    q.type = TAX_STANDARD;
    size_t n = WIRE_MAX_QUEUE_SAMPLES + 1;
    Poenet__QueueSample **qs = malloc(n * sizeof *qs);
    assert_non_null(qs);
    for (size_t i = 0; i < n; i++)
        qs[i] = &q;
    size_t len;

    /* Exactly the limit is fine. */
    uint8_t *buf = s_hand_frame(qs, n - 1, NULL, 0, &len);
    Poenet__Envelope *m = NULL;
    char why[256] = "";
    assert_int_equal(wire_decode(buf, len, &m, why, sizeof why), 0);
    assert_int_equal(m->batch->n_queues, WIRE_MAX_QUEUE_SAMPLES);
    wire_free(&m);
    free(buf);

    buf = s_hand_frame(qs, n, NULL, 0, &len);
    assert_true(len <= WIRE_MAX_FRAME);
    s_expect_reject(buf, len, "too many samples");
    free(buf);
    free(qs);

    /* Same for lane samples. */
    Poenet__LaneSample l = POENET__LANE_SAMPLE__INIT;
    l.t_end_ms = (uint64_t)T0;
    l.lane_id = (char *)"P1";
    l.mode = TAX_PASSENGER;
    l.type = TAX_STANDARD;
    n = WIRE_MAX_LANE_SAMPLES + 1;
    Poenet__LaneSample **ls = malloc(n * sizeof *ls);
    assert_non_null(ls);
    for (size_t i = 0; i < n; i++)
        ls[i] = &l;
    buf = s_hand_frame(NULL, 0, ls, n, &len);
    s_expect_reject(buf, len, "too many samples");
    free(buf);
    free(ls);
}

/* The reason names the offending sample's index. */
static void test_reject_names_index(void **state)
{
    (void)state;
    Poenet__QueueSample good = POENET__QUEUE_SAMPLE__INIT;
    good.t_end_ms = (uint64_t)T0;
    good.mode = TAX_PEDESTRIAN;
    good.type = TAX_READY;
    Poenet__QueueSample bad = good;
    bad.mode = 9;
    Poenet__QueueSample *qs[] = { &good, &good, &good, &bad };
    size_t len;
    uint8_t *buf = s_hand_frame(qs, 4, NULL, 0, &len);
    s_expect_reject(buf, len, "queue sample 3");
    free(buf);
}

/* A mask keeps each sample's bit apart from its neighbours', across words. */
static void test_mask_bits(void **state)
{
    (void)state;
    wire_mask_t m;
    memset(&m, 0, sizeof m);
    static const size_t on[] = { 0, 1, 63, 64, 65, 127, 2048, WIRE_MAX_QUEUE_SAMPLES - 1 };
    for (size_t k = 0; k < sizeof on / sizeof on[0]; k++)
        wire_mask_put(&m, on[k], true);
    for (size_t i = 0; i < WIRE_MAX_QUEUE_SAMPLES; i++) {
        bool want = false;
        for (size_t k = 0; k < sizeof on / sizeof on[0]; k++)
            want |= on[k] == i;
        assert_int_equal(wire_mask_has(&m, i), want);
    }
    wire_mask_put(&m, 64, false);
    wire_mask_put(&m, 64, false);
    assert_false(wire_mask_has(&m, 64));
    assert_true(wire_mask_has(&m, 63));
    assert_true(wire_mask_has(&m, 65));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lane_id_valid),
        cmocka_unit_test(test_mask_bits),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_batch_full),
        cmocka_unit_test(test_ack_round_trip),
        cmocka_unit_test(test_heartbeat_round_trip),
        cmocka_unit_test(test_restamp),
        cmocka_unit_test(test_reject_empty),
        cmocka_unit_test(test_reject_oversized),
        cmocka_unit_test(test_reject_garbage),
        cmocka_unit_test(test_reject_no_body),
        cmocka_unit_test(test_good_builder_frame),
        cmocka_unit_test(test_reject_bad_field_number),
        cmocka_unit_test(test_reject_crossing),
        cmocka_unit_test(test_reject_direction),
        cmocka_unit_test(test_reject_seq0),
        cmocka_unit_test(test_reject_queue_enums),
        cmocka_unit_test(test_reject_lane_enums),
        cmocka_unit_test(test_reject_lane_id),
        cmocka_unit_test(test_reject_too_many_samples),
        cmocka_unit_test(test_reject_names_index),
        cmocka_unit_test(test_ack_refusals_round_trip),
        cmocka_unit_test(test_ack_refusals_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
