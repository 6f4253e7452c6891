/* test_hours_obs — learning a side's hours from its minutes
 * (collector/hours_obs.c) on hand-made series fed minute by minute in UTC
 * and converted in the side's zone as the collector does: weekday/weekend
 * schedules, gaps, blips, unknown stretches, overnight and week-wrapping
 * hours, DST change weeks in zones that change (Tijuana, Winnipeg) and one
 * that does not (Hermosillo), exceptions by date (a holiday closure, a late
 * opening), and the bad inputs: a stuck sensor, flapping lanes, a silent
 * direction, a clock that jumps ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hours_dev.h"
#include "hours_obs.h"
#include "zone.h"

/* What the truth says for local weekday wd (Monday 0), minute m, date. */
typedef int (*s_truth_fn)(int wd, int m, int64_t daynum);

typedef struct {
    s_truth_fn truth;      /* 1 open, 0 closed, -1 unknown (no data) */
    int blip_at;           /* a one-minute open blip at this minute each day (-1 none) */
    int gap_at;            /* a 5-minute closed gap in open hours each day (-1 none) */
    bool departures;       /* feed departures (1 per open minute) */
} s_feed_t;

/* Feeds [from, to) UTC. */
static void s_feed(hours_obs_t *h, const char *tz, int64_t from, int64_t to, const s_feed_t *f)
{
    for (int64_t t = from; t < to; t += 60) {
        struct tm lt;
        assert_int_equal(zone_local(tz, t, &lt, NULL, 0), 0);
        int wd = (lt.tm_wday + 6) % 7, m = lt.tm_hour * 60 + lt.tm_min;
        int64_t dn = hours_obs_daynum(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
        int st = f->truth(wd, m, dn);
        if (st == 1 && f->gap_at >= 0 && m >= f->gap_at && m < f->gap_at + 5)
            st = 0;
        else if (st == 0 && m == f->blip_at)
            st = 1;
        double lanes = st < 0 ? NAN : st ? 2.0 : 0.0;
        double dep = st < 0 || !f->departures ? NAN : st ? 1.0 : 0.0;
        assert_int_equal(hours_obs_add(h, t, lanes, dep, to), HOBS_ADDED);
    }
}

static int64_t s_utc(const char *tz, int y, int mo, int d)
{
    int64_t t;
    assert_int_equal(zone_to_utc(tz, y, mo, d, 0, 0, &t), 0);
    return t;
}

/* The rules joined by "; " in their order. */
static const char *s_text(const hobs_result_t *r)
{
    static char buf[512];
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->sched.nrules; i++) {
        char one[64];
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "; " : "",
                              hours_rule_text(&r->sched.rules[i], one, sizeof one));
    }
    return buf;
}

static hobs_result_t *s_learn(const char *tz, int64_t from, int64_t to, const s_feed_t *f)
{
    hours_obs_t *h = hours_obs_new(tz);
    assert_non_null(h);
    s_feed(h, tz, from, to, f);
    hobs_result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    hours_obs_learn(h, 0, r);
    hours_obs_destroy(&h);
    return r;
}

/* ---- truths ---------------------------------------------------------------- */

static int s_wk_8_22_we_9_18(int wd, int m, int64_t dn)
{
    (void)dn;
    return wd < 5 ? m >= 480 && m < 1320 : m >= 540 && m < 1080;
}

static int s_daily_6_24(int wd, int m, int64_t dn)
{
    (void)wd;
    (void)dn;
    return m >= 360;
}

static int s_daily_8_22(int wd, int m, int64_t dn)
{
    (void)wd;
    (void)dn;
    return m >= 480 && m < 1320;
}

/* Mon-thu 06:00-22:00, fri,sat 20:00-02:00 (overnight), sun closed. */
static int s_overnight(int wd, int m, int64_t dn)
{
    (void)dn;
    if (m < 120 && (wd == 5 || wd == 6))   /* the tail of fri's and sat's nights */
        return 1;
    if (wd < 4)
        return m >= 360 && m < 1320;
    return (wd == 4 || wd == 5) && m >= 1200;
}

