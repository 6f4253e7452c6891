/* validate — see validate.h. */
#include "validate.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "taxonomy.h"
#include "wire.h"

static int s_fail(enum stats_reject *code, enum stats_reject c, char *why, size_t len,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    *code = c;
    return -1;
}

/* Most units that can pass at per_s in an interval: a whole number, since
 * units are counted whole. The same as per_s x seconds for whole-second
 * intervals; a booth that clears one a second still clears one in a
 * 250-ms interval now and then. */
static double s_ceiling(double per_s, uint32_t interval_ms)
{
    return ceil(per_s * interval_ms / 1000.0);
}

int val_batch(const Poenet__Batch *b, const reg_crossing_t *reg, char *why, size_t whylen,
              enum stats_reject *code)
{
    if (!reg)
        return s_fail(code, REJ_UNKNOWN_CROSSING, why, whylen,
                      "crossing %s is not in the registry", b->crossing);
    if (!wire_interval_valid(b->interval_ms))
        return s_fail(code, REJ_BAD_INTERVAL, why, whylen,
                      "interval %u ms is neither a part of a second dividing it (%d..1000 ms) "
                      "nor whole seconds dividing a minute", b->interval_ms, WIRE_INTERVAL_MIN_MS);
    return 0;
}

/* Common to queue and lane samples: the interval end is on the grid and
 * not in the future. */
static int s_check_time(const val_ctx_t *ctx, const Poenet__Batch *b, uint64_t t_end_ms,
                        char *why, size_t len, enum stats_reject *code)
{
    if (t_end_ms % b->interval_ms)
        return s_fail(code, REJ_MISALIGNED, why, len,
                      "sample end %" PRIu64 " is not on the %u ms interval grid", t_end_ms,
                      b->interval_ms);
    /* The future first: beyond INT64_MAX the cast of the age check below
     * wraps negative and would call a far-future stamp "too old". */
    if (t_end_ms > (uint64_t)INT64_MAX || (int64_t)t_end_ms > ctx->now_ms + ctx->max_skew_ms)
        return s_fail(code, REJ_FUTURE, why, len,
                      "sample end %" PRIu64 " is ahead of the collector's clock (%" PRId64 ")",
                      t_end_ms, ctx->now_ms);
    if ((int64_t)t_end_ms < ctx->min_t_ms)
        return s_fail(code, REJ_TOO_OLD, why, len,
                      "sample end %" PRIu64 " is older than the spool horizon (%" PRId64 "); "
                      "this agent is not allowed to backfill", t_end_ms, ctx->min_t_ms);
    return 0;
}

int val_queue_sample(const val_ctx_t *ctx, const Poenet__Batch *b, const reg_crossing_t *reg,
                     const Poenet__QueueSample *q, char *why, size_t len,
                     enum stats_reject *code)
{
    if (s_check_time(ctx, b, q->t_end_ms, why, len, code) != 0)
        return -1;
    const char *mode = tax_mode_name((enum tax_mode)q->mode);
    int max = reg->max_lanes[q->mode];
    /* Compared unsigned: a cast to int turned 2^31..2^32-1 lanes negative,
     * which passed (found by fuzz_wire). max is 0..64 from the registry. */
    if (q->lanes_open > (uint32_t)max)
        return s_fail(code, REJ_LANES, why, len, "%u %s lanes open, crossing %s has %d", q->lanes_open,
                      mode, reg->id, max);
    double secs = b->interval_ms / 1000.0;
    /* A lane that closed during the interval may still have cleared units,
     * so the ceiling uses the crossing's lanes, not those open at the end. */
    double max_dep = (max > 0 ? max : 1) * s_ceiling(VAL_MAX_DEPART_PER_LANE_S, b->interval_ms);
    if (q->departures > max_dep)
        return s_fail(code, REJ_IMPOSSIBLE, why, len,
                      "%u %s departures in %g s: more than %d lanes can clear", q->departures,
                      mode, secs, max);
    if (q->arrivals > s_ceiling(VAL_MAX_ARRIVE_PER_S, b->interval_ms))
        return s_fail(code, REJ_IMPOSSIBLE, why, len, "%u %s arrivals in %g s is impossible",
                      q->arrivals, mode, secs);
    if (q->has_queue_len && q->queue_len > VAL_MAX_QUEUE)
        return s_fail(code, REJ_IMPOSSIBLE, why, len, "queue detector reads %u units",
                      q->queue_len);
    return 0;
}

int val_lane_sample(const val_ctx_t *ctx, const Poenet__Batch *b, const reg_crossing_t *reg,
                    const Poenet__LaneSample *l, char *why, size_t len, enum stats_reject *code)
{
    if (s_check_time(ctx, b, l->t_end_ms, why, len, code) != 0)
        return -1;
    if (reg->max_lanes[l->mode] == 0)
        return s_fail(code, REJ_LANES, why, len, "lane %s: crossing %s has no %s lanes", l->lane_id,
                      reg->id, tax_mode_name((enum tax_mode)l->mode));
    if (l->departures > s_ceiling(VAL_MAX_DEPART_PER_LANE_S, b->interval_ms))
        return s_fail(code, REJ_IMPOSSIBLE, why, len, "lane %s: %u departures in %u ms",
                      l->lane_id, l->departures, b->interval_ms);
    return 0;
}
