/* estimator — the expected wait for a unit joining a queue now.
 *
 * Pure arithmetic on one queue's interval samples, no I/O, so it is tested
 * on hand-computed cases (tests/unit/test_estimator.c). docs/accuracy.md
 * describes the method and measures it against simulated ground truth.
 *
 * Units in the system now (waiting + at a booth):
 *
 *     N = Ȳ + k·(A − X̄) − D
 *
 * A, D: counted arrivals and departures since the queue was first seen.
 * (X̄, Ȳ): an anchor, "when the arrival counter read X̄, Ȳ units had truly
 * arrived (in departure-counter units)", the weighted mean of recent
 * observations, forgotten with a 10-minute time constant:
 *   - travel times (re-identification in the agent): the units that
 *     finished in an interval joined T̄ ago, and a FIFO queue serves everyone
 *     who joined before them first, so (X = A(t − T̄), Y = D(t));
 *   - queue-length detector readings: (X = A, Y = D + waiting + at booths);
 *   - idle booths (lanes clearing far less than they can while the counts
 *     say there is a queue): (X = A, Y = D + busy booths);
 *   - the start: (0, 0), an empty queue, with a small weight.
 * k: the count drift, true arrivals per counted arrival, learned from
 * successive travel-time anchors (departures between them ÷ counted
 * arrivals between their arrival times), with a 2-hour memory.
 *
 * Service rate: lanes open × per-lane rate, the rate learned from
 * intervals where every booth had someone to serve (1-hour memory, a prior
 * per lane type until then). Wait for a unit joining now, including its own
 * service: max(N + 1, lanes) / (lanes × rate) — or, with a lane plan, the
 * time until the lanes open now plus the plan's changes from now on have
 * cleared N + 1 units (the plan's changes, not its numbers: a lane closed
 * against the plan stays closed).
 *
 * Causal: an output uses only samples up to the interval just applied. */
#ifndef POE_ESTIMATOR_H
#define POE_ESTIMATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "staffing.h"
#include "taxonomy.h"

#define EST_HISTORY_MIN 400          /* counted-arrival history: 6 h 40 min */
#define EST_HIST_BLOCK 16            /* minutes sharing a 32-bit base in est_t.hist */
#define EST_HIST_RING (EST_HISTORY_MIN + EST_HIST_BLOCK) /* a multiple of the block */
#define EST_HIST_NESC 8              /* minutes kept beyond 16 bits above their block's */
#define EST_HIST_ESC UINT16_MAX      /* est_t.hist: the value is in hist_esc */
#define EST_WAIT_EVERY_MIN 2         /* est_t.hist_wait: a wait every 2 minutes */
#define EST_WAIT_RING (EST_HISTORY_MIN / EST_WAIT_EVERY_MIN)

/* est_output_t.inputs: what the estimate rests on. */
#define EST_IN_COUNTS      0x01u     /* arrival and departure counts */
#define EST_IN_QUEUE_LEN   0x02u     /* a queue-length reading in the last 5 min */
#define EST_IN_TRAVEL_TIME 0x04u     /* re-identified travel times in the last 15 min */
#define EST_IN_RATE        0x08u     /* a per-lane rate learned here (not the prior) */
#define EST_IN_LANE_PLAN   0x10u     /* the port's lane plan changes lanes within the wait */
#define EST_IN_SURGE       0x20u     /* a staffing surge is expected to add lanes within it */
#define EST_IN_LAST        EST_IN_SURGE

