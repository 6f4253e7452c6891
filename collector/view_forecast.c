/* view_forecast — see view_forecast.h. */
#include "view_forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feed.h"
#include "hours.h"
#include "log.h"
#include "zone.h"

static char *s_dump(json_t *root)
{
    if (!root)
        return NULL;
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static json_t *s_iso(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

/* ---- /v1/forecast ------------------------------------------------------- */

static json_t *s_row(const fc_result_t *r, int j)
{
    const fc_step_t *s = &r->step[j];
    return json_pack("[I, i, i, i]", (json_int_t)fc_step_time(r, j), (int)s->p10_s,
                     (int)s->p50_s, (int)s->p90_s);
}

char *view_forecast_json(const xstate_t *x, const route_forecast_t *q)
{
    const fc_result_t *r = x->forecast[q->dir - 1][tax_queue_index(q->mode, q->type)];
    if (!r || !r->issued_s)
        return NULL;
    int n = q->hours * (3600 / FC_STEP_S);
    if (n > FC_NSTEPS)
        n = FC_NSTEPS;
    json_t *rows = json_array();
    int bad = !rows;
    for (int j = 0; j < n && !bad; j++)
        bad = json_array_append_new(rows, s_row(r, j));
    if (bad) {
        json_decref(rows);
        return NULL;
    }
    return s_dump(json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:s?, s:[ssss], s:o}",
                            "crossing", x->reg->id, "direction", tax_dir_name(q->dir),
                            "mode", tax_mode_name(q->mode), "lane", tax_type_name(q->type),
                            "issued", (json_int_t)r->issued_s, "step", FC_STEP_S,
                            "basis", r->short_basis ? "short" : "full",
                            "why_short", r->short_basis ? r->why_short : NULL,
                            "columns", "time", "p10_s", "p50_s", "p90_s", "rows", rows));
}

json_t *view_best_time_json(const fc_result_t *r)
{
    int b = r ? fc_best(r, VIEW_BEST_STEPS) : -1;
    if (b < 0)
        return json_null();
    long now = r->step[0].p50_s, best = r->step[b].p50_s;
    return json_pack("{s:o, s:I, s:i, s:i, s:i, s:s}", "time", s_iso(fc_step_time(r, b)),
                     "time_s", (json_int_t)fc_step_time(r, b), "p50_s", (int)best,
                     "now_p50_s", (int)now, "saving_s", (int)(now - best),
                     "basis", r->short_basis ? "short" : "full");
}

/* ---- CBP's wait-time graph --------------------------------------------- */

