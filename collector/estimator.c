/* estimator — see estimator.h for the method. */
#include "estimator.h"

#include <math.h>
#include <string.h>

#define EST_ANCHOR_TAU_S 600.0      /* anchor observations: 10-minute memory */
#define EST_DRIFT_TAU_S 7200.0      /* count drift: 2-hour memory */
#define EST_RATE_TAU_S 7200.0       /* per-lane rate: 2-hour memory */
#define EST_IDLE_TAU_S 300.0        /* idle-booth check: 5 minutes */
#define EST_BIAS_TAU_S 1200.0       /* model bias: 20 minutes */
#define EST_RECENT_TAU_S 150.0      /* recent travel times, for short waits */
#define EST_SHORT_WAIT_S 600.0      /* waits this long get nothing from them */
#define EST_BIAS_MAX_S 30.0         /* the bias corrects service-scale errors only */
#define EST_RATE_PRIOR_LANE_S 600.0 /* the prior counts as 10 busy lane-minutes */
#define EST_RATE_LEARNED_LANE_S 600.0
#define EST_DRIFT_PRIOR 20.0        /* the drift prior counts as 20 units at k = 1 */
#define EST_K_MIN 0.7
#define EST_K_MAX 1.4
#define EST_START_SIGMA 1000.0      /* "empty at the start" yields to any reading */
#define EST_QLEN_REL 0.10           /* relative noise assumed of a queue detector */
#define EST_NEG_SLACK 3.0           /* units below empty before the counts are pulled up */
#define EST_IDLE_UTIL 0.7           /* booths this far below capacity are idle */
#define EST_DRIFT_PER_UNIT 0.01     /* count error per counted arrival, for confidence */
#define EST_SERVICE_CV 0.3          /* service-time spread, for confidence */
#define EST_TT_FRESH_MS (15 * 60 * 1000LL)
#define EST_QLEN_FRESH_MS (5 * 60 * 1000LL)
#define EST_MIN_MS 60000LL
#define EST_PLAN_STEP_MS (15 * 60 * 1000LL) /* plans change on whole (or half) hours */
#define EST_PLAN_HORIZON_MS (12 * 3600 * 1000LL)

double est_prior_lane_rate(enum tax_mode mode, enum tax_type type)
{
    return 1.0 / tax_typical_service_s(mode, type);
}

void est_init(est_t *e, enum tax_mode mode, enum tax_type type)
{
    memset(e, 0, sizeof *e);
    e->mode = mode;
    e->type = type;
    e->anc_w = 1.0 / (EST_START_SIGMA * EST_START_SIGMA);
    e->last_tt_ms = e->last_qlen_ms = INT64_MIN / 2;
    staff_init(&e->staff);
}

double est_lane_rate(const est_t *e)
{
    double prior = est_prior_lane_rate(e->mode, e->type);
    return (e->busy_dep + EST_RATE_PRIOR_LANE_S * prior) /
           (e->busy_lane_s + EST_RATE_PRIOR_LANE_S);
}

/* k as measured: departures ÷ counted arrivals between travel-time anchors. */
static double s_drift_measured(const est_t *e)
{
    return (e->drift_dy + EST_DRIFT_PRIOR) / (e->drift_dx + EST_DRIFT_PRIOR);
}

/* k as used: the measured drift shrunk toward 1 by its own spread (d² /
 * (d² + 4·var), a Wiener shrink; ×4 because successive measurements share
 * most of their window, so their spread understates the error), so a
 * correction no larger than its noise does not ride on the counts for
 * hours once the tags stop, while a real drift of several percent passes
 * whole. */
static double s_drift(const est_t *e)
{
    double d = s_drift_measured(e) - 1.0;
    double k = 1.0 + d * (d * d / (d * d + 4.0 * e->k_var + 1e-12));
    return k < EST_K_MIN ? EST_K_MIN : k > EST_K_MAX ? EST_K_MAX : k;
}

