/* test_ingest — the collector's judgement of batches against a real
 * rrdcached when rrdcached loses rows it had accepted.
 *
 * The case the fault suite met by chance (test_fault, rrdcached killed):
 * rrdcached dies after accepting a batch that is not yet durable, the next
 * batch is refused while it is away, and when it is back the same next
 * batch is staged first — its staging opens the new connection. If that
 * batch were committed, its rows would sit in the archive after the lost
 * ones, the rollback that follows would have the agent resend the lost
 * rows, and the time guard would skip them as old: a hole, for ever. Here
 * rrdcached runs without a journal (tests/lib/proc.c), so the loss is certain,
 * and an agent is emulated exactly (send acked + 1 until acknowledged).
 * Three things must hold: the batch staged across the restart is not
 * committed, the resent rows the state had already counted still reach the
 * archive, and the resent batch is handed on marked as a resend. TEST_DEBUG=1 logs the collector's side; POE_KEEP_TMP=1 keeps
 * the archive. */
#include <math.h>
#include <pthread.h>
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
#include <zmq.h>

#include "archive.h"
#include "ingest.h"
#include "ingest_int.h"
#include "log.h"
#include "proc.h"
#include "rrdcc.h"
#include "registry.h"
#include "state.h"
#include "stats.h"
#include "timeutil.h"
#include "wire.h"

#define CROSSING "250401"
#define EPOCH 7

static struct {
    char *dir;
    char root[512], sock[512];
    pid_t pid;
    int64_t t0;                  /* a whole hour, two hours ago */
    registry_t *reg;
    state_t *state;
    stats_t stats;
    archive_t *archive;
    struct event_base *base;
    void *zctx;
    ingest_t *ingest;
} g;

/* What the collector's other consumers (hours learned, the upstream) were
 * handed: batches fresh and batches resent. */
static int s_fresh, s_resent;

static void s_on_batch(void *arg, const Poenet__Batch *b, const wire_mask_t *valid_q,
                       const wire_mask_t *valid_l, bool resent)
{
    (void)arg;
    (void)b;
    (void)valid_q;
    (void)valid_l;
    if (resent)
        s_resent++;
    else
        s_fresh++;
}

/* The crossings of the tests below: the one of the restart test, the
 * agents of the group test, and MANY_AGENTS more. */
#define MANY_AGENTS 200
#define MANY_FIRST 910000
static const char *const s_named[] = { CROSSING, "300401", "300402", "090101" };

static int s_write_registry(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t nnamed = sizeof s_named / sizeof *s_named;
    fprintf(f, "crossings = (\n");
    for (size_t i = 0; i < nnamed + MANY_AGENTS; i++) {
        char id[16];
        if (i < nnamed)
            snprintf(id, sizeof id, "%s", s_named[i]);
        else
            snprintf(id, sizeof id, "%zu", MANY_FIRST + i - nnamed);
        fprintf(f,
                "  { id = \"%s\"; bwt_id = \"01%s\"; border = \"CA\"; name = \"Test %s\";\n"
                "    us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
                "    max_lanes = { passenger = 16; pedestrian = 16; commercial = 16; }; }%s\n",
                id, id, id, i + 1 < nnamed + MANY_AGENTS ? "," : "");
    }
    fprintf(f, ");\n");
    return fclose(f) == 0 ? 0 : -1;
}

