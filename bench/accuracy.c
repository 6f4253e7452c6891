/* accuracy — how close the published wait is to the wait vehicles really
 * had (docs/accuracy.md).
 *
 *   build/bench/accuracy --scenario peak --out DIR [--seed N]
 *   build/bench/accuracy --events FILE --truth FILE --crossing ID --direction D --out DIR
 *
 * Runs the event stream through a real poe-agent (replay, event time, as
 * fast as possible) into a real poe-collector and rrdcached on loopback,
 * reads back the archived per-minute wait_s through /v1/history, and
 * compares it with the truth, minute by minute, per queue:
 *
 *   truth(t)    mean (depart − arrive) of the units that joined in [t, t+60)
 *   estimate(t) the archived row ENDING at t: the mean of the 5-s estimates
 *               of (t−60, t], each made from data up to its own end — so
 *               everything compared used only data stamped ≤ t, before any
 *               unit of the truth minute joined.
 *
 * Two baselines come from the same event stream (parsed and aggregated by
 * the agent's own modules, in-process): (a) count-based queue over service
 * rate, without drift correction (the foundation estimator); (b) the mean
 * travel time of tagged units that finished in the last 5 minutes (what
 * RFID/Bluetooth systems publish). Writes DIR/<mode>-<type>.csv
 * (unix_s,wait_s: the archive), DIR/<mode>-<type>.series.csv (truth,
 * estimate and baselines, for plots) and DIR/metrics.tsv; prints the
 * metrics. --offline runs the estimator in-process instead of the daemons
 * (for quick experiments; the figures in docs come from the daemons). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aggregate.h"
#include "estimator.h"
#include "hours.h"
#include "oracle.h"
#include "plan.h"
#include "proc.h"
#include "sensor.h"
#include "taxonomy.h"

#define ACC_INTERVAL_MS 5000
#define ACC_LAG_MIN (-30)
#define ACC_LAG_MAX 180
#define ACC_TT_WINDOW_MS (5 * 60 * 1000LL)

enum { SER_TRUTH, SER_EST, SER_BASE_A, SER_BASE_B, SER_OR_NOW, SER_OR_FUTURE, SER_N };
static const char *const s_ser_name[SER_N] = { "truth", "estimate", "queue/rate", "travel time",
                                               "oracle now", "oracle lanes" };

typedef struct {
    bool used;
    double *v[SER_N];           /* per minute; NAN unknown */
    double *a_sum;              /* baseline (a): sum and count of 5-s values */
    int *a_n, *truth_n;
    /* baseline (a) state: the foundation estimator */
    double a_queue, a_rate;
    /* baseline (b): tagged finishers */
    est_t est;                  /* --offline only */
    oracle_t *oracle;           /* the floors: tests/lib/oracle.h */
    double *e_sum;
    int *e_n;
} acc_queue_t;

typedef struct {
    char *events, *truth, *crossing, *direction, *out, *scenario, *bin, *plan;
    long seed;
    bool offline, no_plan;
    plan_t *plan_obj;           /* --offline: the lane plan the collector would load */
    char plans_dir[1100];       /* the collector's --lane-plans, or "" */
    int64_t t0_s;               /* first minute */
    int nmin;
    acc_queue_t q[TAX_NQUEUES];
    /* travel-time samples for baseline (b): per 5-s interval */
    int64_t *tt_t;
    int *tt_q;
    double *tt_sum, *tt_n;
    size_t ntt, ttcap;
} acc_t;

/* The daemons of a run in progress, stopped by s_die so a failed run
 * leaves nothing behind (their directory is kept for its logs). */
static pid_t s_daemons[2] = { -1, -1 };

