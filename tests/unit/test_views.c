/* test_views — the official-format views and the hours they depend on:
 * the structure (element/key paths and value types) of our CBP XML and JSON
 * against CBP's real documents (copies in deploy/data), CBSA's CSV/JSON
 * framing, update_time across DST and in Arizona, hours rules, open-at and
 * weekly mismatch windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "regstate.h"
#include "feed.h"
#include "feed_hours.h"
#include "notices.h"
#include "hours.h"
#include "registry.h"
#include "state.h"
#include "view.h"
#include "view_cbp.h"
#include "view_cbsa.h"
#include "zone.h"

#define STALE_MS (5 * 60 * 1000)
/* 2022-10-17T20:00:00Z: Monday, 1 pm PDT, 1 pm MST (Arizona) */
#define T0_MS 1666036800000LL
#define SHARED "deploy/data/" /* copies of ../shared/data/cbp (deploy/data/README.md) */

static const char s_reg[] =
    "crossings = (\n"
    "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
    "    port_name = \"San Ysidro\"; crossing_name = \"\"; other_name = \"Tijuana, B.C. (El Chaparral)\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
    "    max_lanes = { passenger = 24; pedestrian = 10; commercial = 0; };\n"
    "    lanes = { passenger = { ready = 8; nexus_sentri = 4; }; pedestrian = { ready = 2; }; };\n"
    "    hours = { us = { all = [ \"24h\" ]; }; other = \"unknown\"; }; },\n"
    "  { id = \"011502\"; bwt_id = \"05011502\"; border = \"CA\"; name = \"Calais - Milltown\";\n"
    "    port_name = \"Calais\"; crossing_name = \"Milltown & Co\"; other_name = \"St. Stephen, NB (Milltown)\";\n"
    "    us_tz = \"America/New_York\"; other_tz = \"America/Moncton\";\n"
    "    max_lanes = { passenger = 1; pedestrian = 0; commercial = 2; };\n"
    "    hours = { us = { all = [ \"daily 06:00-18:00\" ]; closed = [ \"12-25\", \"11-thu#4\" ]; };\n"
    "              other = { all = [ \"daily 07:00-19:00\" ]; }; }; }\n"
    ");\n";

typedef regstate_t fix_t;

static int s_setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(regstate_from_text(f, s_reg), 0);
    /* San Ysidro northbound (into the US) passenger standard: open, 3 lanes. */
    est_input_t in = { .interval_ms = 60000, .arrivals = 30, .departures = 20, .lanes_open = 3,
                       .has_queue_len = true, .queue_len = 40 };
    xstate_t *x = state_find(f->st, "250401");
    assert_int_equal(state_apply(f->st, x, TAX_NORTHBOUND, &in, T0_MS, TAX_PASSENGER, TAX_STANDARD, T0_MS), 1);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fix_t *f = *state;
    regstate_free(f);
    free(f);
    return 0;
}

/* ---- structure: "path:type" sets --------------------------------------- */

static void s_add(json_t *set, const char *k)
{
    json_object_set_new(set, k, json_true());
}

static void s_paths(json_t *v, const char *prefix, json_t *set)
{
    char p[512];
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) {
            snprintf(p, sizeof p, "%s/%s", prefix, k);
            s_paths(c, p, set);
        }
        return;
    }
    snprintf(p, sizeof p, "%s:%s", prefix, json_is_string(v) ? "string" : "other");
    s_add(set, p);
}

/* The union of paths over every port object of a CBP JSON array. */
static json_t *s_port_paths(json_t *arr)
{
    json_t *set = json_object();
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p) s_paths(p, "", set);
    return set;
}

static void s_assert_same_keys(json_t *a, json_t *b, const char *what)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) if (!json_object_get(b, k)) fail_msg("%s: %s only in ours", what, k);
    json_object_foreach(b, k, v) if (!json_object_get(a, k)) fail_msg("%s: %s only in CBP's", what, k);
}

static json_t *s_load(const char *path)
{
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j)
        fail_msg("%s: %s", path, err.text);
    return j;
}

