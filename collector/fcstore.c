/* fcstore — see fcstore.h. */
#include "fcstore.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "giveway.h"
#include "hours.h"
#include "log.h"
#include "plan.h"
#include "timeutil.h"
#include "vec.h"
#include "zone.h"

typedef struct {
    fc_t *fc;
    fc_result_t res;
    int64_t last_run_s;
    int64_t logged_hour;     /* last hour whose forecast went to the log */
    int64_t tapped_step;     /* last step whose first run's inputs went to the tap */
    int64_t obs_s;           /* end of the last observation; 0 none */
    double obs_arr;          /* the estimator's counted arrivals then */
    uint64_t obs_tt_n;       /* travel times ended by then: count and sum */
    double obs_tt_sum;
    bool said_short;
    bool pending;            /* due, waiting for the budget */
    uint32_t i;              /* where it is: crossing, direction, queue */
    uint8_t d, k;
} s_queue_t;

typedef struct {
    const char *tz;
    const hours_side_t *side;
    /* The zone's UTC offset over [off_from, off_to): a run looks 24 h
     * ahead, and asking the zone for each step switches TZ every time. */
    int64_t off_from, off_to;
    long gmtoff;
} s_cal_arg_t;

#define S_OFFSET_SPAN_S (26 * 3600)

struct fcstore {
    state_t *state;
    size_t n;
    s_queue_t *(*q)[TAX_NDIRS][TAX_NQUEUES];
    s_cal_arg_t (*cal)[TAX_NDIRS];
    FILE *log;
    FILE *tap;               /* the forecast's inputs (the harness's offline replay) */
    /* The refresh budget: runs in the current second of the loop, and the
     * queues due that wait for the next (coalesced: one entry per queue). */
    int64_t budget_us;       /* per second */
    int64_t window_ms;
    int64_t spent_us;
    s_queue_t **pending;
    size_t npending, pcap;
    struct event *ev_pending;
    uint64_t deferred;       /* runs that waited for the timer, in all */
    giveway_t giveway;       /* to the loop's other work waiting (ingest_busy) */
};

/* The local week of the port that inspects a direction; its holiday
 * closures are the holidays. */
/* Local time of t_s: from the cached offset when it holds (the offset at
 * both ends of a 26-hour span is the same: no zone changes twice in a
 * day), else from the zone. */
static int s_local(s_cal_arg_t *c, int64_t t_s, struct tm *lt)
{
    char abbr[16];
    if (t_s < c->off_from || t_s >= c->off_to) {
        struct tm end;
        if (zone_local(c->tz, t_s, lt, abbr, sizeof abbr) != 0)
            return -1;
        if (zone_local(c->tz, t_s + S_OFFSET_SPAN_S, &end, abbr, sizeof abbr) == 0 &&
            end.tm_gmtoff == lt->tm_gmtoff) {
            c->off_from = t_s;
            c->off_to = t_s + S_OFFSET_SPAN_S;
            c->gmtoff = lt->tm_gmtoff;
        }
        return 0;
    }
    time_t local = (time_t)(t_s + c->gmtoff);
    return gmtime_r(&local, lt) ? 0 : -1;
}

static int s_slot(const void *arg, int64_t t_s, bool *holiday)
{
    s_cal_arg_t *c = (s_cal_arg_t *)arg; /* its offset cache only */
    struct tm lt;
    *holiday = false;
    if (!c->tz || s_local(c, t_s, &lt) != 0)
        return -1;
    for (int i = 0; c->side && i < c->side->nclosed; i++)
        if (hours_closure_on(&c->side->closed[i], &lt))
            *holiday = true;
    int wd = (lt.tm_wday + 6) % 7;
    return wd * FC_DAY_SLOTS + lt.tm_hour * 4 + lt.tm_min / 15;
}

fcstore_t *fcstore_new(state_t *state)
{
    fcstore_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->state = state;
    self->n = state_count(state);
    self->q = calloc(self->n ? self->n : 1, sizeof *self->q);
    self->cal = calloc(self->n ? self->n : 1, sizeof *self->cal);
    if (!self->q || !self->cal) {
        fcstore_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < self->n; i++) {
        const reg_crossing_t *r = state_at(state, i)->reg;
        for (int d = 0; d < TAX_NDIRS; d++) {
            enum hours_side side = hours_side_of(r->border, (enum tax_dir)(d + 1));
            self->cal[i][d].tz = reg_side_tz(r, side);
            self->cal[i][d].side = r->hours[side].known ? &r->hours[side] : NULL;
        }
    }
    return self;
}

