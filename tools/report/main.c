/* poe-report — reports for port managers and planners, read from the RRD
 * archive through rrdcached (docs/guide-port-managers.md,
 * docs/guide-planners.md).
 *
 *   poe-report bottlenecks --archive DIR --rrdcached unix:SOCK [--registry FILE]
 *              [--from T --to T] [--target-wait MIN] [--out DIR]
 *   poe-report hours --crossing ID --archive DIR --rrdcached unix:SOCK --registry FILE
 *              [--from T --to T] [--share P] [--out DIR]
 *   poe-report official --archive DIR --rrdcached unix:SOCK [--crossing ID]
 *              [--from T --to T] [--out DIR]     (official.md, official.csv, official.png)
 *   poe-report check-i18n [--i18n DIR]          (the report catalogs load and agree)
 *
 * Every command takes --lang en|es|fr (default: the language of LC_ALL /
 * LC_MESSAGES / LANG when it is one of those, else English) and --i18n DIR
 * (the report catalogs, rtext.h; default the source tree's next to the
 * binary, else the installed ones): the Markdown is written in that
 * language, the CSV stays English.
 *
 * T is Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC); the default
 * period is the 7 days before now. bottlenecks writes bottlenecks.md,
 * bottlenecks.csv, bottlenecks-hourly.csv and heatmap-<crossing>.png into
 * DIR; hours writes hours-<crossing>.md and hours-<crossing>.csv. The
 * Markdown also goes to stdout. Exit 0 done, 1 failed, 2 bad usage.
 *
 * This file owns the command line and the gathering: which queues, which
 * zone each is judged in, reading series (scan.c) and handing them to the
 * pure analyses (bottleneck.c, hourswin.c) and the writers (output.c,
 * heatmap.c). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "bottleneck.h"
#include "conf.h"
#include "heatmap.h"
#include "hours_obs.h"
#include "hourswin.h"
#include "log.h"
#include "offreport.h"
#include "output.h"
#include "registry.h"
#include "rtext.h"
#include "scan.h"
#include "zone.h"

#define REP_MAX_LANES 64

typedef struct {
    char *archive, *rrdcached, *registry, *from_s, *to_s, *out, *crossing, *log_level;
    char *lang, *i18n;
    double target_min, share;
    int64_t from, to;
    registry_t *reg;
    archive_t *arch;
    rtext_t *tx;                 /* the Markdown's words */
} rep_t;

/* ---- common ---------------------------------------------------------------- */

/* Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC). 0 or -1. */
static int s_parse_time(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end == '\0' && end != s && strlen(s) > 8) {
        *out = v;
        return 0;
    }
    struct tm tm = { 0 };
    const char *rest = strptime(s, "%Y-%m-%d", &tm);
    if (rest && *rest == 'T')
        rest = strptime(rest + 1, "%H:%M", &tm);
    if (!rest || *rest) {
        log_error("bad time '%s' (Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)", s);
        return -1;
    }
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int s_period(rep_t *r)
{
    int64_t now = (int64_t)time(NULL);
    r->to = now;
    if (r->to_s && s_parse_time(r->to_s, &r->to) != 0)
        return -1;
    r->from = r->to - 7 * 86400;
    if (r->from_s && s_parse_time(r->from_s, &r->from) != 0)
        return -1;
    if (r->from >= r->to) {
        log_error("--from must be before --to");
        return -1;
    }
    return 0;
}

static int s_open(rep_t *r, bool need_registry)
{
    if (!r->archive || !r->rrdcached) {
        log_error("--archive and --rrdcached are required");
        return -1;
    }
    if (need_registry && !r->registry) {
        log_error("--registry is required");
        return -1;
    }
    if (r->registry) {
        int nbad = 0;
        r->reg = reg_load(r->registry, &nbad);
        if (!r->reg)
            return -1;
        if (nbad)
            log_warn("%s: %d entries rejected", r->registry, nbad);
    }
    r->arch = arch_new(r->rrdcached, r->archive, ARCH_FULL);
    return r->arch ? 0 : -1;
}

static FILE *s_create(const rep_t *r, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", r->out ? r->out : ".", name);
    FILE *f = fopen(path, "w");
    if (!f)
        log_error("cannot write %s", path);
    return f;
}

