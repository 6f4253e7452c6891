/* test_archive — the RRD archive against a real rrdcached in a temporary
 * directory: file layout and creation, the time guard (within a process
 * and across a collector restart), exact per-minute counts read back,
 * unknown values, commit failures (refused updates, rrdcached killed or
 * hung) and reconnecting after rrdcached restarts. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "archive.h"
#include "log.h"
#include "proc.h"
#include "rrdcc.h"
#include "rrdhead.h"
#include "timeutil.h"

static struct {
    char *dir;          /* temp dir: rrdcached's socket, log */
    char root[512];     /* archive root inside it */
    char sock[512];
    pid_t pid;          /* current rrdcached */
    int64_t t0;         /* a whole hour, two hours ago: the start of all data */
} g;

/* ---- fixtures ---------------------------------------------------------------- */

static int s_group_setup(void **state)
{
    (void)state;
    log_init("test_archive", LOG_LVL_WARN);
    signal(SIGPIPE, SIG_IGN);   /* as the collector: rrdpipe's writes to a dead rrdcached */
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
    g.pid = -1;
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

static void s_restart_rrdcached(void)
{
    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    assert_true(g.pid > 0);
}

static void s_kill_rrdcached(void)
{
    assert_int_equal(kill(g.pid, SIGKILL), 0);
    assert_int_equal(proc_wait_exit(g.pid, 5000, NULL), 0);
    g.pid = -1;
}

/* SIGSTOP takes effect asynchronously, thread by thread: wait until the
 * whole of rrdcached has stopped, or it may still answer. */
static void s_stop_rrdcached_threads(void)
{
    assert_int_equal(kill(g.pid, SIGSTOP), 0);
    int64_t deadline = tu_mono_ms() + 5000;
    int st = 0;
    pid_t r;
    while ((r = waitpid(g.pid, &st, WUNTRACED | WNOHANG)) == 0 && tu_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(r, g.pid);
    assert_true(WIFSTOPPED(st));
}

/* ---- helpers ------------------------------------------------------------------- */

static arch_queue_row_t s_qrow(int64_t t, uint32_t arr, uint32_t dep, uint32_t lanes,
                               double queue, double wait)
{
    return (arch_queue_row_t){ .t_ms = t * 1000, .interval_ms = 5000, .arrivals = arr,
                               .departures = dep, .lanes_open = lanes,
                               .queue = queue, .wait_s = wait };
}

static int s_add(archive_t *a, const char *crossing, int64_t t, uint32_t arr, uint32_t dep)
{
    arch_queue_row_t r = s_qrow(t, arr, dep, 1, 1.0, 1.0);
    return arch_add_queue(a, crossing, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, &r);
}

static void s_commit_ok(archive_t *a)
{
    char why[256];
    int rc = arch_commit(a, why, sizeof why);
    if (rc != 0)
        fail_msg("arch_commit: %s", why);
}

static void s_path(char *out, size_t len, const char *crossing, const char *file)
{
    snprintf(out, len, "%s/%s/northbound/%s", g.root, crossing, file);
}

/* The file's exact last update as written on disk, through rrdcached. */
static int64_t s_last_update(const char *path)
{
    rrdcc_t *c = rrdcc_new(g.sock, 5000);
    assert_non_null(c);
    int64_t t = -1;
    assert_int_equal(rrdcc_flush(c, path), 0);
    assert_int_equal(rrdcc_last_update(c, path, &t), 0);
    rrdcc_destroy(&c);
    assert_null(c);
    return t;
}

static void s_near(double got, double want, const char *what, int64_t t)
{
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) < 1e-6))
        fail_msg("%s at %lld: got %.9g, want %.9g", what, (long long)t, got, want);
}

/* A row at t written into path by another client, behind the archive's
 * back. */
static void s_write_behind(const char *path, int64_t t)
{
    rrdcc_t *c = rrdcc_new(g.sock, 5000);
    assert_non_null(c);
    char line[700];
    snprintf(line, sizeof line, "UPDATE %s %lld:1:1:1:1:1\n", path, (long long)t);
    assert_int_equal(rrdcc_batch(c, line, strlen(line), NULL), 0);
    rrdcc_destroy(&c);
}

static void s_fetch(archive_t *a, const char *crossing, int64_t from, int64_t to,
                    int64_t step, arch_series_t *s)
{
    char why[256];
    int rc = arch_fetch_queue(a, crossing, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD,
                              from, to, step, s, why, sizeof why);
    if (rc != 0)
        fail_msg("arch_fetch_queue: rc %d, %s", rc, why);
}

/* Value of column col in the row ending at t_end. */
static double s_at(const arch_series_t *s, int64_t t_end, int col)
{
    int64_t i = (t_end - s->start) / s->step - 1;
    if (i < 0 || (size_t)i >= s->nrows || s->start + (i + 1) * s->step != t_end)
        fail_msg("no row ending at %lld in (%lld, %lld] step %lld", (long long)t_end,
                 (long long)s->start, (long long)s->end, (long long)s->step);
    return s->values[(size_t)i * ARCH_NCOLS + (size_t)col];
}

enum { C_WAIT, C_ARR, C_DEP, C_LANES, C_QUEUE };

