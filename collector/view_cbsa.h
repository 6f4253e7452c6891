/* view_cbsa — the Canada Border Services Agency's wait-time formats, for
 * traffic entering Canada (northbound on the Canadian border), rendered from
 * the collector's state (format: shared/data/cbsa/README.md, docs/feed.md):
 *
 *   /bwt-taf/bwt-eng.csv   UTF-8 with BOM, fields and lines ending in ";;"
 *   /bwt-taf/bwt-eng.json  UTF-8 with BOM, {"waitTimes":[...]} and a
 *                          trailing "//" comment line
 *   /bwt-taf/bwt-fra.csv, /bwt-taf/bwt-fra.json: the same in French, as
 *                          CBSA publishes them: French header, French
 *                          values ("Aucun retard", "1 heure", "Sans objet",
 *                          "Fermé") and French zone abbreviations ("HAE")
 *
 * Owns the CBSA wording of waits ("No Delay", "7 minutes", "1 hour",
 * "Not Applicable", "--") and the office/location naming. Pure functions. */
#ifndef POE_VIEW_CBSA_H
#define POE_VIEW_CBSA_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

enum view_cbsa_lang { VIEW_CBSA_EN, VIEW_CBSA_FR };

/* Returns a malloc'ed body (NUL-terminated, BOM included), NULL when out of
 * memory. Only Canadian-border crossings are listed. */
char *view_cbsa_csv(state_t *st, int64_t now_ms, int64_t stale_after_ms);
char *view_cbsa_json(state_t *st, int64_t now_ms, int64_t stale_after_ms);
char *view_cbsa_csv_lang(state_t *st, int64_t now_ms, int64_t stale_after_ms, enum view_cbsa_lang lang);
char *view_cbsa_json_lang(state_t *st, int64_t now_ms, int64_t stale_after_ms, enum view_cbsa_lang lang);

/* CBSA's text for a wait of min minutes: "No Delay" (0), "1 minute",
 * "N minutes", "1 hour", "N hours" (whole hours), else minutes. */
void view_cbsa_wait_text(int64_t min, char *buf, size_t len);
/* The same in French: "Aucun retard", "1 minute", "N minutes", "1 heure",
 * "N heures". */
void view_cbsa_wait_text_fr(int64_t min, char *buf, size_t len);

/* CBSA's French abbreviation of an English zone abbreviation ("EDT" →
 * "HAE", "PST" → "HNP"); the English one when there is none. */
const char *view_cbsa_zone_fr(const char *abbr);

#endif