/* Writes one report file with fn, and (for Markdown) stdout too. */
typedef int (*s_writer_fn)(FILE *f, const void *arg);

static int s_emit(const rep_t *r, const char *name, s_writer_fn fn, const void *arg, bool to_stdout)
{
    char path[4096];
    FILE *f = s_create(r, name, path, sizeof path);
    if (!f)
        return -1;
    int rc = fn(f, arg);
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && to_stdout)
        rc = fn(stdout, arg);
    if (rc == 0)
        log_info("wrote %s", path);
    return rc;
}

/* The zone a queue is judged in: the side that inspects its direction. */
static const char *s_queue_zone(const rep_t *r, const scan_queue_t *q)
{
    const reg_crossing_t *c = r->reg ? reg_find(r->reg, q->crossing) : NULL;
    return c ? reg_side_tz(c, hours_side_of(c->border, q->dir)) : NULL;
}

/* Hour of the week of each row's start (-1 outside [from, to)). */
static int16_t *s_row_hours(const rep_t *r, const arch_series_t *s, const char *zone)
{
    int16_t *how = malloc((s->nrows ? s->nrows : 1) * sizeof *how);
    if (!how) {
        log_error("out of memory");
        return NULL;
    }
    for (size_t i = 0; i < s->nrows; i++) {
        int64_t t = s->start + (int64_t)i * s->step;
        how[i] = (int16_t)(t < r->from || t >= r->to ? -1 : scan_hour_of_week(zone, t));
    }
    return how;
}

/* ---- bottlenecks --------------------------------------------------------- */

typedef struct {
    const out_bn_ctx_t *ctx;
    const bn_result_t *r;
    size_t n;
} s_bn_args_t;

static int s_w_bn_md(FILE *f, const void *a)
{
    const s_bn_args_t *x = a;
    return out_bn_markdown(f, x->ctx, x->r, x->n);
}
static int s_w_bn_csv(FILE *f, const void *a)
{
    const s_bn_args_t *x = a;
    return out_bn_csv(f, x->ctx, x->r, x->n);
}
static int s_w_bn_hourly(FILE *f, const void *a)
{
    const s_bn_args_t *x = a;
    return out_bn_hourly_csv(f, x->r, x->n);
}

static int s_analyse_queue(const rep_t *r, const scan_queue_t *q, bn_result_t *out)
{
    arch_series_t s;
    int rc = scan_fetch(r->arch, q, r->from, r->to, &s);
    if (rc != 0)
        return rc;
    int16_t *how = s_row_hours(r, &s, s_queue_zone(r, q));
    rc = how ? bn_analyse(q, &s, how, r->target_min * 60, REP_MAX_LANES, out) : -1;
    free(how);
    arch_series_free(&s);
    return rc;
}

/* One heat map per crossing, panels in archive order. */
static int s_heatmaps(const rep_t *r, const bn_result_t *res, size_t n)
{
    hm_panel_t *p = calloc(n ? n : 1, sizeof *p);
    if (!p)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t k = 0, j = i;
        for (; j < n && strcmp(res[j].q.crossing, res[i].q.crossing) == 0; j++, k++) {
            snprintf(p[k].label, sizeof p[k].label, "%s %s %s", tax_dir_name(res[j].q.dir),
                     tax_mode_name(res[j].q.mode), tax_type_name(res[j].q.type));
            memcpy(p[k].wait_s, res[j].wait_how, sizeof p[k].wait_s);
        }
        char path[4096], title[160];
        const reg_crossing_t *c = r->reg ? reg_find(r->reg, res[i].q.crossing) : NULL;
        snprintf(path, sizeof path, "%s/heatmap-%s.png", r->out ? r->out : ".", res[i].q.crossing);
        snprintf(title, sizeof title, "%s %s - MEAN WAIT BY HOUR OF WEEK", res[i].q.crossing,
                 c ? c->name : "");
        rc = hm_write_png(path, title, p, k, r->target_min * 60);
        if (rc == 0)
            log_info("wrote %s", path);
        i = j;
    }
    free(p);
    return rc;
}

