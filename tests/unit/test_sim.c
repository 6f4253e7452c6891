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
#include <stdbool.h>
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

/* --open-hours: outside "daily 08:00-20:00" (UTC) no lane opens and no
 * unit leaves a booth (a booth finishes its unit within minutes of the
 * closing); arrivals while closed are turned away (none in the lines) or
 * wait for the opening (they arrive, and leave after it). */
static void s_closed_check(const char *tag, bool turn_away)
{
    size_t len;
    char *ev = s_slurp(tag, "events", &len);
    long arrive_closed = 0, depart_closed = 0, open_closed = 0, departs = 0;
    for (char *save = NULL, *l = strtok_r(ev, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        long long t;
        char kind[16], a[40], b[40], c[40], d[40];
        int n = sscanf(l, "%lld %15s %39s %39s %39s %39s", &t, kind, a, b, c, d);
        if (n < 2 || l[0] == '#')
            continue;
        int min = (int)((t / 60000) % 1440);
        bool closed = min < 8 * 60 || min >= 20 * 60;
        bool closed_well = min < 8 * 60 || min >= 20 * 60 + 15;   /* past the last unit served */
        if (strcmp(kind, "arrive") == 0)
            arrive_closed += closed;
        if (strcmp(kind, "depart") == 0) {
            departs++;
            depart_closed += closed_well;
        }
        if (strcmp(kind, "lane") == 0 && n == 6 && strcmp(d, "open") == 0)
            open_closed += closed;
    }
    free(ev);
    assert_int_equal(open_closed, 0);
    assert_int_equal(depart_closed, 0);
    assert_true(departs > 100);
    if (turn_away)
        assert_int_equal(arrive_closed, 0);
    else
        assert_true(arrive_closed > 100);
}

static void test_open_hours(void **state)
{
    (void)state;
    const char *away[] = { "--scenario", "steady-light", "--hours", "48", "--open-hours",
                           "daily 08:00-20:00", "--closed-arrivals", "turn-away", NULL };
    assert_int_equal(s_sim("hours-away", away), 0);
    s_closed_check("hours-away", true);
    const char *wait[] = { "--scenario", "steady-light", "--hours", "48", "--open-hours",
                           "daily 08:00-20:00", "--zone", "UTC", NULL };
    assert_int_equal(s_sim("hours-wait", wait), 0);
    s_closed_check("hours-wait", false);
    const char *bad[] = { "--scenario", "steady-light", "--open-hours", "daily 8-20", NULL };
    assert_int_equal(s_sim("hours-bad", bad), 1);
    const char *how[] = { "--scenario", "steady-light", "--open-hours", "24h", "--closed-arrivals",
                          "queue", NULL };
    assert_int_equal(s_sim("hours-how", how), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_hours),
        cmocka_unit_test(test_same_seed_same_files),
        cmocka_unit_test(test_truth_matches_stream),
        cmocka_unit_test(test_bad_demand_csv),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
