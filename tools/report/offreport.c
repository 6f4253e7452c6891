/* offreport — `poe-report official`: per queue with an official series
 * beside the measured one, the audit of offaudit.c over the period, ranked
 * by MAE (worst first), as official.md (also on stdout), official.csv and
 * official.png (rrdtool's own graph of the worst queue: ours and the
 * official wait over the period). The graph is drawn by the stock
 * `rrdtool graph` in a child process rather than librrd's rrd_graph: the
 * font stack behind it (fontconfig, pango) keeps memory to the end of the
 * process, which would read as our leak under the sanitizers. */

extern char **environ;
#include "offreport.h"

#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "offaudit.h"

#define OR_MAX_LAG_S (3 * 3600)

typedef struct {
    scan_queue_t q;
    oa_result_t r;
} s_row_t;

static int s_cmp(const void *a, const void *b)
{
    double x = ((const s_row_t *)a)->r.mae_min, y = ((const s_row_t *)b)->r.mae_min;
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Our series and the official one on our grid; 0 done, 1 no official
 * series, -1 error (logged). */
static int s_audit(archive_t *a, const scan_queue_t *q, int64_t from, int64_t to, oa_result_t *r)
{
    arch_series_t m, o;
    char why[256];
    int rc = arch_fetch_queue(a, q->crossing, q->dir, q->mode, q->type, from, to, 0, &m, why, sizeof why);
    if (rc != 0)
        return rc < 0 ? (log_error("%s: %s", q->crossing, why), -1) : 1;
    rc = arch_fetch_official(a, q->crossing, q->dir, q->mode, q->type, from, to, m.step, &o, why,
                             sizeof why);
    if (rc != 0) {
        arch_series_free(&m);
        return rc < 0 ? (log_error("%s: %s", q->crossing, why), -1) : 1;
    }
    size_t n = m.nrows;
    double *buf = malloc((n ? n : 1) * 4 * sizeof *buf);
    if (!buf) {
        arch_series_free(&m);
        arch_series_free(&o);
        return -1;
    }
    double *meas = buf, *off = buf + n, *age = buf + 2 * n, *st = buf + 3 * n;
    for (size_t i = 0; i < n; i++) {
        int64_t t = m.start + (int64_t)(i + 1) * m.step;
        int64_t k = o.step == m.step && t > o.start ? (t - o.start) / o.step - 1 : -1;
        bool have = k >= 0 && (size_t)k < o.nrows;
        meas[i] = m.values[i * ARCH_NCOLS + 0];
        off[i] = have ? o.values[(size_t)k * ARCH_OFF_NCOLS + 0] : NAN;
        age[i] = have ? o.values[(size_t)k * ARCH_OFF_NCOLS + 3] : NAN;
        st[i] = have ? o.values[(size_t)k * ARCH_OFF_NCOLS + 4] : NAN;
    }
    oa_input_t in = { .step_s = m.step, .n = n, .measured_s = meas, .official_s = off,
                      .age_s = age, .status = st, .max_lag_s = OR_MAX_LAG_S };
    rc = oa_run(&in, r) == 0 ? 0 : 1;
    free(buf);
    arch_series_free(&m);
    arch_series_free(&o);
    return rc;
}

static void s_num(FILE *f, double v, const char *fmt)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
}

/* v in the language's decimal mark, nothing when unknown. */
static void s_md_num(FILE *f, const rtext_t *tx, double v, int decimals, bool sign)
{
    char buf[32];
    if (isfinite(v))
        fprintf(f, "%s%s", sign && v >= 0 ? "+" : "", rtext_num(tx, v, decimals, buf, sizeof buf));
}

