/* official_cbp — CBP's /api/bwtnew JSON into official records (official.h).
 *
 * The document is a list of ports; each has "port_number", "date" (M/D/YYYY,
 * the port's local date), "time" (HH:MM:SS, the port's local clock when the
 * document was made) and per mode an object of lane types, each with
 * "update_time" ("At 6:00 pm PDT", "At Noon EDT"), "operational_status",
 * "delay_minutes" and "lanes_open", all strings. CBP covers traffic entering
 * the US only. The update time has no date of its own: it is the document's
 * date, or the day before when the clock reads later than the document's
 * own time (an update at 11 pm seen in a document made at 00:10). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "official.h"
#include "zone.h"

static const struct {
    const char *key;
    enum tax_mode mode;
} s_modes[] = {
    { "passenger_vehicle_lanes", TAX_PASSENGER },
    { "pedestrian_lanes", TAX_PEDESTRIAN },
    { "commercial_vehicle_lanes", TAX_COMMERCIAL },
};

static const struct {
    const char *key;
    enum tax_type type;
} s_types[] = {
    { "standard_lanes", TAX_STANDARD },
    { "ready_lanes", TAX_READY },
    { "NEXUS_SENTRI_lanes", TAX_NEXUS_SENTRI },
    { "FAST_lanes", TAX_FAST },
};

/* The document's local date and clock of one port. */
typedef struct {
    const reg_crossing_t *reg;
    int y, m, d;
    int doc_min;          /* minutes after local midnight of "time", -1 unknown */
    int64_t now_s;
    int memo_min;         /* the queues of a port mostly share one update time: */
    int64_t memo_utc;     /* its conversion, kept (zone lookups dominate the cost) */
} s_port_t;

static const char *s_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* "At 6:00 pm PDT", "At Noon EDT", "At Midnight EDT" → minutes after
 * midnight; -1 when not understood. The zone abbreviation is not used: the
 * port's IANA zone decides. */
static int s_clock_min(const char *t)
{
    if (strncasecmp(t, "At ", 3) == 0)
        t += 3;
    if (strncasecmp(t, "Noon", 4) == 0)
        return 12 * 60;
    if (strncasecmp(t, "Midnight", 8) == 0)
        return 0;
    int h, mi, used = 0;
    char ap[3] = "";
    if (sscanf(t, "%2d:%2d %2[apmAPM]%n", &h, &mi, ap, &used) != 3 || used == 0)
        return -1;
    if (h < 1 || h > 12 || mi < 0 || mi > 59)
        return -1;
    bool pm = ap[0] == 'p' || ap[0] == 'P';
    if (!pm && ap[0] != 'a' && ap[0] != 'A')
        return -1;
    h %= 12;
    return (pm ? h + 12 : h) * 60 + mi;
}

/* Local y-m-d + minutes in the port's zone → Unix second; the day before
 * when the clock reads more than an hour after the document's own time. */
static int s_update_time(s_port_t *p, int min, int64_t *out)
{
    if (min == p->memo_min) {
        *out = p->memo_utc;
        return 0;
    }
    int y = p->y, m = p->m, d = p->d;
    if (p->doc_min >= 0 && min > p->doc_min + 60) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d - 1, .tm_hour = 12 };
        time_t t = timegm(&tm);
        gmtime_r(&t, &tm);
        y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    }
    if (zone_to_utc(p->reg->us_tz, y, m, d, min / 60, min % 60, out) != 0)
        return -1;
    p->memo_min = min;
    p->memo_utc = *out;
    return 0;
}

/* A whole number of at most 6 digits with an optional sign; -1 when the
 * text is something else. */
