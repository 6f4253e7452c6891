/* observed — see observed.h. */
#include "observed.h"

#include <event2/event.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_reader.h"
#include "log.h"
#include "timeutil.h"

typedef struct {
    hours_obs_t *h;            /* NULL: the mode has no lanes */
    uint64_t learned_version;  /* of h, when last learned */
    int64_t learned_day;       /* UTC day of the last learn: relearned daily, so silence shows */
    hobs_packed_t *res;        /* NULL until its first learn (s_result); guarded by the mutex */
    bool warned_clock, warned_back, warned_bad, warned_silent;
} s_track_t;

/* The minute being folded, per queue. */
/* Track slots per crossing and side: 1..TAX_NMODES the modes, then one per
 * queue (mode and lane type), used only where a mode has several lane
 * types: their hours may differ (NEXUS lanes closing earlier). */
#define S_SLOTS (TAX_NMODES + 1 + TAX_NQUEUES)
#define S_TYPE_SLOT(q) (TAX_NMODES + 1 + (q))

typedef struct {
    int64_t minute;            /* start, UTC seconds; 0 none */
    uint32_t open_ms, total_ms;
    uint64_t departures;
} s_acc_t;

/* Per queue (one lane type of a mode), across minutes: the newest interval
 * end folded (an older one is a clock that jumped back), and the run of
 * minutes open without a departure (a stuck lane sensor). */
typedef struct {
    int64_t newest_end;        /* Unix ms */
    int64_t quiet_from;        /* start of the open-without-departure run; 0 none */
    bool stuck;                /* the run passed HOBS_STUCK_MIN: open counts as unknown */
} s_lane_t;

struct observed {
    const registry_t *reg;
    size_t n;
    s_track_t (*t)[2][S_SLOTS];                 /* [crossing][side][mode, then lane type] */
    s_acc_t (*acc)[TAX_NDIRS][TAX_NQUEUES];     /* [crossing][dir-1][queue] */
    s_lane_t (*lane)[TAX_NDIRS][TAX_NQUEUES];   /* [crossing][dir-1][queue] */
    struct event *timer;
    int64_t every_s;
    struct event_base *base;
    /* The start-up load: read on a thread, applied on the loop (observed_load_async). */
    arch_reader_t *loader;
    int load_files;
    int64_t load_now, load_t0;
    /* A timed relearn, a slice at a time. */
    struct event *slice_ev;
    size_t slice_next;         /* next track; all of them: no pass running */
    int slice_n;
    double slice_ms;
    hobs_result_t *scratch;    /* the learner's output before it is copied under mu */
    hours_demand_t *dem;       /* arrivals per 5 minutes of the week, under mu */
    pthread_mutex_t mu;        /* guards res, version, changed_s (HTTP threads read) */
    uint64_t version;
    int64_t changed_s;
    observed_counters_t c;     /* the event loop's */
    observed_counters_t pub;   /* a copy for readers, under mu */
};

/* What a track has learned, or, before its first learn, "no data", into
 * out (the week only when with_week). A result is 11 KB (the learned week
 * by the minute): made for each of 2,500 tracks at start, they were 28 MB
 * of a 10,000-series collector before any track had been learned, and
 * again once all were learned; kept packed (hours_obs_pack: a few hundred
 * bytes) they are under 1 MB (docs/performance.md §4, §1h). */
static void s_result(const s_track_t *tr, hobs_result_t *out, bool with_week)
{
    if (tr->res) {
        hours_obs_unpack(tr->res, out, with_week);
        return;
    }
    memset(out, 0, sizeof *out);
    out->status = HOBS_UNKNOWN;
    out->why = "no data";
}

static size_t s_ntracks(const observed_t *self)
{
    return self->n * 2 * (S_SLOTS - 1);
}

static size_t s_nfiles(const observed_t *self)
{
    return self->n * TAX_NMODES * TAX_NTYPES * TAX_NDIRS;
}

static void s_on_slice(evutil_socket_t fd, short what, void *arg);
static void s_flush_done(observed_t *self, int64_t now_s);

/* Every learn_every_s: store finished minutes, start a sliced relearn pass
 * (unless one is still running or the start-up load is). */
