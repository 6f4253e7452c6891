/* scenario — what poe-sim simulates: the built-in scenarios and their
 * configuration (queues, booths, service, demand, staffing, sensors and
 * their faults, incidents).
 *
 * A scenario is plain data; model.c runs the queues, sensors.c turns what
 * happened into sensor lines. Options of poe-sim (--demand, --schedule,
 * --hours, fault overrides) edit a copy of a built-in scenario. */
#ifndef POE_SIM_SCENARIO_H
#define POE_SIM_SCENARIO_H

#include <stdbool.h>

#include "taxonomy.h"

#define SCEN_MAX_QUEUES 6
#define SCEN_STAFFING (-1)   /* in a lane schedule: the staffing rule decides */

/* How lanes of a queue are opened when no schedule is given per hour. */
typedef struct {
    int min_lanes, max_lanes;
    double open_above_s;     /* open one more lane when the wait exceeds this */
    double close_below_s;    /* close one when it falls below this */
    double delay_s;          /* a decision takes effect this much later */
} scen_staffing_t;

typedef struct {
    enum tax_mode mode;
    enum tax_type type;
    int booths;              /* lanes that exist for this queue */
    double service_s;        /* mean service time per unit at one booth */
    double service_cv;       /* its coefficient of variation */
    double peak_vph;         /* demand at the profile's peak hour */
    const char *profile;     /* built-in daily demand shape (demand.c) */
    int schedule[24];        /* lanes open by hour of day, or SCEN_STAFFING */
    scen_staffing_t staffing;
} scen_queue_t;

typedef struct {
    double entry_miss, entry_double;     /* per vehicle at the queue-entry detector */
    double booth_miss, booth_double;     /* per vehicle at the booth counter */
    bool queue_detector;                 /* a queue-length detector reports */
    double qdet_every_s, qdet_noise;     /* its period and relative noise (sd) */
    double tag_share;                    /* vehicles carrying a readable tag */
    double read_entry, read_booth;       /* read rate at each reader */
    double booth_skew_s;                 /* booth reader clock ahead by this */
    double entry_outage_h[2];            /* entry detector down [from, to) hours */
    double reader_outage_h[2];           /* booth tag reader down [from, to) hours */
} scen_sensors_t;

typedef struct {
    double at_h, for_h;                  /* hours after the start, duration */
    int queue;                           /* index in scen_t.q */
    int lanes_closed;                    /* lanes forced closed */
    double demand_factor;                /* demand multiplier meanwhile */
} scen_incident_t;

/* Weeks of traffic (multi-week scenarios, the forecast's harness): the
 * demand of each weekday scaled by weekday[] (all 0: every day alike),
 * each day by 1 + day_noise × N(0,1), and one holiday: day holiday_day
 * (1 = the first day of the simulated week; 0: none) follows the
 * holiday_profile shape scaled by holiday_factor. */
typedef struct {
    double weekday[7];                   /* Monday first */
    double day_noise;
    int holiday_day;
    const char *holiday_profile;
    double holiday_factor;
} scen_weeks_t;

typedef struct {
    const char *name, *about;
    const char *crossing, *direction;
    double start_h;                      /* hours after Monday 00:00 UTC */
    double hours;                        /* arrivals stop after this */
    double demand_noise;                 /* sd of the hourly demand factor */
    int nq;
    scen_queue_t q[SCEN_MAX_QUEUES];
    scen_sensors_t s;
    scen_incident_t incident;
    scen_weeks_t weeks;
} scen_t;

/* Copy the built-in scenario called name into *out; -1 if unknown. */
int scen_find(const char *name, scen_t *out);

/* Number of built-in scenarios and the i-th one (for `poe-sim list`). */
int scen_count(void);
const scen_t *scen_at(int i);

#endif
