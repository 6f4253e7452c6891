/* demand — how many units want to join each queue, hour by hour.
 *
 * Owns the built-in daily demand shapes and the random variation: the
 * rate of a queue at time t is its profile (vehicles per hour for each
 * hour of the week, from a CSV or a built-in shape × the scenario's peak),
 * interpolated linearly between hour midpoints and multiplied by a random
 * factor drawn once per hour (1 + noise × N(0,1), seeded). Arrivals are
 * then a Poisson process with that rate (model.c). */
#ifndef POE_SIM_DEMAND_H
#define POE_SIM_DEMAND_H

#include <stdint.h>

#include "scenario.h"

typedef struct demand demand_t;

/* Demand for every queue of sc. csv (may be NULL) is a wtab file of
 * vehicles per hour that replaces the built-in profile of the queues it
 * names. NULL on error (logged, e.g. an unknown profile or a bad CSV). */
demand_t *demand_new(const scen_t *sc, const char *csv, uint64_t seed);
void demand_destroy(demand_t **self_p);

/* Units per hour wanting to join queue qi (index into sc->q) at t_h hours
 * after Monday 00:00. */
double demand_vph(const demand_t *self, int qi, double t_h);

/* An upper bound of demand_vph over the whole week, for thinning. */
double demand_max_vph(const demand_t *self, int qi);

/* Shape of a built-in profile (24 values, peak 1.0); NULL if unknown. */
const double *demand_shape(const char *name);

#endif
