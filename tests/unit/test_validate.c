/* test_validate — the collector's semantic checks with a hand-built
 * registry entry and clock: the batch interval, unknown crossings, the
 * interval grid, clocks from the future, lanes the crossing has, and the
 * physical ceilings on departures, arrivals and queue readings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "registry.h"
#include "stats.h"
#include "taxonomy.h"
#include "validate.h"

#define NOW ((int64_t)1795815000000) /* on the 5 s grid */
#define SKEW ((int64_t)10000)

static reg_crossing_t REG;
static Poenet__Batch B;
static val_ctx_t CTX;

static int s_setup(void **state)
{
    (void)state;
    memset(&REG, 0, sizeof REG);
    strcpy(REG.id, "250401");
    strcpy(REG.bwt_id, "25250401");
    REG.border = TAX_BORDER_MX;
    strcpy(REG.name, "San Ysidro");
    REG.max_lanes[TAX_PASSENGER] = 10;
    REG.max_lanes[TAX_PEDESTRIAN] = 4;
    REG.max_lanes[TAX_COMMERCIAL] = 0;
    poenet__batch__init(&B);
    B.crossing = (char *)"250401";
    B.direction = TAX_NORTHBOUND;
    B.epoch = 1;
    B.seq = 1;
    B.interval_ms = 5000;
    CTX = (val_ctx_t){ .now_ms = NOW, .max_skew_ms = SKEW };
    return 0;
}

static Poenet__QueueSample s_q(int64_t t_end, uint32_t mode, uint32_t arrivals,
                               uint32_t departures, uint32_t lanes_open)
{
    Poenet__QueueSample q = POENET__QUEUE_SAMPLE__INIT;
    q.t_end_ms = (uint64_t)t_end;
    q.mode = mode;
    q.type = TAX_STANDARD;
    q.arrivals = arrivals;
    q.departures = departures;
    q.lanes_open = lanes_open;
    return q;
}

static Poenet__LaneSample s_l(int64_t t_end, uint32_t mode, uint32_t departures)
{
    Poenet__LaneSample l = POENET__LANE_SAMPLE__INIT;
    l.t_end_ms = (uint64_t)t_end;
    l.lane_id = (char *)"L1";
    l.mode = mode;
    l.type = TAX_STANDARD;
    l.departures = departures;
    l.open = true;
    return l;
}

static void s_q_ok(const Poenet__QueueSample *q)
{
    char why[256] = "";
    enum stats_reject code = REJ_MAX;
    if (val_queue_sample(&CTX, &B, &REG, q, why, sizeof why, &code) != 0)
        fail_msg("good queue sample refused: %s", why);
}

static void s_q_bad(const Poenet__QueueSample *q, enum stats_reject want, const char *keyword)
{
    char why[256] = "";
    enum stats_reject code = REJ_MAX;
    assert_int_equal(val_queue_sample(&CTX, &B, &REG, q, why, sizeof why, &code), -1);
    if (code != want)
        fail_msg("code %d (%s), wanted %d", (int)code, why, (int)want);
    if (!why[0] || !strstr(why, keyword))
        fail_msg("reason '%s' does not mention '%s'", why, keyword);
}

static void s_l_ok(const Poenet__LaneSample *l)
{
    char why[256] = "";
    enum stats_reject code = REJ_MAX;
    if (val_lane_sample(&CTX, &B, &REG, l, why, sizeof why, &code) != 0)
        fail_msg("good lane sample refused: %s", why);
}

static void s_l_bad(const Poenet__LaneSample *l, enum stats_reject want, const char *keyword)
{
    char why[256] = "";
    enum stats_reject code = REJ_MAX;
    assert_int_equal(val_lane_sample(&CTX, &B, &REG, l, why, sizeof why, &code), -1);
    if (code != want)
        fail_msg("code %d (%s), wanted %d", (int)code, why, (int)want);
    if (!why[0] || !strstr(why, keyword))
        fail_msg("reason '%s' does not mention '%s'", why, keyword);
}

/* ---- batch header ------------------------------------------------------------ */

static void test_batch_interval(void **state)
{
    (void)state;
    char why[256];
    enum stats_reject code;
    /* Parts of a second that divide it (from 100 ms), or whole seconds
     * that divide a minute. */
    const uint32_t good[] = { 100, 125, 200, 250, 500, 1000, 2000, 5000, 10000, 15000, 20000,
                              30000, 60000 };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        B.interval_ms = good[i];
        why[0] = '\0';
        if (val_batch(&B, &REG, why, sizeof why, &code) != 0)
            fail_msg("interval %u refused: %s", good[i], why);
    }
    const uint32_t bad[] = { 0, 1, 8, 40, 50, 99, 300, 400, 750, 999, 1500, 2500, 7000, 45000,
                             59000, 61000, 120000 };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        B.interval_ms = bad[i];
        why[0] = '\0';
        code = REJ_MAX;
        if (val_batch(&B, &REG, why, sizeof why, &code) != -1)
            fail_msg("interval %u accepted", bad[i]);
        assert_int_equal(code, REJ_BAD_INTERVAL);
        assert_non_null(strstr(why, "interval"));
    }
}

