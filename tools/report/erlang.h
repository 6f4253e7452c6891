/* erlang — the M/M/c (Erlang-C) queue: how long units wait when they arrive
 * at random (Poisson, rate lambda per second) at c identical lanes that each
 * serve exponentially distributed units at rate mu per second.
 *
 * Pure functions, no state. The report uses them on the rates it observed
 * in the archive to say how many lanes each hour of the week needs. The
 * wait here includes the unit's own service (1/mu), like the wait poenet
 * publishes (docs/accuracy.md). */
#ifndef POE_REPORT_ERLANG_H
#define POE_REPORT_ERLANG_H

/* Probability that an arriving unit must queue (Erlang C) with offered
 * load a = lambda/mu (erlangs) at c lanes. 1.0 when a >= c (unstable: the
 * queue grows without bound); 0 when a <= 0. c >= 1. */
double erl_c(int c, double a);

/* Mean wait in seconds, queueing plus own service, at c lanes: C/(c*mu -
 * lambda) + 1/mu. INFINITY when lambda >= c*mu. Requires mu > 0, c >= 1,
 * lambda >= 0. */
double erl_wait_s(double lambda, double mu, int c);

/* The fewest lanes (1..max_c) whose mean wait (erl_wait_s) is at most
 * target_s. 0 when lambda is 0 (nothing to serve). -1 when even max_c lanes
 * cannot do it (including when the service alone, 1/mu, exceeds the
 * target). Requires mu > 0. */
int erl_lanes_needed(double lambda, double mu, double target_s, int max_c);

#endif
