/* rng — seeded, deterministic random numbers for poe-sim.
 *
 * Owns the generator (splitmix64 seeding, xoshiro256** stream) and the few
 * distributions the simulator draws from. Each part of the model (demand,
 * service, sensors) has its own stream derived from the seed, so changing a
 * sensor fault never changes the traffic: `no-tags` and `peak` see the very
 * same vehicles. */
#ifndef POE_SIM_RNG_H
#define POE_SIM_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

/* Seed stream number `stream` of `seed`; the same pair always gives the
 * same sequence. */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);

uint64_t rng_next(rng_t *r);

/* Uniform in [0, 1). */
double rng_uniform(rng_t *r);

/* True with probability p. */
int rng_chance(rng_t *r, double p);

/* Exponential with the given mean. */
double rng_exp(rng_t *r, double mean);

/* Standard normal (Box-Muller, one value per call). */
double rng_normal(rng_t *r);

/* Log-normal with the given mean and coefficient of variation: service
 * times are positive and right-skewed. */
double rng_lognormal(rng_t *r, double mean, double cv);

#endif
