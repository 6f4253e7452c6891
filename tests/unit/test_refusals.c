/* test_refusals — a sender's account of what a collector refused: totals
 * per reason, the earliest refused time and the offset it implies, the
 * host's clock against the collector's, and the line that names them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "log.h"
#include "refusals.h"

#define NOW 1796328000000LL  /* 2026-12-03T20:00:00Z */
#define DAY 86400000LL

static void test_counts_and_clock(void **state)
{
    (void)state;
    refusals_t r = { 0 };
    char line[512];
    refusals_format(&r, false, line, sizeof line);
    assert_string_equal(line, "");
    assert_null(refusals_time(&r));
    /* A batch stamped a day ahead, judged by a collector 2 s behind us. */
    wire_refusals_t a = { .seq = 1, .collector_ms = NOW - 2000 };
    wire_refusals_add(&a, "future", 10, (uint64_t)(NOW + DAY));
    refusals_add(&r, &a, NOW, 1000, "collector test");
    assert_int_equal(r.total, 10);
    assert_true(r.have_clock);
    assert_int_equal(r.clock_offset_ms, 2000);
    /* The next batch: later samples, another reason. */
    wire_refusals_t b = { .seq = 2, .collector_ms = NOW + 3000 };
    wire_refusals_add(&b, "future", 5, (uint64_t)(NOW + DAY + 5000));
    wire_refusals_add(&b, "lanes", 1, (uint64_t)NOW);
    refusals_add(&r, &b, NOW + 5000, 6000, "collector test");
    assert_int_equal(r.total, 16);
    const refusals_reason_t *t = refusals_time(&r);
    assert_non_null(t);
    assert_string_equal(t->reason, "future");
    assert_int_equal(t->total, 15);
    /* The earliest refused sample, and the offset it implied then. */
    assert_int_equal(t->first_t_end_ms, (uint64_t)(NOW + DAY));
    assert_int_equal(t->offset_ms, DAY + 2000);
    refusals_format(&r, false, line, sizeof line);
    assert_non_null(strstr(line, "future 15 (earliest 2026-12-04T20:00:00Z, 86402 s ahead of "
                                 "the collector's clock)"));
    assert_non_null(strstr(line, "lanes 1"));
    assert_true(refusals_is_time("too_old"));
    assert_false(refusals_is_time("lanes"));
}

static void test_pending_line_once_a_minute(void **state)
{
    (void)state;
    refusals_t r = { 0 };
    wire_refusals_t a = { .seq = 1, .collector_ms = NOW };
    wire_refusals_add(&a, "too_old", 4, (uint64_t)(NOW - 30 * DAY));
    /* The first refusal is logged at once: nothing stays pending. */
    refusals_add(&r, &a, NOW, 1000, "collector test");
    assert_int_equal(r.v[0].pending, 0);
    assert_int_equal(r.last_log_ms, 1000);
    /* Within the minute they wait... */
    refusals_add(&r, &a, NOW, 2000, "collector test");
    assert_int_equal(r.v[0].pending, 4);
    refusals_tick(&r, 1000 + REFUSALS_LOG_MS - 1, "collector test");
    assert_int_equal(r.v[0].pending, 4);
    /* ...and go out a minute after the last line. */
    refusals_tick(&r, 1000 + REFUSALS_LOG_MS, "collector test");
    assert_int_equal(r.v[0].pending, 0);
    assert_int_equal(r.total, 8);
    char line[256];
    refusals_format(&r, false, line, sizeof line);
    assert_non_null(strstr(line, "too_old 8 (earliest "));
    assert_non_null(strstr(line, "2592000 s behind the collector's clock"));
}

int main(void)
{
    log_init("test_refusals", LOG_LVL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_clock),
        cmocka_unit_test(test_pending_line_once_a_minute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
