/* output — see output.h. */
#include "output.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "zone.h"

/* "12.5" (in the language's decimal mark) or "–" for unknown, in minutes. */
static const char *s_min(const rtext_t *tx, double s, char *buf, size_t len)
{
    return rtext_num(tx, s / 60.0, 1, buf, len);
}

/* "passenger standard" in the report's words. */
static const char *s_queue(const rtext_t *tx, enum tax_mode m, enum tax_type t, char *buf, size_t len)
{
    return rtext_fmt(tx, buf, len, "report.queue", "mode", rtext_word(tx, "mode", tax_mode_name(m)),
                     "lane", rtext_word(tx, "lane", tax_type_name(t)), NULL);
}

static const char *s_name(const registry_t *reg, const char *id)
{
    const reg_crossing_t *c = reg ? reg_find(reg, id) : NULL;
    return c ? c->name : "";
}

static int s_done(FILE *f)
{
    if (ferror(f)) {
        log_error("write error in the report output");
        return -1;
    }
    return 0;
}

static void s_bn_table(FILE *f, const out_bn_ctx_t *ctx, const bn_result_t *r, size_t n)
{
    const rtext_t *tx = ctx->tx;
    fprintf(f, "| %s | %s | %s | %s | p50 | p85 | p95 | %s | %s | %s | %s | %s |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            rtext_get(tx, "report.bn.col.rank"), rtext_get(tx, "report.bn.col.crossing"),
            rtext_get(tx, "report.bn.col.direction"), rtext_get(tx, "report.bn.col.queue"),
            rtext_get(tx, "report.bn.col.above"), rtext_get(tx, "report.bn.col.utilisation"),
            rtext_get(tx, "report.bn.col.service"), rtext_get(tx, "report.bn.col.arrivals"),
            rtext_get(tx, "report.bn.col.need"));
    for (size_t i = 0; i < n; i++) {
        const bn_result_t *b = &r[i];
        char p50[16], p85[16], p95[16], above[24], q[96], num[32];
        fprintf(f, "| %zu | %s %s | %s | %s | %s | %s | %s | %s | ", i + 1, b->q.crossing,
                s_name(ctx->reg, b->q.crossing), rtext_word(tx, "dir", tax_dir_name(b->q.dir)),
                s_queue(tx, b->q.mode, b->q.type, q, sizeof q), s_min(tx, b->p50_s, p50, sizeof p50),
                s_min(tx, b->p85_s, p85, sizeof p85), s_min(tx, b->p95_s, p95, sizeof p95),
                rtext_num(tx, b->hours_above_week, 1, above, sizeof above));
        if (isnan(b->utilisation))
            fprintf(f, "– | ");
        else
            fprintf(f, "%s %% | ", rtext_num(tx, 100 * b->utilisation, 0, num, sizeof num));
        if (isnan(b->mu))
            fprintf(f, "– | ");
        else
            fprintf(f, "%.0f s%s%s | ", 1.0 / b->mu, b->mu_busy ? "" : " ",
                    b->mu_busy ? "" : rtext_get(tx, "report.bn.lower_bound"));
        fprintf(f, "%.0f | %d |\n", b->arrivals_week, b->need_max);
    }
}

