/* feed_hours — see feed_hours.h. */
#include "feed_hours.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "hours_dev.h"
#include "timeutil.h"
#include "zone.h"

#define FH_MAX_WINDOWS 64

static const char *const s_days[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static json_t *s_rule_json(const hours_rule_t *r)
{
    json_t *days = json_array();
    for (int d = 0; d < 7; d++)
        if (r->days & (1u << d))
            json_array_append_new(days, json_string(s_days[d]));
    char from[8], to[8], text[64];
    snprintf(from, sizeof from, "%02d:%02d", r->from_min / 60, r->from_min % 60);
    snprintf(to, sizeof to, "%02d:%02d", r->to_min / 60, r->to_min % 60);
    json_t *season = json_null();
    if (r->season_from) {
        char a[8], b[8];
        snprintf(a, sizeof a, "%02d-%02d", r->season_from / 100, r->season_from % 100);
        snprintf(b, sizeof b, "%02d-%02d", r->season_to / 100, r->season_to % 100);
        season = json_pack("{s:s, s:s}", "from", a, "to", b);
    }
    return json_pack("{s:s, s:o, s:s, s:s, s:b, s:o}", "text", hours_rule_text(r, text, sizeof text),
                     "days", days, "from", from, "to", to, "overnight", r->to_min <= r->from_min,
                     "season", season);
}

static json_t *s_rules_json(const hours_mode_t *hm)
{
    json_t *rules = json_array();
    for (int i = 0; i < hm->nrules; i++)
        json_array_append_new(rules, s_rule_json(&hm->rules[i]));
    return rules;
}

/* The rules as one line: "mon-fri 08:00-22:00; sat,sun 09:00-18:00". */
static json_t *s_rules_text(const hours_mode_t *hm)
{
    char buf[16 * 48] = "", one[64];
    size_t o = 0;
    for (int i = 0; i < hm->nrules && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? "; " : "",
                              hours_rule_text(&hm->rules[i], one, sizeof one));
    return json_string(buf);
}

static json_t *s_posted_json(const hours_side_t *h, enum tax_mode m)
{
    const hours_mode_t *hm = &h->mode[m];
    if (!h->known || hm->nrules == 0)
        return json_pack("{s:b, s:b, s:[], s:n, s:n}", "known", 0, "always_open", 0, "rules",
                         "text", "source");
    return json_pack("{s:b, s:b, s:o, s:o, s:s?}", "known", 1, "always_open", hm->always,
                     "rules", s_rules_json(hm), "text", s_rules_text(hm),
                     "source", h->source[0] ? h->source : NULL);
}

static json_t *s_date(int64_t daynum)
{
    int y, m, d;
    char buf[16];
    hours_obs_civil(daynum, &y, &m, &d);
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    return json_string(buf);
}

static json_t *s_observed_json(const hobs_result_t *r)
{
    json_t *exc = json_array();
    for (int i = 0; i < r->nexc; i++) {
        const hobs_exception_t *e = &r->exc[i];
        json_array_append_new(exc, json_pack("{s:o, s:s, s:i, s:s}", "date",
                                             s_date(hours_obs_daynum(e->year, e->month, e->day)),
                                             "kind", hours_obs_exc_name(e->kind), "minutes", e->minutes,
                                             "observed", e->observed));
    }
    bool known = r->status == HOBS_KNOWN;
    json_t *data = json_pack("{s:i, s:i, s:i, s:i, s:i}", "days_usable", r->days_usable, "days_silent",
                             r->days_silent, "days_silent_recent", r->days_silent_recent,
                             "days_flapping", r->days_flapping, "days_stuck", r->days_stuck);
    json_t *window = r->last_day > 0 ? json_pack("{s:o, s:o}", "from", s_date(r->first_day), "to",
                                                 s_date(r->last_day))
                                     : json_null();
    return json_pack("{s:b, s:s, s:b, s:o, s:o, s:i, s:f, s:s, s:o, s:o, s:i, s:o}",
                     "known", known, "why", r->why ? r->why : "",
                     "always_open", known && r->sched.always,
                     "rules", known ? s_rules_json(&r->sched) : json_array(),
                     "text", known ? s_rules_text(&r->sched) : json_null(),
                     "weeks", r->weeks, "confidence", known ? (double)(int)(r->confidence * 100) / 100 : 0.0,
                     "confidence_level", known ? hours_obs_confidence_level(r->confidence) : "none",
                     "window", window, "exceptions", exc, "exceptions_total", r->nexc_total,
                     "data", data);
}

static json_t *s_deviations_json(const hours_side_t *h, enum tax_mode m, const hobs_result_t *r,
                                 int64_t today)
{
    hours_dev_t dev[HDEV_MAX];
    int n = hours_dev_compare(h, m, r, today, dev, HDEV_MAX);
    json_t *list = json_array();
    for (int i = 0; i < n && i < HDEV_MAX; i++) {
        char text[160];
        hours_dev_text(&dev[i], text, sizeof text);
        json_t *days = json_array();
        for (int d = 0; d < 7; d++)
            if (dev[i].days & (1u << d))
                json_array_append_new(days, json_string(s_days[d]));
        json_t *date = dev[i].kind == HDEV_CLOSED_ON_DATE
                           ? s_date(hours_obs_daynum(dev[i].year, dev[i].month, dev[i].day))
                           : json_null();
        json_array_append_new(list, json_pack("{s:s, s:o, s:o, s:i, s:s}", "kind",
                                              hours_dev_name(dev[i].kind), "days", days, "date", date,
                                              "minutes", dev[i].minutes, "text", text));
    }
    return json_pack("{s:b, s:o}", "comparable", n >= 0, "list", list);
}

/* Legacy fields (the posted hours, as before) plus posted, observed and
 * deviations. */
static json_t *s_mode_json(const hours_side_t *h, enum tax_mode m, const hobs_result_t *r,
                           int64_t today)
{
    const hours_mode_t *hm = &h->mode[m];
    json_t *o;
    if (!h->known || hm->nrules == 0)
        o = json_pack("{s:b, s:b, s:[]}", "known", 0, "always_open", 0, "rules");
    else
        o = json_pack("{s:b, s:b, s:o}", "known", 1, "always_open", hm->always, "rules", s_rules_json(hm));
    json_object_set_new(o, "posted", s_posted_json(h, m));
    json_object_set_new(o, "observed", r ? s_observed_json(r) : json_null());
    json_object_set_new(o, "deviations", r ? s_deviations_json(h, m, r, today)
                                           : json_pack("{s:b, s:[]}", "comparable", 0, "list"));
    return o;
}

/* Today's local day number in zone tz. */
static int64_t s_today(const char *tz, int64_t now_s)
{
    struct tm lt;
    if (zone_local(tz, now_s, &lt, NULL, 0) != 0)
        return now_s / 86400;
    return hours_obs_daynum(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
}

/* Equal rules, as written (the learned weeks may differ by minutes that
 * the 5-minute rounding hides). */
static bool s_same_rules(const hours_mode_t *a, const hours_mode_t *b)
{
    if (a->nrules != b->nrules || a->always != b->always)
        return false;
    for (int i = 0; i < a->nrules; i++) {
        const hours_rule_t *x = &a->rules[i], *y = &b->rules[i];
        if (x->days != y->days || x->from_min != y->from_min || x->to_min != y->to_min ||
            x->season_from != y->season_from || x->season_to != y->season_to)
            return false;
    }
    return true;
}

/* The lane types of mode m whose observed hours are known and differ from
 * the mode's (r: the mode's result, or NULL): {"nexus_sentri": observed}. */
static json_t *s_lane_types_json(const observed_t *obs, size_t ci, enum hours_side side,
                                 enum tax_mode m, const hobs_result_t *r, hobs_result_t *tr)
{
    json_t *out = json_object();
    for (int t = 1; t <= TAX_NTYPES && obs; t++) {
        if (observed_get_type(obs, ci, side, m, (enum tax_type)t, tr) != 0 || tr->status != HOBS_KNOWN)
            continue;
        if (!r || r->status != HOBS_KNOWN || !s_same_rules(&r->sched, &tr->sched))
            json_object_set_new(out, tax_type_name((enum tax_type)t), s_observed_json(tr));
    }
    return out;
}

static json_t *s_side_json(const reg_crossing_t *c, size_t ci, enum hours_side side,
                           const observed_t *obs, int64_t now_s, hobs_result_t *r)
{
    const hours_side_t *h = &c->hours[side];
    json_t *modes = json_object();
    int64_t today = s_today(reg_side_tz(c, side), now_s);
    hobs_result_t *tr = malloc(sizeof *tr);
    for (int m = 1; m <= TAX_NMODES; m++) {
        bool have = obs && observed_get(obs, ci, side, (enum tax_mode)m, r) == 0;
        json_t *mj = s_mode_json(h, (enum tax_mode)m, have ? r : NULL, today);
        if (tr && mj)
            json_object_set_new(mj, "lane_types",
                                s_lane_types_json(obs, ci, side, (enum tax_mode)m, have ? r : NULL, tr));
        json_object_set_new(modes, tax_mode_name((enum tax_mode)m), mj);
    }
    free(tr);
    json_t *closed = json_array();
    for (int i = 0; i < h->nclosed; i++) {
        char d[16];
        json_array_append_new(closed, json_string(hours_closure_text(&h->closed[i], d, sizeof d)));
    }
    const char *country = side == HOURS_US ? "US" : c->border == TAX_BORDER_CA ? "CA" : "MX";
    enum tax_dir learned = hours_side_of(c->border, TAX_NORTHBOUND) == side ? TAX_NORTHBOUND
                                                                            : TAX_SOUTHBOUND;
    return json_pack("{s:s, s:s, s:b, s:s?, s:o, s:o, s:s}", "country", country,
                     "tz", reg_side_tz(c, side), "known", h->known,
                     "source", h->source[0] ? h->source : NULL, "modes", modes, "closed_dates", closed,
                     "observed_from", tax_dir_name(learned));
}

char *feed_hours_json(const registry_t *reg, const observed_t *obs, int64_t now_s, const char *id)
{
    hobs_result_t *r = malloc(sizeof *r);
    json_t *list = r ? json_array() : NULL;
    for (size_t i = 0; list && i < reg_count(reg); i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        if (id && strcmp(id, c->id) != 0)
            continue;
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", c->id,
                                                  "name", c->name, "other_name", c->other_name,
                                                  "us", s_side_json(c, i, HOURS_US, obs, now_s, r),
                                                  "other", s_side_json(c, i, HOURS_OTHER, obs, now_s, r)))) {
            json_decref(list);
            list = NULL;
        }
    }
    free(r);
    if (id && list && json_array_size(list) == 1) {
        json_t *one = json_incref(json_array_get(list, 0));
        json_decref(list);
        return feed_json_take(one);
    }
    return feed_json_take(list ? json_pack("{s:o}", "crossings", list) : NULL);
}

