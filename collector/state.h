/* state — what the collector currently knows about every crossing, direction
 * and queue: the latest interval, the estimate, and when it was updated.
 *
 * Built from the registry at start; updated by ingest in event time; read by
 * the HTTP views. Applying a sample at or before a queue's last applied time
 * is a no-op, so a batch sent again never counts twice. */
#ifndef POE_STATE_H
#define POE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "estimator.h"
#include "forecast.h"
#include "official.h"
#include "plan.h"
#include "registry.h"
#include "taxonomy.h"

typedef struct {
    bool seen;                   /* any sample ever applied */
    int64_t updated_ms;          /* event time: end of the last applied interval */
    int64_t received_ms;         /* wall clock when that sample arrived */
    uint32_t interval_ms;
    uint32_t lanes_open;
    uint32_t arrivals, departures;   /* in the last interval */
    uint64_t total_arrivals, total_departures;
    /* Re-identified travel times ended, since first seen: how many and
     * their sum (the forecast learns from them, collector/fcstore.c). */
    uint64_t total_tt_count;
    double total_tt_sum_s;
    est_t est;
    est_output_t out;            /* last estimate */
} qstate_t;

/* The official value of a queue (CBP for into-US, CBSA for into-Canada),
 * kept beside the measured one and never mixed into it. status
 * OFF_ST_NONE = never imported. */
typedef struct {
    enum off_source source;
    enum off_status status;
    bool has_wait, has_lanes;
    int32_t wait_s, lanes_open;
    int64_t updated_s;           /* the document's update time, 0 unknown */
    int64_t fetched_s;           /* wall clock of the fetch that brought it */
} qofficial_t;

typedef struct {
    const reg_crossing_t *reg;
    const plan_t *plan[TAX_NDIRS];        /* the port's lane plan per direction, or NULL */
    /* [dir-1][tax_queue_index]: never NULL. A queue is made at its first
     * commit; until then it is the state's shared "never seen" one of its
     * mode and type (read-only). Most crossings have a few of the 24
     * queues: at 3.4 a direction, three quarters of a state holding every
     * queue would be queues no sample ever reaches (2.2 KB each). */
    const qstate_t *q[TAX_NDIRS][TAX_NQUEUES];
    /* The latest forecast of each queue (collector/fcstore.c), NULL until
     * the queue has data and a forecast store runs. */
    const fc_result_t *forecast[TAX_NDIRS][TAX_NQUEUES];
    qofficial_t off[TAX_NDIRS][TAX_NQUEUES]; /* official values, same index */
    int64_t off_stale_after_s;            /* official older than this is stale */
    /* Bumped whenever anything the views show of this crossing changes
     * (a committed queue, an official value, a forecast run, the
     * notices), so rendered fragments of it can be kept until then
     * (collector/frag.c). Whoever writes the fields above directly must
     * bump it; the functions below do. */
    uint64_t changes;
} xstate_t;

typedef struct state state_t;

state_t *state_new(const registry_t *reg);
void state_destroy(state_t **self_p);

size_t state_count(const state_t *self);
xstate_t *state_at(state_t *self, size_t i);
xstate_t *state_find(state_t *self, const char *crossing);

/* Apply one interval sample to a queue. Returns 1 when applied, 0 when it
 * was at or before the queue's last applied time (ignored), -1 when the
 * queue could not be made (out of memory). */
int state_apply(state_t *self, xstate_t *x, enum tax_dir dir,
                const est_input_t *in, int64_t t_end_ms,
                enum tax_mode mode, enum tax_type type, int64_t now_ms);

/* Apply one interval to a queue state (e.g. a shadow copy). Returns 1 when
 * applied, 0 when at or before its last applied time. */
int qstate_apply(qstate_t *q, const est_input_t *in, int64_t t_end_ms, int64_t now_ms);

/* Replace queue (dir, k) of x, one of this state's crossings, with an
 * updated copy (made from x->q[dir - 1][k]), and bump the version and x's
 * change counter. 0, or -1 when the queue could not be made (out of
 * memory; nothing changed). */
int state_commit(state_t *self, xstate_t *x, enum tax_dir dir, int k, const qstate_t *src);

/* Apply a parsed official document: each record replaces its queue's
 * official value; queues the document does not mention keep theirs (they
 * age into stale). Measured values are never touched. Official values
 * whose update time is older than stale_after_s at a view's time are
 * stale. Returns the number of queues applied. */
size_t state_apply_official(state_t *self, const off_doc_t *doc, int64_t fetched_s,
                            int64_t stale_after_s);

/* Whether an official value may be shown as current at Unix second now_s:
 * imported, with an update time, and younger than the crossing's
 * off_stale_after_s. */
bool qofficial_fresh(const xstate_t *x, const qofficial_t *o, int64_t now_s);

/* Queues made (seen at least once), of all crossings. */
size_t state_queues(const state_t *self);

/* Bumped on every applied sample: views cache rendered bodies per version. */
uint64_t state_version(const state_t *self);

/* The port notices in force (collector/notices), owned by the state from
 * now on; NULL for none. Bumps the version and every crossing's change
 * counter so cached views re-render. The
 * notices replaced are kept until the next replacement (a view being
 * rendered may still read them) and freed then or at state_destroy. */
struct notices;
void state_set_notices(state_t *self, struct notices *n);
const struct notices *state_notices(const state_t *self);

/* "open", "closed", "stale" or "no_data" for a queue at wall time now_ms:
 * stale when its newest data is older than stale_after_ms in event time. */
const char *qstate_status(const qstate_t *q, int64_t now_ms, int64_t stale_after_ms);

#endif
