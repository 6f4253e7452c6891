/* test_report — poe-report on an archive made by a simulated stretch of
 * days (poe-sim's `peak` scenario, a whole week, ~25 s) run through a real poe-agent,
 * poe-collector (full RRA profile: 1-minute rows; backfill allowed; no rate
 * limit) and rrdcached, checked against the simulator's truth:
 *
 *   - wait percentiles p50/p85/p95 of each queue within max(60 s, 15 %) of
 *     the truth's (per minute: mean wait of the units that joined in it);
 *   - the ranking equals the truth's order by the same key (hours above the
 *     target, then p95);
 *   - the per-lane service time within 10 % of the simulator's (75/55/25 s);
 *   - the hours report, with a test registry whose US side is open
 *     06:00-22:00 and the other side 07:00-23:00, finds the 14 mismatch
 *     windows of the week (7 US-only, 7 other-only, 60 min each) and the
 *     arrivals archived in Monday's 06:00-07:00 window match the truth's
 *     count within 5 % (detector misses and double counts);
 *   - both reports again with --lang es and --lang fr (catalogs found from
 *     the binary's place, as installed or in the source tree): the Markdown
 *     shows no raw catalog key and none of the English template words
 *     (tests/lib/mdlang.c), numbers with a decimal comma, and the CSV is
 *     byte for byte the English run's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mdlang.h"
#include "proc.h"
#include "stack.h"
#include "taxonomy.h"

#define T_WEEK 1772409600LL       /* Monday 2026-03-02 00:00 UTC (poe-sim default) */
#define T_HOURS 168
#define T_TARGET_MIN 15

typedef struct {
    double *w;                    /* per minute truth wait, NAN none */
    double *sum;
    int *n;
} t_truth_q_t;

typedef struct {
    teststack_t st;
    char events[1024], truth[1024], out[1024], registry[1024];
    int nmin;
    t_truth_q_t q[TAX_NQUEUES];
    long mon_6_7;                 /* truth arrivals (passenger) Mon 06:00-07:00 */
} t_ctx_t;

static t_ctx_t s_ctx;

