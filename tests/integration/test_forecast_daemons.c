/* test_forecast_daemons — the forecast through the real daemons: poe-sim's
 * weeks-short scenario (eight days of light traffic at Nogales, weekdays
 * differ) replayed by a poe-agent into a poe-collector; then /v1/forecast
 * has 96 steps of sane waits (a full basis after a week, bands ordered,
 * nothing negative or absurd, the evening rush higher than the night),
 * best_time shows in /v1/crossings/{id}, the CBP wait-time graph has
 * CBP's structure, and bad queries get their 400s. Generous bounds: this
 * checks the wiring, bench/forecast measures accuracy. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "proc.h"
#include "stack.h"

static teststack_t s_st;
static char s_events[700], s_truth[700];

static int s_setup(void **state)
{
    (void)state;
    /* Event time is March 2026: keep it "fresh" for the live views. */
    static const char *extra[] = { "--stale-after", "999999999", NULL };
    if (stack_start_args(&s_st, 11, extra) != 0)
        return -1;
    snprintf(s_events, sizeof s_events, "%s/weeks.ev", s_st.dir);
    snprintf(s_truth, sizeof s_truth, "%s/weeks.truth", s_st.dir);
    char sim[1024], log[700];
    snprintf(sim, sizeof sim, "%s", stack_bin_path(&s_st, "poe-sim"));
    snprintf(log, sizeof log, "%s/sim.log", s_st.dir);
    const char *argv[] = { sim, "--scenario", "weeks-short", "--events", s_events, "--truth",
                           s_truth, "--log-level", "warn", NULL };
    int status = -1;
    pid_t p = proc_spawn(argv, log);
    if (p < 0 || proc_wait_exit(p, 60000, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    char agent[1024], spool[700], alog[700];
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_st, "poe-agent"));
    snprintf(spool, sizeof spool, "%s/spool", s_st.dir);
    snprintf(alog, sizeof alog, "%s/agent.log", s_st.dir);
    const char *aargv[] = { agent, "--crossing", "260401", "--direction", "northbound",
                            "--collector", s_st.endpoint, "--replay", s_events, "--speed", "0",
                            "--spool", spool, "--spool-nosync", "--log-level", "warn", NULL };
    p = proc_spawn(aargv, alog);
    if (p < 0 || proc_wait_exit(p, 120000, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    return stack_stop(&s_st);
}

static json_t *s_get(const char *path, int want)
{
    int status = 0;
    char *body = proc_http_get(s_st.http_port, path, &status);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    if (status != want)
        fail_msg("%s: status %d, wanted %d: %s", path, status, want, body ? body : "");
    free(body);
    assert_non_null(j);
    return j;
}

static void test_forecast_route(void **state)
{
    (void)state;
    json_t *f = s_get("/v1/forecast?crossing=260401&direction=northbound&mode=passenger", 200);
    assert_string_equal(json_string_value(json_object_get(f, "basis")), "full");
    assert_int_equal(json_integer_value(json_object_get(f, "step")), 900);
    json_t *rows = json_object_get(f, "rows");
    assert_int_equal(json_array_size(rows), 96);
    json_int_t issued = json_integer_value(json_object_get(f, "issued"));
    double night = 1e9, day = 0;
    for (size_t i = 0; i < 96; i++) {
        json_t *r = json_array_get(rows, i);
        json_int_t t = json_integer_value(json_array_get(r, 0));
        json_int_t p10 = json_integer_value(json_array_get(r, 1));
        json_int_t p50 = json_integer_value(json_array_get(r, 2));
        json_int_t p90 = json_integer_value(json_array_get(r, 3));
        assert_true(i == 0 ? t == issued : t == (issued / 900 + (json_int_t)i) * 900);
        assert_true(p10 >= 0 && p10 <= p50 && p50 <= p90);
        assert_true(p90 <= 43200 && p50 <= 3 * 3600); /* light traffic: never hours */
        int hour = (int)(t % 86400 / 3600);        /* the scenario's shape is by UTC hour */
        if (hour >= 1 && hour < 3 && p50 < night)
            night = (double)p50;
        if (hour >= 5 && hour < 9 && p50 > day)
            day = (double)p50;
    }
    assert_true(day > night);                       /* the rush is above the small hours */
    json_decref(f);

    f = s_get("/v1/forecast?crossing=260401&direction=northbound&mode=passenger&hours=3", 200);
    assert_int_equal(json_array_size(json_object_get(f, "rows")), 12);
    json_decref(f);
    json_decref(s_get("/v1/forecast?crossing=260401&direction=northbound&mode=passenger&hours=48",
                      400));
    json_decref(s_get("/v1/forecast?crossing=260401&direction=northbound", 400));
    json_decref(s_get("/v1/forecast?crossing=260401&direction=southbound&mode=passenger", 404));
    json_decref(s_get("/v1/forecast?crossing=999999&direction=northbound&mode=passenger", 404));
}

static void test_best_time_and_graph(void **state)
{
    (void)state;
    json_t *c = s_get("/v1/crossings/260401", 200);
    json_t *dirs = json_object_get(json_array_get(json_object_get(c, "crossings"), 0), "directions");
    json_t *nb = NULL, *d, *q;
    size_t i;
    json_array_foreach(dirs, i, d)
        if (strcmp(json_string_value(json_object_get(d, "direction")), "northbound") == 0)
            nb = d;
    assert_non_null(nb);
    bool seen = false;
    json_array_foreach(json_object_get(nb, "queues"), i, q) {
        if (strcmp(json_string_value(json_object_get(q, "lane")), "standard") ||
            strcmp(json_string_value(json_object_get(q, "mode")), "passenger"))
            continue;
        json_t *b = json_object_get(q, "best_time");
        assert_true(json_is_object(b));
        assert_true(json_integer_value(json_object_get(b, "saving_s")) >= 0);
        assert_true(json_integer_value(json_object_get(b, "p50_s")) >= 0);
        assert_non_null(json_string_value(json_object_get(b, "time")));
        seen = true;
    }
    assert_true(seen);
    json_decref(c);

    json_t *g = s_get("/api/bwtwaittimegraph/260401", 200);
    json_t *port = json_array_get(g, 0);
    assert_string_equal(json_string_value(json_object_get(port, "port_number")), "260401");
    json_t *slots = json_object_get(json_object_get(port, "private_time_slots"), "private_slot");
    assert_int_equal(json_array_size(slots), 24);
    assert_non_null(json_object_get(json_array_get(slots, 0), "standard_lane_average_wait"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(port, "pedestrain_time_slots"),
                                                     "pedestrain_slot")), 24);
    json_decref(g);
    json_decref(s_get("/api/bwtwaittimegraph/999999", 404));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast_route),
        cmocka_unit_test(test_best_time_and_graph),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