static void test_cbp_json_structure(void **state)
{
    fix_t *f = *state;
    char *ours = view_cbp_json(f->st, T0_MS, STALE_MS, NULL);
    json_t *mine = json_loads(ours, 0, NULL);
    free(ours);
    json_t *cbp = s_load(SHARED "cbp_api_bwtnew_2022-06-29.json");
    json_t *a = s_port_paths(mine), *b = s_port_paths(cbp);
    s_assert_same_keys(a, b, "bwtnew");
    /* Key order of a port is CBP's. */
    json_t *p0 = json_array_get(mine, 0), *c0 = json_array_get(cbp, 0);
    void *ia = json_object_iter(p0), *ib = json_object_iter(c0);
    for (; ia && ib; ia = json_object_iter_next(p0, ia), ib = json_object_iter_next(c0, ib))
        assert_string_equal(json_object_iter_key(ia), json_object_iter_key(ib));
    assert_null(ia);
    assert_null(ib);
    /* /api/bwtpublicmod/{port} has the sample's shape. */
    char *one = view_cbp_json(f->st, T0_MS, STALE_MS, "250401");
    json_t *o = json_loads(one, 0, NULL), *s1 = s_load(SHARED "cbp_api_bwtpublicmod_300401_sample.json");
    json_t *oa = json_pack("[O]", o), *sa = json_pack("[O]", s1);
    json_t *pa = s_port_paths(oa), *pb = s_port_paths(sa);
    s_assert_same_keys(pa, pb, "bwtpublicmod");
    assert_null(view_cbp_json(f->st, T0_MS, STALE_MS, "999999"));
    free(one);
    json_decref(o); json_decref(s1); json_decref(oa); json_decref(sa); json_decref(pa); json_decref(pb);
    json_decref(a); json_decref(b); json_decref(mine); json_decref(cbp);
}

/* Element paths of an XML document (no attributes in CBP's), "a/b/c". */
static json_t *s_xml_paths(const char *x)
{
    json_t *set = json_object();
    char path[512] = "";
    const char *p = strstr(x, "?>");
    assert_non_null(p);
    for (p += 2; (p = strchr(p, '<'));) {
        const char *e = strchr(p, '>');
        assert_non_null(e);
        size_t n = (size_t)(e - p - 1);
        if (p[1] == '!') {   /* CDATA in a construction_notice: text, not an element */
            const char *end = strstr(p, "]]>");
            assert_non_null(end);
            p = end + 3;
            continue;
        }
        if (p[1] == '/') {
            char *slash = strrchr(path, '/');
            if (slash)
                *slash = '\0';
            else
                path[0] = '\0';
        } else {
            bool empty = e[-1] == '/';
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(empty ? n - 1 : n), p + 1);
            char *sp = strchr(name, ' ');
            if (sp)
                *sp = '\0';
            size_t l = strlen(path);
            snprintf(path + l, sizeof path - l, "%s%s", l ? "/" : "", name);
            s_add(set, path);
            if (empty)
                path[l] = '\0';
        }
        p = e + 1;
    }
    return set;
}

