/* forecast — how close the 24-hour forecast comes to the waits vehicles
 * really had (docs/forecast.md).
 *
 *   build/bench/forecast --events FILE --truth FILE --crossing ID --direction D
 *                        --from UNIX_S --out DIR [--plan FILE] [--replay-inputs]
 *   build/bench/forecast --cost [--registry FILE]
 *
 * Runs the event stream through a real poe-agent (replay, event time, as
 * fast as it goes) into a real poe-collector and rrdcached on loopback.
 * The collector itself writes every forecast it issues at each whole hour
 * of event time (--forecast-log): what it had at that moment and nothing
 * later, however fast the replay. From --from on, per queue, this writes
 * DIR/<mode>-<lane>.csv (issued_unix_s,target_unix_s,p10_s,p50_s,p90_s),
 * DIR/<mode>-<lane>.h1.csv (the forecast made 1 h before each step against
 * its truth: target,truth,p10,p50,p90, for the plot) and DIR/metrics.tsv,
 * and prints the table:
 *
 *   truth(step)   mean wait of the vehicles that joined in the 15 minutes
 *   horizon h     the step ending h after the hour the forecast was issued
 *                 (15 min: the step under way; 1 h, 4 h, 24 h)
 *   MAE, P85      of |P50 − truth|; coverage: share of truths in [P10, P90]
 *   persistence   the estimator's wait at issue, for every step
 *   hour-of-week  the mean truth of the same 15 minutes of the week in the
 *                 weeks before the issue (what apps and CBP offer)
 *
 * --replay-inputs runs no daemons: the inputs the collector's forecasts
 * had in an earlier run (DIR/forecast.log.in) go through forecast.c here,
 * to score a change of method on the same inputs in seconds (with
 * FORECAST_WEIGHTS=1 in the environment, the blend learned by the end is
 * printed on stderr).
 *
 * Steps with fewer than 3 vehicles have no truth. --cost times one refresh
 * of every queue of every crossing of the registry (fcstore_refresh_all)
 * after a week of synthetic data per queue. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchstack.h"
#include "fcstore.h"
#include "forecast.h"
#include "hours.h"
#include "log.h"
#include "proc.h"
#include "registry.h"
#include "state.h"
#include "taxonomy.h"
#include "zone.h"

#define STEP 900
#define WEEK (7 * 86400LL)
#define MIN_VEHICLES 3
#define NH 4

static const int s_h_idx[NH] = { 0, 3, 15, 95 };
static const char *const s_h_name[NH] = { "15 min", "1 h", "4 h", "24 h" };

typedef struct {
    bool used;
    int64_t t0;                  /* first step start */
    int n;                       /* steps */
    double *sum;
    int *cnt;
} s_truth_t;

typedef struct {
    double *err, *pers, *how;
    int n, npers, nhow, covered;
    size_t cap_e, cap_p, cap_h;
} s_acc_t;

typedef struct {
    const char *events, *truth, *crossing, *direction, *out, *plan, *bin, *registry;
    int64_t from;
    bool replay;                 /* the method offline on the inputs of an earlier run */
    s_truth_t t[TAX_NQUEUES];
    s_acc_t acc[TAX_NQUEUES][NH];
} s_run_t;

static void s_die(const char *msg, const char *arg)
{
    fprintf(stderr, "forecast: %s%s\n", msg, arg ? arg : "");
    exit(1);
}

/* ---- truth -------------------------------------------------------------- */

