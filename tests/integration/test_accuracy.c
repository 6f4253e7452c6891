/* test_accuracy — a short poe-sim scenario (the first 8 hours of `peak`:
 * waits rising from nothing past an hour) through a real poe-agent,
 * poe-collector and rrdcached. The archived per-minute wait_s, compared
 * with the truth the way bench/accuracy does (truth minute [t, t+60)
 * against the row ending at t), must be close with generous bounds: 85th
 * percentile absolute error under 5 minutes, MAPE under 25% over minutes
 * whose truth exceeds 10 minutes, and it must follow the truth
 * (correlation over 0.95). The full benchmark is bench/accuracy.
 *
 * Then a shift change under a queue: the port's plan drops the standard
 * lanes from 20 to 12 at 06:00 while an hour-long queue waits. Given the
 * plan (--lane-plans, written by poe-sim --plan-out), the collector must
 * foresee it for units joining 05:20-06:00 (mean relative error under
 * 8 %); blind to it, an estimate is ~27 % short there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "proc.h"
#include "stack.h"

#define HOURS 8
#define NMIN (HOURS * 60 + 240)   /* arrivals for 8 h, then the queue drains */

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

static void s_run(const char *const argv[], const char *log, int timeout_ms)
{
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    assert_true(pid > 0);
    if (proc_wait_exit(pid, timeout_ms, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("%s did not finish (log %s)", argv[0], log);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s failed (log %s)", argv[0], log);
}

/* Mean (depart − arrive) of passenger-standard units per arrival minute. */
static int64_t s_truth(const char *path, double truth[NMIN])
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int n[NMIN] = { 0 };
    long long arr, dep;
    int64_t t0 = 0;
    char mode[32], type[32], lane[64];
    for (int m = 0; m < NMIN; m++)
        truth[m] = 0;
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        if (!t0)
            t0 = arr / 60000 * 60;
        int m = (int)(arr / 1000 - t0) / 60;
        if (strcmp(type, "standard") != 0 || m < 0 || m >= NMIN)
            continue;
        truth[m] += (dep - arr) / 1000.0;
        n[m]++;
    }
    fclose(f);
    for (int m = 0; m < NMIN; m++)
        truth[m] = n[m] ? truth[m] / n[m] : NAN;
    return t0;
}

static void s_archived(const teststack_t *st, int64_t t0, double est[NMIN])
{
    char path[300];
    snprintf(path, sizeof path,
             "/v1/history?crossing=250401&direction=northbound&mode=passenger&lane=standard"
             "&from=%lld&to=%lld&step=60",
             (long long)t0 - 60, (long long)t0 + 60LL * NMIN);
    int status = 0;
    char *body = proc_http_get(st->http_port, path, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    for (int m = 0; m < NMIN; m++)
        est[m] = NAN;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "rows"), i, row) {
        long long t = json_integer_value(json_array_get(row, 0));
        json_t *w = json_array_get(row, 1);
        int m = (int)((t - t0) / 60); /* the row ending at t estimates truth minute t */
        if (m >= 0 && m < NMIN && json_is_number(w))
            est[m] = json_number_value(w);
    }
    json_decref(j);
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_short_scenario_close_to_truth(void **state)
{
    (void)state;
    char events[600], truth_path[600], log[600], spool[600], sim[1024], agent[1024];
    snprintf(events, sizeof events, "%s/events.txt", s_stack.dir);
    snprintf(truth_path, sizeof truth_path, "%s/truth.txt", s_stack.dir);
    snprintf(spool, sizeof spool, "%s/spool", s_stack.dir);
    snprintf(sim, sizeof sim, "%s", stack_bin_path(&s_stack, "poe-sim"));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *sargv[] = { sim, "--scenario", "peak", "--seed", "5", "--hours", "8",
                            "--events", events, "--truth", truth_path, NULL };
    snprintf(log, sizeof log, "%s/sim.log", s_stack.dir);
    s_run(sargv, log, 60000);
    const char *aargv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                            "--collector", s_stack.endpoint, "--replay", events, "--speed", "0",
                            "--spool", spool, NULL };
    snprintf(log, sizeof log, "%s/agent.log", s_stack.dir);
    s_run(aargv, log, 300000);

    static double truth[NMIN], est[NMIN], err[NMIN];
    int64_t t0 = s_truth(truth_path, truth);
    s_archived(&s_stack, t0, est);
    int n = 0, n_long = 0;
    double ape = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, max_truth = 0;
    for (int m = 0; m < NMIN; m++) {
        if (isnan(truth[m]) || isnan(est[m]))
            continue;
        err[n++] = fabs(est[m] - truth[m]);
        if (truth[m] > 600) {
            ape += fabs(est[m] - truth[m]) / truth[m];
            n_long++;
        }
        max_truth = fmax(max_truth, truth[m]);
        sx += truth[m], sy += est[m], sxx += truth[m] * truth[m], syy += est[m] * est[m];
        sxy += truth[m] * est[m];
    }
    assert_true(n > HOURS * 60 - 30);      /* nearly every minute was estimated */
    assert_true(max_truth > 3600);         /* the scenario really builds a queue */
    assert_true(n_long >= 60);
    qsort(err, (size_t)n, sizeof *err, s_cmp);
    double p85 = err[(int)ceil(0.85 * n) - 1], mape = 100.0 * ape / n_long;
    double corr = (sxy - sx * sy / n) / sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
    printf("accuracy: %d minutes, p85 %.0f s, MAPE %.1f%% over %d minutes > 10 min, corr %.3f\n",
           n, p85, mape, n_long, corr);
    assert_true(p85 < 300);
    assert_true(mape < 25);
    assert_true(corr > 0.95);
}

