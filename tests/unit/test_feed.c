/* test_feed — the JSON bodies of feed.c, parsed back with jansson: the live
 * crossings view (statuses, nulls that keep a stale queue from reading as
 * "no delay", which queues are listed, both directions), history rows and
 * /health; plus stats_reject_name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regstate.h"
#include "feed.h"
#include "log.h"
#include "registry.h"
#include "state.h"
#include "stats.h"
#include "timeutil.h"

#define STALE_MS (5 * 60 * 1000)
/* 2026-11-27T21:30:00Z */
#define T0_MS 1795815000000LL

static const char s_registry_text[] =
    "crossings = (\n"
    "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
    "    port_name = \"San Ysidro\"; crossing_name = \"\"; other_name = \"Tijuana\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
    "    max_lanes = { passenger = 24; pedestrian = 10; commercial = 0; }; },\n"
    "  { id = \"090101\"; bwt_id = \"07090101\"; border = \"CA\"; name = \"Buffalo Peace Bridge\";\n"
    "    port_name = \"Buffalo-Niagara Falls\"; crossing_name = \"Peace Bridge\";\n"
    "    other_name = \"Fort Erie\"; us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
    "    max_lanes = { passenger = 5; pedestrian = 0; commercial = 3; }; }\n"
    ");\n";

typedef regstate_t fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(regstate_from_text(f, s_registry_text), 0);
    assert_int_equal(reg_count(f->reg), 2);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    regstate_free(f);
    free(f);
    return 0;
}

/* Apply one 60-s interval ending at t_end_ms. */
static void s_apply(fixture_t *f, const char *id, enum tax_dir d, enum tax_mode m,
                    enum tax_type t, int64_t t_end_ms, uint32_t lanes, uint32_t arr,
                    uint32_t dep, int queue_len)
{
    est_input_t in = {
        .interval_ms = 60000, .arrivals = arr, .departures = dep, .lanes_open = lanes,
        .has_queue_len = queue_len >= 0, .queue_len = queue_len >= 0 ? (uint32_t)queue_len : 0,
    };
    xstate_t *x = state_find(f->st, id);
    assert_non_null(x);
    assert_int_equal(state_apply(f->st, x, d, &in, t_end_ms, m, t, t_end_ms), 1);
}

/* Render and parse; the caller json_decref()s. */
static json_t *s_render(fixture_t *f, int64_t now_ms, const char *only)
{
    char *s = feed_crossings_json(f->st, now_ms, STALE_MS, only);
    assert_non_null(s);
    json_error_t err;
    json_t *root = json_loads(s, 0, &err);
    free(s);
    assert_non_null(root);
    return root;
}

static json_t *s_crossing(json_t *root, const char *id)
{
    json_t *list = json_object_get(root, "crossings");
    assert_true(json_is_array(list));
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
            return c;
    }
    fail_msg("crossing %s missing", id);
    return NULL;
}

static json_t *s_direction(json_t *c, int i, const char *name)
{
    json_t *dirs = json_object_get(c, "directions");
    assert_int_equal(json_array_size(dirs), 2);
    json_t *d = json_array_get(dirs, (size_t)i);
    assert_string_equal(json_string_value(json_object_get(d, "direction")), name);
    return d;
}

/* The queue (mode, lane) of a direction, or NULL when it is not listed. */
static json_t *s_queue(json_t *d, const char *mode, const char *lane)
{
    json_t *qs = json_object_get(d, "queues");
    assert_true(json_is_array(qs));
    for (size_t i = 0; i < json_array_size(qs); i++) {
        json_t *q = json_array_get(qs, i);
        if (strcmp(json_string_value(json_object_get(q, "mode")), mode) == 0 &&
            strcmp(json_string_value(json_object_get(q, "lane")), lane) == 0)
            return q;
    }
    return NULL;
}

static const char *s_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t s_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static void s_assert_null(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_null(v))
        fail_msg("%s should be null", key);
}

/* ---- crossings ---------------------------------------------------------- */

