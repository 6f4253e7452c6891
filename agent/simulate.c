/* simulate — see simulate.h. */
#include "simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define SIM_MAX_LANES 128
#define SIM_STAFF_EVERY_MS (120 * 1000)
#define SIM_DETECTOR_EVERY_MS (30 * 1000)

typedef struct {
    char id[16];
    int queue;
    int open;
    int64_t busy_until;   /* 0 = idle */
} sim_lane_t;

typedef struct {
    bool on;
    int waiting;
    double rate;          /* arrivals per second at the daily mean */
    double service_s;     /* mean seconds per unit at one booth */
    int64_t next_arrival;
    int nlanes;
} sim_queue_t;

struct sim {
    uint64_t rng;
    int64_t now;           /* simulated up to here */
    int64_t next_staffing, next_detector;
    bool started;
    sim_queue_t q[TAX_NQUEUES];
    sim_lane_t lanes[SIM_MAX_LANES];
    int nlanes;
};

static double s_uniform(sim_t *self)
{
    /* xorshift64*: small, seeded, deterministic. */
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return (double)((self->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double s_exp(sim_t *self, double mean)
{
    return -mean * log(1.0 - s_uniform(self));
}

/* Daily swing: quiet at 3 am, busy at 3 pm local-ish (UTC based; good
 * enough for a demo). */
static double s_diurnal(int64_t t_ms)
{
    double h = (double)((t_ms / 1000) % 86400) / 3600.0;
    return 1.0 + 0.35 * sin((h - 9.0) / 24.0 * 2.0 * M_PI);
}

static void s_add_lanes(sim_t *self, enum tax_mode m, enum tax_type t, int n, char prefix)
{
    static const char tc[] = { '?', 'S', 'R', 'N', 'F' };
    int k = tax_queue_index(m, t);
    for (int i = 0; i < n && self->nlanes < SIM_MAX_LANES; i++) {
        sim_lane_t *l = &self->lanes[self->nlanes++];
        snprintf(l->id, sizeof l->id, "%c%c%02d", prefix, tc[t], i + 1);
        l->queue = k;
    }
    if (n > 0) {
        self->q[k].on = true;
        self->q[k].nlanes = n;
        self->q[k].service_s = tax_typical_service_s(m, t);
    }
}

static void s_split_lanes(sim_t *self, const int max_lanes[TAX_NMODES + 1])
{
    int p = max_lanes[TAX_PASSENGER], d = max_lanes[TAX_PEDESTRIAN], c = max_lanes[TAX_COMMERCIAL];
    int pn = p >= 3 ? (p + 5) / 6 : 0, pr = p >= 3 ? (p + 3) / 4 : 0;
    s_add_lanes(self, TAX_PASSENGER, TAX_NEXUS_SENTRI, pn, 'P');
    s_add_lanes(self, TAX_PASSENGER, TAX_READY, pr, 'P');
    s_add_lanes(self, TAX_PASSENGER, TAX_STANDARD, p - pn - pr, 'P');
    int dr = d >= 2 ? (d + 3) / 4 : 0;
    s_add_lanes(self, TAX_PEDESTRIAN, TAX_READY, dr, 'W');
    s_add_lanes(self, TAX_PEDESTRIAN, TAX_STANDARD, d - dr, 'W');
    int cf = c >= 2 ? (c + 2) / 3 : 0;
    s_add_lanes(self, TAX_COMMERCIAL, TAX_FAST, cf, 'C');
    s_add_lanes(self, TAX_COMMERCIAL, TAX_STANDARD, c - cf, 'C');
}

sim_t *sim_new(uint64_t seed, const int max_lanes[TAX_NMODES + 1], double load, int64_t start_ms)
{
    sim_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    self->now = start_ms;
    s_split_lanes(self, max_lanes);
    for (int k = 0; k < TAX_NQUEUES; k++) {
        sim_queue_t *q = &self->q[k];
        if (!q->on)
            continue;
        /* Demand sized to the lanes a port would staff (about 60%), times
         * the load and a per-queue spread, so each queue behaves a bit
         * differently. */
        double staffed = q->nlanes * 0.6 > 1 ? q->nlanes * 0.6 : 1;
        q->rate = load * staffed / q->service_s * (0.8 + 0.4 * s_uniform(self));
        q->waiting = (int)(staffed * (3 + 12 * s_uniform(self)));
        q->next_arrival = start_ms + (int64_t)(s_exp(self, 1.0 / q->rate) * 1000);
    }
    for (int i = 0; i < self->nlanes; i++) {
        sim_lane_t *l = &self->lanes[i];
        int rank = 0;
        for (int j = 0; j < i; j++)
            rank += self->lanes[j].queue == l->queue;
        l->open = rank < (int)ceil(self->q[l->queue].nlanes * 0.6);
    }
    self->next_staffing = start_ms + SIM_STAFF_EVERY_MS;
    self->next_detector = start_ms;
    return self;
}

void sim_destroy(sim_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static void s_emit_lane(sim_lane_t *l, int64_t t, sim_event_fn *fn, void *arg)
{
    sensor_event_t ev = { .t_ms = t, .kind = SENSOR_LANE, .open = l->open };
    tax_queue_from_index(l->queue, &ev.mode, &ev.type);
    snprintf(ev.lane_id, sizeof ev.lane_id, "%s", l->id);
    fn(arg, &ev);
}

static void s_staffing(sim_t *self, int64_t t, sim_event_fn *fn, void *arg)
{
    for (int k = 0; k < TAX_NQUEUES; k++) {
        sim_queue_t *q = &self->q[k];
        if (!q->on)
            continue;
        int open = 0;
        for (int i = 0; i < self->nlanes; i++)
            open += self->lanes[i].queue == k && self->lanes[i].open;
        double wait_s = open ? q->waiting * q->service_s / open : 1e9;
        int want = wait_s > 1800 ? 1 : (wait_s < 300 && open > 1 ? -1 : 0);
        for (int i = 0; i < self->nlanes && want != 0; i++) {
            sim_lane_t *l = &self->lanes[i];
            if (l->queue != k || l->open == (want > 0))
                continue;
            if (want < 0 && l->busy_until)
                continue; /* close only an idle booth */
            l->open = want > 0;
            s_emit_lane(l, t, fn, arg);
            want = 0;
        }
    }
}

/* The earliest pending event: an arrival (queue k) or a service completion
 * (lane i), or neither before `until`. */
static int64_t s_next(sim_t *self, int *kind, int *idx)
{
    int64_t best = INT64_MAX;
    for (int k = 0; k < TAX_NQUEUES; k++)
        if (self->q[k].on && self->q[k].next_arrival < best) {
            best = self->q[k].next_arrival;
            *kind = 0;
            *idx = k;
        }
    for (int i = 0; i < self->nlanes; i++)
        if (self->lanes[i].busy_until && self->lanes[i].busy_until < best) {
            best = self->lanes[i].busy_until;
            *kind = 1;
            *idx = i;
        }
    return best;
}

/* Idle open booths take the next unit in line. */
static void s_start_service(sim_t *self, int64_t t)
{
    for (int i = 0; i < self->nlanes; i++) {
        sim_lane_t *l = &self->lanes[i];
        sim_queue_t *q = &self->q[l->queue];
        if (l->open && !l->busy_until && q->waiting > 0) {
            q->waiting--;
            double s = q->service_s * (0.6 + 0.8 * s_uniform(self));
            l->busy_until = t + (int64_t)(s * 1000) + 1;
        }
    }
}

static void s_start(sim_t *self, sim_event_fn *fn, void *arg)
{
    int64_t t = self->now;
    for (int i = 0; i < self->nlanes; i++)
        s_emit_lane(&self->lanes[i], t, fn, arg);
    for (int k = 0; k < TAX_NQUEUES; k++) {
        if (!self->q[k].on || self->q[k].waiting == 0)
            continue;
        sensor_event_t ev = { .t_ms = t, .kind = SENSOR_ARRIVE, .n = (uint32_t)self->q[k].waiting };
        tax_queue_from_index(k, &ev.mode, &ev.type);
        fn(arg, &ev);
    }
    s_start_service(self, t);
    self->started = true;
}

void sim_run_until(sim_t *self, int64_t now_ms, sim_event_fn *fn, void *arg)
{
    if (!self->started)
        s_start(self, fn, arg);
    for (;;) {
        int kind = -1, idx = 0;
        int64_t t = s_next(self, &kind, &idx);
        int64_t periodic = self->next_staffing < self->next_detector ? self->next_staffing
                                                                     : self->next_detector;
        if (periodic <= t && periodic <= now_ms) {
            if (periodic == self->next_detector) {
                /* The passenger standard queue has a length detector. */
                int k = tax_queue_index(TAX_PASSENGER, TAX_STANDARD);
                if (self->q[k].on) {
                    sensor_event_t ev = { .t_ms = periodic, .kind = SENSOR_QUEUE,
                                          .mode = TAX_PASSENGER, .type = TAX_STANDARD,
                                          .n = (uint32_t)self->q[k].waiting };
                    fn(arg, &ev);
                }
                self->next_detector += SIM_DETECTOR_EVERY_MS;
            } else {
                s_staffing(self, periodic, fn, arg);
                self->next_staffing += SIM_STAFF_EVERY_MS;
            }
            continue;
        }
        if (kind < 0 || t > now_ms)
            break;
        sensor_event_t ev = { .t_ms = t, .n = 1 };
        if (kind == 0) {
            sim_queue_t *q = &self->q[idx];
            q->waiting++;
            q->next_arrival = t + 1 + (int64_t)(s_exp(self, 1.0 / (q->rate * s_diurnal(t))) * 1000);
            ev.kind = SENSOR_ARRIVE;
            tax_queue_from_index(idx, &ev.mode, &ev.type);
        } else {
            sim_lane_t *l = &self->lanes[idx];
            l->busy_until = 0;
            ev.kind = SENSOR_DEPART;
            snprintf(ev.lane_id, sizeof ev.lane_id, "%s", l->id);
        }
        fn(arg, &ev);
        s_start_service(self, t);
    }
    self->now = now_ms;
}

int sim_parse_lanes(const char *spec, int max_lanes[TAX_NMODES + 1])
{
    memset(max_lanes, 0, sizeof(int) * (TAX_NMODES + 1));
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        enum tax_mode m;
        char *end;
        long n = strtol(eq + 1, &end, 10);
        if (tax_mode_parse(item, &m) != 0 || *end || n < 0 || n > 64)
            return -1;
        max_lanes[m] = (int)n;
    }
    return 0;
}
