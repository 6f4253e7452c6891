/* feed_hours — see feed_hours.h. */
#include "feed_hours.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "feed.h"
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

static json_t *s_mode_json(const hours_side_t *h, enum tax_mode m)
{
    const hours_mode_t *hm = &h->mode[m];
    if (!h->known || hm->nrules == 0)
        return json_pack("{s:b, s:b, s:[]}", "known", 0, "always_open", 0, "rules");
    json_t *rules = json_array();
    for (int i = 0; i < hm->nrules; i++)
        json_array_append_new(rules, s_rule_json(&hm->rules[i]));
    return json_pack("{s:b, s:b, s:o}", "known", 1, "always_open", hm->always, "rules", rules);
}

static json_t *s_side_json(const reg_crossing_t *c, enum hours_side side)
{
    const hours_side_t *h = &c->hours[side];
    json_t *modes = json_object();
    for (int m = 1; m <= TAX_NMODES; m++)
        json_object_set_new(modes, tax_mode_name((enum tax_mode)m), s_mode_json(h, (enum tax_mode)m));
    json_t *closed = json_array();
    for (int i = 0; i < h->nclosed; i++) {
        char d[16];
        json_array_append_new(closed, json_string(hours_closure_text(&h->closed[i], d, sizeof d)));
    }
    const char *country = side == HOURS_US ? "US" : c->border == TAX_BORDER_CA ? "CA" : "MX";
    return json_pack("{s:s, s:s, s:b, s:s?, s:o, s:o}", "country", country,
                     "tz", reg_side_tz(c, side), "known", h->known,
                     "source", h->source[0] ? h->source : NULL, "modes", modes, "closed_dates", closed);
}

char *feed_hours_json(const registry_t *reg)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < reg_count(reg); i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", c->id,
                                                  "name", c->name, "other_name", c->other_name,
                                                  "us", s_side_json(c, HOURS_US),
                                                  "other", s_side_json(c, HOURS_OTHER)))) {
            json_decref(list);
            return NULL;
        }
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

static json_t *s_window_json(const reg_crossing_t *c, const hours_window_t *w)
{
    char a[32], b[32];
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I}",
                     "open_side", w->open_side == HOURS_US ? "US" : "other",
                     "from", tu_iso8601(w->from, a, sizeof a), "to", tu_iso8601(w->to, b, sizeof b),
                     "us_local_from", s_local(c->us_tz, w->from), "us_local_to", s_local(c->us_tz, w->to),
                     "other_local_from", s_local(c->other_tz, w->from),
                     "other_local_to", s_local(c->other_tz, w->to),
                     "minutes", (json_int_t)((w->to - w->from) / 60));
}

/* Appends the mismatch of (c, m) to list; counts uncomparable ones. */
static int s_mode_mismatch(const reg_crossing_t *c, enum tax_mode m, int64_t week, json_t *list,
                           int *unknown)
{
    static hours_window_t win[FH_MAX_WINDOWS];
    int nwin, us_only, other_only;
    int rc = hours_mismatch_week(&c->hours[HOURS_US], c->us_tz, &c->hours[HOURS_OTHER], c->other_tz,
                                 m, week, win, FH_MAX_WINDOWS, &nwin, &us_only, &other_only);
    if (rc != 0) {
        (*unknown)++;
        return 0;
    }
    if (nwin == 0)
        return 0;
    json_t *wins = json_array();
    for (int i = 0; i < nwin && i < FH_MAX_WINDOWS; i++)
        json_array_append_new(wins, s_window_json(c, &win[i]));
    return json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:o}",
                                                 "id", c->id, "name", c->name,
                                                 "mode", tax_mode_name(m),
                                                 "us_only_open_min_per_week", (json_int_t)us_only,
                                                 "other_only_open_min_per_week", (json_int_t)other_only,
                                                 "windows_truncated", nwin > FH_MAX_WINDOWS,
                                                 "windows", wins));
}

char *feed_mismatches_json(const registry_t *reg, int64_t now_s)
{
    json_t *list = json_array();
    int unknown = 0, bad = !list;
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
            bad = s_mode_mismatch(c, (enum tax_mode)m, week, list, &unknown);
        }
    }
    if (bad) {
        json_decref(list);
        return NULL;
    }
    char wk[32];
    return feed_json_take(json_pack("{s:s, s:I, s:o}", "week_of", tu_iso8601(first_week, wk, sizeof wk),
                            "not_comparable", (json_int_t)unknown, "mismatches", list));
}
