/* test_oracle — the wait floor from perfect knowledge, on hand-computed
 * cases: counting the units in the system, a steady queue whose rate is
 * learned exactly, a lane increase the future-lanes oracle sees coming,
 * lanes closed for a while, no lanes, a queue never served within the
 * horizon, the rate without busy time, and bad input.
 *
 * The steady queue: 2 lanes from T0; 10 units join at T0, then one every
 * 30 s for 100 × 30 s; one leaves every 30 s from T0 + 30 s (each lane
 * every 60 s), FIFO. N stays 10 while arrivals last, every booth is busy
 * until N falls to 2 at T0 + 3240 s: 108 departures in 108 × 6 cells of
 * 2 × 5 lane-s, mu = 108 / 6480 = 1/60 exactly; the wait of a unit joining
 * is 11 / (2/60) = 330 s, as the truth says (join 30k, leave 30k + 330). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "oracle.h"

#define T0 1772431200000LL /* a minute boundary */
#define S(x) ((int64_t)((x) * 1000LL))

static void s_near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.9f, want %.9f ± %g", what, got, want, tol);
}

static void s_nan(double got, const char *what)
{
    if (!isnan(got))
        fail_msg("%s: got %.9f, want NAN", what, got);
}

/* The steady queue above, lanes left to the caller. */
static oracle_t *s_steady(void)
{
    oracle_t *o = oracle_new();
    assert_non_null(o);
    for (int i = 0; i < 110; i++) {
        int64_t arrive = i < 10 ? T0 : T0 + S(30 * (i - 9));
        assert_int_equal(oracle_add_vehicle(o, arrive, T0 + S(30 * (i + 1))), 0);
    }
    return o;
}

/* 1 lane; units (join, leave) at (0, 100), (10, 200), (20, 300), (400,
 * 500) s. Busy (N ≥ 2) over [10, 200): 38 cells, 190 lane-s, departures
 * at 100 and 200: mu = 2/190, 95 s a unit. N counts arrivals ≤ t minus
 * departures ≤ t. */
static void test_counting(void **state)
{
    (void)state;
    oracle_t *o = oracle_new();
    assert_non_null(o);
    const int64_t v[4][2] = { { 0, 100 }, { 10, 200 }, { 20, 300 }, { 400, 500 } };
    for (int i = 3; i >= 0; i--) /* any order */
        assert_int_equal(oracle_add_vehicle(o, T0 + S(v[i][0]), T0 + S(v[i][1])), 0);
    assert_int_equal(oracle_set_lanes(o, T0, 1), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 2.0 / 190, 1e-15, "mu");
    s_near(oracle_now(o, T0), 2 * 95, 1e-9, "N = 1 (joined at t)");
    s_near(oracle_now(o, T0 + S(20)), 4 * 95, 1e-9, "N = 3");
    s_near(oracle_now(o, T0 + S(100) - 1), 4 * 95, 1e-9, "N = 3 just before a departure");
    s_near(oracle_now(o, T0 + S(100)), 3 * 95, 1e-9, "N = 2 (left at t)");
    s_near(oracle_now(o, T0 + S(300)), 95, 1e-9, "N = 0: own service");
    s_near(oracle_future(o, T0 + S(20)), 4 * 95, 1e-9, "constant lanes: future = now");
    s_near(oracle_now(o, T0 + S(400)), 2 * 95, 1e-9, "last arrival");
    s_nan(oracle_now(o, T0 - 1), "before the first arrival");
    s_nan(oracle_future(o, T0 + S(400) + 1), "after the last arrival");
    oracle_destroy(&o);
    assert_null(o);
}

static void test_steady_queue(void **state)
{
    (void)state;
    oracle_t *o = s_steady();
    assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 1.0 / 60, 1e-15, "mu");
    for (int m = 0; m <= 50; m++) {
        s_near(oracle_now(o, T0 + S(60 * m)), 330, 1e-9, "now");
        s_near(oracle_future(o, T0 + S(60 * m)), 330, 1e-9, "future");
    }
    s_near(oracle_now(o, T0 + S(615)), 330, 1e-9, "between arrivals");
    oracle_destroy(&o);
}