static char *s_read(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_cbp_xml_structure(void **state)
{
    fix_t *f = *state;
    size_t len = 0;
    char *ours = view_cbp_xml(f->st, T0_MS, STALE_MS, &len);
    assert_non_null(ours);
    assert_int_equal(strlen(ours), len);
    assert_memory_equal(ours, "<?xml version='1.0' encoding='ISO-8859-1'?><border_wait_time>", 61);
    json_t *a = s_xml_paths(ours), *b = s_xml_paths(s_read(SHARED "cbp_bwt_2022-10-17.xml"));
    /* construction_notice appears only on ports that have one. */
    json_object_del(b, "border_wait_time/port/construction_notice");
    s_assert_same_keys(a, b, "bwt.xml");
    /* The misspelling is CBP's, kept on purpose; & escaped. */
    assert_non_null(strstr(ours, "<pedestrain_automation_type>"));
    assert_non_null(strstr(ours, "<crossing_name>Milltown &amp; Co</crossing_name>"));
    /* Open lane: update_time first, then status, wait and lanes as strings. */
    assert_non_null(strstr(ours, "<standard_lanes><update_time>At 1:00 pm PDT</update_time>"
                                 "<operational_status>"));
    /* A lane type the port does not run is N/A; a missing mode too. */
    assert_non_null(strstr(ours, "<commercial_vehicle_lanes><maximum_lanes>N/A</maximum_lanes>"
                                 "<standard_lanes><operational_status>N/A</operational_status>"
                                 "<update_time></update_time>"));
    json_decref(a);
    json_decref(b);
    free(ours);
}

/* Stale or missing data never reads "no delay". */
static void test_cbp_stale_is_pending(void **state)
{
    fix_t *f = *state;
    char *s = view_cbp_json(f->st, T0_MS + 10 * 60 * 1000, STALE_MS, "250401");
    json_t *o = json_loads(s, 0, NULL);
    json_t *l = json_object_get(json_object_get(o, "passenger_vehicle_lanes"), "standard_lanes");
    assert_string_equal(json_string_value(json_object_get(l, "operational_status")), "Update Pending");
    assert_string_equal(json_string_value(json_object_get(l, "delay_minutes")), "");
    json_t *fast = json_object_get(json_object_get(o, "commercial_vehicle_lanes"), "FAST_lanes");
    assert_string_equal(json_string_value(json_object_get(fast, "operational_status")), "N/A");
    json_decref(o);
    free(s);
}

/* Closures from the registry, a date and a floating one: /v1/hours lists
 * them as written, and Thanksgiving noon reads closed by hours. A closure
 * that names no day is refused with file and line. */
static void test_closures_in_registry(void **state)
{
    fix_t *f = *state;
    char *s = feed_hours_json(f->reg, NULL, 0, NULL);
    assert_non_null(s);
    json_t *j = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(j);
    json_t *cl = NULL, *c;
    size_t i;
    json_array_foreach(json_object_get(j, "crossings"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "id")), "011502") == 0)
            cl = json_object_get(json_object_get(c, "us"), "closed_dates");
    assert_int_equal(json_array_size(cl), 2);
    assert_string_equal(json_string_value(json_array_get(cl, 0)), "12-25");
    assert_string_equal(json_string_value(json_array_get(cl, 1)), "11-thu#4");
    json_decref(j);
    const reg_crossing_t *calais = reg_find(f->reg, "011502");
    struct tm noon = { .tm_year = 126, .tm_mon = 10, .tm_mday = 26, .tm_wday = 4, .tm_hour = 12 };
    assert_int_equal(hours_state_local(&calais->hours[HOURS_US], TAX_PASSENGER, &noon), HOURS_CLOSED);
    noon.tm_mday = 25;
    noon.tm_wday = 3;
    assert_int_equal(hours_state_local(&calais->hours[HOURS_US], TAX_PASSENGER, &noon), HOURS_OPEN);

    char path[] = "/tmp/test_views_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = "crossings = (\n"
        "  { id = \"011502\"; bwt_id = \"05011502\"; border = \"CA\"; name = \"Calais\";\n"
        "    us_tz = \"America/New_York\"; other_tz = \"America/Moncton\";\n"
        "    max_lanes = { passenger = 1; pedestrian = 0; commercial = 2; };\n"
        "    hours = { us = { all = [ \"24h\" ]; closed = [ \"11-thu#5x\" ]; }; }; }\n"
        ");\n";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    int nbad = 0;
    registry_t *r = reg_load(path, &nbad);
    unlink(path);
    assert_int_equal(nbad, 1);
    assert_true(!r || reg_find(r, "011502") == NULL);
    reg_destroy(&r);
}

/* Calais is 6 am-6 pm by its hours: at 20:00 EDT it reads closed, not pending. */
static void test_closed_by_hours(void **state)
{
    fix_t *f = *state;
    int64_t night = T0_MS + 4 * 3600 * 1000LL;   /* 00:00Z = 20:00 EDT */
    xstate_t *x = state_find(f->st, "011502");
    view_queue_t v;
    view_queue(x, TAX_SOUTHBOUND, TAX_PASSENGER, TAX_STANDARD, night, STALE_MS, &v);
    assert_string_equal(v.status, "closed");
    assert_int_equal(v.closed_by, VIEW_CLOSED_BY_HOURS);
    view_queue(x, TAX_SOUTHBOUND, TAX_PASSENGER, TAX_STANDARD, T0_MS, STALE_MS, &v);
    assert_string_equal(v.status, "no_data");
    char *s = view_cbp_json(f->st, night, STALE_MS, "011502");
    assert_non_null(strstr(s, "\"port_status\":\"Closed\""));
    assert_non_null(strstr(s, "\"hours\":\"6 am-6 pm\""));
    free(s);
}

static void test_update_time_dst_and_arizona(void **state)
{
    (void)state;
    char b[40];
    /* 2022-03-13 DST starts at 10:00Z in Los Angeles. */
    view_cbp_clock("America/Los_Angeles", 1647165600 - 60, b, sizeof b);
    assert_string_equal(b, "At 1:59 am PST");
    view_cbp_clock("America/Los_Angeles", 1647165600, b, sizeof b);
    assert_string_equal(b, "At 3:00 am PDT");
    /* Arizona: MST all year, also in July. */
    view_cbp_clock("America/Phoenix", 1657040400, b, sizeof b);   /* 2022-07-05T17:00Z */
    assert_string_equal(b, "At 10:00 am MST");
    view_cbp_clock("America/New_York", 1657036800, b, sizeof b);  /* 16:00Z = noon EDT */
    assert_string_equal(b, "At Noon EDT");
    view_cbp_clock("America/Chicago", 1668405600, b, sizeof b);   /* 2022-11-14T06:00Z = 0:00 CST */
    assert_string_equal(b, "At Midnight CST");
    assert_int_equal(view_cbp_clock("America/Nowhere", 0, b, sizeof b), -1);
}

