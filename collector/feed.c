/* feed — see feed.h. Every body is built as a jansson tree and dumped
 * compact; a NULL anywhere in the tree (out of memory) makes the whole
 * render return NULL rather than a partial document. */
#include "feed.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notices.h"
#include "timeutil.h"
#include "view.h"
#include "view_forecast.h"

/* Real values are rounded to 3 decimals first; 15 significant digits then
 * print them without binary noise (0.1 rather than 0.10000000000000001). */
#define FEED_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Anything beyond this is not a wait or a queue a crossing can have; it is
 * shown as unknown rather than fed to llround, whose result would be
 * unspecified. */
#define FEED_MAX_PLAUSIBLE 1e9

/* Integers within this magnitude convert exactly between double and JSON. */
#define FEED_MAX_EXACT 9007199254740992.0 /* 2^53 */

static const char *const s_history_columns[FEED_HISTORY_NCOLS] = {
    "time", "wait_s", "arrivals", "departures", "lanes_open", "queue"
};

char *feed_json_take(json_t *root)
{
    if (!root)
        return NULL;
    char *out = json_dumps(root, FEED_DUMP_FLAGS);
    json_decref(root);
    return out;
}

static json_t *s_opt_int(bool have, json_int_t v)
{
    return have ? json_integer(v) : json_null();
}

/* An interval's length in seconds: whole seconds as before, a part of a
 * second (agents' --interval 250, 500) as a fraction, not a false 0. */
static json_t *s_interval_s(bool have, uint32_t interval_ms)
{
    if (!have || interval_ms % 1000 == 0)
        return s_opt_int(have, interval_ms / 1000);
    return json_real(interval_ms / 1000.0);
}

static bool s_plausible(double v)
{
    return isfinite(v) && v >= 0.0 && v <= FEED_MAX_PLAUSIBLE;
}

static json_t *s_iso_time(int64_t epoch_s)
{
    char buf[32];
    return json_string(tu_iso8601(epoch_s, buf, sizeof buf));
}

/* An interval's end: whole seconds as always, with milliseconds when it
 * ends inside a second (intervals shorter than a second), so the two
 * halves of a second are two distinct updates. */
static json_t *s_iso_time_ms(int64_t epoch_ms)
{
    if (epoch_ms <= 0 || epoch_ms % 1000 == 0)
        return s_iso_time(epoch_ms / 1000 - (epoch_ms % 1000 < 0));
    char buf[40];
    tu_iso8601(epoch_ms / 1000, buf, sizeof buf);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, sizeof buf - (n - 1), ".%03dZ", (int)(epoch_ms % 1000));
    return json_string(buf);
}

/* Milliseconds to whole seconds, rounding down also before 1970 so a
 * timestamp never moves forward. */
static int64_t s_ms_to_s(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static const char *s_border_name(enum tax_border b)
{
    return b == TAX_BORDER_CA ? "CA" : b == TAX_BORDER_MX ? "MX" : "?";
}

/* A number in a history row: null when unknown, an integer when whole
 * after rounding to 3 decimals (counts stay counts), else a real. */
static json_t *s_history_value(double v)
{
    if (!isfinite(v))
        return json_null();
    double r = round(v * 1000.0) / 1000.0;
    if (r == trunc(r) && fabs(r) < FEED_MAX_EXACT)
        return json_integer((json_int_t)r);
    return json_real(r);
}

/* ---- /v1/crossings ------------------------------------------------------ */

/* Rank of a queue status when summarising a direction: the best one wins,
 * fresh facts ("closed") over old ones ("stale") over none. */
static int s_status_rank(const char *status)
{
    if (strcmp(status, "open") == 0)
        return 3;
    if (strcmp(status, "closed") == 0)
        return 2;
    if (strcmp(status, "stale") == 0)
        return 1;
    return 0;
}

static const char *s_rank_status(int rank)
{
    static const char *const names[] = { "no_data", "stale", "closed", "open" };
    return names[rank];
}

/* What the shown wait rests on: {"inputs":[...],"confidence":0.83}, or
 * null when no wait is shown. */
static json_t *s_quality_json(const est_output_t *o, bool has_wait)
{
    if (!has_wait)
        return json_null();
    json_t *inputs = json_array();
    for (uint32_t bit = 1; bit <= EST_IN_LAST; bit <<= 1)
        if ((o->inputs & bit) && est_input_name(bit))
            json_array_append_new(inputs, json_string(est_input_name(bit)));
    double c = s_plausible(o->confidence) ? round(o->confidence * 100.0) / 100.0 : 0.0;
    return json_pack("{s:o, s:f}", "inputs", inputs, "confidence", c);
}

/* The official value of a queue beside the measured one: null when none
 * was ever imported; "status" is "stale" once its update time is older
 * than the official stale limit (and then no wait or lanes are shown),
 * "reported" is what the document said. */
static json_t *s_official_json(const xstate_t *x, const qofficial_t *o, int64_t now_ms)
{
    if (o->status == OFF_ST_NONE)
        return json_null();
    int64_t now_s = s_ms_to_s(now_ms);
    bool fresh = qofficial_fresh(x, o, now_s);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
                     "source", off_source_name(o->source),
                     "status", fresh ? off_status_name(o->status) : "stale",
                     "reported", off_status_name(o->status),
                     "wait_s", s_opt_int(fresh && o->has_wait, o->wait_s),
                     "lanes_open", s_opt_int(fresh && o->has_lanes, o->lanes_open),
                     "updated", o->updated_s > 0 ? s_iso_time(o->updated_s) : json_null(),
                     "age_s", s_opt_int(o->updated_s > 0, now_s - o->updated_s));
}

