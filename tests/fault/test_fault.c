/* test_fault — the zero-loss promise under faults. Each test replays the
 * same known file of about 100,000 sensor events through a real agent,
 * collector(s) and rrdcached, breaks something during the replay, and at
 * the end compares the archive with the input exactly (arrivals and
 * departures per queue per minute: nothing missing, nothing doubled).
 *
 *   1. kill -9 the collector five times, restarting it each time
 *   2. kill -9 rrdcached and restart it (it runs without a journal:
 *      tests/lib/proc.c), so every row accepted since the last sync is
 *      lost for sure and must come again
 *   3. kill -9 the agent and restart it on the same spool
 *   4. a 60 s network partition between agent and collector (network
 *      namespaces joined by a veth pair; skipped when they cannot be made)
 *   5. the archive's disk full (a small tmpfs; skipped when not root)
 *   6. two collectors, one killed for a while: both archives complete
 *   7. kill -9 rrdcached three times, each restart 3 s later: batches in
 *      flight, syncs failing meanwhile, the first exchange after a restart
 *      a sync or a batch, whichever comes first
 *
 * FAULT_PARTITION_S shortens the partition for a quick run; FAULT_ONLY
 * runs the tests whose names match a pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "replay.h"
#include "stack.h"

#define CROSSING "250401"
#define DIRECTION "northbound"
#define MINUTES 480              /* 8 hours of events */
#define EVENTS 100000
#define T0_S 1768464000LL        /* 2026-01-15T08:00Z */
#define SPEED "1440"             /* 8 hours in about 20 s */
#define AGENT_TIMEOUT_MS 180000

static rp_expect_t s_expect;
static teststack_t s_a, s_b;     /* stopped by the teardown even when a test fails */
static pid_t s_agent_pid = -1;
static char s_mount[700];        /* a tmpfs the disk-full test mounted */
static char *s_work;             /* the event file and agent spools */
static char s_events[600];

static void s_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int s_group_setup(void **state)
{
    (void)state;
    s_work = proc_tmpdir();
    if (!s_work)
        return -1;
    snprintf(s_events, sizeof s_events, "%s/events.txt", s_work);
    if (rp_generate(s_events, 20260115, T0_S, MINUTES, EVENTS, &s_expect) != 0)
        return -1;
    fprintf(stderr, "fault suite: %ld events over %d minutes\n", s_expect.events, MINUTES);
    return s_expect.events >= EVENTS * 9 / 10 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    if (s_agent_pid > 0)
        proc_stop(s_agent_pid, 2000);
    s_agent_pid = -1;
    if (s_mount[0]) {
        /* Daemons first (rrdcached may hold files there), then the mount. */
        if (s_a.collector > 0)
            proc_stop(s_a.collector, 5000);
        if (s_a.rrdcached > 0)
            proc_stop(s_a.rrdcached, 5000);
        s_a.collector = s_a.rrdcached = -1;
        char cmd[800];
        snprintf(cmd, sizeof cmd, "umount '%s'", s_mount);
        if (system(cmd) != 0)
            fprintf(stderr, "fault suite: cannot unmount %s\n", s_mount);
        s_mount[0] = '\0';
    }
    int rc = 0;
    if (s_a.dir)
        rc |= stack_stop(&s_a);
    if (s_b.dir)
        rc |= stack_stop(&s_b);
    return rc;
}

static int s_group_teardown(void **state)
{
    (void)state;
    if (getenv("POE_KEEP_TMP"))
        fprintf(stderr, "fault suite: keeping %s\n", s_work);
    else
        proc_rm_rf(s_work);
    free(s_work);
    return 0;
}

/* Start an agent replaying the event file; prefix (may be NULL) runs it
 * through another command (ip netns exec NS). */
static pid_t s_agent(const teststack_t *st, const char *collectors, const char *spool_name,
                     const char *speed, const char *const *prefix)
{
    static char agent[1024], spool[700], log[700];
    snprintf(agent, sizeof agent, "%s", stack_bin_path(st, "poe-agent"));
    snprintf(spool, sizeof spool, "%s/%s", s_work, spool_name);
    snprintf(log, sizeof log, "%s/%s.log", s_work, spool_name);
    const char *argv[32];
    int n = 0;
    for (int i = 0; prefix && prefix[i]; i++)
        argv[n++] = prefix[i];
    const char *rest[] = { agent, "--crossing", CROSSING, "--direction", DIRECTION, "--collector",
                           collectors, "--replay", s_events, "--speed", speed, "--spool", spool,
                           "--spool-nosync", NULL };
    for (int i = 0; rest[i]; i++)
        argv[n++] = rest[i];
    argv[n] = NULL;
    s_agent_pid = proc_spawn(argv, log);
    return s_agent_pid;
}