/* The zone cache fills a day of slots per switch of TZ: every slot across
 * a spring-forward and a fall-back change, reached going forward and going
 * backward (fills that straddle the change from either side), agrees with
 * glibc's own conversion in that zone. */
static void test_zone_cache_exact_across_changes(void **state)
{
    (void)state;
    static const char *const zones[] = { "America/Los_Angeles", "America/Phoenix",
                                         "America/St_Johns" };
    static const int64_t around[] = { 1772964000, 1793523600 }; /* 2026-03-08 10:00Z, 11-01 09:00Z */
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++) {
        for (size_t c = 0; c < 2; c++) {
            for (int dir = 0; dir < 2; dir++) {
                zone_reset();
                for (int i = 0; i < 4 * 96; i++) {
                    int64_t t = around[c] - 2 * 86400 + 900 * (int64_t)(dir ? 4 * 96 - 1 - i : i);
                    struct tm got;
                    assert_int_equal(zone_local(zones[z], t + 7, &got, NULL, 0), 0);
                    char spec[64];
                    snprintf(spec, sizeof spec, ":%s", zones[z]);
                    setenv("TZ", spec, 1);
                    tzset();
                    time_t tt = (time_t)(t + 7);
                    struct tm want;
                    assert_non_null(localtime_r(&tt, &want));
                    unsetenv("TZ");
                    tzset();
                    if (got.tm_gmtoff != want.tm_gmtoff || got.tm_hour != want.tm_hour ||
                        got.tm_min != want.tm_min)
                        fail_msg("%s at %lld: offset %ld, want %ld", zones[z], (long long)t,
                                 got.tm_gmtoff, want.tm_gmtoff);
                }
            }
        }
    }
}

static void test_cbsa_formats(void **state)
{
    fix_t *f = *state;
    char *csv = view_cbsa_csv(f->st, T0_MS, STALE_MS);
    assert_memory_equal(csv, "\xEF\xBB\xBF" "Customs Office;; Location;; Last updated;; ", 46);
    /* One Canadian-border row; San Ysidro (MX) is not listed. */
    assert_non_null(strstr(csv, "\r\nMilltown;; St. Stephen, NB/Calais;; --;; --;; --;; --;; --;;\r\n"));
    assert_null(strstr(csv, "San Ysidro"));
    free(csv);
    char *js = view_cbsa_json(f->st, T0_MS, STALE_MS);
    assert_memory_equal(js, "\xEF\xBB\xBF{\"waitTimes\":[", 17);
    char *nl = strchr(js, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl + 1, "//", 2);
    *nl = '\0';
    json_t *o = json_loads(js + 3, 0, NULL);
    assert_non_null(o);
    json_t *e = json_array_get(json_object_get(o, "waitTimes"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "poe-name")), "Milltown: St. Stephen, NB/Calais");
    json_decref(o);
    free(js);
    char b[32];
    view_cbsa_wait_text(0, b, sizeof b);
    assert_string_equal(b, "No Delay");
    view_cbsa_wait_text(1, b, sizeof b);
    assert_string_equal(b, "1 minute");
    view_cbsa_wait_text(7, b, sizeof b);
    assert_string_equal(b, "7 minutes");
    view_cbsa_wait_text(60, b, sizeof b);
    assert_string_equal(b, "1 hour");
    view_cbsa_wait_text(120, b, sizeof b);
    assert_string_equal(b, "2 hours");
    view_cbsa_wait_text(75, b, sizeof b);
    assert_string_equal(b, "75 minutes");
}

static size_t s_count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* CBSA's French edition: the English structure (BOM, ";;" fields, CRLF
 * lines, the same rows; JSON with the same keys and the "//" trailer) with
 * CBSA's French header, values and zone abbreviations. */
