/* test_http_snap — what an HTTP worker answers for /health and /metrics
 * from a published snapshot (collector/http_snap.c), without a main loop:
 * the body the main loop rendered and its Age while the snapshot is young,
 * the JSON 503 naming how long the loop has not published once it is older
 * than HTTP_SNAP_STUCK_MS (the stuck-loop check a worker must still make
 * now that it never asks that loop), /metrics failing then too, the
 * republish of those two alone (http_snap_with_ops), and the snapshot's
 * references (a body outlives its snapshot: checked under
 * SANITIZE=address), and a long /v1/hours held in a memfd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regstate.h"
#include "http_snap.h"
#include "metrics.h"
#include "feed_hours.h"
#include "registry.h"
#include "state.h"

/* 2026-11-27T21:30:00Z */
#define T0_MS 1795815000000LL
/* an arbitrary monotonic origin */
#define MONO0 5000000LL

static const char s_registry_text[] =
    "crossings = (\n"
    "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
    "    port_name = \"San Ysidro\"; crossing_name = \"\"; other_name = \"Tijuana\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
    "    max_lanes = { passenger = 24; pedestrian = 10; commercial = 0; }; }\n"
    ");\n";

typedef regstate_t fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(regstate_from_text(f, s_registry_text), 0);
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

static http_cache_body_t *s_body(const char *text)
{
    return http_cache_body_new(strdup(text), strlen(text));
}

/* A snapshot rendered at MONO0 with the given bodies (NULL: not rendered). */
static http_snap_t *s_snap(fixture_t *f, const char *health, const char *metrics)
{
    http_snap_src_t src = { .state = f->st, .registry = f->reg, .stale_after_ms = 120000,
                            .started_s = T0_MS / 1000, .mono_ms = MONO0,
                            .health = health ? s_body(health) : NULL,
                            .metrics = metrics ? s_body(metrics) : NULL };
    http_snap_t *snap = http_snap_render(&src, NULL, T0_MS);
    assert_non_null(snap);
    http_cache_body_unref(src.health); /* the snapshot holds its own */
    http_cache_body_unref(src.metrics);
    return snap;
}