static void s_wait_agent(pid_t pid, const char *spool_name)
{
    int status = -1;
    if (proc_wait_exit(pid, AGENT_TIMEOUT_MS, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not deliver everything within %d s (log %s/%s.log)",
                 AGENT_TIMEOUT_MS / 1000, s_work, spool_name);
    }
    s_agent_pid = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void s_assert_archive(const teststack_t *st)
{
    char why[400];
    if (rp_compare(st->http_port, CROSSING, DIRECTION, &s_expect, why, sizeof why) != 0)
        fail_msg("archive differs from the input: %s (logs in %s)", why, st->dir);
}

static void s_fresh_spool(const char *name)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", s_work, name);
    assert_int_equal(system(cmd), 0);
}

static void test_collector_killed_five_times(void **state)
{
    (void)state;
    teststack_t *st = &s_a;
    assert_int_equal(stack_start(st), 0);
    s_fresh_spool("spool1");
    pid_t agent = s_agent(st, st->endpoint, "spool1", SPEED, NULL);
    for (int i = 0; i < 5; i++) {
        s_sleep_ms(2500);
        stack_kill9(&st->collector);
        s_sleep_ms(500);
        assert_int_equal(stack_start_collector(st), 0);
    }
    s_wait_agent(agent, "spool1");
    s_assert_archive(st);
}

static void test_rrdcached_killed(void **state)
{
    (void)state;
    teststack_t *st = &s_a;
    assert_int_equal(stack_start(st), 0);
    s_fresh_spool("spool2");
    pid_t agent = s_agent(st, st->endpoint, "spool2", SPEED, NULL);
    s_sleep_ms(6000);
    stack_kill9(&st->rrdcached);
    s_sleep_ms(1500);
    assert_int_equal(stack_start_rrdcached(st), 0);
    s_wait_agent(agent, "spool2");
    s_assert_archive(st);
}

static void test_rrdcached_killed_three_times(void **state)
{
    (void)state;
    teststack_t *st = &s_a;
    assert_int_equal(stack_start(st), 0);
    s_fresh_spool("spool7");
    pid_t agent = s_agent(st, st->endpoint, "spool7", SPEED, NULL);
    for (int i = 0; i < 3; i++) {
        s_sleep_ms(3000 + 700 * i);
        stack_kill9(&st->rrdcached);
        s_sleep_ms(3000);
        assert_int_equal(stack_start_rrdcached(st), 0);
    }
    s_wait_agent(agent, "spool7");
    s_assert_archive(st);
}

static void test_agent_killed(void **state)
{
    (void)state;
    teststack_t *st = &s_a;
    assert_int_equal(stack_start(st), 0);
    s_fresh_spool("spool3");
    pid_t agent = s_agent(st, st->endpoint, "spool3", SPEED, NULL);
    s_sleep_ms(7000);
    stack_kill9(&agent);
    s_agent_pid = -1;
    /* The same spool: what it held goes first, then the file again (the
     * archive's time guard keeps what already arrived from counting twice). */
    agent = s_agent(st, st->endpoint, "spool3", "0", NULL);
    s_wait_agent(agent, "spool3");
    s_assert_archive(st);
}

