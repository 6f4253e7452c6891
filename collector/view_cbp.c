/* view_cbp — see view_cbp.h. Each port is first reduced to the strings
 * CBP would print (s_port_t), then written as XML or JSON, so the two
 * formats cannot disagree.
 *
 * The XML is written by hand with careful escaping rather than through
 * libxml2: the document is flat and fixed, CBP's quirks (ISO-8859-1 with a
 * single-quoted declaration, element order that depends on the status,
 * <x></x> for empty elements) need byte-level control a writer API fights,
 * and escaping five characters plus transcoding to Latin-1 is a few lines
 * that the structure tests cover. JSON goes through jansson. */
#include "view_cbp.h"

#include "notices.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "textbuf.h"
#include "view.h"
#include "zone.h"

/* CBP's feed clock is Eastern (last_updated_time 21:14:36 next to
 * "At 6:00 pm PDT" rows in the 2022-10-17 sample). */
#define CBP_FEED_TZ "America/New_York"
/* CBP's "no delay" carries up to 5 minutes in its own data (113 of 115
 * "no delay" rows in the 2022-06-29 sample are <= 5, every "delay" row is
 * more). */
#define CBP_NO_DELAY_MAX_MIN 5

typedef struct {
    enum tax_type type;
    const char *elem;    /* XML element / JSON key */
    const char *tol;     /* JSON <pfx>_<tol>_tolerance */
} s_type_desc_t;

typedef struct {
    enum tax_mode mode;
    const char *elem, *pfx, *auto_elem;
    int ntypes;
    s_type_desc_t types[3];
} s_mode_desc_t;

/* CBP's order: commercial, passenger, pedestrian; lane types per mode. */
int view_cbp_clock(const char *zone, int64_t t, char *buf, size_t len)
{
    struct tm lt;
    char abbr[16];
    buf[0] = '\0';
    if (zone_local(zone, t, &lt, abbr, sizeof abbr) != 0)
        return -1;
    if (lt.tm_min == 0 && (lt.tm_hour == 12 || lt.tm_hour == 0)) {
        snprintf(buf, len, "At %s %s", lt.tm_hour == 12 ? "Noon" : "Midnight", abbr);
        return 0;
    }
    int h12 = lt.tm_hour % 12 ? lt.tm_hour % 12 : 12;
    snprintf(buf, len, "At %d:%02d %s %s", h12, lt.tm_min, lt.tm_hour < 12 ? "am" : "pm", abbr);
    return 0;
}

static const s_mode_desc_t s_modes[3] = {
    { TAX_COMMERCIAL, "commercial_vehicle_lanes", "cv", "commercial_automation_type", 2,
      { { TAX_STANDARD, "standard_lanes", "standard" }, { TAX_FAST, "FAST_lanes", "fast" } } },
    { TAX_PASSENGER, "passenger_vehicle_lanes", "pv", "passenger_automation_type", 3,
      { { TAX_STANDARD, "standard_lanes", "standard" },
        { TAX_NEXUS_SENTRI, "NEXUS_SENTRI_lanes", "nexus_sentri" },
        { TAX_READY, "ready_lanes", "ready" } } },
    /* sic: CBP spells it "pedestrain". */
    { TAX_PEDESTRIAN, "pedestrian_lanes", "ped", "pedestrain_automation_type", 2,
      { { TAX_STANDARD, "standard_lanes", "standard" }, { TAX_READY, "ready_lanes", "ready" } } },
};

typedef struct {
    const char *status;      /* operational_status */
    bool has_data;           /* update_time etc. filled; XML puts update_time first */
    char update_time[40];
    char delay[24];
    char lanes[16];
} s_lane_t;

typedef struct {
    char max_lanes[12];
    s_lane_t lanes[3];
} s_mode_t;

