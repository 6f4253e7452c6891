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
#define CBSA_HEADER_FR "Bureau de douane;; Emplacement;; Derni\xC3\xA8re mise \xC3\xA0 jour;; "            \
                       "Flux commercial - Vers le Canada;; Flux commercial - Vers les \xC3\x89tats-Unis;; " \
                       "Flux des voyageurs - Vers le Canada;; "                                           \
                       "Flux des voyageurs - Vers les \xC3\x89tats-Unis;;"
#define CBSA_JSON_TRAILER_FR "// poenet : flux compatible ASFC, circulation entrant au Canada\n"

/* The words of one language. */
typedef struct {
    const char *header, *trailer, *na, *closed;
    void (*wait)(int64_t, char *, size_t);
} s_words_t;

static const s_words_t s_words[] = {
    [VIEW_CBSA_EN] = { CBSA_HEADER, CBSA_JSON_TRAILER, "Not Applicable", "Closed", view_cbsa_wait_text },
    [VIEW_CBSA_FR] = { CBSA_HEADER_FR, CBSA_JSON_TRAILER_FR, "Sans objet", "Ferm\xC3\xA9",
                       view_cbsa_wait_text_fr },
};

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

void view_cbsa_wait_text_fr(int64_t min, char *buf, size_t len)
{
    if (min <= 0)
        snprintf(buf, len, "Aucun retard");
    else if (min % 60 == 0)
        snprintf(buf, len, "%lld heure%s", (long long)(min / 60), min == 60 ? "" : "s");
    else
        snprintf(buf, len, "%lld minute%s", (long long)min, min == 1 ? "" : "s");
}

/* heure avancée / normale du Pacifique, des Rocheuses, du Centre, de
 * l'Est, de l'Atlantique, de Terre-Neuve */
const char *view_cbsa_zone_fr(const char *abbr)
{
    static const char *const map[][2] = {
        { "PDT", "HAP" }, { "PST", "HNP" }, { "MDT", "HAR" }, { "MST", "HNR" },
        { "CDT", "HAC" }, { "CST", "HNC" }, { "EDT", "HAE" }, { "EST", "HNE" },
        { "ADT", "HAA" }, { "AST", "HNA" }, { "NDT", "HAT" }, { "NST", "HNT" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(abbr, map[i][0]) == 0)
            return map[i][1];
    return abbr;
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
                   const s_words_t *w, char *buf, size_t len, int64_t *newest)
{
    if (x->reg->max_lanes[m] == 0) {
        snprintf(buf, len, "%s", w->na);
        return;
    }
    view_queue_t v;
    view_queue(x, TAX_NORTHBOUND, m, TAX_STANDARD, now_ms, stale_ms, &v);
    if (v.seen && v.fresh && v.updated_s > *newest)
        *newest = v.updated_s;
    if (strcmp(v.status, "closed") == 0)
        snprintf(buf, len, "%s", w->closed);
    else if (v.has_wait)
        w->wait(v.wait_min, buf, len);
    else
        snprintf(buf, len, "--");
}

static void s_row(const xstate_t *x, int64_t now_ms, int64_t stale_ms, enum view_cbsa_lang lang,
                  s_row_t *row)
{
    const reg_crossing_t *r = x->reg;
    char place[96];
    s_office(r, row->office, sizeof row->office, place, sizeof place);
    snprintf(row->location, sizeof row->location, "%s/%s", place, r->port_name[0] ? r->port_name : r->name);
    int64_t newest = 0;
    const s_words_t *w = &s_words[lang];
    s_flow(x, TAX_COMMERCIAL, now_ms, stale_ms, w, row->comm, sizeof row->comm, &newest);
    s_flow(x, TAX_PASSENGER, now_ms, stale_ms, w, row->trav, sizeof row->trav, &newest);
    struct tm lt;
    char abbr[16];
    snprintf(row->updated, sizeof row->updated, "--");
    if (newest && zone_local(r->other_tz, newest, &lt, abbr, sizeof abbr) == 0)
        snprintf(row->updated, sizeof row->updated, "%04d-%02d-%02d %02d:%02d %s", lt.tm_year + 1900,
                 lt.tm_mon + 1, lt.tm_mday, lt.tm_hour, lt.tm_min,
                 lang == VIEW_CBSA_FR ? view_cbsa_zone_fr(abbr) : abbr);
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
    return view_cbsa_csv_lang(st, now_ms, stale_after_ms, VIEW_CBSA_EN);
}

char *view_cbsa_json(state_t *st, int64_t now_ms, int64_t stale_after_ms)
{
    return view_cbsa_json_lang(st, now_ms, stale_after_ms, VIEW_CBSA_EN);
}

char *view_cbsa_csv_lang(state_t *st, int64_t now_ms, int64_t stale_after_ms, enum view_cbsa_lang lang)
{
    size_t cap = 512 + state_count(st) * 512, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len += (size_t)snprintf(out, cap, CBSA_BOM "%s\r\n", s_words[lang].header);
    for (size_t i = 0; i < state_count(st); i++) {
        const xstate_t *x = state_at(st, i);
        if (x->reg->border != TAX_BORDER_CA)
            continue;
        s_row_t r;
        s_row(x, now_ms, stale_after_ms, lang, &r);
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

char *view_cbsa_json_lang(state_t *st, int64_t now_ms, int64_t stale_after_ms, enum view_cbsa_lang lang)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < state_count(st); i++) {
        const xstate_t *x = state_at(st, i);
        if (x->reg->border != TAX_BORDER_CA)
            continue;
        s_row_t r;
        s_row(x, now_ms, stale_after_ms, lang, &r);
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
    const char *trailer = s_words[lang].trailer;
    char *out = malloc(3 + n + 1 + strlen(trailer) + 1);
    if (out)
        sprintf(out, CBSA_BOM "%s\n%s", body, trailer);
    free(body);
    return out;
}
