/* test_reident — matching entry and booth tag reads: a match and its travel
 * time, queue mismatch, booth before entry, the horizon, duplicate entry
 * reads, repeat trips, and bounded memory under capacity pressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "reident.h"

#define T0 ((int64_t)1795815000000)
#define HORIZON (6LL * 3600 * 1000)

static reident_t *R;

static int s_teardown(void **state)
{
    (void)state;
    reid_destroy(&R);
    assert_null(R);
    reid_destroy(&R); /* NULL is fine */
    return 0;
}

static void s_new(uint32_t capacity, int64_t horizon)
{
    R = reid_new(capacity, horizon, 0xa5a5a5a5deadbeefULL);
    assert_non_null(R);
}

static bool s_booth(const char *h, enum tax_mode m, enum tax_type t, int64_t dt, int64_t *travel)
{
    *travel = -12345;
    return reid_booth(R, h, m, t, T0 + dt, travel);
}

static void test_match(void **state)
{
    (void)state;
    s_new(1024, HORIZON);
    int64_t tr;
    reid_entry(R, "tag-0001", TAX_PASSENGER, TAX_STANDARD, T0 + 1000);
    reid_entry(R, "tag-0002", TAX_PASSENGER, TAX_STANDARD, T0 + 2000);
    assert_true(s_booth("tag-0002", TAX_PASSENGER, TAX_STANDARD, 602000, &tr));
    assert_int_equal(tr, 600000);
    assert_true(s_booth("tag-0001", TAX_PASSENGER, TAX_STANDARD, 1000 + 95432, &tr));
    assert_int_equal(tr, 95432);
    /* One booth read per entry read. */
    assert_false(s_booth("tag-0001", TAX_PASSENGER, TAX_STANDARD, 700000, &tr));
    /* Zero travel time is a (degenerate) match. */
    reid_entry(R, "tag-0003", TAX_COMMERCIAL, TAX_FAST, T0 + 5000);
    assert_true(s_booth("tag-0003", TAX_COMMERCIAL, TAX_FAST, 5000, &tr));
    assert_int_equal(tr, 0);
}

static void test_mismatch_by_queue(void **state)
{
    (void)state;
    s_new(1024, HORIZON);
    int64_t tr;
    reid_entry(R, "abc", TAX_PASSENGER, TAX_STANDARD, T0);
    assert_false(s_booth("abc", TAX_PASSENGER, TAX_READY, 60000, &tr));
    assert_false(s_booth("abc", TAX_PEDESTRIAN, TAX_STANDARD, 60000, &tr));
    assert_false(s_booth("abd", TAX_PASSENGER, TAX_STANDARD, 60000, &tr));
    /* The mismatches did not consume the entry. */
    assert_true(s_booth("abc", TAX_PASSENGER, TAX_STANDARD, 70000, &tr));
    assert_int_equal(tr, 70000);
    /* Same hash in two queues: two independent entries. */
    reid_entry(R, "xyz", TAX_PASSENGER, TAX_STANDARD, T0 + 1000);
    reid_entry(R, "xyz", TAX_PASSENGER, TAX_NEXUS_SENTRI, T0 + 2000);
    assert_true(s_booth("xyz", TAX_PASSENGER, TAX_NEXUS_SENTRI, 12000, &tr));
    assert_int_equal(tr, 10000);
    assert_true(s_booth("xyz", TAX_PASSENGER, TAX_STANDARD, 12000, &tr));
    assert_int_equal(tr, 11000);
}

static void test_booth_before_entry(void **state)
{
    (void)state;
    s_new(1024, HORIZON);
    int64_t tr;
    assert_false(s_booth("late", TAX_PEDESTRIAN, TAX_READY, 1000, &tr));
    reid_entry(R, "late", TAX_PEDESTRIAN, TAX_READY, T0 + 2000);
    assert_true(s_booth("late", TAX_PEDESTRIAN, TAX_READY, 2500, &tr));
    assert_int_equal(tr, 500);
}

static void test_horizon(void **state)
{
    (void)state;
    s_new(1024, 600000); /* 10 minutes */
    int64_t tr;
    reid_entry(R, "edge", TAX_PASSENGER, TAX_STANDARD, T0);
    reid_entry(R, "over", TAX_PASSENGER, TAX_STANDARD, T0);
    assert_true(s_booth("edge", TAX_PASSENGER, TAX_STANDARD, 600000, &tr)); /* exactly */
    assert_int_equal(tr, 600000);
    assert_false(s_booth("over", TAX_PASSENGER, TAX_STANDARD, 600001, &tr));
    /* The stale entry is gone, not matched by a later read either. */
    assert_false(s_booth("over", TAX_PASSENGER, TAX_STANDARD, 600002, &tr));
}

