/* test_forecast_views — the shapes of what looks ahead: /v1/forecast's
 * query rules and body (columns, rows, basis), the best time of a queue,
 * and CBP's /api/bwtwaittimegraph checked against CBP's own sample
 * (deploy/data/) path by path, with its hourly figures hand-computed from
 * a made-up archive series. Run from the repository root. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "forecast.h"
#include "registry.h"
#include "route.h"
#include "state.h"
#include "view_forecast.h"

#define SAMPLE "deploy/data/cbp_api_bwtwaittimegraph_sample.json"
#define T0 1666036800LL /* 2022-10-17T20:00:00Z, a Monday */

static const char s_reg[] =
    "crossings = (\n"
    "  { id = \"300401\"; bwt_id = \"07300401\"; border = \"CA\"; name = \"Blaine\";\n"
    "    port_name = \"Blaine\"; crossing_name = \"Pacific Highway\"; other_name = \"Surrey\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Vancouver\";\n"
    "    max_lanes = { passenger = 10; pedestrian = 0; commercial = 4; };\n"
    "    hours = { us = { all = [ \"24h\" ]; }; other = \"unknown\"; }; }\n"
    ");\n";

typedef struct {
    registry_t *reg;
    state_t *st;
    fc_t *fc;
    fc_result_t res;
} fix_t;

static int s_setup(void **state)
{
    char path[] = "/tmp/test_fcviews_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s_reg, strlen(s_reg)), (ssize_t)strlen(s_reg));
    close(fd);
    fix_t *f = calloc(1, sizeof *f);
    int nbad = -1;
    f->reg = reg_load(path, &nbad);
    unlink(path);
    assert_non_null(f->reg);
    f->st = state_new(f->reg);
    f->fc = fc_new();
    /* A queue growing 0.1/s past two lanes: the best time is now. */
    fc_present_t p = { .now_s = T0 + 100, .has_wait = true, .wait_s = 600, .units = 59,
                       .lanes = 2, .lane_rate = 0.05, .arr_rate = 0.2, .arr_rate_prev = 0.2 };
    fc_run(f->fc, NULL, &p, &f->res);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fix_t *f = *state;
    fc_destroy(&f->fc);
    state_destroy(&f->st);
    reg_destroy(&f->reg);
    free(f);
    return 0;
}

static void test_forecast_query(void **state)
{
    (void)state;
    route_forecast_t q;
    char why[256];
    assert_int_equal(route_parse_forecast("crossing=300401&direction=southbound&mode=passenger",
                                          &q, why, sizeof why), 0);
    assert_int_equal(q.hours, 24);
    assert_int_equal(q.type, TAX_STANDARD);
    assert_int_equal(route_parse_forecast("crossing=300401&direction=southbound&mode=commercial"
                                          "&lane=fast&hours=6", &q, why, sizeof why), 0);
    assert_int_equal(q.hours, 6);
    assert_int_equal(q.type, TAX_FAST);
    assert_int_equal(route_parse_forecast("crossing=300401&direction=southbound&mode=passenger"
                                          "&hours=25", &q, why, sizeof why), -1);
    assert_string_equal(why, "hours must be 1..24");
    assert_int_equal(route_parse_forecast("crossing=300401&direction=southbound&mode=passenger"
                                          "&hours=0", &q, why, sizeof why), -1);
    assert_int_equal(route_parse_forecast("crossing=300401&direction=southbound&mode=passenger"
                                          "&from=1", &q, why, sizeof why), -1);
    assert_string_equal(why, "unknown parameter 'from'");
    assert_int_equal(route_parse_forecast("crossing=300401&mode=passenger", &q, why, sizeof why), -1);
    assert_string_equal(why, "missing parameter 'direction'");
    route_history_t h;
    assert_int_equal(route_parse_history("crossing=300401&direction=southbound&mode=passenger"
                                         "&hours=3", 1000000, &h, why, sizeof why), -1);
    assert_string_equal(why, "unknown parameter 'hours'");
    char id[ROUTE_ID_MAX];
    assert_int_equal(route_match("/v1/forecast", id, sizeof id), ROUTE_FORECAST);
    assert_int_equal(route_match("/api/bwtwaittimegraph/300401", id, sizeof id), ROUTE_CBP_GRAPH);
    assert_string_equal(id, "300401");
}

