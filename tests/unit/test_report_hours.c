/* test_report_hours — poe-report's hours analysis (tools/report/hourswin.c)
 * on hand-made weeks: mismatch windows (including one wrapping the end of
 * the week, and unknown minutes that are neither open nor closed), open
 * stretches with their first- and last-hour demand, the fewest-hours
 * schedule for a demand share, and its text in the registry's language.
 * The module is compiled into this test directly (tools are not libraries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../tools/report/hourswin.c"

static int8_t s_us[HW_MINUTES], s_other[HW_MINUTES];
static hw_demand_t s_d;

/* Open daily [from_h, to_h) (to_h may exceed 24: past midnight). */
static void s_daily(int8_t *st, int from_h, int to_h)
{
    memset(st, HOURS_CLOSED, HW_MINUTES);
    for (int d = 0; d < 7; d++)
        for (int m = from_h * 60; m < to_h * 60; m++)
            st[(d * 1440 + m) % HW_MINUTES] = HOURS_OPEN;
}

static void s_flat_demand(double per_min)
{
    for (int di = 0; di < TAX_NDIRS; di++)
        for (int m = 0; m < HW_MINUTES; m++)
            s_d.v[di][m] = per_min;
}

static void test_mismatch_daily(void **state)
{
    (void)state;
    s_daily(s_us, 6, 22);
    s_daily(s_other, 7, 23);
    s_flat_demand(1.0);
    hw_span_t w[32];
    int n = 0;
    int minutes = hw_mismatch(s_us, s_other, &s_d, w, 32, &n);
    assert_int_equal(n, 14);
    assert_int_equal(minutes, 14 * 60);
    for (int i = 0; i < n; i++) {
        assert_int_equal(w[i].len, 60);
        int hour = (w[i].start % 1440) / 60;
        assert_int_equal(hour, w[i].open_side == HOURS_US ? 6 : 22);
        assert_true(w[i].demand[0] == 60.0 && w[i].demand[1] == 60.0);
    }
    assert_int_equal(w[0].start, 6 * 60);      /* sorted by start */
}

static void test_mismatch_wraps_and_unknown(void **state)
{
    (void)state;
    /* US open daily 20:00-02:00, other never: the Sunday 20:00 stretch runs
     * into Monday 02:00 and must be one window, not two. */
    s_daily(s_us, 20, 26);
    memset(s_other, HOURS_CLOSED, HW_MINUTES);
    s_flat_demand(0.5);
    hw_span_t w[16];
    int n = 0;
    hw_mismatch(s_us, s_other, &s_d, w, 16, &n);
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++)
        assert_int_equal(w[i].len, 360);
    assert_int_equal(w[n - 1].start, 6 * 1440 + 20 * 60);
    assert_true(w[n - 1].demand[0] == 180.0);
    /* Unknown is neither open nor closed: no windows at all. */
    memset(s_other, HOURS_UNKNOWN, HW_MINUTES);
    assert_int_equal(hw_mismatch(s_us, s_other, &s_d, w, 16, &n), 0);
    assert_int_equal(n, 0);
}

static void test_open_runs(void **state)
{
    (void)state;
    s_daily(s_us, 6, 22);
    memset(&s_d, 0, sizeof s_d);
    for (int d = 0; d < 7; d++) {
        s_d.v[0][d * 1440 + 6 * 60] = 10;     /* first minute of the day */
        s_d.v[1][d * 1440 + 21 * 60 + 59] = 4; /* last minute */
        s_d.v[0][d * 1440 + 12 * 60] = 100;   /* midday, in neither hour */
    }
    hw_span_t r[16];
    int n = 0;
    hw_open_runs(s_us, &s_d, r, 16, &n);
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].len, 16 * 60);
        assert_true(r[i].first_h[0] == 10 && r[i].first_h[1] == 0);
        assert_true(r[i].last_h[0] == 0 && r[i].last_h[1] == 4);
        assert_true(r[i].demand[0] == 110);
    }
    /* Always open: one stretch of the whole week. */
    memset(s_us, HOURS_OPEN, HW_MINUTES);
    hw_open_runs(s_us, &s_d, r, 16, &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].len, HW_MINUTES);
}

static void test_schedule(void **state)
{
    (void)state;
    double dem[HW_HOURS] = { 0 };
    /* 100 units an hour 06-22 every day, 1 an hour otherwise. */
    for (int h = 0; h < HW_HOURS; h++)
        dem[h] = (h % 24) >= 6 && (h % 24) < 22 ? 100 : 1;
    bool open[HW_HOURS];
    double covered;
    /* Total 11256; 98 % is 11030.9: 111 busy hours (11100) are the fewest. */
    assert_int_equal(hw_schedule(dem, 0.98, open, &covered), 111);
    assert_true(covered >= 0.98 && covered < 0.99);
    /* 99.5 % needs all 112 busy hours (11200 = 99.50 %) and no quiet one. */
    assert_int_equal(hw_schedule(dem, 0.995, open, &covered), 112);
    assert_true(covered >= 0.995 && covered < 0.996);
    char buf[600];
    assert_string_equal(hw_schedule_text(open, buf, sizeof buf), "daily 06:00-22:00");
    /* Asking for everything opens every hour with demand. */
    assert_int_equal(hw_schedule(dem, 1.0, open, &covered), HW_HOURS);
    assert_true(covered == 1.0);
    /* Weekends differ: merged weekday rule, separate weekend rules. */
    for (int h = 0; h < HW_HOURS; h++)
        open[h] = (h / 24 < 5) ? (h % 24 >= 6 && h % 24 < 22) : (h % 24 >= 8 && h % 24 < 12);
    open[6 * 24 + 20] = true;
    assert_string_equal(hw_schedule_text(open, buf, sizeof buf),
                        "mon-fri 06:00-22:00; sat 08:00-12:00; sun 08:00-12:00; sun 20:00-21:00");
    memset(open, 0, sizeof open);
    assert_string_equal(hw_schedule_text(open, buf, sizeof buf), "closed");
    /* No demand: nothing to open, everything covered. */
    memset(dem, 0, sizeof dem);
    assert_int_equal(hw_schedule(dem, 0.98, open, &covered), 0);
    assert_true(covered == 1.0);
}

static void test_demand_by_hour(void **state)
{
    (void)state;
    s_flat_demand(1.0);
    int16_t how[HW_MINUTES];
    for (int m = 0; m < HW_MINUTES; m++)
        how[m] = (int16_t)(((m / 60) + 1) % HW_HOURS);   /* a zone one hour ahead */
    double out[HW_HOURS];
    hw_demand_by_hour(&s_d, how, out);
    for (int h = 0; h < HW_HOURS; h++)
        assert_true(out[h] == 120.0);                    /* 60 min × 2 directions */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mismatch_daily),
        cmocka_unit_test(test_mismatch_wraps_and_unknown),
        cmocka_unit_test(test_open_runs),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_demand_by_hour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
