/* view_cbp — the US CBP Border Wait Times formats, for traffic entering the
 * US, rendered from the collector's state so apps written against CBP's
 * service work by changing only the host (docs/feed.md, "CBP-compatible"):
 *
 *   /xml/bwt.xml                    XML, ISO-8859-1, one line
 *   /api/bwtnew, /api/waittimes     JSON array, one object per port
 *   /api/bwtpublicmod/{port}        JSON, one port
 *
 * Owns CBP's element and field names and order, its quirks (strings for
 * numbers, "N/A" and "" where CBP puts them, the element order that changes
 * with the status, the misspelt pedestrain_automation_type), and the
 * mapping of poenet statuses to operational_status. Pure functions: no I/O. */
#ifndef POE_VIEW_CBP_H
#define POE_VIEW_CBP_H

#include <stddef.h>
#include <stdint.h>

#include "hours.h"
#include "state.h"

/* The whole XML feed at wall time now_ms; *len gets its length (the body
 * is ISO-8859-1, so it may hold bytes >= 0x80 but no NUL). Returns a
 * malloc'ed body, NULL when out of memory. */
char *view_cbp_xml(state_t *st, int64_t now_ms, int64_t stale_after_ms, size_t *len);

/* The JSON feed: an array of every port (only_id NULL), or the one object
 * of port only_id (NULL when it is unknown). Returns a malloc'ed UTF-8
 * body, NULL when out of memory or only_id is unknown. */
char *view_cbp_json(state_t *st, int64_t now_ms, int64_t stale_after_ms, const char *only_id);

/* Port x as it is in /api/bwtnew's array and alone in /api/bwtpublicmod
 * at now_ms (malloc'ed compact JSON, NULL when memory ran out), but for
 * its "time", which changes every second: that value is frag.h's
 * FRAG_HOLE, and view_cbp_port_time gives it (a JSON string). The array
 * is byte for byte "[" these fragments, filled, joined by "," "]". In
 * *valid_until_ms the wall time until which the rest stays the same
 * while x->changes and the notices do not change: a minute of the port's
 * US clock at the latest (its date and status), sooner at a notice window
 * or a queue turning stale. */
char *view_cbp_port_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                             int64_t stale_after_ms, int64_t *valid_until_ms);
char *view_cbp_port_time(const xstate_t *x, int64_t now_ms);

/* The same for the XML: the document is byte for byte
 * view_cbp_xml_head, the fragments (<port>...</port>, no clock) of every
 * crossing in state order, and VIEW_CBP_XML_TAIL; a fragment stays the
 * same as long as the JSON one. The head is malloc'ed, NULL when out of
 * memory. */
#define VIEW_CBP_XML_TAIL "</border_wait_time>"
char *view_cbp_xml_head(const state_t *st, int64_t now_ms);
char *view_cbp_xml_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                            int64_t stale_after_ms, int64_t *valid_until_ms);

/* CBP's free-text hours ("24 hrs/day", "6 am-10 pm", "6 am-Midnight") for a
 * side's structured hours; "" when unknown. Rules CBP's style cannot say
 * (several, or seasonal) are written in the registry's rule language,
 * joined by "; ". Returns buf. */
char *view_cbp_hours_text(const hours_side_t *h, char *buf, size_t len);

/* "At 6:00 pm PDT" (CBP's update_time) for Unix second t in zone: "Noon"
 * and "Midnight" at 12:00, the zone's own abbreviation (Arizona: MST all
 * year). Returns 0, or -1 (buf "") when the zone is unusable. */
int view_cbp_clock(const char *zone, int64_t t, char *buf, size_t len);

#endif
