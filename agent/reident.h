/* reident — re-identification of tagged vehicles inside the agent.
 *
 * Matches an `entry` tag read with the later `booth` read of the same tag
 * and yields the travel time. Owns the privacy rule: a tag hash is hashed
 * again with a salt drawn at agent start and never stored, logged or sent;
 * only travel-time statistics leave the agent. Bounded memory: entries
 * older than the horizon, or beyond the table's capacity, are forgotten. */
#ifndef POE_REIDENT_H
#define POE_REIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "taxonomy.h"

typedef struct reident reident_t;

/* capacity: open entry reads kept at once; horizon_ms: the longest travel
 * time worth matching. salt: per-agent random value. */
reident_t *reid_new(uint32_t capacity, int64_t horizon_ms, uint64_t salt);
void reid_destroy(reident_t **self_p);

/* Record an entry read. */
void reid_entry(reident_t *self, const char *hash, enum tax_mode m, enum tax_type t, int64_t t_ms);

/* A booth read: true and the travel time (ms) when it matches an entry read
 * of the same queue within the horizon; the entry is consumed. */
bool reid_booth(reident_t *self, const char *hash, enum tax_mode m, enum tax_type t,
                int64_t t_ms, int64_t *travel_ms);

#endif