static int s_run(const char *const argv[], const char *log, int timeout_ms)
{
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    if (pid < 0 || proc_wait_exit(pid, timeout_ms, &status) != 0) {
        proc_stop(pid, 2000);
        return -1;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void s_load_truth(t_ctx_t *c)
{
    c->nmin = T_HOURS * 60 + 24 * 60;
    for (int k = 0; k < TAX_NQUEUES; k++) {
        c->q[k].sum = calloc((size_t)c->nmin, sizeof(double));
        c->q[k].n = calloc((size_t)c->nmin, sizeof(int));
        c->q[k].w = calloc((size_t)c->nmin, sizeof(double));
    }
    FILE *f = fopen(c->truth, "r");
    assert_non_null(f);
    long long arr, dep;
    char mode[32], type[32], lane[64];
    while (fscanf(f, "%lld %lld %31s %31s %63s", &arr, &dep, mode, type, lane) == 5) {
        enum tax_mode m;
        enum tax_type t;
        assert_int_equal(tax_mode_parse(mode, &m) | tax_type_parse(type, &t), 0);
        int k = tax_queue_index(m, t), i = (int)((arr / 1000 - T_WEEK) / 60);
        if (i < 0 || i >= c->nmin)
            continue;
        c->q[k].sum[i] += (double)(dep - arr) / 1000.0;
        c->q[k].n[i]++;
        if (arr / 1000 >= T_WEEK + 6 * 3600 && arr / 1000 < T_WEEK + 7 * 3600)
            c->mon_6_7++;
    }
    fclose(f);
    for (int k = 0; k < TAX_NQUEUES; k++)
        for (int i = 0; i < c->nmin; i++)
            c->q[k].w[i] = c->q[k].n[i] ? c->q[k].sum[i] / c->q[k].n[i] : NAN;
}

static void s_write_registry(t_ctx_t *c)
{
    snprintf(c->registry, sizeof c->registry, "%s/registry.conf", c->st.dir);
    FILE *f = fopen(c->registry, "w");
    assert_non_null(f);
    fprintf(f, "crossings = (\n"
               "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
               "    other_name = \"Tijuana\"; us_tz = \"Etc/UTC\"; other_tz = \"Etc/UTC\";\n"
               "    max_lanes = { passenger = 34; pedestrian = 0; commercial = 0; };\n"
               "    lanes = { passenger = { ready = 8; nexus_sentri = 6; }; };\n"
               "    hours = { us = { source = \"test\"; all = [ \"daily 06:00-22:00\" ]; };\n"
               "              other = { source = \"test\"; all = [ \"daily 07:00-23:00\" ]; }; }; }\n"
               ");\n");
    fclose(f);
}

static int s_setup(void **state)
{
    t_ctx_t *c = &s_ctx;
    const char *extra[] = { "--rra-profile", "full", "--max-samples-per-s", "0", NULL };
    if (stack_start_args(&c->st, 0, extra) != 0)
        return -1;
    snprintf(c->events, sizeof c->events, "%s/peak.ev", c->st.dir);
    snprintf(c->truth, sizeof c->truth, "%s/peak.truth", c->st.dir);
    snprintf(c->out, sizeof c->out, "%s/out", c->st.dir);
    char sim[1024], agent[1024], spool[1024], log[1024], hours[16];
    snprintf(sim, sizeof sim, "%s", stack_bin_path(&c->st, "poe-sim"));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&c->st, "poe-agent"));
    snprintf(spool, sizeof spool, "%s/spool", c->st.dir);
    snprintf(log, sizeof log, "%s/sim.log", c->st.dir);
    snprintf(hours, sizeof hours, "%d", T_HOURS);
    const char *simv[] = { sim, "--scenario", "peak", "--hours", hours, "--seed", "1", "--events",
                           c->events, "--truth", c->truth, NULL };
    if (s_run(simv, log, 60000) != 0)
        return -1;
    snprintf(log, sizeof log, "%s/agent.log", c->st.dir);
    const char *agv[] = { agent, "--crossing", "250401", "--direction", "northbound", "--collector",
                          c->st.endpoint, "--replay", c->events, "--speed", "0", "--spool", spool,
                          "--spool-nosync", "--log-level", "warn", NULL };
    if (s_run(agv, log, 240000) != 0) {
        fprintf(stderr, "test_report: agent replay failed (log %s)\n", log);
        return -1;
    }
    s_load_truth(c);
    s_write_registry(c);
    *state = c;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    for (int k = 0; k < TAX_NQUEUES; k++) {
        free(s_ctx.q[k].sum);
        free(s_ctx.q[k].n);
        free(s_ctx.q[k].w);
    }
    return stack_stop(&s_ctx.st);
}

static int s_report_lang(t_ctx_t *c, const char *cmd, const char *lang)
{
    char rep[1024], rrd[700], archive[1024], from[32], to[32], log[1024];
    snprintf(rep, sizeof rep, "%s", stack_bin_path(&c->st, "poe-report"));
    snprintf(rrd, sizeof rrd, "unix:%s", c->st.rrd_sock);
    snprintf(archive, sizeof archive, "%s/archive", c->st.dir);
    snprintf(from, sizeof from, "%lld", T_WEEK);
    snprintf(to, sizeof to, "%lld", T_WEEK + T_HOURS * 3600LL);
    snprintf(log, sizeof log, "%s/report-%s.log", c->st.dir, cmd);
    mkdir(c->out, 0755);
    const char *argv[] = { rep, cmd, "--archive", archive, "--rrdcached", rrd, "--registry",
                           c->registry, "--from", from, "--to", to, "--target-wait", "15",
                           "--crossing", "250401", "--out", c->out, lang ? "--lang" : NULL, lang, NULL };
    return s_run(argv, log, 60000);
}

static int s_report(t_ctx_t *c, const char *cmd) { return s_report_lang(c, cmd, "en"); }

/* cmd's Markdown (md) in each language passes mdlang; its CSV (csv) is the
 * same as in English. heading: the Spanish and French first words. */