static void test_forecast_body(void **state)
{
    fix_t *f = *state;
    int status = 0;
    const char *q = "crossing=300401&direction=southbound&mode=passenger&hours=2";
    char *body = view_forecast_request(f->st, q, &status);
    assert_int_equal(status, 404); /* no forecast yet */
    assert_non_null(strstr(body, "no forecast"));
    free(body);
    body = view_forecast_request(f->st, "crossing=999999&direction=southbound&mode=passenger",
                                 &status);
    assert_int_equal(status, 404);
    free(body);
    body = view_forecast_request(f->st, "crossing=300401&direction=up&mode=passenger", &status);
    assert_int_equal(status, 400);
    free(body);

    xstate_t *x = state_find(f->st, "300401");
    x->forecast[TAX_SOUTHBOUND - 1][tax_queue_index(TAX_PASSENGER, TAX_STANDARD)] = &f->res;
    body = view_forecast_request(f->st, q, &status);
    assert_int_equal(status, 200);
    json_error_t err;
    json_t *o = json_loads(body, 0, &err);
    free(body);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "issued")), T0 + 100);
    assert_int_equal(json_integer_value(json_object_get(o, "step")), 900);
    assert_string_equal(json_string_value(json_object_get(o, "basis")), "short");
    assert_non_null(json_object_get(o, "why_short"));
    const char *cols[] = { "time", "p10_s", "p50_s", "p90_s" };
    json_t *c = json_object_get(o, "columns");
    assert_int_equal(json_array_size(c), 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_array_get(c, i)), cols[i]);
    json_t *rows = json_object_get(o, "rows");
    assert_int_equal(json_array_size(rows), 8);
    for (size_t i = 0; i < 8; i++) {
        json_t *r = json_array_get(rows, i);
        assert_int_equal(json_array_size(r), 4);
        json_int_t t = json_integer_value(json_array_get(r, 0));
        assert_int_equal(t, i == 0 ? T0 + 100 : T0 + (json_int_t)i * 900);
        json_int_t p10 = json_integer_value(json_array_get(r, 1));
        json_int_t p50 = json_integer_value(json_array_get(r, 2));
        json_int_t p90 = json_integer_value(json_array_get(r, 3));
        assert_true(p10 >= 0 && p10 <= p50 && p50 <= p90);
    }
    json_decref(o);
    x->forecast[TAX_SOUTHBOUND - 1][tax_queue_index(TAX_PASSENGER, TAX_STANDARD)] = NULL;
}

static void test_best_time(void **state)
{
    fix_t *f = *state;
    json_t *b = view_best_time_json(NULL);
    assert_true(json_is_null(b));
    fc_result_t r = f->res;
    r.step[20].p50_s = 30; /* a quiet step 5 h from now */
    r.step[60].p50_s = 1;    /* quieter, but past 12 h */
    b = view_best_time_json(&r);
    assert_int_equal(json_integer_value(json_object_get(b, "time_s")), T0 + 20 * 900);
    assert_string_equal(json_string_value(json_object_get(b, "time")), "2022-10-18T01:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(b, "p50_s")), 30);
    assert_int_equal(json_integer_value(json_object_get(b, "saving_s")),
                     (int)r.step[0].p50_s - 30);
    json_decref(b);
}

/* "path:type" of every leaf, arrays as [] (their elements' union). */
static void s_paths(json_t *v, const char *prefix, json_t *set)
{
    char p[512];
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) {
            snprintf(p, sizeof p, "%s/%s", prefix, k);
            s_paths(c, p, set);
        }
    } else if (json_is_array(v)) {
        snprintf(p, sizeof p, "%s[]", prefix);
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) s_paths(c, p, set);
    } else {
        snprintf(p, sizeof p, "%s:%s", prefix, json_is_string(v) ? "string" : "other");
        json_object_set_new(set, p, json_true());
    }
}

