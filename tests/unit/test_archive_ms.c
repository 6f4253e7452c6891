/* test_archive_ms — rows of intervals shorter than a second, against a real
 * rrdcached in a temporary directory: two 500-ms intervals ending in one
 * second both land and every count comes back exactly; the time guard
 * works to the millisecond within a process, across a collector restart
 * (rows still pending in rrdcached) and across an rrdcached restart (whose
 * own check is whole seconds: it takes a stale row inside the last second
 * and its writer then drops the file's whole update); the durable sync,
 * blocking and pipelined, judges fractional last updates. test_archive.c
 * has the whole-second cases. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "archive.h"
#include "log.h"
#include "proc.h"
#include "rrdhead.h"
#include "timeutil.h"

#define IV_MS 500

static struct {
    char *dir;          /* temp dir: rrdcached's socket, log */
    char root[512];     /* archive root inside it */
    char sock[512];
    pid_t pid;          /* current rrdcached */
    int64_t t0;         /* a whole hour, two hours ago (Unix s): the start of all data */
} g;

static int s_group_setup(void **state)
{
    (void)state;
    log_init("test_archive_ms", LOG_LVL_WARN);
    signal(SIGPIPE, SIG_IGN);
    g.dir = proc_tmpdir();
    if (!g.dir)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/archive", g.dir);
    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    if (g.pid < 0) {
        fprintf(stderr, "rrdcached did not start; see %s/rrdcached.log\n", g.dir);
        return -1;
    }
    int64_t now = tu_now_ms() / 1000;
    g.t0 = now - now % 3600 - 7200;
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    if (g.pid > 0)
        proc_stop(g.pid, 10000);
    if (g.dir)
        proc_rm_rf(g.dir);
    free(g.dir);
    g.dir = NULL;
    return 0;
}

static archive_t *s_archive(void)
{
    archive_t *a = arch_new(g.sock, g.root, ARCH_COMPACT);
    assert_non_null(a);
    return a;
}

/* Counts of the 500-ms interval ending at ms after t0: known functions of
 * the interval's index, so every minute's sum is known. */
static uint32_t s_arr(int64_t ms) { return (uint32_t)((ms / IV_MS * 7) % 5); }
static uint32_t s_dep(int64_t ms) { return (uint32_t)((ms / IV_MS) % 3 == 0); }

/* Stage the queue row (and a lane row) ending ms after t0; the guard's
 * verdict, the same for both. */
static int s_add(archive_t *a, const char *x, int64_t ms)
{
    arch_queue_row_t q = { .t_ms = g.t0 * 1000 + ms, .interval_ms = IV_MS, .arrivals = s_arr(ms),
                           .departures = s_dep(ms), .lanes_open = 2, .queue = 1.0,
                           .wait_s = 30.0 };
    int rq = arch_add_queue(a, x, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, &q);
    arch_lane_row_t l = { .t_ms = q.t_ms, .interval_ms = IV_MS, .departures = s_dep(ms),
                          .open = true };
    int rl = arch_add_lane(a, x, TAX_NORTHBOUND, "L1", &l);
    assert_int_equal(rq, rl);
    return rq;
}

static void s_commit_ok(archive_t *a)
{
    char why[256];
    if (arch_commit(a, why, sizeof why) != 0)
        fail_msg("arch_commit: %s", why);
}

static void s_sync_ok(archive_t *a)
{
    char why[256];
    if (arch_sync(a, why, sizeof why) != 0)
        fail_msg("arch_sync: %s", why);
}

static int64_t s_head_ms(const char *x, const char *file)
{
    char p[700], why[120];
    snprintf(p, sizeof p, "%s/%s/northbound/%s", g.root, x, file);
    int64_t t = -1;
    if (rrdhead_last_update_ms(p, &t, why, sizeof why) != 0)
        fail_msg("rrdhead %s: %s", p, why);
    return t;
}