typedef struct {
    const reg_crossing_t *r;
    char hours[HOURS_SOURCE_MAX];
    char date[40], time[40];
    const char *port_status;
    const char *automation_type;   /* per mode, from the direction's method */
    const char *automation;        /* "1" automated, "0" manual */
    const char *seg_from, *seg_to;
    s_mode_t modes[3];
    /* the valid notices' texts (English where written), "" for none */
    char notice[NOTICES_PER_CROSSING * (NOTICES_MAX_TEXT + 1)];
} s_port_t;

/* ---- reducing a crossing to CBP's strings ---------------------------------- */

static enum tax_dir s_into_us(const reg_crossing_t *r)
{
    return r->border == TAX_BORDER_CA ? TAX_SOUTHBOUND : TAX_NORTHBOUND;
}

static const char *s_automation_type(const char *method)
{
    if (strcmp(method, "manual") == 0)
        return "Manual";
    if (strcmp(method, "rfid") == 0)
        return "RFID";
    if (strcmp(method, "bluetooth") == 0)
        return "Bluetooth";
    if (strcmp(method, "sensors") == 0)
        return "Sensors";
    return "N/A";
}

static void s_lane(const xstate_t *x, enum tax_mode m, enum tax_type t, int64_t now_ms,
                   int64_t stale_ms, s_lane_t *out)
{
    memset(out, 0, sizeof *out);
    const reg_crossing_t *r = x->reg;
    if (r->max_lanes[m] == 0 || r->type_lanes[m][t] == 0) {
        out->status = "N/A";
        return;
    }
    view_queue_t v;
    view_queue(x, s_into_us(r), m, t, now_ms, stale_ms, &v);
    if (strcmp(v.status, "closed") == 0) {
        out->status = "Lanes Closed";
    } else if (!v.has_wait) {
        /* stale, no data, or open without an estimate: never "no delay" */
        out->status = "Update Pending";
    } else {
        out->status = v.wait_min <= CBP_NO_DELAY_MAX_MIN ? "no delay" : "delay";
        out->has_data = true;
        view_cbp_clock(r->us_tz, v.updated_s, out->update_time, sizeof out->update_time);
        snprintf(out->delay, sizeof out->delay, "%lld", (long long)v.wait_min);
        snprintf(out->lanes, sizeof out->lanes, "%u", v.lanes_open);
    }
}

/* Closed only when the US side's hours say every mode it serves is
 * closed now; unknown hours never close a port. */
static const char *s_port_status(const reg_crossing_t *r, int64_t now_s)
{
    bool any = false;
    for (int m = 1; m <= TAX_NMODES; m++) {
        if (!r->max_lanes[m])
            continue;
        any = true;
        if (reg_hours_at(r, s_into_us(r), (enum tax_mode)m, now_s) != HOURS_CLOSED)
            return "Open";
    }
    return any ? "Closed" : "Open";
}

/* The port's date and clock on its US side at now_ms ("" when the zone
 * is unusable); date and clock hold 40 bytes. */
static void s_port_clock(const reg_crossing_t *r, int64_t now_ms, char *date, char *clock)
{
    struct tm lt;
    date[0] = clock[0] = '\0';
    if (zone_local(r->us_tz, view_ms_to_s(now_ms), &lt, NULL, 0) == 0) {
        snprintf(date, 40, "%d/%d/%d", lt.tm_mon + 1, lt.tm_mday, lt.tm_year + 1900);
        snprintf(clock, 40, "%02d:%02d:%02d", lt.tm_hour, lt.tm_min, lt.tm_sec);
    }
}