static void s_die(const char *fmt, const char *arg)
{
    for (int i = 0; i < 2; i++)
        if (s_daemons[i] > 0)
            proc_stop(s_daemons[i], 5000);
    fprintf(stderr, "accuracy: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

/* ---- truth ------------------------------------------------------------- */

static int s_queue_of(const char *mode, const char *type)
{
    enum tax_mode m;
    enum tax_type t;
    if (tax_mode_parse(mode, &m) || tax_type_parse(type, &t))
        return -1;
    return tax_queue_index(m, t);
}

/* The first and last arrival decide the minutes scored. */
static void s_truth_span(acc_t *a)
{
    FILE *f = fopen(a->truth, "r");
    if (!f)
        s_die("cannot open truth %s", a->truth);
    long long arr, dep, lo = INT64_MAX, hi = 0;
    char mode[32], type[32], lane[64];
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        lo = arr < lo ? arr : lo;
        hi = arr > hi ? arr : hi;
    }
    fclose(f);
    if (hi == 0)
        s_die("no vehicles in %s", a->truth);
    a->t0_s = lo / 60000 * 60;
    a->nmin = (int)((hi / 1000 - a->t0_s) / 60) + 2;
}

static void s_alloc(acc_t *a)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        acc_queue_t *q = &a->q[k];
        for (int s = 0; s < SER_N; s++) {
            q->v[s] = malloc(a->nmin * sizeof(double));
            for (int m = 0; m < a->nmin; m++)
                q->v[s][m] = NAN;
        }
        q->a_sum = calloc(a->nmin, sizeof(double));
        q->e_sum = calloc(a->nmin, sizeof(double));
        q->a_n = calloc(a->nmin, sizeof(int));
        q->e_n = calloc(a->nmin, sizeof(int));
        q->truth_n = calloc(a->nmin, sizeof(int));
        q->oracle = oracle_new();
        if (!q->a_sum || !q->e_sum || !q->a_n || !q->e_n || !q->truth_n || !q->oracle)
            s_die("%s", "out of memory");
    }
}

static void s_load_truth(acc_t *a)
{
    FILE *f = fopen(a->truth, "r");
    long long arr, dep;
    char mode[32], type[32], lane[64];
    int line = 0;
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        line++;
        int k = s_queue_of(mode, type);
        if (k < 0 || dep < arr) {
            fprintf(stderr, "accuracy: %s:%d: bad truth line\n", a->truth, line);
            exit(1);
        }
        int m = (int)((arr / 1000 - a->t0_s) / 60);
        acc_queue_t *q = &a->q[k];
        q->used = true;
        double *v = &q->v[SER_TRUTH][m];
        *v = (isnan(*v) ? 0 : *v) + (dep - arr) / 1000.0;
        q->truth_n[m]++;
        if (oracle_add_vehicle(q->oracle, arr, dep) != 0)
            s_die("%s", "out of memory");
    }
    fclose(f);
    for (int k = 0; k < TAX_NQUEUES; k++)
        for (int m = 0; m < a->nmin; m++)
            if (a->q[k].truth_n[m])
                a->q[k].v[SER_TRUTH][m] /= a->q[k].truth_n[m];
}

/* ---- baselines from the agent's own aggregation ------------------------ */

/* Minute index whose estimate row contains a sample ending at t_end_ms:
 * the row ending at the next minute boundary at or after it. */
static int s_row_of(const acc_t *a, int64_t t_end_ms)
{
    int64_t row_end = (t_end_ms + 59999) / 60000 * 60;
    return (int)((row_end - a->t0_s) / 60);
}

/* Baseline (a): the foundation estimator, verbatim in spirit: counts
 * clamped at zero, per-lane rate learned from busy intervals (α 0.05),
 * wait = queue ÷ (lanes × rate). */
static double s_base_a(acc_queue_t *q, const wire_queue_sample_t *s, enum tax_mode m,
                       enum tax_type t)
{
    if (q->a_rate == 0)
        q->a_rate = est_prior_lane_rate(m, t);
    double before = q->a_queue;
    double n = before + (double)s->arrivals - (double)s->departures;
    q->a_queue = n > 0 ? n : 0;
    if (s->lanes_open > 0 && before >= s->lanes_open && s->departures > 0)
        q->a_rate += 0.05 * (s->departures / (s->lanes_open * ACC_INTERVAL_MS / 1000.0) - q->a_rate);
    return s->lanes_open ? q->a_queue / (s->lanes_open * q->a_rate) : NAN;
}

static void s_keep_tt(acc_t *a, int k, const wire_queue_sample_t *s)
{
    if (a->ntt == a->ttcap) {
        a->ttcap = a->ttcap ? a->ttcap * 2 : 4096;
        a->tt_t = realloc(a->tt_t, a->ttcap * sizeof *a->tt_t);
        a->tt_q = realloc(a->tt_q, a->ttcap * sizeof *a->tt_q);
        a->tt_sum = realloc(a->tt_sum, a->ttcap * sizeof *a->tt_sum);
        a->tt_n = realloc(a->tt_n, a->ttcap * sizeof *a->tt_n);
        if (!a->tt_t || !a->tt_q || !a->tt_sum || !a->tt_n)
            s_die("%s", "out of memory");
    }
    a->tt_t[a->ntt] = (int64_t)s->t_end_ms;
    a->tt_q[a->ntt] = k;
    a->tt_sum[a->ntt] = s->tt_sum_s;
    a->tt_n[a->ntt++] = s->tt_count;
}