/* Every minute 1..minutes holds exactly the counts of its 120 intervals
 * (ms in (60,000 (m-1), 60,000 m]), nothing twice, nothing missing. */
static void s_assert_minutes(archive_t *a, const char *x, int minutes)
{
    arch_series_t s;
    char why[256];
    int rc = arch_fetch_queue(a, x, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, g.t0,
                              g.t0 + 60 * minutes, 60, &s, why, sizeof why);
    if (rc != 0)
        fail_msg("arch_fetch_queue: rc %d, %s", rc, why);
    assert_int_equal(s.step, 60);
    for (int m = 1; m <= minutes; m++) {
        double arr = 0, dep = 0;
        for (int64_t ms = 60000LL * (m - 1) + IV_MS; ms <= 60000LL * m; ms += IV_MS) {
            arr += s_arr(ms);
            dep += s_dep(ms);
        }
        int64_t i = (g.t0 + 60 * m - s.start) / 60 - 1;
        assert_true(i >= 0 && (size_t)i < s.nrows);
        double got_arr = s.values[(size_t)i * ARCH_NCOLS + 1];
        double got_dep = s.values[(size_t)i * ARCH_NCOLS + 2];
        if (!(fabs(got_arr - arr) < 1e-6) || !(fabs(got_dep - dep) < 1e-6))
            fail_msg("%s minute %d: arrivals %.9g departures %.9g, want %.0f and %.0f", x, m,
                     got_arr, got_dep, arr, dep);
    }
    arch_series_free(&s);
}

/* Two intervals end in every second (x.5 and x+1.0): each is its own row,
 * the guard skips only what is at or before the last row to the ms, and
 * the counts per minute are exact. */
static void test_two_intervals_in_one_second(void **state)
{
    (void)state;
    const char *x = "810001";
    archive_t *a = s_archive();
    for (int64_t ms = IV_MS; ms <= 60000; ms += IV_MS) {
        assert_int_equal(s_add(a, x, ms), 1);
        assert_int_equal(s_add(a, x, ms), 0);   /* the same end again: skipped */
        if (ms % 7000 == 0)
            s_commit_ok(a);   /* several batches, some ending inside a second */
    }
    s_commit_ok(a);
    assert_int_equal(s_add(a, x, 59500), 0);   /* half a second before the last */
    assert_int_equal(s_add(a, x, 60000), 0);
    for (int64_t ms = 60000 + IV_MS; ms <= 120000; ms += IV_MS)
        assert_int_equal(s_add(a, x, ms), 1);
    s_commit_ok(a);
    s_sync_ok(a);
    assert_int_equal(s_head_ms(x, "passenger-standard.rrd"), (g.t0 + 120) * 1000);
    assert_int_equal(s_head_ms(x, "lane-L1.rrd"), (g.t0 + 120) * 1000);
    /* A last row inside a second: the header keeps its fraction. */
    assert_int_equal(s_add(a, x, 120500), 1);
    s_commit_ok(a);
    s_sync_ok(a);
    assert_int_equal(s_head_ms(x, "passenger-standard.rrd"), (g.t0 + 120) * 1000 + 500);
    s_assert_minutes(a, x, 2);
    arch_destroy(&a);
}

/* A new collector process learns the last row's end to the ms from the
 * file's header while rrdcached still holds rows (the guard then FLUSHes):
 * the row of the same second's first half, and the last one, are not sent
 * again; the next half second is. */
static void test_guard_ms_across_collector_restart(void **state)
{
    (void)state;
    const char *x = "810002";
    archive_t *a = s_archive();
    for (int64_t ms = IV_MS; ms <= 70500; ms += IV_MS)
        assert_int_equal(s_add(a, x, ms), 1);
    s_commit_ok(a);
    arch_destroy(&a);   /* not synced: the rows are pending in rrdcached */

    a = s_archive();
    assert_int_equal(s_add(a, x, 70500), 0);
    assert_int_equal(s_add(a, x, 70000), 0);
    assert_int_equal(s_add(a, x, 71000), 1);
    for (int64_t ms = 71000 + IV_MS; ms <= 120000; ms += IV_MS)
        assert_int_equal(s_add(a, x, ms), 1);
    s_commit_ok(a);
    s_sync_ok(a);
    s_assert_minutes(a, x, 2);
    arch_destroy(&a);
}