/* The spread of the measured k: an exponentially weighted variance over
 * travel-time anchors, with the drift's memory. */
static void s_drift_spread(est_t *e)
{
    double kr = s_drift_measured(e);
    e->k_w += 1.0;
    double w = 1.0 / e->k_w, delta = kr - e->k_mean;
    e->k_mean += w * delta;
    e->k_var = (1.0 - w) * (e->k_var + w * delta * delta);
}

/* Units in the system by the anchor and the counts, before the clamp. */
static double s_units(const est_t *e)
{
    return e->anc_y + s_drift(e) * (e->arrivals - e->anc_x) - e->departures;
}

static void s_anchor(est_t *e, double x, double y, double sigma)
{
    double w = 1.0 / (sigma * sigma);
    e->anc_x = (e->anc_w * e->anc_x + w * x) / (e->anc_w + w);
    e->anc_y = (e->anc_w * e->anc_y + w * y) / (e->anc_w + w);
    e->anc_w += w;
}

static void s_decay(est_t *e, double dt_s)
{
    /* The anchor's means stay; only how much a new observation moves them
     * changes. The floor keeps the weight from underflowing in a long
     * silence. */
    e->anc_w *= exp(-dt_s / EST_ANCHOR_TAU_S);
    if (e->anc_w < 1e-9)
        e->anc_w = 1e-9;
    double kd = exp(-dt_s / EST_DRIFT_TAU_S);
    e->drift_dx *= kd;
    e->drift_dy *= kd;
    e->k_w *= kd;
    e->bias_w *= exp(-dt_s / EST_BIAS_TAU_S);
    double kr = exp(-dt_s / EST_RATE_TAU_S);
    e->busy_dep *= kr;
    e->busy_lane_s *= kr;
    double kt = exp(-dt_s / EST_RECENT_TAU_S);
    e->recent_n *= kt;
    e->recent_sum *= kt;
    double ki = exp(-dt_s / EST_IDLE_TAU_S);
    e->idle_dep *= ki;
    e->idle_cap *= ki;
}

static int64_t s_floor_min(int64_t t_ms)
{
    return t_ms >= 0 ? t_ms / EST_MIN_MS : -((-t_ms + EST_MIN_MS - 1) / EST_MIN_MS);
}

static int64_t s_mod(int64_t b, int64_t n)
{
    return ((b % n) + n) % n;
}

/* Index of even minute b in the ring of est_t.hist_wait. */
static int s_wslot(int64_t b)
{
    return (int)s_mod((b - s_mod(b, EST_WAIT_EVERY_MIN)) / EST_WAIT_EVERY_MIN, EST_WAIT_RING);
}

/* Keep the model's wait at minute boundary b when b is one the ring
 * holds (an even one). */
static void s_wait_put(est_t *e, int64_t b, uint16_t w)
{
    if (s_mod(b, EST_WAIT_EVERY_MIN) == 0)
        e->hist_wait[s_wslot(b)] = w;
}

/* Index of minute b in the ring of est_t.hist. */
static int s_ring(int64_t b)
{
    return (int)s_mod(b, EST_HIST_RING);
}

static int64_t s_oldest(const est_t *e)
{
    return e->hist_last - e->hist_n + 1;
}

/* A − hist_base at minute b, which the history holds. */
static uint32_t s_rel_at(const est_t *e, int64_t b)
{
    int i = s_ring(b);
    if (e->hist[i] != EST_HIST_ESC)
        return e->hist_blk[i / EST_HIST_BLOCK] + e->hist[i];
    for (int k = 0; k < e->hist_esc_n; k++)
        if (e->hist_esc_min[k] == b)
            return e->hist_esc[k];
    return 0; /* not reached: an escaped minute kept has its entry */
}

static double s_hist_at(const est_t *e, int64_t b)
{
    return e->hist_base + s_rel_at(e, b);
}