static void s_emit(void *arg, const wire_queue_sample_t *s, const wire_lane_sample_t *l)
{
    acc_t *a = arg;
    if (!s)
        return;
    enum tax_mode m = (enum tax_mode)s->mode;
    enum tax_type t = (enum tax_type)s->type;
    int k = tax_queue_index(m, t), row = s_row_of(a, (int64_t)s->t_end_ms);
    acc_queue_t *q = &a->q[k];
    double w = s_base_a(q, s, m, t);
    if (oracle_set_lanes(q->oracle, (int64_t)s->t_end_ms - ACC_INTERVAL_MS, (int)s->lanes_open))
        s_die("%s", "out of memory");
    if (s->tt_count)
        s_keep_tt(a, k, s);
    if (a->offline) {
        if (q->est.now_ms == 0)
            est_init(&q->est, m, t);
        plan_ref_t ref = { .plan = a->plan_obj, .queue = k };
        est_input_t in = { .plan = a->plan_obj ? plan_ref_lanes : NULL, .plan_arg = &ref,
                           .interval_ms = ACC_INTERVAL_MS, .arrivals = s->arrivals,
                           .departures = s->departures, .lanes_open = s->lanes_open,
                           .has_queue_len = s->has_queue_len, .queue_len = s->queue_len,
                           .tt_count = s->tt_count, .tt_sum_s = s->tt_sum_s,
                           .tt_max_s = s->tt_max_s, .t_end_ms = (int64_t)s->t_end_ms };
        est_output_t o;
        est_update(&q->est, &in, &o);
        if (row >= 0 && row < a->nmin && o.has_wait) {
            q->e_sum[row] += o.wait_s;
            q->e_n[row]++;
        }
    }
    if (row >= 0 && row < a->nmin && !isnan(w)) {
        q->a_sum[row] += w;
        q->a_n[row]++;
    }
    (void)l;
}

static void s_replay_inprocess(acc_t *a)
{
    FILE *f = fopen(a->events, "r");
    if (!f)
        s_die("cannot open events %s", a->events);
    aggregate_t *ag = aggregate_new(ACC_INTERVAL_MS, 3600 * 1000LL, s_emit, a, 0x5eed);
    sensor_parser_t p;
    sensor_parser_init(&p);
    char line[SENSOR_MAX_LINE + 2], why[200];
    sensor_event_t ev;
    while (fgets(line, sizeof line, f))
        if (sensor_parse_line(&p, line, &ev, why, sizeof why) == SENSOR_EVENT)
            aggregate_event(ag, &ev, why, sizeof why);
    aggregate_flush(ag);
    aggregate_destroy(&ag);
    fclose(f);
    for (int k = 0; k < TAX_NQUEUES; k++)
        for (int m = 0; m < a->nmin; m++) {
            acc_queue_t *q = &a->q[k];
            if (q->a_n[m])
                q->v[SER_BASE_A][m] = q->a_sum[m] / q->a_n[m];
            if (a->offline && q->e_n[m])
                q->v[SER_EST][m] = q->e_sum[m] / q->e_n[m];
        }
}

/* Baseline (b) at the start of each minute: mean travel time of the tagged
 * units that finished in the 5 minutes before; the last value is kept
 * through minutes without any. */
static void s_base_b(acc_t *a)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        double last = NAN;
        size_t lo = 0;
        for (int m = 0; m < a->nmin; m++) {
            int64_t t_ms = (a->t0_s + 60LL * m) * 1000;
            double sum = 0, n = 0;
            while (lo < a->ntt && a->tt_t[lo] <= t_ms - ACC_TT_WINDOW_MS)
                lo++;
            for (size_t i = lo; i < a->ntt && a->tt_t[i] <= t_ms; i++)
                if (a->tt_q[i] == k) {
                    sum += a->tt_sum[i];
                    n += a->tt_n[i];
                }
            if (n > 0)
                last = sum / n;
            a->q[k].v[SER_BASE_B][m] = last;
        }
    }
}

