/* test_reload — SIGHUP makes a running collector read its lane plans again
 * (--lane-plans DIR): a plan added while it runs reaches the estimates of
 * the next update; a broken file then keeps every plan in use and is
 * counted; fixing it and reloading again takes; `poe-collector --check`
 * says beforehand whether a reload would take. Real collector and
 * rrdcached on loopback; a raw DEALER plays the agent of San Ysidro
 * northbound with an hour-long passenger queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "proc.h"
#include "stack.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "wire.h"

#define IV_MS 5000

static teststack_t s_st;
static void *s_ctx, *s_agent;
static char *s_plans;
static uint64_t s_seq_out;
static int64_t s_t_end;

static int s_setup(void **state)
{
    (void)state;
    s_plans = proc_tmpdir();
    if (!s_plans)
        return -1;
    static const char *extra[3];
    extra[0] = "--lane-plans";
    extra[1] = s_plans;
    if (stack_start_args(&s_st, 10, extra) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    s_agent = zmq_socket(s_ctx, ZMQ_DEALER);
    int linger = 0, timeout = 3000;
    zmq_setsockopt(s_agent, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s_agent, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    /* The 64 intervals sent end about now (on the interval grid): fresh. */
    int64_t now = tu_now_ms();
    s_t_end = now - now % IV_MS - 64 * IV_MS;
    return zmq_connect(s_agent, s_st.endpoint);
}

static int s_teardown(void **state)
{
    (void)state;
    zmq_close(s_agent);
    zmq_ctx_term(s_ctx);
    int rc = stack_stop(&s_st);
    proc_rm_rf(s_plans);
    free(s_plans);
    return rc;
}

/* One 5-s interval of passenger/standard: many join, 4 booths each clear
 * one unit every 20 s. Acked. */
static void s_send_interval(void)
{
    s_t_end += IV_MS;
    wire_batch_t *b = wire_batch_new("250401", TAX_NORTHBOUND, 77, IV_MS);
    wire_queue_sample_t q = { .t_end_ms = s_t_end, .mode = TAX_PASSENGER, .type = TAX_STANDARD,
                              .arrivals = 20, .departures = 1, .lanes_open = 4 };
    assert_int_equal(wire_batch_add_queue(b, &q), 0);
    size_t len;
    uint8_t *buf = wire_batch_pack(b, ++s_seq_out, 0, &len);
    wire_batch_destroy(&b);
    assert_int_equal(zmq_send(s_agent, buf, len, 0), (int)len);
    free(buf);
    uint8_t reply[512];
    assert_true(zmq_recv(s_agent, reply, sizeof reply, 0) > 0);
}

static json_t *s_get(const char *path)
{
    int status = 0;
    char *body = proc_http_get(s_st.http_port, path, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    return j;
}

static long s_health(const char *field)
{
    json_t *h = s_get("/health");
    long v = (long)json_integer_value(json_object_get(h, field));
    json_decref(h);
    return v;
}

/* SIGHUP, then wait (bounded) until /health shows field == want. */
static void s_reload_until(const char *field, long want)
{
    assert_int_equal(kill(s_st.collector, SIGHUP), 0);
    int64_t deadline = tu_now_ms() + 5000;
    long v;
    while ((v = s_health(field)) != want && tu_now_ms() < deadline)
        usleep(50 * 1000);
    if (v != want)
        fail_msg("after SIGHUP /health %s is %ld, want %ld", field, v, want);
}

/* Whether the passenger/standard estimate northbound says it used the
 * lane plan (quality.inputs has "lane_plan"). */
static bool s_estimate_uses_plan(void)
{
    json_t *c = s_get("/v1/crossings/250401");
    json_t *dirs = json_object_get(json_array_get(json_object_get(c, "crossings"), 0), "directions");
    bool found = false, seen = false;
    size_t i, k, n;
    json_t *d, *q, *in;
    json_array_foreach(dirs, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "direction")), "northbound") != 0)
            continue;
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            if (strcmp(json_string_value(json_object_get(q, "mode")), "passenger") != 0 ||
                strcmp(json_string_value(json_object_get(q, "lane")), "standard") != 0)
                continue;
            seen = true;
            json_array_foreach(json_object_get(json_object_get(q, "quality"), "inputs"), n, in)
                if (strcmp(json_string_value(in), "lane_plan") == 0)
                    found = true;
        }
    }
    json_decref(c);
    if (!seen)
        fail_msg("/v1/crossings/250401 has no northbound passenger standard queue");
    return found;
}

