/* model — see model.h. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "vec.h"

#define MODEL_ARRIVAL_STREAM 2
#define MODEL_SERVICE_STREAM 3
#define MODEL_MAX_LANES 128
#define MODEL_STAFF_EVERY_MS 60000LL
#define MODEL_NEVER INT64_MAX

typedef struct {
    char id[16];
    int qi;
    bool open;
    int64_t vehicle;        /* in the booth, -1 when free */
    int64_t done_ms;
} mlane_t;

typedef struct {
    uint32_t *fifo;         /* waiting vehicle numbers, ring */
    size_t cap, head, len;
    int64_t next_arrival;
    int want;               /* lanes staff want open */
    int pending;            /* staffing decision waiting for its delay; -1 none */
    int64_t pending_at;
} mqueue_t;

struct model {
    const scen_t *sc;
    const demand_t *demand;
    const wtab_t *schedule;
    rng_t arr, svc;
    int64_t t0, start, end, now;
    int64_t next_hour, next_staff, next_detector;
    mqueue_t q[SCEN_MAX_QUEUES];
    mlane_t lanes[MODEL_MAX_LANES];
    int nlanes;
    model_vehicle_t *v;
    size_t nv, vcap;
    const model_sink_t *sink;
};

static double s_hours(const model_t *self, int64_t t) { return (t - self->t0) / 3.6e6; }

static bool s_in_incident(const model_t *self, int qi, int64_t t)
{
    const scen_incident_t *in = &self->sc->incident;
    double h = (t - self->start) / 3.6e6;
    return in->for_h > 0 && in->queue == qi && h >= in->at_h && h < in->at_h + in->for_h;
}

static void s_next_arrival(model_t *self, int qi, int64_t from)
{
    double max = demand_max_vph(self->demand, qi);
    double f = self->sc->incident.demand_factor > 1 ? self->sc->incident.demand_factor : 1;
    double bound = max * f / 3.6e6; /* per ms */
    int64_t t = from;
    for (;;) {
        if (bound <= 0 || t >= self->end) {
            self->q[qi].next_arrival = MODEL_NEVER;
            return;
        }
        t += (int64_t)ceil(rng_exp(&self->arr, 1.0 / bound));
        double rate = demand_vph(self->demand, qi, s_hours(self, t)) / 3.6e6;
        if (s_in_incident(self, qi, t))
            rate *= self->sc->incident.demand_factor;
        if (rng_uniform(&self->arr) * bound < rate)
            break;
    }
    self->q[qi].next_arrival = t < self->end ? t : MODEL_NEVER;
}

static void s_add_lanes(model_t *self)
{
    static const char mc[] = { '?', 'P', 'W', 'C' }, tc[] = { '?', 'S', 'R', 'N', 'F' };
    for (int qi = 0; qi < self->sc->nq; qi++) {
        const scen_queue_t *q = &self->sc->q[qi];
        for (int i = 0; i < q->booths && self->nlanes < MODEL_MAX_LANES; i++) {
            mlane_t *l = &self->lanes[self->nlanes++];
            snprintf(l->id, sizeof l->id, "%c%c%02d", mc[q->mode], tc[q->type], i + 1);
            l->qi = qi;
            l->vehicle = -1;
        }
    }
}

model_t *model_new(const scen_t *sc, const demand_t *demand, const wtab_t *schedule,
                   uint64_t seed, int64_t t0_ms)
{
    model_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->sc = sc;
    self->demand = demand;
    self->schedule = schedule;
    rng_seed(&self->arr, seed, MODEL_ARRIVAL_STREAM);
    rng_seed(&self->svc, seed, MODEL_SERVICE_STREAM);
    self->t0 = t0_ms;
    self->start = t0_ms + (int64_t)llround(sc->start_h * 3.6e6);
    self->end = self->start + (int64_t)llround(sc->hours * 3.6e6);
    self->now = self->start;
    s_add_lanes(self);
    for (int qi = 0; qi < sc->nq; qi++) {
        self->q[qi].pending = -1;
        s_next_arrival(self, qi, self->start);
    }
    return self;
}

void model_destroy(model_t **self_p)
{
    model_t *self = *self_p;
    if (!self)
        return;
    for (int qi = 0; qi < SCEN_MAX_QUEUES; qi++)
        free(self->q[qi].fifo);
    free(self->v);
    free(self);
    *self_p = NULL;
}

size_t model_vehicles(const model_t *self) { return self->nv; }
const model_vehicle_t *model_vehicle(const model_t *self, size_t i) { return &self->v[i]; }
const char *model_lane_id(const model_t *self, int lane) { return self->lanes[lane].id; }

