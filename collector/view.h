/* view — what one queue shows at a moment, the same in every feed (native
 * /v1, CBP-compatible, CBSA-compatible): its status with the hours of
 * operation taken into account, and the wait only when it may be shown.
 *
 * Owns the rules "a queue closed by its hours reads closed" and "a stale or
 * missing queue never shows a wait", so the official-format views cannot
 * disagree with the native one. */
#ifndef POE_VIEW_H
#define POE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

enum view_closed_by { VIEW_NOT_CLOSED = 0, VIEW_CLOSED_BY_LANES, VIEW_CLOSED_BY_HOURS };

typedef struct {
    const char *status;        /* "open", "closed", "stale", "no_data" */
    enum view_closed_by closed_by;
    bool fresh;                /* the last interval is recent: lanes_open etc. may be shown */
    bool has_wait;             /* wait_s/wait_min may be shown */
    int64_t wait_s;
    int64_t wait_min;          /* rounded to nearest */
    uint32_t lanes_open;
    bool seen;
    int64_t updated_s;         /* event time of the last interval, when seen */
    bool official;             /* no measured data: what is shown is the official value */
} view_queue_t;

/* The view of queue (m, t) of direction d of crossing x at wall time
 * now_ms. Hours: when the inspecting side's hours say closed at now and no
 * fresh data shows a lane open, the queue is "closed" (closed_by hours);
 * fresh data showing open lanes wins over the schedule (a port that opened
 * early is open). Unknown hours change nothing. */
void view_queue(const xstate_t *x, enum tax_dir d, enum tax_mode m, enum tax_type t,
                int64_t now_ms, int64_t stale_after_ms, view_queue_t *out);


/* A queue that has never had measured data shows its official value, if
 * any (view_queue): a fresh official wait reads "open" with that wait, an
 * official "Lanes Closed" reads "closed" (by lanes), a stale official
 * value reads "stale"; out->official says so, and the feeds label it
 * (method "official"). Measured data, even stale, always wins: the two are
 * never mixed. */

/* The wall time (ms) until which view_queue(x, d, m, t, ., stale_after_ms)
 * answers as it does at now_ms, for every time in [now_ms, that): the
 * queue's data turning stale, its official value turning stale, and, while
 * the hours may decide (the queue is not open), the next minute of the
 * side's local clock (hours are kept to the minute; zone offsets and their
 * changes fall on whole minutes). INT64_MAX when nothing will change with
 * time alone. Wall time that goes back is the caller's to notice. */
int64_t view_queue_valid_until(const xstate_t *x, enum tax_dir d, enum tax_mode m,
                               enum tax_type t, int64_t now_ms, int64_t stale_after_ms);

/* The start of the next minute of zone tz's clock after now_ms, in ms;
 * the next second when the zone cannot be read. */
int64_t view_next_local_minute_ms(const char *tz, int64_t now_ms);

/* The start of the next wall second after now_ms, in ms. */
int64_t view_next_second_ms(int64_t now_ms);

/* Milliseconds to whole seconds, rounding down also before 1970. */
int64_t view_ms_to_s(int64_t ms);

#endif
