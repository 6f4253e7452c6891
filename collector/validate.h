/* validate — the collector's semantic checks of decoded samples: physical
 * limits for the lanes open, interval alignment, clocks from the future,
 * lanes the crossing does not have.
 *
 * wire.c already rejected what is structurally wrong; this module knows the
 * registry and the clock (passed in, so it is tested without either). Each
 * refusal names its reason so it is logged and counted. */
#ifndef POE_VALIDATE_H
#define POE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "poenet.pb-c.h"
#include "registry.h"
#include "stats.h"

/* Physical ceilings per lane and per queue, in units per second. A booth
 * cannot clear more than one vehicle or person a second; a queue cannot
 * grow faster than a crowd walks in. */
#define VAL_MAX_DEPART_PER_LANE_S 1.0
#define VAL_MAX_ARRIVE_PER_S 20.0
#define VAL_MAX_QUEUE 100000

typedef struct {
    int64_t now_ms;
    int64_t max_skew_ms;    /* how far ahead of our clock a sample may be */
    int64_t min_t_ms;       /* oldest sample end accepted (0 = any: a backfilling agent) */
} val_ctx_t;

/* Check a batch's header fields. 0, or -1 with reason and *code. */
int val_batch(const Poenet__Batch *b, const reg_crossing_t *reg, char *why, size_t whylen,
              enum stats_reject *code);

/* Check one queue sample of batch b. */
int val_queue_sample(const val_ctx_t *ctx, const Poenet__Batch *b, const reg_crossing_t *reg,
                     const Poenet__QueueSample *q, char *why, size_t whylen,
                     enum stats_reject *code);

/* Check one lane sample of batch b. */
int val_lane_sample(const val_ctx_t *ctx, const Poenet__Batch *b, const reg_crossing_t *reg,
                    const Poenet__LaneSample *l, char *why, size_t whylen,
                    enum stats_reject *code);

#endif