static int s_bottlenecks(rep_t *r)
{
    scan_queue_t *qs = NULL;
    size_t nq = 0;
    if (scan_list(r->archive, r->crossing, &qs, &nq) != 0 || s_open(r, false) != 0) {
        free(qs);
        return -1;
    }
    bn_result_t *res = calloc(nq ? nq : 1, sizeof *res);
    size_t n = 0;
    int rc = res ? 0 : -1;
    for (size_t i = 0; i < nq && rc == 0; i++) {
        int k = s_analyse_queue(r, &qs[i], &res[n]);
        if (k == 0)
            n++;
        rc = k < 0 ? -1 : 0;
    }
    free(qs);
    if (rc == 0)
        rc = s_heatmaps(r, res, n);   /* archive order: one picture per crossing */
    bn_rank(res, n);
    out_bn_ctx_t ctx = { .from = r->from, .to = r->to, .target_s = r->target_min * 60, .reg = r->reg,
                         .tx = r->tx };
    s_bn_args_t a = { &ctx, res, n };
    if (rc == 0)
        rc = s_emit(r, "bottlenecks.md", s_w_bn_md, &a, true);
    if (rc == 0)
        rc = s_emit(r, "bottlenecks.csv", s_w_bn_csv, &a, false);
    if (rc == 0)
        rc = s_emit(r, "bottlenecks-hourly.csv", s_w_bn_hourly, &a, false);
    free(res);
    return rc;
}

/* ---- hours --------------------------------------------------------------- */

/* Monday 00:00 UTC at or before t. */
static int64_t s_week_start(int64_t t)
{
    int64_t day = (t >= 0 ? t : t - 86399) / 86400;       /* days since Thu 1970-01-01 */
    int64_t dow = ((day + 3) % 7 + 7) % 7;                /* 0 = Monday */
    return (day - dow) * 86400;
}

/* Each side's state per minute of the week for mode m, by the hours used
 * for that side (posted, or observed where posted are unknown; NULL:
 * unknown). */
static void s_states(const reg_crossing_t *c, const hours_side_t *const used[2], enum tax_mode m,
                     int64_t week, int8_t st[2][HW_MINUTES])
{
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < HW_MINUTES; i++) {
            struct tm lt;
            char abbr[16];
            if (!used[s] ||
                zone_local(reg_side_tz(c, (enum hours_side)s), week + 60LL * i, &lt, abbr, sizeof abbr))
                st[s][i] = HOURS_UNKNOWN;
            else
                st[s][i] = (int8_t)hours_state_local(used[s], m, &lt);
        }
}

/* Add a series' arrivals to per-minute sums and counts, and its open lanes
 * to the track of the side its direction enters (the observed hours). */
static void s_add_demand(const rep_t *r, const arch_series_t *s, int64_t week, double *sum, double *cnt,
                         hours_obs_t *track)
{
    int per = s->step >= 60 ? (int)(s->step / 60) : 1;
    for (size_t i = 0; i < s->nrows; i++) {
        int64_t t = s->start + (int64_t)i * s->step;
        double lanes = s->values[i * ARCH_NCOLS + 3], dep = s->values[i * ARCH_NCOLS + 2];
        for (int k = 0; track && t >= r->from && t < r->to && k < per; k++)
            hours_obs_add(track, t + 60LL * k, lanes, isnan(dep) ? NAN : dep / per, r->to + 86400);
        double a = s->values[i * ARCH_NCOLS + 1];
        if (t < r->from || t >= r->to || isnan(a))
            continue;
        for (int k = 0; k < per; k++) {
            int64_t m = (((t + 60LL * k - week) / 60) % HW_MINUTES + HW_MINUTES) % HW_MINUTES;
            sum[m] += a / per;
            cnt[m] += 1;
        }
    }
}

/* Per direction: the sum over lane types of arrivals per minute of the week,
 * each minute averaged over the weeks it was observed. */