static int s_int(const char *s, long *out)
{
    char *end;
    if (!*s || strlen(s) > 8)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static void s_queue(off_doc_t *doc, s_port_t *p, enum tax_mode m, enum tax_type t,
                    const json_t *q)
{
    off_rec_t r = { .reg = p->reg, .dir = reg_dir_into(p->reg, "US"), .mode = m, .type = t };
    r.status = off_status_parse(s_str(q, "operational_status"));
    if (r.status == OFF_ST_NONE) {
        doc->reasons[OFF_R_BAD_VALUE]++;
        return;
    }
    const char *ut = s_str(q, "update_time");
    if (*ut) {
        int min = s_clock_min(ut);
        if (min < 0 || p->y == 0 || s_update_time(p, min, &r.updated_s) != 0) {
            doc->reasons[OFF_R_BAD_TIME]++;
            return;
        }
        if (r.updated_s > p->now_s + OFF_MAX_SKEW_S) {
            doc->reasons[OFF_R_FUTURE]++;
            return;
        }
    }
    long v;
    const char *dm = s_str(q, "delay_minutes");
    if ((r.status == OFF_ST_DELAY || r.status == OFF_ST_NO_DELAY) && *dm) {
        if (s_int(dm, &v) != 0) {
            doc->reasons[OFF_R_BAD_VALUE]++;
            return;
        }
        if (v < 0 || v > OFF_MAX_WAIT_MIN) {
            doc->reasons[OFF_R_IMPOSSIBLE]++;
            return;
        }
        r.has_wait = true;
        r.wait_s = (int32_t)(v * 60);
    }
    const char *lo = s_str(q, "lanes_open");
    if (*lo && strcasecmp(lo, "N/A") != 0 && r.status != OFF_ST_NOT_APPLICABLE) {
        int max = p->reg->max_lanes[m] > 0 ? p->reg->max_lanes[m] : 64;
        if (s_int(lo, &v) != 0) {
            doc->reasons[OFF_R_BAD_VALUE]++;
            return;
        }
        if (v < 0 || v > max) {
            doc->reasons[OFF_R_IMPOSSIBLE]++;
            return;
        }
        r.has_lanes = true;
        r.lanes_open = (int32_t)v;
    }
    if (off_push(doc, &r) != 0)
        doc->reasons[OFF_R_BAD_VALUE]++; /* out of memory: the queue is lost, counted */
}

static void s_port(off_doc_t *doc, const json_t *port, const registry_t *reg, int64_t now_s,
                   const reg_crossing_t **seen)
{
    if (!json_is_object(port)) {
        doc->reasons[OFF_R_BAD_VALUE]++;
        return;
    }
    const reg_crossing_t *r = reg_find(reg, s_str(port, "port_number"));
    if (!r) {
        doc->reasons[OFF_R_UNKNOWN_PORT]++;
        return;
    }
    if (!off_take_port(doc, seen, r))
        return;
    s_port_t p = { .reg = r, .doc_min = -1, .now_s = now_s, .memo_min = -1 };
    if (sscanf(s_str(port, "date"), "%d/%d/%d", &p.m, &p.d, &p.y) != 3 || p.m < 1 || p.m > 12 ||
        p.d < 1 || p.d > 31 || p.y < 2000 || p.y > 9999)
        p.y = 0; /* every timed queue of the port is then a bad_time */
    int h, mi, sec;
    if (sscanf(s_str(port, "time"), "%d:%d:%d", &h, &mi, &sec) == 3 && h >= 0 && h < 24 &&
        mi >= 0 && mi < 60)
        p.doc_min = h * 60 + mi;
    for (size_t i = 0; i < sizeof s_modes / sizeof s_modes[0]; i++) {
        const json_t *mo = json_object_get(port, s_modes[i].key);
        if (!json_is_object(mo))
            continue;
        for (size_t k = 0; k < sizeof s_types / sizeof s_types[0]; k++) {
            const json_t *q = json_object_get(mo, s_types[k].key);
            if (json_is_object(q))
                s_queue(doc, &p, s_modes[i].mode, s_types[k].type, q);
        }
    }
}

int off_parse_cbp(const char *body, size_t len, const registry_t *reg, int64_t now_s,
                  off_doc_t *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->source = OFF_CBP;
    if (len > OFF_MAX_DOC_BYTES)
        return off_refuse(doc, OFF_R_TOO_LARGE);
    if (off_looks_html(body, len))
        return off_refuse(doc, OFF_R_NOT_DATA);
    if (!off_utf8_valid(body, len))
        return off_refuse(doc, OFF_R_CHARSET);
    json_error_t err;
    json_t *root = json_loadb(body, len, 0, &err);
    if (!root)
        return off_refuse(doc, OFF_R_SYNTAX);
    int rc = 0;
    if (!json_is_array(root)) {
        rc = off_refuse(doc, OFF_R_SHAPE);
    } else if (json_array_size(root) == 0) {
        rc = off_refuse(doc, OFF_R_EMPTY);
    } else {
        const reg_crossing_t **seen = calloc(json_array_size(root), sizeof *seen);
        if (!seen) {
            json_decref(root);
            return off_refuse(doc, OFF_R_TOO_LARGE);
        }
        size_t i;
        json_t *port;
        json_array_foreach(root, i, port) {
            doc->ports++;
            s_port(doc, port, reg, now_s, seen);
        }
        free(seen);
    }
    json_decref(root);
    return rc;
}
