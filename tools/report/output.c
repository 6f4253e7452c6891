/* output — see output.h. */
#include "output.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "zone.h"

static const char *s_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

/* "12.5" or "–" for unknown, in minutes. */
static const char *s_min(double s, char *buf, size_t len)
{
    if (isnan(s))
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, "%.1f", s / 60.0);
    return buf;
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
    fprintf(f, "| rank | crossing | direction | queue | p50 | p85 | p95 | h/week > target | "
               "utilisation | service/lane | arrivals/week | most lanes needed |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const bn_result_t *b = &r[i];
        char p50[16], p85[16], p95[16];
        fprintf(f, "| %zu | %s %s | %s | %s-%s | %s | %s | %s | %.1f | ", i + 1, b->q.crossing,
                s_name(ctx->reg, b->q.crossing), tax_dir_name(b->q.dir), tax_mode_name(b->q.mode),
                tax_type_name(b->q.type), s_min(b->p50_s, p50, sizeof p50),
                s_min(b->p85_s, p85, sizeof p85), s_min(b->p95_s, p95, sizeof p95),
                b->hours_above_week);
        if (isnan(b->utilisation))
            fprintf(f, "– | ");
        else
            fprintf(f, "%.0f %% | ", 100 * b->utilisation);
        if (isnan(b->mu))
            fprintf(f, "– | ");
        else
            fprintf(f, "%.0f s%s | ", 1.0 / b->mu, b->mu_busy ? "" : " (lower bound)");
        fprintf(f, "%.0f | %d |\n", b->arrivals_week, b->need_max);
    }
}