static int s_demand(const rep_t *r, const reg_crossing_t *c, enum tax_mode m, int64_t week,
                    hw_demand_t *d, hours_obs_t *track[2])
{
    memset(d, 0, sizeof *d);
    for (int di = 0; di < TAX_NDIRS; di++)
        for (int t = 1; t <= TAX_NTYPES; t++) {
            scan_queue_t q = { .dir = (enum tax_dir)(di + 1), .mode = m, .type = (enum tax_type)t };
            snprintf(q.crossing, sizeof q.crossing, "%s", c->id);
            arch_series_t s;
            int rc = scan_fetch(r->arch, &q, r->from, r->to, &s);
            if (rc < 0)
                return -1;
            if (rc > 0)
                continue;
            double *sum = calloc(HW_MINUTES, sizeof *sum), *cnt = calloc(HW_MINUTES, sizeof *cnt);
            if (sum && cnt) {
                s_add_demand(r, &s, week, sum, cnt,
                             track[hours_side_of(c->border, (enum tax_dir)(di + 1))]);
                for (int i = 0; i < HW_MINUTES; i++)
                    d->v[di][i] += cnt[i] > 0 ? sum[i] / cnt[i] : 0;
            }
            free(sum);
            free(cnt);
            arch_series_free(&s);
            if (!sum || !cnt)
                return -1;
        }
    return 0;
}

/* The rules as the registry writes them; false (and "unknown") when none. */
static bool s_rules_text(const hours_side_t *h, enum tax_mode m, char *buf, size_t len)
{
    const hours_mode_t *hm = h->known ? &h->mode[m] : NULL;
    if (!hm || hm->nrules == 0) {
        snprintf(buf, len, "unknown");
        return false;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < hm->nrules && used < len; i++) {
        char rule[64];
        hours_rule_text(&hm->rules[i], rule, sizeof rule);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "; " : "", hm->always ? "24h" : rule);
    }
    return true;
}

/* Learns each side's observed hours from its tracks; used[s] is the posted
 * side where known, else tmp[s] holding the observed rules, else NULL. */
static int s_observed(const reg_crossing_t *c, enum tax_mode m, hours_obs_t *track[2],
                      out_hours_mode_t *o, hours_side_t tmp[2], const hours_side_t *used[2])
{
    hobs_result_t *res = malloc(sizeof *res);
    if (!res)
        return -1;
    for (int s = 0; s < 2; s++) {
        hours_obs_learn(track[s], 0, res);   /* the window ends at the archive's last day */
        memset(&tmp[s], 0, sizeof tmp[s]);
        tmp[s].known = res->status == HOBS_KNOWN;
        tmp[s].mode[m] = res->sched;
        o->obs_known[s] = tmp[s].known;
        o->obs_weeks[s] = res->weeks;
        o->obs_exc[s] = res->nexc_total;
        o->obs_conf[s] = res->confidence;
        o->obs_level[s] = hours_obs_confidence_level(res->confidence);
        snprintf(o->obs_why[s], sizeof o->obs_why[s], "%s", res->why);
        if (tmp[s].known) {
            s_rules_text(&tmp[s], m, o->observed[s], sizeof o->observed[s]);
            snprintf(o->obs_detail[s], sizeof o->obs_detail[s], "%d weeks, confidence %.2f (%s), %d exceptions%s%s",
                     res->weeks, res->confidence, hours_obs_confidence_level(res->confidence), res->nexc_total,
                     res->why[0] ? "; " : "", res->why);
        } else {
            snprintf(o->observed[s], sizeof o->observed[s], "unknown (%s)", res->why);
        }
        bool posted = c->hours[s].known && c->hours[s].mode[m].nrules > 0;
        used[s] = posted ? &c->hours[s] : tmp[s].known ? &tmp[s] : NULL;
        o->source[s] = posted ? "posted" : tmp[s].known ? "observed" : "unknown";
    }
    free(res);
    return 0;
}