/* ---- the real agent and collector -------------------------------------- */

typedef struct {
    char dir[512], sock[600], endpoint[64];
    int http_port;
    pid_t rrdcached, collector;
} acc_stack_t;

/* The floors under any estimator: the wait computed from the true number
 * of units in the system at the start of the minute, with the lanes open
 * then (oracle now) or with the lanes that really were open later (oracle
 * lanes) — what is left is service-time chance. */
static void s_oracles(acc_t *a)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        acc_queue_t *q = &a->q[k];
        if (!q->used || oracle_finish(q->oracle) != 0)
            continue;
        for (int m = 0; m < a->nmin; m++) {
            int64_t t_ms = (a->t0_s + 60LL * m) * 1000;
            q->v[SER_OR_NOW][m] = oracle_now(q->oracle, t_ms);
            q->v[SER_OR_FUTURE][m] = oracle_future(q->oracle, t_ms);
        }
    }
}

static void s_path(char *buf, size_t len, const char *dir, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* A port the kernel says is free now: fixed or pid-derived ports collide
 * with other stacks running on the same machine. */
static void s_start_stack(const acc_t *a, acc_stack_t *st)
{
    char *dir = proc_tmpdir();
    if (!dir)
        s_die("%s", "cannot make a temporary directory");
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    free(dir);
    st->http_port = proc_free_port();
    snprintf(st->endpoint, sizeof st->endpoint, "tcp://127.0.0.1:%d", proc_free_port());
    st->rrdcached = proc_start_rrdcached(st->dir, st->sock, sizeof st->sock);
    s_daemons[0] = st->rrdcached;
    if (st->rrdcached < 0)
        s_die("rrdcached did not start (%s)", st->dir);
    char rrd[700], archive[600], state[600], http[64], log[600], coll[600], registry[600];
    snprintf(rrd, sizeof rrd, "unix:%s", st->sock);
    s_path(archive, sizeof archive, st->dir, "archive");
    s_path(state, sizeof state, st->dir, "state");
    s_path(log, sizeof log, st->dir, "collector.log");
    s_path(coll, sizeof coll, a->bin, "poe-collector");
    snprintf(http, sizeof http, "127.0.0.1:%d", st->http_port);
    snprintf(registry, sizeof registry, "deploy/registry.conf");
    mkdir(state, 0755);
    /* The full profile keeps 1-minute rows for 8 days whatever the span. */
    const char *argv[] = { coll, "--listen", st->endpoint, "--http", http, "--rrdcached", rrd,
                           "--archive", archive, "--state", state, "--registry", registry,
                           "--rra-profile", "full", "--log-level", "warn",
                           /* a day replayed in seconds is no flood: the per-agent limit
                            * would pace it at 20k samples/s (~30 s a scenario) */
                           "--max-samples-per-s", "0",
                           a->plans_dir[0] ? "--lane-plans" : NULL, a->plans_dir, NULL };
    st->collector = proc_spawn(argv, log);
    s_daemons[1] = st->collector;
    if (st->collector < 0 || proc_wait_tcp(st->http_port, 10000) != 0 ||
        proc_wait_exit(st->collector, 200, NULL) == 0) /* ours, not a neighbour's */
        s_die("collector did not start (log in %s)", st->dir);
}

static void s_run_agent(const acc_t *a, const acc_stack_t *st)
{
    char agent[600], log[600], spool[600];
    s_path(agent, sizeof agent, a->bin, "poe-agent");
    s_path(log, sizeof log, st->dir, "agent.log");
    s_path(spool, sizeof spool, st->dir, "spool");
    const char *argv[] = { agent, "--crossing", a->crossing, "--direction", a->direction,
                           "--collector", st->endpoint, "--replay", a->events, "--speed", "0",
                           "--spool", spool, "--spool-nosync", "--log-level", "warn", NULL };
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    if (pid < 0 || proc_wait_exit(pid, 600 * 1000, &status) != 0) {
        proc_stop(pid, 2000);
        s_die("agent did not finish the replay (log in %s)", st->dir);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_die("agent failed (log in %s)", st->dir);
}

/* The archived wait_s of one queue, row by row, into SER_EST. */
static void s_fetch(acc_t *a, const acc_stack_t *st, int k)
{
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    char path[400];
    snprintf(path, sizeof path,
             "/v1/history?crossing=%s&direction=%s&mode=%s&lane=%s&from=%" PRId64 "&to=%" PRId64
             "&step=60",
             a->crossing, a->direction, tax_mode_name(m), tax_type_name(t), (int64_t)(a->t0_s - 60),
             (int64_t)(a->t0_s + 60LL * a->nmin));
    int status = 0;
    char *body = proc_http_get(st->http_port, path, &status);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    if (status != 200 || !j)
        s_die("history request failed: %s", path);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(j, "rows"), i, row) {
        int64_t t_end = json_integer_value(json_array_get(row, 0));
        json_t *w = json_array_get(row, 1);
        int mi = (int)((t_end - a->t0_s) / 60);
        if (mi >= 0 && mi < a->nmin && json_is_number(w))
            a->q[k].v[SER_EST][mi] = json_number_value(w);
    }
    json_decref(j);
}

static void s_run_daemons(acc_t *a)
{
    acc_stack_t st;
    s_start_stack(a, &st);
    s_run_agent(a, &st);
    for (int k = 0; k < TAX_NQUEUES; k++)
        if (a->q[k].used)
            s_fetch(a, &st, k);
    int c = proc_stop(st.collector, 10000), r = proc_stop(st.rrdcached, 10000);
    s_daemons[0] = s_daemons[1] = -1;
    if (c != 0 || r != 0)
        fprintf(stderr, "accuracy: collector exited %d, rrdcached %d (logs in %s)\n", c, r, st.dir);
    else
        proc_rm_rf(st.dir);
}

/* ---- metrics ------------------------------------------------------------ */

typedef struct {
    int n, n_long;
    double mae, p85, mape, lag_min, rmse;
} acc_metrics_t;

static int s_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Pearson correlation of truth[m] with est[m + lag] over minutes where both
 * are known. */
static double s_corr(const acc_queue_t *q, int s, int nmin, int lag)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    int n = 0;
    for (int m = 0; m < nmin; m++) {
        int j = m + lag;
        if (j < 0 || j >= nmin)
            continue;
        double x = q->v[SER_TRUTH][m], y = q->v[s][j];
        if (isnan(x) || isnan(y))
            continue;
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        n++;
    }
    double vx = sxx - sx * sx / (n ? n : 1), vy = syy - sy * sy / (n ? n : 1);
    return n > 10 && vx > 0 && vy > 0 ? (sxy - sx * sy / n) / sqrt(vx * vy) : NAN;
}