static void s_expect_body(const http_snap_answer_t *a, const char *want)
{
    assert_non_null(a->body);
    assert_int_equal(a->body->len, strlen(want));
    assert_memory_equal(a->body->data, want, a->body->len);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_stuck_is_strictly_older_than_the_limit(void **state)
{
    (void)state;
    assert_false(http_snap_stuck(MONO0, MONO0, HTTP_SNAP_STUCK_MS));
    assert_false(http_snap_stuck(MONO0, MONO0 + HTTP_SNAP_STUCK_MS, HTTP_SNAP_STUCK_MS));
    assert_true(http_snap_stuck(MONO0, MONO0 + HTTP_SNAP_STUCK_MS + 1, HTTP_SNAP_STUCK_MS));
    /* a worker that read its clock before the render is not "stuck" */
    assert_false(http_snap_stuck(MONO0, MONO0 - 50, HTTP_SNAP_STUCK_MS));
    /* the limit is a constant of the contract: between a 5 s rrdcached
     * wait and systemd's 30 s watchdog */
    assert_true(HTTP_SNAP_STUCK_MS > 5000 && HTTP_SNAP_STUCK_MS < 30000);
}

static void test_young_snapshot_serves_the_published_bodies_with_age(void **state)
{
    fixture_t *f = *state;
    const char *health = "{\"status\":\"ok\",\"frames_in\":7}";
    const char *metrics = "# HELP poenet_uptime_seconds x\n# TYPE poenet_uptime_seconds gauge\n"
                          "poenet_uptime_seconds 1.000\n";
    http_snap_t *snap = s_snap(f, health, metrics);
    http_snap_answer_t a;

    http_snap_ops_answer(snap, ROUTE_HEALTH, MONO0 + 2500, &a);
    assert_int_equal(a.code, 200);
    assert_string_equal(a.ctype, HTTP_CT_JSON);
    assert_string_equal(a.cache, HTTP_CACHE_NONE);
    assert_int_equal(a.age_s, 2);
    s_expect_body(&a, health);
    http_cache_body_unref(a.body);

    /* at the limit itself: still served */
    http_snap_ops_answer(snap, ROUTE_HEALTH, MONO0 + HTTP_SNAP_STUCK_MS, &a);
    assert_int_equal(a.code, 200);
    assert_int_equal(a.age_s, HTTP_SNAP_STUCK_MS / 1000);
    http_cache_body_unref(a.body);

    /* a clock read just before the render: age 0, never negative */
    http_snap_ops_answer(snap, ROUTE_HEALTH, MONO0 - 20, &a);
    assert_int_equal(a.code, 200);
    assert_int_equal(a.age_s, 0);
    http_cache_body_unref(a.body);

    http_snap_ops_answer(snap, ROUTE_METRICS, MONO0 + 999, &a);
    assert_int_equal(a.code, 200);
    assert_string_equal(a.ctype, METRICS_CONTENT_TYPE);
    assert_string_equal(a.cache, HTTP_CACHE_NONE);
    assert_int_equal(a.age_s, 0);
    s_expect_body(&a, metrics);
    /* the answer's reference outlives the snapshot (a response in flight
     * when the worker moves to the next one) */
    http_snap_unref(snap);
    s_expect_body(&a, metrics);
    http_cache_body_unref(a.body);
}

static void test_old_snapshot_makes_health_503_naming_the_time(void **state)
{
    fixture_t *f = *state;
    http_snap_t *snap = s_snap(f, "{\"status\":\"ok\"}", "poenet_uptime_seconds 1\n");
    http_snap_answer_t a;
    http_snap_ops_answer(snap, ROUTE_HEALTH, MONO0 + HTTP_SNAP_STUCK_MS + 2300, &a);
    assert_int_equal(a.code, 503);
    assert_string_equal(a.ctype, HTTP_CT_JSON);
    assert_string_equal(a.cache, HTTP_CACHE_NONE);
    assert_int_equal(a.age_s, -1); /* the error is made now: no Age */
    assert_non_null(a.body);
    json_error_t err;
    json_t *j = json_loadb(a.body->data, a.body->len, 0, &err);
    if (!j)
        fail_msg("503 body is not JSON (%s): %.*s", err.text, (int)a.body->len, a.body->data);
    char want[96];
    snprintf(want, sizeof want, "main loop has not published for %.1f s",
             (HTTP_SNAP_STUCK_MS + 2300) / 1000.0);
    assert_string_equal(json_string_value(json_object_get(j, "error")), want);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 503);
    json_decref(j);
    http_cache_body_unref(a.body);

    /* /metrics fails as well (a scrape error: Prometheus' up == 0), rather
     * than frozen counters that read as no traffic */
    http_snap_ops_answer(snap, ROUTE_METRICS, MONO0 + HTTP_SNAP_STUCK_MS + 2300, &a);
    assert_int_equal(a.code, 503);
    assert_int_equal(a.age_s, -1);
    assert_non_null(a.body);
    assert_non_null(strstr(a.body->data, want));
    http_cache_body_unref(a.body);
    /* just before the limit both are still the published bodies */
    http_snap_ops_answer(snap, ROUTE_METRICS, MONO0 + HTTP_SNAP_STUCK_MS - 1, &a);
    assert_int_equal(a.code, 200);
    s_expect_body(&a, "poenet_uptime_seconds 1\n");
    http_cache_body_unref(a.body);
    http_snap_unref(snap);
}

/* The main loop ran out of memory rendering them: no body, so the worker
 * answers 503 rather than an empty 200. */
static void test_unrendered_bodies_give_no_body(void **state)
{
    fixture_t *f = *state;
    http_snap_t *snap = s_snap(f, NULL, NULL);
    http_snap_answer_t a;
    http_snap_ops_answer(snap, ROUTE_HEALTH, MONO0 + 10, &a);
    assert_null(a.body);
    http_snap_ops_answer(snap, ROUTE_METRICS, MONO0 + 10, &a);
    assert_null(a.body);
    http_snap_unref(snap);
}