static void test_cbsa_french(void **state)
{
    fix_t *f = *state;
    char *en = view_cbsa_csv(f->st, T0_MS, STALE_MS);
    char *fr = view_cbsa_csv_lang(f->st, T0_MS, STALE_MS, VIEW_CBSA_FR);
    assert_memory_equal(fr, "\xEF\xBB\xBF" "Bureau de douane;; Emplacement;; Derni\xC3\xA8re mise \xC3\xA0 jour;; "
                        "Flux commercial - Vers le Canada;; Flux commercial - Vers les \xC3\x89tats-Unis;; "
                        "Flux des voyageurs - Vers le Canada;; Flux des voyageurs - Vers les \xC3\x89tats-Unis;;\r\n",
                        3 + 217);
    assert_int_equal(s_count(en, "\r\n"), s_count(fr, "\r\n"));
    assert_int_equal(s_count(en, ";;"), s_count(fr, ";;"));
    assert_non_null(strstr(fr, "\r\nMilltown;; St. Stephen, NB/Calais;; --;; --;; --;; --;; --;;\r\n"));
    free(en);
    free(fr);
    char *js = view_cbsa_json_lang(f->st, T0_MS, STALE_MS, VIEW_CBSA_FR);
    assert_memory_equal(js, "\xEF\xBB\xBF{\"waitTimes\":[", 17);
    char *nl = strchr(js, '\n');
    assert_non_null(nl);
    assert_memory_equal(nl + 1, "//", 2);
    *nl = '\0';
    json_t *o = json_loads(js + 3, 0, NULL);
    assert_non_null(o);
    json_t *e = json_array_get(json_object_get(o, "waitTimes"), 0);
    const char *keys[] = { "poe-name", "poe-comm-delay", "poe-trav-delay", "poe-updated" };
    assert_int_equal(json_object_size(e), 4);
    for (int i = 0; i < 4; i++)
        assert_true(json_is_string(json_object_get(e, keys[i])));
    json_decref(o);
    free(js);
    char b[32];
    view_cbsa_wait_text_fr(0, b, sizeof b);
    assert_string_equal(b, "Aucun retard");
    view_cbsa_wait_text_fr(1, b, sizeof b);
    assert_string_equal(b, "1 minute");
    view_cbsa_wait_text_fr(7, b, sizeof b);
    assert_string_equal(b, "7 minutes");
    view_cbsa_wait_text_fr(60, b, sizeof b);
    assert_string_equal(b, "1 heure");
    view_cbsa_wait_text_fr(180, b, sizeof b);
    assert_string_equal(b, "3 heures");
    assert_string_equal(view_cbsa_zone_fr("EDT"), "HAE");
    assert_string_equal(view_cbsa_zone_fr("PST"), "HNP");
    assert_string_equal(view_cbsa_zone_fr("NDT"), "HAT");
    assert_string_equal(view_cbsa_zone_fr("CST"), "HNC");   /* Saskatchewan all year */
    assert_string_equal(view_cbsa_zone_fr("UTC"), "UTC");
}

/* T0 is 2022-10-17T20:00Z. */
static const char s_notices_conf[] =
    "notices = (\n"
    "  { crossing = \"250401\"; kind = \"construction\";\n"                           /* 2 */
    "    from = \"2022-10-17T08:00-07:00\"; until = \"2022-10-18T00:00Z\";\n"
    "    text = { en = \"Lane 5 closed \xe2\x80\x94 use lane 6.\"; es = \"Carril 5 cerrado.\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-10-20T00:00Z\"; until = \"2022-10-21T00:00Z\";\n" /* 5 */
    "    text = { fr = \"Plus tard.\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-13-01T00:00Z\"; until = \"2022-10-21T00:00Z\";\n"
    "    text = { en = \"bad month\"; }; },\n"
    "  { crossing = \"999999\"; from = \"2022-10-17T00:00Z\"; until = \"2022-10-21T00:00Z\";\n"
    "    text = { en = \"unknown crossing\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-10-17T00:00Z\"; until = \"2022-10-16T00:00Z\";\n"
    "    text = { en = \"backwards\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-10-17T00:00\"; until = \"2022-10-18T00:00Z\";\n"
    "    text = { en = \"no zone\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-10-17T00:00Z\"; until = \"2022-10-18T00:00Z\";\n"
    "    text = { de = \"Sprache\"; }; },\n"
    "  { crossing = \"250401\"; from = \"2022-10-17T00:00Z\"; until = \"2022-10-18T00:00Z\";\n"
    "    text = { en = \"x]]>y\"; }; },\n"
    "  { crossing = \"250401\"; kind = \"party\"; from = \"2022-10-17T00:00Z\"; until = \"2022-10-18T00:00Z\";\n"
    "    text = { en = \"kind\"; }; }\n"
    ");\n";

static notices_t *s_load_notices(const registry_t *reg, const char *text, int *nbad)
{
    char path[] = "/tmp/test_notices_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    notices_t *n = notices_load(path, reg, nbad);
    unlink(path);
    return n;
}