/* ---- tests ------------------------------------------------------------------------ */

static void test_layout_and_create(void **state)
{
    (void)state;
    archive_t *a = s_archive();
    int64_t t = g.t0 + 5;
    arch_queue_row_t q = s_qrow(t, 3, 2, 1, 4.0, 30.0);
    assert_int_equal(arch_add_queue(a, "250401", TAX_SOUTHBOUND, TAX_COMMERCIAL,
                                    TAX_NEXUS_SENTRI, &q), 1);
    arch_lane_row_t l = { .t_ms = t * 1000, .interval_ms = 5000, .departures = 2, .open = true };
    assert_int_equal(arch_add_lane(a, "250401", TAX_SOUTHBOUND, "C07", &l), 1);
    /* Names that would escape the directory or break a protocol line. */
    assert_int_equal(arch_add_lane(a, "250401", TAX_SOUTHBOUND, "../x", &l), -1);
    assert_int_equal(arch_add_lane(a, "250401", TAX_SOUTHBOUND, "a b", &l), -1);
    assert_int_equal(arch_add_queue(a, "", TAX_SOUTHBOUND, TAX_COMMERCIAL, TAX_FAST, &q), -1);
    s_commit_ok(a);
    assert_true(arch_connected(a));

    char qp[600], lp[600];
    snprintf(qp, sizeof qp, "%s/250401/southbound/commercial-nexus_sentri.rrd", g.root);
    snprintf(lp, sizeof lp, "%s/250401/southbound/lane-C07.rrd", g.root);
    struct stat st;
    assert_int_equal(stat(qp, &st), 0);
    assert_int_equal(stat(lp, &st), 0);
    assert_int_equal(s_last_update(qp), t);
    assert_int_equal(s_last_update(lp), t);
    /* The lane again (its guard from the cache), and the same id in the
     * other direction: a file of its own. */
    l.t_ms += 5000;
    assert_int_equal(arch_add_lane(a, "250401", TAX_SOUTHBOUND, "C07", &l), 1);
    assert_int_equal(arch_add_lane(a, "250401", TAX_SOUTHBOUND, "C07", &l), 0);   /* not newer */
    l.open = false;
    assert_int_equal(arch_add_lane(a, "250401", TAX_NORTHBOUND, "C07", &l), 1);
    assert_int_equal(arch_add_lane(a, NULL, TAX_NORTHBOUND, "C07", &l), -1);
    s_commit_ok(a);
    char np[600];
    snprintf(np, sizeof np, "%s/250401/northbound/lane-C07.rrd", g.root);
    assert_int_equal(s_last_update(lp), t + 5);
    assert_int_equal(s_last_update(np), t + 5);

    /* A series with no file yet. */
    arch_series_t s;
    char why[128];
    assert_int_equal(arch_fetch_queue(a, "250401", TAX_NORTHBOUND, TAX_PEDESTRIAN,
                                      TAX_READY, g.t0, g.t0 + 600, 60, &s, why, sizeof why), 1);
    arch_destroy(&a);
    assert_null(a);
}

static void test_full_profile_layout(void **state)
{
    (void)state;
    archive_t *a = arch_new(g.sock, g.root, ARCH_FULL);
    assert_non_null(a);
    assert_int_equal(s_add(a, "100001", g.t0 + 60, 1, 1), 1);
    s_commit_ok(a);
    char p[600];
    s_path(p, sizeof p, "100001", "passenger-standard.rrd");
    rrdcc_t *c = rrdcc_new(g.sock, 5000);
    assert_non_null(c);
    rrdcc_reply_t r;
    assert_int_equal(rrdcc_command(c, "PING", &r), 0);
    char line[700];
    snprintf(line, sizeof line, "INFO %s", p);
    assert_int_equal(rrdcc_command(c, line, &r), 0);
    int rras = 0, found_step = 0;
    for (size_t i = 0; i < r.nlines; i++) {
        if (strstr(r.lines[i], "].cf 2 "))
            rras++;
        if (strcmp(r.lines[i], "step 1 60") == 0)
            found_step = 1;
    }
    assert_int_equal(rras, 7);
    assert_true(found_step);
    rrdcc_destroy(&c);
    arch_destroy(&a);
}

static void test_guard_in_process(void **state)
{
    (void)state;
    archive_t *a = s_archive();
    const char *x = "200001";
    for (int i = 1; i <= 12; i++)
        assert_int_equal(s_add(a, x, g.t0 + 5 * i, 1, 1), 1);
    /* Within one batch: at or before the last staged row is skipped. */
    assert_int_equal(s_add(a, x, g.t0 + 60, 9, 9), 0);
    assert_int_equal(s_add(a, x, g.t0 + 30, 9, 9), 0);
    s_commit_ok(a);
    /* After the commit too. */
    assert_int_equal(s_add(a, x, g.t0 + 60, 9, 9), 0);
    assert_int_equal(s_add(a, x, g.t0 + 65, 1, 1), 1);
    assert_int_equal(s_add(a, x, g.t0 + 65, 9, 9), 0);
    s_commit_ok(a);
    /* Nothing staged: a no-op. */
    s_commit_ok(a);

    arch_series_t s;
    s_fetch(a, x, g.t0, g.t0 + 120, 60, &s);
    s_near(s_at(&s, g.t0 + 60, C_ARR), 12, "arrivals", g.t0 + 60);
    arch_series_free(&s);
    arch_destroy(&a);
}

