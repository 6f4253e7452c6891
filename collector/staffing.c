/* staffing — see staffing.h. */
#include "staffing.h"

#include <math.h>
#include <string.h>

#define STAFF_GAP_MAX_S 3600.0   /* steps further apart belong to different surges */
#define STAFF_GAP_MIN_S 60.0     /* lanes opening within a minute are one step */
#define STAFF_GAP_MEMORY 4       /* the gap is the mean of about this many recent gaps */
#define STAFF_ACTIVE_GAPS 2.0    /* a surge is over when no step came for this many gaps */

void staff_init(staff_t *s) { memset(s, 0, sizeof *s); }

void staff_observe(staff_t *s, int64_t t_ms, uint32_t lanes, double units)
{
    bool queue = units > 2.0 * lanes + 2.0;
    if (lanes > s->lanes && queue && s->lanes > 0) {
        double gap = s->last_step_ms ? (t_ms - s->last_step_ms) / 1000.0 : 0.0;
        if (!s->last_step_ms || gap >= STAFF_GAP_MIN_S) { /* within a minute: the same step */
            if (gap >= STAFF_GAP_MIN_S && gap <= STAFF_GAP_MAX_S) {
                if (s->n_gaps < STAFF_GAP_MEMORY)
                    s->n_gaps++;
                s->gap_s += (gap - s->gap_s) / s->n_gaps;
            }
            s->last_step_ms = t_ms;
        }
        s->surge = true;
    } else if (lanes < s->lanes || !queue) {
        s->surge = false;
    }
    if (s->surge && s->gap_s > 0 && (t_ms - s->last_step_ms) / 1000.0 > STAFF_ACTIVE_GAPS * s->gap_s)
        s->surge = false;
    if (lanes > s->max_lanes)
        s->max_lanes = lanes;
    s->lanes = lanes;
}

int staff_added(const staff_t *s, int64_t now_ms, int64_t t_ms)
{
    if (!s->surge || s->gap_s <= 0 || s->lanes >= s->max_lanes)
        return 0;
    double since = (t_ms - s->last_step_ms) / 1000.0;
    double already = (now_ms - s->last_step_ms) / 1000.0;
    int n = (int)floor(since / s->gap_s) - (int)floor(already / s->gap_s);
    int room = (int)(s->max_lanes - s->lanes);
    return n < 0 ? 0 : n > room ? room : n;
}

int64_t staff_next_step(const staff_t *s, int64_t now_ms, int64_t t_ms)
{
    if (!s->surge || s->gap_s <= 0 || staff_added(s, now_ms, t_ms) >= (int)(s->max_lanes - s->lanes))
        return INT64_MAX;
    double gap_ms = s->gap_s * 1000.0;
    double k = floor((t_ms - s->last_step_ms) / gap_ms) + 1;
    return s->last_step_ms + (int64_t)ceil(k * gap_ms);
}