/* ---- mismatches ------------------------------------------------------------ */

/* Monday 00:00 local (US side) of the week holding now_s. */
static int s_week_start(const char *tz, int64_t now_s, int64_t *out)
{
    struct tm lt;
    if (zone_local(tz, now_s, &lt, NULL, 0) != 0)
        return -1;
    struct tm mon = lt;
    mon.tm_mday -= (lt.tm_wday + 6) % 7;
    mon.tm_hour = 12;
    time_t t = timegm(&mon);
    gmtime_r(&t, &mon);
    return zone_to_utc(tz, mon.tm_year + 1900, mon.tm_mon + 1, mon.tm_mday, 0, 0, out);
}

static json_t *s_local(const char *tz, int64_t t)
{
    struct tm lt;
    char abbr[16], buf[48];
    if (zone_local(tz, t, &lt, abbr, sizeof abbr) != 0)
        return json_null();
    snprintf(buf, sizeof buf, "%s %02d:%02d %s", s_days[(lt.tm_wday + 6) % 7], lt.tm_hour, lt.tm_min, abbr);
    return json_string(buf);
}

/* Arrivals of one direction in the window in a typical week, to a tenth;
 * null without data. */
static json_t *s_demand(const observed_t *obs, size_t ci, enum tax_dir d, enum tax_mode m,
                        const hours_window_t *w, double *covered)
{
    double cov = 0, v = obs ? observed_demand(obs, ci, d, m, w->from, w->to, &cov) : -1;
    if (cov < *covered)
        *covered = cov;
    return v < 0 ? json_null() : json_real((double)(int64_t)(v * 10 + 0.5) / 10);
}