/* Mean of the series' wait over (a, b]; NAN when none of it is known. */
static double s_mean(const arch_series_t *s, int64_t a, int64_t b)
{
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < s->nrows; i++) {
        int64_t end = s->start + (int64_t)(i + 1) * s->step;
        double v = s->values[i * ARCH_NCOLS]; /* wait_s */
        if (end > a && end <= b && isfinite(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n / 60.0 : NAN;
}

void view_graph_from_series(const arch_series_t *s, int64_t day_start, view_graph_t *g)
{
    for (int h = 0; h < 24; h++) {
        int64_t a = day_start + h * 3600LL;
        g->today[h] = s_mean(s, a, a + 3600);
        double sum = 0, lo = NAN, hi = NAN;
        int n = 0;
        for (int w = 1; w <= VIEW_GRAPH_WEEKS; w++) {
            int64_t aw = a - w * 7 * 86400LL;
            double v = s_mean(s, aw, aw + 3600);
            if (isnan(v))
                continue;
            sum += v;
            n++;
            lo = isnan(lo) || v < lo ? v : lo;
            hi = isnan(hi) || v > hi ? v : hi;
        }
        g->avg[h] = n ? sum / n : NAN;
        g->min[h] = lo;
        g->max[h] = hi;
    }
}

static int s_set_min(json_t *o, const char *lane, const char *what, double v)
{
    char key[48], val[24] = "";
    snprintf(key, sizeof key, "%s_lane_%s_wait", lane, what);
    if (isfinite(v) && v >= 0)
        snprintf(val, sizeof val, "%ld", lround(v));
    return json_object_set_new(o, key, json_string(val));
}

typedef struct {
    const char *cbp;                 /* "standard", "fast", "ready" */
    enum tax_type type;
} s_lane_t;

static json_t *s_slots(enum tax_mode m, const s_lane_t *lanes, int nlanes,
                       const view_graph_t *const g[TAX_NQUEUES])
{
    json_t *arr = json_array();
    for (int h = 0; arr && h < 24; h++) {
        char t[4];
        snprintf(t, sizeof t, "%d", h);
        json_t *o = json_pack("{s:s}", "time", t);
        int bad = !o;
        for (int l = 0; l < nlanes && !bad; l++) {
            const view_graph_t *q = g[tax_queue_index(m, lanes[l].type)];
            bad = s_set_min(o, lanes[l].cbp, "today", q ? q->today[h] : NAN) ||
                  s_set_min(o, lanes[l].cbp, "average", q ? q->avg[h] : NAN) ||
                  s_set_min(o, lanes[l].cbp, "min", q ? q->min[h] : NAN) ||
                  s_set_min(o, lanes[l].cbp, "max", q ? q->max[h] : NAN);
        }
        if (bad || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

char *view_cbp_graph_json(const xstate_t *x, const char *date,
                          const view_graph_t *const g[TAX_NQUEUES])
{
    /* CBP's names: "fast" is FAST for trucks and NEXUS/SENTRI for cars. */
    static const s_lane_t comm[] = { { "standard", TAX_STANDARD }, { "fast", TAX_FAST } };
    static const s_lane_t priv[] = { { "standard", TAX_STANDARD },
                                     { "fast", TAX_NEXUS_SENTRI },
                                     { "ready", TAX_READY } };
    static const s_lane_t ped[] = { { "standard", TAX_STANDARD }, { "ready", TAX_READY } };
    const reg_crossing_t *r = x->reg;
    /* "pedestrain" is CBP's spelling; clients key on it. */
    json_t *port = json_pack("{s:s, s:s, s:s, s:s, s:{s:o}, s:{s:o}, s:{s:o}}",
                             "port_number", r->id, "port_name", r->port_name,
                             "crossing_name", r->crossing_name, "date", date,
                             "commercial_time_slots", "commercial_slot",
                             s_slots(TAX_COMMERCIAL, comm, 2, g),
                             "private_time_slots", "private_slot",
                             s_slots(TAX_PASSENGER, priv, 3, g),
                             "pedestrain_time_slots", "pedestrain_slot",
                             s_slots(TAX_PEDESTRIAN, ped, 2, g));
    return s_dump(port ? json_pack("[o]", port) : NULL);
}

/* ---- whole requests ------------------------------------------------------ */

static char *s_error(int *status, int code, const char *reason)
{
    *status = code;
    return feed_error_json(code, reason);
}

char *view_forecast_request(state_t *st, const char *query, int *status)
{
    route_forecast_t q;
    char why[256];
    if (route_parse_forecast(query, &q, why, sizeof why) != 0)
        return s_error(status, 400, why);
    const xstate_t *x = state_find(st, q.crossing);
    if (!x) {
        snprintf(why, sizeof why, "unknown crossing '%s'", q.crossing);
        return s_error(status, 404, why);
    }
    char *body = view_forecast_json(x, &q);
    if (!body) {
        snprintf(why, sizeof why, "no forecast for %s %s %s-%s yet (no data)", q.crossing,
                 tax_dir_name(q.dir), tax_mode_name(q.mode), tax_type_name(q.type));
        return s_error(status, 404, why);
    }
    *status = 200;
    return body;
}

char *view_cbp_graph_request(state_t *st, archive_t *archive, const char *id, int64_t now_s,
                             int *status)
{
    char why[256];
    const xstate_t *x = tax_crossing_id_valid(id) ? state_find(st, id) : NULL;
    if (!x) {
        snprintf(why, sizeof why, "unknown crossing '%s'", id);
        return s_error(status, 404, why);
    }
    if (!archive)
        return s_error(status, 503, "history archive not configured");
    const char *tz = reg_side_tz(x->reg, HOURS_US);
    struct tm lt;
    char abbr[16], date[40];
    int64_t day_start;
    if (zone_local(tz, now_s, &lt, abbr, sizeof abbr) != 0 ||
        zone_to_utc(tz, lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday, 0, 0, &day_start) != 0)
        return s_error(status, 503, "the port's time zone is unusable");
    snprintf(date, sizeof date, "%04d-%02d-%02d", lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
    enum tax_dir into = x->reg->border == TAX_BORDER_CA ? TAX_SOUTHBOUND : TAX_NORTHBOUND;
    view_graph_t *g = calloc(TAX_NQUEUES, sizeof *g);
    const view_graph_t *gp[TAX_NQUEUES] = { 0 };
    if (!g)
        return s_error(status, 503, "out of memory");
    int64_t from = day_start - VIEW_GRAPH_WEEKS * 7 * 86400LL;
    for (int k = 0; k < TAX_NQUEUES; k++) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        arch_series_t s;
        int rc = arch_fetch_queue(archive, x->reg->id, into, m, t, from, now_s > from ? now_s : from + 1,
                                  3600, &s, why, sizeof why);
        if (rc < 0) {
            free(g);
            log_warn("http: wait-time graph of %s: %s", x->reg->id, why);
            return s_error(status, 503, "history archive unavailable");
        }
        if (rc == 1)
            continue;
        view_graph_from_series(&s, day_start, &g[k]);
        gp[k] = &g[k];
        arch_series_free(&s);
    }
    char *body = view_cbp_graph_json(x, date, gp);
    free(g);
    if (!body)
        return s_error(status, 503, "out of memory");
    *status = 200;
    return body;
}