void fcstore_destroy(fcstore_t **self_p)
{
    fcstore_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->q && i < self->n; i++) {
        xstate_t *x = state_at(self->state, i);
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++) {
                s_queue_t *q = self->q[i][d][k];
                if (!q)
                    continue;
                x->forecast[d][k] = NULL;
                x->changes++;
                fc_destroy(&q->fc);
                free(q);
            }
    }
    free(self->q);
    free(self->cal);
    free(self->pending);
    if (self->ev_pending)
        event_free(self->ev_pending);
    if (self->log)
        fclose(self->log);
    if (self->tap)
        fclose(self->tap);
    free(self);
    *self_p = NULL;
}

static size_t s_index(fcstore_t *self, const xstate_t *x)
{
    return (size_t)(x - state_at(self->state, 0));
}

static s_queue_t *s_queue(fcstore_t *self, size_t i, int d, int k)
{
    s_queue_t *q = self->q[i][d][k];
    if (q)
        return q;
    q = calloc(1, sizeof *q);
    if (!q || !(q->fc = fc_new())) {
        free(q);
        return NULL;
    }
    q->i = (uint32_t)i;
    q->d = (uint8_t)d;
    q->k = (uint8_t)k;
    self->q[i][d][k] = q;
    return q;
}

int fcstore_log_to(fcstore_t *self, const char *path)
{
    self->log = fopen(path, "a");
    if (!self->log) {
        log_error("--forecast-log %s: %s", path, strerror(errno));
        return -1;
    }
    char in[4096];
    snprintf(in, sizeof in, "%s.in", path);
    self->tap = fopen(in, "a");
    if (!self->tap) {
        log_error("--forecast-log %s: %s", in, strerror(errno));
        fclose(self->log);
        self->log = NULL;
        return -1;
    }
    return 0;
}

/* The inputs of the first run in each step (every run that changes the
 * forecast's state or is logged): the present and the lanes it expects
 * at now and at each of the next FCSTORE_TAP_MIN minute boundaries. */
static void s_tap_run(fcstore_t *self, const xstate_t *x, int d, int k, s_queue_t *fq,
                      const fc_present_t *p)
{
    int64_t step = p->now_s / FC_STEP_S;
    if (!self->tap || step == fq->tapped_step)
        return;
    fq->tapped_step = step;
    fprintf(self->tap, "R,%s,%d,%d,%" PRId64 ",%d,%.3f,%.3f,%.3f,%.6g,%.6g,%.6g,%d", x->reg->id,
            d, k, p->now_s, p->has_wait, p->wait_s, p->units, p->lanes, p->lane_rate,
            p->arr_rate, p->arr_rate_prev, p->lanes_planned);
    for (int i = 0; i <= FCSTORE_TAP_MIN; i++)
        fprintf(self->tap, ",%d",
                p->lanes_at(p->lanes_arg, i == 0 ? p->now_s : (p->now_s / 60 + i) * 60));
    fputc('\n', self->tap);
}

static void s_log(fcstore_t *self, const xstate_t *x, int d, int k, s_queue_t *fq)
{
    const fc_result_t *r = &fq->res;
    int64_t hour = r->issued_s / 3600;
    if (!self->log || hour == fq->logged_hour)
        return;
    fq->logged_hour = hour;
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    const qstate_t *q = x->q[d][k];
    char now[32] = "";
    if (q->out.has_wait && isfinite(q->out.wait_s))
        snprintf(now, sizeof now, "%.0f", q->out.wait_s);
    int64_t s0 = r->issued_s / FC_STEP_S * FC_STEP_S;
    for (int j = 0; j < FC_NSTEPS; j++)
        fprintf(self->log, "%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%u,%u,%u,%s\n", x->reg->id,
                tax_dir_name((enum tax_dir)(d + 1)), tax_mode_name(m), tax_type_name(t),
                r->issued_s, s0 + j * (int64_t)FC_STEP_S, r->step[j].p10_s, r->step[j].p50_s,
                r->step[j].p90_s, now);
    fflush(self->log);
}

/* ---- the present ------------------------------------------------------- */

/* True arrivals per second between minute boundaries b0 and b1 (b1 NOW:
 * the counter now); -1 when the history does not reach back. */