/* Open from sat 22:00 straight through to mon 06:00, weekdays 07:00-19:00. */
static int s_weekend_through(int wd, int m, int64_t dn)
{
    (void)dn;
    if (wd == 6)
        return 1;
    if (wd == 5)
        return (m >= 420 && m < 1140) || m >= 1320;
    if (wd == 0 && m < 360)
        return 1;
    return m >= 420 && m < 1140;
}

static int s_always(int wd, int m, int64_t dn)
{
    (void)wd;
    (void)m;
    (void)dn;
    return 1;
}

static int s_nothing(int wd, int m, int64_t dn)
{
    (void)wd;
    (void)m;
    (void)dn;
    return -1;
}

/* 08:00-22:00 daily with 2026-11-26 closed (holiday), 2026-11-18 opening
 * 40 minutes late, and 2026-11-20 with no data 13:00-16:00. */
static int s_with_exceptions(int wd, int m, int64_t dn)
{
    if (dn == hours_obs_daynum(2026, 11, 26))
        return 0;
    if (dn == hours_obs_daynum(2026, 11, 18))
        return m >= 520 && m < 1320;
    if (dn == hours_obs_daynum(2026, 11, 20) && m >= 780 && m < 960)
        return -1;
    return s_daily_8_22(wd, m, dn);
}

/* Lanes flip every minute. */
static int s_flapping(int wd, int m, int64_t dn)
{
    (void)wd;
    (void)dn;
    return m % 2;
}

/* Weekdays open 06:25 (posted 06:00), weekends 06:00; all close 22:00. */
static int s_late_weekdays(int wd, int m, int64_t dn)
{
    (void)dn;
    return m >= (wd < 5 ? 385 : 360) && m < 1320;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_weekday_weekend(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    s_feed_t f = { .truth = s_wk_8_22_we_9_18, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 23), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "mon-fri 08:00-22:00; sat,sun 09:00-18:00");
    assert_int_equal(r->weeks, 3);
    assert_true(r->confidence > 0.99);
    assert_string_equal(hours_obs_confidence_level(r->confidence), "high");
    assert_int_equal(r->nexc, 0);
    free(r);
}

/* Five-minute closed gaps at noon, one-minute open blips at 03:00: smoothed
 * away. Fewer than 3 weeks: known, but the confidence says so. */
static void test_gaps_and_blips(void **state)
{
    (void)state;
    const char *tz = "America/Chicago";
    s_feed_t f = { .truth = s_daily_6_24, .blip_at = 180, .gap_at = 720, .departures = false };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 16), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 06:00-24:00");
    assert_int_equal(r->weeks, 2);
    assert_true(r->confidence < 0.7 && r->confidence > 0.6);
    assert_string_equal(r->why, "fewer than 3 weeks observed");
    free(r);
}

/* Unknown stretches stay unknown: a day with 3 hours missing is neither an
 * exception nor closed; the holiday closure and the late opening are
 * listed with their dates and do not move the schedule. */
static void test_exceptions(void **state)
{
    (void)state;
    const char *tz = "America/Los_Angeles";
    s_feed_t f = { .truth = s_with_exceptions, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 9), s_utc(tz, 2026, 11, 30), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 08:00-22:00");
    assert_int_equal(r->nexc, 2);
    assert_int_equal(r->exc[0].day, 18);
    assert_int_equal(r->exc[0].kind, HOBS_EXC_OPENED_LATE);
    assert_int_equal(r->exc[0].minutes, 40);
    assert_string_equal(r->exc[0].observed, "08:40-22:00");
    assert_int_equal(r->exc[1].year, 2026);
    assert_int_equal(r->exc[1].month, 11);
    assert_int_equal(r->exc[1].day, 26);
    assert_int_equal(r->exc[1].kind, HOBS_EXC_CLOSED);
    assert_string_equal(r->exc[1].observed, "closed");
    assert_string_equal(hours_obs_exc_name(r->exc[1].kind), "closed");
    free(r);
}