/* Everything the hours report says about mode m. */
static int s_hours_mode(const rep_t *r, const reg_crossing_t *c, enum tax_mode m, int64_t week,
                        out_hours_mode_t *o, hw_demand_t *d)
{
    static int8_t st[2][HW_MINUTES];
    static int16_t how[HW_MINUTES];
    memset(o, 0, sizeof *o);
    o->mode = m;
    hours_obs_t *track[2] = { hours_obs_new(reg_side_tz(c, HOURS_US)),
                              hours_obs_new(reg_side_tz(c, HOURS_OTHER)) };
    hours_side_t tmp[2];
    const hours_side_t *used[2];
    int rc = track[0] && track[1] ? s_demand(r, c, m, week, d, track) : -1;
    if (rc == 0)
        rc = s_observed(c, m, track, o, tmp, used);
    hours_obs_destroy(&track[0]);
    hours_obs_destroy(&track[1]);
    if (rc != 0)
        return -1;
    s_states(c, used, m, week, st);
    double both = 0, total = 0;
    for (int s = 0; s < 2; s++) {
        o->rules_known[s] = s_rules_text(&c->hours[s], m, o->rules[s], sizeof o->rules[s]);
        o->open_min[s] = st[s][0] == HOURS_UNKNOWN ? -1 : 0;
        hw_open_runs(st[s], d, o->runs[s], 32, &o->nruns[s]);
    }
    for (int i = 0; i < HW_MINUTES; i++) {
        double v = d->v[0][i] + d->v[1][i];
        total += v;
        both += st[0][i] == HOURS_OPEN && st[1][i] == HOURS_OPEN ? v : 0;
        for (int s = 0; s < 2; s++)
            o->open_min[s] += o->open_min[s] >= 0 && st[s][i] == HOURS_OPEN;
        how[i] = (int16_t)scan_hour_of_week(c->us_tz, week + 60LL * i);
    }
    for (int di = 0; di < TAX_NDIRS; di++)
        o->demand_total[di] = hw_demand_sum(d, di, 0, HW_MINUTES);
    o->both_open_share = o->open_min[0] < 0 || o->open_min[1] < 0 || total <= 0 ? NAN : both / total;
    o->win_minutes = hw_mismatch(st[0], st[1], d, o->windows, 64, &o->nwin);
    double by_hour[HW_HOURS];
    hw_demand_by_hour(d, how, by_hour);
    o->sched_hours = hw_schedule(by_hour, r->share, o->sched, &o->sched_share);
    hw_schedule_text(o->sched, o->sched_text, sizeof o->sched_text);
    return 0;
}

static int s_w_hours_md(FILE *f, const void *a) { return out_hours_markdown(f, a); }
static int s_w_hours_csv(FILE *f, const void *a) { return out_hours_csv(f, a); }

static int s_hours(rep_t *r)
{
    if (!r->crossing) {
        log_error("--crossing is required");
        return -1;
    }
    if (r->share <= 0 || r->share > 1) {
        log_error("--share must be in (0, 1]");
        return -1;
    }
    if (s_open(r, true) != 0)
        return -1;
    const reg_crossing_t *c = reg_find(r->reg, r->crossing);
    if (!c) {
        log_error("crossing %s is not in %s", r->crossing, r->registry);
        return -1;
    }
    out_hours_t *h = calloc(1, sizeof *h);
    hw_demand_t *d = malloc(sizeof *d);
    int rc = h && d ? 0 : -1;
    if (rc == 0) {
        *h = (out_hours_t){ .c = c, .from = r->from, .to = r->to,
                            .week_start = s_week_start(r->from), .share = r->share, .tx = r->tx };
        for (int m = 1; m <= TAX_NMODES && rc == 0; m++)
            if (c->max_lanes[m] > 0)
                rc = s_hours_mode(r, c, (enum tax_mode)m, h->week_start, &h->modes[h->nmodes++], d);
    }
    char name[64];
    snprintf(name, sizeof name, "hours-%s.md", c->id);
    if (rc == 0)
        rc = s_emit(r, name, s_w_hours_md, h, true);
    snprintf(name, sizeof name, "hours-%s.csv", c->id);
    if (rc == 0)
        rc = s_emit(r, name, s_w_hours_csv, h, false);
    free(d);
    free(h);
    return rc;
}

/* ---- official ----------------------------------------------------------- */

