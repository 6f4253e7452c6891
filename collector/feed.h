/* feed — the JSON bodies of the native /v1 API and /health (docs/feed.md).
 *
 * Owns the wire shape of what the HTTP server returns: pure functions from
 * collector state, archive series and counters to malloc'ed compact JSON
 * strings (jansson), so the schema is tested without sockets. Owns the rule
 * that a queue without fresh data never shows a wait: a stale or missing
 * direction must not read as "no delay". */
#ifndef POE_FEED_H
#define POE_FEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "archive.h"
#include "observed.h"
#include "state.h"
#include "session.h"
#include "stats.h"

/* The compact text of a JSON body as every feed writes it (reals with 15
 * significant digits), consuming root: a malloc'ed string, or NULL when
 * root is NULL (a body that could not be built) or memory ran out. */
char *feed_json_take(json_t *root);

/* Column names of a history row, in order: "time" then the ARCH_NCOLS
 * archive columns. */
#define FEED_HISTORY_NCOLS (1 + ARCH_NCOLS)

/* The live view of every crossing (only_id NULL) or of one crossing, at
 * wall time now_ms; a queue whose newest data is older than stale_after_ms
 * (event time) is "stale". Returns a malloc'ed JSON string (free()), or
 * NULL when only_id is not a known crossing or memory ran out. */
char *feed_crossings_json(state_t *st, int64_t now_ms, int64_t stale_after_ms,
                          const char *only_id);

/* The same pieces, for a renderer that keeps crossings already rendered
 * (collector/frag.c): feed_crossings_json(st, now_ms, ..., NULL) is
 * byte for byte the envelope with the fragments of every crossing, in
 * state order, joined by ',' in place of its "[]".
 *
 * The envelope at now_ms: {"generated":...,"crossings":[]} (malloc'ed). */
char *feed_crossings_envelope(int64_t now_ms);

/* Crossing x as it is in the "crossings" array at now_ms (malloc'ed
 * compact JSON, NULL when memory ran out), and in *valid_until_ms the wall
 * time until which it stays byte for byte the same while x->changes and
 * the notices do not change: the next second when it shows an official
 * value's age, else the first queue turning stale, the hours' next minute
 * for a queue they may close, a notice window opening or ending. */
char *feed_crossing_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                             int64_t stale_after_ms, int64_t *valid_until_ms);

/* One queue's archived series as {"step","columns","rows"}; NAN values
 * become null. Returns a malloc'ed JSON string, NULL only when memory ran
 * out. s->values may be NULL when s->nrows is 0. */
char *feed_history_json(const arch_series_t *s);

/* The same with the official series beside it (off, from
 * arch_fetch_official; an empty series when none): three more columns
 * "official_wait_s", "official_lanes_open", "official_age_s", each row's
 * values taken from the official row ending at the same time (null when
 * there is none). */
char *feed_history_official_json(const arch_series_t *s, const arch_series_t *off);

/* The collector's health and counters at wall time now_ms. "status" is
 * "degraded" while the archive is disconnected. hours (may be NULL): the
 * observed hours' counters, as "observed_hours". "as_of" (ISO-8601 UTC with
 * milliseconds) and "as_of_ms" (epoch ms) are now_ms: the time the counters
 * were read. Returns a malloc'ed JSON string, NULL only when memory ran
 * out. */
char *feed_health_json(const stats_t *stats, bool archive_connected,
                       const sess_table_t *sessions, const observed_counters_t *hours, int64_t now_ms);

/* A JSON error body {"error":reason,"status":status}; bytes of reason that
 * are not printable ASCII become '?' and it is cut at 255 bytes. Returns a
 * malloc'ed JSON string, NULL only when memory ran out. */
char *feed_error_json(int status, const char *reason);

/* One queue as the live feed publishes it: {"crossing", "direction",
 * "into", "queue": {the /v1 queue object}}. k is tax_queue_index. */
struct json_t;
struct json_t *feed_queue_update_json(const xstate_t *x, enum tax_dir d, int k, int64_t now_ms,
                                      int64_t stale_after_ms);

#endif