/* A 7 × 24 table of lanes needed, with the lanes that were open. */
static void s_bn_needs(FILE *f, const rtext_t *tx, const bn_result_t *b)
{
    char q[96], head[300];
    rtext_fmt(tx, head, sizeof head, "report.bn.needs_head", "crossing", b->q.crossing, "direction",
              rtext_word(tx, "dir", tax_dir_name(b->q.dir)), "queue",
              s_queue(tx, b->q.mode, b->q.type, q, sizeof q), NULL);
    fprintf(f, "\n#### %s\n\n| %s |", head, rtext_get(tx, "report.bn.col.day"));
    for (int h = 0; h < 24; h++)
        fprintf(f, " %02d |", h);
    fprintf(f, "\n|---|");
    for (int h = 0; h < 24; h++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    for (int d = 0; d < 7; d++) {
        fprintf(f, "| %s |", rtext_day(tx, d));
        for (int h = 0; h < 24; h++) {
            int k = d * 24 + h, need = b->need_how[k];
            if (need == BN_NO_DATA)
                fprintf(f, " – |");
            else if (need == BN_CANNOT)
                fprintf(f, " ∞ (%.0f) |", b->lanes_how[k]);
            else
                fprintf(f, " %s%d (%.0f)%s |", need > b->lanes_how[k] + 0.5 ? "**" : "", need,
                        b->lanes_how[k], need > b->lanes_how[k] + 0.5 ? "**" : "");
        }
        fprintf(f, "\n");
    }
}

int out_bn_markdown(FILE *f, const out_bn_ctx_t *ctx, const bn_result_t *r, size_t n)
{
    const rtext_t *tx = ctx->tx;
    char a[80], b[80], t[16], title[300], intro[1500];
    rtext_fmt(tx, title, sizeof title, "report.bn.title", "from", rtext_date(tx, ctx->from, a, sizeof a),
              "to", rtext_date(tx, ctx->to, b, sizeof b), NULL);
    rtext_fmt(tx, intro, sizeof intro, "report.bn.intro", "target",
              rtext_num(tx, ctx->target_s / 60, 0, t, sizeof t), NULL);
    fprintf(f, "# %s\n\n%s\n\n", title, intro);
    s_bn_table(f, ctx, r, n);
    fprintf(f, "\n### %s\n\n%s\n", rtext_get(tx, "report.bn.needs_title"),
            rtext_get(tx, "report.bn.needs_intro"));
    for (size_t i = 0; i < n; i++)
        s_bn_needs(f, tx, &r[i]);
    return s_done(f);
}

static void s_csv_num(FILE *f, double v, const char *fmt)
{
    if (isnan(v) || isinf(v))
        fputc(',', f);
    else {
        fputc(',', f);
        fprintf(f, fmt, v);
    }
}

int out_bn_csv(FILE *f, const out_bn_ctx_t *ctx, const bn_result_t *r, size_t n)
{
    fprintf(f, "rank,crossing,name,direction,mode,type,p50_s,p85_s,p95_s,mean_wait_s,"
               "hours_above_target_per_week,utilisation,service_s_per_lane,service_rate_busy,"
               "arrivals_per_week,weeks_observed,most_lanes_needed,target_s\n");
    for (size_t i = 0; i < n; i++) {
        const bn_result_t *b = &r[i];
        fprintf(f, "%zu,%s,\"%s\",%s,%s,%s", i + 1, b->q.crossing, s_name(ctx->reg, b->q.crossing),
                tax_dir_name(b->q.dir), tax_mode_name(b->q.mode), tax_type_name(b->q.type));
        s_csv_num(f, b->p50_s, "%.1f");
        s_csv_num(f, b->p85_s, "%.1f");
        s_csv_num(f, b->p95_s, "%.1f");
        s_csv_num(f, b->mean_wait_s, "%.1f");
        s_csv_num(f, b->hours_above_week, "%.2f");
        s_csv_num(f, b->utilisation, "%.4f");
        s_csv_num(f, isnan(b->mu) ? NAN : 1.0 / b->mu, "%.2f");
        fprintf(f, ",%d", b->mu_busy ? 1 : 0);
        s_csv_num(f, b->arrivals_week, "%.0f");
        s_csv_num(f, b->weeks, "%.3f");
        fprintf(f, ",%d,%.0f\n", b->need_max, ctx->target_s);
    }
    return s_done(f);
}

int out_bn_hourly_csv(FILE *f, const bn_result_t *r, size_t n)
{
    fprintf(f, "crossing,direction,mode,type,hour_of_week,day,hour,arrivals_per_hour,"
               "lanes_open_mean,wait_mean_s,lanes_needed\n");
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < BN_HOURS; k++) {
            const bn_result_t *b = &r[i];
            fprintf(f, "%s,%s,%s,%s,%d,%s,%d", b->q.crossing, tax_dir_name(b->q.dir),
                    tax_mode_name(b->q.mode), tax_type_name(b->q.type), k, scan_day_name(k / 24),
                    k % 24);
            s_csv_num(f, b->lambda_how[k] * 3600, "%.1f");
            s_csv_num(f, b->lanes_how[k], "%.2f");
            s_csv_num(f, b->wait_how[k], "%.1f");
            if (b->need_how[k] == BN_NO_DATA)
                fprintf(f, ",\n");
            else
                fprintf(f, ",%d\n", b->need_how[k]);
        }
    return s_done(f);
}