/* The public documents are published by the collector's main loop at most
 * every 100 ms after a change (collector/http.c): wait (bounded) for the
 * estimate of the update just acknowledged to show. */
static bool s_estimate_shows_plan(void)
{
    int64_t deadline = tu_now_ms() + 5000;
    bool found;
    while (!(found = s_estimate_uses_plan()) && tu_now_ms() < deadline)
        usleep(50 * 1000);
    return found;
}

static void s_write_plan(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_plans, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_sighup_reloads_plans(void **state)
{
    (void)state;
    /* Five minutes of a growing queue: more than an hour of waiting. */
    for (int i = 0; i < 61; i++)
        s_send_interval();
    assert_int_equal(s_health("lane_plans"), 0);
    assert_false(s_estimate_uses_plan());

    /* A plan that changes the lanes every hour of the week: whatever the
     * time, a change falls within the wait. */
    char plan[8192];
    size_t n = (size_t)snprintf(plan, sizeof plan, "# timezone: UTC\nhour_of_week,passenger-standard\n");
    for (int h = 0; h < 168; h++)
        n += (size_t)snprintf(plan + n, sizeof plan - n, "%d,%d\n", h, h % 2 ? 4 : 6);
    s_write_plan("250401-northbound.csv", plan);
    s_reload_until("lane_plans", 1);
    s_send_interval(); /* the estimate is recomputed on the next update */
    assert_true(s_estimate_shows_plan());

    /* A broken file next to it: refused, counted, the good plan stays. */
    s_write_plan("250401-southbound.csv", "hour_of_week,passenger-standard\n0,four\n");
    s_reload_until("lane_plan_reload_failures", 1);
    assert_int_equal(s_health("lane_plans"), 1);
    s_send_interval();
    assert_true(s_estimate_shows_plan());

    /* Fixed: both are read. */
    s_write_plan("250401-southbound.csv", "hour_of_week,passenger-standard\n0,4\n");
    s_reload_until("lane_plans", 2);
    assert_int_equal(s_health("lane_plan_reload_failures"), 1);
}

/* Run poe-collector --check on the repository's registry and plan
 * directory dir; its exit code, its output in *out (malloc'ed). */
static int s_check(const char *dir, char **out)
{
    char log[1024];
    snprintf(log, sizeof log, "%s/check.log", dir);
    const char *argv[] = { stack_bin_path(&s_st, "poe-collector"), "--registry",
                           stack_src_path(&s_st, "deploy/registry.conf"), "--lane-plans", dir,
                           "--check", NULL };
    pid_t pid = proc_spawn(argv, log);
    assert_true(pid > 0);
    int status = -1;
    assert_int_equal(proc_wait_exit(pid, 10000, &status), 0);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    *out = calloc(1, 8192);
    assert_non_null(*out);
    size_t n = fread(*out, 1, 8191, f);
    (*out)[n] = '\0';
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What an operator runs before `systemctl reload`: the same files read the
 * same way, and the verdict in the exit code. */
static void test_check_before_reload(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    assert_non_null(dir);
    char path[1024], *out = NULL;
    snprintf(path, sizeof path, "%s/250401-northbound.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("hour_of_week,passenger-standard\n0,4\n7,12\n", f);
    fclose(f);
    assert_int_equal(s_check(dir, &out), 0);
    if (!strstr(out, "lane plans") || !strstr(out, ": 1 crossing directions") || !strstr(out, "check: ok"))
        fail_msg("--check said: %s", out);
    free(out);

    snprintf(path, sizeof path, "%s/250401-southbound.csv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("hour_of_week,passenger-standard\n0,4\n0,5\n", f);
    fclose(f);
    assert_int_equal(s_check(dir, &out), 1);
    if (!strstr(out, "250401-southbound.csv:3") || !strstr(out, "check: FAILED"))
        fail_msg("--check said: %s", out);
    free(out);
    proc_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sighup_reloads_plans),
        cmocka_unit_test(test_check_before_reload),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