/* Fields that describe the current interval are shown only while the data
 * is fresh; "updated" always says how old the last data is. A queue shown
 * from its official value (v->official) says method "official" and has no
 * measured fields. */
static json_t *s_queue_json(const xstate_t *x, enum tax_dir d, int k, const view_queue_t *v,
                            int64_t now_ms)
{
    static const char *const closed_names[] = { NULL, "lanes", "hours" };
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    const qstate_t *q = x->q[d - 1][k];
    const char *status = v->status;
    bool open = strcmp(status, "open") == 0;
    /* closed by hours without fresh data shows no interval fields */
    bool fresh = !v->official && (open || v->closed_by == VIEW_CLOSED_BY_LANES);
    bool has_wait = v->official ? v->has_wait : open && q->out.has_wait && s_plausible(q->out.wait_s);
    bool has_queue = fresh && s_plausible(q->out.queue);
    double wait = !has_wait ? 0.0 : v->official ? (double)v->wait_s : q->out.wait_s;
    bool lanes = fresh || (v->official && v->fresh && x->off[d - 1][k].has_lanes);
    json_t *updated = v->official ? (v->updated_s > 0 ? s_iso_time(v->updated_s) : json_null())
                      : q->seen   ? s_iso_time_ms(q->updated_ms)
                                  : json_null();

    /* The best time rests on fresh measured data as the wait does (the
     * forecast is learned from measured waits, never from official ones). */
    json_t *best = fresh ? view_best_time_json(x->forecast[d - 1][k]) : json_null();
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "mode", tax_mode_name(m),
                     "lane", tax_type_name(t),
                     "status", status,
                     "closed_by", closed_names[v->closed_by],
                     "method", v->official ? "official" : NULL,
                     "wait_s", s_opt_int(has_wait, llround(wait)),
                     "wait_min", s_opt_int(has_wait, llround(wait / 60.0)),
                     "quality", v->official ? json_null() : s_quality_json(&q->out, has_wait),
                     "lanes_open", s_opt_int(lanes, v->official ? v->lanes_open : q->lanes_open),
                     "max_lanes", x->reg->max_lanes[m],
                     "queue", s_opt_int(has_queue, has_queue ? llround(q->out.queue) : 0),
                     "arrivals", s_opt_int(fresh, q->arrivals),
                     "departures", s_opt_int(fresh, q->departures),
                     "interval_s", s_interval_s(fresh, q->interval_ms),
                     "updated", updated,
                     "best_time", best,
                     "official", s_official_json(x, &x->off[d - 1][k], now_ms));
}

/* A queue is listed when it has ever had data, and the standard lane of
 * every mode the crossing has lanes for is listed always, so a crossing
 * with no data still shows what it serves; so is a queue an official
 * document reports on (other than "not applicable"). */
