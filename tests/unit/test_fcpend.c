/* test_fcpend — the forecast's issues waiting to be scored
 * (collector/fcpend.c): what is put is got back (the predictors to the
 * nearest FCPEND_COMP_UNIT_S seconds, the P50 bit for bit); an issue is
 * kept exactly `keep` steps at its horizon and no longer; a ring grows
 * with the issues and never beyond `keep` entries; a clock that goes back
 * starts the horizon afresh; steps outside int32 are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fcpend.h"

static void s_put(fcpend_t *p, int h, int keep, int64_t step)
{
    float comp[FC_NCOMP] = { (float)step, NAN, 0.5f * (float)step, 1e-3f };
    assert_int_equal(fcpend_put(p, h, keep, step, (int)(step % 2), comp, (float)step + 0.25f), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    fcpend_t p = { 0 };
    assert_null(fcpend_get(&p, 0, 5));
    for (int64_t s = 1000; s < 1010; s++)
        s_put(&p, 3, 20, s);
    for (int64_t s = 1000; s < 1010; s++) {
        const fcpend_entry_t *e = fcpend_get(&p, 3, s);
        assert_non_null(e);
        assert_int_equal(e->step, s);
        assert_int_equal(e->regime, s % 2);
        /* to the nearest FCPEND_COMP_UNIT_S (2 s): within a second */
        assert_true(fabs(fcpend_comp(e, 0) - (double)s) <= 1.0 && isnan(fcpend_comp(e, 1)) &&
                    fabs(fcpend_comp(e, 2) - 0.5 * (double)s) <= 1.0 &&
                    fcpend_comp(e, 3) == 0.0);
        assert_true(e->p50 == (float)s + 0.25f);
    }
    assert_null(fcpend_get(&p, 3, 999));
    assert_null(fcpend_get(&p, 3, 1010));
    assert_null(fcpend_get(&p, 2, 1005));   /* another horizon has none */
    /* A second put at a kept step leaves the first. */
    float other[FC_NCOMP] = { 1, 2, 3, 4 };
    assert_int_equal(fcpend_put(&p, 3, 20, 1009, 0, other, 7.0f), 0);
    assert_true(fcpend_get(&p, 3, 1009)->p50 == 1009.25f);
    fcpend_free(&p);
}

/* Steps with gaps between them: an issue stays while it is less than
 * `keep` steps older than the newest, then goes; the ring never holds
 * more than `keep` entries (its memory is bounded by the horizon). */
static void test_kept_exactly_keep_steps(void **state)
{
    (void)state;
    fcpend_t p = { 0 };
    const int keep = 14;
    for (int64_t s = 0; s < 200; s += (s % 3) + 1) {
        s_put(&p, 0, keep, s);
        for (int64_t o = s - 30; o <= s; o++) {
            const fcpend_entry_t *e = fcpend_get(&p, 0, o);
            bool put = o >= 0;   /* was o ever put? replay the sequence */
            for (int64_t t = 0; put && t != o; t += (t % 3) + 1)
                if (t > o)
                    put = false;
            assert_int_equal(e != NULL, put && o > s - keep);
        }
        assert_true(p.h[0].cap <= keep);
        assert_true(fcpend_bytes(&p) <= keep * sizeof(fcpend_entry_t));
    }
    /* Every step for a while: the ring is full at keep entries. */
    for (int64_t s = 300; s < 400; s++)
        s_put(&p, 0, keep, s);
    assert_int_equal(p.h[0].n, keep);
    assert_int_equal(p.h[0].cap, keep);
    assert_non_null(fcpend_get(&p, 0, 399 - keep + 1));
    assert_null(fcpend_get(&p, 0, 399 - keep));
    fcpend_free(&p);
    assert_int_equal(fcpend_bytes(&p), 0);
}

/* A handful of issues holds a handful of entries, not the horizon's
 * whole window: the memory a queue holds grows with what it has run. */
static void test_grows_with_the_issues(void **state)
{
    (void)state;
    fcpend_t p = { 0 };
    for (int h = 0; h < FC_NH; h++)
        for (int64_t s = 10; s < 13; s++)
            s_put(&p, h, 109, s);
    assert_true(fcpend_bytes(&p) <= FC_NH * 4 * sizeof(fcpend_entry_t));
    fcpend_free(&p);
}

static void test_clock_back_and_range(void **state)
{
    (void)state;
    fcpend_t p = { 0 };
    for (int64_t s = 100; s < 110; s++)
        s_put(&p, 1, 50, s);
    s_put(&p, 1, 50, 95);   /* the clock went back: the horizon starts again */
    assert_non_null(fcpend_get(&p, 1, 95));
    assert_null(fcpend_get(&p, 1, 105));
    float comp[FC_NCOMP] = { 0 };
    assert_int_equal(fcpend_put(&p, 1, 50, (int64_t)INT32_MAX + 1, 0, comp, 0), -1);
    assert_int_equal(fcpend_put(&p, FC_NH, 50, 96, 0, comp, 0), -1);
    assert_int_equal(fcpend_put(&p, 1, 0, 96, 0, comp, 0), -1);
    assert_null(fcpend_get(&p, -1, 95));
    fcpend_free(&p);
}

/* The step's 31 bits and the regime's one share a word, the predictors
 * take 16 bits each: 16 bytes an entry. Both ends of the range come back
 * as they went in (a negative step too), one past either end and a regime
 * other than 0 or 1 are refused. A predictor below 0 or beyond
 * FC_MAX_WAIT_S is kept (to ±65,534 s), rounded to the unit. */
static void test_packed_entry(void **state)
{
    (void)state;
    assert_int_equal(sizeof(fcpend_entry_t), 16);
    float comp[FC_NCOMP] = { 1.4f, NAN, -301.0f, 1e6f };
    const int64_t ends[] = { FCPEND_STEP_MIN, -7, FCPEND_STEP_MAX };
    for (int i = 0; i < 3; i++) {
        fcpend_t p = { 0 };
        assert_int_equal(fcpend_put(&p, 2, 10, ends[i], 1, comp, 99.0f), 0);
        const fcpend_entry_t *e = fcpend_get(&p, 2, ends[i]);
        assert_non_null(e);
        assert_true(e->step == ends[i]);
        assert_int_equal(e->regime, 1);
        assert_true(fcpend_comp(e, 0) == 2.0 && isnan(fcpend_comp(e, 1)) && e->p50 == 99.0f);
        assert_true(fcpend_comp(e, 2) == -302.0 && fcpend_comp(e, 3) == 65534.0);
        fcpend_free(&p);
    }
    fcpend_t p = { 0 };
    assert_int_equal(fcpend_put(&p, 2, 10, FCPEND_STEP_MAX + 1, 0, comp, 0), -1);
    assert_int_equal(fcpend_put(&p, 2, 10, FCPEND_STEP_MIN - 1, 0, comp, 0), -1);
    assert_int_equal(fcpend_put(&p, 2, 10, 5, 2, comp, 0), -1);
    assert_int_equal(fcpend_put(&p, 2, 10, 5, -1, comp, 0), -1);
    assert_null(fcpend_get(&p, 2, 5));
    fcpend_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_kept_exactly_keep_steps),
        cmocka_unit_test(test_grows_with_the_issues),
        cmocka_unit_test(test_clock_back_and_range),
        cmocka_unit_test(test_packed_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