static void test_unknown_crossing(void **state)
{
    (void)state;
    char why[256] = "";
    enum stats_reject code = REJ_MAX;
    B.crossing = (char *)"999999";
    assert_int_equal(val_batch(&B, NULL, why, sizeof why, &code), -1);
    assert_int_equal(code, REJ_UNKNOWN_CROSSING);
    assert_non_null(strstr(why, "999999"));
    assert_non_null(strstr(why, "registry"));
}

/* ---- queue samples -------------------------------------------------------------- */

static void test_queue_good(void **state)
{
    (void)state;
    /* At the ceilings: 10 lanes × 1/s × 5 s = 50 departures, 20/s × 5 s =
     * 100 arrivals, 10 lanes open, a 100000 reading. */
    Poenet__QueueSample q = s_q(NOW, TAX_PASSENGER, 100, 50, 10);
    q.has_queue_len = true;
    q.queue_len = 100000;
    s_q_ok(&q);
    q = s_q(NOW - 3600000, TAX_PASSENGER, 0, 0, 0);
    s_q_ok(&q);
    q = s_q(NOW, TAX_PEDESTRIAN, 3, 20, 4);
    s_q_ok(&q);
}

static void test_queue_misaligned(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(NOW + 1, TAX_PASSENGER, 1, 1, 1);
    s_q_bad(&q, REJ_MISALIGNED, "grid");
    q.t_end_ms = (uint64_t)(NOW - 2500);
    s_q_bad(&q, REJ_MISALIGNED, "not on the 5000 ms");
    /* On a 60 s batch, a 5 s boundary is off the grid. */
    B.interval_ms = 60000;
    q.t_end_ms = (uint64_t)(NOW - 5000);
    s_q_bad(&q, REJ_MISALIGNED, "60000");
}

static void test_queue_future(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(NOW + SKEW, TAX_PASSENGER, 1, 1, 1);
    s_q_ok(&q); /* exactly now + skew is fine */
    q.t_end_ms = (uint64_t)(NOW + SKEW + 5000);
    s_q_bad(&q, REJ_FUTURE, "ahead");
    /* A tighter clock allowance moves the line. */
    CTX.max_skew_ms = 0;
    q.t_end_ms = (uint64_t)(NOW + 5000);
    s_q_bad(&q, REJ_FUTURE, "ahead");
    q.t_end_ms = (uint64_t)NOW;
    s_q_ok(&q);
}

static void test_queue_lanes(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(NOW, TAX_PASSENGER, 0, 0, 11);
    s_q_bad(&q, REJ_LANES, "11 passenger lanes");
    q = s_q(NOW, TAX_PEDESTRIAN, 0, 0, 5);
    s_q_bad(&q, REJ_LANES, "has 4");
    q = s_q(NOW, TAX_COMMERCIAL, 0, 0, 1);
    s_q_bad(&q, REJ_LANES, "commercial");
}

static void test_queue_impossible(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(NOW, TAX_PASSENGER, 0, 51, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "51 passenger departures");
    /* The ceiling is the crossing's lanes, not those open at the end. */
    q = s_q(NOW, TAX_PASSENGER, 0, 50, 1);
    s_q_ok(&q);
    q = s_q(NOW, TAX_PASSENGER, 0, 51, 1);
    s_q_bad(&q, REJ_IMPOSSIBLE, "departures");
    q = s_q(NOW, TAX_PEDESTRIAN, 0, 21, 4);
    s_q_bad(&q, REJ_IMPOSSIBLE, "departures");
    q = s_q(NOW, TAX_PASSENGER, 101, 0, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "101 passenger arrivals");
    /* The ceilings scale with the interval: 60 s allows 1200 arrivals and
     * 600 departures. */
    B.interval_ms = 60000;
    q = s_q(NOW, TAX_PASSENGER, 1200, 600, 10);
    s_q_ok(&q);
    q = s_q(NOW, TAX_PASSENGER, 1201, 600, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "arrivals");
    q = s_q(NOW, TAX_PASSENGER, 1200, 601, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "departures");
    q = s_q(NOW, TAX_PASSENGER, 0, 0, 10);
    q.has_queue_len = true;
    q.queue_len = 100001;
    s_q_bad(&q, REJ_IMPOSSIBLE, "100001");
}