static void s_langs(t_ctx_t *c, const char *cmd, const char *md, const char *csv,
                    const char *const heading[2])
{
    char mdp[1200], csvp[1200];
    snprintf(mdp, sizeof mdp, "%s/%s", c->out, md);
    snprintf(csvp, sizeof csvp, "%s/%s", c->out, csv);
    assert_int_equal(s_report_lang(c, cmd, "en"), 0);
    char *en_csv = proc_slurp(csvp, NULL), *en_md = proc_slurp(mdp, NULL), why[300];
    assert_non_null(en_csv);
    assert_non_null(en_md);
    if (mdlang_check(en_md, "en", why, sizeof why) != 0)
        fail_msg("%s (en): %s", md, why);
    const char *langs[2] = { "es", "fr" };
    for (int l = 0; l < 2; l++) {
        assert_int_equal(s_report_lang(c, cmd, langs[l]), 0);
        char *m = proc_slurp(mdp, NULL), *v = proc_slurp(csvp, NULL);
        assert_non_null(m);
        assert_non_null(v);
        if (mdlang_check(m, langs[l], why, sizeof why) != 0)
            fail_msg("%s (%s): %s", md, langs[l], why);
        if (strncmp(m, heading[l], strlen(heading[l])) != 0)
            fail_msg("%s (%s) starts '%.60s', not '%s'", md, langs[l], m, heading[l]);
        /* a decimal comma somewhere: digit, comma, digit */
        bool comma = false;
        for (const char *p = m; *p && !comma; p++)
            comma = p > m && p[-1] >= '0' && p[-1] <= '9' && *p == ',' && p[1] >= '0' && p[1] <= '9';
        assert_true(comma);
        assert_string_equal(v, en_csv);
        printf("  %s in %s: %zu bytes of Markdown, CSV unchanged\n", md, langs[l], strlen(m));
        free(m);
        free(v);
    }
    free(en_csv);
    free(en_md);
}

static int s_cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_pct(const double *v, int n, double p)
{
    double x = p * (n - 1);
    int i = (int)floor(x);
    return i + 1 >= n ? v[n - 1] : v[i] + (v[i + 1] - v[i]) * (x - i);
}

typedef struct {
    int k;
    double p[3], above_h, service_s;
} t_fig_t;

/* Truth figures of queue k: percentiles over minutes with arrivals, hours above target. */
static void s_truth_figs(const t_ctx_t *c, int k, t_fig_t *o)
{
    double *v = malloc((size_t)c->nmin * sizeof *v);
    int n = 0, above = 0;
    for (int i = 0; i < c->nmin; i++)
        if (!isnan(c->q[k].w[i])) {
            v[n++] = c->q[k].w[i];
            above += c->q[k].w[i] > T_TARGET_MIN * 60;
        }
    assert_true(n > 1000);
    qsort(v, (size_t)n, sizeof *v, s_cmp_d);
    o->k = k;
    o->p[0] = s_pct(v, n, 0.5);
    o->p[1] = s_pct(v, n, 0.85);
    o->p[2] = s_pct(v, n, 0.95);
    o->above_h = above / 60.0 / (T_HOURS / 168.0);
    free(v);
}

/* bottlenecks.csv, rows in rank order. */
static int s_read_csv(const t_ctx_t *c, t_fig_t *out, int max)
{
    char path[1100], line[1024];
    snprintf(path, sizeof path, "%s/bottlenecks.csv", c->out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        char cr[16], name[64], dir[16], mode[16], type[16];
        double p50, p85, p95, mean, above, util, svc;
        int rank;
        int got = sscanf(line, "%d,%15[^,],%63[^,],%15[^,],%15[^,],%15[^,],%lf,%lf,%lf,%lf,%lf,%lf,%lf",
                         &rank, cr, name, dir, mode, type, &p50, &p85, &p95, &mean, &above, &util, &svc);
        assert_int_equal(got, 13);
        enum tax_mode m;
        enum tax_type t;
        assert_int_equal(tax_mode_parse(mode, &m) | tax_type_parse(type, &t), 0);
        out[n] = (t_fig_t){ .k = tax_queue_index(m, t), .p = { p50, p85, p95 }, .above_h = above,
                            .service_s = svc };
        n++;
    }
    fclose(f);
    return n;
}