static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    observed_t *self = arg;
    s_flush_done(self, tu_now_ms() / 1000);
    if (self->slice_next < s_ntracks(self) || (self->loader && !arch_reader_finished(self->loader)))
        return;
    self->slice_next = 0;
    self->slice_n = 0;
    self->slice_ms = 0;
    struct timeval zero = { 0, 0 };
    event_add(self->slice_ev, &zero);
}

observed_t *observed_new(struct event_base *base, const registry_t *reg, int learn_every_s)
{
    observed_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->reg = reg;
    self->n = reg_count(reg);
    self->every_s = learn_every_s > 0 ? learn_every_s : 300;
    pthread_mutex_init(&self->mu, NULL);
    self->t = calloc(self->n + 1, sizeof *self->t);
    self->acc = calloc(self->n + 1, sizeof *self->acc);
    self->lane = calloc(self->n + 1, sizeof *self->lane);
    if (!self->t || !self->acc || !self->lane)
        goto fail;
    for (size_t i = 0; i < self->n; i++) {
        const reg_crossing_t *c = reg_at(reg, i);
        for (int side = 0; side < 2; side++)
            for (int slot = 1; slot < S_SLOTS; slot++) {
                int m = slot;
                if (slot > TAX_NMODES) {   /* a lane type: only beside others of its mode */
                    enum tax_mode qm;
                    enum tax_type qt;
                    tax_queue_from_index(slot - S_TYPE_SLOT(0), &qm, &qt);
                    int types = 0;
                    for (int t = 1; t <= TAX_NTYPES; t++)
                        types += c->type_lanes[qm][t] > 0;
                    if (types < 2 || !c->type_lanes[qm][qt])
                        continue;
                    m = (int)qm;
                }
                if (!c->max_lanes[m])
                    continue;
                s_track_t *tr = &self->t[i][side][slot];
                tr->h = hours_obs_new(reg_side_tz(c, (enum hours_side)side));
                if (!tr->h)
                    goto fail;
                self->c.tracks += slot <= TAX_NMODES;
            }
    }
    self->base = base;
    self->scratch = malloc(sizeof *self->scratch);
    self->dem = hours_demand_new(reg);
    self->slice_next = s_ntracks(self);
    if (!self->scratch || !self->dem)
        goto fail;
    if (base) {
        self->slice_ev = event_new(base, -1, 0, s_on_slice, self);
        self->timer = event_new(base, -1, EV_PERSIST, s_on_timer, self);
        if (!self->slice_ev)
            goto fail;
        struct timeval tv = { (time_t)self->every_s, 0 };
        if (!self->timer || event_add(self->timer, &tv) != 0)
            goto fail;
    }
    return self;
fail:
    observed_destroy(&self);
    return NULL;
}

