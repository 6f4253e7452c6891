/* test_estimator — expected wait from one queue's interval samples, on
 * hand-computed cases: the prior rate, queue bookkeeping (counts, clamp at
 * zero, detector readings), no open lane, and learning the per-lane rate
 * from busy intervals only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "estimator.h"

static void s_near(double got, double want, const char *what)
{
    if (!(fabs(got - want) <= 1e-9 * (fabs(want) > 1 ? fabs(want) : 1)))
        fail_msg("%s: got %.12f, want %.12f", what, got, want);
}

static void test_prior(void **state)
{
    (void)state;
    s_near(est_prior_lane_rate(TAX_PASSENGER, TAX_STANDARD), 1.0 / 75, "passenger standard");
    s_near(est_prior_lane_rate(TAX_PASSENGER, TAX_READY), 1.0 / 55, "passenger ready");
    s_near(est_prior_lane_rate(TAX_PASSENGER, TAX_NEXUS_SENTRI), 1.0 / 25, "nexus");
    s_near(est_prior_lane_rate(TAX_COMMERCIAL, TAX_STANDARD), 1.0 / 120, "commercial");
    s_near(est_prior_lane_rate(TAX_COMMERCIAL, TAX_FAST), 1.0 / 70, "fast");
    s_near(est_prior_lane_rate(TAX_PEDESTRIAN, TAX_STANDARD), 1.0 / 30, "pedestrian");
    s_near(est_prior_lane_rate(TAX_PEDESTRIAN, TAX_READY), 1.0 / 18, "pedestrian ready");
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    assert_int_equal(e.mode, TAX_PASSENGER);
    assert_int_equal(e.type, TAX_STANDARD);
    s_near(e.queue, 0, "initial queue");
    s_near(e.lane_rate, 1.0 / 75, "initial rate");
    assert_int_equal(e.busy_intervals, 0);
}

/* 10 lanes, 100 waiting, 75 s per car per lane: 100 / (10/75) = 750 s. */
static void test_wait_750(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .lanes_open = 10, .has_queue_len = true,
                       .queue_len = 100 };
    est_update(&e, &in, &o);
    assert_true(o.has_wait);
    s_near(o.queue, 100, "queue");
    s_near(o.service_rate, 10.0 / 75, "service rate");
    s_near(o.wait_s, 750, "wait");
    assert_int_equal(e.busy_intervals, 0); /* nothing departed: nothing learned */

    /* The same queue by counts. */
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 100, .lanes_open = 10 };
    est_update(&e, &in, &o);
    s_near(o.queue, 100, "queue by counts");
    s_near(o.wait_s, 750, "wait by counts");
}

static void test_counts_and_clamp(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PEDESTRIAN, TAX_STANDARD); /* 30 s per person */
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .arrivals = 30, .departures = 5, .lanes_open = 2 };
    est_update(&e, &in, &o);
    s_near(o.queue, 25, "30 in, 5 out");
    s_near(o.wait_s, 25 / (2.0 / 30), "wait"); /* 375 s */
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 1, .departures = 30, .lanes_open = 2 };
    est_update(&e, &in, &o);
    s_near(o.queue, 0, "clamped at zero");
    s_near(e.queue, 0, "state clamped too");
    s_near(o.wait_s, 0, "no wait");
    assert_true(o.has_wait);
    /* The clamp does not leave a debt behind. */
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 4, .lanes_open = 2 };
    est_update(&e, &in, &o);
    s_near(o.queue, 4, "after the clamp");
}

static void test_detector_replaces_count(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_READY);
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .arrivals = 50, .lanes_open = 4 };
    est_update(&e, &in, &o);
    s_near(o.queue, 50, "by counts");
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 10, .lanes_open = 4,
                        .has_queue_len = true, .queue_len = 20 };
    est_update(&e, &in, &o);
    s_near(o.queue, 20, "detector wins over 60 by counts");
    /* A zero reading empties the queue. */
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 3, .lanes_open = 4,
                        .has_queue_len = true, .queue_len = 0 };
    est_update(&e, &in, &o);
    s_near(o.queue, 0, "zero reading");
    /* Counting continues from the reading. */
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 7, .departures = 2, .lanes_open = 4 };
    est_update(&e, &in, &o);
    s_near(o.queue, 5, "counts after a reading");
}

static void test_no_lanes(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_COMMERCIAL, TAX_STANDARD);
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .arrivals = 12, .lanes_open = 0 };
    est_update(&e, &in, &o);
    assert_false(o.has_wait);
    assert_true(isnan(o.wait_s));
    s_near(o.service_rate, 0, "service rate");
    s_near(o.queue, 12, "the queue still counts");
    s_near(e.lane_rate, 1.0 / 120, "rate untouched");
    /* Lanes open again: a wait again. */
    in = (est_input_t){ .interval_ms = 5000, .lanes_open = 1 };
    est_update(&e, &in, &o);
    assert_true(o.has_wait);
    s_near(o.wait_s, 12 * 120.0, "one truck lane");
}