/* 4 lanes from T0 + 3300 s (the last departure: mu is unchanged). At
 * T0 + 3000 s 660 lane-s are needed: 600 on 2 lanes by 3300, then 60 on 4
 * lanes, 15 s: 315 s, 15 s under the current-state 330. At 2980: 640 by
 * 3300, then 5 s: 325 s. At 2940 the change comes too late: 330 s. */
static void test_lane_increase(void **state)
{
    (void)state;
    oracle_t *o = s_steady();
    assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
    assert_int_equal(oracle_set_lanes(o, T0 + S(3300), 4), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 1.0 / 60, 1e-15, "mu");
    s_near(oracle_now(o, T0 + S(3000)), 330, 1e-9, "now");
    s_near(oracle_future(o, T0 + S(3000)), 315, 1e-9, "future");
    s_near(oracle_now(o, T0 + S(3000)) - oracle_future(o, T0 + S(3000)), 15, 1e-9, "gain");
    s_near(oracle_future(o, T0 + S(2980)), 325, 1e-9, "future, 20 s earlier");
    s_near(oracle_future(o, T0 + S(2940)), 330, 1e-9, "served before the change");
    oracle_destroy(&o);
}

/* Lanes closed over [1200, 1500) s: no capacity, no busy time (10
 * departures and 600 lane-s leave the rate: 98 / 5880 = 1/60 still).
 * From 1140: 120 lane-s by 1200, none until 1500, 540 on 2 lanes by 1770:
 * 630 s. Closed at t: NAN. */
static void test_lanes_closed(void **state)
{
    (void)state;
    oracle_t *o = s_steady();
    assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
    assert_int_equal(oracle_set_lanes(o, T0 + S(1200), 0), 0);
    assert_int_equal(oracle_set_lanes(o, T0 + S(1500), 2), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 1.0 / 60, 1e-15, "mu");
    s_near(oracle_now(o, T0 + S(1140)), 330, 1e-9, "now ignores the closure");
    s_near(oracle_future(o, T0 + S(1140)), 630, 1e-9, "future waits it out");
    s_nan(oracle_now(o, T0 + S(1200)), "now, lanes 0");
    s_nan(oracle_future(o, T0 + S(1440)), "future, lanes 0");
    s_near(oracle_now(o, T0 + S(1500)), 330, 1e-9, "reopened");
    s_nan(oracle_now(o, T0 - 1), "before the data");
    oracle_destroy(&o);

    o = s_steady(); /* lanes known only from T0 + 60 s */
    assert_int_equal(oracle_set_lanes(o, T0 + S(60), 2), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_nan(oracle_now(o, T0), "no lanes yet");
    s_nan(oracle_future(o, T0 + S(59)), "no lanes yet (future)");
    s_near(oracle_future(o, T0 + S(60)), 330, 1e-9, "lanes known");
    oracle_destroy(&o);
}

/* All lanes close at 3300 s: from 3000, 60 lane-s are still missing.
 * Never reopened: NAN. Reopened (1 lane) at X: s = X + 60 − 3000, served
 * within 12 h up to X = 46140 s. */
static void test_horizon(void **state)
{
    (void)state;
    const int64_t reopen[3] = { -1, 46140, 46141 };
    for (int i = 0; i < 3; i++) {
        oracle_t *o = s_steady();
        assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
        assert_int_equal(oracle_set_lanes(o, T0 + S(3300), 0), 0);
        if (reopen[i] > 0)
            assert_int_equal(oracle_set_lanes(o, T0 + S(reopen[i]), 1), 0);
        assert_int_equal(oracle_finish(o), 0);
        s_near(oracle_now(o, T0 + S(3000)), 330, 1e-9, "now");
        double f = oracle_future(o, T0 + S(3000));
        if (i == 1)
            s_near(f, 43200, 1e-9, "served at the horizon");
        else
            s_nan(f, "not served within 12 h");
        oracle_destroy(&o);
    }
}

/* Never a queue: 3 departures over 2 lanes × 300 s, 200 s a unit. An
 * empty system with 2 lanes: 1 unit of service takes 100 s on 2 lanes, but
 * the newcomer still needs its own 200 s. */
static void test_rate_without_busy_time(void **state)
{
    (void)state;
    oracle_t *o = oracle_new();
    assert_non_null(o);
    for (int i = 0; i < 3; i++)
        assert_int_equal(oracle_add_vehicle(o, T0 + S(120 * i), T0 + S(120 * i + 60)), 0);
    assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 0.005, 1e-15, "fallback mu");
    s_near(oracle_now(o, T0 + S(60)), 200, 1e-9, "empty: own service");
    s_near(oracle_future(o, T0 + S(60)), 200, 1e-9, "future: own service, not 100 s");
    s_near(oracle_now(o, T0), 200, 1e-9, "one at a booth, one free");
    oracle_destroy(&o);
}