static bool s_queue_listed(const xstate_t *x, enum tax_dir d, const qstate_t *q,
                           enum tax_mode m, enum tax_type t)
{
    const qofficial_t *o = &x->off[d - 1][tax_queue_index(m, t)];
    return q->seen || (t == TAX_STANDARD && x->reg->max_lanes[m] > 0) ||
           (o->status != OFF_ST_NONE && o->status != OFF_ST_NOT_APPLICABLE);
}

static json_t *s_direction_json(const xstate_t *x, enum tax_dir d, int64_t now_ms,
                                int64_t stale_after_ms)
{
    json_t *queues = json_array();
    if (!queues)
        return NULL;
    int best = 0;
    for (int k = 0; k < TAX_NQUEUES; k++) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        const qstate_t *q = x->q[d - 1][k];
        if (!s_queue_listed(x, d, q, m, t))
            continue;
        view_queue_t v;
        view_queue(x, d, m, t, now_ms, stale_after_ms, &v);
        int rank = s_status_rank(v.status);
        if (rank > best)
            best = rank;
        if (json_array_append_new(queues, s_queue_json(x, d, k, &v, now_ms))) {
            json_decref(queues);
            return NULL;
        }
    }
    const reg_direction_t *rd = &x->reg->dirs[d - 1];
    enum hours_side side = hours_side_of(x->reg->border, d);
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:o}",
                     "direction", tax_dir_name(d),
                     "into", tax_dir_into(x->reg->border, d),
                     "tz", reg_side_tz(x->reg, side),
                     "status", s_rank_status(best),
                     "agent", rd->agent[0] ? rd->agent : NULL,
                     "method", rd->method,
                     "segment_from", rd->segment_from[0] ? rd->segment_from : NULL,
                     "segment_to", rd->segment_to[0] ? rd->segment_to : NULL,
                     "queues", queues);
}

/* The notices of crossing id valid at now_s: [{kind, from, until,
 * text: {lang: text}}], NULL (no member) when there are none. */
static json_t *s_notices_json(const notices_t *ns, const char *id, int64_t now_s, bool *oom)
{
    const notice_t *v[NOTICES_PER_CROSSING];
    size_t n = notices_valid(ns, id, now_s, v, NOTICES_PER_CROSSING);
    if (!n)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *text = json_object();
        for (int l = 0; text && l < NOTICES_NLANGS; l++)
            if (v[i]->text[l] && json_object_set_new(text, notices_langs[l], json_string(v[i]->text[l])))
                json_decref(text), text = NULL;
        json_t *o = text ? json_pack("{s:s, s:o, s:o, s:o}", "kind", v[i]->kind,
                                     "from", s_iso_time(v[i]->from_s), "until", s_iso_time(v[i]->until_s),
                                     "text", text) : NULL;
        if (json_array_append_new(arr, o))
            json_decref(arr), arr = NULL;
    }
    *oom = !arr;
    return arr;
}