static void test_no_data_lists_modes_both_directions(void **state)
{
    fixture_t *f = *state;
    json_t *root = s_render(f, T0_MS, NULL);
    assert_string_equal(s_str(root, "generated"), "2026-11-27T21:30:00Z");
    json_t *list = json_object_get(root, "crossings");
    assert_int_equal(json_array_size(list), 2);
    /* Registry order. */
    json_t *sy = json_array_get(list, 0);
    assert_string_equal(s_str(sy, "id"), "250401");
    assert_string_equal(s_str(sy, "name"), "San Ysidro");
    assert_string_equal(s_str(sy, "port_name"), "San Ysidro");
    assert_string_equal(s_str(sy, "crossing_name"), "");
    assert_string_equal(s_str(sy, "border"), "MX");
    assert_string_equal(s_str(sy, "us_tz"), "America/Los_Angeles");
    assert_string_equal(s_str(sy, "other_name"), "Tijuana");
    assert_string_equal(s_str(sy, "other_tz"), "America/Tijuana");

    json_t *nb = s_direction(sy, 0, "northbound");
    json_t *sb = s_direction(sy, 1, "southbound");
    assert_string_equal(s_str(nb, "into"), "US");
    assert_string_equal(s_str(sb, "into"), "MX");
    assert_string_equal(s_str(nb, "status"), "no_data");
    assert_string_equal(s_str(sb, "status"), "no_data");
    /* Passenger and pedestrian standard only: no commercial lanes here. */
    assert_int_equal(json_array_size(json_object_get(nb, "queues")), 2);
    json_t *q = s_queue(nb, "passenger", "standard");
    assert_non_null(q);
    assert_string_equal(s_str(q, "status"), "no_data");
    assert_int_equal(s_int(q, "max_lanes"), 24);
    const char *nulls[] = { "wait_s", "wait_min", "lanes_open", "queue", "arrivals",
                            "departures", "interval_s", "updated" };
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        s_assert_null(q, nulls[i]);
    assert_int_equal(s_int(s_queue(sb, "pedestrian", "standard"), "max_lanes"), 10);
    assert_null(s_queue(nb, "commercial", "standard"));

    /* On the northern border, into the US is southbound. */
    json_t *pb = json_array_get(list, 1);
    assert_string_equal(s_str(pb, "border"), "CA");
    assert_string_equal(s_str(s_direction(pb, 0, "northbound"), "into"), "CA");
    assert_string_equal(s_str(s_direction(pb, 1, "southbound"), "into"), "US");
    assert_non_null(s_queue(s_direction(pb, 1, "southbound"), "commercial", "standard"));
    assert_null(s_queue(s_direction(pb, 1, "southbound"), "pedestrian", "standard"));
    json_decref(root);
}

static void test_open_queue_shows_wait(void **state)
{
    fixture_t *f = *state;
    s_apply(f, "250401", TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, T0_MS, 4, 50, 10, 40);
    const qstate_t *qs =
        state_find(f->st, "250401")->q[0][tax_queue_index(TAX_PASSENGER, TAX_STANDARD)];
    assert_true(qs->out.has_wait);
    assert_true(qs->out.wait_s > 60.0);

    json_t *root = s_render(f, T0_MS + 1500, NULL);
    json_t *nb = s_direction(s_crossing(root, "250401"), 0, "northbound");
    assert_string_equal(s_str(nb, "status"), "open");
    json_t *q = s_queue(nb, "passenger", "standard");
    assert_string_equal(s_str(q, "status"), "open");
    assert_int_equal(s_int(q, "wait_s"), llround(qs->out.wait_s));
    assert_int_equal(s_int(q, "wait_min"), llround(qs->out.wait_s / 60.0));
    assert_int_equal(s_int(q, "lanes_open"), 4);
    assert_int_equal(s_int(q, "max_lanes"), 24);
    assert_int_equal(s_int(q, "queue"), llround(qs->out.queue));
    assert_int_equal(s_int(q, "queue"), 40);
    assert_int_equal(s_int(q, "arrivals"), 50);
    assert_int_equal(s_int(q, "departures"), 10);
    assert_int_equal(s_int(q, "interval_s"), 60);
    assert_string_equal(s_str(q, "updated"), "2026-11-27T21:30:00Z");
    /* The other direction and the other mode are untouched. */
    assert_string_equal(s_str(s_queue(nb, "pedestrian", "standard"), "status"), "no_data");
    assert_string_equal(s_str(s_direction(s_crossing(root, "250401"), 1, "southbound"),
                              "status"), "no_data");
    json_decref(root);
}

