/* aggregate — see aggregate.h. */
#include "aggregate.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reident.h"

/* Longest travel time worth matching: beyond this the tag read is noise. */
#define AGGR_TT_HORIZON_MS (6LL * 3600 * 1000)
#define AGGR_TT_CAPACITY 65536

typedef struct {
    char id[WIRE_LANE_ID_MAX + 1];
    int queue;            /* tax_queue_index of the lane's mode and type */
    bool open;
    uint32_t departures;  /* this interval */
} aggregate_lane_t;

typedef struct {
    bool active;          /* seen at least once: reported every interval */
    uint32_t arrivals, departures;
    bool has_queue_len;
    uint32_t queue_len;
    uint32_t tt_count, tt_sum_s, tt_max_s;
} aggregate_queue_t;

struct aggr {
    uint32_t interval_ms;
    int64_t max_gap_ms;
    aggregate_emit_fn *emit;
    void *arg;
    int64_t start;        /* start of the interval being filled; 0 = none yet */
    int64_t last_event_ms;
    bool in_outage;       /* silence beyond max_gap_ms: not emitting */
    aggregate_queue_t q[TAX_NQUEUES];
    aggregate_lane_t lanes[AGGR_MAX_LANES];
    int nlanes;
    reident_t *reid;
};

aggregate_t *aggregate_new(uint32_t interval_ms, int64_t max_gap_ms, aggregate_emit_fn *emit, void *arg,
                 uint64_t salt)
{
    aggregate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->interval_ms = interval_ms;
    self->max_gap_ms = max_gap_ms;
    self->emit = emit;
    self->arg = arg;
    self->reid = reid_new(AGGR_TT_CAPACITY, AGGR_TT_HORIZON_MS, salt);
    if (!self->reid) {
        free(self);
        return NULL;
    }
    return self;
}

void aggregate_destroy(aggregate_t **self_p)
{
    if (*self_p) {
        reid_destroy(&(*self_p)->reid);
        free(*self_p);
        *self_p = NULL;
    }
}

static uint32_t s_lanes_open(const aggregate_t *self, int queue)
{
    uint32_t n = 0;
    for (int i = 0; i < self->nlanes; i++)
        if (self->lanes[i].queue == queue && self->lanes[i].open)
            n++;
    return n;
}

static void s_emit_interval(aggregate_t *self, int64_t t_end)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        aggregate_queue_t *a = &self->q[k];
        if (!a->active)
            continue;
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        wire_queue_sample_t s = { .t_end_ms = t_end, .mode = (int)m, .type = (int)t };
        s.arrivals = a->arrivals;
        s.departures = a->departures;
        s.lanes_open = s_lanes_open(self, k);
        s.has_queue_len = a->has_queue_len;
        s.queue_len = a->queue_len;
        s.tt_count = a->tt_count;
        s.tt_sum_s = a->tt_sum_s;
        s.tt_max_s = a->tt_max_s;
        self->emit(self->arg, &s, NULL);
        *a = (aggregate_queue_t){ .active = true };
    }
    for (int i = 0; i < self->nlanes; i++) {
        aggregate_lane_t *l = &self->lanes[i];
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(l->queue, &m, &t);
        wire_lane_sample_t s = { .t_end_ms = t_end, .mode = (int)m, .type = (int)t,
                                 .departures = l->departures, .open = l->open };
        snprintf(s.lane_id, sizeof s.lane_id, "%s", l->id);
        self->emit(self->arg, NULL, &s);
        l->departures = 0;
    }
}

void aggregate_advance(aggregate_t *self, int64_t t_ms)
{
    if (self->start == 0)
        return;
    int64_t iv = self->interval_ms;
    while (self->start + iv <= t_ms) {
        int64_t end = self->start + iv;
        /* The interval that holds the last events is always reported;
         * only the silence after it can be an outage. */
        if (self->last_event_ms >= self->start || end - self->last_event_ms <= self->max_gap_ms) {
            s_emit_interval(self, end);
        } else {
            if (!self->in_outage) {
                self->in_outage = true;
                log_warn("no sensor events since %" PRId64 " (over %" PRId64
                         " s): intervals not reported until events return (outage, not zero traffic)",
                         self->last_event_ms, self->max_gap_ms / 1000);
            }
            /* Every later interval of this silence is an outage too: jump
             * to the one holding t_ms instead of stepping through (a clock
             * jump of years would otherwise be a billion iterations). */
            self->start = t_ms - t_ms % iv;
            break;
        }
        self->start = end;
    }
}

