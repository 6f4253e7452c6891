/* test_estimator — the wait for a unit joining now, on hand-computed
 * cases: a steady queue, a growing queue, a lane closure, drift correction
 * from travel times, queue-detector readings, and the quality indicator
 * (inputs used, confidence) going down when travel times stop.
 *
 * Cases use 15-s or 60-s intervals with departures equal to what the open
 * lanes clear at the prior rate, so the learned rate stays the prior and
 * every wait is exact arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "estimator.h"

static void s_near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.6f, want %.6f ± %g", what, got, want, tol);
}

/* One interval ending at t_s. */
static est_output_t s_step(est_t *e, int64_t t_s, uint32_t interval_s, uint32_t arr, uint32_t dep,
                           uint32_t lanes)
{
    est_input_t in = { .interval_ms = interval_s * 1000, .arrivals = arr, .departures = dep,
                       .lanes_open = lanes, .t_end_ms = t_s * 1000 };
    est_output_t o;
    est_update(e, &in, &o);
    return o;
}

static void test_prior(void **state)
{
    (void)state;
    s_near(est_prior_lane_rate(TAX_PASSENGER, TAX_STANDARD), 1.0 / 75, 1e-12, "standard");
    s_near(est_prior_lane_rate(TAX_PASSENGER, TAX_NEXUS_SENTRI), 1.0 / 25, 1e-12, "nexus");
    s_near(est_prior_lane_rate(TAX_COMMERCIAL, TAX_STANDARD), 1.0 / 120, 1e-12, "commercial");
    s_near(est_prior_lane_rate(TAX_PEDESTRIAN, TAX_READY), 1.0 / 18, 1e-12, "pedestrian ready");
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    s_near(est_lane_rate(&e), 1.0 / 75, 1e-12, "rate before any data");
}

/* 10 lanes at 75 s: 10/75 units/s. 100 in the system: the newcomer leaves
 * after 101 departures, (100 + 1) × 7.5 = 757.5 s. Then 2 in and 2 out
 * every 15 s (exactly what 10 lanes clear): nothing changes. */
static void test_steady_queue(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o = s_step(&e, 1000, 15, 100, 0, 10);
    assert_true(o.has_wait);
    s_near(e.queue, 100, 1e-9, "in the system");
    s_near(o.queue, 90, 1e-9, "waiting: 10 are at booths");
    s_near(o.service_rate, 10.0 / 75, 1e-12, "service rate");
    s_near(o.wait_s, 757.5, 1e-9, "wait");
    for (int i = 1; i <= 40; i++)
        o = s_step(&e, 1000 + 15 * i, 15, 2, 2, 10);
    s_near(e.queue, 100, 1e-9, "steady queue");
    s_near(est_lane_rate(&e), 1.0 / 75, 1e-12, "learned rate equals the prior");
    s_near(o.wait_s, 757.5, 1e-6, "steady wait");
    assert_true(o.inputs & EST_IN_COUNTS);
    assert_true(o.inputs & EST_IN_RATE); /* 40 × 150 busy lane-s */
    assert_false(o.inputs & EST_IN_TRAVEL_TIME);
}

/* 4 in, 2 out per 15 s: +2 per interval. After 10 intervals 120 in the
 * system: 121 × 7.5 = 907.5 s. */
static void test_growing_queue(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o = s_step(&e, 1000, 15, 100, 0, 10);
    for (int i = 1; i <= 10; i++)
        o = s_step(&e, 1000 + 15 * i, 15, 4, 2, 10);
    s_near(e.queue, 120, 1e-9, "queue grew");
    s_near(o.wait_s, 907.5, 1e-6, "wait grew");
}

/* Half the lanes close: 101 / (5/75) = 1515 s. All close: no wait. A
 * short queue: the newcomer only waits for its own service, 75 s. */