static void test_stale_queue_has_no_wait(void **state)
{
    fixture_t *f = *state;
    s_apply(f, "250401", TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, T0_MS, 4, 50, 10, 40);
    json_t *root = s_render(f, T0_MS + STALE_MS + 1, NULL);
    json_t *nb = s_direction(s_crossing(root, "250401"), 0, "northbound");
    assert_string_equal(s_str(nb, "status"), "stale");
    json_t *q = s_queue(nb, "passenger", "standard");
    assert_string_equal(s_str(q, "status"), "stale");
    const char *nulls[] = { "wait_s", "wait_min", "lanes_open", "queue", "arrivals",
                            "departures", "interval_s" };
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        s_assert_null(q, nulls[i]);
    /* Still says how old the last data is. */
    assert_string_equal(s_str(q, "updated"), "2026-11-27T21:30:00Z");
    json_decref(root);

    /* At exactly the limit it is still fresh. */
    root = s_render(f, T0_MS + STALE_MS, NULL);
    q = s_queue(s_direction(s_crossing(root, "250401"), 0, "northbound"), "passenger",
                "standard");
    assert_string_equal(s_str(q, "status"), "open");
    json_decref(root);
}

static void test_closed_queue_and_direction_summary(void **state)
{
    fixture_t *f = *state;
    s_apply(f, "250401", TAX_SOUTHBOUND, TAX_PASSENGER, TAX_STANDARD, T0_MS, 0, 3, 0, 7);
    json_t *root = s_render(f, T0_MS + 1000, NULL);
    json_t *sb = s_direction(s_crossing(root, "250401"), 1, "southbound");
    /* closed beats no_data (pedestrian) */
    assert_string_equal(s_str(sb, "status"), "closed");
    json_t *q = s_queue(sb, "passenger", "standard");
    assert_string_equal(s_str(q, "status"), "closed");
    s_assert_null(q, "wait_s");
    s_assert_null(q, "wait_min");
    assert_int_equal(s_int(q, "lanes_open"), 0);
    assert_int_equal(s_int(q, "queue"), 7);
    assert_int_equal(s_int(q, "arrivals"), 3);
    json_decref(root);

    /* One open queue makes the direction open. */
    s_apply(f, "250401", TAX_SOUTHBOUND, TAX_PEDESTRIAN, TAX_STANDARD, T0_MS, 2, 5, 5, -1);
    root = s_render(f, T0_MS + 1000, NULL);
    sb = s_direction(s_crossing(root, "250401"), 1, "southbound");
    assert_string_equal(s_str(sb, "status"), "open");
    json_decref(root);

    /* Fresh "closed" beats old "stale". */
    s_apply(f, "250401", TAX_SOUTHBOUND, TAX_PASSENGER, TAX_READY, T0_MS + STALE_MS, 0, 0, 0, 0);
    root = s_render(f, T0_MS + STALE_MS + 1000, NULL);
    sb = s_direction(s_crossing(root, "250401"), 1, "southbound");
    assert_string_equal(s_str(s_queue(sb, "passenger", "standard"), "status"), "stale");
    assert_string_equal(s_str(sb, "status"), "closed");
    json_decref(root);
}

static void test_queues_with_data_are_listed(void **state)
{
    fixture_t *f = *state;
    s_apply(f, "250401", TAX_NORTHBOUND, TAX_PASSENGER, TAX_NEXUS_SENTRI, T0_MS, 2, 20, 20, 3);
    s_apply(f, "250401", TAX_NORTHBOUND, TAX_COMMERCIAL, TAX_FAST, T0_MS, 1, 2, 2, 1);
    json_t *root = s_render(f, T0_MS + 1000, NULL);
    json_t *nb = s_direction(s_crossing(root, "250401"), 0, "northbound");
    assert_int_equal(json_array_size(json_object_get(nb, "queues")), 4);
    json_t *q = s_queue(nb, "passenger", "nexus_sentri");
    assert_non_null(q);
    assert_string_equal(s_str(q, "status"), "open");
    assert_int_equal(s_int(q, "max_lanes"), 24);
    q = s_queue(nb, "commercial", "fast");
    assert_non_null(q);
    assert_int_equal(s_int(q, "max_lanes"), 0);
    /* Order: by mode, then lane type. */
    json_t *qs = json_object_get(nb, "queues");
    assert_string_equal(s_str(json_array_get(qs, 0), "lane"), "standard");
    assert_string_equal(s_str(json_array_get(qs, 1), "lane"), "nexus_sentri");
    assert_string_equal(s_str(json_array_get(qs, 2), "mode"), "pedestrian");
    assert_string_equal(s_str(json_array_get(qs, 3), "mode"), "commercial");
    /* Southbound got no data: still only the standard lanes. */
    assert_int_equal(json_array_size(json_object_get(
                         s_direction(s_crossing(root, "250401"), 1, "southbound"), "queues")), 2);
    json_decref(root);
}

