/* test_offaudit — the audit of official numbers (tools/report/offaudit.c)
 * recovers what was done to a synthetic official feed: poe-sim's ground
 * truth of a 24-hour peak day is the "measured" wait; the official feed is
 * that truth 20 minutes late, published every 15 minutes and held, rounded
 * to 5 minutes (two updates in three) or to 15 (one in three). The audit
 * must find the lag within 5 minutes and the rounding shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "archive.h"
#include "log.h"
#include "mdlang.h"
#include "proc.h"
#include "offaudit.h"

#define STEP 60
#define LAG_S 1200
#define PUBLISH_EVERY 15      /* rows */

typedef struct {
    size_t n;
    double *meas, *off, *age;
    size_t values, mult15;
} s_feed_t;

/* poe-sim's truth in dir → s_feed_t (see the header comment). */
static void s_make_feed(const char *dir, s_feed_t *fd);

static void s_make_feed(const char *dir, s_feed_t *fd)
{
    const char *bin = getenv("POE_BIN");
    assert_non_null(bin);
    char cmd[1024], truth[300];
    snprintf(truth, sizeof truth, "%s/peak.truth", dir);
    snprintf(cmd, sizeof cmd,
             "%s/poe-sim --scenario peak --seed 3 --events %s/peak.ev --truth %s --log-level error",
             bin, dir, truth);
    assert_int_equal(system(cmd), 0);

    /* truth → the mean wait of passenger standard arrivals per minute */
    FILE *fp = fopen(truth, "r");
    assert_non_null(fp);
    long long a, d;
    char mode[32], type[32], lane[32];
    int64_t t0 = -1;
    size_t n = 26 * 60;
    double *sum = calloc(n, sizeof *sum), *cnt = calloc(n, sizeof *cnt);
    while (fscanf(fp, "%lld %lld %31s %31s %31s", &a, &d, mode, type, lane) == 5) {
        if (strcmp(mode, "passenger") || strcmp(type, "standard"))
            continue;
        if (t0 < 0)
            t0 = a / 1000 - (a / 1000) % STEP;
        size_t i = (size_t)((a / 1000 - t0) / STEP);
        if (i < n) {
            sum[i] += (double)(d - a) / 1000.0;
            cnt[i] += 1;
        }
    }
    fclose(fp);
    double *meas = malloc(n * sizeof *meas), *off = malloc(n * sizeof *off);
    double *age = malloc(n * sizeof *age);
    size_t lag = LAG_S / STEP, mult15 = 0, values = 0;
    double held = NAN, held_age0 = 0;
    int updates = 0;
    for (size_t i = 0; i < n; i++) {
        meas[i] = cnt[i] > 0 ? sum[i] / cnt[i] : NAN;
        if (i % PUBLISH_EVERY == 0 && i >= lag && cnt[i - lag] > 0) {
            double unit = updates++ % 3 == 2 ? 15.0 : 5.0;
            held = round(meas[i - lag] / 60.0 / unit) * unit * 60.0;
            held_age0 = (double)i;
        }
        off[i] = held;
        age[i] = isfinite(held) ? (double)(i - (size_t)held_age0) * STEP : NAN;
        if (isfinite(held)) {
            values++;
            mult15 += lround(held / 60.0) % 15 == 0;
        }
    }
    free(sum);
    free(cnt);
    *fd = (s_feed_t){ .n = n, .meas = meas, .off = off, .age = age, .values = values,
                      .mult15 = mult15 };
}