static void test_duplicate_entry_keeps_first(void **state)
{
    (void)state;
    s_new(1024, HORIZON);
    int64_t tr;
    reid_entry(R, "dup", TAX_PASSENGER, TAX_READY, T0 + 1000);
    reid_entry(R, "dup", TAX_PASSENGER, TAX_READY, T0 + 5000);
    reid_entry(R, "dup", TAX_PASSENGER, TAX_READY, T0 + 9000);
    assert_true(s_booth("dup", TAX_PASSENGER, TAX_READY, 10000, &tr));
    assert_int_equal(tr, 9000);
    assert_false(s_booth("dup", TAX_PASSENGER, TAX_READY, 11000, &tr));
}

/* A second trip after the first one matched: the consumed slot does not
 * hide the new entry. */
static void test_repeat_trip(void **state)
{
    (void)state;
    s_new(16, HORIZON);
    int64_t tr;
    for (int trip = 0; trip < 50; trip++) {
        int64_t t = (int64_t)trip * 100000;
        reid_entry(R, "commuter", TAX_PASSENGER, TAX_NEXUS_SENTRI, T0 + t);
        assert_true(s_booth("commuter", TAX_PASSENGER, TAX_NEXUS_SENTRI, t + 30000 + trip, &tr));
        assert_int_equal(tr, 30000 + trip);
    }
}

static void test_capacity_pressure(void **state)
{
    (void)state;
    const uint32_t capacity = 100;
    s_new(capacity, HORIZON);
    char h[32];
    uint32_t n = capacity * 10;
    for (uint32_t i = 0; i < n; i++) {
        snprintf(h, sizeof h, "veh-%u", i);
        reid_entry(R, h, TAX_PASSENGER, TAX_STANDARD, T0 + (int64_t)i * 1000);
    }
    int64_t now = (int64_t)n * 1000;
    int64_t tr;
    /* The most recent reads still match, with their own travel time. */
    for (uint32_t i = n - capacity / 4; i < n; i++) {
        snprintf(h, sizeof h, "veh-%u", i);
        if (!s_booth(h, TAX_PASSENGER, TAX_STANDARD, now, &tr))
            fail_msg("recent entry %s forgotten", h);
        assert_int_equal(tr, now - (int64_t)i * 1000);
    }
    /* The oldest were forgotten to make room. */
    for (uint32_t i = 0; i < capacity; i++) {
        snprintf(h, sizeof h, "veh-%u", i);
        if (s_booth(h, TAX_PASSENGER, TAX_STANDARD, now, &tr))
            fail_msg("entry %s still kept after %u newer reads", h, n - i);
    }
    /* And the table keeps taking new reads after all that. */
    reid_entry(R, "fresh", TAX_PASSENGER, TAX_STANDARD, T0 + now + 1);
    assert_true(s_booth("fresh", TAX_PASSENGER, TAX_STANDARD, now + 2, &tr));
    assert_int_equal(tr, 1);
}

/* Reads older than the horizon are swept when the table fills, so a table
 * full of stale reads accepts new ones and forgets the stale ones. */
static void test_expired_swept(void **state)
{
    (void)state;
    s_new(8, 60000);
    char h[32];
    for (int i = 0; i < 200; i++) {
        snprintf(h, sizeof h, "old-%d", i);
        reid_entry(R, h, TAX_PEDESTRIAN, TAX_STANDARD, T0 + i);
    }
    int64_t tr;
    for (int i = 0; i < 8; i++) {
        snprintf(h, sizeof h, "new-%d", i);
        reid_entry(R, h, TAX_PEDESTRIAN, TAX_STANDARD, T0 + 3600000 + i);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(h, sizeof h, "new-%d", i);
        assert_true(s_booth(h, TAX_PEDESTRIAN, TAX_STANDARD, 3600000 + 100, &tr));
        assert_int_equal(tr, 100 - i);
    }
    assert_false(s_booth("old-199", TAX_PEDESTRIAN, TAX_STANDARD, 3600000 + 100, &tr));
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_match),
        T(test_mismatch_by_queue),
        T(test_booth_before_entry),
        T(test_horizon),
        T(test_duplicate_entry_keeps_first),
        T(test_repeat_trip),
        T(test_capacity_pressure),
        T(test_expired_swept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