/* Port notices: bad entries refused one by one (file:line logged), the
 * good ones shown only while valid: in the native feed with every
 * language, and in CBP's views as construction_notice — XML: last in the
 * port, CDATA, only on that port, as in CBP's real feed; JSON: the text,
 * "" elsewhere. */
static void test_notices(void **state)
{
    fix_t *f = *state;
    int nbad = 0;
    notices_t *n = s_load_notices(f->reg, s_notices_conf, &nbad);
    assert_non_null(n);
    assert_int_equal(notices_count(n), 2);
    assert_int_equal(nbad, 7);
    assert_null(s_load_notices(f->reg, "notices = ( { crossing = ; } );", &nbad));
    assert_null(s_load_notices(f->reg, "crossings = ();", &nbad));
    int64_t t;
    assert_int_equal(notices_parse_time("2022-10-17T08:00-07:00", &t), 0);
    assert_int_equal(t, 1666018800);
    assert_int_equal(notices_parse_time("2024-02-29T00:00:30Z", &t), 0);
    assert_int_equal(notices_parse_time("2023-02-29T00:00Z", &t), -1);
    assert_int_equal(notices_parse_time("2022-10-17T25:00Z", &t), -1);
    assert_int_equal(notices_parse_time("garbage", &t), -1);

    state_set_notices(f->st, n);
    char *xml = view_cbp_xml(f->st, T0_MS, STALE_MS, &(size_t){ 0 });
    assert_non_null(xml);
    /* CBP's shape: <construction_notice><![CDATA[...]]></construction_notice></port>,
     * right after pedestrian_lanes; U+2014 is beyond ISO-8859-1: a character reference */
    const char *want = "</pedestrian_lanes><construction_notice><![CDATA[Lane 5 closed ]]>&#8212;<![CDATA[ use lane 6.]]>"
                       "</construction_notice></port>";
    assert_non_null(strstr(xml, want));
    char *p = strstr(xml, "<construction_notice>");
    assert_null(strstr(p + 1, "<construction_notice>"));   /* only where a notice is valid */
    char *port = strstr(xml, "<port_number>250401</port_number>");
    assert_non_null(port);
    assert_true(p > port);
    free(xml);
    char *js = view_cbp_json(f->st, T0_MS, STALE_MS, "250401");
    json_t *o = json_loads(js, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "construction_notice")),
                        "Lane 5 closed \xe2\x80\x94 use lane 6.");
    json_decref(o);
    free(js);
    js = view_cbp_json(f->st, T0_MS, STALE_MS, "011502");
    o = json_loads(js, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "construction_notice")), "");
    json_decref(o);
    free(js);
    /* native feed: the notice with all its languages */
    js = feed_crossings_json(f->st, T0_MS, STALE_MS, "250401");
    o = json_loads(js, 0, NULL);
    json_t *ns = json_object_get(json_array_get(json_object_get(o, "crossings"), 0), "notices");
    assert_int_equal(json_array_size(ns), 1);
    json_t *n0 = json_array_get(ns, 0);
    assert_string_equal(json_string_value(json_object_get(n0, "kind")), "construction");
    assert_string_equal(json_string_value(json_object_get(n0, "until")), "2022-10-18T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(json_object_get(n0, "text"), "es")), "Carril 5 cerrado.");
    json_decref(o);
    free(js);
    /* after the window: gone everywhere */
    int64_t later = T0_MS + 5 * 3600 * 1000LL;
    xml = view_cbp_xml(f->st, later, STALE_MS, &(size_t){ 0 });
    assert_null(strstr(xml, "construction_notice"));
    free(xml);
    js = feed_crossings_json(f->st, later, STALE_MS, "250401");
    assert_null(strstr(js, "\"notices\""));
    free(js);
}

static void test_hours_rules(void **state)
{
    (void)state;
    hours_rule_t r;
    char why[256], t[64];
    assert_int_equal(hours_parse_rule("mon-fri 06:00-22:00", &r, why, sizeof why), 0);
    assert_int_equal(r.days, 0x1f);
    assert_string_equal(hours_rule_text(&r, t, sizeof t), "mon-fri 06:00-22:00");
    assert_int_equal(hours_parse_rule("05-15..09-30 sat,sun 20:00-02:00", &r, why, sizeof why), 0);
    assert_string_equal(hours_rule_text(&r, t, sizeof t), "05-15..09-30 sat,sun 20:00-02:00");
    assert_int_equal(hours_parse_rule("24h", &r, why, sizeof why), 0);
    const char *bad[] = { "", "6 am-10 pm", "mon-fri 06:00-25:00", "funday 06:00-07:00",
                          "mon 06:00-06:00", "02-30..03-01 mon 06:00-07:00", "mon 6:00-7:00" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hours_parse_rule(bad[i], &r, why, sizeof why), -1);
    uint16_t d;
    assert_int_equal(hours_parse_date("12-25", &d), 0);
    assert_int_equal(d, 1225);
    assert_int_equal(hours_parse_date("13-01", &d), -1);
}