static void s_markdown(FILE *f, const rtext_t *tx, const s_row_t *rows, size_t n, int64_t from, int64_t to)
{
    char a[80], b[80], intro[1000], q[96], r2[24];
    rtext_fmt(tx, intro, sizeof intro, "report.off.intro", "from", rtext_date(tx, from, a, sizeof a),
              "to", rtext_date(tx, to, b, sizeof b), NULL);
    fprintf(f, "# %s\n\n%s\n\n", rtext_get(tx, "report.off.title"), intro);
    fprintf(f, "| # | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            rtext_get(tx, "report.bn.col.crossing"), rtext_get(tx, "report.bn.col.direction"),
            rtext_get(tx, "report.bn.col.queue"), rtext_get(tx, "report.off.col.pairs"),
            rtext_get(tx, "report.off.col.mae"), rtext_get(tx, "report.off.col.bias"),
            rtext_get(tx, "report.off.col.lag"), rtext_get(tx, "report.off.col.lag_read"),
            rtext_get(tx, "report.off.col.x5"), rtext_get(tx, "report.off.col.x15"),
            rtext_get(tx, "report.off.col.age50"), rtext_get(tx, "report.off.col.age90"),
            rtext_get(tx, "report.off.col.pending"));
    for (size_t i = 0; i < n; i++) {
        const oa_result_t *r = &rows[i].r;
        fprintf(f, "| %zu | %s | %s | %s | %zu | ", i + 1, rows[i].q.crossing,
                rtext_word(tx, "dir", tax_dir_name(rows[i].q.dir)),
                rtext_fmt(tx, q, sizeof q, "report.queue", "mode",
                          rtext_word(tx, "mode", tax_mode_name(rows[i].q.mode)), "lane",
                          rtext_word(tx, "lane", tax_type_name(rows[i].q.type)), NULL),
                r->pairs);
        s_md_num(f, tx, r->mae_min, 1, false);
        fputs(" | ", f);
        s_md_num(f, tx, r->bias_min, 1, true);
        fputs(" | ", f);
        if (r->best_lag_s >= 0)
            fprintf(f, "%lld (%s)", (long long)r->best_lag_s / 60, rtext_num(tx, r->best_r, 2, r2, sizeof r2));
        fputs(" | ", f);
        if (r->seen_lag_s >= 0)
            fprintf(f, "%lld", (long long)r->seen_lag_s / 60);
        fputs(" | ", f);
        s_md_num(f, tx, r->share_mult5 * 100, 0, false);
        fputs(" | ", f);
        s_md_num(f, tx, r->share_mult15 * 100, 0, false);
        fputs(" | ", f);
        s_md_num(f, tx, r->age_p50_s / 60, 0, false);
        fputs(" | ", f);
        s_md_num(f, tx, r->age_p90_s / 60, 0, false);
        fputs(" | ", f);
        s_md_num(f, tx, r->pending_hours, 1, false);
        fputs(" |\n", f);
    }
    if (n == 0)
        fprintf(f, "%s\n", rtext_get(tx, "report.off.none"));
}

static void s_csv(FILE *f, const s_row_t *rows, size_t n)
{
    fprintf(f, "rank,crossing,direction,mode,lane,pairs,mae_min,bias_min,lag_s,lag_r,seen_lag_s,"
               "share_mult5,share_mult15,age_p50_s,age_p90_s,age_max_s");
    for (int b = 0; b < OA_AGE_BUCKETS; b++)
        fprintf(f, ",age_share_%d", b);
    fprintf(f, ",update_pending_h\n");
    for (size_t i = 0; i < n; i++) {
        const oa_result_t *r = &rows[i].r;
        fprintf(f, "%zu,%s,%s,%s,%s,%zu,", i + 1, rows[i].q.crossing, tax_dir_name(rows[i].q.dir),
                tax_mode_name(rows[i].q.mode), tax_type_name(rows[i].q.type), r->pairs);
        s_num(f, r->mae_min, "%.3f");
        fputc(',', f);
        s_num(f, r->bias_min, "%.3f");
        fprintf(f, ",%lld,", (long long)r->best_lag_s);
        s_num(f, r->best_r, "%.4f");
        fprintf(f, ",%lld,", (long long)r->seen_lag_s);
        const double v[] = { r->share_mult5, r->share_mult15, r->age_p50_s, r->age_p90_s, r->age_max_s };
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            s_num(f, v[k], "%.4f");
            fputc(',', f);
        }
        for (int b = 0; b < OA_AGE_BUCKETS; b++)
            fprintf(f, "%.4f,", r->age_share[b]);
        fprintf(f, "%.2f\n", r->pending_hours);
    }
}

