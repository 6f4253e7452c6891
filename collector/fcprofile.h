/* fcprofile — the forecast's profiles of one queue (collector/forecast.c):
 * per 15-minute slot of the local week, the wait, the true arrival rate and
 * the lanes open: the mean of the weeks seen until there are four, then
 * recency-weighted (each week counts FCP_DECAY of the one after it);
 * robust (once known, a slot's wait moves by at most 3 of its usual
 * deviations); the registry's holidays are a kind of day of their own (a
 * 96-slot day profile; a Sunday until one has been seen).
 *
 * The wait of a slot as looked up is shrunk toward its neighbours (the two
 * slots either side, the half hour around it): with two or three weeks of
 * history one slot's mean is mostly noise, the neighbours' mean is steadier
 * but blurs sharp changes. How far to shrink (0..1) is learned, not set:
 * each new value of a slot is regressed on the slot's and its neighbours'
 * means as they were before that day (least squares of the shrinkage
 * weight, decayed), so a queue whose slots are steady week to week keeps
 * its own slots and a noisy one leans on the neighbours.
 *
 * Pure arithmetic, no I/O: tests/unit/test_forecast.c. */
#ifndef POE_FCPROFILE_H
#define POE_FCPROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast.h"

#define FCP_DECAY 0.75f              /* a week ago counts 3/4 of this week (from 4 weeks on) */
#define FCP_MIN_W 0.5f               /* a slot this weakly seen is not known */
/* The profiles are kept in chunks of 6 hours of slots, each allocated when
 * its first value arrives: a queue that has seen an hour of data holds one
 * chunk, not the whole week (10,000 queues at start are 10,000 forecasts;
 * docs/performance.md §4). */
#define FCP_CHUNK 24
#define FCP_WEEK_CHUNKS (FC_SLOTS / FCP_CHUNK)
#define FCP_NCHUNKS (FCP_WEEK_CHUNKS + FC_DAY_SLOTS / FCP_CHUNK) /* the week, then the holiday */
_Static_assert(FC_SLOTS % FCP_CHUNK == 0 && FC_DAY_SLOTS % FCP_CHUNK == 0,
               "FCP_CHUNK: a whole number of chunks in a day");
_Static_assert(FCP_NCHUNKS < 256, "fcp_t.at: a chunk's index in a byte");

/* A slot's means are kept in half precision where the compiler has it
 * (GCC 12, Clang 15: _Float16, 11 significant bits): a wait of 40 min to
 * the second, 12 h to half a minute, a rate or a lane count to 0.05 %,
 * while the arithmetic is done in float. A queue's full profile (a week
 * and a holiday) is 7.7 KB instead of 13.8; with weeks of history, 61 MB
 * less at 10,000 queues (docs/performance.md §1r). */
#ifdef __FLT16_MAX__
typedef _Float16 fcp_val_t;
#define FCP_VAL_MAX 65504.0f         /* the largest _Float16 */
#else
typedef float fcp_val_t;
#define FCP_VAL_MAX 3.0e38f
#endif

/* Six hours of slots. A slot's weight is the number of weeks it has seen,
 * capped at 1 / (1 - FCP_DECAY) = 4 (s_update in fcprofile.c): a small
 * integer, kept exactly in a byte. */
typedef struct {
    fcp_val_t wait[FCP_CHUNK], wait_dev[FCP_CHUNK], arr[FCP_CHUNK], lanes[FCP_CHUNK];
    uint8_t wait_w[FCP_CHUNK], arr_w[FCP_CHUNK];
} fcp_chunk_t;

typedef struct {
    /* The chunks made, in the order their first value came: one block,
     * grown a chunk at a time, and at[c] (1 + its index in it; 0 while none
     * of chunk c's slots has a value) for chunk c: slots c·FCP_CHUNK.. of
     * the week (c < FCP_WEEK_CHUNKS), then of the holiday's day. A byte a
     * chunk, not a pointer: 10,000 queues' profiles hold 2 MB less. */
    fcp_chunk_t *chunks;
    /* The shrinkage toward the neighbours: decayed sums of
     * (new − own)·(neighbours − own) and (neighbours − own)². */
    double shr_xy, shr_xx;
    /* The last two week slots updated and their wait before (their
     * neighbours' regression must not see the same day's values). */
    int last_slot[2];
    float last_wait[2];
    uint8_t last_w[2];
    uint8_t n;                       /* chunks made */
    uint8_t at[FCP_NCHUNKS];
} fcp_t;

/* An empty profile (a zeroed fcp_t is one too, but for the last slots). */
void fcp_init(fcp_t *p);

/* Free the chunks a profile holds; it is empty (fcp_init) after. */
void fcp_free(fcp_t *p);

/* Enter one closed step of local week slot `slot` (0..FC_SLOTS-1; a
 * holiday enters the holiday's day): its mean wait (NAN: none), true
 * arrivals per second and mean lanes open. 0, or -1 when the slot's chunk
 * could not be allocated (the step is then not learned). */
int fcp_update(fcp_t *p, int slot, bool holiday, double wait, double arr, double lanes);

/* Enter the wait of a closed step alone (arrivals and lanes entered
 * before with a NAN wait): the travel times of a step are known later.
 * 0, or -1 as fcp_update. */
int fcp_update_wait(fcp_t *p, int slot, bool holiday, double wait);

/* The profile at slot `slot`: the wait (shrunk toward the neighbours by
 * the learned weight), arrivals per second and lanes; NAN where the slot
 * is not known. A holiday uses its day where seen, else the Sunday. lanes
 * may be NULL. */
void fcp_lookup(const fcp_t *p, int slot, bool holiday, double *wait, double *arr,
                double *lanes);

/* The mean wait of week slot `slot` as learned, not shrunk; NAN while the
 * slot has no value. */
double fcp_mean(const fcp_t *p, int slot);

/* The learned shrinkage weight toward the neighbours, 0..1 (0 until the
 * first weeks disagree). */
double fcp_shrink(const fcp_t *p);

/* Bytes the profile holds beyond the fcp_t itself (its chunks). */
size_t fcp_bytes(const fcp_t *p);

#endif