static void test_guard_across_restart(void **state)
{
    (void)state;
    const char *x = "200002";
    archive_t *a = s_archive();
    /* Up to 2:05 into the data: the last update is not on a minute. */
    for (int i = 1; i <= 25; i++)
        assert_int_equal(s_add(a, x, g.t0 + 5 * i, 2, 1), 1);
    s_commit_ok(a);
    arch_destroy(&a);

    /* A new collector process: the guard comes back from rrdcached, where
     * the rows are still pending (not yet on disk). */
    a = s_archive();
    assert_int_equal(s_add(a, x, g.t0 + 125, 50, 50), 0);
    assert_int_equal(s_add(a, x, g.t0 + 120, 50, 50), 0);
    assert_int_equal(s_add(a, x, g.t0 + 130, 2, 1), 1);
    s_commit_ok(a);
    arch_destroy(&a);

    /* Again: the re-read above flushed the file, one row is pending. */
    a = s_archive();
    assert_int_equal(s_add(a, x, g.t0 + 130, 50, 50), 0);
    for (int i = 27; i <= 36; i++)
        assert_int_equal(s_add(a, x, g.t0 + 5 * i, 2, 1), 1);
    s_commit_ok(a);
    arch_destroy(&a);

    a = s_archive();
    assert_int_equal(s_add(a, x, g.t0 + 600, 2, 1), 1);   /* far past the last update */
    assert_int_equal(s_add(a, x, g.t0 + 600, 50, 50), 0);
    s_commit_ok(a);

    /* Every minute counted once: nothing re-sent was archived twice. */
    arch_series_t s;
    s_fetch(a, x, g.t0, g.t0 + 180, 60, &s);
    for (int m = 1; m <= 3; m++) {
        s_near(s_at(&s, g.t0 + 60 * m, C_ARR), 24, "arrivals", g.t0 + 60 * m);
        s_near(s_at(&s, g.t0 + 60 * m, C_DEP), 12, "departures", g.t0 + 60 * m);
    }
    arch_series_free(&s);
    arch_destroy(&a);
}


/* arch_commit in two halves: the next batch is staged while rrdcached
 * applies one; the connection's other uses in between (a fetch, a
 * synchronous commit) leave the outcome for arch_commit_wait; a refusal
 * comes back there and the guard is re-read. */
static void test_commit_in_two_halves(void **state)
{
    (void)state;
    const char *x = "400101", *y = "400102", *z = "400103";
    archive_t *a = s_archive();
    char why[256] = "", px[600], py[600], pz[600];
    s_path(px, sizeof px, x, "passenger-standard.rrd");
    s_path(py, sizeof py, y, "passenger-standard.rrd");
    s_path(pz, sizeof pz, z, "passenger-standard.rrd");
    assert_int_equal(arch_commit_send(a, why, sizeof why), 1);   /* nothing staged */
    assert_false(arch_commit_in_flight(a));

    for (int t = 5; t <= 60; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 1), 1);
    assert_int_equal(arch_commit_send(a, why, sizeof why), 0);
    assert_true(arch_commit_in_flight(a));
    /* Staged meanwhile (its file made on the way: the flight's answer is
     * read first and kept). */
    for (int t = 5; t <= 60; t += 5)
        assert_int_equal(s_add(a, y, g.t0 + t, 1, 1), 1);
    int64_t until = tu_mono_ms() + 5000;
    while (!arch_commit_ready(a) && tu_mono_ms() < until)
        usleep(1000);
    assert_true(arch_commit_ready(a));
    assert_int_equal(arch_commit_wait(a, why, sizeof why), 0);
    assert_false(arch_commit_in_flight(a));
    assert_int_equal(arch_commit_wait(a, why, sizeof why), 0);   /* none: nothing to wait for */
    assert_int_equal(arch_commit_send(a, why, sizeof why), 0);

    /* A synchronous commit while one is in flight: both count. */
    assert_int_equal(s_add(a, z, g.t0 + 5, 1, 1), 1);
    s_commit_ok(a);
    assert_int_equal(arch_commit_wait(a, why, sizeof why), 0);
    assert_int_equal(s_last_update(px), g.t0 + 60);
    assert_int_equal(s_last_update(py), g.t0 + 60);
    assert_int_equal(s_last_update(pz), g.t0 + 5);

    /* Someone else writes x ahead: the flight is refused, which a fetch in
     * between does not take from arch_commit_wait. */
    s_write_behind(px, g.t0 + 200);
    for (int t = 65; t <= 300; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 1), 1);
    assert_int_equal(arch_commit_send(a, why, sizeof why), 0);
    arch_series_t sr;
    s_fetch(a, y, g.t0 + 1, g.t0 + 60, 60, &sr);
    arch_series_free(&sr);
    assert_int_equal(arch_commit_wait(a, why, sizeof why), -1);
    assert_non_null(strstr(why, "illegal attempt to update"));
    assert_true(arch_connected(a));
    for (int t = 65; t <= 300; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 1), 0);
    assert_int_equal(s_add(a, x, g.t0 + 305, 1, 1), 1);
    assert_int_equal(arch_commit_send(a, why, sizeof why), 0);
    assert_int_equal(arch_commit_wait(a, why, sizeof why), 0);
    assert_int_equal(s_last_update(px), g.t0 + 305);
    arch_destroy(&a);
}

