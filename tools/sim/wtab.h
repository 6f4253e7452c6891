/* wtab — a weekly table: one value per hour of the week for each queue.
 *
 * Owns the CSV format shared by demand profiles (vehicles per hour) and
 * lane schedules (lanes open):
 *
 *   # comment
 *   hour_of_week,passenger-standard,passenger-ready
 *   0,300,120
 *   7,900,260
 *
 * Hour 0 is Monday 00:00 of the simulated week (UTC). Rows come in
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

/* Set every hour of a queue from a 24-value daily table. */
void wtab_set_daily(wtab_t *self, int queue, const double day[24]);

/* Whether the table gives values for queue (tax_queue_index). */
bool wtab_has(const wtab_t *self, int queue);

/* Value for queue at hour of the week h (0..167, wraps). */
double wtab_get(const wtab_t *self, int queue, int h);

#endif
