/* view — see view.h. */
#include "view.h"

#include "zone.h"

#include <math.h>
#include <stdio.h>
#include <string.h>


/* Anything beyond this is not a wait a crossing can have. */
#define VIEW_MAX_PLAUSIBLE 1e9

int64_t view_ms_to_s(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static void s_official(const xstate_t *x, const qofficial_t *o, int64_t now_s, view_queue_t *out)
{
    if (o->status == OFF_ST_NONE || o->status == OFF_ST_NOT_APPLICABLE)
        return;
    out->official = true;
    out->seen = o->updated_s > 0;
    out->updated_s = o->updated_s;
    if (!qofficial_fresh(x, o, now_s)) {
        out->status = "stale";
        return;
    }
    if ((o->status == OFF_ST_DELAY || o->status == OFF_ST_NO_DELAY) && o->has_wait) {
        out->status = "open";
        out->fresh = true;
        out->has_wait = true;
        out->wait_s = o->wait_s;
        out->wait_min = (o->wait_s + 30) / 60;
        out->lanes_open = o->has_lanes ? (uint32_t)o->lanes_open : 0;
    } else if (o->status == OFF_ST_LANES_CLOSED) {
        out->status = "closed";
        out->closed_by = VIEW_CLOSED_BY_LANES;
        out->fresh = true;
    }
}

void view_queue(const xstate_t *x, enum tax_dir d, enum tax_mode m, enum tax_type t,
                int64_t now_ms, int64_t stale_after_ms, view_queue_t *out)
{
    const qstate_t *q = x->q[d - 1][tax_queue_index(m, t)];
    memset(out, 0, sizeof *out);
    out->status = qstate_status(q, now_ms, stale_after_ms);
    out->seen = q->seen;
    out->updated_s = view_ms_to_s(q->updated_ms);
    bool open = strcmp(out->status, "open") == 0;
    out->fresh = open || strcmp(out->status, "closed") == 0;
    if (!open && reg_hours_at(x->reg, d, m, view_ms_to_s(now_ms)) == HOURS_CLOSED) {
        out->status = "closed";
        out->closed_by = VIEW_CLOSED_BY_HOURS;
    } else if (!open && out->fresh) {
        out->closed_by = VIEW_CLOSED_BY_LANES;
    }
    out->lanes_open = out->fresh ? q->lanes_open : 0;
    double w = q->out.wait_s;
    out->has_wait = open && q->out.has_wait && isfinite(w) && w >= 0.0 && w <= VIEW_MAX_PLAUSIBLE;
    if (out->has_wait) {
        out->wait_s = llround(w);
        out->wait_min = llround(w / 60.0);
    }
    if (!q->seen && out->closed_by != VIEW_CLOSED_BY_HOURS)
        s_official(x, &x->off[d - 1][tax_queue_index(m, t)], view_ms_to_s(now_ms), out);
}

int64_t view_next_second_ms(int64_t now_ms)
{
    return (view_ms_to_s(now_ms) + 1) * 1000;
}

/* When the zone cannot be read, reg_hours_at answers unknown, but a
 * second is never wrong. */
int64_t view_next_local_minute_ms(const char *tz, int64_t now_ms)
{
    int64_t now_s = view_ms_to_s(now_ms);
    struct tm lt;
    if (zone_local(tz, now_s, &lt, NULL, 0) != 0)
        return view_next_second_ms(now_ms);
    return (now_s + 60 - lt.tm_sec) * 1000;
}

static int64_t s_min(int64_t a, int64_t b) { return a < b ? a : b; }

int64_t view_queue_valid_until(const xstate_t *x, enum tax_dir d, enum tax_mode m,
                               enum tax_type t, int64_t now_ms, int64_t stale_after_ms)
{
    int k = tax_queue_index(m, t);
    const qstate_t *q = x->q[d - 1][k];
    int64_t until = INT64_MAX;
    /* qstate_status: stale once now - updated > stale_after */
    bool fresh = q->seen && now_ms - q->updated_ms <= stale_after_ms;
    if (fresh)
        until = q->updated_ms + stale_after_ms + 1;
    /* The hours are read only while the queue is not open (view_queue). */
    enum hours_side side = hours_side_of(x->reg->border, d);
    if (!(fresh && q->lanes_open > 0) && x->reg->hours[side].known)
        until = s_min(until, view_next_local_minute_ms(reg_side_tz(x->reg, side), now_ms));
    /* qofficial_fresh: stale once now_s - updated_s > off_stale_after_s */
    const qofficial_t *o = &x->off[d - 1][k];
    if (!q->seen && qofficial_fresh(x, o, view_ms_to_s(now_ms)))
        until = s_min(until, (o->updated_s + x->off_stale_after_s + 1) * 1000);
    return until;
}
