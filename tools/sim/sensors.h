/* sensors — what the sensors of a crossing make of what really happened.
 *
 * Owns the faults: the queue-entry detector misses and double counts, the
 * booth counters err, the queue-length detector is noisy, only a share of
 * vehicles carry a readable tag and each reader reads only some of them,
 * detectors and readers go down for a while, and the booth reader's clock
 * is skewed. It is the model's sink (model.h) and hands sensor events to
 * output.c. Its randomness is its own stream, so faults never change the
 * traffic. */
#ifndef POE_SIM_SENSORS_H
#define POE_SIM_SENSORS_H

#include <stdint.h>

#include "model.h"
#include "output.h"
#include "scenario.h"

typedef struct sens sens_t;

/* start_ms: the scenario's first instant (outage windows count from it). */
sens_t *sens_new(const scen_t *sc, uint64_t seed, int64_t start_ms, out_t *out);
void sens_destroy(sens_t **self_p);

/* The sink to give model_run. */
model_sink_t sens_sink(sens_t *self);

/* -1 when an event could not be kept (out of memory). */
int sens_status(const sens_t *self);

#endif