static json_t *s_window_json(const reg_crossing_t *c, size_t ci, enum tax_mode m, const observed_t *obs,
                             const hours_window_t *w)
{
    char a[32], b[32];
    double covered = 1;
    json_t *demand = json_object();
    for (int d = 1; d <= TAX_NDIRS; d++)
        json_object_set_new(demand, tax_dir_name((enum tax_dir)d), s_demand(obs, ci, (enum tax_dir)d, m, w, &covered));
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:f}",
                     "open_side", w->open_side == HOURS_US ? "US" : "other",
                     "from", tu_iso8601(w->from, a, sizeof a), "to", tu_iso8601(w->to, b, sizeof b),
                     "us_local_from", s_local(c->us_tz, w->from), "us_local_to", s_local(c->us_tz, w->to),
                     "other_local_from", s_local(c->other_tz, w->from),
                     "other_local_to", s_local(c->other_tz, w->to),
                     "minutes", (json_int_t)((w->to - w->from) / 60), "demand", demand,
                     "demand_covered", (double)(int)(covered * 100) / 100);
}

/* The hours of one side for mode m: posted where the registry knows them,
 * else the observed ones (in *tmp) where learned; NULL when neither. */
static const hours_side_t *s_pick(const reg_crossing_t *c, size_t ci, enum hours_side side,
                                  enum tax_mode m, const observed_t *obs, hobs_result_t *r,
                                  hours_side_t *tmp, const char **source)
{
    const hours_side_t *h = &c->hours[side];
    if (h->known && h->mode[m].nrules) {
        *source = "posted";
        return h;
    }
    if (obs && observed_get(obs, ci, side, m, r) == 0 && r->status == HOBS_KNOWN) {
        memset(tmp, 0, sizeof *tmp);
        tmp->known = true;
        tmp->mode[m] = r->sched;
        *source = "observed";
        return tmp;
    }
    return NULL;
}

