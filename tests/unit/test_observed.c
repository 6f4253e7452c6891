/* test_observed — the collector's observed-hours tracks (collector/
 * observed.c) fed minute by minute through observed_interval, as the
 * ingest path does, on a one-crossing registry (CA, passenger standard and
 * ready lanes), and the bad input each gets its own treatment for, counted
 * where /health and /metrics show it:
 *   - a ready lane stuck open for weeks without a departure while the
 *     standard lanes keep 08:00-22:00: the mode is not "open 24 h"; the
 *     lane is counted (stuck_lanes) and its minutes are unknown;
 *   - an interval ending before one already folded (a clock that jumped
 *     back): refused, counted (clock_back), nothing rewritten;
 *   - a minute far ahead of the clock: refused, counted (clock_ahead);
 *   - the direction silent for 8 days: the hours learned before stay, at
 *     low confidence, counted (silent_week); after the window, no data;
 * the archived demand of a typical week (observed_demand), and lane types
 * whose hours differ from their mode's (observed_get_type, /v1/hours
 * lane_types).
 * No archive, no event loop (observed_refresh is called directly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "feed_hours.h"
#include "log.h"
#include "metrics.h"
#include "observed.h"
#include "registry.h"
#include "zone.h"

#define TZ "America/Toronto"

static registry_t *s_registry(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/test_observed.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/registry.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "crossings = (\n"
               "  { id = \"090103\"; bwt_id = \"09090103\"; border = \"CA\"; name = \"Test\";\n"
               "    us_tz = \"America/New_York\"; other_tz = \"" TZ "\";\n"
               "    max_lanes = { passenger = 3; pedestrian = 0; commercial = 0; };\n"
               "    lanes = { passenger = { standard = 2; ready = 1; }; };\n"
               "    hours = { us = { source = \"test\"; all = [ \"24h\" ]; }; other = \"unknown\"; }; }\n"
               ");\n");
    assert_int_equal(fclose(f), 0);
    int nbad = 0;
    registry_t *reg = reg_load(path, &nbad);
    assert_non_null(reg);
    assert_int_equal(nbad, 0);
    unlink(path);
    return reg;
}

static int64_t s_utc(int y, int mo, int d)
{
    int64_t t;
    assert_int_equal(zone_to_utc(TZ, y, mo, d, 0, 0, &t), 0);
    return t;
}

/* Northbound enters Canada: the other side's passenger track. Standard
 * lanes open 08:00-22:00 local with a departure a minute; the ready lane
 * open all the time, never a departure. */
static void s_feed(observed_t *o, int64_t from, int64_t to)
{
    for (int64_t t = from; t < to; t += 60) {
        struct tm lt;
        assert_int_equal(zone_local(TZ, t, &lt, NULL, 0), 0);
        int m = lt.tm_hour * 60 + lt.tm_min;
        bool open = m >= 480 && m < 1320;
        observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, (t + 60) * 1000, 60000, open ? 2 : 0,
                          open ? 3 : 0, open ? 1 : 0, t + 60);
        observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_READY, (t + 60) * 1000, 60000, 1, 0, 0, t + 60);
    }
}

static const char *s_text(const hobs_result_t *r)
{
    static char buf[256];
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->sched.nrules; i++) {
        char one[64];
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "; " : "",
                              hours_rule_text(&r->sched.rules[i], one, sizeof one));
    }
    return buf;
}