static double s_rate(const est_t *e, int64_t b0, int64_t b1, double k)
{
    double a0 = est_arrivals_at_minute(e, b0);
    double a1 = b1 == INT64_MAX ? e->arrivals : est_arrivals_at_minute(e, b1);
    double t1 = b1 == INT64_MAX ? e->now_ms / 1000.0 : b1 * 60.0;
    double dt = t1 - b0 * 60.0;
    if (isnan(a0) || isnan(a1) || dt <= 0)
        return -1.0;
    return (a1 - a0) * k / dt;
}

typedef struct {
    const qstate_t *q;
    const plan_t *plan;
    int queue;
    int p0;
} s_lanes_arg_t;

/* Lanes now, the plan's changes from now and the surge's steps. */
static int s_lanes_at(const void *arg, int64_t t_s)
{
    const s_lanes_arg_t *a = arg;
    const est_t *e = &a->q->est;
    int l = (int)a->q->lanes_open;
    if (a->plan && a->p0 >= 0) {
        int p = plan_lanes(a->plan, a->queue, t_s * 1000);
        if (p >= 0)
            l += p - a->p0;
    }
    l += staff_added(&e->staff, e->now_ms, t_s * 1000 > e->now_ms ? t_s * 1000 : e->now_ms);
    return l < 0 ? 0 : l;
}

static void s_run(fcstore_t *self, size_t i, int d, int k, s_queue_t *fq)
{
    xstate_t *x = state_at(self->state, i);
    const qstate_t *q = x->q[d][k];
    const est_t *e = &q->est;
    int64_t b = e->now_ms / 60000;
    double scale = q->out.count_scale > 0 ? q->out.count_scale : 1.0;
    s_lanes_arg_t la = { .q = q, .plan = x->plan[d], .queue = k, .p0 = -1 };
    if (la.plan)
        la.p0 = plan_lanes(la.plan, k, e->now_ms);
    fc_present_t p = { .now_s = q->updated_ms / 1000,
                       .has_wait = q->out.has_wait && isfinite(q->out.wait_s),
                       .wait_s = q->out.wait_s, .units = e->queue,
                       .lanes = q->lanes_open, .lane_rate = est_lane_rate(e),
                       .arr_rate = s_rate(e, b - 15, INT64_MAX, scale),
                       .arr_rate_prev = s_rate(e, b - 30, b - 15, scale),
                       .lanes_at = s_lanes_at, .lanes_arg = &la,
                       .lanes_planned = la.p0 >= 0 };
    fc_calendar_t cal = { s_slot, &self->cal[i][d] };
    s_tap_run(self, x, d, k, fq, &p);
    fc_run(fq->fc, &cal, &p, &fq->res);
    fq->last_run_s = p.now_s;
    x->forecast[d][k] = &fq->res;
    x->changes++; /* the views show its best time */
    s_log(self, x, d, k, fq);
    if (fq->res.short_basis != fq->said_short) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        if (fq->res.short_basis)
            log_info("forecast %s %s %s-%s: basis short (%s): wider bands", x->reg->id,
                     tax_dir_name((enum tax_dir)(d + 1)), tax_mode_name(m), tax_type_name(t),
                     fq->res.why_short);
        else
            log_info("forecast %s %s %s-%s: a week of history, basis full", x->reg->id,
                     tax_dir_name((enum tax_dir)(d + 1)), tax_mode_name(m), tax_type_name(t));
        fq->said_short = fq->res.short_basis;
    }
}

/* ---- the refresh budget ---------------------------------------------------- */

/* Whether the current second still has room for a run. */
static bool s_budget_left(fcstore_t *self)
{
    int64_t now = tu_mono_ms();
    if (now - self->window_ms >= 1000) {
        self->window_ms = now;
        self->spent_us = 0;
    }
    return self->spent_us < self->budget_us;
}

static void s_run_timed(fcstore_t *self, s_queue_t *fq)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    s_run(self, fq->i, fq->d, fq->k, fq);
    clock_gettime(CLOCK_MONOTONIC, &b);
    self->spent_us += (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
}

static void s_arm(fcstore_t *self, int64_t in_ms)
{
    struct timeval tv = { (time_t)(in_ms / 1000), (suseconds_t)(in_ms % 1000) * 1000 };
    if (event_add(self->ev_pending, &tv) != 0)
        log_error("forecast: cannot arm the refresh timer");
}

/* Run the pending queues, oldest first, for at most FCSTORE_SLICE_MS and
 * within the second's budget; come back for the rest. */