static int s_cmp_rank(const void *a, const void *b)
{
    const t_fig_t *x = a, *y = b;
    if (x->above_h != y->above_h)
        return x->above_h > y->above_h ? -1 : 1;
    return (x->p[2] < y->p[2]) - (x->p[2] > y->p[2]);
}

static void test_bottlenecks(void **state)
{
    t_ctx_t *c = *state;
    assert_int_equal(s_report(c, "bottlenecks"), 0);
    t_fig_t got[8], truth[8];
    int n = s_read_csv(c, got, 8);
    assert_int_equal(n, 3);
    const double service[] = { 75, 55, 25 };
    for (int i = 0; i < n; i++) {
        s_truth_figs(c, got[i].k, &truth[i]);
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(got[i].k, &m, &t);
        for (int j = 0; j < 3; j++) {
            double tol = fmax(60.0, 0.15 * truth[i].p[j]);
            printf("  %s p%s: report %.0f s, truth %.0f s (tol %.0f)\n", tax_type_name(t),
                   j == 0 ? "50" : j == 1 ? "85" : "95", got[i].p[j], truth[i].p[j], tol);
            assert_true(fabs(got[i].p[j] - truth[i].p[j]) <= tol);
        }
        double want = service[t - 1];
        printf("  %s service per lane: %.1f s (simulator %.0f s); h/week above: %.1f (truth %.1f)\n",
               tax_type_name(t), got[i].service_s, want, got[i].above_h, truth[i].above_h);
        assert_true(fabs(got[i].service_s - want) <= 0.10 * want);
    }
    qsort(truth, (size_t)n, sizeof truth[0], s_cmp_rank);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i].k, truth[i].k);
    char png[1100];
    snprintf(png, sizeof png, "%s/heatmap-250401.png", c->out);
    FILE *f = fopen(png, "rb");
    unsigned char sig[8] = { 0 };
    assert_non_null(f);
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
}

static void test_hours(void **state)
{
    t_ctx_t *c = *state;
    assert_int_equal(s_report(c, "hours"), 0);
    char path[1100], line[1024];
    snprintf(path, sizeof path, "%s/hours-250401.csv", c->out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int us_only = 0, other_only = 0, schedule = 0;
    double mon = -1;
    while (fgets(line, sizeof line, f)) {
        char side[16], start[32], end[32];
        int minutes;
        double nb;
        if (sscanf(line, "250401,passenger,mismatch,%15[^,],%31[^,],%31[^,],%d,%lf", side, start,
                   end, &minutes, &nb) == 5) {
            assert_int_equal(minutes, 60);
            if (strcmp(side, "US") == 0) {
                us_only++;
                assert_non_null(strstr(start, "06:00"));
                if (strcmp(start, "Mon 06:00") == 0)
                    mon = nb;
            } else {
                other_only++;
                assert_non_null(strstr(start, "22:00"));
            }
        }
        schedule += strstr(line, "250401,passenger,schedule,") != NULL;
    }
    fclose(f);
    assert_int_equal(us_only, 7);
    assert_int_equal(other_only, 7);
    assert_int_equal(schedule, 1);
    printf("  Mon 06:00-07:00 (US open, other closed): archived %.0f arrivals, truth %ld\n", mon,
           c->mon_6_7);
    assert_true(c->mon_6_7 > 100);
    assert_true(fabs(mon - (double)c->mon_6_7) <= 0.05 * (double)c->mon_6_7);
}

static void test_languages(void **state)
{
    t_ctx_t *c = *state;
    const char *const bn[2] = { "# Cuellos de botella, del ", "# Goulets d'étranglement, du " };
    s_langs(c, "bottlenecks", "bottlenecks.md", "bottlenecks.csv", bn);
    const char *const hours[2] = { "# Horarios de servicio: 250401", "# Heures d'ouverture : 250401" };
    s_langs(c, "hours", "hours-250401.md", "hours-250401.csv", hours);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bottlenecks),
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_languages),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