/* Repeated times (last wins), calls out of order, negative lanes, bad
 * vehicles, calls before finish, NULL. */
static void test_calls(void **state)
{
    (void)state;
    oracle_t *o = s_steady();
    assert_int_equal(oracle_set_lanes(o, T0 + S(1200), -3), 0); /* out of order, 0 */
    assert_int_equal(oracle_set_lanes(o, T0, 1), 0);
    assert_int_equal(oracle_set_lanes(o, T0, 2), 0);
    assert_int_equal(oracle_set_lanes(o, T0 + S(1500), 5), 0);
    assert_int_equal(oracle_set_lanes(o, T0 + S(1500), 2), 0);
    assert_int_equal(oracle_add_vehicle(o, T0 + 10, T0 + 9), -1);
    s_nan(oracle_now(o, T0), "before finish");
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_rate(o), 1.0 / 60, 1e-15, "same as test_lanes_closed");
    s_near(oracle_future(o, T0 + S(1140)), 630, 1e-9, "same as test_lanes_closed");
    assert_int_equal(oracle_add_vehicle(o, T0, T0 + 1), 0);
    s_nan(oracle_now(o, T0), "added after finish");
    oracle_destroy(&o);

    o = oracle_new();
    assert_int_equal(oracle_finish(o), -1); /* nothing */
    s_near(oracle_rate(o), 0, 0, "no rate");
    s_nan(oracle_now(o, T0), "empty");
    assert_int_equal(oracle_add_vehicle(o, T0, T0 + S(60)), 0);
    assert_int_equal(oracle_finish(o), -1); /* no lanes ever */
    s_nan(oracle_future(o, T0), "no lanes");
    assert_int_equal(oracle_add_vehicle(o, -1, T0), -1);
    assert_int_equal(oracle_add_vehicle(o, T0, INT64_MAX), -1);
    assert_int_equal(oracle_set_lanes(o, -60000, 1), -1);
    assert_int_equal(oracle_set_lanes(o, T0, 1), 0);
    assert_int_equal(oracle_finish(o), 0);
    s_near(oracle_now(o, T0), 120, 1e-9, "1 unit, 60 open lane-s");
    assert_int_equal(oracle_add_vehicle(o, T0, T0 + 401 * 86400000LL), 0);
    assert_int_equal(oracle_finish(o), -1); /* over 400 days */
    s_nan(oracle_now(o, T0), "refused span");
    oracle_destroy(&o);
    oracle_destroy(&o);
    oracle_destroy(NULL);
    assert_int_equal(oracle_add_vehicle(NULL, 0, 0), -1);
    assert_int_equal(oracle_set_lanes(NULL, 0, 1), -1);
    assert_int_equal(oracle_finish(NULL), -1);
    s_nan(oracle_now(NULL, 0), "NULL");
    s_nan(oracle_future(NULL, 0), "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_steady_queue),
        cmocka_unit_test(test_lane_increase),
        cmocka_unit_test(test_lanes_closed),
        cmocka_unit_test(test_horizon),
        cmocka_unit_test(test_rate_without_busy_time),
        cmocka_unit_test(test_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