static void s_port(const xstate_t *x, int64_t now_ms, int64_t stale_ms, s_port_t *p)
{
    const reg_crossing_t *r = x->reg;
    memset(p, 0, sizeof *p);
    p->r = r;
    view_cbp_hours_text(&r->hours[HOURS_US], p->hours, sizeof p->hours);
    s_port_clock(r, now_ms, p->date, p->time);
    p->port_status = s_port_status(r, view_ms_to_s(now_ms));
    const reg_direction_t *d = &r->dirs[s_into_us(r) - 1];
    p->automation_type = s_automation_type(d->method);
    p->automation = strcmp(d->method, "manual") == 0 || strcmp(d->method, "unknown") == 0 ? "0" : "1";
    p->seg_from = d->segment_from;
    p->seg_to = d->segment_to;
    for (int i = 0; i < 3; i++) {
        const s_mode_desc_t *md = &s_modes[i];
        int ml = r->max_lanes[md->mode];
        if (ml > 0)
            snprintf(p->modes[i].max_lanes, sizeof p->modes[i].max_lanes, "%d", ml);
        else
            snprintf(p->modes[i].max_lanes, sizeof p->modes[i].max_lanes, "N/A");
        for (int k = 0; k < md->ntypes; k++)
            s_lane(x, md->mode, md->types[k].type, now_ms, stale_ms, &p->modes[i].lanes[k]);
    }
}

static const char *s_border_text(const reg_crossing_t *r)
{
    return r->border == TAX_BORDER_CA ? "Canadian Border" : "Mexican Border";
}

/* ---- hours text ------------------------------------------------------------ */

static void s_clock_text(int min, char *buf, size_t len)
{
    int h = (min / 60) % 24, m = min % 60;
    if (m == 0 && h == 0) {
        snprintf(buf, len, "Midnight");
    } else if (m == 0 && h == 12) {
        snprintf(buf, len, "Noon");
    } else {
        int h12 = h % 12 ? h % 12 : 12;
        if (m)
            snprintf(buf, len, "%d:%02d %s", h12, m, h < 12 ? "am" : "pm");
        else
            snprintf(buf, len, "%d %s", h12, h < 12 ? "am" : "pm");
    }
}

char *view_cbp_hours_text(const hours_side_t *h, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!h->known)
        return buf;
    const hours_mode_t *hm = NULL;
    static const enum tax_mode pref[] = { TAX_PASSENGER, TAX_PEDESTRIAN, TAX_COMMERCIAL };
    for (int i = 0; i < 3 && !hm; i++)
        if (h->mode[pref[i]].nrules)
            hm = &h->mode[pref[i]];
    if (!hm)
        return buf;
    const hours_rule_t *r = &hm->rules[0];
    if (hm->always) {
        snprintf(buf, len, "24 hrs/day");
    } else if (hm->nrules == 1 && r->days == 0x7f && !r->season_from) {
        char a[16], b[16];
        s_clock_text(r->from_min, a, sizeof a);
        s_clock_text(r->to_min, b, sizeof b);
        snprintf(buf, len, "%s-%s", a, b);
    } else {
        size_t o = 0;
        for (int i = 0; i < hm->nrules && o + 1 < len; i++) {
            char t[64];
            int w = snprintf(buf + o, len - o, "%s%s", i ? "; " : "",
                             hours_rule_text(&hm->rules[i], t, sizeof t));
            if (w < 0)
                break;
            o += (size_t)w < len - o ? (size_t)w : len - o - 1;
        }
    }
    return buf;
}

/* ---- XML ----------------------------------------------------------------- */

/* Decode one UTF-8 sequence at s; returns its length and the code point
 * (U+FFFD for a malformed byte, length 1). */
static size_t s_utf8(const unsigned char *s, unsigned *cp)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
                                 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0) {
        *cp = 0xfffd;
        return 1;
    }
    unsigned v = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return n;
}

/* Text content: markup characters escaped, UTF-8 transcoded to
 * ISO-8859-1, anything beyond Latin-1 as a character reference, control
 * characters (not allowed in XML 1.0) dropped. */
static void s_text(textbuf_t *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        p += s_utf8(p, &cp);
        char tmp[16];
        switch (cp) {
        case '&': textbuf_append(b, "&amp;"); break;
        case '<': textbuf_append(b, "&lt;"); break;
        case '>': textbuf_append(b, "&gt;"); break;
        case '"': textbuf_append(b, "&quot;"); break;
        case '\'': textbuf_append(b, "&apos;"); break;
        default:
            if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
                break;
            if (cp < 0x100) {
                tmp[0] = (char)cp;
                textbuf_append_n(b, tmp, 1);
            } else {
                snprintf(tmp, sizeof tmp, "&#%u;", cp);
                textbuf_append(b, tmp);
            }
        }
    }
}