static void test_bad_input(void **state)
{
    (void)state;
    char dir[64];
    registry_t *reg = s_registry(dir, sizeof dir);
    observed_t *o = observed_new(NULL, reg, 300);
    assert_non_null(o);
    int64_t from = s_utc(2026, 11, 2), to = s_utc(2026, 11, 23);
    s_feed(o, from, to);
    assert_true(observed_refresh(o, to + 180) > 0);
    hobs_result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_equal(observed_get(o, 0, HOURS_OTHER, TAX_PASSENGER, r), 0);
    /* The stuck ready lane does not make the mode open all night. */
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 08:00-22:00");
    /* the first day's nights were open (the ready lane) until it was found
     * stuck a day later, and are forgotten: that Monday is not usable */
    assert_int_equal(r->weeks, 2);
    assert_int_equal(r->days_usable, 20);
    /* The archived demand of a typical week: 3 arrivals a minute from
     * 08:00 to 22:00 on the standard lanes, none at night (data, not a
     * gap: covered); none southbound (no data). */
    int64_t mon = s_utc(2026, 11, 30);
    double cov = 0;
    assert_float_equal(observed_demand(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, mon + 8 * 3600, mon + 9 * 3600, &cov),
                       180.0, 0.01);
    assert_float_equal(cov, 1.0, 1e-9);
    assert_float_equal(observed_demand(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, mon + 2 * 3600, mon + 3 * 3600, &cov),
                       0.0, 1e-9);
    assert_float_equal(cov, 1.0, 1e-9);
    assert_float_equal(observed_demand(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, mon + 21 * 3600 + 1800,
                                       mon + 22 * 3600 + 1800, &cov), 90.0, 0.01);
    assert_true(observed_demand(o, 0, TAX_SOUTHBOUND, TAX_PASSENGER, mon, mon + 3600, &cov) < 0);
    assert_float_equal(cov, 0.0, 1e-9);
    assert_true(observed_demand(o, 0, TAX_NORTHBOUND, TAX_COMMERCIAL, mon, mon + 3600, NULL) < 0);

    observed_counters_t c;
    observed_counters(o, &c);
    assert_int_equal(c.stuck_lanes, 1);
    assert_int_equal(c.known, 1);
    assert_int_equal(c.clock_back, 0);

    /* A clock that jumped back two hours: refused, counted, no change. */
    uint64_t v = observed_version(o);
    observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, (to - 7200) * 1000, 60000, 2, 0, 1, to);
    /* Two intervals a day ahead of the clock: refused when they come (not
     * stored later, when the clock has caught up with their minute). */
    observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, (to + 86400) * 1000, 60000, 2, 0, 1, to);
    observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, (to + 86460) * 1000, 60000, 2, 0, 1, to);
    assert_int_equal(observed_refresh(o, to + 180), 0);
    assert_int_equal(observed_version(o), v);
    observed_counters(o, &c);
    assert_int_equal(c.clock_back, 1);
    assert_int_equal(c.clock_jumps, 2);

    /* Then nothing for 8 days: the hours stay, at low confidence, relearned
     * although no minute changed. */
    int64_t later = to + 8 * 86400;
    assert_true(observed_refresh(o, later) > 0);
    assert_int_equal(observed_get(o, 0, HOURS_OTHER, TAX_PASSENGER, r), 0);
    assert_int_equal(r->status, HOBS_KNOWN);
    assert_string_equal(s_text(r), "daily 08:00-22:00");
    assert_true(r->days_silent_recent > 7);
    assert_true(r->confidence <= HOBS_SILENT_CONF);
    assert_string_equal(hours_obs_confidence_level(r->confidence), "low");
    assert_string_equal(r->why, "silent for the last 7 days");
    observed_counters(o, &c);
    assert_int_equal(c.silent_week, 1);

    /* Both counters in /metrics and /health. */
    stats_t st;
    memset(&st, 0, sizeof st);
    char *text = metrics_render(&st, NULL, &c, true, later * 1000);
    assert_non_null(text);
    assert_non_null(strstr(text, "poenet_hours_refused_total{reason=\"clock_back\"} 1\n"));
    assert_non_null(strstr(text, "poenet_hours_refused_total{reason=\"clock_ahead\"} 2\n"));
    assert_non_null(strstr(text, "poenet_hours_stuck_lanes_total 1\n"));
    assert_non_null(strstr(text, "poenet_hours_tracks{state=\"silent_week\"} 1\n"));
    assert_non_null(strstr(text, "poenet_hours_tracks{state=\"known\"} 1\n"));
    free(text);
    char *h = feed_health_json(&st, true, NULL, &c, later * 1000);
    assert_non_null(h);
    json_t *root = json_loads(h, 0, NULL);
    free(h);
    assert_non_null(root);
    json_t *oh = json_object_get(root, "observed_hours");
    assert_int_equal(json_integer_value(json_object_get(oh, "stuck_lanes")), 1);
    assert_int_equal(json_integer_value(json_object_get(oh, "clock_back")), 1);
    assert_int_equal(json_integer_value(json_object_get(oh, "clock_ahead")), 2);
    assert_int_equal(json_integer_value(json_object_get(oh, "silent_week")), 1);
    json_decref(root);

    /* Past the window: nothing left to learn from. */
    assert_true(observed_refresh(o, to + (HOBS_DAYS + 1) * 86400) > 0);
    assert_int_equal(observed_get(o, 0, HOURS_OTHER, TAX_PASSENGER, r), 0);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_string_equal(r->why, "no data");
    observed_counters(o, &c);
    assert_int_equal(c.silent_week, 0);
    assert_int_equal(c.known, 0);
    free(r);
    observed_destroy(&o);
    reg_destroy(&reg);
    rmdir(dir);
}