static int s_setup(void **state)
{
    (void)state;
    log_init("test_ingest", getenv("TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
    signal(SIGPIPE, SIG_IGN);
    g.dir = proc_tmpdir();
    if (!g.dir)
        return -1;
    snprintf(g.root, sizeof g.root, "%s/archive", g.dir);
    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    int nbad = 0;
    char reg[600];
    snprintf(reg, sizeof reg, "%s/registry.conf", g.dir);
    if (s_write_registry(reg) != 0)
        return -1;
    g.reg = reg_load(reg, &nbad);
    if (g.pid < 0 || !g.reg)
        return -1;
    g.state = state_new(g.reg);
    g.archive = arch_new(g.sock, g.root, ARCH_COMPACT);
    g.base = event_base_new();
    g.zctx = zmq_ctx_new();
    if (!g.state || !g.archive || !g.base || !g.zctx)
        return -1;
    /* The periodic sync is made rare: the test syncs when it means to. */
    ingest_ctx_t ctx = { .state = g.state, .archive = g.archive, .registry = g.reg,
                         .stats = &g.stats, .max_skew_ms = 60000, .sync_ms = 3600000,
                         .on_batch = s_on_batch };
    g.ingest = ingest_new(g.base, g.zctx, "inproc://test-ingest", &ctx);
    int64_t now = tu_now_ms() / 1000;
    g.t0 = now - now % 3600 - 7200;
    return g.ingest ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    ingest_destroy(&g.ingest);
    if (g.zctx)
        zmq_ctx_term(g.zctx);
    if (g.base)
        event_base_free(g.base);
    arch_destroy(&g.archive);
    state_destroy(&g.state);
    reg_destroy(&g.reg);
    if (g.pid > 0)
        proc_stop(g.pid, 10000);
    if (g.dir && getenv("POE_KEEP_TMP"))
        fprintf(stderr, "test_ingest: keeping %s\n", g.dir);
    else if (g.dir)
        proc_rm_rf(g.dir);
    free(g.dir);
    return 0;
}

/* Batch seq of a crossing carries minute seq of data: twelve 5-s samples
 * of 1 arrival and 2 departures each. */
static uint8_t *s_batch_of(const char *crossing, uint64_t seq, size_t *len)
{
    wire_batch_t *b = wire_batch_new(crossing, TAX_NORTHBOUND, EPOCH, 5000);
    assert_non_null(b);
    for (int k = 1; k <= 12; k++) {
        wire_queue_sample_t q = {
            .t_end_ms = (g.t0 + 60 * ((int64_t)seq - 1) + 5 * k) * 1000,
            .mode = TAX_PASSENGER, .type = TAX_STANDARD,
            .arrivals = 1, .departures = 2, .lanes_open = 1,
        };
        assert_int_equal(wire_batch_add_queue(b, &q), 0);
    }
    uint8_t *buf = wire_batch_pack(b, seq, 0, len);
    wire_batch_destroy(&b);
    assert_non_null(buf);
    return buf;
}

static uint8_t *s_batch(uint64_t seq, size_t *len) { return s_batch_of(CROSSING, seq, len); }

/* Send batch seq; the acknowledged seq in the answer. */
static uint64_t s_send(uint64_t seq)
{
    size_t len = 0, rlen = 0;
    uint8_t *buf = s_batch(seq, &len);
    uint8_t *reply = ingest_handle_frame(g.ingest, buf, len, NULL, tu_now_ms(), &rlen);
    free(buf);
    assert_non_null(reply);
    Poenet__Envelope *env = NULL;
    char why[200];
    assert_int_equal(wire_decode(reply, rlen, &env, why, sizeof why), 0);
    free(reply);
    assert_non_null(env->ack);
    uint64_t acked = env->ack->acked_seq;
    wire_free(&env);
    return acked;
}

/* An agent: send what follows the acknowledged point until through is
 * acknowledged (each answer may roll it back). */
static void s_deliver(uint64_t *acked, uint64_t through)
{
    for (int round = 0; *acked < through && round < 20; round++)
        *acked = s_send(*acked + 1);
    if (*acked < through)
        fail_msg("batch %llu never acknowledged (at %llu)", (unsigned long long)through,
                 (unsigned long long)*acked);
}

static void test_batch_staged_across_restart_is_not_committed(void **state)
{
    (void)state;
    uint64_t acked = 0;
    s_deliver(&acked, 2);
    assert_int_equal(ingest_sync(g.ingest), 0);        /* minutes 1-2 durable */
    s_deliver(&acked, 3);                              /* accepted, not durable */

    assert_int_equal(kill(g.pid, SIGKILL), 0);
    proc_wait_exit(g.pid, 5000, NULL);
    /* No journal (tests/lib/proc.c): minute 3 is lost for sure. */
    assert_int_equal(s_send(4), 3);                    /* refused while away */

    g.pid = proc_start_rrdcached(g.dir, g.sock, sizeof g.sock);
    assert_true(g.pid > 0);
    s_deliver(&acked, 4);
    assert_int_equal(ingest_sync(g.ingest), 0);
    /* Batch 3 came twice; the second time it is known as a resend, so what
     * learns from batches beside the archive sees it once. */
    assert_int_equal(s_fresh, 4);
    assert_int_equal(s_resent, 1);

    arch_series_t s;
    char why[256];
    assert_int_equal(arch_fetch_queue(g.archive, CROSSING, TAX_NORTHBOUND, TAX_PASSENGER,
                                      TAX_STANDARD, g.t0, g.t0 + 240, 60, &s, why, sizeof why),
                     0);
    for (int64_t m = 1; m <= 4; m++) {
        int64_t i = (g.t0 + 60 * m - s.start) / s.step - 1;
        assert_true(i >= 0 && (size_t)i < s.nrows);
        double arr = s.values[(size_t)i * ARCH_NCOLS + 1], dep = s.values[(size_t)i * ARCH_NCOLS + 2];
        if (!(fabs(arr - 12) < 1e-6 && fabs(dep - 24) < 1e-6))
            fail_msg("minute %lld: %g arrivals %g departures, want 12 and 24", (long long)m, arr, dep);
    }
    arch_series_free(&s);
}

/* ---- batches of several agents committed in one rrdcached BATCH ---------------- */

#define NAGENTS 3
static const char *const *const s_agent_x = s_named + 1;

typedef struct {
    uint64_t acked;
    bool error;
} s_ack_t;

/* Each agent i (a DEALER on the collector's socket, crossing id[i]) sends
 * its batch seq[i] (0: none), and then[i] after it when set, before the
 * collector's loop runs, so they arrive in one burst; then the loop runs
 * until every sender has its answers (ack: the last of each). */
static void s_send_burst(void **dealer, const char *const *id, int n, const uint64_t *seq,
                         const uint64_t *then, s_ack_t *ack)
{
    int want = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            uint64_t b = k == 0 ? seq[i] : then ? then[i] : 0;
            if (!b)
                continue;
            size_t len = 0;
            uint8_t *buf = s_batch_of(id[i], b, &len);
            assert_int_equal(zmq_send(dealer[i], buf, len, 0), (int)len);
            free(buf);
            want++;
        }
    }
    int64_t deadline = tu_mono_ms() + 10000;
    for (int got = 0; got < want && tu_mono_ms() < deadline;) {
        event_base_loop(g.base, EVLOOP_NONBLOCK);
        for (int i = 0; i < n; i++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, dealer[i], ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                continue;
            }
            Poenet__Envelope *env = NULL;
            char why[200];
            assert_int_equal(wire_decode(zmq_msg_data(&m), zmq_msg_size(&m), &env, why,
                                         sizeof why), 0);
            assert_non_null(env->ack);
            ack[i].acked = env->ack->acked_seq;
            ack[i].error = env->ack->error && env->ack->error[0];
            wire_free(&env);
            zmq_msg_close(&m);
            got++;
        }
        usleep(1000);
    }
}