/* rrdtool's graph of the worst queue: ours solid, the official dashed. */
static int s_png(const or_opts_t *o, const s_row_t *w, const char *path)
{
    char dir[4096], m[4400], off[4400], from[32], to[32], title[160], daemon[300];
    snprintf(dir, sizeof dir, "%s/%s/%s", o->archive_dir, w->q.crossing, tax_dir_name(w->q.dir));
    snprintf(m, sizeof m, "DEF:m=%s/%s-%s.rrd:wait_s:AVERAGE", dir, tax_mode_name(w->q.mode),
             tax_type_name(w->q.type));
    snprintf(off, sizeof off, "DEF:o=%s/official-%s-%s.rrd:wait_s:AVERAGE", dir,
             tax_mode_name(w->q.mode), tax_type_name(w->q.type));
    snprintf(from, sizeof from, "%lld", (long long)o->from);
    snprintf(to, sizeof to, "%lld", (long long)o->to);
    snprintf(title, sizeof title, "%s %s %s %s: measured vs official (MAE %.1f min)", w->q.crossing,
             tax_dir_name(w->q.dir), tax_mode_name(w->q.mode), tax_type_name(w->q.type), w->r.mae_min);
    snprintf(daemon, sizeof daemon, "%s", o->rrdcached);
    char *argv[] = { "rrdtool", "graph", (char *)path, "--start", from, "--end", to, "--daemon", daemon,
                     "--title", title, "--vertical-label", "minutes", "--width", "800",
                     "--height", "240", "--imgformat", "PNG", m, off, "CDEF:mm=m,60,/",
                     "CDEF:om=o,60,/", "LINE2:mm#1f77b4:measured", "LINE2:om#d62728:official:dashes",
                     NULL };
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, "rrdtool", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        log_error("official.png: rrdtool graph failed (%s)", rc ? strerror(rc) : "exit status");
        return -1;
    }
    log_info("wrote %s", path);
    return 0;
}

int or_run(archive_t *a, const scan_queue_t *qs, size_t nq, const or_opts_t *o)
{
    s_row_t *rows = calloc(nq ? nq : 1, sizeof *rows);
    if (!rows)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < nq; i++) {
        int rc = s_audit(a, &qs[i], o->from, o->to, &rows[n].r);
        if (rc < 0) {
            free(rows);
            return -1;
        }
        if (rc == 0 && rows[n].r.official_values > 0)
            rows[n++].q = qs[i];
    }
    qsort(rows, n, sizeof *rows, s_cmp);
    char path[4096];
    int rc = 0;
    snprintf(path, sizeof path, "%s/official.md", o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error("cannot write %s", path);
        rc = -1;
    } else {
        s_markdown(f, o->tx, rows, n, o->from, o->to);
        rc |= fclose(f);
        s_markdown(stdout, o->tx, rows, n, o->from, o->to);
    }
    snprintf(path, sizeof path, "%s/official.csv", o->out_dir);
    if (rc == 0 && (f = fopen(path, "w"))) {
        s_csv(f, rows, n);
        rc |= fclose(f);
    } else if (rc == 0) {
        log_error("cannot write %s", path);
        rc = -1;
    }
    snprintf(path, sizeof path, "%s/official.png", o->out_dir);
    if (rc == 0 && n > 0)
        rc = s_png(o, &rows[0], path);
    free(rows);
    return rc == 0 ? 0 : -1;
}