static void s_load_truth(s_run_t *r)
{
    FILE *f = fopen(r->truth, "r");
    if (!f)
        s_die("cannot open truth ", r->truth);
    long long arr, dep, lo = INT64_MAX, hi = 0;
    char mode[32], type[32], lane[64];
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        lo = arr < lo ? arr : lo;
        hi = arr > hi ? arr : hi;
    }
    if (hi == 0)
        s_die("no vehicles in ", r->truth);
    int64_t t0 = lo / 1000 / STEP * STEP;
    int n = (int)((hi / 1000 - t0) / STEP) + 1;
    for (int k = 0; k < TAX_NQUEUES; k++) {
        r->t[k].t0 = t0;
        r->t[k].n = n;
        r->t[k].sum = calloc(n, sizeof(double));
        r->t[k].cnt = calloc(n, sizeof(int));
    }
    rewind(f);
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        enum tax_mode m;
        enum tax_type t;
        if (tax_mode_parse(mode, &m) || tax_type_parse(type, &t) || dep < arr)
            s_die("bad truth line in ", r->truth);
        s_truth_t *q = &r->t[tax_queue_index(m, t)];
        int i = (int)((arr / 1000 - t0) / STEP);
        q->used = true;
        q->sum[i] += (dep - arr) / 1000.0;
        q->cnt[i]++;
    }
    fclose(f);
}

static double s_truth_at(const s_truth_t *q, int64_t step_start)
{
    if (step_start < q->t0)
        return NAN;
    int64_t i = (step_start - q->t0) / STEP;
    return i < q->n && q->cnt[i] >= MIN_VEHICLES ? q->sum[i] / q->cnt[i] : NAN;
}