static void test_cbp_graph(void **state)
{
    fix_t *f = *state;
    /* Hourly rows over six weeks before a day and the day's first 3 hours:
     * a wait of 600 s + 60 s × weeks back at 08:00, 0 elsewhere. */
    int64_t day = T0 - 20 * 3600 + 7 * 3600; /* 2022-10-17 00:00 PDT */
    arch_series_t s = { .start = day - 35 * 86400LL, .step = 3600 };
    s.nrows = (size_t)((day + 3 * 3600 - s.start) / 3600);
    s.end = s.start + (int64_t)s.nrows * 3600;
    s.values = calloc(s.nrows * ARCH_NCOLS, sizeof(double));
    for (size_t i = 0; i < s.nrows; i++) {
        int64_t a = s.start + (int64_t)i * 3600; /* the row covers (a, a + 3600] */
        int64_t back = (day - a + 7 * 86400 - 1) / (7 * 86400);
        bool eight = (a - day) % 86400 == 8 * 3600 || (a - day) % 86400 == -16 * 3600;
        s.values[i * ARCH_NCOLS] = eight ? 600.0 + 60.0 * (double)back : 0.0;
    }
    s.values[(s.nrows - 1) * ARCH_NCOLS] = 300.0; /* today 02:00-03:00 */
    view_graph_t g;
    view_graph_from_series(&s, day, &g);
    assert_true(fabs(g.today[2] - 5.0) < 1e-9);
    assert_true(isnan(g.today[3]));
    /* 08:00 over weeks 1..5: 11, 12, 13, 14, 15 minutes. */
    assert_true(fabs(g.avg[8] - 13.0) < 1e-9);
    assert_true(fabs(g.min[8] - 11.0) < 1e-9 && fabs(g.max[8] - 15.0) < 1e-9);
    assert_true(fabs(g.avg[9]) < 1e-9);
    free(s.values);

    const view_graph_t *gp[TAX_NQUEUES] = { 0 };
    gp[tax_queue_index(TAX_PASSENGER, TAX_STANDARD)] = &g;
    xstate_t *x = state_find(f->st, "300401");
    char *body = view_cbp_graph_json(x, "2022-10-17", gp);
    json_error_t err;
    json_t *ours = json_loads(body, 0, &err);
    free(body);
    json_t *theirs = json_load_file(SAMPLE, 0, &err);
    if (!theirs)
        fail_msg("cannot load %s (run from the repository root): %s", SAMPLE, err.text);
    json_t *a = json_object(), *b = json_object();
    s_paths(ours, "", a);
    s_paths(theirs, "", b);
    assert_true(json_equal(a, b));
    json_t *slot8 = json_array_get(json_object_get(json_object_get(json_array_get(ours, 0),
                                                                   "private_time_slots"),
                                                   "private_slot"), 8);
    assert_string_equal(json_string_value(json_object_get(slot8, "time")), "8");
    assert_string_equal(json_string_value(json_object_get(slot8, "standard_lane_average_wait")), "13");
    assert_string_equal(json_string_value(json_object_get(slot8, "standard_lane_max_wait")), "15");
    assert_string_equal(json_string_value(json_object_get(slot8, "standard_lane_today_wait")), "");
    assert_string_equal(json_string_value(json_object_get(slot8, "ready_lane_average_wait")), "");
    json_decref(a);
    json_decref(b);
    json_decref(ours);
    json_decref(theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecast_query),
        cmocka_unit_test_setup_teardown(test_forecast_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_best_time, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cbp_graph, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