static void test_lane_closure(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_output_t o = s_step(&e, 1000, 15, 100, 0, 10);
    s_near(o.wait_s, 757.5, 1e-9, "10 lanes");
    o = s_step(&e, 1015, 15, 1, 1, 5); /* 5 lanes × 15 s / 75 s = 1 unit */
    s_near(e.queue, 100, 1e-9, "queue");
    s_near(o.queue, 95, 1e-9, "waiting for 5 booths");
    s_near(o.wait_s, 1515, 1e-6, "5 lanes");
    o = s_step(&e, 1030, 15, 0, 0, 0);
    assert_false(o.has_wait);
    assert_true(isnan(o.wait_s));
    s_near(o.confidence, 0, 0, "no confidence without a wait");

    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    o = s_step(&e, 1000, 15, 3, 0, 5);
    s_near(o.wait_s, 75, 1e-9, "free booth: own service");
}

/* A plan: 10 lanes until 30 min, then 20 (a shift change). */
static int s_plan(const void *arg, int64_t t_ms)
{
    (void)arg;
    return t_ms < 1800 * 1000LL ? 10 : 20;
}

/* 200 in the system at 1000 s, 10 lanes at 75 s. Until the shift change at
 * 1800 s the lanes clear 800 × 10/75 = 106.67 units; the other 201 −
 * 106.67 = 94.33 go at 20/75 per s: 353.75 s more, 1153.75 s in all
 * (without the plan 201 × 7.5 = 1507.5 s). With only 5 lanes open against
 * the plan's 10, the change still adds 10: 5 lanes, then 15. */
static void test_lane_plan(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_input_t in = { .interval_ms = 15000, .arrivals = 200, .lanes_open = 10,
                       .t_end_ms = 1000 * 1000LL, .plan = s_plan };
    est_output_t o;
    est_update(&e, &in, &o);
    s_near(o.wait_s, 800 + (201 - 800 * 10 / 75.0) * 75 / 20, 1e-6, "shift change ahead");
    assert_true(o.inputs & EST_IN_LANE_PLAN);
    assert_string_equal(est_input_name(EST_IN_LANE_PLAN), "lane_plan");
    assert_string_equal(est_input_name(EST_IN_SURGE), "staffing_surge");
    in.plan = NULL;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_update(&e, &in, &o);
    s_near(o.wait_s, 1507.5, 1e-9, "no plan: the lanes stay");
    assert_false(o.inputs & EST_IN_LANE_PLAN);
    in.plan = s_plan;
    in.lanes_open = 5;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_update(&e, &in, &o);
    s_near(o.wait_s, 800 + (201 - 800 * 5 / 75.0) * 75 / 15, 1e-6, "closed lanes stay closed");
}

/* The entry detector counts 8 of every 10 arrivals. True queue: 100,
 * steady, 10 in and 10 out per minute, so the units leaving now joined
 * 10 minutes ago (travel time 600 s). Counts alone lose 2 units a minute
 * and reach an empty queue after 50 minutes; with the travel times the
 * queue stays at 100 and k learns 10/8 = 1.25. */
static void s_drift_run(est_t *e, bool tags, est_output_t *o)
{
    est_init(e, TAX_PASSENGER, TAX_STANDARD);
    est_input_t in = { .interval_ms = 60000, .arrivals = 80, .lanes_open = 10,
                       .t_end_ms = 60000 };
    est_update(e, &in, o);
    for (int m = 2; m <= 150; m++) {
        in = (est_input_t){ .interval_ms = 60000, .arrivals = 8, .departures = 10,
                            .lanes_open = 10, .t_end_ms = 60000LL * m };
        if (tags && m > 12) { /* units that joined after the first minute */
            in.tt_count = 2;
            in.tt_sum_s = 1200;
            in.tt_max_s = 600;
        }
        est_update(e, &in, o);
    }
}

static void test_drift_correction(void **state)
{
    (void)state;
    est_t e;
    est_output_t o;
    s_drift_run(&e, false, &o);
    s_near(e.queue, 0, 1e-9, "counts alone: drifted to empty");
    s_drift_run(&e, true, &o);
    s_near(e.queue, 100, 5, "with travel times");
    s_near(o.count_scale, 1.25, 0.05, "learned count scale");
    /* 10 departures a minute from 10 lanes: 1/60 per lane-s learned. */
    s_near(est_lane_rate(&e), 1.0 / 60, 0.001, "learned rate");
    s_near(o.wait_s, 101 * 6.0, 40, "wait ≈ the 600 s the queue really takes");
    assert_true(o.inputs & EST_IN_TRAVEL_TIME);
    assert_true(o.confidence > 0.5);
}