/* A 250-ms batch: its own grid, and ceilings of whole units — a booth
 * that clears one a second may clear one in any quarter second, the crowd
 * of 20 a second five. */
static void test_subsecond_interval(void **state)
{
    (void)state;
    B.interval_ms = 250;
    Poenet__QueueSample q = s_q(NOW - 250, TAX_PASSENGER, 5, 10, 10);
    s_q_ok(&q);
    q.t_end_ms = (uint64_t)(NOW - 125);
    s_q_bad(&q, REJ_MISALIGNED, "not on the 250 ms");
    q = s_q(NOW - 750, TAX_PASSENGER, 6, 0, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "6 passenger arrivals in 0.25 s");
    q = s_q(NOW - 750, TAX_PASSENGER, 0, 11, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "11 passenger departures in 0.25 s");
    Poenet__LaneSample l = s_l(NOW - 500, TAX_PASSENGER, 1);
    s_l_ok(&l);
    l = s_l(NOW - 500, TAX_PASSENGER, 2);
    s_l_bad(&l, REJ_IMPOSSIBLE, "2 departures in 250 ms");
    /* 500 ms: the same ceilings hold per half second (10 arrivals). */
    B.interval_ms = 500;
    q = s_q(NOW - 500, TAX_PASSENGER, 10, 10, 10);
    s_q_ok(&q);
    q = s_q(NOW - 500, TAX_PASSENGER, 11, 10, 10);
    s_q_bad(&q, REJ_IMPOSSIBLE, "arrivals");
}

/* Time is checked first: a future, impossible sample is REJ_FUTURE. */
static void test_queue_order(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(NOW + 60000, TAX_PASSENGER, 5000, 5000, 50);
    s_q_bad(&q, REJ_FUTURE, "ahead");
    q.t_end_ms = (uint64_t)(NOW + 1);
    s_q_bad(&q, REJ_MISALIGNED, "grid");
}

/* Regression (was a bug): t_end_ms is a uint64 on the wire and s_check_time
 * compares it as (int64_t)t_end_ms, so any end at or beyond 2^63 ms turns
 * negative and passes the future check. 9223372036854780000 is on the 5 s
 * grid (2^63 + 4192). Such a sample reaches the archive as t_s ~ 9.2e15 s,
 * moves the file's time guard past every real sample to come and poisons
 * that RRD file. Regression test: this failed until collector/validate.c s_check_time compares
 * without the signed cast. */
static void test_far_future_wraps(void **state)
{
    (void)state;
    Poenet__QueueSample q = s_q(0, TAX_PASSENGER, 1, 1, 1);
    q.t_end_ms = 9223372036854780000ULL;
    assert_int_equal(q.t_end_ms % 5000, 0);
    s_q_bad(&q, REJ_FUTURE, "ahead");
    q.t_end_ms = UINT64_MAX - UINT64_MAX % 5000;
    s_q_bad(&q, REJ_FUTURE, "ahead");
    Poenet__LaneSample l = s_l(0, TAX_PASSENGER, 1);
    l.t_end_ms = 9223372036854780000ULL;
    s_l_bad(&l, REJ_FUTURE, "ahead");
}

/* ---- lane samples -------------------------------------------------------------- */

static void test_lane_samples(void **state)
{
    (void)state;
    Poenet__LaneSample l = s_l(NOW, TAX_PASSENGER, 5); /* one booth, 1/s × 5 s */
    s_l_ok(&l);
    l = s_l(NOW, TAX_PEDESTRIAN, 0);
    l.open = false;
    s_l_ok(&l);
    l = s_l(NOW, TAX_PASSENGER, 6);
    s_l_bad(&l, REJ_IMPOSSIBLE, "6 departures");
    l = s_l(NOW, TAX_COMMERCIAL, 0);
    s_l_bad(&l, REJ_LANES, "no commercial lanes");
    l = s_l(NOW + 7, TAX_PASSENGER, 1);
    s_l_bad(&l, REJ_MISALIGNED, "grid");
    l = s_l(NOW + SKEW, TAX_PASSENGER, 1);
    s_l_ok(&l);
    l = s_l(NOW + SKEW + 5000, TAX_PASSENGER, 1);
    s_l_bad(&l, REJ_FUTURE, "ahead");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, s_setup)
    const struct CMUnitTest tests[] = {
        T(test_batch_interval),
        T(test_subsecond_interval),
        T(test_unknown_crossing),
        T(test_queue_good),
        T(test_queue_misaligned),
        T(test_queue_future),
        T(test_queue_lanes),
        T(test_queue_impossible),
        T(test_queue_order),
        T(test_lane_samples),
        T(test_far_future_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
