/* model — the discrete-event queue model of one crossing direction.
 *
 * Owns what really happens: Poisson arrivals per queue (demand.c), FIFO
 * queues served by booths, lanes opened by an hourly schedule or by a
 * staffing rule that reacts to the queue after a delay, incidents that
 * close lanes and add demand, and every vehicle's arrival and departure
 * (the ground truth). It reports what happens to a sink in time order;
 * sensors.c decides what the sensors make of it. */
#ifndef POE_SIM_MODEL_H
#define POE_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "demand.h"
#include "hours.h"
#include "scenario.h"
#include "wtab.h"

typedef struct {
    int64_t arrive_ms, depart_ms;   /* depart: left the booth */
    int qi;                         /* index into scen_t.q */
    int lane;                       /* model_lane_id() */
} model_vehicle_t;

/* What happens, in time order. */
typedef struct {
    void (*lane)(void *arg, int64_t t_ms, const char *lane_id, int qi, bool open);
    void (*arrive)(void *arg, int64_t t_ms, uint32_t vehicle, int qi);
    void (*depart)(void *arg, int64_t t_ms, uint32_t vehicle, int qi, const char *lane_id);
    /* every scen_sensors_t.qdet_every_s: units waiting (not yet at a booth) */
    void (*waiting)(void *arg, int64_t t_ms, int qi, int waiting);
    void *arg;
} model_sink_t;

typedef struct model model_t;

/* t0_ms: the epoch ms of Monday 00:00 of the simulated week. schedule
 * (may be NULL): lanes open per hour of the week for the queues it names,
 * replacing the scenario's daily schedule or staffing rule. */
model_t *model_new(const scen_t *sc, const demand_t *demand, const wtab_t *schedule,
                   uint64_t seed, int64_t t0_ms);
void model_destroy(model_t **self_p);

/* Hours of operation of the side this direction enters (registry rules,
 * every mode; NULL: always open), evaluated each minute in zone tz. While
 * closed no lane is open and no unit is served (a booth finishes the unit
 * it holds). Arrivals while closed either join the queue and wait for the
 * opening (turn_away false) or are turned away before the sensors (true:
 * they are never arrivals, in the sensor lines or the truth; counted in
 * model_turned_away). Call before model_run; h and tz must outlive it. */
void model_set_hours(model_t *self, const hours_side_t *h, const char *tz, bool turn_away);
size_t model_turned_away(const model_t *self);

/* Run the whole scenario: arrivals for sc->hours, then serve until every
 * vehicle has left. 0, or -1 when out of memory. */
int model_run(model_t *self, const model_sink_t *sink);

size_t model_vehicles(const model_t *self);
const model_vehicle_t *model_vehicle(const model_t *self, size_t i);
const char *model_lane_id(const model_t *self, int lane);

#endif