static int s_official(rep_t *r)
{
    scan_queue_t *qs = NULL;
    size_t nq = 0;
    if (scan_list(r->archive, r->crossing, &qs, &nq) != 0 || s_open(r, false) != 0) {
        free(qs);
        return -1;
    }
    or_opts_t o = { .archive_dir = r->archive, .rrdcached = r->rrdcached, .tx = r->tx,
                    .out_dir = r->out ? r->out : ".", .from = r->from, .to = r->to };
    int rc = or_run(r->arch, qs, nq, &o);
    free(qs);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

static void s_usage(void)
{
    fprintf(stderr, "usage: poe-report bottlenecks|hours|official|check-i18n [options]   (poe-report SUBCOMMAND --help)\n");
}

/* The language and its catalogs: 0, 2 (a language we lack) or 3 (the
 * catalogs are missing or invalid); logged. */
static int s_text(rep_t *r)
{
    const char *lang = rtext_pick_lang(r->lang);
    if (!lang) {
        log_error("--lang '%s': one of en, es, fr", r->lang);
        return 2;
    }
    char dflt[4096], why[600];
    const char *dir = r->i18n ? r->i18n : rtext_default_dir(dflt, sizeof dflt);
    r->tx = rtext_load(dir, lang, why, sizeof why);
    if (!r->tx) {
        log_error("%s%s", why, r->i18n ? "" : " (give the catalogs' directory with --i18n DIR)");
        return 3;
    }
    log_info("report language %s, catalogs %s", lang, dir);
    return 0;
}

int main(int argc, char **argv)
{
    rep_t r = { .target_min = 15, .share = 0.98, .log_level = NULL };
    const conf_opt_t opts[] = {
        { "archive", CONF_STR, &r.archive, "DIR", "archive root (the collector's --archive)" },
        { "rrdcached", CONF_STR, &r.rrdcached, "unix:PATH", "rrdcached socket" },
        { "registry", CONF_STR, &r.registry, "FILE", "crossing registry (names, zones, hours)" },
        { "from", CONF_STR, &r.from_s, "T", "start: Unix s, YYYY-MM-DD or YYYY-MM-DDTHH:MM UTC [to - 7 days]" },
        { "to", CONF_STR, &r.to_s, "T", "end [now]" },
        { "target-wait", CONF_DOUBLE, &r.target_min, "MIN", "bottlenecks: target wait in minutes [15]" },
        { "crossing", CONF_STR, &r.crossing, "ID", "hours: the crossing (bottlenecks, official: only this one)" },
        { "share", CONF_DOUBLE, &r.share, "P", "hours: share of demand the schedule covers [0.98]" },
        { "out", CONF_STR, &r.out, "DIR", "where the files go [.]" },
        { "lang", CONF_STR, &r.lang, "en|es|fr", "language of the Markdown [LC_ALL/LC_MESSAGES/LANG if es or fr, else en]" },
        { "i18n", CONF_STR, &r.i18n, "DIR", "report catalogs <lang>.json [the source tree's next to the binary, else " RTEXT_INSTALLED "]" },
        { "log-level", CONF_STR, &r.log_level, "LEVEL", "error|warn|info|debug [warn]" },
    };
    int n = (int)(sizeof opts / sizeof opts[0]);
    log_init("poe-report", LOG_LVL_WARN);
    if (argc < 2 || (strcmp(argv[1], "bottlenecks") != 0 && strcmp(argv[1], "hours") != 0 &&
                     strcmp(argv[1], "official") != 0 && strcmp(argv[1], "check-i18n") != 0)) {
        s_usage();
        return 2;
    }
    const char *cmd = argv[1];
    int prc = conf_parse(opts, n, argc - 1, argv + 1, "poe-report",
                         "Reports from the archive: bottlenecks | hours | official | check-i18n.");
    int rc = 2, trc = 2;
    if (prc == 0 && r.log_level)
        log_init_named("poe-report", r.log_level);
    if (prc > 0) {
        rc = 0;
    } else if (prc == 0 && (trc = s_text(&r)) != 0) {
        rc = trc;   /* 2 bad --lang, 3 bad catalogs */
    } else if (prc == 0 && strcmp(cmd, "check-i18n") == 0) {
        printf("report catalogs: en, es, fr agree; Markdown in %s\n", rtext_lang(r.tx));
        rc = 0;
    } else if (prc == 0 && r.target_min > 0 && s_period(&r) == 0) {
        int k = strcmp(cmd, "hours") == 0      ? s_hours(&r)
                : strcmp(cmd, "official") == 0 ? s_official(&r)
                                               : s_bottlenecks(&r);
        rc = k == 0 ? 0 : 1;
    }
    arch_destroy(&r.arch);
    reg_destroy(&r.reg);
    rtext_destroy(&r.tx);
    conf_free(opts, n);
    return rc;
}