/* rrdcached restarted: its own check knows only the file's whole second,
 * so a resent row inside that second would be taken — and its writer
 * would then refuse the file's whole update. The archive re-learns the
 * guard from the header's fraction and does not send it. */
static void test_guard_ms_across_rrdcached_restart(void **state)
{
    (void)state;
    const char *x = "810003";
    archive_t *a = s_archive();
    for (int64_t ms = IV_MS; ms <= 60500; ms += IV_MS)
        assert_int_equal(s_add(a, x, ms), 1);
    s_commit_ok(a);
    s_sync_ok(a);
    assert_int_equal(s_head_ms(x, "passenger-standard.rrd"), (g.t0 + 60) * 1000 + 500);
    proc_stop(g.pid, 10000);
    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    assert_true(g.pid > 0);
    uint64_t gen = arch_generation(a);
    /* The next batch goes to the dead connection and fails: its files'
     * guards are forgotten. */
    assert_int_equal(s_add(a, x, 61000), 1);
    char why[256] = "";
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    /* The resend after the rollback: the last second's rows are on disk,
     * which only the header's fraction tells (INFO says 60 s). */
    assert_int_equal(s_add(a, x, 60500), 0);
    assert_true(arch_generation(a) != gen);   /* the new connection was seen */
    assert_int_equal(s_add(a, x, 60000), 0);
    for (int64_t ms = 60500 + IV_MS; ms <= 120000; ms += IV_MS)
        assert_int_equal(s_add(a, x, ms), 1);
    s_commit_ok(a);
    s_sync_ok(a);
    assert_int_equal(s_head_ms(x, "passenger-standard.rrd"), (g.t0 + 120) * 1000);
    s_assert_minutes(a, x, 2);
    arch_destroy(&a);
}

typedef struct {
    bool done;
    int rc;
    char why[400];
} synced_t;

static void s_synced(void *arg, int rc, const char *why)
{
    synced_t *r = arg;
    r->done = true;
    r->rc = rc;
    snprintf(r->why, sizeof r->why, "%s", why);
}

/* The pipelined sync reads the headers' fractions: rows through x.5 are
 * durable once the file says x.5, not only x. */
static void test_pipelined_sync_ms(void **state)
{
    (void)state;
    const char *xs[] = { "810004", "810005" };
    struct event_base *base = event_base_new();
    assert_non_null(base);
    archive_t *a = s_archive();
    for (size_t k = 0; k < 2; k++)
        for (int64_t ms = IV_MS; ms <= 30500; ms += IV_MS)
            assert_int_equal(s_add(a, xs[k], ms), 1);
    s_commit_ok(a);
    assert_int_equal(arch_pending_sync(a), 4);
    synced_t r = { 0 };
    char why[400] = "";
    assert_int_equal(arch_sync_start(a, base, s_synced, &r, why, sizeof why), 0);
    int64_t deadline = tu_mono_ms() + 30000;
    while (!r.done && tu_mono_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(r.done);
    if (r.rc != 0)
        fail_msg("pipelined sync: %s", r.why);
    assert_int_equal(arch_pending_sync(a), 0);
    for (size_t k = 0; k < 2; k++)
        assert_int_equal(s_head_ms(xs[k], "passenger-standard.rrd"), (g.t0 + 30) * 1000 + 500);
    arch_destroy(&a);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_intervals_in_one_second),
        cmocka_unit_test(test_guard_ms_across_collector_restart),
        cmocka_unit_test(test_guard_ms_across_rrdcached_restart),
        cmocka_unit_test(test_pipelined_sync_ms),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