static void test_overnight(void **state)
{
    (void)state;
    const char *tz = "America/Detroit";
    s_feed_t f = { .truth = s_overnight, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 23), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "mon-thu 06:00-22:00; fri,sat 20:00-02:00");
    /* The rules mean what was learned: evaluate them back. */
    hours_side_t side = { .known = true };
    side.mode[TAX_PASSENGER] = r->sched;
    for (int wd = 0; wd < 7; wd++)
        for (int m = 0; m < 1440; m += 5) {
            struct tm lt = { .tm_year = 126, .tm_mon = 10, .tm_mday = 2 + wd, .tm_wday = (wd + 1) % 7,
                             .tm_hour = m / 60, .tm_min = m % 60 };
            int want = s_overnight(wd, m, 0) ? HOURS_OPEN : HOURS_CLOSED;
            assert_int_equal(hours_state_local(&side, TAX_PASSENGER, &lt), want);
        }
    free(r);
}

static void test_week_wrap_and_24h(void **state)
{
    (void)state;
    const char *tz = "America/New_York";
    s_feed_t f = { .truth = s_weekend_through, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 23), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "mon-sat 07:00-19:00; sat 22:00-24:00; sun 00:00-24:00; "
                                   "mon 00:00-06:00");
    free(r);
    f.truth = s_always;
    r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 23), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_true(r->sched.always);
    assert_string_equal(s_text(r), "24h");
    free(r);
}

/* DST change weeks: wall-clock hours stay wall-clock hours in a zone that
 * springs forward (Tijuana, 2026-03-08) and in one that does not
 * (Hermosillo) over the same UTC weeks; an overnight schedule through the
 * repeated fall-back hour (Winnipeg, 2026-11-01). */
static void test_dst_weeks(void **state)
{
    (void)state;
    s_feed_t f = { .truth = s_daily_8_22, .blip_at = -1, .gap_at = -1, .departures = true };
    const char *zones[] = { "America/Tijuana", "America/Hermosillo" };
    int64_t from = s_utc("America/Tijuana", 2026, 2, 23), to = s_utc("America/Tijuana", 2026, 3, 16);
    for (int z = 0; z < 2; z++) {
        hobs_result_t *r = s_learn(zones[z], from, to, &f);
        assert_int_equal(r->status, HOBS_KNOWN);
        assert_string_equal(s_text(r), "daily 08:00-22:00");
        assert_int_equal(r->nexc, 0);
        free(r);
    }
    const char *tz = "America/Winnipeg";
    f.truth = s_overnight;
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 10, 19), s_utc(tz, 2026, 11, 9), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "mon-thu 06:00-22:00; fri,sat 20:00-02:00");
    assert_int_equal(r->nexc, 0);
    free(r);
}

/* A lane "open" for days with departures known and none: those days are
 * unknown (counted), the rest still learns, with a lower confidence. */
static void test_stuck_sensor(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    hours_obs_t *h = hours_obs_new(tz);
    int64_t from = s_utc(tz, 2026, 11, 2), stuck = s_utc(tz, 2026, 11, 16), to = s_utc(tz, 2026, 11, 23);
    s_feed_t f = { .truth = s_daily_8_22, .blip_at = -1, .gap_at = -1, .departures = true };
    s_feed(h, tz, from, stuck, &f);
    for (int64_t t = stuck; t < to; t += 60)
        assert_int_equal(hours_obs_add(h, t, 1.0, 0.0, to), HOBS_ADDED);
    hobs_result_t *r = malloc(sizeof *r);
    hours_obs_learn(h, 0, r);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 08:00-22:00");
    assert_true(r->days_stuck >= 7);
    assert_int_equal(r->weeks, 2);
    assert_true(r->confidence < 0.6);
    assert_string_equal(hours_obs_confidence_level(r->confidence), "low");
    assert_string_equal(r->why, "stuck sensor on some days");
    hours_obs_destroy(&h);
    /* Stuck from the start: nothing to learn. */
    h = hours_obs_new(tz);
    for (int64_t t = from; t < to; t += 60)
        hours_obs_add(h, t, 1.0, 0.0, to);
    hours_obs_learn(h, 0, r);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "stuck sensor");
    assert_int_equal(r->sched.nrules, 0);
    hours_obs_destroy(&h);
    free(r);
}

