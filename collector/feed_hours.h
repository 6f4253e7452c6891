/* feed_hours — the JSON bodies of GET /v1/hours and GET /v1/hours/mismatches
 * (docs/feed.md): both sides' hours per crossing and mode in structured
 * form, and where the two sides disagree during a week. Pure functions of
 * the registry and a time. */
#ifndef POE_FEED_HOURS_H
#define POE_FEED_HOURS_H

#include <stdint.h>

#include "registry.h"

/* Every crossing's hours. Returns a malloc'ed JSON string, NULL when out
 * of memory. */
char *feed_hours_json(const registry_t *reg);

/* For the week starting on the Monday 00:00 (US side's local time) at or
 * before now_s: every crossing and mode where both sides' hours are known
 * and differ, with the windows and minutes per week; plus how many
 * crossing-modes could not be compared because a side is unknown. Returns
 * a malloc'ed JSON string, NULL when out of memory. */
char *feed_mismatches_json(const registry_t *reg, int64_t now_s);

#endif