/* Keep rel (A − hist_base) of minute b, the newest, in hist_esc.
 * Entries are in the order of their minutes; those of minutes no longer
 * kept (the oldest) are dropped first, and when the table is still full
 * the minutes up to the oldest entry's are forgotten: exact, never
 * misread. Only counts far beyond the validator's limit get there (more
 * than 65,534 arrivals within a block, 8 times in 6 h 40 min). */
static void s_hist_escape(est_t *e, int64_t b, uint32_t rel)
{
    int drop = 0;
    int64_t oldest = e->hist_n ? s_oldest(e) : b;
    while (drop < e->hist_esc_n && e->hist_esc_min[drop] < oldest)
        drop++;
    if (drop == 0 && e->hist_esc_n == EST_HIST_NESC) {
        e->hist_n = (int)(e->hist_last - e->hist_esc_min[0]); /* those after it */
        drop = 1;
    }
    e->hist_esc_n -= drop;
    memmove(e->hist_esc_min, e->hist_esc_min + drop,
            (size_t)e->hist_esc_n * sizeof e->hist_esc_min[0]);
    memmove(e->hist_esc, e->hist_esc + drop, (size_t)e->hist_esc_n * sizeof e->hist_esc[0]);
    e->hist_esc_min[e->hist_esc_n] = b;
    e->hist_esc[e->hist_esc_n++] = rel;
    e->hist[s_ring(b)] = EST_HIST_ESC;
}

/* Store rel (A − hist_base) at minute b, the one after hist_last (or the
 * first kept): a block's first minute kept sets the block's base. */
static void s_hist_store(est_t *e, int64_t b, uint32_t rel)
{
    int i = s_ring(b);
    uint32_t *base = &e->hist_blk[i / EST_HIST_BLOCK];
    if (e->hist_n == 0 || i % EST_HIST_BLOCK == 0) {
        *base = rel;
        e->hist[i] = 0;
    } else if (rel >= *base && rel - *base < EST_HIST_ESC) {
        e->hist[i] = (uint16_t)(rel - *base);
    } else {
        s_hist_escape(e, b, rel);
    }
    e->hist_last = b;
    if (e->hist_n < EST_HISTORY_MIN)
        e->hist_n++;
}

/* Make v storable as hist_base + 32 bits: the base moves up to the oldest
 * value kept (A never falls, so it is the smallest), and where v is still
 * 2^32 or more above that, the oldest minutes are forgotten until it fits.
 * Validated samples never get there (20 arrivals/s at most: 2^32 of them
 * take 6.8 years, and 6 h 40 min of them 480,000), but the estimator takes
 * any uint32 counts, so the history stays exact whatever it is fed. The
 * minutes kept are stored again above the new base. */
static void s_hist_rebase(est_t *e, double v)
{
    while (e->hist_n > 0 && (v < e->hist_base || v - s_hist_at(e, s_oldest(e)) > UINT32_MAX))
        e->hist_n--;
    if (e->hist_n == 0) {
        e->hist_base = v;
        return;
    }
    int n = e->hist_n;
    int64_t first = s_oldest(e);
    uint32_t rel[EST_HISTORY_MIN], shift = s_rel_at(e, first);
    for (int k = 0; k < n; k++)
        rel[k] = s_rel_at(e, first + k) - shift;
    e->hist_base += shift;
    e->hist_n = 0;
    e->hist_esc_n = 0;
    for (int k = 0; k < n; k++)
        s_hist_store(e, first + k, rel[k]);
}

uint16_t est_wait_s16(double w)
{
    if (!(w > 0.0))
        return 0;
    if (w >= 65534.5)
        return UINT16_MAX;
    long r = lround(w);
    return (uint16_t)(r < 1 ? 1 : r);
}