static void test_flapping_and_silent(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    int64_t from = s_utc(tz, 2026, 11, 2), to = s_utc(tz, 2026, 11, 23);
    s_feed_t f = { .truth = s_flapping, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, from, to, &f);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "flapping lanes");
    assert_int_equal(r->days_flapping, 21);
    free(r);
    f.truth = s_nothing;
    r = s_learn(tz, from, to, &f);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "no data");
    free(r);
    /* A track never fed. */
    hours_obs_t *h = hours_obs_new(tz);
    r = malloc(sizeof *r);
    hours_obs_learn(h, 0, r);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "no data");
    free(r);
    hours_obs_destroy(&h);
}

/* A direction that stops reporting: learned up to now, its last days are
 * silent; after a week and a day the hours learned before are kept at low
 * confidence, and once the window has passed they are unknown. */
static void test_silent_week(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    hours_obs_t *h = hours_obs_new(tz);
    int64_t from = s_utc(tz, 2026, 11, 2), to = s_utc(tz, 2026, 11, 23);
    s_feed_t f = { .truth = s_daily_8_22, .blip_at = -1, .gap_at = -1, .departures = true };
    s_feed(h, tz, from, to, &f);
    hobs_result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    hours_obs_learn(h, to + 3 * 86400, r);   /* 3 quiet days: nothing said */
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_int_equal(r->days_silent_recent, 4);   /* Nov 23-26, the 26th so far */
    assert_string_equal(hours_obs_confidence_level(r->confidence), "high");
    hours_obs_learn(h, to + 7 * 86400 + 3600, r);   /* Nov 23-30 silent: a week and the day so far */
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 08:00-22:00");
    assert_int_equal(r->days_silent_recent, 8);
    assert_true(r->confidence <= HOBS_SILENT_CONF);
    assert_string_equal(hours_obs_confidence_level(r->confidence), "low");
    assert_string_equal(r->why, "silent for the last 7 days");
    hours_obs_learn(h, 0, r);   /* without a clock: the window ends at the last day heard */
    assert_int_equal(r->days_silent_recent, 0);
    assert_string_equal(hours_obs_confidence_level(r->confidence), "high");
    hours_obs_learn(h, to + 40 * 86400, r);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "no data");
    free(r);
    hours_obs_destroy(&h);
}

/* hours_obs_forget: open minutes without a departure become unknown, open
 * minutes with one stay. */
static void test_forget(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    hours_obs_t *h = hours_obs_new(tz);
    int64_t t0 = s_utc(tz, 2026, 11, 2);
    for (int i = 0; i < 60; i++)
        assert_int_equal(hours_obs_add(h, t0 + i * 60, 1.0, i < 30 ? 0.0 : 1.0, t0 + 3600), HOBS_ADDED);
    uint64_t v = hours_obs_version(h);
    assert_int_equal(hours_obs_forget(h, t0, t0 + 3600), 30);
    assert_true(hours_obs_version(h) > v);
    assert_int_equal(hours_obs_forget(h, t0, t0 + 3600), 0);
    hours_obs_destroy(&h);
}

/* Only one weekday observed: unknown, never a guess for the others. */
static void test_partial_week(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    s_feed_t f = { .truth = s_daily_8_22, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 4), &f);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "not every weekday observed");
    free(r);
}