/* ---- hours ---------------------------------------------------------------- */

/* "Mon 06:00" local to a side, for minute m of the week; day names in tx's
 * language, English (the CSV's) when tx is NULL. */
static const char *s_local(const out_hours_t *h, const rtext_t *tx, enum hours_side side, int m,
                           char *buf, size_t len)
{
    struct tm lt;
    char abbr[16];
    int64_t t = h->week_start + 60LL * (m % HW_MINUTES);
    if (zone_local(reg_side_tz(h->c, side), t, &lt, abbr, sizeof abbr) != 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    int d = (lt.tm_wday + 6) % 7;
    snprintf(buf, len, "%s %02d:%02d", tx ? rtext_day(tx, d) : scan_day_name(d), lt.tm_hour, lt.tm_min);
    return buf;
}

static const char *s_side_name(enum hours_side s) { return s == HOURS_US ? "US" : "other"; }

static const char *s_side_word(const rtext_t *tx, enum hours_side s)
{
    return rtext_get(tx, s == HOURS_US ? "report.side.US" : "report.side.other");
}

static void s_hours_windows(FILE *f, const out_hours_t *h, const out_hours_mode_t *m)
{
    const rtext_t *tx = h->tx;
    char count[16], minutes[16], line[400];
    snprintf(count, sizeof count, "%d", m->nwin);
    snprintf(minutes, sizeof minutes, "%d", m->win_minutes);
    fprintf(f, "\n%s\n\n", rtext_fmt(tx, line, sizeof line, "report.hours.mismatch", "count", count,
                                     "minutes", minutes, NULL));
    if (m->nwin == 0)
        return;
    fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---|---|---|\n",
            rtext_get(tx, "report.hours.win.open_side"), rtext_get(tx, "report.hours.win.from_us"),
            rtext_get(tx, "report.hours.win.to_us"), rtext_get(tx, "report.hours.win.from_other"),
            rtext_get(tx, "report.hours.win.minutes"), rtext_get(tx, "report.hours.win.arr_nb"),
            rtext_get(tx, "report.hours.win.arr_sb"));
    int kept = m->nwin < 64 ? m->nwin : 64;
    for (int i = 0; i < kept; i++) {
        const hw_span_t *w = &m->windows[i];
        char a[32], b[32], c[32], d0[24], d1[24];
        fprintf(f, "| %s | %s | %s | %s | %d | %s | %s |\n", s_side_word(tx, w->open_side),
                s_local(h, tx, HOURS_US, w->start, a, sizeof a),
                s_local(h, tx, HOURS_US, w->start + w->len, b, sizeof b),
                s_local(h, tx, HOURS_OTHER, w->start, c, sizeof c), w->len,
                rtext_num(tx, w->demand[0], 1, d0, sizeof d0), rtext_num(tx, w->demand[1], 1, d1, sizeof d1));
    }
}