/* Store the counter v at minute boundary b, the newest. */
static void s_hist_put(est_t *e, int64_t b, double v)
{
    /* Only a jump of more than the history skips minutes (s_history): the
     * minutes kept before it are all older than the history will be once
     * the jump's minutes are stored, so they go now. */
    if (e->hist_n > 0 && b != e->hist_last + 1)
        e->hist_n = 0;
    if (e->hist_n == 0 || v < e->hist_base || v - e->hist_base > UINT32_MAX)
        s_hist_rebase(e, v);
    s_hist_store(e, b, (uint32_t)(v - e->hist_base));
    s_wait_put(e, b, est_wait_s16(e->wait_model));
}

/* Store the same counter v at boundaries first..last (first <= last), as
 * s_hist_put at each would: a gap's minutes all hold the count before it,
 * and a queue back after hours fills the whole ring at once (400 minutes
 * for each of 10,000 queues when every agent returns from an outage). */
static void s_hist_fill(est_t *e, int64_t first, int64_t last, double v)
{
    s_hist_put(e, first, v);   /* a jump or a rebase, if any, is here; the rest cannot need one */
    uint32_t rel = (uint32_t)(v - e->hist_base);
    uint16_t w = est_wait_s16(e->wait_model);
    int64_t b = first + 1;
    /* Whole blocks, as s_hist_store makes them: the base is rel, every
     * offset 0. The block begun before, and the last minutes, one by one. */
    for (; b <= last; b++) {
        int i = s_ring(b);
        if (i % EST_HIST_BLOCK == 0 && last - b + 1 >= EST_HIST_BLOCK) {
            e->hist_blk[i / EST_HIST_BLOCK] = rel;
            memset(&e->hist[i], 0, EST_HIST_BLOCK * sizeof e->hist[0]);
            for (int j = 0; j < EST_HIST_BLOCK; j++)
                s_wait_put(e, b + j, w);
            b += EST_HIST_BLOCK - 1;
            e->hist_last = b;
            e->hist_n = e->hist_n + EST_HIST_BLOCK < EST_HISTORY_MIN
                            ? e->hist_n + EST_HIST_BLOCK
                            : EST_HISTORY_MIN;
            continue;
        }
        s_hist_store(e, b, rel);
        s_wait_put(e, b, w);
    }
}

/* Record the arrival counter at every minute boundary in (prev, t]: the
 * ones before t saw the count before this interval, the one at t after. */
static void s_history(est_t *e, int64_t prev_ms, int64_t t_ms, double before)
{
    int64_t first = s_floor_min(prev_ms) + 1, last = s_floor_min(t_ms);
    if (e->hist_n == 0 || first < e->hist_last + 1)
        first = e->hist_n == 0 ? last : e->hist_last + 1;
    if (last - first >= EST_HISTORY_MIN)
        first = last - EST_HISTORY_MIN + 1;
    bool at_t = last * EST_MIN_MS == t_ms;   /* the boundary at t sees this interval */
    if (first <= last - at_t)
        s_hist_fill(e, first, last - at_t, before);
    if (at_t && first <= last)
        s_hist_put(e, last, e->arrivals);
}

static bool s_kept(const est_t *e, int64_t b)
{
    return e->hist_n > 0 && b >= s_oldest(e) && b <= e->hist_last;
}

double est_arrivals_at_minute(const est_t *e, int64_t b)
{
    return s_kept(e, b) ? s_hist_at(e, b) : NAN;
}

double est_model_wait_at(const est_t *e, double t_ms)
{
    int64_t b = (int64_t)floor(t_ms / EST_MIN_MS);
    if (!s_kept(e, b))
        return NAN;
    int64_t b0 = b - s_mod(b, EST_WAIT_EVERY_MIN), b1 = b0 + EST_WAIT_EVERY_MIN;
    double f = (t_ms - (double)b0 * EST_MIN_MS) / (EST_WAIT_EVERY_MIN * EST_MIN_MS);
    double w0 = s_kept(e, b0) ? e->hist_wait[s_wslot(b0)] : NAN;
    double w1 = s_kept(e, b1) ? e->hist_wait[s_wslot(b1)] : NAN;
    double w;
    if (w0 > 0 && w1 > 0)
        w = w0 + (w1 - w0) * f;
    else if (isnan(w0) || isnan(w1))
        w = isnan(w0) ? w1 : w0;
    else   /* a lane closed or opened between them: the nearer says */
        w = f < 0.5 ? w0 : w1;
    return w > 0 ? w : NAN;
}

