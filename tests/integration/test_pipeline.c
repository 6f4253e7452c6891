/* test_pipeline — the whole foundation on loopback: a real rrdcached,
 * poe-collector and poe-agent replaying a fixture file as fast as possible.
 * The archive, read back through /v1/history, must hold exactly the
 * fixture's arrivals and departures per minute and per queue; the feed must
 * show the crossing; the agent's bad lines must be counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proc.h"
#include "stack.h"
#include "taxonomy.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"
#define T0_S 1768464000LL            /* fixture start, 2026-01-15T08:00Z */
#define SPAN_MIN 120
#define MAX_LANES 64

/* Expected counts per queue and per minute, from a scan of the fixture
 * that is deliberately independent of the agent's parser. */
typedef struct {
    long arrivals[TAX_NQUEUES][SPAN_MIN + 1];
    long departures[TAX_NQUEUES][SPAN_MIN + 1];
    int bad_lines;
} expect_t;

static int s_queue_of(const char *mode, const char *type)
{
    enum tax_mode m;
    enum tax_type t;
    if (tax_mode_parse(mode, &m) || tax_type_parse(type, &t))
        return -1;
    return tax_queue_index(m, t);
}

static void s_scan_fixture(const char *path, expect_t *e)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512], lane_ids[MAX_LANES][40];
    int lane_q[MAX_LANES], nlanes = 0;
    memset(e, 0, sizeof *e);
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "# bad")) {
            e->bad_lines++;
            continue;
        }
        long long t;
        char kind[16], a[40], b[40], c[40];
        int n = sscanf(line, "%lld %15s %39s %39s %39s", &t, kind, a, b, c);
        if (n < 3)
            continue;
        long minute = (long)((t / 1000 - T0_S) / 60);
        assert_true(minute >= 0 && minute <= SPAN_MIN);
        if (strcmp(kind, "lane") == 0) {
            int i;
            for (i = 0; i < nlanes && strcmp(lane_ids[i], a) != 0; i++)
                ;
            if (i == nlanes)
                nlanes++;
            snprintf(lane_ids[i], sizeof lane_ids[i], "%s", a);
            lane_q[i] = s_queue_of(b, c);
        } else if (strcmp(kind, "arrive") == 0) {
            e->arrivals[s_queue_of(a, b)][minute] += n == 5 ? atol(c) : 1;
        } else if (strcmp(kind, "depart") == 0) {
            for (int i = 0; i < nlanes; i++)
                if (strcmp(lane_ids[i], a) == 0)
                    e->departures[lane_q[i]][minute] += n == 4 ? atol(b) : 1;
        }
    }
    fclose(f);
}

static teststack_t s_stack;

static int s_setup(void **state)
{
    (void)state;
    return stack_start(&s_stack);
}

static int s_teardown(void **state)
{
    (void)state;
    return stack_stop(&s_stack);
}

static json_t *s_get_json(const char *path, int want_status)
{
    int status = 0;
    /* /health is served from the published snapshot: one rendered after
     * the agent's acknowledged batches (tests/lib/proc.h) */
    char *body = strcmp(path, "/health") == 0 ? proc_health(s_stack.http_port, &status)
                                              : proc_http_get(s_stack.http_port, path, &status);
    assert_non_null(body);
    if (status != want_status)
        fprintf(stderr, "GET %s -> %d %s\n", path, status, body);
    assert_int_equal(status, want_status);
    json_error_t err;
    json_t *j = json_loads(body, 0, &err);
    free(body);
    assert_non_null(j);
    return j;
}