static json_t *s_crossing_json(const xstate_t *x, const notices_t *ns, int64_t now_ms,
                               int64_t stale_after_ms)
{
    const reg_crossing_t *r = x->reg;
    json_t *dirs = json_array();
    if (!dirs)
        return NULL;
    for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++) {
        json_t *dj = s_direction_json(x, (enum tax_dir)d, now_ms, stale_after_ms);
        if (json_array_append_new(dirs, dj)) {
            json_decref(dirs);
            return NULL;
        }
    }
    bool oom = false;
    json_t *notes = s_notices_json(ns, r->id, s_ms_to_s(now_ms), &oom);
    if (oom) {
        json_decref(dirs);
        return NULL;
    }
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                     "id", r->id,
                     "hours", "/v1/hours",
                     "name", r->name,
                     "port_name", r->port_name,
                     "crossing_name", r->crossing_name,
                     "border", s_border_name(r->border),
                     "us_tz", r->us_tz,
                     "other_name", r->other_name,
                     "other_tz", r->other_tz,
                     "directions", dirs);
    if (notes && (!c || json_object_set_new(c, "notices", notes))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

char *feed_crossings_json(state_t *st, int64_t now_ms, int64_t stale_after_ms,
                          const char *only_id)
{
    xstate_t *only = NULL;
    if (only_id && !(only = state_find(st, only_id)))
        return NULL;
    json_t *list = json_array();
    if (!list)
        return NULL;
    size_t n = only ? 1 : state_count(st);
    for (size_t i = 0; i < n; i++) {
        const xstate_t *x = only ? only : state_at(st, i);
        if (json_array_append_new(list, s_crossing_json(x, state_notices(st), now_ms, stale_after_ms))) {
            json_decref(list);
            return NULL;
        }
    }
    return feed_json_take(json_pack("{s:o, s:o}",
                            "generated", s_iso_time(s_ms_to_s(now_ms)),
                            "crossings", list));
}

char *feed_crossings_envelope(int64_t now_ms)
{
    return feed_json_take(json_pack("{s:o, s:[]}", "generated", s_iso_time(s_ms_to_s(now_ms)),
                                    "crossings"));
}

/* Until when s_crossing_json(x, ...) at now_ms stays the same (feed.h). */
static int64_t s_crossing_valid_until(const xstate_t *x, const notices_t *ns, int64_t now_ms,
                                      int64_t stale_after_ms)
{
    int64_t until = INT64_MAX, next_s = view_next_second_ms(now_ms);
    for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++)
        for (int k = 0; k < TAX_NQUEUES; k++) {
            enum tax_mode m;
            enum tax_type t;
            tax_queue_from_index(k, &m, &t);
            if (!s_queue_listed(x, (enum tax_dir)d, x->q[d - 1][k], m, t))
                continue;
            /* "official" shows its age in seconds whenever it has a time */
            const qofficial_t *o = &x->off[d - 1][k];
            if (o->status != OFF_ST_NONE && o->updated_s > 0 && next_s < until)
                until = next_s;
            int64_t v = view_queue_valid_until(x, (enum tax_dir)d, m, t, now_ms, stale_after_ms);
            if (v < until)
                until = v;
        }
    int64_t ns_next = notices_next_change(ns, x->reg->id, s_ms_to_s(now_ms));
    if (ns_next != INT64_MAX && ns_next * 1000 < until)
        until = ns_next * 1000;
    return until;
}

char *feed_crossing_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                             int64_t stale_after_ms, int64_t *valid_until_ms)
{
    const notices_t *ns = state_notices(st);
    *valid_until_ms = s_crossing_valid_until(x, ns, now_ms, stale_after_ms);
    return feed_json_take(s_crossing_json(x, ns, now_ms, stale_after_ms));
}

/* ---- /v1/history -------------------------------------------------------- */

/* The official columns appended to a history row (feed.h). */
static const char *const s_history_official_columns[] = {
    "official_wait_s", "official_lanes_open", "official_age_s"
};
static const int s_history_official_src[] = { 0, 1, 3 }; /* columns of arch_fetch_official */

static json_t *s_history_row(const arch_series_t *s, size_t i, const arch_series_t *off)
{
    json_t *row = json_array();
    if (!row)
        return NULL;
    int64_t t = s->start + (int64_t)(i + 1) * s->step;
    int bad = json_array_append_new(row, json_integer(t));
    for (int c = 0; c < ARCH_NCOLS && !bad; c++)
        bad = json_array_append_new(row, s_history_value(s->values[i * ARCH_NCOLS + c]));
    if (off) {
        /* the official row ending at the same time, when the grids agree */
        int64_t k = off->step == s->step && t > off->start ? (t - off->start) / off->step - 1 : -1;
        bool have = k >= 0 && (size_t)k < off->nrows && off->start + (k + 1) * off->step == t;
        for (int c = 0; c < 3 && !bad; c++)
            bad = json_array_append_new(row, have ? s_history_value(off->values[(size_t)k * ARCH_OFF_NCOLS + (size_t)s_history_official_src[c]])
                                                  : json_null());
    }
    if (bad) {
        json_decref(row);
        return NULL;
    }
    return row;
}

char *feed_history_json(const arch_series_t *s)
{
    return feed_history_official_json(s, NULL);
}