static void s_elem(textbuf_t *b, const char *name, const char *text)
{
    textbuf_append(b, "<");
    textbuf_append(b, name);
    textbuf_append(b, ">");
    s_text(b, text);
    textbuf_append(b, "</");
    textbuf_append(b, name);
    textbuf_append(b, ">");
}

/* CBP writes update_time first when a lane has a reading and
 * operational_status first when it has none. */
static void s_xml_lane(textbuf_t *b, const char *elem, const s_lane_t *l)
{
    textbuf_append(b, "<");
    textbuf_append(b, elem);
    textbuf_append(b, ">");
    if (l->has_data) {
        s_elem(b, "update_time", l->update_time);
        s_elem(b, "operational_status", l->status);
    } else {
        s_elem(b, "operational_status", l->status);
        s_elem(b, "update_time", "");
    }
    s_elem(b, "delay_minutes", l->delay);
    s_elem(b, "lanes_open", l->lanes);
    textbuf_append(b, "</");
    textbuf_append(b, elem);
    textbuf_append(b, ">");
}

/* The notices of x valid at now_ms, as CBP's one construction_notice
 * text: each in English, else in the first language the port wrote it,
 * joined by a space. */
static void s_port_notice(const state_t *st, const xstate_t *x, int64_t now_ms, s_port_t *p)
{
    const notice_t *v[NOTICES_PER_CROSSING];
    size_t n = notices_valid(state_notices(st), x->reg->id, view_ms_to_s(now_ms), v, NOTICES_PER_CROSSING);
    size_t o = 0;
    p->notice[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *t = NULL;
        for (int l = 0; l < NOTICES_NLANGS && !t; l++)
            t = v[i]->text[l];
        if (t && o < sizeof p->notice)
            o += (size_t)snprintf(p->notice + o, sizeof p->notice - o, "%s%s", o ? " " : "", t);
    }
}

/* A CDATA section of UTF-8 text s, in ISO-8859-1: a character beyond
 * Latin-1 closes the section for a character reference and reopens it;
 * control characters are dropped. "]]>" never occurs (notices refuses it). */
static void s_cdata(textbuf_t *b, const char *s)
{
    textbuf_append(b, "<![CDATA[");
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        p += s_utf8(p, &cp);
        char tmp[32];
        if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
            continue;
        if (cp < 0x100) {
            tmp[0] = (char)cp;
            textbuf_append_n(b, tmp, 1);
        } else {
            snprintf(tmp, sizeof tmp, "]]>&#%u;<![CDATA[", cp);
            textbuf_append(b, tmp);
        }
    }
    textbuf_append(b, "]]>");
}

static void s_xml_port(textbuf_t *b, const s_port_t *p)
{
    const reg_crossing_t *r = p->r;
    textbuf_append(b, "<port>");
    s_elem(b, "port_number", r->id);
    s_elem(b, "border", s_border_text(r));
    s_elem(b, "port_name", r->port_name);
    s_elem(b, "crossing_name", r->crossing_name);
    s_elem(b, "hours", p->hours);
    s_elem(b, "date", p->date);
    s_elem(b, "port_status", p->port_status);
    for (int i = 0; i < 3; i++)
        s_elem(b, s_modes[i].auto_elem, p->automation_type);
    for (int i = 0; i < 3; i++) {
        const s_mode_desc_t *md = &s_modes[i];
        textbuf_append(b, "<");
        textbuf_append(b, md->elem);
        textbuf_append(b, ">");
        s_elem(b, "maximum_lanes", p->modes[i].max_lanes);
        for (int k = 0; k < md->ntypes; k++)
            s_xml_lane(b, md->types[k].elem, &p->modes[i].lanes[k]);
        textbuf_append(b, "</");
        textbuf_append(b, md->elem);
        textbuf_append(b, ">");
    }
    /* construction_notice appears in CBP's XML only when there is one,
     * last in the port, as CDATA */
    if (p->notice[0]) {
        textbuf_append(b, "<construction_notice>");
        s_cdata(b, p->notice);
        textbuf_append(b, "</construction_notice>");
    }
    textbuf_append(b, "</port>");
}