/* Several batches in flight at once (ARCH_FLIGHTS_MAX): their outcomes
 * come back oldest first; a refused one in the middle fails alone; a
 * fetch while they are owed keeps every outcome for arch_commit_wait. */
static void test_flights(void **state)
{
    (void)state;
    enum { N = ARCH_FLIGHTS_MAX };
    const char *ids[N];
    char paths[N][600], why[256] = "";
    static const char *const all[] = { "400201", "400202", "400203", "400204",
                                       "400205", "400206", "400207", "400208" };
    assert_true(N >= 2 && N <= (int)(sizeof all / sizeof *all));
    archive_t *a = s_archive();
    for (int i = 0; i < N; i++) {
        ids[i] = all[i];
        s_path(paths[i], sizeof paths[i], ids[i], "passenger-standard.rrd");
        assert_int_equal(s_add(a, ids[i], g.t0 + 5, 1, 1), 1);
        s_commit_ok(a);   /* the files exist */
    }
    s_write_behind(paths[1], g.t0 + 200);   /* the second flight will be refused */
    for (int i = 0; i < N; i++) {
        for (int t = 10; t <= 300; t += 5)
            assert_int_equal(s_add(a, ids[i], g.t0 + t, 1, 1), 1);
        assert_int_equal(arch_commit_send(a, why, sizeof why), 0);
        assert_int_equal(arch_commit_in_flight(a), (size_t)i + 1);
    }
    arch_series_t sr;
    s_fetch(a, ids[0], g.t0 + 1, g.t0 + 60, 60, &sr);   /* reads every outcome first */
    arch_series_free(&sr);
    for (int i = 0; i < N; i++) {
        int64_t until = tu_mono_ms() + 5000;
        while (!arch_commit_ready(a) && tu_mono_ms() < until)
            usleep(1000);
        assert_true(arch_commit_ready(a));
        int rc = arch_commit_wait(a, why, sizeof why);
        if (i == 1) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(why, "illegal attempt to update"));
        } else {
            if (rc != 0)
                fail_msg("flight %d: %s", i, why);
        }
        assert_int_equal(arch_commit_in_flight(a), (size_t)(N - i - 1));
    }
    assert_true(arch_connected(a));
    /* The refused flight's rows after the other writer's went in: a batch
     * is not all or nothing, which is why its guard is re-read. */
    for (int i = 0; i < N; i++)
        assert_int_equal(s_last_update(paths[i]), g.t0 + 300);

    /* Without anything in between: sent back to back, answered in turn. */
    for (int i = 0; i < N; i++) {
        for (int t = 305; t <= 400; t += 5)
            assert_int_equal(s_add(a, ids[i], g.t0 + t, 1, 1), 1);
        assert_int_equal(arch_commit_send(a, why, sizeof why), 0);
    }
    for (int i = 0; i < N; i++)
        if (arch_commit_wait(a, why, sizeof why) != 0)
            fail_msg("flight %d again: %s", i, why);
    for (int i = 0; i < N; i++)
        assert_int_equal(s_last_update(paths[i]), g.t0 + 400);
    arch_destroy(&a);
}

/* Minutes 0..4 of 5-s rows; per-row values are known functions of i. */
static uint32_t s_arr(int i) { return (uint32_t)((i * 7) % 11); }
static uint32_t s_dep(int i) { return (uint32_t)((i * 3) % 5); }
static uint32_t s_lanes(int m) { return m < 3 ? 2 : 3; }
static double s_queue(int i, int m) { return m == 3 ? NAN : (double)i; }
static double s_wait(int m) { return m == 4 ? NAN : 10.0 * (m + 1); }