static void s_on_pending(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fcstore_t *self = arg;
    int64_t start = tu_mono_ms();
    if (giveway_wait(&self->giveway, start)) {
        s_arm(self, FCSTORE_SLICE_GAP_MS);
        return;
    }
    size_t done = 0;
    while (done < self->npending && s_budget_left(self) &&
           tu_mono_ms() - start < FCSTORE_SLICE_MS) {
        s_queue_t *fq = self->pending[done++];
        fq->pending = false;
        s_run_timed(self, fq);
    }
    memmove(self->pending, self->pending + done, (self->npending - done) * sizeof *self->pending);
    self->npending -= done;
    if (self->npending == 0)
        return;
    int64_t now = tu_mono_ms();
    s_arm(self, s_budget_left(self) ? FCSTORE_SLICE_GAP_MS : 1000 - (now - self->window_ms));
}

/* A queue's forecast is due. Without a loop (tests, benchmarks) or with
 * the forecast log (the harness must see the forecast of each whole hour
 * of event time), it runs now. With one it waits for the timer, once
 * however often it falls due meanwhile: the caller is ingest's commit,
 * which acknowledges agents after it (a catch-up or a return from an
 * outage makes every queue due at once: 10,000 runs, ~0.25 s), and only
 * the newest data matters, so one run later replaces many now. */
static void s_due(fcstore_t *self, s_queue_t *fq)
{
    if (fq->pending)
        return;
    if (!self->ev_pending || self->log) {
        s_run_timed(self, fq);
        return;
    }
    if (VEC_RESERVE(self->pending, self->pcap, self->npending + 1) != 0) {
        s_run_timed(self, fq);   /* cannot remember it: run it */
        return;
    }
    if (self->npending == 0 && !event_pending(self->ev_pending, EV_TIMEOUT, NULL))
        s_arm(self, FCSTORE_PENDING_EVERY_MS);
    self->pending[self->npending++] = fq;
    fq->pending = true;
    self->deferred++;
}

void fcstore_set_budget(fcstore_t *self, int budget_ms)
{
    self->budget_us = (int64_t)budget_ms * 1000;
}

void fcstore_set_busy(fcstore_t *self, bool (*busy)(void *arg), void *arg)
{
    giveway_init(&self->giveway, busy, arg, FCSTORE_DEFER_MAX_MS);
}

int fcstore_start(fcstore_t *self, struct event_base *base, int budget_ms)
{
    fcstore_set_budget(self, budget_ms);
    self->ev_pending = event_new(base, -1, 0, s_on_pending, self);
    if (!self->ev_pending) {
        log_error("forecast: cannot start the refresh timer");
        return -1;
    }
    return 0;
}

size_t fcstore_pending(const fcstore_t *self) { return self->npending; }
uint64_t fcstore_deferred(const fcstore_t *self) { return self->deferred; }