/* Busy: 100 waiting, 10 lanes, 8 departures in 5 s (and 8 arrivals keep
 * the queue at 100). Observed 8 / (10 × 5) = 0.16 per lane-second.
 *   rate1 = 1/75 + 0.05 (0.16 - 1/75) = 1.55/75 = 31/1500
 *   rate2 = rate1 + 0.05 (0.16 - rate1) = 41.45/1500 = 829/30000
 * and the waits 100 / (10 rate): 15000/31 s, then 300000/829 s. */
static void test_learning(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .lanes_open = 10, .has_queue_len = true,
                       .queue_len = 100 };
    est_update(&e, &in, &o);
    s_near(e.lane_rate, 1.0 / 75, "no departures, no learning");

    in = (est_input_t){ .interval_ms = 5000, .arrivals = 8, .departures = 8, .lanes_open = 10 };
    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 1);
    s_near(e.lane_rate, 31.0 / 1500, "rate after one busy interval");
    s_near(o.queue, 100, "queue");
    s_near(o.service_rate, 310.0 / 1500, "service rate");
    s_near(o.wait_s, 15000.0 / 31, "wait after one");

    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 2);
    s_near(e.lane_rate, 829.0 / 30000, "rate after two busy intervals");
    s_near(o.wait_s, 300000.0 / 829, "wait after two");

    /* A slower crossing teaches downward: 1 departure per 10 lanes × 5 s. */
    est_t s;
    est_init(&s, TAX_PASSENGER, TAX_NEXUS_SENTRI); /* prior 1/25 = 0.04 */
    in = (est_input_t){ .interval_ms = 5000, .lanes_open = 10, .has_queue_len = true,
                        .queue_len = 40 };
    est_update(&s, &in, &o);
    in = (est_input_t){ .interval_ms = 5000, .departures = 1, .lanes_open = 10,
                        .has_queue_len = true, .queue_len = 40 };
    est_update(&s, &in, &o);
    /* 0.04 + 0.05 (0.02 - 0.04) = 0.039 */
    s_near(s.lane_rate, 0.039, "downward");
    s_near(o.wait_s, 40 / 0.39, "wait with the learned rate");
}

/* Idle booths say nothing about speed: an interval that starts with fewer
 * waiting than lanes open does not teach, nor one with no departures. */
static void test_idle_does_not_teach(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o;
    est_input_t in = { .interval_ms = 5000, .lanes_open = 10, .has_queue_len = true,
                       .queue_len = 5 };
    est_update(&e, &in, &o);
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 3, .departures = 7, .lanes_open = 10 };
    est_update(&e, &in, &o); /* 5 waiting < 10 lanes */
    assert_int_equal(e.busy_intervals, 0);
    s_near(e.lane_rate, 1.0 / 75, "idle interval taught");
    s_near(o.queue, 1, "5 + 3 - 7");
    /* A detector reading that arrives with a big queue does not make the
     * interval that started nearly empty a busy one. */
    in = (est_input_t){ .interval_ms = 5000, .departures = 9, .lanes_open = 10,
                        .has_queue_len = true, .queue_len = 200 };
    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 0);
    s_near(e.lane_rate, 1.0 / 75, "judged on the queue before the interval");
    /* Busy but nothing departed (booths stuck): no lesson. */
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 5, .lanes_open = 10 };
    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 0);
    /* No lanes, or a zero interval: no lesson either. */
    in = (est_input_t){ .interval_ms = 5000, .departures = 5, .lanes_open = 0 };
    est_update(&e, &in, &o);
    in = (est_input_t){ .interval_ms = 0, .departures = 5, .lanes_open = 10 };
    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 0);
    s_near(e.lane_rate, 1.0 / 75, "rate unchanged");
    /* Exactly as many waiting as lanes open is busy. */
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    in = (est_input_t){ .interval_ms = 5000, .lanes_open = 10, .has_queue_len = true,
                        .queue_len = 10 };
    est_update(&e, &in, &o);
    in = (est_input_t){ .interval_ms = 5000, .arrivals = 5, .departures = 5, .lanes_open = 10 };
    est_update(&e, &in, &o);
    assert_int_equal(e.busy_intervals, 1);
    /* 1/75 + 0.05 (0.1 - 1/75) = (0.95 + 0.375)/75 = 1.325/75 */
    s_near(e.lane_rate, 1.325 / 75, "busy at queue == lanes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prior),
        cmocka_unit_test(test_wait_750),
        cmocka_unit_test(test_counts_and_clamp),
        cmocka_unit_test(test_detector_replaces_count),
        cmocka_unit_test(test_no_lanes),
        cmocka_unit_test(test_learning),
        cmocka_unit_test(test_idle_does_not_teach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
