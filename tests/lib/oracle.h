/* oracle — the best a wait estimator could publish with perfect knowledge
 * of the present (current-state oracle) or of the present and the future
 * lanes (future-lanes oracle), from the simulator's truth and lane events.
 * Used by bench/accuracy to show the floor under each scenario's error.
 *
 * For a unit joining at t (unix ms), with N(t) the true units in the
 * system (waiting or at a booth: arrivals ≤ t minus departures ≤ t), L(t)
 * the lanes open and mu the per-lane service rate learned from the truth:
 *
 *   now     max(N + 1, L) / (L × mu)       (the lanes stay as they are)
 *   future  the smallest s ≥ 1/mu with mu × ∫[t, t+s] L(u) du ≥ N + 1,
 *           integrated exactly over the real future lanes; NAN when not
 *           served within ORACLE_HORIZON_MS.
 *
 * mu = departures during busy 5-s cells ÷ busy lane-seconds, a cell
 * [u, u+5 s) of the grid (multiples of 5 s from the first arrival to the
 * last departure) being busy when N(u) ≥ L(u) + 1 (every booth had someone
 * to serve); without any busy cell, all departures ÷ open lane-seconds. */
#ifndef POE_TEST_ORACLE_H
#define POE_TEST_ORACLE_H

#include <stdint.h>

#define ORACLE_HORIZON_MS (12 * 3600 * 1000LL)
#define ORACLE_GRID_MS 5000

typedef struct oracle oracle_t;

/* A new, empty oracle; NULL when out of memory. */
oracle_t *oracle_new(void);

/* Free *self_p and set it to NULL; NULL or *NULL does nothing. */
void oracle_destroy(oracle_t **self_p);

/* One vehicle of this queue (truth file line): joined at arrive_ms, left
 * the booth at depart_ms. 0; -1 when out of memory, depart_ms <
 * arrive_ms or a time outside [0, 2^50] ms (the vehicle is ignored).
 * Once one is added, queries return NAN until the next oracle_finish. */
int oracle_add_vehicle(oracle_t *self, int64_t arrive_ms, int64_t depart_ms);

/* Lanes open for this queue from t_ms on (call in time order; repeated
 * times: the last wins; out of order calls are sorted in oracle_finish;
 * negative counts are 0). No lanes before the first call. 0; -1 when out
 * of memory or t_ms is outside [0, 2^50] ms (ignored). Once set, queries
 * return NAN until the next oracle_finish. */
int oracle_set_lanes(oracle_t *self, int64_t t_ms, int lanes);

/* Call once after all vehicles and lanes are added (sorts, learns mu).
 * 0; -1 when out of memory, when the vehicles span more than 400 days, or
 * when no rate can be learned (no vehicle, no open lane-time): queries
 * then return NAN. */
int oracle_finish(oracle_t *self);

/* Per-lane service rate learned in oracle_finish, units/s; 0 unknown. */
double oracle_rate(const oracle_t *self);

/* Current-state oracle wait (s) for a unit joining at t_ms: max(N + 1, L)
 * / (L × mu). NAN when unknown: no lanes open at t_ms, t_ms outside
 * [first arrival, last arrival], or no rate. */
double oracle_now(const oracle_t *self, int64_t t_ms);

/* Future-lanes oracle wait (s) for a unit joining at t_ms: the real lanes
 * after t_ms integrated (a closed stretch gives nothing, the last lanes
 * set last forever). NAN as oracle_now, and when not served within
 * ORACLE_HORIZON_MS. O(log n + log lane changes). */
double oracle_future(const oracle_t *self, int64_t t_ms);

#endif