static void s_run_agent(void)
{
    char log[600], fixture[1024], agent[1024], spool[600];
    snprintf(log, sizeof log, "%s/agent.log", s_stack.dir);
    snprintf(spool, sizeof spool, "%s/spool", s_stack.dir);
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(&s_stack, FIXTURE));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", s_stack.endpoint, "--replay", fixture,
                           "--speed", "0", "--spool", spool, NULL };
    pid_t pid = proc_spawn(argv, log);
    assert_true(pid > 0);
    int status = -1;
    if (proc_wait_exit(pid, 60000, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not finish the replay within 60 s (log %s)", log);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Compare one queue's archive with the fixture, minute by minute. */
static void s_check_queue(const expect_t *e, const char *mode, const char *type)
{
    int q = s_queue_of(mode, type);
    char path[256];
    snprintf(path, sizeof path,
             "/v1/history?crossing=250401&direction=northbound&mode=%s&lane=%s&from=%lld&to=%lld&step=60",
             mode, type, T0_S - 120, T0_S + (SPAN_MIN + 2) * 60LL);
    json_t *j = s_get_json(path, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "step")), 60);
    json_t *rows = json_object_get(j, "rows");
    long got_arr = 0, got_dep = 0, want_arr = 0, want_dep = 0;
    for (int m = 0; m <= SPAN_MIN; m++) {
        want_arr += e->arrivals[q][m];
        want_dep += e->departures[q][m];
    }
    size_t i;
    json_t *row;
    int minutes_checked = 0;
    json_array_foreach(rows, i, row) {
        long long t = json_integer_value(json_array_get(row, 0));
        long minute = (long)((t - 60 - T0_S) / 60); /* row ends at t: it is minute t-60 */
        json_t *arr = json_array_get(row, 2), *dep = json_array_get(row, 3);
        if (minute < 0 || minute >= SPAN_MIN) {
            continue;
        }
        /* Every minute the fixture covers has data, even when zero. */
        if (!json_is_number(arr) || !json_is_number(dep))
            fail_msg("%s/%s minute %ld: archive has no data", mode, type, minute);
        long a = (long)(json_number_value(arr) + 0.5), d = (long)(json_number_value(dep) + 0.5);
        if (a != e->arrivals[q][minute] || d != e->departures[q][minute])
            fail_msg("%s/%s minute %ld: archive %ld arrivals %ld departures, fixture %ld %ld",
                     mode, type, minute, a, d, e->arrivals[q][minute], e->departures[q][minute]);
        got_arr += a;
        got_dep += d;
        minutes_checked++;
    }
    assert_int_equal(minutes_checked, SPAN_MIN);
    /* The fixture's last events fall in its final minute. */
    got_arr += e->arrivals[q][SPAN_MIN];
    got_dep += e->departures[q][SPAN_MIN];
    assert_int_equal(got_arr, want_arr);
    assert_int_equal(got_dep, want_dep);
    assert_true(want_arr > 50);
    json_decref(j);
}

static void test_replay_archived_exactly(void **state)
{
    (void)state;
    expect_t *e = calloc(1, sizeof *e);
    s_scan_fixture(stack_src_path(&s_stack, FIXTURE), e);
    s_run_agent();
    s_check_queue(e, "passenger", "standard");
    s_check_queue(e, "passenger", "ready");
    s_check_queue(e, "passenger", "nexus_sentri");
    s_check_queue(e, "pedestrian", "standard");

    json_t *h = s_get_json("/health", 200);
    assert_string_equal(json_string_value(json_object_get(h, "archive")), "connected");
    assert_int_equal(json_integer_value(json_object_get(h, "agent_bad_lines")), e->bad_lines);
    assert_true(json_integer_value(json_object_get(h, "batches_accepted")) > 0);
    json_decref(h);
    free(e);
}

static json_t *s_find(json_t *arr, const char *key, const char *val)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (strcmp(json_string_value(json_object_get(x, key)), val) == 0)
            return x;
    }
    return NULL;
}

/* The feed is published by the collector's main loop at most every 100 ms
 * (longer when rendering is slow, e.g. under ThreadSanitizer): wait,
 * bounded, until the replay's last interval shows. */
static json_t *s_get_published(const char *path, const char *want)
{
    for (int i = 0; i < 100; i++) {
        json_t *j = s_get_json(path, 200);
        char *text = json_dumps(j, JSON_COMPACT);
        bool seen = text && strstr(text, want);
        free(text);
        if (seen)
            return j;
        json_decref(j);
        usleep(100 * 1000);
    }
    return s_get_json(path, 200);
}

static void test_feed_shows_crossing(void **state)
{
    (void)state;
    json_t *j = s_get_published("/v1/crossings/250401", "\"updated\":\"2026-01-15T10:00:00Z\"");
    json_t *x = json_array_get(json_object_get(j, "crossings"), 0);
    assert_non_null(x);
    assert_string_equal(json_string_value(json_object_get(x, "id")), "250401");
    json_t *dirs = json_object_get(x, "directions");
    json_t *nb = s_find(dirs, "direction", "northbound");
    json_t *sb = s_find(dirs, "direction", "southbound");
    assert_non_null(nb);
    assert_non_null(sb);
    assert_string_equal(json_string_value(json_object_get(nb, "into")), "US");
    assert_string_equal(json_string_value(json_object_get(sb, "into")), "MX");
    /* January data is old: shown as stale with its time, never as a wait. */
    json_t *ps = s_find(json_object_get(nb, "queues"), "lane", "standard");
    assert_non_null(ps);
    assert_string_equal(json_string_value(json_object_get(ps, "status")), "stale");
    assert_true(json_is_null(json_object_get(ps, "wait_s")));
    assert_string_equal(json_string_value(json_object_get(ps, "updated")), "2026-01-15T10:00:00Z");
    assert_string_equal(json_string_value(json_object_get(sb, "status")), "no_data");
    json_decref(j);

    json_t *all = s_get_json("/v1/crossings", 200);
    assert_true(json_array_size(json_object_get(all, "crossings")) >= 70);
    json_decref(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_archived_exactly),
        cmocka_unit_test(test_feed_shows_crossing),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
