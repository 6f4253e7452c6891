/* view_forecast — the bodies that look ahead or at the typical day:
 * /v1/forecast (a queue's forecast as columns and rows), the best time to
 * cross of a queue (for /v1/crossings), and CBP's drop-in
 * /api/bwtwaittimegraph/{port} (per hour of the port's day: today's wait,
 * and the average, minimum and maximum of the same weekday over the
 * archived weeks).
 *
 * The *_json functions are pure (state, forecasts, archive series to JSON
 * with jansson), so the shapes are checked without sockets
 * (test_forecast_views); the *_request functions answer a whole request
 * (status and body, an error body in the API's style for anything but
 * 200), the graph's reading the archive, so the HTTP server only sends
 * what they return. */
#ifndef POE_VIEW_FORECAST_H
#define POE_VIEW_FORECAST_H

#include <jansson.h>
#include <stdint.h>

#include "archive.h"
#include "route.h"
#include "state.h"

/* Steps the best time is sought in: the next 12 hours. */
#define VIEW_BEST_STEPS 48

/* Weeks of history the CBP graph's average, minimum and maximum cover. */
#define VIEW_GRAPH_WEEKS 5

/* /v1/forecast for q: {"crossing","direction","mode","lane","issued",
 * "step","basis","columns":["time","p10_s","p50_s","p90_s"],"rows":[...]}
 * (times Unix seconds; "why_short" with a short basis). NULL when the
 * queue has no forecast yet or memory ran out. */
char *view_forecast_json(const xstate_t *x, const route_forecast_t *q);

/* {"time" (ISO 8601 UTC), "time_s", "p50_s", "now_p50_s", "saving_s",
 * "basis"} for the step with the lowest P50 in the next 12 h of r; JSON
 * null without a forecast. */
json_t *view_best_time_json(const fc_result_t *r);

/* One queue's hours of a day in minutes: NAN where unknown. */
typedef struct {
    double today[24], avg[24], min[24], max[24];
} view_graph_t;

/* Fill g from an hourly series of a queue's wait (arch_fetch_queue, step
 * 3600) covering the VIEW_GRAPH_WEEKS weeks before day_start and the day:
 * hour h of the day is (day_start + h·3600, day_start + (h+1)·3600];
 * hours of a 23- or 25-hour day follow the UTC hours from day_start. */
void view_graph_from_series(const arch_series_t *s, int64_t day_start, view_graph_t *g);

/* CBP's /api/bwtwaittimegraph/{port} body for crossing x on local date
 * "YYYY-MM-DD": g[k] per tax_queue_index (NULL: no data for that queue).
 * Values are whole minutes as strings, "" where unknown, as CBP writes. */
char *view_cbp_graph_json(const xstate_t *x, const char *date,
                          const view_graph_t *const g[TAX_NQUEUES]);

/* /v1/forecast?query: 200 and the forecast; 400 for a bad query (route.c's
 * reasons), 404 for an unknown crossing or a queue without a forecast. */
char *view_forecast_request(state_t *st, const char *query, int *status);

/* /api/bwtwaittimegraph/{id} from the archive (hourly rows of the queues
 * into the US, the port's local day at now_s): 200, 404 for an unknown
 * crossing, 503 when the archive is missing or unavailable. */
char *view_cbp_graph_request(state_t *st, archive_t *archive, const char *id, int64_t now_s,
                             int *status);

#endif
