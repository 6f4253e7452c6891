/* test_zone — collector/zone.c against glibc itself: the cached offset,
 * DST flag and abbreviation of every zone asked are those localtime_r
 * gives with TZ set, over years of instants and more zones than fit
 * apart in the cache; and local wall times around DST changes map back to
 * the right UTC second. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zone.h"

static const char *s_zones[] = {
    "America/New_York", "America/Toronto", "America/Detroit", "America/Chicago",
    "America/Winnipeg", "America/Denver", "America/Edmonton", "America/Phoenix",
    "America/Los_Angeles", "America/Vancouver", "America/Tijuana", "America/Hermosillo",
    "America/Matamoros", "America/Ciudad_Juarez", "America/Ojinaga", "America/Halifax",
    "America/St_Johns", "America/Anchorage", "Pacific/Honolulu", "Asia/Kolkata",
    "Australia/Adelaide", "Asia/Kathmandu", "Europe/London", "America/Regina",
};
#define NZONES (sizeof s_zones / sizeof s_zones[0])

/* glibc's own answer for zone at t. */
static void s_glibc(const char *zone, int64_t t, struct tm *out)
{
    char spec[64];
    snprintf(spec, sizeof spec, ":%s", zone);
    setenv("TZ", spec, 1);
    tzset();
    time_t tt = (time_t)t;
    assert_non_null(localtime_r(&tt, out));
    unsetenv("TZ");
    tzset();
}

static void test_same_as_glibc(void **state)
{
    (void)state;
    zone_reset();
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *zone = s_zones[x % NZONES];
        int64_t t = 1577836800 + (int64_t)((x >> 20) % (7ull * 365 * 86400)); /* 2020-2026 */
        struct tm got, want;
        char abbr[8];
        assert_int_equal(zone_local(zone, t, &got, abbr, sizeof abbr), 0);
        s_glibc(zone, t, &want);
        if (got.tm_gmtoff != want.tm_gmtoff || got.tm_isdst != want.tm_isdst ||
            strcmp(abbr, want.tm_zone) != 0 || got.tm_hour != want.tm_hour ||
            got.tm_min != want.tm_min || got.tm_mday != want.tm_mday)
            fail_msg("%s at %lld: %ld %d %s %02d:%02d, glibc %ld %d %s %02d:%02d", zone,
                     (long long)t, got.tm_gmtoff, got.tm_isdst, abbr, got.tm_hour, got.tm_min,
                     want.tm_gmtoff, want.tm_isdst, want.tm_zone, want.tm_hour, want.tm_min);
    }
}

static void test_unknown_zone(void **state)
{
    (void)state;
    struct tm tm;
    assert_int_equal(zone_local("Mars/Olympus_Mons", 0, &tm, NULL, 0), -1);
    assert_int_equal(zone_local("../etc/passwd", 0, &tm, NULL, 0), -1);
    assert_int_equal(zone_local("America/New_York", 0, &tm, NULL, 0), 0);
}

static void test_wall_times_around_changes(void **state)
{
    (void)state;
    int64_t t;
    /* 2026-03-08 02:30 does not exist in New York: read as standard time */
    assert_int_equal(zone_to_utc("America/New_York", 2026, 3, 8, 2, 30, &t), 0);
    assert_int_equal(t, 1772955000); /* 07:30 UTC */
    /* 2026-11-01 01:30 happens twice: the earlier (EDT) instant */
    assert_int_equal(zone_to_utc("America/New_York", 2026, 11, 1, 1, 30, &t), 0);
    assert_int_equal(t, 1793511000); /* 05:30 UTC */
    /* Phoenix keeps MST all year */
    assert_int_equal(zone_to_utc("America/Phoenix", 2026, 7, 1, 12, 0, &t), 0);
    assert_int_equal(t, 1782932400); /* 19:00 UTC */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_glibc),
        cmocka_unit_test(test_unknown_zone),
        cmocka_unit_test(test_wall_times_around_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