static void *s_dealer(void)
{
    void *d = zmq_socket(g.zctx, ZMQ_DEALER);
    assert_non_null(d);
    int linger = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(d, "inproc://test-ingest"), 0);
    return d;
}

/* Make rrdcached refuse the next row of crossing's file: it forgets the
 * file, which is gone ("No such file"). */
static void s_lose_file(const char *crossing)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s/northbound/passenger-standard.rrd", g.root, crossing);
    rrdcc_t *c = rrdcc_new(g.sock, 5000);
    assert_non_null(c);
    rrdcc_reply_t r;
    char line[800];
    snprintf(line, sizeof line, "FORGET %s", path);
    assert_int_equal(rrdcc_command(c, line, &r), 0);
    rrdcc_destroy(&c);
    assert_int_equal(unlink(path), 0);
}

static double s_minute_arrivals(const char *crossing, int64_t minute)
{
    arch_series_t s;
    char why[256];
    assert_int_equal(arch_fetch_queue(g.archive, crossing, TAX_NORTHBOUND, TAX_PASSENGER,
                                      TAX_STANDARD, g.t0, g.t0 + 600, 60, &s, why, sizeof why),
                     0);
    int64_t i = (g.t0 + 60 * minute - s.start) / s.step - 1;
    double v = i >= 0 && (size_t)i < s.nrows ? s.values[(size_t)i * ARCH_NCOLS + 1] : NAN;
    arch_series_free(&s);
    return v;
}