static int s_push(mqueue_t *q, uint32_t v)
{
    if (q->len == q->cap) {
        size_t old = q->cap;
        if (VEC_RESERVE(q->fifo, q->cap, q->len + 1) != 0)
            return -1;
        /* Unwrap the ring: the part before head follows the old end (the
         * capacity at least doubled, so it fits). */
        memcpy(q->fifo + old, q->fifo, q->head * sizeof *q->fifo);
    }
    q->fifo[(q->head + q->len++) % q->cap] = v;
    return 0;
}

static uint32_t s_pop(mqueue_t *q)
{
    uint32_t v = q->fifo[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return v;
}

static void s_start_service(model_t *self, int lane, uint32_t v)
{
    mlane_t *l = &self->lanes[lane];
    const scen_queue_t *q = &self->sc->q[l->qi];
    double s = rng_lognormal(&self->svc, q->service_s, q->service_cv);
    l->vehicle = v;
    l->done_ms = self->now + (int64_t)llround(s * 1000.0);
    self->v[v].lane = lane;
}

/* A free open booth takes the head of its queue. */
static void s_feed(model_t *self, int lane)
{
    mlane_t *l = &self->lanes[lane];
    mqueue_t *q = &self->q[l->qi];
    if (l->open && l->vehicle < 0 && q->len > 0)
        s_start_service(self, lane, s_pop(q));
}

static int s_open_count(const model_t *self, int qi)
{
    int n = 0;
    for (int i = 0; i < self->nlanes; i++)
        n += self->lanes[i].qi == qi && self->lanes[i].open;
    return n;
}

/* Open the first n lanes of a queue and close the rest; a closing booth
 * still finishes the unit it is serving. */
static void s_set_open(model_t *self, int qi, int n)
{
    int rank = 0;
    for (int i = 0; i < self->nlanes; i++) {
        mlane_t *l = &self->lanes[i];
        if (l->qi != qi)
            continue;
        bool open = rank++ < n;
        if (open == l->open)
            continue;
        l->open = open;
        self->sink->lane(self->sink->arg, self->now, l->id, qi, open);
        s_feed(self, i);
    }
}

static void s_reconcile(model_t *self, int qi)
{
    int n = self->q[qi].want;
    if (s_in_incident(self, qi, self->now))
        n -= self->sc->incident.lanes_closed;
    /* After the last arrival, staff stay until the queue is empty. */
    if (self->now >= self->end && n < 1 && self->q[qi].len > 0)
        n = 1;
    if (n < 0)
        n = 0;
    s_set_open(self, qi, n);
}

static int s_hour_of_week(const model_t *self)
{
    return (int)(((self->now - self->t0) / 3600000) % WTAB_HOURS);
}

/* Lanes the schedule wants open for queue qi now, or SCEN_STAFFING. */
static int s_scheduled(const model_t *self, int qi)
{
    const scen_queue_t *q = &self->sc->q[qi];
    int h = s_hour_of_week(self);
    if (self->schedule && wtab_has(self->schedule, tax_queue_index(q->mode, q->type)))
        return (int)wtab_get(self->schedule, tax_queue_index(q->mode, q->type), h);
    return q->schedule[h % 24];
}

/* Hourly schedules, and the staffing rule's starting point. */
static void s_schedule(model_t *self)
{
    for (int qi = 0; qi < self->sc->nq; qi++) {
        const scen_queue_t *q = &self->sc->q[qi];
        int n = s_scheduled(self, qi);
        if (n != SCEN_STAFFING) {
            self->q[qi].want = n < q->booths ? n : q->booths;
            self->q[qi].pending = -1;
        } else if (self->now == self->start) {
            self->q[qi].want = q->staffing.min_lanes;
        }
        s_reconcile(self, qi);
    }
}

static void s_staffing(model_t *self)
{
    for (int qi = 0; qi < self->sc->nq; qi++) {
        const scen_queue_t *q = &self->sc->q[qi];
        mqueue_t *mq = &self->q[qi];
        if (s_scheduled(self, qi) != SCEN_STAFFING || mq->pending >= 0)
            continue;
        int open = s_open_count(self, qi);
        double wait = mq->len * q->service_s / (open > 0 ? open : 1);
        const scen_staffing_t *st = &q->staffing;
        int target = mq->want;
        if (wait > st->open_above_s && mq->want < st->max_lanes)
            target = mq->want + 1;
        else if (wait < st->close_below_s && mq->want > st->min_lanes)
            target = mq->want - 1;
        if (target != mq->want) {
            mq->pending = target;
            mq->pending_at = self->now + (int64_t)(st->delay_s * 1000);
        }
    }
}

static int s_arrive(model_t *self, int qi)
{
    if (VEC_RESERVE(self->v, self->vcap, self->nv + 1) != 0)
        return -1;
    uint32_t id = (uint32_t)self->nv++;
    self->v[id] = (model_vehicle_t){ .arrive_ms = self->now, .qi = qi, .lane = -1 };
    self->sink->arrive(self->sink->arg, self->now, id, qi);
    if (s_push(&self->q[qi], id) != 0)
        return -1;
    for (int i = 0; i < self->nlanes && self->q[qi].len > 0; i++)
        if (self->lanes[i].qi == qi)
            s_feed(self, i);
    s_next_arrival(self, qi, self->now);
    return 0;
}

static void s_depart(model_t *self, int lane)
{
    mlane_t *l = &self->lanes[lane];
    uint32_t v = (uint32_t)l->vehicle;
    self->v[v].depart_ms = self->now;
    l->vehicle = -1;
    self->sink->depart(self->sink->arg, self->now, v, l->qi, l->id);
    s_feed(self, lane);
}

static void s_detectors(model_t *self)
{
    for (int qi = 0; qi < self->sc->nq; qi++)
        self->sink->waiting(self->sink->arg, self->now, qi, (int)self->q[qi].len);
}

static bool s_busy(const model_t *self)
{
    for (int qi = 0; qi < self->sc->nq; qi++)
        if (self->q[qi].len > 0 || self->q[qi].next_arrival != MODEL_NEVER)
            return true;
    for (int i = 0; i < self->nlanes; i++)
        if (self->lanes[i].vehicle >= 0)
            return true;
    return false;
}

/* The earliest thing that happens next; *what: 0 control tick, 1 arrival
 * (*who queue), 2 departure (*who lane). */
static int64_t s_next(const model_t *self, int *what, int *who)
{
    int64_t t = self->next_hour;
    *what = 0;
    if (self->next_staff < t)
        t = self->next_staff;
    if (self->next_detector < t)
        t = self->next_detector;
    for (int qi = 0; qi < self->sc->nq; qi++) {
        if (self->q[qi].pending >= 0 && self->q[qi].pending_at < t)
            t = self->q[qi].pending_at;
        if (self->q[qi].next_arrival < t) {
            t = self->q[qi].next_arrival;
            *what = 1;
            *who = qi;
        }
    }
    for (int i = 0; i < self->nlanes; i++)
        if (self->lanes[i].vehicle >= 0 && self->lanes[i].done_ms < t) {
            t = self->lanes[i].done_ms;
            *what = 2;
            *who = i;
        }
    return t;
}

/* Hour boundaries, staffing checks, delayed decisions, incidents,
 * detector readings: whatever is due at self->now. */
static void s_control(model_t *self)
{
    if (self->now >= self->next_hour) {
        s_schedule(self);
        self->next_hour += 3600000;
    }
    for (int qi = 0; qi < self->sc->nq; qi++) {
        mqueue_t *mq = &self->q[qi];
        if (mq->pending >= 0 && mq->pending_at <= self->now) {
            mq->want = mq->pending;
            mq->pending = -1;
        }
    }
    if (self->now >= self->next_staff) {
        s_staffing(self);
        for (int qi = 0; qi < self->sc->nq; qi++)
            s_reconcile(self, qi); /* incidents start and end on the minute */
        self->next_staff += MODEL_STAFF_EVERY_MS;
    }
    if (self->now >= self->next_detector) {
        s_detectors(self);
        double every = self->sc->s.qdet_every_s > 0 ? self->sc->s.qdet_every_s : 30.0;
        self->next_detector += (int64_t)(every * 1000);
    }
}

int model_run(model_t *self, const model_sink_t *sink)
{
    self->sink = sink;
    for (int i = 0; i < self->nlanes; i++) /* declare every lane, closed */
        sink->lane(sink->arg, self->now, self->lanes[i].id, self->lanes[i].qi, false);
    self->next_hour = self->now;
    self->next_staff = self->now;
    self->next_detector = self->now;
    s_control(self);
    while (s_busy(self)) {
        int what, who = 0;
        self->now = s_next(self, &what, &who);
        if (what == 1 && s_arrive(self, who) != 0)
            return -1;
        if (what == 2)
            s_depart(self, who);
        if (what == 0)
            s_control(self);
    }
    return 0;
}