static void test_fetch_exact_counts(void **state)
{
    (void)state;
    const char *x = "300001";
    archive_t *a = s_archive();
    for (int i = 0; i < 60; i++) {
        int m = i / 12;
        arch_queue_row_t r = s_qrow(g.t0 + 5 * (i + 1), s_arr(i), s_dep(i), s_lanes(m),
                                    s_queue(i, m), s_wait(m));
        assert_int_equal(arch_add_queue(a, x, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD,
                                        &r), 1);
        if (i % 17 == 16)   /* several commits, like batches from an agent */
            s_commit_ok(a);
    }
    s_commit_ok(a);

    arch_series_t s;
    s_fetch(a, x, g.t0 - 120, g.t0 + 300, 60, &s);
    assert_int_equal(s.step, 60);
    double total_arr = 0, total_dep = 0;
    for (int m = 0; m < 5; m++) {
        double arr = 0, dep = 0, q = 0;
        for (int i = 12 * m; i < 12 * (m + 1); i++) {
            arr += s_arr(i);
            dep += s_dep(i);
            q += s_queue(i, m);
        }
        total_arr += arr;
        total_dep += dep;
        int64_t end = g.t0 + 60 * (m + 1);
        s_near(s_at(&s, end, C_ARR), arr, "arrivals", end);
        s_near(s_at(&s, end, C_DEP), dep, "departures", end);
        s_near(s_at(&s, end, C_LANES), s_lanes(m), "lanes_open", end);
        s_near(s_at(&s, end, C_QUEUE), m == 3 ? NAN : q / 12, "queue", end);
        s_near(s_at(&s, end, C_WAIT), s_wait(m), "wait_s", end);
    }
    /* Before the file was created: unknown. */
    s_near(s_at(&s, g.t0, C_ARR), NAN, "arrivals before the data", g.t0);
    arch_series_free(&s);

    /* A coarser step is consolidated: counts add up, gauges average. */
    s_fetch(a, x, g.t0 + 1, g.t0 + 300, 300, &s);
    assert_int_equal(s.step, 300);
    s_near(s_at(&s, g.t0 + 300, C_ARR), total_arr, "arrivals per 5 min", g.t0 + 300);
    s_near(s_at(&s, g.t0 + 300, C_DEP), total_dep, "departures per 5 min", g.t0 + 300);
    s_near(s_at(&s, g.t0 + 300, C_LANES), 2.4, "lanes_open per 5 min", g.t0 + 300);
    arch_series_free(&s);
    arch_destroy(&a);
}

static void test_commit_refused_then_resync(void **state)
{
    (void)state;
    const char *x = "400001";
    archive_t *a = s_archive();
    assert_int_equal(s_add(a, x, g.t0 + 60, 1, 1), 1);
    s_commit_ok(a);

    /* Someone else writes the file behind the archive's back. */
    char p[600];
    s_path(p, sizeof p, x, "passenger-standard.rrd");
    s_write_behind(p, g.t0 + 200);

    for (int t = 65; t <= 300; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 1), 1);
    char why[256] = "";
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    assert_non_null(strstr(why, "illegal attempt to update"));
    assert_true(arch_connected(a));

    /* Rows 205..300 were accepted, the rest refused: the guard is re-read
     * and nothing is sent twice. */
    for (int t = 65; t <= 300; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 1), 0);
    assert_int_equal(s_add(a, x, g.t0 + 305, 1, 1), 1);
    s_commit_ok(a);
    assert_int_equal(s_last_update(p), g.t0 + 305);

    /* A file deleted under the archive: the UPDATE is refused, then the
     * file is created again on next use. */
    assert_int_equal(s_add(a, "400002", g.t0 + 5, 1, 1), 1);
    s_path(p, sizeof p, "400002", "passenger-standard.rrd");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    assert_non_null(strstr(why, "No such file"));
    assert_int_equal(s_add(a, "400002", g.t0 + 5, 1, 1), 1);
    s_commit_ok(a);
    assert_int_equal(s_last_update(p), g.t0 + 5);

    /* Aborted rows were never sent: they can be staged again. */
    assert_int_equal(s_add(a, "400002", g.t0 + 10, 1, 1), 1);
    arch_abort(a);
    assert_int_equal(s_add(a, "400002", g.t0 + 10, 1, 1), 1);
    s_commit_ok(a);
    assert_int_equal(s_last_update(p), g.t0 + 10);
    arch_destroy(&a);
}

