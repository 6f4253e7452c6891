/* test_valgrind — poe-collector and poe-agent under valgrind (memcheck) for
 * a whole replay: rrdcached, the collector and an agent replaying the
 * San Ysidro fixture on loopback, as test_pipeline does, but with both
 * daemons run as
 *   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
 * so any invalid read or write, use of uninitialised memory, or definite
 * leak makes a daemon exit 99 instead of 0. The agent must finish the
 * replay and exit 0 by itself; the collector must exit 0 on SIGTERM.
 * Skipped when valgrind is missing, and in sanitizer builds (valgrind cannot
 * run AddressSanitizer binaries; `make test` runs it in the plain build).
 * Logs: <tmp>/collector.log, agent.log, valgrind-*.log (kept on failure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"
/* valgrind slows the daemons 20-50x: generous bounds, still inside ~60 s. */
#define AGENT_TIMEOUT_MS 50000
#define STOP_TIMEOUT_MS 20000
#define START_TIMEOUT_MS 20000

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif
#ifndef S_ASAN
#define S_ASAN 0
#endif

typedef struct {
    char *dir;
    char bin[512], src[512];
    char rrd_sock[512], endpoint[64];
    int http_port;
    pid_t rrdcached, collector;
    bool failed;
} s_env_t;

static s_env_t E;

static bool s_have_valgrind(void)
{
    return system("valgrind --version >/dev/null 2>&1") == 0;
}

static void s_path(char *out, size_t len, const char *a, const char *b)
{
    snprintf(out, len, "%s/%s", a, b);
}

/* argv = valgrind options, then the daemon's own argv. */
static pid_t s_spawn_valgrind(const char *name, const char *const *daemon_argv)
{
    char vlog[700], log[700];
    snprintf(vlog, sizeof vlog, "--log-file=%s/valgrind-%s.log", E.dir, name);
    snprintf(log, sizeof log, "%s/%s.log", E.dir, name);
    const char *argv[48] = { "valgrind", "--error-exitcode=99", "--leak-check=full",
                             "--errors-for-leak-kinds=definite", "--track-fds=no", vlog };
    int n = 6;
    for (int i = 0; daemon_argv[i] && n < 47; i++)
        argv[n++] = daemon_argv[i];
    argv[n] = NULL;
    return proc_spawn(argv, log);
}

static void s_dump(const char *name)
{
    char path[700], line[512];
    snprintf(path, sizeof path, "%s/%s", E.dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

static bool s_log_has(const char *name, const char *needle)
{
    char path[700], line[1024];
    snprintf(path, sizeof path, "%s/%s", E.dir, name);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

static int s_setup(void **state)
{
    (void)state;
    memset(&E, 0, sizeof E);
    E.rrdcached = E.collector = -1;
    if (S_ASAN || !s_have_valgrind())
        return 0; /* the test skips itself, saying why */
    const char *bin = getenv("POE_BIN");
    snprintf(E.bin, sizeof E.bin, "%s", bin ? bin : "build/bin");
    if (!getcwd(E.src, sizeof E.src))
        return -1;
    E.dir = proc_tmpdir();
    if (!E.dir)
        return -1;
    int base = 20000 + (int)(getpid() % 13000);
    E.http_port = base + 1;
    snprintf(E.endpoint, sizeof E.endpoint, "tcp://127.0.0.1:%d", base);
    E.rrdcached = proc_start_rrdcached(E.dir, E.rrd_sock, sizeof E.rrd_sock);
    return E.rrdcached > 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    if (E.collector > 0)
        proc_stop(E.collector, 2000);
    if (E.rrdcached > 0)
        proc_stop(E.rrdcached, 5000);
    if (E.dir) {
        if (E.failed || getenv("POE_KEEP_TMP"))
            fprintf(stderr, "test_valgrind: logs kept in %s\n", E.dir);
        else
            proc_rm_rf(E.dir);
        free(E.dir);
    }
    return 0;
}

static void s_start_collector(void)
{
    char coll[700], rrd[600], archive[600], state[600], http[64], registry[700];
    s_path(coll, sizeof coll, E.bin, "poe-collector");
    snprintf(rrd, sizeof rrd, "unix:%s", E.rrd_sock);
    s_path(archive, sizeof archive, E.dir, "archive");
    s_path(state, sizeof state, E.dir, "collector-state");
    snprintf(http, sizeof http, "127.0.0.1:%d", E.http_port);
    s_path(registry, sizeof registry, E.src, "deploy/registry.conf");
    const char *argv[] = { coll, "--listen", E.endpoint, "--http", http, "--rrdcached", rrd,
                           "--archive", archive, "--registry", registry, "--rra-profile",
                           "compact", "--state", state, "--allow-backfill", NULL };
    E.collector = s_spawn_valgrind("collector", argv);
    assert_true(E.collector > 0);
    if (proc_wait_tcp(E.http_port, START_TIMEOUT_MS) != 0) {
        E.failed = true;
        s_dump("collector.log");
        fail_msg("collector under valgrind did not open its HTTP port within %d ms",
                 START_TIMEOUT_MS);
    }
}

/* The agent replays the whole fixture as fast as it can and exits once the
 * collector has every batch on disk. */
static int s_run_agent(void)
{
    char agent[700], fixture[700], spool[600];
    s_path(agent, sizeof agent, E.bin, "poe-agent");
    s_path(fixture, sizeof fixture, E.src, FIXTURE);
    s_path(spool, sizeof spool, E.dir, "spool");
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", E.endpoint, "--replay", fixture, "--speed", "0",
                           "--spool", spool, NULL };
    pid_t pid = s_spawn_valgrind("agent", argv);
    assert_true(pid > 0);
    int status = -1;
    if (proc_wait_exit(pid, AGENT_TIMEOUT_MS, &status) != 0) {
        proc_stop(pid, 5000);
        E.failed = true;
        s_dump("agent.log");
        fail_msg("agent under valgrind did not finish the replay within %d ms", AGENT_TIMEOUT_MS);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* SIGTERM and wait long enough for valgrind's leak check to run. */
static int s_stop_collector(void)
{
    kill(E.collector, SIGTERM);
    int status = -1;
    if (proc_wait_exit(E.collector, STOP_TIMEOUT_MS, &status) != 0) {
        proc_stop(E.collector, 2000);
        E.collector = -1;
        E.failed = true;
        fail_msg("collector under valgrind did not exit within %d ms of SIGTERM", STOP_TIMEOUT_MS);
    }
    E.collector = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_daemons_clean_under_valgrind(void **state)
{
    (void)state;
    if (S_ASAN) {
        fprintf(stderr, "test_valgrind: SKIP: sanitizer build (valgrind cannot run ASan binaries)\n");
        skip();
    }
    if (!E.dir) {
        fprintf(stderr, "test_valgrind: SKIP: valgrind is not installed (apt-get install valgrind)\n");
        skip();
    }
    s_start_collector();
    int agent_rc = s_run_agent();
    if (agent_rc != 0) {
        E.failed = true;
        s_dump("valgrind-agent.log");
        s_dump("agent.log");
    }
    int coll_rc = s_stop_collector();
    if (coll_rc != 0) {
        E.failed = true;
        s_dump("valgrind-collector.log");
        s_dump("collector.log");
    }
    assert_int_equal(agent_rc, 0);
    assert_int_equal(coll_rc, 0);
    /* And the run did the whole job, not an early clean exit. */
    assert_true(s_log_has("agent.log", "replay done"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemons_clean_under_valgrind),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
