/* sensors — see sensors.h. */
#include "sensors.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "vec.h"

#define SENS_STREAM 4

struct sens {
    const scen_t *sc;
    rng_t r;
    int64_t start;
    out_t *out;
    uint64_t *tag;          /* per vehicle: its tag, 0 = none */
    size_t ntag, tagcap;
    int status;
};

sens_t *sens_new(const scen_t *sc, uint64_t seed, int64_t start_ms, out_t *out)
{
    sens_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->sc = sc;
    rng_seed(&self->r, seed, SENS_STREAM);
    self->start = start_ms;
    self->out = out;
    return self;
}

void sens_destroy(sens_t **self_p)
{
    if (*self_p) {
        free((*self_p)->tag);
        free(*self_p);
        *self_p = NULL;
    }
}

int sens_status(const sens_t *self) { return self->status; }

static bool s_down(const sens_t *self, const double win[2], int64_t t)
{
    double h = (t - self->start) / 3.6e6;
    return win[1] > win[0] && h >= win[0] && h < win[1];
}

static void s_emit(sens_t *self, const sensor_event_t *ev)
{
    if (out_event(self->out, ev) != 0)
        self->status = -1;
}

static void s_queue_ev(sens_t *self, sensor_event_t *ev, int qi)
{
    ev->mode = self->sc->q[qi].mode;
    ev->type = self->sc->q[qi].type;
}

static void s_lane(void *arg, int64_t t, const char *lane_id, int qi, bool open)
{
    sens_t *self = arg;
    sensor_event_t ev = { .t_ms = t, .kind = SENSOR_LANE, .open = open };
    s_queue_ev(self, &ev, qi);
    snprintf(ev.lane_id, sizeof ev.lane_id, "%s", lane_id);
    s_emit(self, &ev);
}

static void s_tag_read(sens_t *self, int64_t t, int qi, uint64_t tag, bool booth)
{
    sensor_event_t ev = { .t_ms = t, .kind = SENSOR_TAG, .booth = booth };
    s_queue_ev(self, &ev, qi);
    snprintf(ev.hash, sizeof ev.hash, "%016" PRIx64, tag);
    s_emit(self, &ev);
}

static void s_remember_tag(sens_t *self, uint32_t v, uint64_t tag)
{
    if (v >= self->tagcap) {
        size_t old = self->tagcap;
        if (VEC_RESERVE(self->tag, self->tagcap, (size_t)v + 1) != 0) {
            self->status = -1;
            return;
        }
        memset(self->tag + old, 0, (self->tagcap - old) * sizeof *self->tag);   /* no tag yet */
    }
    self->tag[v] = tag;
}

static void s_arrive(void *arg, int64_t t, uint32_t v, int qi)
{
    sens_t *self = arg;
    const scen_sensors_t *s = &self->sc->s;
    /* Every draw happens whatever the outcome, so one fault's setting never
     * shifts another fault's random sequence. */
    bool miss = rng_chance(&self->r, s->entry_miss);
    bool twice = rng_chance(&self->r, s->entry_double);
    bool tagged = rng_chance(&self->r, s->tag_share);
    bool read = rng_chance(&self->r, s->read_entry);
    uint64_t tag = rng_next(&self->r) | 1;
    if (!miss && !s_down(self, s->entry_outage_h, t)) {
        sensor_event_t ev = { .t_ms = t, .kind = SENSOR_ARRIVE, .n = twice ? 2 : 1 };
        s_queue_ev(self, &ev, qi);
        s_emit(self, &ev);
    }
    s_remember_tag(self, v, tagged ? tag : 0);
    if (tagged && read)
        s_tag_read(self, t, qi, tag, false);
}

static void s_depart(void *arg, int64_t t, uint32_t v, int qi, const char *lane_id)
{
    sens_t *self = arg;
    const scen_sensors_t *s = &self->sc->s;
    bool miss = rng_chance(&self->r, s->booth_miss);
    bool twice = rng_chance(&self->r, s->booth_double);
    bool read = rng_chance(&self->r, s->read_booth);
    if (!miss) {
        sensor_event_t ev = { .t_ms = t, .kind = SENSOR_DEPART, .n = twice ? 2 : 1 };
        snprintf(ev.lane_id, sizeof ev.lane_id, "%s", lane_id);
        s_emit(self, &ev);
    }
    uint64_t tag = v < self->tagcap ? self->tag[v] : 0;
    int64_t stamped = t + (int64_t)llround(s->booth_skew_s * 1000.0);
    if (tag && read && !s_down(self, s->reader_outage_h, t))
        s_tag_read(self, stamped, qi, tag, true);
}

static void s_waiting(void *arg, int64_t t, int qi, int waiting)
{
    sens_t *self = arg;
    const scen_sensors_t *s = &self->sc->s;
    double noise = rng_normal(&self->r);
    if (!s->queue_detector)
        return;
    double seen = waiting * (1.0 + s->qdet_noise * noise);
    sensor_event_t ev = { .t_ms = t, .kind = SENSOR_QUEUE, .n = seen > 0 ? (uint32_t)llround(seen) : 0 };
    s_queue_ev(self, &ev, qi);
    s_emit(self, &ev);
}

model_sink_t sens_sink(sens_t *self)
{
    return (model_sink_t){ .lane = s_lane, .arrive = s_arrive, .depart = s_depart,
                           .waiting = s_waiting, .arg = self };
}
