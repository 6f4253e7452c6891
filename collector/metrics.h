/* metrics — the collector's counters as a Prometheus text exposition
 * (format 0.0.4), for GET /metrics.
 *
 * Owns the metric names, their HELP texts and label sets, and the
 * exposition rules (HELP/TYPE before a family's samples, a family's samples
 * together, label values escaped). Pure: it reads stats and sessions and
 * returns text, so it is unit-tested without a server; http.c only sends
 * the result with METRICS_CONTENT_TYPE. */
#ifndef POE_METRICS_H
#define POE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "observed.h"
#include "session.h"
#include "stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Render every metric at wall-clock now_ms (for uptimes and ages, and as
 * poenet_published_timestamp_seconds: when the values were read). sess may
 * be NULL (no agent metrics), hours too (no observed-hours metrics).
 * Returns a malloc'ed NUL-terminated text the caller frees, or NULL when
 * out of memory. */
char *metrics_render(const stats_t *st, const sess_table_t *sess, const observed_counters_t *hours,
                     bool archive_connected, int64_t now_ms);

#endif