static hours_side_t s_side(const char *rule, const char *closed)
{
    hours_side_t h;
    memset(&h, 0, sizeof h);
    h.known = true;
    char why[128];
    for (int m = 1; m <= TAX_NMODES; m++) {
        assert_int_equal(hours_parse_rule(rule, &h.mode[m].rules[0], why, sizeof why), 0);
        h.mode[m].nrules = 1;
    }
    if (closed) {
        assert_int_equal(hours_parse_closure(closed, &h.closed[0]), 0);
        h.nclosed = 1;
    }
    return h;
}

static enum hours_state s_at(const hours_side_t *h, int wday, int mon, int mday, int hh, int mm)
{
    struct tm lt = { .tm_wday = wday, .tm_mon = mon - 1, .tm_mday = mday, .tm_hour = hh, .tm_min = mm,
                     .tm_year = 122 };
    return hours_state_local(h, TAX_PASSENGER, &lt);
}

static void test_hours_open_at(void **state)
{
    (void)state;
    hours_side_t h = s_side("fri,sat 20:00-02:00", "12-25");
    assert_int_equal(s_at(&h, 5, 10, 14, 21, 0), HOURS_OPEN);    /* Fri 21:00 */
    assert_int_equal(s_at(&h, 6, 10, 15, 1, 59), HOURS_OPEN);    /* Sat 01:59, Friday's night */
    assert_int_equal(s_at(&h, 6, 10, 15, 2, 0), HOURS_CLOSED);
    assert_int_equal(s_at(&h, 0, 10, 16, 1, 0), HOURS_OPEN);     /* Sun 01:00, Saturday's night */
    assert_int_equal(s_at(&h, 1, 10, 17, 1, 0), HOURS_CLOSED);   /* Mon 01:00 */
    assert_int_equal(s_at(&h, 0, 12, 25, 1, 0), HOURS_CLOSED);   /* holiday closure */
    hours_side_t unk;
    memset(&unk, 0, sizeof unk);
    assert_int_equal(s_at(&unk, 1, 1, 3, 12, 0), HOURS_UNKNOWN);
    hours_side_t season = s_side("11-01..03-31 daily 08:00-16:00", NULL);
    assert_int_equal(s_at(&season, 1, 1, 3, 9, 0), HOURS_OPEN);
    assert_int_equal(s_at(&season, 1, 7, 4, 9, 0), HOURS_CLOSED);
}

/* A local day of year y (tm_wday 0 = Sunday, as struct tm has it). */
static struct tm s_day(int y, int mon, int mday, int wday)
{
    return (struct tm){ .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = mday, .tm_wday = wday,
                        .tm_hour = 12 };
}

/* Holidays that move with the calendar: the nth or last weekday of a
 * month, checked on 2026 and on a leap February. */
