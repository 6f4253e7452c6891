/* test_archive_reader — series read on a thread and handed to the loop, with
 * a real rrdcached in a temporary directory: every request answered in
 * order (read, no file), the loop's timers keep running while it reads,
 * done once; an unreachable rrdcached ends it as failed; destroyed
 * half-way, nothing leaks (ASan) and no callback comes after. */
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
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "archive.h"
#include "archive_reader.h"
#include "log.h"
#include "proc.h"
#include "timeutil.h"

#define S_FILES 12
/* The requests go round the files this often: long enough a load (some
 * 400 reads, tens of ms) that the loop's 1-ms timer must tick during it
 * on any machine, unless the reader holds the loop. */
#define S_ROUNDS 30

static struct {
    char *dir;
    char root[512];
    char sock[512];
    pid_t pid;
    int64_t t0;         /* a whole hour, two hours ago */
} g;

typedef struct {
    struct event_base *base;
    struct event *tick;
    int ticks;          /* the loop's timer, while reading */
    int answered, read, missing, failed;
    size_t last_tag;
    bool in_order;
    double arrivals[S_FILES + 2];
    int done;
    bool done_failed;
} s_seen_t;

static int s_group_setup(void **state)
{
    (void)state;
    log_init("test_archive_reader", LOG_LVL_WARN);
    signal(SIGPIPE, SIG_IGN);
    g.dir = proc_tmpdir();
    if (!g.dir)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/archive", g.dir);
    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    if (g.pid < 0)
        return -1;
    int64_t now = tu_now_ms() / 1000;
    g.t0 = now - now % 3600 - 7200;
    /* Queue files 0..S_FILES-1, file k with k+1 arrivals a minute for an hour. */
    archive_t *a = arch_new(g.sock, g.root, ARCH_COMPACT);
    if (!a)
        return -1;
    char why[256], id[8];
    for (int k = 0; k < S_FILES; k++) {
        snprintf(id, sizeof id, "2504%02d", k);
        for (int m = 1; m <= 60; m++) {
            arch_queue_row_t r = { .t_ms = (g.t0 + m * 60) * 1000, .interval_ms = 60000,
                                   .arrivals = (uint32_t)k + 1, .departures = 1, .lanes_open = 1,
                                   .queue = 1, .wait_s = 60 };
            if (arch_add_queue(a, id, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, &r) < 0)
                return -1;
        }
        if (arch_commit(a, why, sizeof why) != 0)
            return -1;
    }
    int rc = arch_sync(a, why, sizeof why);
    arch_destroy(&a);
    return rc;
}

static int s_group_teardown(void **state)
{
    (void)state;
    if (g.pid > 0)
        proc_stop(g.pid, 10000);
    if (g.dir)
        proc_rm_rf(g.dir);
    free(g.dir);
    return 0;
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ((s_seen_t *)arg)->ticks++;
}

static void s_on_read(void *arg, const arch_read_t *q, int rc, arch_series_t *s, const char *why)
{
    (void)why;
    s_seen_t *v = arg;
    v->in_order = v->in_order && (v->answered == 0 || q->tag == v->last_tag + 1);
    v->last_tag = q->tag;
    v->answered++;
    if (rc == 0) {
        v->read++;
        double sum = 0;
        for (size_t r = 0; r < s->nrows; r++)
            if (!isnan(s->values[r * ARCH_NCOLS + 1]))
                sum += s->values[r * ARCH_NCOLS + 1];
        v->arrivals[q->tag % (S_FILES + 1)] = sum;
        arch_series_free(s);
    } else if (rc == 1) {
        v->missing++;
    } else {
        v->failed++;
    }
}

static void s_on_done(void *arg, bool failed)
{
    s_seen_t *v = arg;
    v->done++;
    v->done_failed = failed;
    event_base_loopbreak(v->base);
}

/* Requests: S_ROUNDS times the S_FILES files and one with no file;
 * tags in order. */
static size_t s_reqs(arch_read_t *reqs)
{
    size_t n = 0;
    for (int r = 0; r < S_ROUNDS; r++)
        for (int k = 0; k <= S_FILES; k++, n++) {
            snprintf(reqs[n].crossing, sizeof reqs[n].crossing, "2504%02d", k);
            reqs[n].dir = TAX_NORTHBOUND;
            reqs[n].mode = TAX_PASSENGER;
            reqs[n].type = TAX_STANDARD;
            reqs[n].tag = n;
        }
    return n;
}