static void s_hours_runs(FILE *f, const out_hours_t *h, const out_hours_mode_t *m, enum hours_side s)
{
    const rtext_t *tx = h->tx;
    char line[400];
    if (m->open_min[s] < 0)
        return;
    if (m->nruns[s] == 1 && m->runs[s][0].len == HW_MINUTES) {
        fprintf(f, "\n%s\n", rtext_fmt(tx, line, sizeof line, "report.hours.all_week", "side",
                                       s_side_word(tx, s), NULL));
        return;
    }
    fprintf(f, "\n%s\n\n| %s | %s | %s | %s |\n|---|---|---|---|\n",
            rtext_fmt(tx, line, sizeof line, "report.hours.days", "side", s_side_word(tx, s), NULL),
            rtext_get(tx, "report.hours.run.opens"), rtext_get(tx, "report.hours.run.closes"),
            rtext_get(tx, "report.hours.run.first"), rtext_get(tx, "report.hours.run.last"));
    int kept = m->nruns[s] < 32 ? m->nruns[s] : 32;
    for (int i = 0; i < kept; i++) {
        const hw_span_t *r = &m->runs[s][i];
        char a[32], b[32], v[4][24];
        fprintf(f, "| %s | %s | %s / %s | %s / %s |\n", s_local(h, tx, s, r->start, a, sizeof a),
                s_local(h, tx, s, r->start + r->len, b, sizeof b),
                rtext_num(tx, r->first_h[0], 1, v[0], sizeof v[0]),
                rtext_num(tx, r->first_h[1], 1, v[1], sizeof v[1]),
                rtext_num(tx, r->last_h[0], 1, v[2], sizeof v[2]),
                rtext_num(tx, r->last_h[1], 1, v[3], sizeof v[3]));
    }
}

/* The observed-hours cell: the learned rules with their evidence, or why not. */
static const char *s_observed_md(const rtext_t *tx, const out_hours_mode_t *m, int s, char *buf,
                                 size_t len)
{
    if (!m->obs_known[s] && !m->obs_why[s][0])
        return rtext_get(tx, "report.hours.unknown");
    char why[160], slug[160];
    snprintf(why, sizeof why, "%s", rtext_phrase(tx, "why", m->obs_why[s], slug, sizeof slug));
    if (!m->obs_known[s])
        return rtext_fmt(tx, buf, len, "report.hours.unknown_why", "why", why, NULL);
    char weeks[16], conf[16], exc[16], detail[300];
    snprintf(weeks, sizeof weeks, "%d", m->obs_weeks[s]);
    snprintf(exc, sizeof exc, "%d", m->obs_exc[s]);
    rtext_fmt(tx, detail, sizeof detail, "report.hours.obs_detail", "weeks", weeks, "confidence",
              rtext_num(tx, m->obs_conf[s], 2, conf, sizeof conf), "level",
              rtext_word(tx, "conf", m->obs_level[s] ? m->obs_level[s] : "low"), "exceptions", exc, NULL);
    snprintf(buf, len, "%s (%s%s%s)", m->observed[s], detail, why[0] ? "; " : "", why);
    return buf;
}

static void s_hours_mode(FILE *f, const out_hours_t *h, const out_hours_mode_t *m)
{
    const rtext_t *tx = h->tx;
    char line[800], n0[24], n1[24];
    fprintf(f, "\n## %s\n\n| %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---|---|\n",
            rtext_word(tx, "mode", tax_mode_name(m->mode)), rtext_get(tx, "report.hours.col.side"),
            rtext_get(tx, "report.hours.col.zone"), rtext_get(tx, "report.hours.col.posted"),
            rtext_get(tx, "report.hours.col.observed"), rtext_get(tx, "report.hours.col.compared"),
            rtext_get(tx, "report.hours.col.open"));
    for (int s = 0; s < 2; s++) {
        fprintf(f, "| %s | %s | %s | %s | %s | ", s_side_word(tx, (enum hours_side)s),
                reg_side_tz(h->c, (enum hours_side)s),
                m->rules_known[s] ? m->rules[s] : rtext_get(tx, "report.hours.unknown"),
                s_observed_md(tx, m, s, line, sizeof line),
                rtext_word(tx, "source", m->source[s] ? m->source[s] : "unknown"));
        if (m->open_min[s] < 0)
            fprintf(f, "– |\n");
        else
            fprintf(f, "%s |\n", rtext_num(tx, m->open_min[s] / 60.0, 1, n0, sizeof n0));
    }
    fprintf(f, "\n%s\n", rtext_fmt(tx, line, sizeof line, "report.hours.arrivals", "northbound",
                                   rtext_num(tx, m->demand_total[0], 0, n0, sizeof n0), "southbound",
                                   rtext_num(tx, m->demand_total[1], 0, n1, sizeof n1), NULL));
    s_hours_windows(f, h, m);
    s_hours_runs(f, h, m, HOURS_US);
    s_hours_runs(f, h, m, HOURS_OTHER);
    if (!isnan(m->both_open_share))
        fprintf(f, "\n%s\n", rtext_fmt(tx, line, sizeof line, "report.hours.both_share", "share",
                                       rtext_num(tx, 100 * m->both_open_share, 1, n0, sizeof n0), NULL));
    char hours[16], covered[24];
    snprintf(hours, sizeof hours, "%d", m->sched_hours);
    fprintf(f, "\n%s\n\n    %s\n",
            rtext_fmt(tx, line, sizeof line, "report.hours.schedule", "share",
                      rtext_num(tx, 100 * h->share, 0, n0, sizeof n0), "hours", hours, "covered",
                      rtext_num(tx, 100 * m->sched_share, 1, covered, sizeof covered), NULL),
            m->sched_text);
}