void fcstore_queue_changed(fcstore_t *self, xstate_t *x, enum tax_dir dir, int k)
{
    size_t i = s_index(self, x);
    int d = dir - 1;
    if (i >= self->n || k < 0 || k >= TAX_NQUEUES)
        return;
    s_queue_t *fq = s_queue(self, i, d, k);
    if (!fq)
        return;
    const qstate_t *q = x->q[d][k];
    fc_calendar_t cal = { s_slot, &self->cal[i][d] };
    uint64_t ignored = fc_ignored(fq->fc), gaps = fc_gaps(fq->fc), odd = fc_odd_days(fq->fc);
    /* One call may follow many intervals (a batch of a backlog or a fast
     * replay carries dozens; only the last is in q): the observation spans
     * everything since the last one, arrivals from the estimator's counter,
     * the wait and lanes as they are now. */
    int64_t now = q->updated_ms / 1000;
    /* Intervals shorter than a second: the second's later ones come in the
     * next observation, from the estimator's counters (observed here, each
     * would be a zero-length span and its arrivals dropped). */
    if (q->interval_ms < 1000 && fq->obs_s && now <= fq->obs_s)
        return;
    const est_t *e = &q->est;
    double scale = q->out.count_scale > 0 ? q->out.count_scale : 1.0;
    uint32_t dur = q->interval_ms / 1000;   /* 0 below a second: the counters' span */
    double arr = q->arrivals * scale;
    if (fq->obs_s && now > fq->obs_s && now - fq->obs_s <= FCSTORE_GAP_MAX_S &&
        now - fq->obs_s > dur && e->arrivals >= fq->obs_arr) {
        dur = (uint32_t)(now - fq->obs_s);
        arr = (e->arrivals - fq->obs_arr) * scale;
    }
    /* The travel times that ended since the last observation: the
     * lagging truth of the waits (the first observation has none; nor
     * one after a gap, where when they ended says little). */
    uint32_t tt_n = 0;
    double tt_sum = 0, tt_span = 0;
    if (fq->obs_s && now > fq->obs_s && now - fq->obs_s <= FCSTORE_GAP_MAX_S &&
        q->total_tt_count >= fq->obs_tt_n) {
        tt_n = (uint32_t)(q->total_tt_count - fq->obs_tt_n);
        tt_sum = q->total_tt_sum_s - fq->obs_tt_sum;
        tt_span = (double)(now - fq->obs_s);
    }
    fq->obs_tt_n = q->total_tt_count;
    fq->obs_tt_sum = q->total_tt_sum_s;
    fq->obs_s = now;
    fq->obs_arr = e->arrivals;
    double wait = q->out.has_wait ? q->out.wait_s : NAN;
    if (self->tap)
        fprintf(self->tap, "O,%s,%d,%d,%" PRId64 ",%u,%.3f,%.3f,%.3f,%u,%.0f,%.0f\n", x->reg->id,
                d, k, now, (unsigned)dur, wait, arr, (double)q->lanes_open, tt_n, tt_sum,
                tt_span);
    fc_observe(fq->fc, &cal, now, dur, wait, arr, q->lanes_open);
    fc_observe_travel(fq->fc, now, tt_span, tt_n, tt_sum);
    if (fc_ignored(fq->fc) != ignored && ignored == 0)
        log_warn("forecast %s %s: data went back in time (clock jump?); ignored by the forecast",
                 x->reg->id, tax_dir_name(dir));
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    if (fc_gaps(fq->fc) != gaps)
        log_warn("forecast %s %s %s-%s: no data for a day or more before %" PRId64
                 "; basis short for a day", x->reg->id, tax_dir_name(dir), tax_mode_name(m),
                 tax_type_name(t), now);
    if (fc_odd_days(fq->fc) != odd)
        log_warn("forecast %s %s %s-%s: the day before %" PRId64 " was unlike its weekday all "
                 "day (a holiday not in the registry?)", x->reg->id, tax_dir_name(dir),
                 tax_mode_name(m), tax_type_name(t), now);
    if (!x->forecast[d][k] || now - fq->last_run_s >= FCSTORE_REFRESH_S ||
        now < fq->last_run_s)
        s_due(self, fq);
}

int fcstore_refresh_all(fcstore_t *self)
{
    int n = 0;
    for (size_t i = 0; i < self->n; i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++)
                if (self->q[i][d][k] && state_at(self->state, i)->q[d][k]->seen) {
                    s_run(self, i, d, k, self->q[i][d][k]);
                    n++;
                }
    return n;
}

/* ---- learning from the archive ------------------------------------------ */

static int s_learn_queue(fcstore_t *self, archive_t *archive, size_t i, int d, int k,
                         int64_t now_s)
{
    const xstate_t *x = state_at(self->state, i);
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    arch_series_t s = { 0 };
    char why[256] = "";
    int64_t from = now_s - FCSTORE_LEARN_DAYS * 86400LL;
    int rc = arch_fetch_queue(archive, x->reg->id, (enum tax_dir)(d + 1), m, t, from, now_s,
                              FC_STEP_S, &s, why, sizeof why);
    if (rc != 0) {
        if (rc < 0)
            log_warn("forecast: learning %s from the archive failed: %s", x->reg->id, why);
        return rc;
    }
    s_queue_t *fq = s_queue(self, i, d, k);
    fc_calendar_t cal = { s_slot, &self->cal[i][d] };
    for (size_t r = 0; fq && r < s.nrows; r++) {
        const double *v = &s.values[r * ARCH_NCOLS];
        if (isnan(v[1]) || isnan(v[3])) /* arrivals, lanes: no data in this row */
            continue;
        fc_learn(fq->fc, &cal, s.start + (int64_t)(r + 1) * s.step, s.step, v[0], v[1], v[3]);
    }
    arch_series_free(&s);
    return fq ? 0 : -1;
}

int fcstore_learn(fcstore_t *self, archive_t *archive, int64_t now_s)
{
    int learned = 0;
    for (size_t i = 0; i < self->n; i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++) {
                int rc = s_learn_queue(self, archive, i, d, k, now_s);
                if (rc < 0)
                    return -1;
                learned += rc == 0;
            }
    return learned;
}