static void test_hours_floating_closures(void **state)
{
    (void)state;
    hours_closure_t c;
    char t[16];
    assert_int_equal(hours_parse_closure("11-thu#4", &c), 0);
    assert_int_equal(c.month, 11);
    assert_int_equal(c.day, 0);
    assert_int_equal(c.wday, 3);
    assert_int_equal(c.nth, 4);
    assert_string_equal(hours_closure_text(&c, t, sizeof t), "11-thu#4");
    struct tm thanksgiving = s_day(2026, 11, 26, 4), week_before = s_day(2026, 11, 19, 4),
              day_after = s_day(2026, 11, 27, 5);
    assert_true(hours_closure_on(&c, &thanksgiving));
    assert_false(hours_closure_on(&c, &week_before));
    assert_false(hours_closure_on(&c, &day_after));

    assert_int_equal(hours_parse_closure("05-mon#L", &c), 0);
    assert_int_equal(c.nth, -1);
    assert_string_equal(hours_closure_text(&c, t, sizeof t), "05-mon#L");
    struct tm memorial = s_day(2026, 5, 25, 1), may18 = s_day(2026, 5, 18, 1);
    assert_true(hours_closure_on(&c, &memorial));
    assert_false(hours_closure_on(&c, &may18));

    /* The last Sunday of February: the 29th in 2032, the 22nd in 2026. */
    assert_int_equal(hours_parse_closure("02-sun#L", &c), 0);
    struct tm leap = s_day(2032, 2, 29, 0), leap22 = s_day(2032, 2, 22, 0), y26 = s_day(2026, 2, 22, 0);
    assert_true(hours_closure_on(&c, &leap));
    assert_false(hours_closure_on(&c, &leap22));
    assert_true(hours_closure_on(&c, &y26));

    assert_int_equal(hours_parse_closure("12-25", &c), 0);
    assert_string_equal(hours_closure_text(&c, t, sizeof t), "12-25");
    struct tm xmas = s_day(2026, 12, 25, 5);
    assert_true(hours_closure_on(&c, &xmas));

    const char *bad[] = { "11-thu#6", "11-thu#0", "13-thu#4", "00-mon#1", "11-thx#4", "11-thu4",
                          "11-thu#44", "11-THU#4", "11-thu#", "1-thu#4", "11-32", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (hours_parse_closure(bad[i], &c) == 0)
            fail_msg("closure '%s' accepted", bad[i]);

    /* A side open around the clock is closed all of Thanksgiving Day. */
    hours_side_t h = s_side("24h", "11-thu#4");
    struct tm noon = s_day(2026, 11, 26, 4), eve = s_day(2026, 11, 25, 3);
    assert_int_equal(hours_state_local(&h, TAX_PASSENGER, &noon), HOURS_CLOSED);
    assert_int_equal(hours_state_local(&h, TAX_PASSENGER, &eve), HOURS_OPEN);
}

/* Calais (ET) 06-18 vs St. Stephen (AT) 07-19 local: the same hours in
 * absolute time (AT = ET + 1), so no mismatch; with St. Stephen 08-19 AT
 * the US side is alone open 06:00-07:00 ET daily, 420 min/week. */
static void test_mismatch_windows(void **state)
{
    (void)state;
    hours_side_t us = s_side("daily 06:00-18:00", NULL), ca = s_side("daily 07:00-19:00", NULL);
    hours_window_t w[16];
    int n, a, b;
    int64_t week = 1665979200;   /* Mon 2022-10-17 00:00 EDT */
    assert_int_equal(hours_mismatch_week(&us, "America/New_York", &ca, "America/Moncton",
                                         TAX_PASSENGER, week, w, 16, &n, &a, &b), 0);
    assert_int_equal(n, 0);
    ca = s_side("daily 08:00-19:00", NULL);
    assert_int_equal(hours_mismatch_week(&us, "America/New_York", &ca, "America/Moncton",
                                         TAX_PASSENGER, week, w, 16, &n, &a, &b), 0);
    assert_int_equal(n, 7);
    assert_int_equal(a, 7 * 60);
    assert_int_equal(b, 0);
    assert_int_equal(w[0].from, week + 6 * 3600);
    assert_int_equal(w[0].to, week + 7 * 3600);
    assert_int_equal(w[0].open_side, HOURS_US);
    hours_side_t unk;
    memset(&unk, 0, sizeof unk);
    assert_int_equal(hours_mismatch_week(&us, "America/New_York", &unk, "America/Moncton",
                                         TAX_PASSENGER, week, w, 16, &n, &a, &b), 1);
}

static void test_cbp_hours_text(void **state)
{
    (void)state;
    char b[128];
    hours_side_t h = s_side("daily 06:00-24:00", NULL);
    assert_string_equal(view_cbp_hours_text(&h, b, sizeof b), "6 am-Midnight");
    h = s_side("daily 10:30-12:00", NULL);
    assert_string_equal(view_cbp_hours_text(&h, b, sizeof b), "10:30 am-Noon");
    h = s_side("24h", NULL);
    h.mode[TAX_PASSENGER].always = true;
    assert_string_equal(view_cbp_hours_text(&h, b, sizeof b), "24 hrs/day");
    memset(&h, 0, sizeof h);
    assert_string_equal(view_cbp_hours_text(&h, b, sizeof b), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cbp_json_structure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cbp_xml_structure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cbp_stale_is_pending, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_closures_in_registry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_closed_by_hours, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cbsa_formats, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cbsa_french, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_notices, s_setup, s_teardown),
        cmocka_unit_test(test_update_time_dst_and_arizona),
        cmocka_unit_test(test_zone_cache_exact_across_changes),
        cmocka_unit_test(test_hours_rules),
        cmocka_unit_test(test_hours_open_at),
        cmocka_unit_test(test_hours_floating_closures),
        cmocka_unit_test(test_mismatch_windows),
        cmocka_unit_test(test_cbp_hours_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