static void s_loop_start(s_seen_t *v)
{
    memset(v, 0, sizeof *v);
    v->in_order = true;
    v->base = event_base_new();
    assert_non_null(v->base);
    v->tick = event_new(v->base, -1, EV_PERSIST, s_on_tick, v);
    struct timeval ms = { 0, 1000 };
    assert_int_equal(event_add(v->tick, &ms), 0);
}

static void s_loop_end(s_seen_t *v)
{
    event_free(v->tick);
    event_base_free(v->base);
}

/* A loop with its 1-ms timer, and a reader of every request on it. */
static arch_reader_t *s_reader_start(archive_t *a, s_seen_t *v)
{
    s_loop_start(v);
    static arch_read_t reqs[S_ROUNDS * (S_FILES + 1)];
    size_t n = s_reqs(reqs);
    arch_reader_t *r = arch_reader_new(v->base, a, reqs, n, g.t0, g.t0 + 3600, 0, s_on_read,
                                       s_on_done, v);
    assert_non_null(r);
    return r;
}

/* Run the loop until done breaks it (at most 20 s). */
static void s_run_until_done(s_seen_t *v)
{
    struct timeval limit = { 20, 0 };
    event_base_loopexit(v->base, &limit);
    event_base_dispatch(v->base);
}

static void test_reads_in_order_beside_the_loop(void **state)
{
    (void)state;
    archive_t *a = arch_new(g.sock, g.root, ARCH_COMPACT);
    assert_non_null(a);
    s_seen_t v;
    arch_reader_t *r = s_reader_start(a, &v);
    s_run_until_done(&v);
    assert_int_equal(v.done, 1);
    assert_false(v.done_failed);
    assert_true(arch_reader_finished(r));
    assert_int_equal(v.answered, S_ROUNDS * (S_FILES + 1));
    assert_true(v.in_order);
    assert_int_equal(v.read, S_ROUNDS * S_FILES);
    assert_int_equal(v.missing, S_ROUNDS);
    assert_int_equal(v.failed, 0);
    for (int k = 0; k < S_FILES; k++)
        assert_float_equal(v.arrivals[k], 60.0 * (k + 1), 1e-6);
    assert_true(v.ticks > 0);
    arch_reader_destroy(&r);
    assert_null(r);
    s_loop_end(&v);
    arch_destroy(&a);
}

static void test_unreachable_rrdcached_fails(void **state)
{
    (void)state;
    char nowhere[600];
    snprintf(nowhere, sizeof nowhere, "%s/no-such.sock", g.dir);
    archive_t *a = arch_new(nowhere, g.root, ARCH_COMPACT);
    assert_non_null(a);
    s_seen_t v;
    arch_reader_t *r = s_reader_start(a, &v);
    s_run_until_done(&v);
    assert_int_equal(v.done, 1);
    assert_true(v.done_failed);
    assert_int_equal(v.read, 0);
    assert_int_equal(v.failed, 1);      /* it stops at the first failure */
    arch_reader_destroy(&r);
    s_loop_end(&v);
    arch_destroy(&a);
}

static void test_destroyed_half_way(void **state)
{
    (void)state;
    archive_t *a = arch_new(g.sock, g.root, ARCH_COMPACT);
    assert_non_null(a);
    s_seen_t v;
    arch_reader_t *r = s_reader_start(a, &v);
    /* Let the thread fill its queue ahead of a loop that does not run. */
    usleep(300 * 1000);
    arch_reader_destroy(&r);
    struct timeval a_bit = { 0, 100 * 1000 };
    event_base_loopexit(v.base, &a_bit);
    event_base_dispatch(v.base);
    assert_int_equal(v.answered, 0);
    assert_int_equal(v.done, 0);
    s_loop_end(&v);
    arch_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_in_order_beside_the_loop),
        cmocka_unit_test(test_unreachable_rrdcached_fails),
        cmocka_unit_test(test_destroyed_half_way),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