/* Agents' batches that arrive together go to rrdcached together, and count
 * together: one refused row refuses the whole group (no agent's batch is
 * half-committed behind another's failure), the resend brings every one of
 * them once, and two batches of one agent in a burst both count, in order. */
static void test_group_of_agents(void **state)
{
    (void)state;
    void *dealer[NAGENTS];
    for (int i = 0; i < NAGENTS; i++)
        dealer[i] = s_dealer();
    s_ack_t ack[NAGENTS];
    uint64_t one[NAGENTS] = { 1, 1, 1 };
    s_send_burst(dealer, s_agent_x, NAGENTS, one, NULL, ack);
    for (int i = 0; i < NAGENTS; i++)
        assert_true(ack[i].acked == 1 && !ack[i].error);
    int fresh = s_fresh;

    /* The second agent's file disappears, and rrdcached forgets it: its
     * next row is refused ("No such file"). */
    s_lose_file(s_agent_x[1]);

    uint64_t two[NAGENTS] = { 2, 2, 0 };
    s_send_burst(dealer, s_agent_x, NAGENTS, two, NULL, ack);
    assert_true(ack[0].acked == 1 && ack[0].error);     /* refused with its group */
    assert_true(ack[1].acked == 1 && ack[1].error);
    assert_int_equal(s_fresh, fresh);                  /* nothing handed on */

    s_send_burst(dealer, s_agent_x, NAGENTS, two, NULL, ack);              /* the agents send again */
    assert_true(ack[0].acked == 2 && !ack[0].error);
    assert_true(ack[1].acked == 2 && !ack[1].error);
    /* The first agent's 3 and 4 in one burst: the 4 ends the group that
     * holds the 3 and starts the next. */
    uint64_t again[NAGENTS] = { 3, 3, 2 }, then[NAGENTS] = { 4, 0, 0 };
    s_send_burst(dealer, s_agent_x, NAGENTS, again, then, ack);
    assert_true(ack[0].acked == 4 && !ack[0].error);
    assert_true(ack[1].acked == 3 && ack[2].acked == 2);
    assert_int_equal(ingest_sync(g.ingest), 0);
    assert_int_equal(s_fresh, fresh + 6);
    for (int64_t m = 1; m <= 4; m++)
        assert_true(fabs(s_minute_arrivals(s_agent_x[0], m) - 12) < 1e-6);
    for (int64_t m = 2; m <= 3; m++)       /* its new file starts at minute 2 */
        assert_true(fabs(s_minute_arrivals(s_agent_x[1], m) - 12) < 1e-6);
    for (int i = 0; i < NAGENTS; i++)
        zmq_close(dealer[i]);
}

