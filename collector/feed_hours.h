/* feed_hours — the JSON bodies of GET /v1/hours, /v1/hours/{id} and
 * /v1/hours/mismatches (docs/feed.md): both sides' hours per crossing and
 * mode, posted (the registry) and observed (learned from the lanes,
 * observed.h) with the deviations between them, and where the two sides
 * disagree during a week. Functions of the registry, the learned results
 * (copied under their lock; never the archive) and a time. */
#ifndef POE_FEED_HOURS_H
#define POE_FEED_HOURS_H

#include <stdint.h>

#include "observed.h"
#include "registry.h"

/* Every crossing's hours ({"crossings": [...]}), or crossing id's alone
 * (the one object; NULL when id is unknown). obs may be NULL (no observed
 * hours). Returns a malloc'ed JSON string, NULL when out of memory. */
char *feed_hours_json(const registry_t *reg, const observed_t *obs, int64_t now_s, const char *id);

/* For the week starting on the Monday 00:00 (US side's local time) at or
 * before now_s: every crossing and mode where both sides' hours are known
 * and differ, with the windows and minutes per week; plus how many
 * crossing-modes could not be compared because a side is unknown. A side's
 * hours are the posted ones where the registry knows them, else the
 * observed ones (obs, may be NULL); "source" says which. Returns a
 * malloc'ed JSON string, NULL when out of memory. */
char *feed_mismatches_json(const registry_t *reg, const observed_t *obs, int64_t now_s);

#endif