static void test_only_id(void **state)
{
    fixture_t *f = *state;
    json_t *root = s_render(f, T0_MS, "090101");
    json_t *list = json_object_get(root, "crossings");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(s_str(json_array_get(list, 0), "id"), "090101");
    assert_string_equal(s_str(root, "generated"), "2026-11-27T21:30:00Z");
    json_decref(root);
    assert_null(feed_crossings_json(f->st, T0_MS, STALE_MS, "999999"));
    assert_null(feed_crossings_json(f->st, T0_MS, STALE_MS, ""));
}

static void test_compact_output(void **state)
{
    fixture_t *f = *state;
    char *s = feed_crossings_json(f->st, T0_MS, STALE_MS, NULL);
    assert_non_null(s);
    assert_null(strchr(s, '\n'));
    assert_null(strstr(s, ": "));
    assert_memory_equal(s, "{\"generated\":", 13);
    free(s);
}

/* ---- history ------------------------------------------------------------ */

static json_t *s_parse(char *s)
{
    assert_non_null(s);
    json_error_t err;
    json_t *root = json_loads(s, 0, &err);
    free(s);
    assert_non_null(root);
    return root;
}

static void test_history_rows(void **state)
{
    (void)state;
    double v[2 * ARCH_NCOLS] = {
        /* wait_s, arrivals, departures, lanes_open, queue */
        312.4567, 12.0, 11.9999999, 4.0, 20.25,
        NAN, 0.0, NAN, 0.0, NAN,
    };
    arch_series_t s = { .start = 1795815000, .end = 1795815120, .step = 60, .nrows = 2,
                        .values = v };
    json_t *root = s_parse(feed_history_json(&s));
    assert_int_equal(s_int(root, "step"), 60);
    json_t *cols = json_object_get(root, "columns");
    const char *want[] = { "time", "wait_s", "arrivals", "departures", "lanes_open", "queue" };
    assert_int_equal(json_array_size(cols), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(json_string_value(json_array_get(cols, i)), want[i]);
    json_t *rows = json_object_get(root, "rows");
    assert_int_equal(json_array_size(rows), 2);

    json_t *r0 = json_array_get(rows, 0);
    assert_int_equal(json_array_size(r0), 6);
    assert_int_equal(json_integer_value(json_array_get(r0, 0)), 1795815060);
    assert_true(json_is_real(json_array_get(r0, 1)));
    assert_true(fabs(json_real_value(json_array_get(r0, 1)) - 312.457) < 1e-9);
    assert_true(json_is_integer(json_array_get(r0, 2)));
    assert_int_equal(json_integer_value(json_array_get(r0, 2)), 12);
    /* A count a hair off whole is still a count. */
    assert_true(json_is_integer(json_array_get(r0, 3)));
    assert_int_equal(json_integer_value(json_array_get(r0, 3)), 12);
    assert_int_equal(json_integer_value(json_array_get(r0, 4)), 4);
    assert_true(fabs(json_real_value(json_array_get(r0, 5)) - 20.25) < 1e-9);

    json_t *r1 = json_array_get(rows, 1);
    assert_int_equal(json_integer_value(json_array_get(r1, 0)), 1795815120);
    assert_true(json_is_null(json_array_get(r1, 1)));
    assert_true(json_is_integer(json_array_get(r1, 2)));
    assert_int_equal(json_integer_value(json_array_get(r1, 2)), 0);
    assert_true(json_is_null(json_array_get(r1, 3)));
    assert_true(json_is_null(json_array_get(r1, 5)));
    json_decref(root);
}

static void test_history_text_has_no_float_noise(void **state)
{
    (void)state;
    double v[ARCH_NCOLS] = { 0.1, 1.0, 2.0, 3.0, NAN };
    arch_series_t s = { .start = 0, .end = 300, .step = 300, .nrows = 1, .values = v };
    char *txt = feed_history_json(&s);
    assert_non_null(txt);
    assert_non_null(strstr(txt, "[300,0.1,1,2,3,null]"));
    free(txt);
}

static void test_history_empty(void **state)
{
    (void)state;
    arch_series_t s = { .start = 100, .end = 200, .step = 60, .nrows = 0, .values = NULL };
    char *txt = feed_history_json(&s);
    assert_non_null(txt);
    assert_string_equal(txt, "{\"step\":60,\"columns\":[\"time\",\"wait_s\",\"arrivals\","
                             "\"departures\",\"lanes_open\",\"queue\"],\"rows\":[]}");
    free(txt);
}

/* ---- health and stats --------------------------------------------------- */

static void test_health(void **state)
{
    (void)state;
    stats_t st;
    memset(&st, 0, sizeof st);
    st.started_ms = T0_MS;
    st.frames_in = 7;
    st.batches_accepted = 5;
    st.batches_duplicate = 1;
    st.samples_accepted = 300;
    st.samples_already_archived = 2;
    st.heartbeats_in = 9;
    st.agent_bad_lines = 4;
    st.rejected[REJ_FUTURE] = 3;
    st.rejected[REJ_ARCHIVE] = 1;

    json_t *root = s_parse(feed_health_json(&st, true, NULL, NULL, T0_MS + 90500));
    assert_string_equal(s_str(root, "status"), "ok");
    assert_string_equal(s_str(root, "archive"), "connected");
    assert_int_equal(s_int(root, "uptime_s"), 90);
    assert_int_equal(s_int(root, "frames_in"), 7);
    assert_int_equal(s_int(root, "batches_accepted"), 5);
    assert_int_equal(s_int(root, "batches_duplicate"), 1);
    assert_int_equal(s_int(root, "samples_accepted"), 300);
    assert_int_equal(s_int(root, "samples_already_archived"), 2);
    assert_int_equal(s_int(root, "heartbeats_in"), 9);
    assert_int_equal(s_int(root, "agent_bad_lines"), 4);
    json_t *rej = json_object_get(root, "rejected");
    assert_int_equal(json_object_size(rej), REJ_MAX);
    assert_int_equal(s_int(rej, "future"), 3);
    assert_int_equal(s_int(rej, "archive"), 1);
    assert_int_equal(s_int(rej, "decode"), 0);
    /* when the counters were read: the workers serve this body later */
    assert_string_equal(s_str(root, "as_of"), "2026-11-27T21:31:30.500Z");
    assert_true(s_int(root, "as_of_ms") == T0_MS + 90500);
    json_decref(root);

    root = s_parse(feed_health_json(&st, false, NULL, NULL, T0_MS));
    assert_string_equal(s_str(root, "as_of"), "2026-11-27T21:30:00.000Z");
    assert_string_equal(s_str(root, "status"), "degraded");
    assert_string_equal(s_str(root, "archive"), "disconnected");
    assert_int_equal(s_int(root, "uptime_s"), 0);
    json_decref(root);
}

static void test_reject_names(void **state)
{
    (void)state;
    const char *want[REJ_MAX] = { "decode", "not_batch", "unknown_crossing", "bad_interval",
                                  "future", "misaligned", "impossible", "lanes",
                                  "stale_epoch", "gap", "archive", "unauthorized",
                                  "wrong_agent", "too_old", "rate_limited", "oversized",
                                  "not_owner", "second_source" };
    for (int r = 0; r < REJ_MAX; r++)
        assert_string_equal(stats_reject_name((enum stats_reject)r), want[r]);
    assert_string_equal(stats_reject_name(REJ_MAX), "?");
    assert_string_equal(stats_reject_name((enum stats_reject)-1), "?");
}

static void test_error_json(void **state)
{
    (void)state;
    json_t *root = s_parse(feed_error_json(400, "unknown parameter 'fr\xc3\x6fm\n'"));
    assert_string_equal(s_str(root, "error"), "unknown parameter 'fr?om?'");
    assert_int_equal(s_int(root, "status"), 400);
    json_decref(root);
}

int main(void)
{
    log_init("test_feed", LOG_LVL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_data_lists_modes_both_directions, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_open_queue_shows_wait, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_queue_has_no_wait, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_closed_queue_and_direction_summary, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_queues_with_data_are_listed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_only_id, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_compact_output, s_setup, s_teardown),
        cmocka_unit_test(test_history_rows),
        cmocka_unit_test(test_history_text_has_no_float_noise),
        cmocka_unit_test(test_history_empty),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_reject_names),
        cmocka_unit_test(test_error_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