/* Travel times stop: after 15 minutes the input is dropped from the
 * quality indicator and confidence falls. */
static void test_quality_goes_stale(void **state)
{
    (void)state;
    est_t e;
    est_output_t o;
    s_drift_run(&e, true, &o);
    double conf = o.confidence;
    for (int m = 151; m <= 200; m++) {
        est_input_t in = { .interval_ms = 60000, .arrivals = 8, .departures = 10,
                           .lanes_open = 10, .t_end_ms = 60000LL * m };
        est_update(&e, &in, &o);
    }
    assert_false(o.inputs & EST_IN_TRAVEL_TIME);
    assert_true(o.inputs & EST_IN_COUNTS);
    assert_true(o.confidence < conf);
    /* The last anchor and k carry on: 50 more minutes of 8 counted ×
     * 1.25 in, 10 out keep the queue near 100. */
    s_near(e.queue, 100, 15, "queue carried by corrected counts");
    assert_string_equal(est_input_name(EST_IN_TRAVEL_TIME), "travel_time");
    assert_string_equal(est_input_name(EST_IN_QUEUE_LEN), "queue_length");
    assert_null(est_input_name(0x100));
}

/* A queue detector reading 100 waiting with all 10 booths busy: 110 in the
 * system, whatever the counts said (a collector started mid-queue).
 * 111 × 7.5 = 832.5 s. */
static void test_queue_detector(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_input_t in = { .interval_ms = 15000, .lanes_open = 10, .has_queue_len = true,
                       .queue_len = 100, .t_end_ms = 15000 };
    est_output_t o;
    est_update(&e, &in, &o);
    s_near(e.queue, 110, 0.1, "in the system");
    s_near(o.queue, 100, 0.1, "waiting, as the detector said");
    s_near(o.wait_s, 832.5, 1, "wait");
    assert_true(o.inputs & EST_IN_QUEUE_LEN);
}

/* Time counted by intervals when the caller gives no time stamp. */
static void test_time_by_interval(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .lanes_open = 2 };
    est_output_t o;
    est_update(&e, &in, &o);
    est_update(&e, &in, &o);
    assert_int_equal(e.now_ms, 10000);
    s_near(e.queue, 20, 1e-9, "counted");
}

/* An entry detector that misses cars: booths clear 2 every 15 s while
 * nothing was counted joining, 20 times. The counts say -40 units; the
 * truth is at least empty, so they are pulled up to the floor (-3, the
 * slack kept for counts that jitter around empty) and not below. 100 then
 * join: 95 in the system, not the 58 a -40 start would give; the
 * newcomer waits (95 + 1) × 7.5 = 720 s. */
static void test_lost_arrivals_floor(void **state)
{
    (void)state;
    est_t e;
    est_init(&e, TAX_PASSENGER, TAX_STANDARD);
    for (int i = 1; i <= 20; i++)
        s_step(&e, 1000 + 15 * i, 15, 0, 2, 10);
    s_near(e.queue, 0, 1e-9, "never shown below empty");
    est_output_t o = s_step(&e, 1000 + 15 * 21, 15, 100, 2, 10);
    s_near(e.queue, 95, 1e-9, "in the system");
    s_near(o.wait_s, 720, 1e-6, "wait");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prior),
        cmocka_unit_test(test_steady_queue),
        cmocka_unit_test(test_growing_queue),
        cmocka_unit_test(test_lane_closure),
        cmocka_unit_test(test_lane_plan),
        cmocka_unit_test(test_drift_correction),
        cmocka_unit_test(test_quality_goes_stale),
        cmocka_unit_test(test_queue_detector),
        cmocka_unit_test(test_time_by_interval),
        cmocka_unit_test(test_lost_arrivals_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
