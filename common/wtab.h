/* wtab — a weekly table: one value per hour of the week for each queue.
 *
 * Owns the CSV format shared by the simulator's demand profiles (vehicles
 * per hour) and lane schedules, and the collector's lane plans (lanes a
 * port plans to open; collector/plan.c):
 *
 *   # timezone: UTC
 *   # comment
 *   hour_of_week,passenger-standard,passenger-ready
 *   0,300,120
 *   7,900,260
 *
 * Hour 0 is Monday 00:00 — in the simulator, of the simulated week (UTC);
 * in a lane plan, local time of the port unless a "# timezone: ZONE"
 * comment names the clock (wtab_timezone). Rows come in
 * increasing hour order; a value holds until the next row (and wraps around
 * the week). A table whose hours all fall in 0..23 is a daily table,
 * repeated every day. Empty cells mean "not given" for that queue. Errors
 * name the file and line. */
#ifndef POE_SIM_WTAB_H
#define POE_SIM_WTAB_H

#include <stdbool.h>

#include "taxonomy.h"

#define WTAB_HOURS 168

typedef struct wtab wtab_t;

wtab_t *wtab_new(void);
void wtab_destroy(wtab_t **self_p);

/* Load a CSV file as above; -1 with a logged "file:line: reason" error. */
int wtab_load(wtab_t *self, const char *path);

/* The ZONE of a "# timezone: ZONE" comment in the loaded file, or NULL. */
const char *wtab_timezone(const wtab_t *self);

/* Write the table (queues that have values; a row wherever a value
 * changes) to path, with a "# timezone: tz" line when tz is not NULL.
 * Returns 0, or -1 with a logged error. */
int wtab_save(const wtab_t *self, const char *path, const char *tz);

/* Set every hour of a queue from a 24-value daily table. */
void wtab_set_daily(wtab_t *self, int queue, const double day[24]);

/* Set one hour of the week of a queue (marks the queue as given). */
void wtab_set(wtab_t *self, int queue, int h, double v);

/* Forget a queue's values. */
void wtab_clear(wtab_t *self, int queue);

/* Whether the table gives values for queue (tax_queue_index). */
bool wtab_has(const wtab_t *self, int queue);

/* Value for queue at hour of the week h (0..167, wraps). */
double wtab_get(const wtab_t *self, int queue, int h);

#endif