int out_hours_markdown(FILE *f, const out_hours_t *h)
{
    const rtext_t *tx = h->tx;
    char a[80], b[80], title[400], intro[800];
    rtext_fmt(tx, title, sizeof title, "report.hours.title", "id", h->c->id, "name", h->c->name,
              "other", h->c->other_name[0] ? h->c->other_name : rtext_get(tx, "report.hours.other_side"),
              NULL);
    rtext_fmt(tx, intro, sizeof intro, "report.hours.intro", "from", rtext_date(tx, h->from, a, sizeof a),
              "to", rtext_date(tx, h->to, b, sizeof b), NULL);
    fprintf(f, "# %s\n\n%s\n", title, intro);
    for (int i = 0; i < h->nmodes; i++)
        s_hours_mode(f, h, &h->modes[i]);
    return s_done(f);
}

int out_hours_csv(FILE *f, const out_hours_t *h)
{
    fprintf(f, "crossing,mode,kind,side,start_us_local,end_us_local,minutes,arrivals_northbound,"
               "arrivals_southbound,first_hour_northbound,first_hour_southbound,"
               "last_hour_northbound,last_hour_southbound,detail\n");
    for (int i = 0; i < h->nmodes; i++) {
        const out_hours_mode_t *m = &h->modes[i];
        const char *mode = tax_mode_name(m->mode);
        char a[32], b[32];
        for (int k = 0; k < m->nwin && k < 64; k++) {
            const hw_span_t *w = &m->windows[k];
            fprintf(f, "%s,%s,mismatch,%s,%s,%s,%d,%.2f,%.2f,,,,,\n", h->c->id, mode,
                    s_side_name(w->open_side), s_local(h, NULL, HOURS_US, w->start, a, sizeof a),
                    s_local(h, NULL, HOURS_US, w->start + w->len, b, sizeof b), w->len, w->demand[0],
                    w->demand[1]);
        }
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < m->nruns[s] && k < 32; k++) {
                const hw_span_t *r = &m->runs[s][k];
                fprintf(f, "%s,%s,open,%s,%s,%s,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,\n", h->c->id,
                        mode, s_side_name((enum hours_side)s),
                        s_local(h, NULL, HOURS_US, r->start, a, sizeof a),
                        s_local(h, NULL, HOURS_US, r->start + r->len, b, sizeof b), r->len,
                        r->demand[0], r->demand[1], r->first_h[0], r->first_h[1], r->last_h[0],
                        r->last_h[1]);
            }
        for (int s = 0; s < 2; s++)
            fprintf(f, "%s,%s,hours,%s,,,%d,,,,,,,\"posted: %s | observed: %s%s%s | compared: %s\"\n",
                    h->c->id, mode, s_side_name((enum hours_side)s), m->open_min[s], m->rules[s],
                    m->observed[s], m->obs_detail[s][0] ? ", " : "", m->obs_detail[s],
                    m->source[s] ? m->source[s] : "unknown");
        fprintf(f, "%s,%s,schedule,both,,,%d,,,,,,,\"covers %.4f: %s\"\n", h->c->id, mode,
                m->sched_hours * 60, m->sched_share, m->sched_text);
    }
    return s_done(f);
}