static int s_sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void test_network_partition(void **state)
{
    (void)state;
    char ns[32];
    int net = (int)(getpid() % 250) + 1;
    snprintf(ns, sizeof ns, "poe%d", (int)getpid());
    if (geteuid() != 0 || s_sh("command -v ip >/dev/null && ip netns add %s 2>/dev/null", ns) != 0) {
        skip(); /* cmocka prints SKIPPED: this machine cannot make network namespaces */
    }
    int ok = s_sh("ip link add v%sa type veth peer name v%sb && ip link set v%sb netns %s && "
                  "ip addr add 10.231.%d.1/30 dev v%sa && ip link set v%sa up && "
                  "ip netns exec %s ip addr add 10.231.%d.2/30 dev v%sb && "
                  "ip netns exec %s ip link set v%sb up && ip netns exec %s ip link set lo up",
                  ns, ns, ns, ns, net, ns, ns, ns, net, ns, ns, ns, ns) == 0;
    if (!ok) {
        s_sh("ip netns del %s; ip link del v%sa 2>/dev/null", ns, ns);
        skip();
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://10.231.%d.1:%d", net, 20000 + (int)(getpid() % 13000) + 20);
    teststack_t *st = &s_a;
    assert_int_equal(stack_start_n(st, 4, endpoint), 0);
    s_fresh_spool("spool4");
    const char *prefix[] = { "ip", "netns", "exec", ns, NULL };
    pid_t agent = s_agent(st, endpoint, "spool4", SPEED, prefix);
    const char *env = getenv("FAULT_PARTITION_S");
    int down_s = env ? atoi(env) : 60;
    s_sleep_ms(5000);
    assert_int_equal(s_sh("ip link set v%sa down", ns), 0);
    fprintf(stderr, "fault suite: link down for %d s\n", down_s);
    s_sleep_ms(down_s * 1000);
    assert_int_equal(s_sh("ip link set v%sa up", ns), 0);
    s_wait_agent(agent, "spool4");
    s_assert_archive(st);
    s_sh("ip netns del %s; ip link del v%sa 2>/dev/null", ns, ns);
}

static void test_archive_disk_full(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    teststack_t *st = &s_a;
    assert_int_equal(stack_start_n(st, 5, NULL), 0);
    char archive[700];
    snprintf(archive, sizeof archive, "%s/archive", st->dir);
    /* About 1.5 MB of RRD files are needed; leave 400 kB. */
    if (s_sh("mkdir -p %s && mount -t tmpfs -o size=2m tmpfs %s", archive, archive) != 0)
        skip();
    snprintf(s_mount, sizeof s_mount, "%s", archive);
    assert_int_equal(s_sh("head -c 1600k /dev/zero > %s/filler", archive), 0);
    s_fresh_spool("spool5");
    pid_t agent = s_agent(st, st->endpoint, "spool5", SPEED, NULL);
    s_sleep_ms(8000);
    /* Nothing is acknowledged while the disk is full; the collector serves on. */
    int status = 0;
    char *health = proc_http_get(st->http_port, "/health", &status);
    assert_non_null(health);
    assert_int_equal(status, 200);
    free(health);
    assert_int_equal(s_sh("rm -f %s/filler", archive), 0);
    s_wait_agent(agent, "spool5");
    s_assert_archive(st);
    char log[800];
    snprintf(log, sizeof log, "%s/collector.log", st->dir);
    if (s_sh("grep -q 'No space left on device' %s", log) != 0)
        fail_msg("the collector did not say why it stopped acknowledging (log %s)", log);
    /* The collector must still stop cleanly after all this. */
    assert_int_equal(proc_stop(st->collector, 5000), 0);
    st->collector = -1;
}

static void test_two_collectors_one_killed(void **state)
{
    (void)state;
    teststack_t *a = &s_a, *b = &s_b;
    assert_int_equal(stack_start_n(a, 2, NULL), 0);
    assert_int_equal(stack_start_n(b, 3, NULL), 0);
    char both[1200];
    snprintf(both, sizeof both, "%.63s,%.63s", a->endpoint, b->endpoint);
    s_fresh_spool("spool6");
    pid_t agent = s_agent(a, both, "spool6", SPEED, NULL);
    s_sleep_ms(4000);
    stack_kill9(&b->collector);
    s_sleep_ms(8000);
    assert_int_equal(stack_start_collector(b), 0);
    s_wait_agent(agent, "spool6");
    s_assert_archive(a);
    s_assert_archive(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_collector_killed_five_times, s_teardown),
        cmocka_unit_test_teardown(test_rrdcached_killed, s_teardown),
        cmocka_unit_test_teardown(test_rrdcached_killed_three_times, s_teardown),
        cmocka_unit_test_teardown(test_agent_killed, s_teardown),
        cmocka_unit_test_teardown(test_network_partition, s_teardown),
        cmocka_unit_test_teardown(test_archive_disk_full, s_teardown),
        cmocka_unit_test_teardown(test_two_collectors_one_killed, s_teardown),
    };
    if (getenv("FAULT_ONLY")) /* e.g. FAULT_ONLY='*disk*' */
        cmocka_set_test_filter(getenv("FAULT_ONLY"));
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