/* A lane open a day without a departure: the day is forgotten (unknown),
 * and when it serves again its open minutes count again. */
static void test_stuck_lane_recovers(void **state)
{
    (void)state;
    char dir[64];
    registry_t *reg = s_registry(dir, sizeof dir);
    observed_t *o = observed_new(NULL, reg, 300);
    assert_non_null(o);
    int64_t t0 = s_utc(2026, 11, 2);
    /* ready alone: 30 h open without a departure, then an hour serving */
    for (int64_t t = t0; t < t0 + 31 * 3600; t += 60) {
        bool serving = t >= t0 + 30 * 3600;
        observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_READY, (t + 60) * 1000, 60000, 1, 0, serving, t + 60);
    }
    observed_counters_t c;
    observed_refresh(o, t0 + 31 * 3600 + 180);
    observed_counters(o, &c);
    assert_int_equal(c.stuck_lanes, 1);
    /* The quiet run is forgotten (its first day has no known minute left:
     * silent, where it would have been a day "open 24 h"), the serving
     * hour of the second day is kept. */
    hobs_result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_equal(observed_get(o, 0, HOURS_OTHER, TAX_PASSENGER, r), 0);
    assert_int_equal(r->status, HOBS_UNKNOWN);
    assert_int_equal(r->days_silent, HOBS_DAYS - 1);
    assert_int_equal(r->days_stuck, 0);   /* set aside before learning: no stuck day left */
    free(r);
    observed_destroy(&o);
    reg_destroy(&reg);
    rmdir(dir);
}

/* Lane types whose hours differ from their mode's: the ready lane keeps
 * mon-fri 06:00-09:00, the standard lanes daily 08:00-22:00; the mode is
 * open when either is, and /v1/hours lists both types beside it. */
static void test_lane_types(void **state)
{
    (void)state;
    char dir[64];
    registry_t *reg = s_registry(dir, sizeof dir);
    observed_t *o = observed_new(NULL, reg, 300);
    assert_non_null(o);
    int64_t from = s_utc(2026, 11, 2), to = s_utc(2026, 11, 23);
    for (int64_t t = from; t < to; t += 60) {
        struct tm lt;
        assert_int_equal(zone_local(TZ, t, &lt, NULL, 0), 0);
        int m = lt.tm_hour * 60 + lt.tm_min, wd = (lt.tm_wday + 6) % 7;
        bool std = m >= 480 && m < 1320, rdy = wd < 5 && m >= 360 && m < 540;
        observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, (t + 60) * 1000, 60000, std ? 2 : 0, std, std,
                          t + 60);
        observed_interval(o, 0, TAX_NORTHBOUND, TAX_PASSENGER, TAX_READY, (t + 60) * 1000, 60000, rdy, rdy, rdy, t + 60);
    }
    observed_refresh(o, to + 180);
    hobs_result_t *r = malloc(sizeof *r);
    assert_non_null(r);
    assert_int_equal(observed_get(o, 0, HOURS_OTHER, TAX_PASSENGER, r), 0);
    assert_string_equal(s_text(r), "mon-fri 06:00-22:00; sat,sun 08:00-22:00");
    assert_int_equal(observed_get_type(o, 0, HOURS_OTHER, TAX_PASSENGER, TAX_READY, r), 0);
    assert_string_equal(s_text(r), "mon-fri 06:00-09:00");
    assert_int_equal(observed_get_type(o, 0, HOURS_OTHER, TAX_PASSENGER, TAX_FAST, r), -1);
    free(r);
    char *body = feed_hours_json(reg, o, to + 180, "090103");
    assert_non_null(body);
    json_t *root = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(root);
    json_t *lt = json_object_get(json_object_get(json_object_get(json_object_get(root, "other"), "modes"),
                                                 "passenger"), "lane_types");
    assert_int_equal(json_object_size(lt), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(lt, "ready"), "text")),
                        "mon-fri 06:00-09:00");
    assert_string_equal(json_string_value(json_object_get(json_object_get(lt, "standard"), "text")),
                        "daily 08:00-22:00");
    json_decref(root);
    observed_destroy(&o);
    reg_destroy(&reg);
    rmdir(dir);
}

int main(void)
{
    log_init("test_observed", LOG_LVL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_stuck_lane_recovers),
        cmocka_unit_test(test_lane_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
