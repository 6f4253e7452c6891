/* simulate — built-in simulated sensors for one crossing direction, for the
 * demo and for trying an agent without hardware.
 *
 * A small discrete-event model in wall-clock time: Poisson arrivals per
 * queue with a daily swing, FIFO service in booths with per-type service
 * times, and a staffing rule that opens a lane when the queue grows and
 * closes one when it empties. It produces the same sensor events a real
 * installation would (lane, arrive, depart, queue), in time order. The
 * accuracy work uses the separate poe-sim with ground truth. */
#ifndef POE_SIMULATE_H
#define POE_SIMULATE_H

#include <stdint.h>

#include "sensor.h"
#include "taxonomy.h"

typedef struct sim sim_t;

typedef void(sim_event_fn)(void *arg, const sensor_event_t *ev);

/* max_lanes by enum tax_mode (index 0 unused); a mode with 0 lanes is not
 * simulated. load ~1.0 keeps the lanes busy; >1 builds queues. The queues
 * start partly filled so waits show from the first minute. */
sim_t *sim_new(uint64_t seed, const int max_lanes[TAX_NMODES + 1], double load, int64_t start_ms);
void sim_destroy(sim_t **self_p);

/* Generate every event up to now_ms, in time order. */
void sim_run_until(sim_t *self, int64_t now_ms, sim_event_fn *fn, void *arg);

/* Parse "passenger=8,pedestrian=2,commercial=3" into max_lanes; -1 if bad. */
int sim_parse_lanes(const char *spec, int max_lanes[TAX_NMODES + 1]);

#endif
