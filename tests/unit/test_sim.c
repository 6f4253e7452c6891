/* test_sim — poe-sim is deterministic for a seed and its truth is
 * consistent with its sensor stream: the same seed gives byte-identical
 * files, another seed different ones; every vehicle leaves after it came,
 * through a lane of its own queue; without faults the entry and booth
 * counts equal the truth; a bad demand CSV is refused with file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "proc.h"

static char *s_dir;

static int s_setup(void **state)
{
    (void)state;
    s_dir = proc_tmpdir();
    return s_dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_dir);
    free(s_dir);
    return 0;
}

static const char *s_bin(void)
{
    static char path[1024];
    const char *bin = getenv("POE_BIN");
    snprintf(path, sizeof path, "%s/poe-sim", bin ? bin : "build/bin");
    return path;
}

/* Run poe-sim with extra arguments; returns its exit code. */
static int s_sim(const char *tag, const char *const extra[])
{
    char events[600], truth[600], log[600];
    snprintf(events, sizeof events, "%s/%s.events", s_dir, tag);
    snprintf(truth, sizeof truth, "%s/%s.truth", s_dir, tag);
    snprintf(log, sizeof log, "%s/%s.log", s_dir, tag);
    const char *argv[32] = { s_bin(), "--events", events, "--truth", truth, "--log-level", "warn" };
    int n = 7;
    for (int i = 0; extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    assert_true(pid > 0);
    assert_int_equal(proc_wait_exit(pid, 60000, &status), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *s_slurp(const char *tag, const char *ext, size_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.%s", s_dir, tag, ext);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_same_seed_same_files(void **state)
{
    (void)state;
    const char *a[] = { "--scenario", "lane-closure-surge", "--seed", "7", "--hours", "2", NULL };
    const char *c[] = { "--scenario", "lane-closure-surge", "--seed", "8", "--hours", "2", NULL };
    assert_int_equal(s_sim("a", a), 0);
    assert_int_equal(s_sim("b", a), 0);
    assert_int_equal(s_sim("c", c), 0);
    const char *ext[] = { "events", "truth" };
    for (int i = 0; i < 2; i++) {
        size_t la, lb, lc;
        char *fa = s_slurp("a", ext[i], &la), *fb = s_slurp("b", ext[i], &lb),
             *fc = s_slurp("c", ext[i], &lc);
        assert_true(la > 1000);
        assert_int_equal(la, lb);
        assert_memory_equal(fa, fb, la);
        assert_true(la != lc || memcmp(fa, fc, la) != 0);
        free(fa);
        free(fb);
        free(fc);
    }
}

/* A fault-free run: tags off, detectors perfect. The stream's arrivals and
 * departures must then equal the truth's vehicles, and each truth line
 * must be a vehicle that left after it came, by a lane of its queue. */
static void test_truth_matches_stream(void **state)
{
    (void)state;
    const char *a[] = { "--scenario", "steady-light", "--seed", "3", "--hours", "1",
                        "--entry-miss", "0", "--tag-share", "0", NULL };
    assert_int_equal(s_sim("clean", a), 0);
    /* steady-light still has 0.5% double counts at the entry and booth
     * errors; count units, not lines, and allow for those. */
    char path[600], line[512];
    snprintf(path, sizeof path, "%s/clean.events", s_dir);
    FILE *f = fopen(path, "r");
    long arrive_units = 0, depart_units = 0, tags = 0;
    while (fgets(line, sizeof line, f)) {
        long long t;
        char kind[16], x[64], y[64];
        long n = 1;
        int k = sscanf(line, "%lld %15s %63s %63s %ld", &t, kind, x, y, &n);
        if (k >= 3 && strcmp(kind, "arrive") == 0)
            arrive_units += k == 5 ? n : 1;
        else if (k >= 3 && strcmp(kind, "depart") == 0)
            depart_units += k >= 4 ? atol(y) : 1;
        else if (k >= 3 && strcmp(kind, "tag") == 0)
            tags++;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/clean.truth", s_dir);
    f = fopen(path, "r");
    long vehicles = 0;
    long long arr, dep, prev = 0;
    char mode[32], type[32], lane[64];
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        vehicles++;
        assert_true(dep > arr);
        assert_true(arr >= prev); /* arrival order */
        prev = arr;
        assert_string_equal(mode, "passenger");
        /* lane ids encode the queue: PS.. standard, PR.. ready */
        assert_int_equal(lane[1], strcmp(type, "standard") == 0 ? 'S' : 'R');
    }
    fclose(f);
    assert_true(vehicles > 200);
    assert_int_equal(tags, 0);
    /* ±1.5% for double counts and booth misses. */
    assert_true(labs(arrive_units - vehicles) <= vehicles * 15 / 1000 + 2);
    assert_true(labs(depart_units - vehicles) <= vehicles * 15 / 1000 + 2);
}

static void test_bad_demand_csv(void **state)
{
    (void)state;
    char csv[600];
    snprintf(csv, sizeof csv, "%s/demand.csv", s_dir);
    FILE *f = fopen(csv, "w");
    fputs("hour_of_week,passenger-standard\n0,300\n5,lots\n", f);
    fclose(f);
    const char *a[] = { "--scenario", "steady-light", "--demand", csv, NULL };
    assert_int_equal(s_sim("bad", a), 1);
    size_t len;
    char *log = s_slurp("bad", "log", &len);
    if (!strstr(log, "demand.csv:3:"))
        fail_msg("no file:line in: %s", log);
    free(log);
    const char *u[] = { "--scenario", "no-such-scenario", NULL };
    assert_int_equal(s_sim("unknown", u), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_files),
        cmocka_unit_test(test_truth_matches_stream),
        cmocka_unit_test(test_bad_demand_csv),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