/* The document's head, up to its first port. */
static void s_xml_head(textbuf_t *b, const state_t *st, int64_t now_ms)
{
    struct tm lt;
    char date[16] = "", clock[16] = "", n[16];
    if (zone_local(CBP_FEED_TZ, view_ms_to_s(now_ms), &lt, NULL, 0) == 0) {
        strftime(date, sizeof date, "%Y-%m-%d", &lt);
        strftime(clock, sizeof clock, "%H:%M:%S", &lt);
    }
    snprintf(n, sizeof n, "%zu", state_count(st));
    textbuf_append(b, "<?xml version='1.0' encoding='ISO-8859-1'?><border_wait_time>");
    s_elem(b, "last_updated_date", date);
    s_elem(b, "last_updated_time", clock);
    s_elem(b, "number_of_ports", n);
}

char *view_cbp_xml(state_t *st, int64_t now_ms, int64_t stale_after_ms, size_t *len)
{
    textbuf_t *b = textbuf_new();
    s_xml_head(b, st, now_ms);
    for (size_t i = 0; i < state_count(st); i++) {
        s_port_t p;
        s_port(state_at(st, i), now_ms, stale_after_ms, &p);
        s_port_notice(st, state_at(st, i), now_ms, &p);
        s_xml_port(b, &p);
    }
    textbuf_append(b, VIEW_CBP_XML_TAIL);
    *len = textbuf_len(b);
    return textbuf_take(&b);
}

char *view_cbp_xml_head(const state_t *st, int64_t now_ms)
{
    textbuf_t *b = textbuf_new();
    s_xml_head(b, st, now_ms);
    return textbuf_take(&b);
}

/* ---- JSON ---------------------------------------------------------------- */

static int s_set(json_t *o, const char *key, const char *val)
{
    return json_object_set_new(o, key, json_string(val ? val : ""));
}