/* Appends the mismatch of (c, m) to list; counts uncomparable ones. */
static int s_mode_mismatch(const reg_crossing_t *c, size_t ci, enum tax_mode m, int64_t week,
                           const observed_t *obs, hobs_result_t *r, json_t *list, int *unknown,
                           int *by_observed)
{
    hours_window_t win[FH_MAX_WINDOWS];
    hours_side_t tmp[2];
    const char *src[2];
    const hours_side_t *us = s_pick(c, ci, HOURS_US, m, obs, r, &tmp[0], &src[0]);
    const hours_side_t *other = s_pick(c, ci, HOURS_OTHER, m, obs, r, &tmp[1], &src[1]);
    int nwin, us_only, other_only;
    int rc = !us || !other ? 1
                           : hours_mismatch_week(us, c->us_tz, other, c->other_tz, m, week, win,
                                                 FH_MAX_WINDOWS, &nwin, &us_only, &other_only);
    if (rc != 0) {
        (*unknown)++;
        return 0;
    }
    bool observed = strcmp(src[0], "observed") == 0 || strcmp(src[1], "observed") == 0;
    *by_observed += observed;
    if (nwin == 0)
        return 0;
    json_t *wins = json_array();
    for (int i = 0; i < nwin && i < FH_MAX_WINDOWS; i++)
        json_array_append_new(wins, s_window_json(c, ci, m, obs, &win[i]));
    return json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o}",
                                                 "id", c->id, "name", c->name,
                                                 "mode", tax_mode_name(m),
                                                 "source", observed ? "observed" : "posted",
                                                 "us_source", src[0], "other_source", src[1],
                                                 "us_only_open_min_per_week", (json_int_t)us_only,
                                                 "other_only_open_min_per_week", (json_int_t)other_only,
                                                 "windows_truncated", nwin > FH_MAX_WINDOWS,
                                                 "windows", wins));
}

char *feed_mismatches_json(const registry_t *reg, const observed_t *obs, int64_t now_s)
{
    json_t *list = json_array();
    hobs_result_t *r = malloc(sizeof *r);
    int unknown = 0, by_observed = 0, bad = !list || !r;
    int64_t first_week = 0;
    for (size_t i = 0; !bad && i < reg_count(reg); i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        int64_t week;
        if (s_week_start(c->us_tz, now_s, &week) != 0) {
            unknown += TAX_NMODES;
            continue;
        }
        if (!first_week)
            first_week = week;
        for (int m = 1; m <= TAX_NMODES && !bad; m++) {
            if (!c->max_lanes[m])
                continue;
            bad = s_mode_mismatch(c, i, (enum tax_mode)m, week, obs, r, list, &unknown, &by_observed);
        }
    }
    free(r);
    if (bad) {
        json_decref(list);
        return NULL;
    }
    char wk[32];
    return feed_json_take(json_pack("{s:s, s:I, s:I, s:o}", "week_of",
                                    tu_iso8601(first_week, wk, sizeof wk), "not_comparable",
                                    (json_int_t)unknown, "compared_with_observed",
                                    (json_int_t)by_observed, "mismatches", list));
}