/* Mean truth of the same step of the week in the weeks before issued. */
static double s_hour_of_week(const s_truth_t *q, int64_t target, int64_t issued)
{
    double sum = 0;
    int n = 0;
    for (int64_t t = target - WEEK; t >= q->t0; t -= WEEK) {
        if (t + STEP > issued)
            continue;
        double v = s_truth_at(q, t);
        if (!isnan(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* ---- the daemons -------------------------------------------------------- */

static void s_run_daemons(s_run_t *r, const char *log_path)
{
    bstack_t st;
    if (bstack_init(&st, "forecast", r->bin, NULL) != 0)
        exit(1);
    char plans[700] = "";
    if (r->plan) {
        snprintf(plans, sizeof plans, "%s/plans", st.dir);
        mkdir(plans, 0755);
        char dst[800], cmd[2000];
        snprintf(dst, sizeof dst, "%s/%s-%s.csv", plans, r->crossing, r->direction);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", r->plan, dst);
        if (system(cmd) != 0)
            s_die("cannot copy the plan ", r->plan);
    }
    char in_path[1000];
    snprintf(in_path, sizeof in_path, "%s.in", log_path);
    unlink(log_path);
    unlink(in_path);
    const char *extra[] = { "--forecast-log", log_path, "--max-samples-per-s", "0",
                            plans[0] ? "--lane-plans" : NULL, plans, NULL };
    if (bstack_start(&st, r->registry, extra) != 0) {
        bstack_stop(&st, true);
        exit(1);
    }
    const char *aextra[] = { "--replay", r->events, "--speed", "0", "--spool-nosync", NULL };
    pid_t agent = bstack_spawn_agent(&st, r->crossing, r->direction, aextra);
    int status = -1;
    if (agent < 0 || proc_wait_exit(agent, 3600 * 1000, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        proc_stop(agent, 2000);
        bstack_stop(&st, true);
        s_die("the agent did not finish the replay", NULL);
    }
    bstack_stop(&st, false);
}

/* ---- the method offline ------------------------------------------------- */

/* Replaying DIR/forecast.log.in (the inputs the collector's forecasts had,
 * fcstore_log_to) through forecast.c writes the log the daemons would have:
 * a change of method is scored in seconds, on exactly the same inputs. */
typedef struct {
    const char *tz;
    const hours_side_t *side;
    int64_t at;                  /* the zone's offset is looked up once per run */
    long gmtoff;
} s_rcal_t;

static int s_rslot(const void *arg, int64_t t_s, bool *holiday)
{
    const s_rcal_t *c = arg;
    *holiday = false;
    time_t local = (time_t)(t_s + c->gmtoff);
    struct tm lt;
    if (!gmtime_r(&local, &lt))
        return -1;
    for (int i = 0; c->side && i < c->side->nclosed; i++)
        if (hours_closure_on(&c->side->closed[i], &lt))
            *holiday = true;
    return ((lt.tm_wday + 6) % 7) * FC_DAY_SLOTS + lt.tm_hour * 4 + lt.tm_min / 15;
}

typedef struct {
    int lanes[FCSTORE_TAP_MIN + 1];
    int64_t now_s;
} s_rlanes_t;

static int s_rlanes_at(const void *arg, int64_t t_s)
{
    const s_rlanes_t *l = arg;
    int64_t i = t_s <= l->now_s ? 0 : t_s / 60 - l->now_s / 60;
    return l->lanes[i > FCSTORE_TAP_MIN ? FCSTORE_TAP_MIN : i];
}

static void s_replay(s_run_t *r, const char *log_path)
{
    char in_path[1000];
    snprintf(in_path, sizeof in_path, "%s.in", log_path);
    FILE *in = fopen(in_path, "r"), *out = fopen(log_path, "w");
    if (!in || !out)
        s_die("cannot replay ", in_path);
    int nbad = 0;
    registry_t *reg = reg_load(r->registry, &nbad);
    const reg_crossing_t *x = reg ? reg_find(reg, r->crossing) : NULL;
    enum tax_dir dir;
    if (!x || tax_dir_parse(r->direction, &dir))
        s_die("unknown crossing or direction: ", r->crossing);
    enum hours_side side = hours_side_of(x->border, dir);
    s_rcal_t rc = { reg_side_tz(x, side), x->hours[side].known ? &x->hours[side] : NULL, 0, 0 };
    fc_calendar_t cal = { s_rslot, &rc };
    fc_t *fc[TAX_NQUEUES] = { 0 };
    fc_result_t res;
    static char line[4096];
    struct timespec a, b;
    double run_ms = 0;
    long runs = 0;
    while (fgets(line, sizeof line, in)) {
        char kind, id[32];
        int d, k, n;
        if (sscanf(line, "%c,%31[^,],%d,%d,%n", &kind, id, &d, &k, &n) < 4 || k < 0 ||
            k >= TAX_NQUEUES)
            s_die("bad input line: ", line);
        if (strcmp(id, r->crossing) || d != (int)dir - 1)
            continue;
        if (!fc[k] && !(fc[k] = fc_new()))
            s_die("out of memory", NULL);
        const char *p = line + n;
        if (kind == 'O') {
            long long t;
            unsigned iv, tt_n = 0;
            double w, arr, lanes, tt_sum = 0, tt_span = 0;
            /* (travel times: inputs written before them have none) */
            if (sscanf(p, "%lld,%u,%lf,%lf,%lf,%u,%lf,%lf", &t, &iv, &w, &arr, &lanes, &tt_n,
                       &tt_sum, &tt_span) < 5)
                s_die("bad observation: ", line);
            fc_observe(fc[k], &cal, t, iv, w, arr, lanes);
            fc_observe_travel(fc[k], t, tt_span, tt_n, tt_sum);
            continue;
        }
        fc_present_t pr = { 0 };
        s_rlanes_t la;
        long long now;
        int has, planned;
        if (sscanf(p, "%lld,%d,%lf,%lf,%lf,%lf,%lf,%lf,%d%n", &now, &has, &pr.wait_s, &pr.units,
                   &pr.lanes, &pr.lane_rate, &pr.arr_rate, &pr.arr_rate_prev, &planned, &n) < 9)
            s_die("bad run: ", line);
        p += n;
        for (int i = 0; i <= FCSTORE_TAP_MIN; i++) {
            if (sscanf(p, ",%d%n", &la.lanes[i], &n) < 1)
                s_die("bad lanes: ", line);
            p += n;
        }
        pr.now_s = la.now_s = now;
        pr.has_wait = has;
        pr.lanes_planned = planned;
        pr.lanes_at = s_rlanes_at;
        pr.lanes_arg = &la;
        if (now < rc.at || now >= rc.at + 86400) {
            struct tm lt;
            char abbr[16];
            if (zone_local(rc.tz, now, &lt, abbr, sizeof abbr) == 0)
                rc.gmtoff = lt.tm_gmtoff;
            rc.at = now;
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        fc_run(fc[k], &cal, &pr, &res);
        clock_gettime(CLOCK_MONOTONIC, &b);
        run_ms += (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        runs++;
        if (now % 3600 >= FC_STEP_S)
            continue;
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        char wnow[32] = "";
        if (has && isfinite(pr.wait_s))
            snprintf(wnow, sizeof wnow, "%.0f", pr.wait_s);
        for (int j = 0; j < FC_NSTEPS; j++)
            fprintf(out, "%s,%s,%s,%s,%lld,%lld,%u,%u,%u,%s\n", r->crossing,
                    r->direction, tax_mode_name(m), tax_type_name(t), now,
                    now / FC_STEP_S * FC_STEP_S + j * (long long)FC_STEP_S, res.step[j].p10_s,
                    res.step[j].p50_s, res.step[j].p90_s, wnow);
    }
    fprintf(stderr, "forecast: replayed %ld runs, %.1f us per run\n", runs,
            runs ? 1000.0 * run_ms / runs : 0.0);
    for (int k = 0; k < TAX_NQUEUES; k++)
        if (fc[k])
            fprintf(stderr, "forecast: queue %d: %" PRIu64 " clock jumps, %" PRIu64
                    " gaps, %" PRIu64 " odd days\n", k, fc_ignored(fc[k]), fc_gaps(fc[k]),
                    fc_odd_days(fc[k]));
    for (int k = 0; k < TAX_NQUEUES; k++)
        for (int g = 0; fc[k] && getenv("FORECAST_WEIGHTS") && g < FC_NREG; g++)
            for (int h = 0; h < FC_NH; h++) {
                double w[FC_NCOMP], n;
                fc_weights(fc[k], g, h, w, &n);
                fprintf(stderr, "forecast: queue %d regime %d horizon %d: weights %.1f %.1f %.1f "
                        "%.1f (%.0f errors)\n", k, g, h, w[0], w[1], w[2], w[3], n);
            }
    for (int k = 0; k < TAX_NQUEUES; k++)
        fc_destroy(&fc[k]);
    reg_destroy(&reg);
    fclose(in);
    fclose(out);
}

/* ---- scoring ------------------------------------------------------------ */

static void s_push(double **v, int *n, size_t *cap, double x)
{
    if ((size_t)*n >= *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = realloc(*v, *cap * sizeof **v);
        if (!*v)
            s_die("out of memory", NULL);
    }
    (*v)[(*n)++] = x;
}

static void s_score(s_run_t *r, const char *log_path)
{
    FILE *in = fopen(log_path, "r");
    if (!in)
        s_die("no forecast log ", log_path);
    FILE *csv[TAX_NQUEUES] = { 0 }, *h1[TAX_NQUEUES] = { 0 };
    char line[512], cr[16], di[16], mo[16], la[16], now[32];
    while (fgets(line, sizeof line, in)) {
        long long issued, target;
        double p10, p50, p90;
        now[0] = '\0';
        if (sscanf(line, "%15[^,],%15[^,],%15[^,],%15[^,],%lld,%lld,%lf,%lf,%lf,%31[0-9.]", cr, di,
                   mo, la, &issued, &target, &p10, &p50, &p90, now) < 9)
            s_die("bad forecast log line: ", line);
        enum tax_mode m;
        enum tax_type t;
        if (strcmp(cr, r->crossing) || strcmp(di, r->direction) || issued < r->from ||
            tax_mode_parse(mo, &m) || tax_type_parse(la, &t))
            continue;
        int k = tax_queue_index(m, t);
        if (!csv[k]) {
            char path[900];
            snprintf(path, sizeof path, "%s/%s-%s.csv", r->out, mo, la);
            csv[k] = fopen(path, "w");
            snprintf(path, sizeof path, "%s/%s-%s.h1.csv", r->out, mo, la);
            h1[k] = fopen(path, "w");
            if (!csv[k] || !h1[k])
                s_die("cannot write in ", r->out);
            fprintf(csv[k], "issued_unix_s,target_unix_s,p10_s,p50_s,p90_s\n");
            fprintf(h1[k], "target_unix_s,truth_s,p10_s,p50_s,p90_s\n");
        }
        fprintf(csv[k], "%lld,%lld,%.0f,%.0f,%.0f\n", issued, target, p10, p50, p90);
        int j = (int)((target - issued / STEP * STEP) / STEP);
        double truth = s_truth_at(&r->t[k], target);
        if (j == 3 && isnan(truth))
            fprintf(h1[k], "%lld,,%.0f,%.0f,%.0f\n", target, p10, p50, p90);
        else if (j == 3)
            fprintf(h1[k], "%lld,%.0f,%.0f,%.0f,%.0f\n", target, truth, p10, p50, p90);
        if (isnan(truth))
            continue;
        for (int h = 0; h < NH; h++) {
            if (j != s_h_idx[h])
                continue;
            s_acc_t *a = &r->acc[k][h];
            s_push(&a->err, &a->n, &a->cap_e, fabs(p50 - truth));
            a->covered += truth >= p10 && truth <= p90;
            if (now[0])
                s_push(&a->pers, &a->npers, &a->cap_p, fabs(atof(now) - truth));
            double how = s_hour_of_week(&r->t[k], target, issued);
            if (!isnan(how))
                s_push(&a->how, &a->nhow, &a->cap_h, fabs(how - truth));
        }
    }
    fclose(in);
    for (int k = 0; k < TAX_NQUEUES; k++) {
        if (csv[k])
            fclose(csv[k]);
        if (h1[k])
            fclose(h1[k]);
    }
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_stats(double *v, int n, double *mae, double *p85)
{
    *mae = *p85 = NAN;
    if (n == 0)
        return;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    qsort(v, n, sizeof *v, s_cmp);
    *mae = s / n;
    *p85 = v[(int)ceil(0.85 * n) - 1];
}

static void s_report(s_run_t *r)
{
    char path[900];
    snprintf(path, sizeof path, "%s/metrics.tsv", r->out);
    FILE *f = fopen(path, "w");
    if (!f)
        s_die("cannot write ", path);
    fprintf(f, "queue\thorizon\tn\tmae_s\tp85_s\tcoverage\tpersist_mae_s\tpersist_p85_s\t"
               "how_mae_s\thow_p85_s\tmean_truth_s\n");
    printf("%-22s %-7s %5s %16s %9s %16s %16s\n", "queue", "horizon", "n", "MAE / P85 (min)",
           "P10-P90", "persistence", "hour-of-week");
    for (int k = 0; k < TAX_NQUEUES; k++) {
        if (!r->t[k].used)
            continue;
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        double tsum = 0;
        int tn = 0;
        for (int i = 0; i < r->t[k].n; i++) {
            double v = s_truth_at(&r->t[k], r->t[k].t0 + (int64_t)i * STEP);
            if (!isnan(v) && r->t[k].t0 + (int64_t)i * STEP >= r->from) {
                tsum += v;
                tn++;
            }
        }
        for (int h = 0; h < NH; h++) {
            s_acc_t *a = &r->acc[k][h];
            double mae, p85, pm, pp, hm, hp;
            s_stats(a->err, a->n, &mae, &p85);
            s_stats(a->pers, a->npers, &pm, &pp);
            s_stats(a->how, a->nhow, &hm, &hp);
            double cov = a->n ? (double)a->covered / a->n : NAN;
            char q[48];
            snprintf(q, sizeof q, "%s-%s", tax_mode_name(m), tax_type_name(t));
            fprintf(f, "%s\t%s\t%d\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", q,
                    s_h_name[h], a->n, mae, p85, cov, pm, pp, hm, hp, tn ? tsum / tn : NAN);
            printf("%-22s %-7s %5d %7.1f / %6.1f %8.0f%% %7.1f / %6.1f %7.1f / %6.1f\n", q,
                   s_h_name[h], a->n, mae / 60, p85 / 60, 100 * cov, pm / 60, pp / 60, hm / 60,
                   hp / 60);
            free(a->err);
            free(a->pers);
            free(a->how);
        }
    }
    fclose(f);
}

/* ---- cost ---------------------------------------------------------------- */

static int s_cost(const char *registry)
{
    int nbad = 0;
    registry_t *reg = reg_load(registry, &nbad);
    if (!reg)
        s_die("cannot load ", registry);
    state_t *st = state_new(reg);
    fcstore_t *fc = fcstore_new(st);
    int64_t t0 = 1772409600LL * 1000; /* a Monday */
    /* Eight days of 15-minute intervals for every queue of every crossing
     * (the forecast runs on each: its profiles fill, its scores start),
     * demand following the hour. */
    log_init("forecast", LOG_LVL_WARN);
    for (int64_t t = t0 + 900000; t <= t0 + (WEEK + 86400) * 1000; t += 900000) {
        double hour = (double)((t - t0) / 60000 % 1440) / 60.0;
        uint32_t arr = (uint32_t)(30 + 30 * sin(hour / 24.0 * 6.283));
        for (size_t i = 0; i < state_count(st); i++) {
            xstate_t *x = state_at(st, i);
            for (int d = 1; d <= TAX_NDIRS; d++)
                for (int k = 0; k < TAX_NQUEUES; k++) {
                    enum tax_mode m;
                    enum tax_type ty;
                    tax_queue_from_index(k, &m, &ty);
                    est_input_t in = { .interval_ms = 900000, .arrivals = arr,
                                       .departures = 30, .lanes_open = 2, .t_end_ms = t };
                    state_apply(st, x, (enum tax_dir)d, &in, t, m, ty, t);
                    fcstore_queue_changed(fc, x, (enum tax_dir)d, k);
                }
        }
    }
    struct timespec a, b;
    int n = 0, reps = 5;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < reps; i++)
        n = fcstore_refresh_all(fc);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / reps;
    printf("forecast refresh: %zu crossings, %d queues, %.1f ms per refresh of all (%.1f us per "
           "queue)\n", state_count(st), n, ms, 1000.0 * ms / (n ? n : 1));
    fcstore_destroy(&fc);
    state_destroy(&st);
    reg_destroy(&reg);
    return 0;
}

int main(int argc, char **argv)
{
    s_run_t r = { .registry = "deploy/registry.conf", .from = 0 };
    bool cost = false;
    static const struct option opts[] = {
        { "events", 1, 0, 'e' }, { "truth", 1, 0, 't' }, { "crossing", 1, 0, 'c' },
        { "direction", 1, 0, 'd' }, { "from", 1, 0, 'f' }, { "out", 1, 0, 'o' },
        { "plan", 1, 0, 'p' }, { "registry", 1, 0, 'r' }, { "cost", 0, 0, 'C' },
        { "replay-inputs", 0, 0, 'R' }, { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': r.events = optarg; break;
        case 't': r.truth = optarg; break;
        case 'c': r.crossing = optarg; break;
        case 'd': r.direction = optarg; break;
        case 'f': r.from = strtoll(optarg, NULL, 10); break;
        case 'o': r.out = optarg; break;
        case 'p': r.plan = optarg; break;
        case 'r': r.registry = optarg; break;
        case 'C': cost = true; break;
        case 'R': r.replay = true; break;
        default: return 2;
        }
    }
    if (cost)
        return s_cost(r.registry);
    if (!r.events || !r.truth || !r.crossing || !r.direction || !r.out) {
        fprintf(stderr, "usage: forecast --events FILE --truth FILE --crossing ID --direction D "
                        "--from UNIX_S --out DIR [--plan FILE] | --cost\n");
        return 2;
    }
    r.bin = getenv("POE_BIN") ? getenv("POE_BIN") : "build/bin";
    mkdir(r.out, 0755);
    bstack_signals();
    s_load_truth(&r);
    char log_path[900];
    snprintf(log_path, sizeof log_path, "%s/forecast.log", r.out);
    if (r.replay)
        s_replay(&r, log_path);
    else if (!getenv("FORECAST_REUSE_LOG"))
        s_run_daemons(&r, log_path);
    s_score(&r, log_path);
    s_report(&r);
    for (int k = 0; k < TAX_NQUEUES; k++) {
        free(r.t[k].sum);
        free(r.t[k].cnt);
    }
    return 0;
}