static acc_metrics_t s_metrics(const acc_queue_t *q, int s, int nmin)
{
    acc_metrics_t r = { .mape = NAN, .lag_min = NAN };
    double *err = malloc(nmin * sizeof *err), ape = 0;
    for (int m = 0; m < nmin; m++) {
        double x = q->v[SER_TRUTH][m], y = q->v[s][m];
        if (isnan(x) || isnan(y))
            continue;
        err[r.n++] = fabs(y - x);
        r.mae += fabs(y - x);
        r.rmse += (y - x) * (y - x);
        if (x > 600) {
            ape += fabs(y - x) / x;
            r.n_long++;
        }
    }
    if (r.n) {
        qsort(err, r.n, sizeof *err, s_cmp_double);
        r.p85 = err[(int)ceil(0.85 * r.n) - 1];
        r.mae /= r.n;
        r.rmse = sqrt(r.rmse / r.n);
    }
    if (r.n_long)
        r.mape = 100.0 * ape / r.n_long;
    double best = -2;
    for (int lag = ACC_LAG_MIN; lag <= ACC_LAG_MAX; lag++) {
        double c = s_corr(q, s, nmin, lag);
        if (!isnan(c) && c > best) {
            best = c;
            r.lag_min = lag;
        }
    }
    free(err);
    return r;
}

/* ---- output ------------------------------------------------------------- */

static FILE *s_open_out(const acc_t *a, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", a->out, name);
    FILE *f = fopen(path, "w");
    if (!f)
        s_die("cannot write %s", path);
    return f;
}

static void s_cell(FILE *f, double v) { isnan(v) ? fputs(",", f) : fprintf(f, ",%.1f", v); }