/* Counted arrivals at time t_ms (linear within a minute); NAN outside the
 * history. */
static double s_arrivals_at(const est_t *e, double t_ms)
{
    if (e->hist_n == 0 || t_ms > (double)e->now_ms)
        return NAN;
    int64_t b = (int64_t)floor(t_ms / EST_MIN_MS);
    if (b < s_oldest(e))
        return NAN;
    double t0 = (double)b * EST_MIN_MS, a0 = s_hist_at(e, b);
    double t1, a1;
    if (b + 1 <= e->hist_last) {
        t1 = t0 + EST_MIN_MS;
        a1 = s_hist_at(e, b + 1);
    } else { /* the minute being filled */
        t1 = (double)e->now_ms;
        a1 = e->arrivals;
    }
    return t1 > t0 ? a0 + (a1 - a0) * (t_ms - t0) / (t1 - t0) : a0;
}

/* How far the model's wait at the time these units joined was from the
 * wait they really had: a systematic error of the model (booth idle time,
 * service spread) that travel times show and counts cannot. */
static void s_bias(est_t *e, double joined_ms, double travel_s, uint32_t n)
{
    double predicted = est_model_wait_at(e, joined_ms);
    if (isnan(predicted))
        return;
    double w = n / (1.0 + 0.05 * predicted);
    e->bias = (e->bias_w * e->bias + w * (travel_s - predicted)) / (e->bias_w + w);
    e->bias_w += w;
}

/* Units that finished now joined T̄ ago; in a FIFO queue everyone who
 * joined before them has left, so the true count of arrivals at their
 * arrival time equals the departures so far. */
static void s_travel_times(est_t *e, const est_input_t *in, double units_before)
{
    if (in->tt_count == 0)
        return;
    double mean_s = (double)in->tt_sum_s / in->tt_count;
    double joined = (double)e->now_ms - in->interval_ms / 2.0 - mean_s * 1000.0;
    double x = s_arrivals_at(e, joined);
    if (isnan(x))
        return;
    s_bias(e, joined, mean_s, in->tt_count);
    double y = e->departures - in->departures / 2.0;
    /* Increments of either sign: successive reads jitter back and forth,
     * and only the sum of all of them telescopes to the true span. */
    if (e->has_last_tt) {
        e->drift_dx += x - e->last_tt_x;
        e->drift_dy += y - e->last_tt_y;
    }
    e->last_tt_x = x;
    e->last_tt_y = y;
    e->has_last_tt = true;
    s_drift_spread(e);
    /* One vehicle's read pins the count to a few units; longer queues mix
     * more booths and more timing jitter. */
    double sigma = (3.0 + 0.02 * (units_before > 0 ? units_before : 0)) / sqrt(in->tt_count);
    s_anchor(e, x, y, sigma);
    e->last_tt_ms = e->now_ms;
    e->recent_n += in->tt_count;
    e->recent_sum += in->tt_sum_s;
}

static void s_queue_len(est_t *e, const est_input_t *in, double units_before)
{
    if (!in->has_queue_len)
        return;
    double lanes = in->lanes_open;
    double at_booths = in->queue_len > 0 ? lanes : (units_before < lanes ? units_before : lanes);
    if (at_booths < 0)
        at_booths = 0;
    double sigma = 2.0 + EST_QLEN_REL * in->queue_len;
    s_anchor(e, e->arrivals, e->departures + in->queue_len + at_booths, sigma);
    e->last_qlen_ms = e->now_ms;
}

/* Booths clearing far less than they can although the counts say there is
 * a queue: the counts have drifted and the queue is (nearly) empty. Used
 * only without fresh travel times, which say it better. */