void aggregate_flush(aggregate_t *self)
{
    if (self->start == 0)
        return;
    s_emit_interval(self, self->start + self->interval_ms);
    self->start += self->interval_ms;
}

int64_t aggregate_closed_until(const aggregate_t *self) { return self->start; }

int64_t aggregate_close_due(const aggregate_t *self, int64_t grace_ms)
{
    if (self->start == 0)
        return INT64_MAX;
    return self->start + self->interval_ms + grace_ms;
}

static aggregate_lane_t *s_find_lane(aggregate_t *self, const char *id)
{
    for (int i = 0; i < self->nlanes; i++)
        if (strcmp(self->lanes[i].id, id) == 0)
            return &self->lanes[i];
    return NULL;
}

static int s_lane_event(aggregate_t *self, const sensor_event_t *ev, char *why, size_t len)
{
    aggregate_lane_t *l = s_find_lane(self, ev->lane_id);
    if (!l) {
        if (self->nlanes == AGGR_MAX_LANES) {
            snprintf(why, len, "more than %d lanes: '%s' ignored", AGGR_MAX_LANES, ev->lane_id);
            return -1;
        }
        l = &self->lanes[self->nlanes++];
        snprintf(l->id, sizeof l->id, "%s", ev->lane_id);
    }
    l->queue = tax_queue_index(ev->mode, ev->type);
    l->open = ev->open;
    self->q[l->queue].active = true;
    return 0;
}

static int s_depart_event(aggregate_t *self, const sensor_event_t *ev, char *why, size_t len)
{
    aggregate_lane_t *l = s_find_lane(self, ev->lane_id);
    if (!l) {
        snprintf(why, len, "departure from lane '%s' that no lane line declared", ev->lane_id);
        return -1;
    }
    /* A closed lane may still clear the car that was in its booth. */
    l->departures += ev->n;
    self->q[l->queue].departures += ev->n;
    return 0;
}

static void s_tag_event(aggregate_t *self, const sensor_event_t *ev)
{
    if (!ev->booth) {
        reid_entry(self->reid, ev->hash, ev->mode, ev->type, ev->t_ms);
        return;
    }
    int64_t travel_ms;
    if (!reid_booth(self->reid, ev->hash, ev->mode, ev->type, ev->t_ms, &travel_ms))
        return;
    aggregate_queue_t *a = &self->q[tax_queue_index(ev->mode, ev->type)];
    uint32_t s = (uint32_t)((travel_ms + 500) / 1000);
    a->tt_count++;
    a->tt_sum_s += s;
    if (s > a->tt_max_s)
        a->tt_max_s = s;
}

int aggregate_event(aggregate_t *self, const sensor_event_t *ev, char *why, size_t whylen)
{
    int64_t iv = self->interval_ms;
    if (self->start == 0)
        self->start = ev->t_ms - ev->t_ms % iv;
    else
        aggregate_advance(self, ev->t_ms);
    if (ev->t_ms < self->start) {
        snprintf(why, whylen, "event at %" PRId64 " belongs to an interval already sent", ev->t_ms);
        return -1;
    }
    if (self->in_outage) {
        self->in_outage = false;
        log_info("sensor events again at %" PRId64 ": reporting resumes", ev->t_ms);
    }
    self->last_event_ms = ev->t_ms;
    switch (ev->kind) {
    case SENSOR_LANE:
        return s_lane_event(self, ev, why, whylen);
    case SENSOR_DEPART:
        return s_depart_event(self, ev, why, whylen);
    default:
        break;
    }
    aggregate_queue_t *a = &self->q[tax_queue_index(ev->mode, ev->type)];
    a->active = true;
    if (ev->kind == SENSOR_ARRIVE) {
        a->arrivals += ev->n;
    } else if (ev->kind == SENSOR_QUEUE) {
        a->has_queue_len = true;
        a->queue_len = ev->n;
    } else {
        s_tag_event(self, ev);
    }
    return 0;
}
