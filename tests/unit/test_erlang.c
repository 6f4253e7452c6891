/* test_erlang — the M/M/c (Erlang-C) formulas of poe-report
 * (tools/report/erlang.c) on hand-computed cases: M/M/1, the textbook
 * C(3, 2) = 4/9, the lanes-needed search at its boundary, and stability
 * for large lane counts. The module is compiled into this test directly
 * (tools are not libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "../../tools/report/erlang.c"

static void s_near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.9f, want %.9f ± %g", what, got, want, tol);
}

static void test_mm1(void **state)
{
    (void)state;
    /* One server: P(wait) = rho; wait incl. service = 1/(mu - lambda). */
    s_near(erl_c(1, 0.5), 0.5, 1e-12, "C(1, 0.5)");
    s_near(erl_wait_s(0.5, 1.0, 1), 2.0, 1e-12, "M/M/1 wait");
    s_near(erl_wait_s(0.9, 1.0, 1), 10.0, 1e-9, "M/M/1 wait at 90 %");
}

static void test_textbook(void **state)
{
    (void)state;
    /* C(3, 2) = (a^c/c! * c/(c-a)) / (sum_{k<c} a^k/k! + a^c/c! * c/(c-a))
     *         = (8/6 * 3) / (1 + 2 + 2 + 4) = 4/9. */
    s_near(erl_c(3, 2.0), 4.0 / 9.0, 1e-12, "C(3, 2)");
    /* lambda 2/min, mu 1/min at 3 lanes: Wq = (4/9)/(3-2) min = 26.67 s, + 60 s. */
    s_near(erl_wait_s(2.0 / 60, 1.0 / 60, 3), 60.0 * 4.0 / 9.0 + 60.0, 1e-9, "wait at 3 lanes");
}

static void test_edges(void **state)
{
    (void)state;
    assert_true(erl_c(2, 0.0) == 0.0);
    assert_true(erl_c(2, 2.0) == 1.0);              /* saturated */
    assert_true(isinf(erl_wait_s(1.0, 0.5, 2)));    /* lambda = c mu */
    assert_int_equal(erl_lanes_needed(0.0, 1.0 / 75, 600, 64), 0);
    assert_int_equal(erl_lanes_needed(0.01, 1.0 / 75, 60, 64), -1);  /* service 75 s > 60 s */
    assert_int_equal(erl_lanes_needed(10.0, 1.0 / 75, 600, 64), -1); /* needs 750+ lanes */
}

static void test_lanes_needed_boundary(void **state)
{
    (void)state;
    const double mu = 1.0 / 75;
    const double lambdas[] = { 0.001, 0.05, 0.1, 0.3, 0.49 };
    const double targets[] = { 80, 120, 600, 1800 };
    for (size_t i = 0; i < sizeof lambdas / sizeof lambdas[0]; i++)
        for (size_t j = 0; j < sizeof targets / sizeof targets[0]; j++) {
            int c = erl_lanes_needed(lambdas[i], mu, targets[j], 64);
            assert_true(c >= 1);
            assert_true(erl_wait_s(lambdas[i], mu, c) <= targets[j]);
            if (c > 1)
                assert_true(erl_wait_s(lambdas[i], mu, c - 1) > targets[j]);
        }
    /* 0.1/s at 75 s is 7.5 erlangs: 8 lanes are stable but slow, more are needed
     * for a 2-minute wait; a 30-minute target accepts 8. */
    assert_int_equal(erl_lanes_needed(0.1, mu, 1800, 64), 8);
    assert_true(erl_lanes_needed(0.1, mu, 120, 64) > 8);
}

static void test_large(void **state)
{
    (void)state;
    double c = erl_c(200, 190.0);
    assert_true(c > 0 && c < 1);
    /* More lanes never wait longer. */
    double prev = INFINITY;
    for (int k = 191; k < 230; k++) {
        double w = erl_wait_s(190.0, 1.0, k);
        assert_true(w <= prev);
        prev = w;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mm1),
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_lanes_needed_boundary),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