static void s_idle(est_t *e, const est_input_t *in, double lane_rate)
{
    double secs = in->interval_ms / 1000.0;
    e->idle_dep += in->departures;
    e->idle_cap += in->lanes_open * secs * lane_rate;
    bool tt_fresh = e->now_ms - e->last_tt_ms <= EST_TT_FRESH_MS;
    double lanes = in->lanes_open;
    if (tt_fresh || lanes == 0 || e->idle_cap < lanes * lane_rate * 240.0)
        return;
    double util = e->idle_dep / e->idle_cap;
    if (util >= EST_IDLE_UTIL || s_units(e) < 2.0 * lanes + 5.0)
        return;
    s_anchor(e, e->arrivals, e->departures + util * lanes, 3.0 + lanes);
}

/* Departures measure capacity only when every booth had someone to serve
 * for the whole interval. */
static void s_learn_rate(est_t *e, const est_input_t *in, double before, double after)
{
    double lanes = in->lanes_open;
    if (lanes == 0 || before < lanes + 1 || after < lanes + 1)
        return;
    e->busy_dep += in->departures;
    e->busy_lane_s += lanes * (in->interval_ms / 1000.0);
}

static void s_quality(const est_t *e, const est_input_t *in, est_output_t *out)
{
    out->inputs = EST_IN_COUNTS | e->forecast_inputs;
    if (e->now_ms - e->last_qlen_ms <= EST_QLEN_FRESH_MS)
        out->inputs |= EST_IN_QUEUE_LEN;
    if (e->now_ms - e->last_tt_ms <= EST_TT_FRESH_MS)
        out->inputs |= EST_IN_TRAVEL_TIME;
    if (e->busy_lane_s >= EST_RATE_LEARNED_LANE_S)
        out->inputs |= EST_IN_RATE;
    if (!out->has_wait) {
        out->confidence = 0.0;
        return;
    }
    double since = e->arrivals - e->anc_x;
    double sigma_n = 1.0 / sqrt(e->anc_w > 0.04 ? e->anc_w : 0.04) +
                     EST_DRIFT_PER_UNIT * (since > 0 ? since : 0);
    double u_n = sigma_n / (e->queue + in->lanes_open + 1.0);
    double u_rate = EST_SERVICE_CV / sqrt(e->busy_dep > 1 ? e->busy_dep : 1) +
                    ((out->inputs & EST_IN_RATE) ? 0.0 : 0.15);
    out->confidence = exp(-sqrt(u_n * u_n + u_rate * u_rate) / 0.25);
}

/* Seconds until the lanes clear `need` units from now, the lanes following
 * the plan's changes from now on and the steps of a staffing surge (at
 * least one lane while units remain: a closing booth serves its queue).
 * Beyond the horizon, the lanes then. */
static double s_forecast_wait(est_t *e, const est_input_t *in, double need, double rate)
{
    double lanes = in->lanes_open;
    int p0 = in->plan ? in->plan(in->plan_arg, e->now_ms) : -1;
    double served = 0.0, s = 0.0;
    int64_t t = e->now_ms;
    for (;;) {
        int p = p0 >= 0 ? in->plan(in->plan_arg, t) : -1;
        int surge = staff_added(&e->staff, e->now_ms, t);
        if (p >= 0 && p != p0)
            e->forecast_inputs |= EST_IN_LANE_PLAN;
        if (surge > 0)
            e->forecast_inputs |= EST_IN_SURGE;
        double l = lanes + (p >= 0 ? p - p0 : 0) + surge;
        if (l < 1.0)
            l = 1.0;
        int64_t next = (t / EST_PLAN_STEP_MS + 1) * EST_PLAN_STEP_MS;
        int64_t step = staff_next_step(&e->staff, e->now_ms, t);
        if (step > t && step < next)
            next = step;
        double dt = (next - t) / 1000.0, cap = l * rate * dt;
        if (served + cap >= need || next - e->now_ms >= EST_PLAN_HORIZON_MS)
            return s + (need - served) / (l * rate);
        served += cap;
        s += dt;
        t = next;
    }
}