/* While the documents' render waits for its share of the main loop, the
 * loop republishes /health and /metrics alone: the documents are the same
 * bodies (no render), the two bodies and their time are new. */
static void test_with_ops_shares_the_documents(void **state)
{
    fixture_t *f = *state;
    http_snap_t *prev = s_snap(f, "{\"frames_in\":1}", "m 1\n");
    http_cache_body_t *gz = http_snap_doc_gz(http_snap_find(prev, ROUTE_CROSSINGS, NULL));
    assert_non_null(gz);
    http_snap_src_t src = { .mono_ms = MONO0 + 1000, .health = s_body("{\"frames_in\":2}"),
                            .metrics = s_body("m 2\n") };
    http_snap_t *next = http_snap_with_ops(prev, &src);
    assert_non_null(next);
    http_cache_body_unref(src.health);
    http_cache_body_unref(src.metrics);
    assert_int_equal(http_snap_version(next), http_snap_version(prev));
    assert_int_equal(http_snap_second(next), http_snap_second(prev));
    assert_int_equal(http_snap_feed_seq(next), http_snap_feed_seq(prev));
    assert_int_equal(http_snap_mono_ms(next), MONO0 + 1000);
    assert_int_equal(http_snap_count(next), http_snap_count(prev));
    for (size_t i = 0; i < http_snap_count(prev); i++) {
        http_snap_doc_t *a = http_snap_at(prev, i), *b = http_snap_at(next, i);
        assert_int_equal(a->kind, b->kind);
        assert_string_equal(a->id, b->id);
        assert_ptr_equal(a->plain, b->plain);
    }
    /* the gzip form made for prev comes along */
    http_snap_doc_t *doc = http_snap_find(next, ROUTE_CROSSINGS, NULL);
    assert_ptr_equal(atomic_load(&doc->gz), gz);
    http_cache_body_unref(gz);
    /* prev gone: next's documents and bodies live on (ASan: no use after free) */
    http_snap_unref(prev);
    assert_non_null(http_snap_find(next, ROUTE_CROSSING, "250401"));
    assert_true(doc->plain->len > 0 && doc->plain->data[0] == '{');
    http_snap_answer_t a;
    http_snap_ops_answer(next, ROUTE_HEALTH, MONO0 + 1500, &a);
    assert_int_equal(a.code, 200);
    assert_int_equal(a.age_s, 0); /* from the new time, not prev's */
    s_expect_body(&a, "{\"frames_in\":2}");
    http_cache_body_unref(a.body);
    /* the age that makes a 503 counts from the new time too */
    http_snap_ops_answer(next, ROUTE_HEALTH, MONO0 + 1000 + HTTP_SNAP_STUCK_MS, &a);
    assert_int_equal(a.code, 200);
    http_cache_body_unref(a.body);
    /* an older render published after next (its gzip forms took longer)
     * takes next's newer /health and /metrics */
    http_snap_t *older = s_snap(f, "{\"frames_in\":0}", "m 0\n");
    http_snap_t *late = http_snap_with_ops_of(older, next);
    assert_non_null(late);
    http_snap_unref(older);
    assert_int_equal(http_snap_mono_ms(late), MONO0 + 1000);
    http_snap_ops_answer(late, ROUTE_METRICS, MONO0 + 1000, &a);
    s_expect_body(&a, "m 2\n");
    http_cache_body_unref(a.body);
    http_snap_unref(late);
    http_snap_unref(next);
}

/* A render soon after the last one keeps its /health and /metrics (and
 * their time: their Age and the stuck check still count from when they
 * were made), and it outlives the snapshot it took them from. */