static void test_clock_and_window(void **state)
{
    (void)state;
    const char *tz = "America/Toronto";
    hours_obs_t *h = hours_obs_new(tz);
    int64_t now = s_utc(tz, 2026, 11, 23);
    assert_int_equal(hours_obs_add(h, now + 3600, 1, 1, now), HOBS_CLOCK);
    assert_int_equal(hours_obs_version(h), 0);
    assert_int_equal(hours_obs_add(h, now, 1, 1, now), HOBS_ADDED);
    assert_int_equal(hours_obs_version(h), 1);
    assert_int_equal(hours_obs_add(h, now, 1, 1, now), HOBS_ADDED);   /* same: no change */
    assert_int_equal(hours_obs_version(h), 1);
    assert_int_equal(hours_obs_add(h, now - 40 * 86400, 1, 1, now), HOBS_OLD);
    hours_obs_destroy(&h);
    h = hours_obs_new("Nowhere/Atlantis");
    assert_int_equal(hours_obs_add(h, now, 1, 1, now), HOBS_BADZONE);
    hours_obs_destroy(&h);
}

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(hours_obs_daynum(1970, 1, 1), 0);
    assert_int_equal(hours_obs_daynum(2026, 12, 3), 20790);
    int y, m, d;
    hours_obs_civil(20790, &y, &m, &d);
    assert_int_equal(y, 2026);
    assert_int_equal(m, 12);
    assert_int_equal(d, 3);
    hours_obs_civil(hours_obs_daynum(2024, 2, 29), &y, &m, &d);
    assert_int_equal(m * 100 + d, 229);
}

static void s_posted(hours_side_t *h, const char *rule, const char *closure)
{
    memset(h, 0, sizeof *h);
    h->known = true;
    char why[128];
    assert_int_equal(hours_parse_rule(rule, &h->mode[TAX_PASSENGER].rules[0], why, sizeof why), 0);
    h->mode[TAX_PASSENGER].nrules = 1;
    if (closure) {
        assert_int_equal(hours_parse_closure(closure, &h->closed[0]), 0);
        h->nclosed = 1;
    }
}

/* Posted against kept: a late opening on weekdays is one deviation with
 * its days; a closure on a posted-open date is one, on a posted holiday
 * (US Thanksgiving, 11-thu#4 = 2026-11-26) none; equal hours none. */
static void test_deviations(void **state)
{
    (void)state;
    const char *tz = "America/Los_Angeles";
    hours_dev_t dev[HDEV_MAX];
    char text[128];
    hours_side_t posted;
    s_feed_t f = { .truth = s_late_weekdays, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 2), s_utc(tz, 2026, 11, 23), &f);
    s_posted(&posted, "daily 06:00-22:00", NULL);
    int64_t ref = hours_obs_daynum(2026, 11, 23);
    assert_int_equal(hours_dev_compare(&posted, TAX_PASSENGER, r, ref, dev, HDEV_MAX), 1);
    assert_int_equal(dev[0].kind, HDEV_OPENS_LATE);
    assert_int_equal(dev[0].days, 0x1f);
    assert_int_equal(dev[0].minutes, 25);
    assert_string_equal(hours_dev_text(&dev[0], text, sizeof text),
                        "opens 25 min late on mon-fri (posted 06:00, kept 06:25)");
    s_posted(&posted, "mon-fri 06:30-21:00", NULL);
    /* Kept 06:25 against posted 06:30 is within the rounding: not listed. */
    assert_int_equal(hours_dev_compare(&posted, TAX_PASSENGER, r, ref, dev, HDEV_MAX), 2);
    assert_string_equal(hours_dev_text(&dev[0], text, sizeof text),
                        "closes 60 min late on mon-fri (posted 21:00, kept 22:00)");
    assert_int_equal(dev[1].kind, HDEV_OPEN_OUTSIDE);
    assert_string_equal(hours_dev_text(&dev[1], text, sizeof text),
                        "open 06:00-22:00 on sat,sun while posted closed");
    free(r);
    f.truth = s_with_exceptions;
    r = s_learn(tz, s_utc(tz, 2026, 11, 9), s_utc(tz, 2026, 11, 30), &f);
    s_posted(&posted, "daily 08:00-22:00", NULL);
    ref = hours_obs_daynum(2026, 11, 30);
    assert_int_equal(hours_dev_compare(&posted, TAX_PASSENGER, r, ref, dev, HDEV_MAX), 1);
    assert_int_equal(dev[0].kind, HDEV_CLOSED_ON_DATE);
    assert_string_equal(hours_dev_text(&dev[0], text, sizeof text),
                        "closed on 2026-11-26, a posted-open day");
    s_posted(&posted, "daily 08:00-22:00", "11-thu#4");
    assert_int_equal(hours_dev_compare(&posted, TAX_PASSENGER, r, ref, dev, HDEV_MAX), 0);
    posted.known = false;
    assert_int_equal(hours_dev_compare(&posted, TAX_PASSENGER, r, ref, dev, HDEV_MAX), -1);
    free(r);
}