static void s_write_series(const acc_t *a, int k, const char *qname)
{
    char name[128];
    snprintf(name, sizeof name, "%s.csv", qname);
    FILE *f = s_open_out(a, name);
    fprintf(f, "unix_s,wait_s\n");
    for (int m = 0; m < a->nmin; m++)
        if (!isnan(a->q[k].v[SER_EST][m]))
            fprintf(f, "%" PRId64 ",%.1f\n", (int64_t)(a->t0_s + 60LL * m), a->q[k].v[SER_EST][m]);
    fclose(f);
    snprintf(name, sizeof name, "%s.series.csv", qname);
    f = s_open_out(a, name);
    fprintf(f, "minute_unix_s,truth_s,estimate_s,queue_rate_s,travel_time_s,oracle_now_s,"
               "oracle_lanes_s\n");
    for (int m = 0; m < a->nmin; m++) {
        fprintf(f, "%" PRId64, (int64_t)(a->t0_s + 60LL * m));
        for (int s = 0; s < SER_N; s++)
            s_cell(f, a->q[k].v[s][m]);
        fputc('\n', f);
    }
    fclose(f);
}

static double s_max_truth(const acc_queue_t *q, int nmin)
{
    double mx = 0;
    for (int m = 0; m < nmin; m++)
        if (!isnan(q->v[SER_TRUTH][m]) && q->v[SER_TRUTH][m] > mx)
            mx = q->v[SER_TRUTH][m];
    return mx;
}

static void s_report(const acc_t *a)
{
    FILE *f = s_open_out(a, "metrics.tsv");
    fprintf(f, "queue\tseries\tminutes\tmae_s\tp85_s\trmse_s\tmape_pct\tminutes_over_10\tlag_min\tmax_truth_s\n");
    printf("%-24s %-12s %7s %7s %7s %7s %7s %6s\n", "queue", "series", "minutes", "MAE s",
           "p85 s", "MAPE%", ">10min", "lag");
    for (int k = 0; k < TAX_NQUEUES; k++) {
        const acc_queue_t *q = &a->q[k];
        if (!q->used)
            continue;
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        char qname[64];
        snprintf(qname, sizeof qname, "%s-%s", tax_mode_name(m), tax_type_name(t));
        s_write_series(a, k, qname);
        for (int s = SER_EST; s < SER_N; s++) {
            acc_metrics_t r = s_metrics(q, s, a->nmin);
            fprintf(f, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%.0f\t%.0f\n", qname,
                    s_ser_name[s], r.n, r.mae, r.p85, r.rmse, r.mape, r.n_long, r.lag_min,
                    s_max_truth(q, a->nmin));
            printf("%-24s %-12s %7d %7.1f %7.1f %7.1f %7d %6.0f\n", qname, s_ser_name[s], r.n,
                   r.mae, r.p85, r.mape, r.n_long, r.lag_min);
        }
    }
    fclose(f);
}

/* ---- main --------------------------------------------------------------- */

/* crossing= and direction= from poe-sim's header comment. */
static void s_from_header(acc_t *a)
{
    FILE *f = fopen(a->events, "r");
    if (!f)
        s_die("cannot open events %s", a->events);
    char line[512];
    static char crossing[16], direction[16];
    if (fgets(line, sizeof line, f) && line[0] == '#') {
        char *c = strstr(line, "crossing="), *d = strstr(line, "direction=");
        if (c && sscanf(c, "crossing=%15s", crossing) == 1 && !a->crossing)
            a->crossing = crossing;
        if (d && sscanf(d, "direction=%15s", direction) == 1 && !a->direction)
            a->direction = direction;
    }
    fclose(f);
    if (!a->crossing || !a->direction)
        s_die("%s", "--crossing and --direction are needed (the events file has no poe-sim header)");
}

