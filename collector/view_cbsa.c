/* view_cbsa — see view_cbsa.h. Travellers = passenger standard lanes,
 * Commercial = commercial standard lanes, of the northbound (into Canada)
 * direction. A queue without a shown wait is "--" (never "No Delay"); a
 * mode the crossing does not serve is "Not Applicable"; a queue closed
 * (by lanes or by hours) is "Closed". The "U.S. bound" columns are "--" as
 * CBSA prints them: the US side is published in the CBP formats. */
#include "view_cbsa.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "view.h"
#include "zone.h"

#define CBSA_BOM "\xEF\xBB\xBF"
#define CBSA_SEP ";; "
#define CBSA_HEADER "Customs Office;; Location;; Last updated;; Commercial Flow - Canada bound;; " \
                    "Commercial Flow - U.S. bound;; Travellers Flow - Canada bound;; "           \
                    "Travellers Flow - U.S. bound;;"
#define CBSA_JSON_TRAILER "// poenet: CBSA-compatible feed, traffic entering Canada\n"

typedef struct {
    char office[96], location[200], updated[64];
    char comm[32], trav[32];
} s_row_t;

void view_cbsa_wait_text(int64_t min, char *buf, size_t len)
{
    if (min <= 0)
        snprintf(buf, len, "No Delay");
    else if (min % 60 == 0)
        snprintf(buf, len, "%lld hour%s", (long long)(min / 60), min == 60 ? "" : "s");
    else
        snprintf(buf, len, "%lld minute%s", (long long)min, min == 1 ? "" : "s");
}

/* The office is the name in parentheses of other_name when there is one
 * ("Surrey, BC (Pacific Highway)" → "Pacific Highway"), else the place. */
static void s_office(const reg_crossing_t *r, char *office, size_t olen, char *place, size_t plen)
{
    const char *src = r->other_name[0] ? r->other_name : r->name;
    const char *lp = strchr(src, '(');
    const char *rp = lp ? strchr(lp, ')') : NULL;
    size_t pl = lp ? (size_t)(lp - src) : strlen(src);
    while (pl > 0 && src[pl - 1] == ' ')
        pl--;
    snprintf(place, plen, "%.*s", (int)pl, src);
    if (lp && rp)
        snprintf(office, olen, "%.*s", (int)(rp - lp - 1), lp + 1);
    else
        snprintf(office, olen, "%s", place);
}

static void s_flow(const xstate_t *x, enum tax_mode m, int64_t now_ms, int64_t stale_ms,
                   char *buf, size_t len, int64_t *newest)
{
    if (x->reg->max_lanes[m] == 0) {
        snprintf(buf, len, "Not Applicable");
        return;
    }
    view_queue_t v;
    view_queue(x, TAX_NORTHBOUND, m, TAX_STANDARD, now_ms, stale_ms, &v);
    if (v.seen && v.fresh && v.updated_s > *newest)
        *newest = v.updated_s;
    if (strcmp(v.status, "closed") == 0)
        snprintf(buf, len, "Closed");
    else if (v.has_wait)
        view_cbsa_wait_text(v.wait_min, buf, len);
    else
        snprintf(buf, len, "--");
}

static void s_row(const xstate_t *x, int64_t now_ms, int64_t stale_ms, s_row_t *row)
{
    const reg_crossing_t *r = x->reg;
    char place[96];
    s_office(r, row->office, sizeof row->office, place, sizeof place);
    snprintf(row->location, sizeof row->location, "%s/%s", place, r->port_name[0] ? r->port_name : r->name);
    int64_t newest = 0;
    s_flow(x, TAX_COMMERCIAL, now_ms, stale_ms, row->comm, sizeof row->comm, &newest);
    s_flow(x, TAX_PASSENGER, now_ms, stale_ms, row->trav, sizeof row->trav, &newest);
    struct tm lt;
    char abbr[16];
    snprintf(row->updated, sizeof row->updated, "--");
    if (newest && zone_local(r->other_tz, newest, &lt, abbr, sizeof abbr) == 0)
        snprintf(row->updated, sizeof row->updated, "%04d-%02d-%02d %02d:%02d %s", lt.tm_year + 1900,
                 lt.tm_mon + 1, lt.tm_mday, lt.tm_hour, lt.tm_min, abbr);
}

/* ";;" separates fields, so it must not occur inside one. */
static void s_clean(char *s)
{
    for (char *p = s; (p = strstr(p, ";;")); )
        p[1] = ',';
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
}

char *view_cbsa_csv(state_t *st, int64_t now_ms, int64_t stale_after_ms)
{
    size_t cap = 512 + state_count(st) * 512, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len += (size_t)snprintf(out, cap, CBSA_BOM CBSA_HEADER "\r\n");
    for (size_t i = 0; i < state_count(st); i++) {
        const xstate_t *x = state_at(st, i);
        if (x->reg->border != TAX_BORDER_CA)
            continue;
        s_row_t r;
        s_row(x, now_ms, stale_after_ms, &r);
        s_clean(r.office);
        s_clean(r.location);
        int n = snprintf(out + len, cap - len, "%s" CBSA_SEP "%s" CBSA_SEP "%s" CBSA_SEP "%s" CBSA_SEP
                         "--" CBSA_SEP "%s" CBSA_SEP "--;;\r\n",
                         r.office, r.location, r.updated, r.comm, r.trav);
        if (n < 0 || (size_t)n >= cap - len) {   /* cannot happen: rows are < 512 bytes */
            free(out);
            return NULL;
        }
        len += (size_t)n;
    }
    return out;
}

char *view_cbsa_json(state_t *st, int64_t now_ms, int64_t stale_after_ms)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < state_count(st); i++) {
        const xstate_t *x = state_at(st, i);
        if (x->reg->border != TAX_BORDER_CA)
            continue;
        s_row_t r;
        s_row(x, now_ms, stale_after_ms, &r);
        char name[300];
        snprintf(name, sizeof name, "%s: %s", r.office, r.location);
        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "poe-name", name,
                                                 "poe-comm-delay", r.comm, "poe-trav-delay", r.trav,
                                                 "poe-updated", r.updated))) {
            json_decref(arr);
            return NULL;
        }
    }
    json_t *root = arr ? json_pack("{s:o}", "waitTimes", arr) : NULL;
    char *body = feed_json_take(root);
    if (!body)
        return NULL;
    size_t n = strlen(body);
    char *out = malloc(3 + n + 1 + sizeof CBSA_JSON_TRAILER);
    if (out)
        sprintf(out, CBSA_BOM "%s\n" CBSA_JSON_TRAILER, body);
    free(body);
    return out;
}
