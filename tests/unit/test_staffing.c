/* test_staffing — the learned surge staffing on hand-made lane histories:
 * steps every 15 minutes under a queue teach a 900-s gap and a forecast of
 * one lane per gap up to the most seen; a closure, a short queue or a long
 * silence end the surge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "staffing.h"

#define MIN_MS 60000LL

/* Lanes 4..9 were once open (max 9); then a surge from 5 lanes, one step
 * every 15 min, under a long queue. */
static void s_surge(staff_t *s, int64_t *t_end)
{
    staff_init(s);
    int64_t t = 0;
    staff_observe(s, t, 9, 0);      /* the most seen */
    staff_observe(s, t += MIN_MS, 5, 0);
    for (int step = 0; step < 3; step++) {
        for (int m = 0; m < 15; m++)
            staff_observe(s, t += MIN_MS, 5 + (uint32_t)step, 200);
        staff_observe(s, t += MIN_MS, 6 + (uint32_t)step, 200);
    }
    *t_end = t;
}

static void test_learns_the_pace(void **state)
{
    (void)state;
    staff_t s;
    int64_t t;
    s_surge(&s, &t);
    assert_true(s.surge);
    assert_int_equal(s.lanes, 8);
    assert_int_equal(s.max_lanes, 9);
    assert_true(s.gap_s > 959.0 && s.gap_s < 961.0); /* 16 one-minute observations apart */
    /* One more lane one gap after the last step, never more than 9. */
    assert_int_equal(staff_added(&s, t, t + 900 * 1000LL), 0);
    assert_int_equal(staff_added(&s, t, t + 961 * 1000LL), 1);
    assert_int_equal(staff_added(&s, t, t + 5 * 3600 * 1000LL), 1);
    assert_int_equal(staff_next_step(&s, t, t), t + 960 * 1000LL);
    /* once the forecast reaches the most lanes seen, no more steps */
    assert_int_equal(staff_next_step(&s, t, t + 961 * 1000LL), INT64_MAX);
}

static void test_closure_ends_the_surge(void **state)
{
    (void)state;
    staff_t s;
    int64_t t;
    s_surge(&s, &t);
    staff_observe(&s, t + MIN_MS, 5, 200); /* three lanes close under the queue */
    assert_false(s.surge);
    assert_int_equal(staff_added(&s, t + MIN_MS, t + 3 * 3600 * 1000LL), 0);
    assert_int_equal(staff_next_step(&s, t + MIN_MS, t + MIN_MS), INT64_MAX);
}

static void test_short_queue_ends_the_surge(void **state)
{
    (void)state;
    staff_t s;
    int64_t t;
    s_surge(&s, &t);
    staff_observe(&s, t + MIN_MS, 8, 10); /* 10 units for 8 lanes: no queue to answer */
    assert_false(s.surge);
}

static void test_silence_ends_the_surge(void **state)
{
    (void)state;
    staff_t s;
    int64_t t;
    s_surge(&s, &t);
    staff_observe(&s, t + 1900 * 1000LL, 8, 200); /* < 2 gaps (1920 s): still on */
    assert_true(s.surge);
    staff_observe(&s, t + 1950 * 1000LL, 8, 200); /* > 2 gaps without a step */
    assert_false(s.surge);
}

static void test_no_pace_no_forecast(void **state)
{
    (void)state;
    staff_t s;
    staff_init(&s);
    staff_observe(&s, 0, 9, 0);
    staff_observe(&s, MIN_MS, 5, 200);
    staff_observe(&s, 2 * MIN_MS, 6, 200); /* one step: no gap learned yet */
    assert_true(s.surge);
    assert_int_equal(staff_added(&s, 2 * MIN_MS, 4 * 3600 * 1000LL), 0);
    /* Lanes opening with nobody waiting are not a reaction to a queue. */
    staff_init(&s);
    staff_observe(&s, 0, 5, 0);
    staff_observe(&s, MIN_MS, 6, 3);
    assert_false(s.surge);
    assert_int_equal(s.last_step_ms, 0);
}

/* Lanes opening in successive 5-s intervals are one step, not a 5-s pace
 * (which would also make every forecast walk the horizon 5 s at a time). */
static void test_fast_openings_are_one_step(void **state)
{
    (void)state;
    staff_t s;
    staff_init(&s);
    staff_observe(&s, 0, 12, 0);
    staff_observe(&s, MIN_MS, 4, 200);
    for (int i = 1; i <= 6; i++)
        staff_observe(&s, MIN_MS + i * 5000LL, 4 + (uint32_t)i, 200);
    assert_true(s.surge);
    assert_int_equal(s.last_step_ms, MIN_MS + 5000);
    assert_true(s.gap_s == 0.0);
    assert_int_equal(staff_next_step(&s, 2 * MIN_MS, 2 * MIN_MS), INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_the_pace),
        cmocka_unit_test(test_closure_ends_the_surge),
        cmocka_unit_test(test_short_queue_ends_the_surge),
        cmocka_unit_test(test_silence_ends_the_surge),
        cmocka_unit_test(test_no_pace_no_forecast),
        cmocka_unit_test(test_fast_openings_are_one_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
