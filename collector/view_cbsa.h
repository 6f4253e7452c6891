/* view_cbsa — the Canada Border Services Agency's wait-time formats, for
 * traffic entering Canada (northbound on the Canadian border), rendered from
 * the collector's state (format: shared/data/cbsa/README.md, docs/feed.md):
 *
 *   /bwt-taf/bwt-eng.csv   UTF-8 with BOM, fields and lines ending in ";;"
 *   /bwt-taf/bwt-eng.json  UTF-8 with BOM, {"waitTimes":[...]} and a
 *                          trailing "//" comment line
 *
 * Owns the CBSA wording of waits ("No Delay", "7 minutes", "1 hour",
 * "Not Applicable", "--") and the office/location naming. Pure functions. */
#ifndef POE_VIEW_CBSA_H
#define POE_VIEW_CBSA_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Returns a malloc'ed body (NUL-terminated, BOM included), NULL when out of
 * memory. Only Canadian-border crossings are listed. */
char *view_cbsa_csv(state_t *st, int64_t now_ms, int64_t stale_after_ms);
char *view_cbsa_json(state_t *st, int64_t now_ms, int64_t stale_after_ms);

/* CBSA's text for a wait of min minutes: "No Delay" (0), "1 minute",
 * "N minutes", "1 hour", "N hours" (whole hours), else minutes. */
void view_cbsa_wait_text(int64_t min, char *buf, size_t len);

#endif