typedef struct {
    enum tax_mode mode;
    enum tax_type type;
    int64_t now_ms;                  /* end of the last interval applied; 0 none */
    double arrivals, departures;     /* counted since first seen (A, D) */
    double queue;                    /* units in the system (waiting + at booths) */
    /* A at every minute boundary, exactly: A is a sum of whole counts, so
     * it is kept as hist_base (a double) + 32 bits for the minute's block
     * of EST_HIST_BLOCK minutes (hist_blk, A at the block's first minute
     * kept) + 16 bits for the minute (hist). 16 minutes of validated
     * samples (20 arrivals/s at most) are 19,200 arrivals, so a minute's
     * 16 bits hold them; a minute further above its block's start is
     * EST_HIST_ESC and kept in hist_esc (the newest EST_HIST_NESC such
     * minutes; older ones are forgotten). A third of the bytes of 32 bits
     * a minute: est_t is copied by value into ingest's shadow states,
     * 10,000 queues of it. The base moves up when a value would not fit
     * 32 bits above it (s_hist_rebase). The ring has a block more than
     * the history, so that the block being written never holds a minute
     * still kept from 6 h 40 min before. */
    double hist_base;
    uint32_t hist_blk[EST_HIST_RING / EST_HIST_BLOCK];
    uint16_t hist[EST_HIST_RING];
    int64_t hist_esc_min[EST_HIST_NESC];   /* minute number, oldest first */
    uint32_t hist_esc[EST_HIST_NESC];      /* A − hist_base then */
    int hist_esc_n;
    /* The model's wait at every even minute boundary, whole seconds (0:
     * none, at least 1 otherwise, at most 65,535): only the bias reads it
     * (est_model_wait_at), as travel time minus it, a mean of many such
     * differences bounded to ±30 s. A wait every 2 minutes read linearly
     * between them, not every minute read as a step: half the bytes (est_t
     * is 10,000 queues and ingest's shadow copies), and a unit's join time
     * is not a minute boundary anyway (docs/accuracy.md). Ring indexed by
     * (minute / 2) modulo EST_WAIT_RING. */
    uint16_t hist_wait[EST_WAIT_RING];
    int64_t hist_last;               /* newest boundary stored (minute number) */
    int hist_n;
    /* Anchor: decayed weight and weighted means (X̄, Ȳ). */
    double anc_w, anc_x, anc_y;
    /* Drift: decayed sums of departures and counted arrivals between
     * successive travel-time anchors. */
    double drift_dy, drift_dx;
    double last_tt_x, last_tt_y;
    bool has_last_tt;
    double k_w, k_mean, k_var;       /* spread of the measured drift (decayed) */
    /* Service: decayed departures and lane-seconds of busy intervals. */
    double busy_dep, busy_lane_s;
    /* Idle check: decayed departures and capacity (lane-s × rate), ~5 min. */
    double idle_dep, idle_cap;
    int64_t last_tt_ms, last_qlen_ms;
    double wait_model;               /* model wait after the last interval, s */
    /* Bias: decayed weight and mean of (travel time − model wait then). */
    double bias_w, bias;
    /* Recent travel times: decayed count and sum (~2.5-minute memory). */
    double recent_n, recent_sum;
    staff_t staff;                   /* the port's surge staffing, learned */
    uint32_t forecast_inputs;        /* EST_IN_LANE_PLAN / _SURGE used by the last wait */
} est_t;

/* Lanes the port plans to have open at t_ms (collector/plan.c), or -1 when
 * its plan does not cover the queue. */
typedef int (*est_plan_fn)(const void *arg, int64_t t_ms);

typedef struct {
    uint32_t interval_ms;
    uint32_t arrivals, departures, lanes_open;
    bool has_queue_len;
    uint32_t queue_len;              /* units waiting, not yet at a booth */
    uint32_t tt_count;               /* re-identified travel times ending in the interval */
    uint32_t tt_sum_s, tt_max_s;
    int64_t t_end_ms;                /* end of the interval; 0: count time by interval_ms */
    est_plan_fn plan;                /* NULL: no lane plan, lanes stay as they are */
    const void *plan_arg;
} est_input_t;

typedef struct {
    double queue;                    /* units waiting now, not yet at a booth */
    double service_rate;             /* units per second the open lanes clear */
    bool has_wait;                   /* false when no lane is open */
    double wait_s;
    uint32_t inputs;                 /* EST_IN_* bits */
    double confidence;               /* 0..1, see est_update */
    double count_scale;              /* k: true arrivals per counted one */
} est_output_t;

void est_init(est_t *e, enum tax_mode mode, enum tax_type type);

/* Prior per-lane service rate (units/s) for a queue type. */
double est_prior_lane_rate(enum tax_mode mode, enum tax_type type);

/* Current per-lane service rate (units/s): learned, or the prior. */
double est_lane_rate(const est_t *e);

/* Apply one interval (in event-time order) and estimate the wait.
 * confidence = exp(-u / 0.25), u the estimate's relative uncertainty from
 * the anchor's age and weight, the drift since it, and the rate's
 * sampling error: ~0.8 with fresh travel times, lower on counts alone,
 * falling while inputs are missing. */
void est_update(est_t *e, const est_input_t *in, est_output_t *out);

/* Counted arrivals A at minute boundary b (minute number: Unix ms /
 * 60,000), exactly as they were then; NAN outside the history kept. */
double est_arrivals_at_minute(const est_t *e, int64_t b);

/* A model wait as est_t.hist_wait keeps it: whole seconds, rounded; 0 for
 * none (0, negative, NAN), a wait under half a second still 1, and 65,535
 * (18 h 12 min) for any longer. */
uint16_t est_wait_s16(double wait_s);

/* The model's wait kept for instant t_ms (Unix ms): linear between the
 * even minute boundaries around it, or the nearer one where the other is
 * not kept or had no wait (no lane open); NAN when t's minute is outside
 * the history or the wait there is none. */
double est_model_wait_at(const est_t *e, double t_ms);

/* Names of the EST_IN_* bits, for the feed: "counts", "queue_length",
 * "travel_time", "learned_rate", "lane_plan", "staffing_surge"; NULL for
 * other values. */
const char *est_input_name(uint32_t bit);

#endif