/* A 7 × 24 table of lanes needed, with the lanes that were open. */
static void s_bn_needs(FILE *f, const bn_result_t *b)
{
    fprintf(f, "\n#### %s %s %s-%s: lanes needed (open) by hour\n\n| day |", b->q.crossing,
            tax_dir_name(b->q.dir), tax_mode_name(b->q.mode), tax_type_name(b->q.type));
    for (int h = 0; h < 24; h++)
        fprintf(f, " %02d |", h);
    fprintf(f, "\n|---|");
    for (int h = 0; h < 24; h++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    for (int d = 0; d < 7; d++) {
        fprintf(f, "| %s |", scan_day_name(d));
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
    char a[40], b[40];
    fprintf(f, "# Bottlenecks, %s to %s\n\nTarget wait %.0f min. Waits are the archived "
               "estimates for a unit joining the queue (percentiles over the minutes the queue "
               "was open); hours per week above the target count those minutes. Utilisation is "
               "arrivals over what the open lanes could serve at the per-lane rate observed "
               "while every open booth was busy. Lanes needed: the fewest lanes whose M/M/c "
               "(Erlang-C) mean wait, with the hour's arrival rate and that service rate, is "
               "within the target. Ranked worst first.\n\n",
            s_date(ctx->from, a, sizeof a), s_date(ctx->to, b, sizeof b), ctx->target_s / 60);
    s_bn_table(f, ctx, r, n);
    fprintf(f, "\n### Lanes needed per hour of the week\n\nEach cell: lanes needed for the "
               "target (mean lanes that were open); **bold** where more were needed than "
               "opened; ∞ where no number of lanes reaches the target; – no data. Hours are "
               "local to the inspecting side.\n");
    for (size_t i = 0; i < n; i++)
        s_bn_needs(f, &r[i]);
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

/* "Mon 06:00" local to a side, for minute m of the week. */
static const char *s_local(const out_hours_t *h, enum hours_side side, int m, char *buf, size_t len)
{
    struct tm lt;
    char abbr[16];
    int64_t t = h->week_start + 60LL * (m % HW_MINUTES);
    if (zone_local(reg_side_tz(h->c, side), t, &lt, abbr, sizeof abbr) != 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    snprintf(buf, len, "%s %02d:%02d", scan_day_name((lt.tm_wday + 6) % 7), lt.tm_hour, lt.tm_min);
    return buf;
}

static const char *s_side_name(enum hours_side s) { return s == HOURS_US ? "US" : "other"; }

static void s_hours_windows(FILE *f, const out_hours_t *h, const out_hours_mode_t *m)
{
    fprintf(f, "\n**Mismatch windows** (one side open, the other closed): %d per week, %d min "
               "in all.\n\n", m->nwin, m->win_minutes);
    if (m->nwin == 0)
        return;
    fprintf(f, "| open side | from (US local) | to (US local) | from (other local) | minutes | "
               "arrivals northbound | arrivals southbound |\n|---|---|---|---|---|---|---|\n");
    int kept = m->nwin < 64 ? m->nwin : 64;
    for (int i = 0; i < kept; i++) {
        const hw_span_t *w = &m->windows[i];
        char a[32], b[32], c[32];
        fprintf(f, "| %s | %s | %s | %s | %d | %.1f | %.1f |\n", s_side_name(w->open_side),
                s_local(h, HOURS_US, w->start, a, sizeof a),
                s_local(h, HOURS_US, w->start + w->len, b, sizeof b),
                s_local(h, HOURS_OTHER, w->start, c, sizeof c), w->len, w->demand[0], w->demand[1]);
    }
}

static void s_hours_runs(FILE *f, const out_hours_t *h, const out_hours_mode_t *m, enum hours_side s)
{
    if (m->open_min[s] < 0)
        return;
    if (m->nruns[s] == 1 && m->runs[s][0].len == HW_MINUTES) {
        fprintf(f, "\n%s side: open all week.\n", s_side_name(s));
        return;
    }
    fprintf(f, "\n%s side's days (its local time): arrivals in the first and last hour "
               "(northbound / southbound)\n\n| opens | closes | first hour | last hour |\n"
               "|---|---|---|---|\n", s_side_name(s));
    int kept = m->nruns[s] < 32 ? m->nruns[s] : 32;
    for (int i = 0; i < kept; i++) {
        const hw_span_t *r = &m->runs[s][i];
        char a[32], b[32];
        fprintf(f, "| %s | %s | %.1f / %.1f | %.1f / %.1f |\n", s_local(h, s, r->start, a, sizeof a),
                s_local(h, s, r->start + r->len, b, sizeof b), r->first_h[0], r->first_h[1],
                r->last_h[0], r->last_h[1]);
    }
}

static void s_hours_mode(FILE *f, const out_hours_t *h, const out_hours_mode_t *m)
{
    fprintf(f, "\n## %s\n\n| side | zone | posted | observed (learned from its lanes) | compared | "
               "open h/week |\n|---|---|---|---|---|---|\n", tax_mode_name(m->mode));
    for (int s = 0; s < 2; s++) {
        fprintf(f, "| %s | %s | %s | %s%s%s%s | %s | ", s_side_name((enum hours_side)s),
                reg_side_tz(h->c, (enum hours_side)s), m->rules[s], m->observed[s],
                m->obs_detail[s][0] ? " (" : "", m->obs_detail[s], m->obs_detail[s][0] ? ")" : "",
                m->source[s] ? m->source[s] : "unknown");
        if (m->open_min[s] < 0)
            fprintf(f, "– |\n");
        else
            fprintf(f, "%.1f |\n", m->open_min[s] / 60.0);
    }
    fprintf(f, "\nArchived arrivals per week: %.0f northbound, %.0f southbound.\n",
            m->demand_total[0], m->demand_total[1]);
    s_hours_windows(f, h, m);
    s_hours_runs(f, h, m, HOURS_US);
    s_hours_runs(f, h, m, HOURS_OTHER);
    if (!isnan(m->both_open_share))
        fprintf(f, "\nShare of arrivals while both sides are open today: %.1f %%.\n",
                100 * m->both_open_share);
    fprintf(f, "\n**Recommended common schedule** (US local time, both sides, covering %.0f %% of "
               "arrivals with the fewest open hours): %d h/week, covers %.1f %%:\n\n    %s\n",
            100 * h->share, m->sched_hours, 100 * m->sched_share, m->sched_text);
}

int out_hours_markdown(FILE *f, const out_hours_t *h)
{
    char a[40], b[40];
    fprintf(f, "# Hours of operation: %s %s / %s\n\nArchive %s to %s. Demand is the archived "
               "arrivals (both directions) per week, by minute of the week.\n",
            h->c->id, h->c->name, h->c->other_name[0] ? h->c->other_name : "other side",
            s_date(h->from, a, sizeof a), s_date(h->to, b, sizeof b));
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
                    s_side_name(w->open_side), s_local(h, HOURS_US, w->start, a, sizeof a),
                    s_local(h, HOURS_US, w->start + w->len, b, sizeof b), w->len, w->demand[0],
                    w->demand[1]);
        }
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < m->nruns[s] && k < 32; k++) {
                const hw_span_t *r = &m->runs[s][k];
                fprintf(f, "%s,%s,open,%s,%s,%s,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,\n", h->c->id,
                        mode, s_side_name((enum hours_side)s),
                        s_local(h, HOURS_US, r->start, a, sizeof a),
                        s_local(h, HOURS_US, r->start + r->len, b, sizeof b), r->len,
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
