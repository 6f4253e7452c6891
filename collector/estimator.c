/* estimator — see estimator.h. */
#include "estimator.h"

#include <math.h>

/* How much one busy interval moves the learned per-lane rate. A 5-s
 * interval sees only a handful of departures, so the rate is smoothed over
 * roughly the last 20 busy intervals (~100 s). */
#define EST_RATE_ALPHA 0.05

double est_prior_lane_rate(enum tax_mode mode, enum tax_type type)
{
    return 1.0 / tax_typical_service_s(mode, type);
}

void est_init(est_t *e, enum tax_mode mode, enum tax_type type)
{
    e->mode = mode;
    e->type = type;
    e->queue = 0.0;
    e->lane_rate = est_prior_lane_rate(mode, type);
    e->busy_intervals = 0;
}

/* Departures only measure capacity when lanes had someone to serve for the
 * whole interval; an idle booth says nothing about how fast it works. */
static void s_learn_rate(est_t *e, const est_input_t *in, double queue_before)
{
    if (in->lanes_open == 0 || in->interval_ms == 0)
        return;
    if (queue_before < in->lanes_open || in->departures == 0)
        return;
    double lane_s = in->lanes_open * (in->interval_ms / 1000.0);
    double observed = in->departures / lane_s;
    e->lane_rate += EST_RATE_ALPHA * (observed - e->lane_rate);
    e->busy_intervals++;
}

void est_update(est_t *e, const est_input_t *in, est_output_t *out)
{
    double before = e->queue;
    double q = before + (double)in->arrivals - (double)in->departures;
    if (in->has_queue_len)
        q = (double)in->queue_len; /* a detector sees the queue; counts drift */
    e->queue = q > 0.0 ? q : 0.0;
    s_learn_rate(e, in, before);

    out->queue = e->queue;
    out->service_rate = in->lanes_open * e->lane_rate;
    out->has_wait = in->lanes_open > 0 && out->service_rate > 0.0;
    /* A unit joining now waits for everyone ahead of it, plus its own
     * service if every booth is busy. */
    out->wait_s = out->has_wait ? e->queue / out->service_rate : NAN;
}