/* More agents in one burst than INGEST_FLIGHTS groups hold: several
 * groups go to rrdcached before the first is answered. A group refused
 * among them fails alone (its members are asked again; the groups before
 * and after it count), and every batch counts once in the end. */
/* rrdcached stopped by the test goes on after a while. */
static void *s_resume_later(void *arg)
{
    (void)arg;
    usleep(300 * 1000);
    kill(g.pid, SIGCONT);
    return NULL;
}

_Static_assert(MANY_AGENTS > INGEST_GROUP_MAX * (INGEST_FLIGHTS + 1), "more groups than flights");

static void test_groups_in_flight(void **state)
{
    (void)state;
    static char ids[MANY_AGENTS][8];
    static const char *id[MANY_AGENTS];
    static void *dealer[MANY_AGENTS];
    static s_ack_t ack[MANY_AGENTS];
    static uint64_t seq[MANY_AGENTS];
    const int n = MANY_AGENTS;
    for (int i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", MANY_FIRST + i);
        id[i] = ids[i];
        dealer[i] = s_dealer();
    }
    int fresh = s_fresh;
    for (int i = 0; i < n; i++)
        seq[i] = 1;
    s_send_burst(dealer, id, n, seq, NULL, ack);
    for (int i = 0; i < n; i++)
        if (ack[i].acked != 1 || ack[i].error)
            fail_msg("agent %s: acked %llu%s", id[i], (unsigned long long)ack[i].acked,
                     ack[i].error ? " with an error" : "");
    assert_int_equal(s_fresh, fresh + n);

    /* One file in the middle of the burst goes: its group is refused. */
    const int victim = n / 2;
    s_lose_file(id[victim]);
    for (int i = 0; i < n; i++)
        seq[i] = 2;
    /* rrdcached stops for this burst (its files exist: nothing waits for
     * a CREATE): no group can be answered, so INGEST_FLIGHTS go out and
     * the next waits for the oldest. */
    pthread_t resume;
    assert_int_equal(kill(g.pid, SIGSTOP), 0);
    assert_int_equal(pthread_create(&resume, NULL, s_resume_later, NULL), 0);
    s_send_burst(dealer, id, n, seq, NULL, ack);
    pthread_join(resume, NULL);
    int refused = 0;
    for (int i = 0; i < n; i++) {
        if (ack[i].error) {
            assert_int_equal(ack[i].acked, 1);
            refused++;
        } else if (ack[i].acked != 2) {
            fail_msg("agent %s: acked %llu", id[i], (unsigned long long)ack[i].acked);
        }
    }
    assert_true(ack[victim].error);
    if (refused > INGEST_GROUP_MAX)
        fail_msg("%d agents refused: more than the victim's group", refused);
    assert_int_equal(s_fresh, fresh + 2 * n - refused);

    /* The refused send again (each alone now), and count. */
    for (int i = 0; i < n; i++)
        seq[i] = ack[i].error ? 2 : 0;
    s_send_burst(dealer, id, n, seq, NULL, ack);
    for (int i = 0; i < n; i++)
        if (seq[i] && (ack[i].acked != 2 || ack[i].error))
            fail_msg("agent %s again: acked %llu", id[i], (unsigned long long)ack[i].acked);
    assert_int_equal(ingest_sync(g.ingest), 0);
    assert_int_equal(s_fresh, fresh + 2 * n);
    for (int i = 0; i < n; i += 7)
        for (int64_t m = i == victim ? 2 : 1; m <= 2; m++)
            if (!(fabs(s_minute_arrivals(id[i], m) - 12) < 1e-6))
                fail_msg("agent %s minute %lld: %g arrivals, want 12", id[i], (long long)m,
                         s_minute_arrivals(id[i], m));
    for (int i = 0; i < n; i++)
        zmq_close(dealer[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_staged_across_restart_is_not_committed),
        cmocka_unit_test(test_group_of_agents),
        cmocka_unit_test(test_groups_in_flight),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