/* The result as a track keeps it between learns (hours_obs_pack): given
 * back byte for byte, in a few hundred bytes for a learned week with its
 * exceptions; a week of more than 1,260 runs in 2 bits a minute; a value
 * no learner writes (above 3) in the raw bytes; without the week, the
 * fields alone. */
static void s_round_trip(const hobs_result_t *r, size_t most)
{
    hobs_packed_t *p = hours_obs_pack(r);
    assert_non_null(p);
    assert_true(hours_obs_packed_size(p) <= most);
    hobs_result_t *back = malloc(sizeof *back);
    assert_non_null(back);
    memset(back, 0xa5, sizeof *back);
    hours_obs_unpack(p, back, true);
    size_t used = offsetof(hobs_result_t, week) + sizeof r->week;
    assert_memory_equal(back, r, used);
    memset(back, 0xa5, sizeof *back);
    hours_obs_unpack(p, back, false);
    assert_memory_equal(back, r, offsetof(hobs_result_t, week));
    for (int d = 0; d < 7; d++)
        for (int m = 0; m < 1440; m++)
            assert_int_equal(back->week[d][m], 0);
    free(back);
    free(p);
}

static void test_packed(void **state)
{
    (void)state;
    const char *tz = "America/Los_Angeles";
    s_feed_t f = { .truth = s_with_exceptions, .blip_at = -1, .gap_at = -1, .departures = true };
    hobs_result_t *r = s_learn(tz, s_utc(tz, 2026, 11, 9), s_utc(tz, 2026, 11, 30), &f);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_int_equal(r->nexc, 2);
    s_round_trip(r, 1024);                       /* against 11 KB whole */
    for (int d = 0; d < 7; d++)                  /* flapping: a run a minute */
        for (int m = 0; m < 1440; m++)
            r->week[d][m] = (uint8_t)((d + m) % 3);
    s_round_trip(r, 1024 + 7 * 1440 / 4);
    r->week[3][700] = 7;
    s_round_trip(r, 1024 + 7 * 1440);
    memset(r, 0, sizeof *r);                     /* nothing learned */
    r->status = HOBS_UNKNOWN;
    r->why = "no data";
    s_round_trip(r, 512);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekday_weekend),   cmocka_unit_test(test_gaps_and_blips),
        cmocka_unit_test(test_exceptions),        cmocka_unit_test(test_overnight),
        cmocka_unit_test(test_week_wrap_and_24h), cmocka_unit_test(test_dst_weeks),
        cmocka_unit_test(test_stuck_sensor),      cmocka_unit_test(test_flapping_and_silent),
        cmocka_unit_test(test_partial_week),      cmocka_unit_test(test_clock_and_window),
        cmocka_unit_test(test_calendar),          cmocka_unit_test(test_deviations),
        cmocka_unit_test(test_silent_week),       cmocka_unit_test(test_forget),
        cmocka_unit_test(test_packed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