void observed_destroy(observed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    observed_t *self = *self_p;
    if (self->timer)
        event_free(self->timer);
    arch_reader_destroy(&self->loader);
    if (self->slice_ev)
        event_free(self->slice_ev);
    free(self->scratch);
    hours_demand_destroy(&self->dem);
    for (size_t i = 0; self->t && i < self->n; i++)
        for (int side = 0; side < 2; side++)
            for (int slot = 1; slot < S_SLOTS; slot++) {
                hours_obs_destroy(&self->t[i][side][slot].h);
                free(self->t[i][side][slot].res);
            }
    free(self->t);
    free(self->acc);
    free(self->lane);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

/* A lane type open without a departure for HOBS_STUCK_MIN minutes is a
 * stuck sensor: from then until it departs or closes its open minutes are
 * unknown, and the run behind is forgotten (hours_obs_forget). Per queue,
 * because another lane type of the mode serving traffic would hide it in
 * the mode's track. Returns the lanes value to store. */
/* "passenger-ready": queue k's name for the log. */
static const char *s_qname(int k, char *buf, size_t len)
{
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    snprintf(buf, len, "%s-%s", tax_mode_name(m), tax_type_name(t));
    return buf;
}

static double s_stuck_lane(observed_t *self, size_t ci, enum tax_dir d, int k, s_track_t *tr,
                           s_track_t *tt, int64_t minute, double lanes, double departures)
{
    s_lane_t *ln = &self->lane[ci][d - 1][k];
    char qn[48];
    bool quiet = !isnan(lanes) && lanes >= 0.5 && !isnan(departures) && departures <= 0;
    if (!quiet) {
        if (ln->stuck && !isnan(lanes))
            log_info("observed hours %s %s %s: the stuck lane reports again", reg_at(self->reg, ci)->id,
                     tax_dir_name(d), s_qname(k, qn, sizeof qn));
        ln->quiet_from = 0;
        ln->stuck = !isnan(lanes) ? false : ln->stuck;
        return lanes;
    }
    if (!ln->quiet_from)
        ln->quiet_from = minute;
    if (!ln->stuck && minute + 60 - ln->quiet_from >= (int64_t)HOBS_STUCK_MIN * 60) {
        ln->stuck = true;
        self->c.stuck_lanes++;
        int n = hours_obs_forget(tr->h, ln->quiet_from, minute);
        if (tt->h)
            hours_obs_forget(tt->h, ln->quiet_from, minute);
        log_warn("observed hours %s %s %s: open %d h without a departure, a stuck sensor: its open "
                 "minutes are unknown until it departs or closes (%d minutes forgotten; counted)",
                 reg_at(self->reg, ci)->id, tax_dir_name(d), s_qname(k, qn, sizeof qn), HOBS_STUCK_MIN / 60, n);
    }
    return ln->stuck ? NAN : lanes;
}

/* One minute of queue k into its track, counted; a clock jump is logged
 * once a track. */
static void s_add(observed_t *self, size_t ci, enum tax_dir d, int k, int64_t minute,
                  double lanes, double departures, int64_t now_s)
{
    const reg_crossing_t *c = reg_at(self->reg, ci);
    enum tax_mode m;
    enum tax_type type;
    tax_queue_from_index(k, &m, &type);
    s_track_t *tr = &self->t[ci][hours_side_of(c->border, d)][m];
    if (!tr->h)
        return;
    s_track_t *tt = &self->t[ci][hours_side_of(c->border, d)][S_TYPE_SLOT(k)];
    lanes = s_stuck_lane(self, ci, d, k, tr, tt, minute, lanes, departures);
    if (tt->h)
        (void)hours_obs_add(tt->h, minute, lanes, departures, now_s);   /* counted on the mode's */
    enum hobs_add rc = hours_obs_add(tr->h, minute, lanes, departures, now_s);
    if (rc == HOBS_ADDED) {
        self->c.minutes++;
    } else if (rc == HOBS_OLD) {
        self->c.too_old++;
    } else if (rc == HOBS_CLOCK) {
        self->c.clock_jumps++;
        if (!tr->warned_clock)
            log_warn("observed hours %s %s %s: a minute %lld s ahead of the clock, refused "
                     "(clock jump; counted, logged once)", c->id, tax_dir_name(d), tax_mode_name(m),
                     (long long)(minute - now_s));
        tr->warned_clock = true;
    }
}

static void s_flush(observed_t *self, size_t ci, int di, int k, int64_t now_s)
{
    s_acc_t *a = &self->acc[ci][di][k];
    if (!a->minute || !a->total_ms)
        return;
    s_add(self, ci, (enum tax_dir)(di + 1), k, a->minute, (double)a->open_ms / a->total_ms,
          (double)a->departures, now_s);
    memset(a, 0, sizeof *a);
}

void observed_interval(observed_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                       enum tax_type type, int64_t t_end_ms, uint32_t interval_ms, uint32_t lanes,
                       uint32_t arrivals, uint32_t departures, int64_t now_s)
{
    if (!self || ci >= self->n || !tax_mode_valid(m) || d < 1 || d > TAX_NDIRS)
        return;
    int k = tax_queue_index(m, type);
    if (k < 0)
        return;
    if (!interval_ms)
        interval_ms = 1000;
    int64_t t_end_s = t_end_ms / 1000;
    /* The archive refuses what is at or before a file's last update, but
     * such a sample still comes here (the agent is acknowledged either
     * way): an end older than one folded is a clock that jumped back, or
     * a resend, and would rewrite minutes already stored. Refused, counted;
     * logged once a track when it is more than a minute back. */
    s_lane_t *ln = &self->lane[ci][d - 1][k];
    char qn[48];
    if (t_end_ms - (int64_t)interval_ms > (now_s + HOBS_CLOCK_AHEAD_S) * 1000) {
        /* ahead of the clock: refused here, not when its minute is stored
         * (by then the clock may have caught up with it) */
        s_track_t *tr = &self->t[ci][hours_side_of(reg_at(self->reg, ci)->border, d)][m];
        self->c.clock_jumps++;
        if (!tr->warned_clock)
            log_warn("observed hours %s %s %s: an interval ending %lld s ahead of the clock, refused "
                     "(clock jump; counted, logged once)", reg_at(self->reg, ci)->id, tax_dir_name(d),
                     s_qname(k, qn, sizeof qn), (long long)(t_end_s - now_s));
        tr->warned_clock = true;
        return;
    }
    if (t_end_ms <= ln->newest_end) {
        self->c.clock_back++;
        s_track_t *tr = &self->t[ci][hours_side_of(reg_at(self->reg, ci)->border, d)][m];
        if (ln->newest_end - t_end_ms > 60000 && !tr->warned_back) {
            log_warn("observed hours %s %s %s: an interval ending %lld s before one already folded, "
                     "refused (a clock that jumped back; counted, logged once)", reg_at(self->reg, ci)->id,
                     tax_dir_name(d), s_qname(k, qn, sizeof qn), (long long)((ln->newest_end - t_end_ms) / 1000));
            tr->warned_back = true;
        }
        return;
    }
    ln->newest_end = t_end_ms;
    pthread_mutex_lock(&self->mu);
    hours_demand_add(self->dem, ci, d, m, type, t_end_ms, interval_ms, (double)arrivals);
    pthread_mutex_unlock(&self->mu);
    /* An interval ending on a minute boundary belongs to the minute before. */
    int64_t minute = (t_end_ms - 1) / 60000 * 60;
    s_acc_t *a = &self->acc[ci][d - 1][k];
    if (a->minute != minute) {
        s_flush(self, ci, d - 1, k, now_s);
        a->minute = minute;
    }
    a->total_ms += interval_ms;
    if (lanes > 0)
        a->open_ms += interval_ms;
    a->departures += departures;
}

/* ---- learning ---------------------------------------------------------------- */

static void s_note_bad(const reg_crossing_t *c, int side, int m, s_track_t *tr, const hobs_result_t *r)
{
    bool bad = r->days_flapping || r->days_stuck;
    const char *who = side == HOURS_US ? "US" : "other side";
    if (bad && !tr->warned_bad)
        log_warn("observed hours %s %s %s: %d flapping and %d stuck-sensor days in the window "
                 "(treated as unknown)", c->id, who, tax_mode_name((enum tax_mode)m), r->days_flapping,
                 r->days_stuck);
    tr->warned_bad = bad;
    /* A direction silent for a week: its old hours stay, at low confidence. */
    bool silent = r->days_silent_recent > HOBS_SILENT_DAYS && r->days_usable > 0;
    if (silent && !tr->warned_silent)
        log_warn("observed hours %s %s %s: no data for the last %d days; the hours learned before "
                 "are kept at low confidence", c->id, who, tax_mode_name((enum tax_mode)m),
                 r->days_silent_recent);
    tr->warned_silent = silent;
}

/* Minutes over for two minutes will not grow any more: store them. */
static void s_flush_done(observed_t *self, int64_t now_s)
{
    for (size_t i = 0; i < self->n; i++)
        for (int di = 0; di < TAX_NDIRS; di++)
            for (int k = 0; k < TAX_NQUEUES; k++)
                if (self->acc[i][di][k].minute && self->acc[i][di][k].minute + 120 <= now_s)
                    s_flush(self, i, di, k, now_s);
}

/* Relearn changed tracks from flat index `from` on, until budget_ms is
 * spent (0: no limit). Returns the next index; *n counts the relearned. */
static size_t s_relearn(observed_t *self, size_t from, int64_t budget_ms, int64_t now_s, int *n)
{
    int64_t t0 = tu_mono_ms();
    size_t k = from;
    for (; k < s_ntracks(self) && self->scratch; k++) {
        if (budget_ms && tu_mono_ms() - t0 >= budget_ms)
            break;
        size_t i = k / (2 * (S_SLOTS - 1));
        int side = (int)(k / (S_SLOTS - 1) % 2), m = 1 + (int)(k % (S_SLOTS - 1));
        s_track_t *tr = &self->t[i][side][m];
        if (!tr->h || (hours_obs_version(tr->h) == tr->learned_version && tr->learned_day == now_s / 86400))
            continue;
        hours_obs_learn(tr->h, now_s, self->scratch);
        tr->learned_version = hours_obs_version(tr->h);
        tr->learned_day = now_s / 86400;
        if (m <= TAX_NMODES)   /* a lane type's bad input shows in its mode's */
            s_note_bad(reg_at(self->reg, i), side, m, tr, self->scratch);
        /* The result is made at the track's first learn (s_result); out of
         * memory keeps the one before. */
        hobs_packed_t *res = hours_obs_pack(self->scratch);
        if (!res)
            continue;
        pthread_mutex_lock(&self->mu);
        hobs_packed_t *old = tr->res;
        tr->res = res;
        self->version++;
        self->changed_s = now_s;
        pthread_mutex_unlock(&self->mu);
        free(old);
        (*n)++;
    }
    return k;
}

/* Counts over all tracks, published to readers. */
static void s_tally(observed_t *self, int n, double ms)
{
    uint32_t known = 0, stuck = 0, flapping = 0, silent = 0, silent_week = 0;
    hobs_result_t rbuf, *r = &rbuf;   /* the fields only: the week is not decoded */
    for (size_t i = 0; i < self->n; i++)
        for (int side = 0; side < 2; side++)
            for (int m = 1; m <= TAX_NMODES; m++) {
                const s_track_t *tr = &self->t[i][side][m];
                if (!tr->h)
                    continue;
                s_result(tr, r, false);
                known += r->status == HOBS_KNOWN;
                stuck += r->days_stuck > 0;
                flapping += r->days_flapping > 0;
                silent += r->days_usable == 0;
                silent_week += r->days_usable > 0 && r->days_silent_recent > HOBS_SILENT_DAYS;
            }
    self->c.relearns += (uint64_t)n;
    self->c.known = known;
    self->c.stuck = stuck;
    self->c.flapping = flapping;
    self->c.silent = silent;
    self->c.silent_week = silent_week;
    self->c.last_refresh_ms = ms;
    if (n)
        log_debug("observed hours: %d tracks relearned in %.1f ms of work, %u of %u known", n, ms,
                  known, self->c.tracks);
    pthread_mutex_lock(&self->mu);
    self->pub = self->c;
    pthread_mutex_unlock(&self->mu);
}

int observed_refresh(observed_t *self, int64_t now_s)
{
    int64_t t0 = tu_mono_ms();
    int n = 0;
    s_flush_done(self, now_s);
    s_relearn(self, 0, 0, now_s, &n);
    s_tally(self, n, (double)(tu_mono_ms() - t0));
    return n;
}

/* A slice of a timed relearn: tracks for up to 20 ms, then back to the
 * loop (all 456 tracks of 76 crossings take about a second). */
static void s_on_slice(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    observed_t *self = arg;
    int64_t t0 = tu_mono_ms();
    int64_t now_s = tu_now_ms() / 1000;
    self->slice_next = s_relearn(self, self->slice_next, 20, now_s, &self->slice_n);
    self->slice_ms += (double)(tu_mono_ms() - t0);
    if (self->slice_next < s_ntracks(self)) {
        struct timeval zero = { 0, 0 };
        event_add(self->slice_ev, &zero);
        return;
    }
    s_tally(self, self->slice_n, self->slice_ms);
}

/* ---- the archive at start ------------------------------------------------------ */

/* The rows of one queue's series into its crossing's demand and tracks. */
static void s_apply_series(observed_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                           enum tax_type t, const arch_series_t *s, int64_t now_s)
{
    int q = tax_queue_index(m, t);
    for (size_t r = 0; r < s->nrows; r++) {
        double lanes = s->values[r * ARCH_NCOLS + 3], dep = s->values[r * ARCH_NCOLS + 2];
        int64_t row_from = s->start + (int64_t)r * s->step;
        /* A row with nothing known (most of 35 days at a new crossing)
         * tells the tracks only that the data broke off: a stuck lane's
         * quiet streak ends, as s_stuck_lane would end it. Skipped, it
         * costs neither the loop's time nor a day's memory. */
        if (isnan(lanes) && isnan(dep) && isnan(s->values[r * ARCH_NCOLS + 1])) {
            self->lane[ci][d - 1][q].quiet_from = 0;
            continue;
        }
        pthread_mutex_lock(&self->mu);
        hours_demand_add(self->dem, ci, d, m, t, (row_from + s->step) * 1000,
                         (uint32_t)s->step * 1000, s->values[r * ARCH_NCOLS + 1]);
        pthread_mutex_unlock(&self->mu);
        int per = (int)(s->step / 60 > 0 ? s->step / 60 : 1);
        for (int k = 0; k < per; k++)
            s_add(self, ci, d, q, row_from + k * 60, lanes, isnan(dep) ? NAN : dep / per, now_s);
    }
}

/* File k of the registry (crossing, mode, type, direction) as a read
 * request; false when the registry gives that queue no lanes. One read of
 * the 5-minute rows (the boundaries are learned to 5 minutes), an hour
 * inside their 35 days: a range the RRA does not cover whole would make
 * rrdtool pick the hourly one. */
static bool s_file_req(const observed_t *self, size_t k, arch_read_t *out)
{
    size_t per = TAX_NMODES * TAX_NTYPES * TAX_NDIRS;
    size_t i = k / per, r = k % per;
    int m = 1 + (int)(r / (TAX_NTYPES * TAX_NDIRS)), t = 1 + (int)(r / TAX_NDIRS % TAX_NTYPES);
    const reg_crossing_t *c = reg_at(self->reg, i);
    if (!c->max_lanes[m] || !c->type_lanes[m][t])
        return false;
    snprintf(out->crossing, sizeof out->crossing, "%s", c->id);
    out->dir = (enum tax_dir)(1 + (int)(r % TAX_NDIRS));
    out->mode = (enum tax_mode)m;
    out->type = (enum tax_type)t;
    out->tag = i;
    return true;
}

static void s_load_range(int64_t now_s, int64_t *from, int64_t *to)
{
    *to = now_s / 60 * 60;
    *from = *to - (int64_t)HOBS_DAYS * 86400 + 3600;
}

/* One read answered: 1 applied, 0 no file, -1 failed (logged). */
static int s_load_one(observed_t *self, const arch_read_t *q, int rc, arch_series_t *s,
                      const char *why, int64_t now_s)
{
    if (rc < 0)
        log_error("observed hours: reading %s %s %s-%s: %s", q->crossing, tax_dir_name(q->dir),
                  tax_mode_name(q->mode), tax_type_name(q->type), why);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    s_apply_series(self, q->tag, q->dir, q->mode, q->type, s, now_s);
    arch_series_free(s);
    return 1;
}

static void s_load_done(observed_t *self, int64_t t0, int64_t now_s)
{
    observed_refresh(self, now_s);
    self->c.load_s = (double)(tu_mono_ms() - t0) / 1000.0;
    pthread_mutex_lock(&self->mu);
    self->pub = self->c;
    pthread_mutex_unlock(&self->mu);
    log_info("observed hours: %d queue files read from the archive, %u of %u tracks known, in %.2f s",
             self->load_files, self->c.known, self->c.tracks, self->c.load_s);
}

int observed_load(observed_t *self, archive_t *arch, int64_t now_s)
{
    int64_t t0 = tu_mono_ms(), from, to;
    s_load_range(now_s, &from, &to);
    self->load_files = 0;
    for (size_t k = 0; k < s_nfiles(self); k++) {
        arch_read_t q;
        if (!s_file_req(self, k, &q))
            continue;
        arch_series_t s;
        char why[256];
        int rc = arch_fetch_queue(arch, q.crossing, q.dir, q.mode, q.type, from, to, 300, &s,
                                  why, sizeof why);
        rc = s_load_one(self, &q, rc, &s, why, now_s);
        if (rc < 0)
            return -1;
        self->load_files += rc;
    }
    s_load_done(self, t0, now_s);
    return self->load_files;
}

/* The reader thread's series, on the loop (a slice at a time). */
static void s_on_read(void *arg, const arch_read_t *q, int rc, arch_series_t *s, const char *why)
{
    observed_t *self = arg;
    self->load_files += s_load_one(self, q, rc, s, why, self->load_now) == 1;
}

static void s_on_read_done(void *arg, bool failed)
{
    observed_t *self = arg;
    if (failed)
        log_warn("observed hours: the archive could not be read; learning from live data only");
    s_load_done(self, self->load_t0, self->load_now);
}

int observed_load_async(observed_t *self, archive_t *arch, int64_t now_s)
{
    if (!self->base || self->loader)
        return -1;
    arch_read_t *reqs = calloc(s_nfiles(self) ? s_nfiles(self) : 1, sizeof *reqs);
    if (!reqs)
        return -1;
    size_t n = 0;
    for (size_t k = 0; k < s_nfiles(self); k++)
        n += s_file_req(self, k, &reqs[n]);
    int64_t from, to;
    s_load_range(now_s, &from, &to);
    self->load_now = now_s;
    self->load_files = 0;
    self->load_t0 = tu_mono_ms();
    self->loader = arch_reader_new(self->base, arch, reqs, n, from, to, 300, s_on_read,
                                   s_on_read_done, self);
    free(reqs);
    return self->loader ? 0 : -1;
}

/* ---- readers ------------------------------------------------------------------- */

int observed_get_type(const observed_t *self, size_t ci, enum hours_side side, enum tax_mode m,
                      enum tax_type t, hobs_result_t *out)
{
    int q = tax_mode_valid(m) ? tax_queue_index(m, t) : -1;
    if (!self || ci >= self->n || q < 0 || !self->t[ci][side][S_TYPE_SLOT(q)].h)
        return -1;
    observed_t *mut = (observed_t *)self;
    pthread_mutex_lock(&mut->mu);
    s_result(&self->t[ci][side][S_TYPE_SLOT(q)], out, true);
    pthread_mutex_unlock(&mut->mu);
    return 0;
}

int observed_get(const observed_t *self, size_t ci, enum hours_side side, enum tax_mode m,
                 hobs_result_t *out)
{
    if (!self || ci >= self->n || !tax_mode_valid(m) || !self->t[ci][side][m].h)
        return -1;
    observed_t *mut = (observed_t *)self;   /* the lock is not the state */
    pthread_mutex_lock(&mut->mu);
    s_result(&self->t[ci][side][m], out, true);
    pthread_mutex_unlock(&mut->mu);
    return 0;
}

double observed_demand(const observed_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                       int64_t from_s, int64_t to_s, double *covered)
{
    observed_t *mut = (observed_t *)self;
    pthread_mutex_lock(&mut->mu);
    double v = hours_demand_sum(self->dem, ci, d, m, from_s, to_s, covered);
    pthread_mutex_unlock(&mut->mu);
    return v;
}

uint64_t observed_version(const observed_t *self)
{
    observed_t *mut = (observed_t *)self;
    pthread_mutex_lock(&mut->mu);
    uint64_t v = self->version;
    pthread_mutex_unlock(&mut->mu);
    return v;
}

int64_t observed_changed_s(const observed_t *self)
{
    observed_t *mut = (observed_t *)self;
    pthread_mutex_lock(&mut->mu);
    int64_t v = self->changed_s;
    pthread_mutex_unlock(&mut->mu);
    return v;
}

void observed_counters(const observed_t *self, observed_counters_t *out)
{
    observed_t *mut = (observed_t *)self;
    pthread_mutex_lock(&mut->mu);
    *out = self->pub;
    pthread_mutex_unlock(&mut->mu);
}