static void test_lane_plan_shift_change(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    assert_non_null(dir);
    char sched[600], plans[600], plan[700], events[600], truth_path[600], log[600], spool[600];
    snprintf(sched, sizeof sched, "%s/schedule.csv", dir);
    snprintf(plans, sizeof plans, "%s/plans", dir);
    snprintf(plan, sizeof plan, "%s/250401-northbound.csv", plans);
    snprintf(events, sizeof events, "%s/events.txt", dir);
    snprintf(truth_path, sizeof truth_path, "%s/truth.txt", dir);
    snprintf(spool, sizeof spool, "%s/spool", dir);
    assert_int_equal(mkdir(plans, 0755), 0);
    FILE *f = fopen(sched, "w");
    assert_non_null(f);
    fputs("hour_of_week,passenger-standard\n0,8\n4,20\n6,12\n", f);
    fclose(f);
    char sim[1024], agent[1024];
    snprintf(sim, sizeof sim, "%s", stack_bin_path(&s_stack, "poe-sim"));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *sargv[] = { sim, "--scenario", "peak", "--seed", "5", "--hours", "8",
                            "--schedule", sched, "--events", events, "--truth", truth_path,
                            "--plan-out", plan, NULL };
    snprintf(log, sizeof log, "%s/sim.log", dir);
    s_run(sargv, log, 60000);

    teststack_t st = { 0 };
    const char *extra[] = { "--lane-plans", plans, NULL };
    if (stack_start_args(&st, 1, extra) != 0) {
        proc_rm_rf(dir);
        free(dir);
        fail_msg("the stack with --lane-plans did not start");
    }
    const char *aargv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                            "--collector", st.endpoint, "--replay", events, "--speed", "0",
                            "--spool", spool, NULL };
    snprintf(log, sizeof log, "%s/agent.log", dir);
    s_run(aargv, log, 300000);

    static double truth[NMIN], est[NMIN];
    int64_t t0 = s_truth(truth_path, truth);
    s_archived(&st, t0, est);
    int n = 0;
    double rel = 0, min_truth = INFINITY;
    for (int m = 0; m < NMIN; m++) {
        int64_t tod = (t0 + 60LL * m) % 86400; /* the simulated day starts at 00:00 UTC */
        if (tod < 5 * 3600 + 20 * 60 || tod >= 6 * 3600 || isnan(truth[m]) || isnan(est[m]))
            continue;
        rel += (est[m] - truth[m]) / truth[m];
        min_truth = fmin(min_truth, truth[m]);
        n++;
    }
    printf("lane plan: %d minutes before the shift change, mean relative error %+.1f%%\n", n,
           100 * rel / (n ? n : 1));
    int stopped = stack_stop(&st); /* before any assertion: no daemon outlives the test */
    proc_rm_rf(dir);
    free(dir);
    assert_int_equal(stopped, 0);
    assert_true(n >= 35);
    assert_true(min_truth > 1800); /* a real queue waits through the change */
    assert_true(fabs(rel / n) < 0.08);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_scenario_close_to_truth),
        cmocka_unit_test(test_lane_plan_shift_change),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