static void s_simulate(acc_t *a)
{
    static char events[1024], truth[1024], plan[1024], sim[600], seed[32];
    snprintf(events, sizeof events, "%s/events.txt", a->out);
    snprintf(truth, sizeof truth, "%s/truth.txt", a->out);
    snprintf(plan, sizeof plan, "%s/lane-plan.csv", a->out);
    unlink(plan);
    s_path(sim, sizeof sim, a->bin, "poe-sim");
    snprintf(seed, sizeof seed, "%ld", a->seed);
    const char *argv[] = { sim, "--scenario", a->scenario, "--seed", seed, "--events", events,
                           "--truth", truth, "--plan-out", plan, "--log-level", "warn", NULL };
    pid_t pid = proc_spawn(argv, NULL);
    int status = -1;
    if (pid < 0 || proc_wait_exit(pid, 600 * 1000, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        s_die("poe-sim failed for scenario %s", a->scenario);
    a->events = events;
    a->truth = truth;
    if (!a->plan && access(plan, F_OK) == 0) /* scenarios with a lane schedule */
        a->plan = plan;
}

/* The port's lane plan, as the collector reads it: DIR/<crossing>-<direction>.csv. */
static void s_setup_plan(acc_t *a)
{
    if (!a->plan || a->no_plan)
        return;
    /* The zone the collector would read it in: the inspecting port's,
     * unless the file names one. */
    int nbad = 0;
    enum tax_dir dir;
    registry_t *reg = reg_load("deploy/registry.conf", &nbad);
    const reg_crossing_t *c = reg ? reg_find(reg, a->crossing) : NULL;
    if (!c || tax_dir_parse(a->direction, &dir) != 0)
        s_die("crossing %s is not in deploy/registry.conf", a->crossing);
    a->plan_obj = plan_load(a->plan, reg_side_tz(c, hours_side_of(c->border, dir)));
    reg_destroy(&reg);
    if (!a->plan_obj)
        s_die("cannot load the lane plan %s", a->plan);
    char link[1300], target[PATH_MAX];
    snprintf(a->plans_dir, sizeof a->plans_dir, "%s/plans", a->out);
    snprintf(link, sizeof link, "%s/%s-%s.csv", a->plans_dir, a->crossing, a->direction);
    if ((mkdir(a->plans_dir, 0755) != 0 && errno != EEXIST) || !realpath(a->plan, target) ||
        (unlink(link) != 0 && errno != ENOENT) || symlink(target, link) != 0)
        s_die("cannot link the lane plan into %s", a->plans_dir);
}

static void s_usage(void)
{
    fprintf(stderr,
            "usage: accuracy --scenario NAME [--seed N] --out DIR\n"
            "       accuracy --events FILE --truth FILE --crossing ID --direction D --out DIR\n"
            "       [--bin DIR (poe-agent, poe-collector, poe-sim; default $POE_BIN or build/bin)]\n"
            "       [--plan FILE (the port's lane plan, collector/plan.h; scenarios: poe-sim's)]\n"
            "       [--no-plan (measure without the lane plan)]\n"
            "       [--offline (estimator in-process, no daemons)]\n");
    exit(2);
}

static void s_options(acc_t *a, int argc, char **argv)
{
    static const struct option lo[] = {
        { "scenario", 1, 0, 's' }, { "seed", 1, 0, 'S' },     { "events", 1, 0, 'e' },
        { "truth", 1, 0, 't' },    { "crossing", 1, 0, 'c' }, { "direction", 1, 0, 'd' },
        { "out", 1, 0, 'o' },      { "bin", 1, 0, 'b' },      { "offline", 0, 0, 'O' },
        { "plan", 1, 0, 'p' },     { "no-plan", 0, 0, 'P' },  { 0, 0, 0, 0 } };
    int c;
    a->seed = 1;
    a->bin = getenv("POE_BIN") ? getenv("POE_BIN") : "build/bin";
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': a->scenario = optarg; break;
        case 'S': a->seed = atol(optarg); break;
        case 'e': a->events = optarg; break;
        case 't': a->truth = optarg; break;
        case 'c': a->crossing = optarg; break;
        case 'd': a->direction = optarg; break;
        case 'o': a->out = optarg; break;
        case 'b': a->bin = optarg; break;
        case 'O': a->offline = true; break;
        case 'p': a->plan = optarg; break;
        case 'P': a->no_plan = true; break;
        default: s_usage();
        }
    }
    if (!a->out || optind != argc || (!a->scenario && (!a->events || !a->truth)))
        s_usage();
}

int main(int argc, char **argv)
{
    static acc_t a;
    s_options(&a, argc, argv);
    if (mkdir(a.out, 0755) != 0 && errno != EEXIST)
        s_die("cannot create %s", a.out);
    if (a.scenario)
        s_simulate(&a);
    s_from_header(&a);
    s_setup_plan(&a);
    s_truth_span(&a);
    s_alloc(&a);
    s_load_truth(&a);
    s_replay_inprocess(&a);
    s_base_b(&a);
    s_oracles(&a);
    if (!a.offline)
        s_run_daemons(&a);
    s_report(&a);
    plan_destroy(&a.plan_obj);
    for (int k = 0; k < TAX_NQUEUES; k++)
        oracle_destroy(&a.q[k].oracle);
    return 0;
}