static json_t *s_json_lane(const s_lane_t *l)
{
    json_t *o = json_object();
    if (!o || s_set(o, "update_time", l->update_time) || s_set(o, "operational_status", l->status) ||
        s_set(o, "delay_minutes", l->delay) || s_set(o, "lanes_open", l->lanes)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_json_mode(const s_port_t *p, int i)
{
    const s_mode_desc_t *md = &s_modes[i];
    json_t *o = json_object();
    char key[48];
    int bad = !o || s_set(o, "maximum_lanes", p->modes[i].max_lanes);
    snprintf(key, sizeof key, "%s_automation_type", md->pfx);
    bad = bad || s_set(o, key, p->automation_type);
    snprintf(key, sizeof key, "%s_segment_from", md->pfx);
    bad = bad || s_set(o, key, p->seg_from);
    snprintf(key, sizeof key, "%s_segment_to", md->pfx);
    bad = bad || s_set(o, key, p->seg_to);
    for (int k = 0; k < md->ntypes && !bad; k++) {
        snprintf(key, sizeof key, "%s_%s_tolerance", md->pfx, md->types[k].tol);
        bad = s_set(o, key, "");
    }
    for (int k = 0; k < md->ntypes && !bad; k++)
        bad = json_object_set_new(o, md->types[k].elem, s_json_lane(&p->modes[i].lanes[k]));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *s_json_port(const s_port_t *p)
{
    const reg_crossing_t *r = p->r;
    json_t *o = json_object();
    int bad = !o || s_set(o, "port_number", r->id) || s_set(o, "border", s_border_text(r)) ||
              s_set(o, "port_name", r->port_name) || s_set(o, "crossing_name", r->crossing_name) ||
              s_set(o, "hours", p->hours) || s_set(o, "date", p->date) ||
              s_set(o, "time", p->time) || s_set(o, "port_status", p->port_status);
    for (int i = 0; i < 3 && !bad; i++)
        bad = json_object_set_new(o, s_modes[i].elem, s_json_mode(p, i));
    bad = bad || s_set(o, "construction_notice", p->notice) || s_set(o, "automation", p->automation) ||
          s_set(o, "automation_enabled", p->automation);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *view_cbp_json(state_t *st, int64_t now_ms, int64_t stale_after_ms, const char *only_id)
{
    s_port_t p;
    if (only_id) {
        const xstate_t *x = state_find(st, only_id);
        if (!x)
            return NULL;
        s_port(x, now_ms, stale_after_ms, &p);
        s_port_notice(st, x, now_ms, &p);
        return feed_json_take(s_json_port(&p));
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < state_count(st); i++) {
        s_port(state_at(st, i), now_ms, stale_after_ms, &p);
        s_port_notice(st, state_at(st, i), now_ms, &p);
        if (json_array_append_new(arr, s_json_port(&p))) {
            json_decref(arr);
            return NULL;
        }
    }
    return feed_json_take(arr);
}

/* The soonest of until and the time a lane CBP shows of x stops reading as
 * it does at now_ms (view_queue_valid_until). */
static int64_t s_lanes_valid_until(const xstate_t *x, int64_t now_ms, int64_t stale_after_ms,
                                   int64_t until)
{
    const reg_crossing_t *r = x->reg;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < s_modes[i].ntypes; k++) {
            enum tax_mode m = s_modes[i].mode;
            enum tax_type t = s_modes[i].types[k].type;
            if (r->max_lanes[m] == 0 || r->type_lanes[m][t] == 0)
                continue;
            int64_t v = view_queue_valid_until(x, s_into_us(r), m, t, now_ms, stale_after_ms);
            if (v < until)
                until = v;
        }
    return until;
}

/* Until when port x reads as at now_ms but for its clock: a minute of its
 * US clock at the latest (its date and status), sooner at a notice window
 * or a queue turning stale. */
static int64_t s_port_valid_until(const state_t *st, const xstate_t *x, int64_t now_ms,
                                  int64_t stale_after_ms)
{
    int64_t until = view_next_local_minute_ms(x->reg->us_tz, now_ms);
    int64_t ns = notices_next_change(state_notices(st), x->reg->id, view_ms_to_s(now_ms));
    if (ns != INT64_MAX && ns * 1000 < until)
        until = ns * 1000;
    return s_lanes_valid_until(x, now_ms, stale_after_ms, until);
}

char *view_cbp_port_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                             int64_t stale_after_ms, int64_t *valid_until_ms)
{
    *valid_until_ms = s_port_valid_until(st, x, now_ms, stale_after_ms);
    s_port_t p;
    s_port(x, now_ms, stale_after_ms, &p);
    s_port_notice(st, x, now_ms, &p);
    json_t *o = s_json_port(&p);
    /* the clock, which changes every second, is the hole (frag.h) */
    if (o && json_object_set_new(o, "time", json_stringn("", 1)) != 0) {
        json_decref(o);
        return NULL;
    }
    return feed_json_take(o);
}

char *view_cbp_port_time(const xstate_t *x, int64_t now_ms)
{
    char date[40], clock[40];
    s_port_clock(x->reg, now_ms, date, clock);
    json_t *j = json_string(clock);
    char *out = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    return out;
}

char *view_cbp_xml_fragment(const state_t *st, const xstate_t *x, int64_t now_ms,
                            int64_t stale_after_ms, int64_t *valid_until_ms)
{
    *valid_until_ms = s_port_valid_until(st, x, now_ms, stale_after_ms);
    s_port_t p;
    s_port(x, now_ms, stale_after_ms, &p);
    s_port_notice(st, x, now_ms, &p);
    textbuf_t *b = textbuf_new();
    s_xml_port(b, &p);
    return textbuf_take(&b);
}