static void test_audit_recovers_lag_and_rounding(void **state)
{
    (void)state;
    char dir[] = "/tmp/poe-offaudit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_feed_t fd;
    s_make_feed(dir, &fd);
    size_t n = fd.n, mult15 = fd.mult15, values = fd.values;
    double *meas = fd.meas, *off = fd.off, *age = fd.age;
    oa_input_t in = { .step_s = STEP, .n = n, .measured_s = meas, .official_s = off,
                      .age_s = age, .max_lag_s = 90 * 60 };
    oa_result_t r;
    assert_int_equal(oa_run(&in, &r), 0);
    print_message("pairs %zu, MAE %.1f min, bias %.1f min, best lag %lld s (r %.3f; r at 0 %.3f), "
                  "as read %lld s, x5 %.2f, x15 %.2f, age p50 %.0f s p90 %.0f s\n",
                  r.pairs, r.mae_min, r.bias_min, (long long)r.best_lag_s, r.best_r, r.r_at_zero,
                  (long long)r.seen_lag_s,
                  r.share_mult5, r.share_mult15, r.age_p50_s, r.age_p90_s);
    assert_true(r.pairs > 600);
    assert_true(llabs(r.best_lag_s - LAG_S) <= 300);
    assert_true(r.best_r > r.r_at_zero);
    /* as read, the holding time (7 min on average here) adds to the lag */
    assert_true(r.seen_lag_s >= r.best_lag_s);
    assert_true(fabs(r.share_mult5 - 1.0) < 1e-9);
    assert_true(fabs(r.share_mult15 - (double)mult15 / (double)values) < 1e-9);
    assert_true(r.share_mult15 >= 0.30 && r.share_mult15 < 1.0);
    assert_true(r.age_p50_s < PUBLISH_EVERY * STEP && r.age_max_s >= r.age_p90_s);
    assert_true(r.mae_min > 0);

    /* A feed equal to the truth: no lag, no error, rounding only by chance. */
    in.official_s = meas;
    in.age_s = NULL;
    assert_int_equal(oa_run(&in, &r), 0);
    assert_int_equal(r.seen_lag_s, 0);
    assert_int_equal(r.best_lag_s, -1); /* no ages: no update-time lag */
    assert_true(r.mae_min < 1e-9);

    free(meas), free(off), free(age);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The same feed through the archive (the collector's files, rrdcached) and
 * `poe-report official`: official.csv ranks the queue with the lag found,
 * official.md and official.png are written. */
static void test_report_official_end_to_end(void **state)
{
    (void)state;
    char dir[] = "/tmp/poe-offreport-XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_feed_t fd;
    s_make_feed(dir, &fd);
    char sock[512], rrd[600], archive[300], out[300];
    pid_t rp = proc_start_rrdcached(dir, sock, sizeof sock);
    assert_true(rp > 0);
    snprintf(rrd, sizeof rrd, "unix:%s", sock);
    snprintf(archive, sizeof archive, "%s/archive", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(out, 0755);
    archive_t *a = arch_new(rrd, archive, ARCH_FULL);
    assert_non_null(a);
    int64_t now = (int64_t)time(NULL);
    int64_t t0 = now - now % 60 - (int64_t)fd.n * STEP - 3600;
    char why[256];
    for (size_t i = 0; i < fd.n; i++) {
        int64_t t = t0 + (int64_t)(i + 1) * STEP;
        arch_queue_row_t q = { .t_ms = t * 1000, .interval_ms = STEP * 1000, .lanes_open = 4, .queue = NAN,
                               .wait_s = fd.meas[i] };
        assert_true(arch_add_queue(a, "250401", TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, &q) >= 0);
        arch_official_row_t o = { .t_s = t, .wait_s = fd.off[i], .lanes_open = NAN,
                                  .updated_s = isfinite(fd.age[i]) ? (double)t - fd.age[i] : NAN,
                                  .age_s = fd.age[i], .status = isfinite(fd.off[i]) ? 1 : 3 };
        assert_true(arch_add_official(a, "250401", TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, &o) >= 0);
        if (i % 500 == 499 || i + 1 == fd.n)
            assert_int_equal(arch_commit(a, why, sizeof why), 0);
    }
    arch_destroy(&a);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s/poe-report official --archive %s --rrdcached %s --from %lld --to %lld --out %s "
             ">%s/report.log 2>&1",
             getenv("POE_BIN"), archive, rrd, (long long)t0, (long long)(t0 + (int64_t)fd.n * STEP),
             out, dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "tail -40 %s/report.log >&2", dir);
        (void)system(cmd);
        fail_msg("poe-report official failed (its log above)");
    }
    char path[400], line[1024];
    snprintf(path, sizeof path, "%s/official.csv", out);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    /* rank,crossing,direction,mode,lane,pairs,mae_min,bias_min,lag_s,... */
    char *f[12];
    size_t nf = 0;
    for (char *p = strtok(line, ","); p && nf < 12; p = strtok(NULL, ","))
        f[nf++] = p;
    assert_true(nf >= 10);
    assert_string_equal(f[1], "250401");
    assert_true(llabs(atoll(f[8]) - LAG_S) <= 300);
    struct stat st;
    snprintf(path, sizeof path, "%s/official.png", out);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 1000);
    snprintf(path, sizeof path, "%s/official.md", out);
    assert_int_equal(stat(path, &st), 0);
    /* The same in French: the Markdown's words change (tests/lib/mdlang), the CSV does not. */
    char csv_en[4096] = "", csv_fr[4096] = "", md[8192] = "", why2[300];
    snprintf(path, sizeof path, "%s/official.csv", out);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(fread(csv_en, 1, sizeof csv_en - 1, fp) > 0);
    fclose(fp);
    snprintf(cmd, sizeof cmd,
             "%s/poe-report official --lang fr --archive %s --rrdcached %s --from %lld --to %lld "
             "--out %s >%s/report-fr.log 2>&1",
             getenv("POE_BIN"), archive, rrd, (long long)t0, (long long)(t0 + (int64_t)fd.n * STEP),
             out, dir);
    assert_int_equal(system(cmd), 0);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(fread(csv_fr, 1, sizeof csv_fr - 1, fp) > 0);
    fclose(fp);
    assert_string_equal(csv_fr, csv_en);
    snprintf(path, sizeof path, "%s/official.md", out);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_true(fread(md, 1, sizeof md - 1, fp) > 0);
    fclose(fp);
    if (mdlang_check(md, "fr", why2, sizeof why2) != 0)
        fail_msg("official.md (fr): %s", why2);
    assert_non_null(strstr(md, "# Attentes officielles et attentes mesurées"));
    assert_non_null(strstr(md, "| 250401 | vers le nord | véhicules, voie ordinaire |"));
    proc_stop(rp, 5000);
    free(fd.meas), free(fd.off), free(fd.age);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    log_init("test_offaudit", LOG_LVL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_recovers_lag_and_rounding),
        cmocka_unit_test(test_report_official_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
