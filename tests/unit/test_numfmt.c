/* test_numfmt — the hot path's number formatting reads back as printf's:
 * integers exactly, gauges within half of the 9th decimal, unknown as
 * RRD's "U", and on hand-computed cases the exact text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "numfmt.h"

static const char *s_i64(int64_t v)
{
    static char buf[NUMFMT_MAX + 1];
    buf[numfmt_i64(buf, v)] = '\0';
    return buf;
}

static const char *s_fixed(double v)
{
    static char buf[NUMFMT_MAX + 1];
    buf[numfmt_fixed9(buf, v)] = '\0';
    return buf;
}

static void test_integers(void **state)
{
    (void)state;
    assert_string_equal(s_i64(0), "0");
    assert_string_equal(s_i64(7), "7");
    assert_string_equal(s_i64(-42), "-42");
    assert_string_equal(s_i64(1796472060), "1796472060");
    assert_string_equal(s_i64(INT64_MAX), "9223372036854775807");
    assert_string_equal(s_i64(INT64_MIN), "-9223372036854775808");
}

static void test_fixed_cases(void **state)
{
    (void)state;
    assert_string_equal(s_fixed(0.0), "0");
    assert_string_equal(s_fixed(-0.0), "0");
    assert_string_equal(s_fixed(3.0), "3");
    assert_string_equal(s_fixed(12.5), "12.5");
    assert_string_equal(s_fixed(-0.25), "-0.25");
    assert_string_equal(s_fixed(1.0 / 3.0), "0.333333333");
    assert_string_equal(s_fixed(2.0 / 3.0), "0.666666667");    /* rounded, not cut */
    assert_string_equal(s_fixed(1e-10), "0");
    assert_string_equal(s_fixed(999999999.5), "999999999.5");
    assert_string_equal(s_fixed(NAN), "U");
    assert_string_equal(s_fixed(INFINITY), "U");
    assert_string_equal(s_fixed(-INFINITY), "U");
    assert_string_equal(s_fixed(1e9), "U");
    assert_string_equal(s_fixed(-2e9), "U");
}

/* Many values across the range of queues and waits, read back. */
static void test_fixed_round_trip(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 200000; i++) {
        double mag = pow(10.0, (double)(rand() % 16) - 7.0);
        double v = ((double)rand() / RAND_MAX - 0.3) * mag;
        const char *t = s_fixed(v);
        char *end;
        double back = strtod(t, &end);
        if (*end != '\0' || fabs(back - v) > 5.000001e-10 + fabs(v) * 1e-15)
            fail_msg("%.17g written as \"%s\" reads back as %.17g", v, t, back);
        char ref[64];
        snprintf(ref, sizeof ref, "%.9f", v);
        if (fabs(strtod(ref, NULL) - back) > 1.000001e-9 + fabs(v) * 1e-15)
            fail_msg("%.17g: \"%s\" against printf's \"%s\"", v, t, ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_fixed_cases),
        cmocka_unit_test(test_fixed_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
