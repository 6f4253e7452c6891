/* aggregate — sensor events into per-interval samples, in event time.
 *
 * Owns the agent's picture of the crossing: which lanes exist, which are
 * open and for which queue, and the counts of the interval being filled.
 * Intervals are aligned to multiples of the interval length since the Unix
 * epoch, and close when an event at or after their end arrives (or when the
 * caller advances time), so a replayed day gives the same samples at any
 * speed. Every queue that has been seen gets a sample for every interval,
 * zeros included: the archive must tell "nobody came" from "no data". A
 * silence longer than max_gap_ms is treated as an outage: those intervals
 * are not emitted (the archive shows unknown, never a false zero). */
#ifndef POE_AGGREGATE_H
#define POE_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "sensor.h"
#include "wire.h"

#define AGGR_MAX_LANES 128

typedef struct aggr aggregate_t;

/* Called for each sample of a closed interval: exactly one of q, l is set. */
typedef void(aggregate_emit_fn)(void *arg, const wire_queue_sample_t *q, const wire_lane_sample_t *l);

aggregate_t *aggregate_new(uint32_t interval_ms, int64_t max_gap_ms, aggregate_emit_fn *emit, void *arg,
                 uint64_t salt);
void aggregate_destroy(aggregate_t **self_p);

/* Apply one event (events come in time order, as the parser guarantees).
 * Closes every interval that ends at or before the event first. Returns -1
 * with a reason when the event cannot be applied (e.g. a departure from a
 * lane never declared, more lanes than AGGR_MAX_LANES). */
int aggregate_event(aggregate_t *self, const sensor_event_t *ev, char *why, size_t whylen);

/* Close every interval that ends at or before t_ms (live sources call this
 * from a timer, so a quiet queue still reports its zeros). */
void aggregate_advance(aggregate_t *self, int64_t t_ms);

/* Close the interval being filled, even though it is not over (end of a
 * replay file). Its sample carries the interval's nominal end. */
void aggregate_flush(aggregate_t *self);

/* Event time up to which intervals are closed (0 before the first event). */
int64_t aggregate_closed_until(const aggregate_t *self);

/* When a live source must close the interval being filled if no later
 * event closes it first: its end plus grace_ms (lines stamped inside it may
 * still arrive until then; aggregate_advance(self, now - grace_ms) closes
 * it). INT64_MAX before the first event: nothing to close. */
int64_t aggregate_close_due(const aggregate_t *self, int64_t grace_ms);

#endif