static void test_render_keeps_recent_ops(void **state)
{
    fixture_t *f = *state;
    http_snap_t *prev = s_snap(f, "{\"frames_in\":1}", "m 1\n");
    http_snap_src_t src = { .state = f->st, .registry = f->reg, .stale_after_ms = 120000,
                            .started_s = T0_MS / 1000, .mono_ms = MONO0 + 300,
                            .keep_ops = true };
    http_snap_t *next = http_snap_render(&src, prev, T0_MS + 300);
    assert_non_null(next);
    assert_int_equal(http_snap_mono_ms(next), MONO0);
    http_snap_unref(prev);
    http_snap_answer_t a;
    http_snap_ops_answer(next, ROUTE_METRICS, MONO0 + 2500, &a);
    assert_int_equal(a.code, 200);
    assert_int_equal(a.age_s, 2);
    s_expect_body(&a, "m 1\n");
    http_cache_body_unref(a.body);
    http_snap_ops_answer(next, ROUTE_HEALTH, MONO0 + HTTP_SNAP_STUCK_MS + 1, &a);
    assert_int_equal(a.code, 503);
    http_cache_body_unref(a.body);
    http_snap_unref(next);
}

/* /v1/hours of many crossings is held in a memfd (its bytes a map, the
 * same as rendering it); a crossing's own hours and a short /v1/hours stay
 * in memory. */
static void test_long_hours_are_held_in_a_memfd(void **state)
{
    fixture_t *small = *state;
    char path[] = "/tmp/test_http_snap_registry_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *o = fdopen(fd, "w");
    fprintf(o, "crossings = (\n");
    for (int i = 0; i < 120; i++)
        fprintf(o, "  { id = \"%06d\"; bwt_id = \"09%06d\"; border = \"MX\"; name = \"X %d\";\n"
                   "    port_name = \"P %d\"; crossing_name = \"\"; other_name = \"O\";\n"
                   "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
                   "    max_lanes = { passenger = 2; pedestrian = 1; commercial = 1; };\n"
                   "    hours = { us = { all = [ \"daily 06:00-22:00\" ]; }; other = \"unknown\"; }; }%s\n",
                i + 100000, i + 100000, i, i, i < 119 ? "," : "");
    fprintf(o, ");\n");
    fclose(o);
    int nbad = -1;
    fixture_t big = { .reg = reg_load(path, &nbad) };
    unlink(path);
    assert_non_null(big.reg);
    assert_non_null(big.st = state_new(big.reg));
    http_snap_t *snap = s_snap(&big, NULL, NULL);
    http_snap_doc_t *all = http_snap_find(snap, ROUTE_HOURS, NULL);
    assert_non_null(all);
    assert_non_null(all->plain);
    char *want = feed_hours_json(big.reg, NULL, T0_MS / 1000, NULL);
    assert_non_null(want);
    assert_true(strlen(want) >= 16 * 1024);
    assert_true(all->plain->fd >= 0);
    assert_int_equal(all->plain->len, strlen(want));
    assert_memory_equal(all->plain->data, want, all->plain->len);
    free(want);
    http_snap_doc_t *one = http_snap_find(snap, ROUTE_HOURS_ONE, "100007");
    assert_non_null(one);
    assert_int_equal(one->plain->fd, -1);
    /* gzip forms made before publishing: the long documents', a gzip
     * stream each; the short ones wait for a request */
    assert_int_equal(http_snap_gzip_from(snap, 16 * 1024), 0);
    http_cache_body_t *gz = atomic_load(&all->gz);
    assert_non_null(gz);
    assert_true(gz->len > 2 && gz->len < all->plain->len);
    assert_int_equal((unsigned char)gz->data[0], 0x1f);
    assert_int_equal((unsigned char)gz->data[1], 0x8b);
    assert_null(atomic_load(&one->gz));
    http_snap_unref(snap);
    snap = s_snap(small, NULL, NULL);
    all = http_snap_find(snap, ROUTE_HOURS, NULL);
    assert_non_null(all);
    assert_int_equal(all->plain->fd, -1);
    http_snap_unref(snap);
    state_destroy(&big.st);
    reg_destroy(&big.reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stuck_is_strictly_older_than_the_limit),
        cmocka_unit_test(test_young_snapshot_serves_the_published_bodies_with_age),
        cmocka_unit_test(test_old_snapshot_makes_health_503_naming_the_time),
        cmocka_unit_test(test_unrendered_bodies_give_no_body),
        cmocka_unit_test(test_with_ops_shares_the_documents),
        cmocka_unit_test(test_render_keeps_recent_ops),
        cmocka_unit_test_setup_teardown(test_long_hours_are_held_in_a_memfd, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