/* Wait for a unit joining now, including its own service. */
static double s_wait(est_t *e, const est_input_t *in, double rate)
{
    double lanes = in->lanes_open, need = e->queue + 1.0;
    if (need <= lanes)
        return 1.0 / rate;
    bool changes = in->plan || staff_next_step(&e->staff, e->now_ms, e->now_ms) != INT64_MAX;
    return changes ? s_forecast_wait(e, in, need, rate) : need / (lanes * rate);
}

void est_update(est_t *e, const est_input_t *in, est_output_t *out)
{
    int64_t prev = e->now_ms;
    int64_t t = in->t_end_ms ? in->t_end_ms : prev + in->interval_ms;
    double dt_s = prev && t > prev ? (t - prev) / 1000.0 : in->interval_ms / 1000.0;
    s_decay(e, dt_s);
    double before = e->queue, counted_before = e->arrivals;
    double lane_rate = est_lane_rate(e);
    e->arrivals += in->arrivals;
    e->departures += in->departures;
    e->now_ms = t;
    s_history(e, prev ? prev : t - in->interval_ms, t, counted_before);
    s_travel_times(e, in, before);
    s_queue_len(e, in, before);
    s_idle(e, in, lane_rate);
    double n = s_units(e);
    /* Fewer than no units: the counts lost arrivals (an entry detector
     * that misses more than it double-counts). Kept, the shortfall would
     * carry into the next rush and grow every day (no-tags over two days:
     * p85 462 -> 222 s on the second). The anchor moves up to a floor a
     * little below empty, not to zero: near empty the counts jitter both
     * ways, and a walk reflected at zero climbs (NEXUS queues lost to the
     * count baseline with a floor at zero; docs/accuracy.md). */
    if (n < -EST_NEG_SLACK)
        e->anc_y += -EST_NEG_SLACK - n;
    e->queue = n > 0.0 ? n : 0.0;
    s_learn_rate(e, in, before, e->queue);
    staff_observe(&e->staff, t, in->lanes_open, e->queue);

    double lanes = in->lanes_open;
    out->queue = e->queue > lanes ? e->queue - lanes : 0.0; /* not yet at a booth */
    out->service_rate = lanes * est_lane_rate(e);
    out->has_wait = lanes > 0 && out->service_rate > 0.0;
    e->forecast_inputs = 0;
    double model = out->has_wait ? s_wait(e, in, est_lane_rate(e)) : NAN;
    e->wait_model = out->has_wait ? model : 0.0;
    out->wait_s = model;
    if (out->has_wait && e->bias_w > 0) {
        double cap = EST_BIAS_MAX_S, b = e->bias < -cap ? -cap : e->bias > cap ? cap : e->bias;
        out->wait_s = fmax(model + b, 0.0);
    }
    /* A short wait changes little while the units that just finished
     * waited it: their travel times are a second, nearly independent
     * measure of it, worth less the longer the wait (they lag by it). */
    if (out->has_wait && e->recent_n >= 1.0 && out->wait_s < EST_SHORT_WAIT_S) {
        double w_tt = 0.5 * (1.0 - out->wait_s / EST_SHORT_WAIT_S);
        out->wait_s = (1.0 - w_tt) * out->wait_s + w_tt * e->recent_sum / e->recent_n;
    }
    out->count_scale = s_drift(e);
    s_quality(e, in, out);
}

const char *est_input_name(uint32_t bit)
{
    switch (bit) {
    case EST_IN_COUNTS:
        return "counts";
    case EST_IN_QUEUE_LEN:
        return "queue_length";
    case EST_IN_TRAVEL_TIME:
        return "travel_time";
    case EST_IN_RATE:
        return "learned_rate";
    case EST_IN_LANE_PLAN:
        return "lane_plan";
    case EST_IN_SURGE:
        return "staffing_surge";
    default:
        return NULL;
    }
}