char *feed_history_official_json(const arch_series_t *s, const arch_series_t *off)
{
    json_t *cols = json_array();
    json_t *rows = json_array();
    int bad = !cols || !rows;
    for (int c = 0; c < FEED_HISTORY_NCOLS && !bad; c++)
        bad = json_array_append_new(cols, json_string(s_history_columns[c]));
    for (int c = 0; off && c < 3 && !bad; c++)
        bad = json_array_append_new(cols, json_string(s_history_official_columns[c]));
    for (size_t i = 0; i < s->nrows && !bad; i++)
        bad = json_array_append_new(rows, s_history_row(s, i, off));
    if (bad) {
        json_decref(cols);
        json_decref(rows);
        return NULL;
    }
    return feed_json_take(json_pack("{s:I, s:o, s:o}", "step", (json_int_t)s->step,
                            "columns", cols, "rows", rows));
}

/* ---- /health ------------------------------------------------------------ */

static json_t *s_rejected_json(const stats_t *stats)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (int r = 0; r < REJ_MAX; r++) {
        if (json_object_set_new(o, stats_reject_name((enum stats_reject)r),
                                json_integer((json_int_t)stats->rejected[r]))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Per-agent delivery status: where each agent stands, how far behind its
 * newest archived sample is, and what it still holds in its spool. */
static json_t *s_agents_json(const sess_table_t *sessions, int64_t now_ms)
{
    json_t *arr = json_array();
    for (size_t i = 0; sessions && i < sess_count(sessions); i++) {
        const sess_t *s = sess_at(sessions, i);
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "crossing", s->crossing, "direction", tax_dir_name(s->dir),
                              "epoch", (json_int_t)s->epoch,
                              "acked_seq", (json_int_t)s->acked_seq,
                              "durable_seq", (json_int_t)s->durable_seq,
                              "gaps", (json_int_t)s->gaps,
                              "duplicates", (json_int_t)s->duplicates,
                              "dropped", (json_int_t)s->dropped,
                              "spool_batches", (json_int_t)s->spool_batches);
        json_object_set_new(o, "last_seen_s", s->last_seen_ms
                                                  ? json_integer((now_ms - s->last_seen_ms) / 1000)
                                                  : json_null());
        json_object_set_new(o, "lag_s", s->newest_ms ? json_integer((now_ms - s->newest_ms) / 1000)
                                                     : json_null());
        json_object_set_new(o, "oldest_unacked_s",
                            s->oldest_unacked_ms
                                ? json_integer((now_ms - s->oldest_unacked_ms) / 1000)
                                : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The observed hours' counters (collector/observed.c): tracks by state,
 * and the bad input each treatment refused or set aside. */
static json_t *s_hours_json(const observed_counters_t *h)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
                     "tracks", (int)h->tracks, "known", (int)h->known, "stuck", (int)h->stuck,
                     "flapping", (int)h->flapping, "silent_week", (int)h->silent_week,
                     "no_data", (int)h->silent, "minutes", (json_int_t)h->minutes,
                     "clock_ahead", (json_int_t)h->clock_jumps, "clock_back", (json_int_t)h->clock_back,
                     "too_old", (json_int_t)h->too_old, "stuck_lanes", (json_int_t)h->stuck_lanes,
                     "relearns", (json_int_t)h->relearns, "load_s", h->load_s);
}

/* {"CBP": {...}, "CBSA": {...}} of the configured importers: polls, what
 * came of them, every reason counted, and how old the last good answer is. */
static json_t *s_official_health(const stats_t *stats, int64_t now_ms)
{
    json_t *all = json_object();
    for (int i = 0; all && i < OFF_NSOURCES; i++) {
        const stats_official_t *o = &stats->official[i];
        if (!o->configured)
            continue;
        json_t *reasons = json_object();
        for (int r = 0; reasons && r < OFF_R_MAX; r++)
            json_object_set_new(reasons, off_reason_name((enum off_reason)r),
                                json_integer((json_int_t)o->reasons[r]));
        json_object_set_new(all, off_source_name((enum off_source)i), json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
            "polls", (json_int_t)o->polls, "taken", (json_int_t)o->taken,
            "not_modified", (json_int_t)o->not_modified, "refused", (json_int_t)o->refused,
            "retries", (json_int_t)o->retries,
            "last_ok_age_s", o->last_ok_ms ? json_integer((now_ms - o->last_ok_ms) / 1000) : json_null(),
            "last_duration_ms", (json_int_t)o->last_duration_ms,
            "last_http_status", o->last_http_status,
            "last_parse_us", (json_int_t)o->last_parse_us,
            "ports", (json_int_t)o->ports, "ports_imported", (json_int_t)o->ports_imported,
            "queues", (json_int_t)o->queues, "archived_rows", (json_int_t)o->archived_rows,
            "archive_failures", (json_int_t)o->archive_failures, "rejected", reasons));
    }
    return all;
}

char *feed_health_json(const stats_t *stats, bool archive_connected,
                       const sess_table_t *sessions, const observed_counters_t *hours, int64_t now_ms)
{
    int64_t up_ms = now_ms - stats->started_ms;
    json_t *o = json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, "
        "s:{s:I, s:I, s:{s:I, s:I, s:I}, s:I}, s:o}",
        "status", archive_connected ? "ok" : "degraded",
        "archive", archive_connected ? "connected" : "disconnected",
        "uptime_s", (json_int_t)(up_ms > 0 ? up_ms / 1000 : 0),
        "frames_in", (json_int_t)stats->frames_in,
        "batches_accepted", (json_int_t)stats->batches_accepted,
        "batches_duplicate", (json_int_t)stats->batches_duplicate,
        "batches_refused", (json_int_t)stats->batches_refused,
        "samples_accepted", (json_int_t)stats->samples_accepted,
        "samples_already_archived", (json_int_t)stats->samples_already_archived,
        "heartbeats_in", (json_int_t)stats->heartbeats_in,
        "agent_bad_lines", (json_int_t)stats->agent_bad_lines,
        "handshake_denied", (json_int_t)stats->handshake_denied,
        "handshake_failed", (json_int_t)stats->handshake_failed,
        "handshake_attempts_failed", (json_int_t)stats->handshake_attempts_failed,
        "lane_plans", (json_int_t)stats->lane_plans,
        "lane_plan_reload_failures", (json_int_t)stats->lane_plan_reload_failures,
        "rejected", s_rejected_json(stats),
        "agents", s_agents_json(sessions, now_ms),
        "stream", "clients", (json_int_t)stats->sse_clients,
        "max_clients", (json_int_t)stats->sse_max_clients,
        "refused", "full", (json_int_t)stats->sse_refused_full,
        "bad_last_event_id", (json_int_t)stats->sse_refused_bad_id,
        "future_last_event_id", (json_int_t)stats->sse_refused_future_id,
        "dropped_slow", (json_int_t)stats->sse_dropped_slow,
        "official", s_official_health(stats, now_ms));
    if (o && hours)
        json_object_set_new(o, "observed_hours", s_hours_json(hours));
    if (o) {
        /* When these counters were read: the workers serve this body from
         * the published snapshot (collector/http_snap.c), so a consumer can
         * tell how old it is without trusting its own clock against Age. */
        char iso[32], as_of[40];
        tu_iso8601(now_ms / 1000, iso, sizeof iso);
        size_t n = strlen(iso);
        if (n > 0)
            iso[n - 1] = '\0'; /* the 'Z', put back after the milliseconds */
        snprintf(as_of, sizeof as_of, "%s.%03dZ", iso, (int)(now_ms % 1000));
        json_object_set_new(o, "as_of", json_string(as_of));
        json_object_set_new(o, "as_of_ms", json_integer((json_int_t)now_ms));
    }
    return feed_json_take(o);
}

/* Reasons may quote a client's bytes (a parameter name); keeping them to
 * printable ASCII means the error body itself can never fail to encode. */
static void s_sanitize(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in[i] && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[i] = '\0';
}

char *feed_error_json(int status, const char *reason)
{
    char clean[256];
    s_sanitize(reason ? reason : "", clean, sizeof clean);
    return feed_json_take(json_pack("{s:s, s:i}", "error", clean, "status", status));
}

json_t *feed_queue_update_json(const xstate_t *x, enum tax_dir d, int k, int64_t now_ms,
                               int64_t stale_after_ms)
{
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    view_queue_t v;
    view_queue(x, d, m, t, now_ms, stale_after_ms, &v);
    json_t *queue = s_queue_json(x, d, k, &v, now_ms);
    return json_pack("{s:s, s:s, s:s, s:o}", "crossing", x->reg->id, "direction", tax_dir_name(d),
                     "into", tax_dir_into(x->reg->border, d), "queue", queue);
}