static void test_rrdcached_killed_and_restarted(void **state)
{
    (void)state;
    const char *x = "500001";
    archive_t *a = s_archive();
    for (int t = 5; t <= 60; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    /* rrdcached runs without a journal, so a SIGKILL loses what it had not
     * written (docs/archive.md). Put these on disk so the counts below are
     * exact. */
    char p[600];
    s_path(p, sizeof p, x, "passenger-standard.rrd");
    assert_int_equal(s_last_update(p), g.t0 + 60);

    s_kill_rrdcached();
    /* A known file stages without asking rrdcached; the commit fails. */
    for (int t = 65; t <= 120; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 2), 1);
    char why[256] = "";
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    assert_true(strlen(why) > 0);
    assert_false(arch_connected(a));
    /* A file not seen yet cannot be asked about. */
    assert_int_equal(s_add(a, "500002", g.t0 + 5, 1, 1), -1);
    assert_int_equal(arch_commit(a, why, sizeof why), 0);   /* nothing staged */

    /* rrdcached comes back; the same rows go through once. */
    s_restart_rrdcached();
    for (int t = 65; t <= 120; t += 5)
        assert_int_equal(s_add(a, x, g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    assert_true(arch_connected(a));
    assert_int_equal(s_add(a, "500002", g.t0 + 5, 1, 1), 1);
    s_commit_ok(a);

    arch_series_t s;
    s_fetch(a, x, g.t0, g.t0 + 120, 60, &s);
    s_near(s_at(&s, g.t0 + 60, C_ARR), 12, "arrivals before the kill", g.t0 + 60);
    s_near(s_at(&s, g.t0 + 120, C_ARR), 12, "arrivals after the restart", g.t0 + 120);
    s_near(s_at(&s, g.t0 + 120, C_DEP), 24, "departures after the restart", g.t0 + 120);
    arch_series_free(&s);
    arch_destroy(&a);
}

/* Official rows go to official-<mode>-<type>.rrd beside the measured file,
 * come back through arch_fetch_official, and /v1/history puts them beside
 * the measured columns row by row. */
static void test_official_series(void **state)
{
    (void)state;
    archive_t *a = s_archive();
    int64_t t = g.t0 + 300;
    for (int i = 0; i < 5; i++) {
        arch_official_row_t r = { .t_s = t + 60 * i, .wait_s = 600, .lanes_open = 3,
                                  .updated_s = (double)(t - 120), .age_s = 120 + 60 * i };
        assert_int_equal(arch_add_official(a, "070801", TAX_SOUTHBOUND, TAX_PASSENGER,
                                           TAX_STANDARD, &r), 1);
        /* the time guard holds as for every file */
        assert_int_equal(arch_add_official(a, "070801", TAX_SOUTHBOUND, TAX_PASSENGER,
                                           TAX_STANDARD, &r), 0);
    }
    s_commit_ok(a);
    char p[600];
    snprintf(p, sizeof p, "%s/070801/southbound/official-passenger-standard.rrd", g.root);
    assert_int_equal(s_last_update(p), t + 240);
    arch_series_t s;
    char why[256];
    assert_int_equal(arch_fetch_official(a, "070801", TAX_SOUTHBOUND, TAX_PASSENGER,
                                         TAX_STANDARD, t - 60, t + 240, 60, &s, why,
                                         sizeof why), 0);
    int64_t end = t + 240 - (t + 240) % 60;
    int64_t k = (end - s.start) / s.step - 1;
    assert_true(k >= 0 && (size_t)k < s.nrows);
    assert_true(fabs(s.values[(size_t)k * ARCH_OFF_NCOLS + 0] - 600.0) < 1e-6);
    assert_true(fabs(s.values[(size_t)k * ARCH_OFF_NCOLS + 1] - 3.0) < 1e-6);
    arch_series_free(&s);
    assert_int_equal(arch_fetch_official(a, "070801", TAX_NORTHBOUND, TAX_PASSENGER,
                                         TAX_STANDARD, t - 60, t + 240, 60, &s, why,
                                         sizeof why), 1);
    arch_destroy(&a);
}

static void test_hung_rrdcached_times_out(void **state)
{
    (void)state;
    const char *x = "600001";
    archive_t *a = s_archive();
    assert_int_equal(s_add(a, x, g.t0 + 5, 1, 1), 1);
    s_commit_ok(a);

    s_stop_rrdcached_threads();
    assert_int_equal(s_add(a, x, g.t0 + 10, 1, 1), 1);
    int64_t t = tu_mono_ms();
    char why[256] = "";
    int rc = arch_commit(a, why, sizeof why);
    int64_t took = tu_mono_ms() - t;
    kill(g.pid, SIGCONT);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(why, "timed out"));
    assert_in_range(took, 4000, 8000);

    /* rrdcached may have taken the row before it stopped or not: after the
     * re-read it is either skipped or sent, never refused. */
    assert_in_range(s_add(a, x, g.t0 + 10, 1, 1), 0, 1);
    assert_int_equal(s_add(a, x, g.t0 + 15, 1, 1), 1);
    s_commit_ok(a);
    assert_true(arch_connected(a));
    arch_destroy(&a);
}

/* What the collector does when the archive's generation changes: every
 * session rolls back to its durable point and its agent resends from
 * there. Here: rows (t0, t0 + to] of each crossing, nothing durable yet. */
static void s_resend_since_durable(archive_t *a, const char *const *xs, size_t n, int to)
{
    /* An agent sends again until acknowledged: the first exchange on a
     * connection to a dead rrdcached fails, the next one reconnects. */
    char why[256] = "";
    for (int attempt = 0; attempt < 3; attempt++) {
        bool staged = true;
        for (size_t k = 0; k < n && staged; k++)
            for (int t = 5; t <= to && staged; t += 5)
                staged = s_add(a, xs[k], g.t0 + t, 1, 2) >= 0;
        if (!staged) {
            arch_abort(a);
            continue;
        }
        if (arch_commit(a, why, sizeof why) == 0)
            return;
    }
    fail_msg("resend not accepted: %s / %s", why, arch_last_error(a));
}

static void s_assert_minutes(archive_t *a, const char *x, int minutes)
{
    arch_series_t s;
    s_fetch(a, x, g.t0, g.t0 + 60 * minutes, 60, &s);
    for (int m = 1; m <= minutes; m++) {
        s_near(s_at(&s, g.t0 + 60 * m, C_ARR), 12, x, g.t0 + 60 * m);
        s_near(s_at(&s, g.t0 + 60 * m, C_DEP), 24, x, g.t0 + 60 * m);
    }
    arch_series_free(&s);
}

/* rrdcached killed after accepting rows and before a sync, then restarted:
 * the killed process had them only in memory and in a stdio buffer, so they
 * are gone. A sync on the new rrdcached must not report them durable (the
 * collector would release the agents' spools), even when the file's guard
 * was forgotten by a commit that failed on the dead connection. */
static void test_sync_after_restart_not_durable(void **state)
{
    (void)state;
    const char *xs[] = { "700001" };
    archive_t *a = s_archive();
    for (int t = 5; t <= 60; t += 5)
        assert_int_equal(s_add(a, xs[0], g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    uint64_t gen = arch_generation(a);

    s_kill_rrdcached();
    for (int t = 65; t <= 120; t += 5)
        assert_int_equal(s_add(a, xs[0], g.t0 + t, 1, 2), 1);
    char why[256] = "";
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    s_restart_rrdcached();

    char p[600];
    s_path(p, sizeof p, xs[0], "passenger-standard.rrd");
    int rc = arch_sync(a, why, sizeof why);
    int64_t on_disk = s_last_update(p);
    if (rc == 0 && on_disk < g.t0 + 60)
        fail_msg("arch_sync reported rows through %lld durable, the file has %lld",
                 (long long)(g.t0 + 60), (long long)on_disk);
    assert_true(arch_generation(a) != gen);

    s_resend_since_durable(a, xs, 1, 120);
    assert_int_equal(arch_sync(a, why, sizeof why), 0);
    s_assert_minutes(a, xs[0], 2);
    arch_destroy(&a);
}

/* The same kill with two files: the commit that fails on the dead
 * connection forgets only its own file's guard. The next commit, for the
 * other file, reconnects; it must not go out under that file's stale guard
 * (the time of rows the new rrdcached never had), or the rows newer than
 * the loss get in first and the resent lost rows are then skipped as
 * "already archived". */
static void test_no_stale_guard_after_restart(void **state)
{
    (void)state;
    const char *xs[] = { "700002", "700003" };
    archive_t *a = s_archive();
    for (size_t k = 0; k < 2; k++)
        for (int t = 5; t <= 60; t += 5)
            assert_int_equal(s_add(a, xs[k], g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    uint64_t gen = arch_generation(a);

    s_kill_rrdcached();
    for (int t = 65; t <= 120; t += 5)
        assert_int_equal(s_add(a, xs[0], g.t0 + t, 1, 2), 1);
    char why[256] = "";
    assert_int_equal(arch_commit(a, why, sizeof why), -1);
    s_restart_rrdcached();

    /* The other agent's next batch, then whatever the collector does when
     * the generation moved (the commit's result decides the ack only). */
    bool staged = true;
    for (int t = 65; t <= 120 && staged; t += 5)
        staged = s_add(a, xs[1], g.t0 + t, 1, 2) >= 0;
    if (staged)
        (void)arch_commit(a, why, sizeof why);
    else
        arch_abort(a);
    assert_true(arch_generation(a) != gen);
    s_resend_since_durable(a, xs, 2, 120);
    assert_int_equal(arch_sync(a, why, sizeof why), 0);
    s_assert_minutes(a, xs[0], 2);
    s_assert_minutes(a, xs[1], 2);
    arch_destroy(&a);
}

/* ---- the pipelined sync ----------------------------------------------------------- */

typedef struct {
    bool done;
    int rc;
    char why[400];
} synced_t;

static void s_synced(void *arg, int rc, const char *why)
{
    synced_t *r = arg;
    assert_false(r->done);   /* once per sync */
    r->done = true;
    r->rc = rc;
    snprintf(r->why, sizeof r->why, "%s", why);
}

/* Start a pipelined sync; with more, commit one row of `more` while it runs.
 * The result as arch_sync's: 0 all durable, -1 not. */
static int s_pipelined_sync(archive_t *a, struct event_base *base, const char *more, int64_t t)
{
    synced_t r = { 0 };
    char why[400] = "";
    int rc = arch_sync_start(a, base, s_synced, &r, why, sizeof why);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    assert_true(arch_sync_running(a));
    assert_int_equal(arch_sync_start(a, base, s_synced, &r, why, sizeof why), -1);
    if (more) {
        assert_int_equal(s_add(a, more, t, 1, 2), 1);
        s_commit_ok(a);
    }
    int64_t deadline = tu_mono_ms() + 30000;
    while (!r.done && tu_mono_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(r.done);
    assert_false(arch_sync_running(a));
    return r.rc;
}

static void test_pipelined_sync(void **state)
{
    (void)state;
    const char *xs[] = { "710001", "710002", "710003", "710004", "710005" };
    struct event_base *base = event_base_new();
    assert_non_null(base);
    archive_t *a = s_archive();
    for (size_t k = 0; k < 5; k++)
        for (int t = 5; t <= 60; t += 5)
            assert_int_equal(s_add(a, xs[k], g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    assert_int_equal(arch_pending_sync(a), 5);
    /* A row committed while the sync runs waits for the next one. */
    assert_int_equal(s_pipelined_sync(a, base, xs[0], g.t0 + 65), 0);
    assert_int_equal(arch_pending_sync(a), 1);
    char p[600];
    s_path(p, sizeof p, xs[3], "passenger-standard.rrd");
    /* On disk without a flush of ours: rrdtool reads the file itself. */
    char cmd[900];
    snprintf(cmd, sizeof cmd, "rrdtool lastupdate %s | tail -1 | cut -d: -f1 > %s/last.txt", p,
             g.dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/last.txt", g.dir);
    FILE *f = fopen(cmd, "r");
    assert_non_null(f);
    long long last = 0;
    assert_int_equal(fscanf(f, "%lld", &last), 1);
    fclose(f);
    assert_int_equal(last, g.t0 + 60);
    assert_int_equal(s_pipelined_sync(a, base, NULL, 0), 0);
    assert_int_equal(arch_pending_sync(a), 0);
    assert_int_equal(s_pipelined_sync(a, base, NULL, 0), 0);   /* nothing to do */
    arch_destroy(&a);
    event_base_free(base);
}

/* The sync reads files' last update itself (rrdhead): it must agree with
 * rrdcached's own reading on both profiles' layouts, and say which files
 * it cannot read rather than invent a time. */
static void test_rrdhead_reads_last_update(void **state)
{
    (void)state;
    const enum arch_profile profiles[] = { ARCH_COMPACT, ARCH_FULL };
    const char *xs[] = { "730001", "730002" };
    char p[600], why[120];
    int64_t t;
    for (int k = 0; k < 2; k++) {
        archive_t *a = arch_new(g.sock, g.root, profiles[k]);
        assert_non_null(a);
        assert_int_equal(s_add(a, xs[k], g.t0 + 60, 1, 1), 1);
        assert_int_equal(s_add(a, xs[k], g.t0 + 125, 1, 1), 1);
        s_commit_ok(a);
        s_path(p, sizeof p, xs[k], "passenger-standard.rrd");
        int64_t want = s_last_update(p);   /* flushed, read by rrdcached */
        assert_int_equal(want, g.t0 + 125);
        assert_int_equal(rrdhead_last_update_ms(p, &t, why, sizeof why), 0);
        assert_int_equal(t, want * 1000);
        arch_destroy(&a);
    }
    snprintf(p, sizeof p, "%s/not-an-rrd", g.dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 0; i < 64; i++)
        fputs("0123456789abcdef", f);
    fclose(f);
    assert_int_equal(rrdhead_last_update_ms(p, &t, why, sizeof why), -2);
    assert_string_equal(why, "no RRD cookie");
    snprintf(p, sizeof p, "%s/missing.rrd", g.dir);
    assert_int_equal(rrdhead_last_update_ms(p, &t, why, sizeof why), -1);
}

/* rrdcached killed and restarted between the commit and the sync, its
 * connections (the archive's and the sync's) still open to the dead
 * process: no pipelined sync reports the lost rows durable, the generation
 * moves, and after the resend everything is there once. */
static void test_pipelined_sync_after_restart(void **state)
{
    (void)state;
    const char *xs[] = { "720001", "720002" };
    struct event_base *base = event_base_new();
    assert_non_null(base);
    archive_t *a = s_archive();
    for (size_t k = 0; k < 2; k++)
        assert_int_equal(s_add(a, xs[k], g.t0 + 5, 1, 2), 1);
    s_commit_ok(a);
    assert_int_equal(s_pipelined_sync(a, base, NULL, 0), 0);   /* the pipes are connected */
    for (size_t k = 0; k < 2; k++)
        for (int t = 10; t <= 60; t += 5)
            assert_int_equal(s_add(a, xs[k], g.t0 + t, 1, 2), 1);
    s_commit_ok(a);
    uint64_t gen = arch_generation(a);

    s_kill_rrdcached();
    s_restart_rrdcached();
    char p[600];
    for (int i = 0; i < 4 && arch_generation(a) == gen; i++) {
        int rc = s_pipelined_sync(a, base, NULL, 0);
        s_path(p, sizeof p, xs[0], "passenger-standard.rrd");
        int64_t on_disk = s_last_update(p);
        if (rc == 0 && on_disk < g.t0 + 60)
            fail_msg("a pipelined sync reported rows through %lld durable, the file has %lld",
                     (long long)(g.t0 + 60), (long long)on_disk);
    }
    assert_true(arch_generation(a) != gen);
    s_resend_since_durable(a, xs, 2, 120);
    assert_int_equal(s_pipelined_sync(a, base, NULL, 0), 0);
    s_assert_minutes(a, xs[0], 1);
    s_assert_minutes(a, xs[1], 1);
    arch_destroy(&a);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_create),
        cmocka_unit_test(test_full_profile_layout),
        cmocka_unit_test(test_guard_in_process),
        cmocka_unit_test(test_guard_across_restart),
        cmocka_unit_test(test_fetch_exact_counts),
        cmocka_unit_test(test_commit_refused_then_resync),
        cmocka_unit_test(test_commit_in_two_halves),
        cmocka_unit_test(test_flights),
        cmocka_unit_test(test_rrdcached_killed_and_restarted),
        cmocka_unit_test(test_official_series),
        cmocka_unit_test(test_hung_rrdcached_times_out),
        cmocka_unit_test(test_sync_after_restart_not_durable),
        cmocka_unit_test(test_no_stale_guard_after_restart),
        cmocka_unit_test(test_pipelined_sync),
        cmocka_unit_test(test_rrdhead_reads_last_update),
        cmocka_unit_test(test_pipelined_sync_after_restart),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
