/* test_official — the official-document parsers (collector/official*.c) on
 * the real CBP /api/bwtnew sample and the CBSA CSV built from CBSA's real
 * page (deploy/data/README.md), and on each bad input of issue 13: values
 * and statuses equal the document's, every bad part has its own reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proc.h"
#include <jansson.h>

#include "log.h"
#include "official.h"
#include "registry.h"
#include "feed.h"
#include "state.h"
#include "view.h"
#include "view_cbp.h"
#include "view_cbsa.h"

#define DATA "deploy/data/"
#define CBP_SAMPLE DATA "cbp_api_bwtnew_2022-06-29.json"
#define CBSA_SAMPLE DATA "cbsa_bwt-eng_2022-07-07.csv"
#define NOW_2022 1657300000 /* 2022-07-08: after both samples */

/* A sample the test cannot do without. */
static char *s_must_slurp(const char *path, size_t *len)
{
    char *buf = proc_slurp(path, len);
    assert_non_null(buf);
    return buf;
}

static registry_t *s_reg;

static const off_rec_t *s_find(const off_doc_t *doc, const char *id, enum tax_mode m,
                               enum tax_type t)
{
    for (size_t i = 0; i < doc->n; i++)
        if (strcmp(doc->recs[i].reg->id, id) == 0 && doc->recs[i].mode == m &&
            doc->recs[i].type == t)
            return &doc->recs[i];
    return NULL;
}

static int s_setup(void **state)
{
    (void)state;
    int nbad = 0;
    s_reg = reg_load("deploy/registry.conf", &nbad);
    return s_reg && nbad == 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    reg_destroy(&s_reg);
    return 0;
}

/* Every port and every queue of the document, value for value. */
static void test_cbp_sample(void **state)
{
    (void)state;
    size_t len;
    char *body = s_must_slurp(CBP_SAMPLE, &len);
    off_doc_t doc;
    assert_int_equal(off_parse_cbp(body, len, s_reg, NOW_2022, &doc), 0);
    assert_int_equal(doc.ports, 76);
    /* "l24501" is CBP's own typo (deploy/data/README.md): the registry has no such port */
    assert_int_equal(doc.ports_imported, 75);
    assert_int_equal(doc.reasons[OFF_R_UNKNOWN_PORT], 1);
    for (int r = 0; r < OFF_R_MAX; r++)
        if (r != OFF_R_UNKNOWN_PORT)
            assert_int_equal(doc.reasons[r], 0);

    /* the document again, through jansson, compared with every record */
    json_t *root = json_loadb(body, len, 0, NULL);
    size_t i, queues = 0;
    json_t *port;
    static const char *modes[] = { "passenger_vehicle_lanes", "pedestrian_lanes",
                                   "commercial_vehicle_lanes" };
    static const char *types[] = { "standard_lanes", "ready_lanes", "NEXUS_SENTRI_lanes",
                                   "FAST_lanes" };
    json_array_foreach(root, i, port) {
        const char *id = json_string_value(json_object_get(port, "port_number"));
        if (!reg_find(s_reg, id))
            continue;
        for (int m = 0; m < 3; m++)
            for (int t = 0; t < 4; t++) {
                json_t *q = json_object_get(json_object_get(port, modes[m]), types[t]);
                if (!q)
                    continue;
                queues++;
                const off_rec_t *r = s_find(&doc, id, (enum tax_mode)(m + 1), (enum tax_type)(t + 1));
                assert_non_null(r);
                assert_int_equal(r->dir, reg_dir_into(r->reg, "US"));
                const char *st = json_string_value(json_object_get(q, "operational_status"));
                assert_int_equal(r->status, off_status_parse(st));
                const char *dm = json_string_value(json_object_get(q, "delay_minutes"));
                if (r->status == OFF_ST_DELAY || r->status == OFF_ST_NO_DELAY) {
                    assert_int_equal(r->has_wait, dm[0] != 0);
                    if (r->has_wait)
                        assert_int_equal(r->wait_s, atoi(dm) * 60);
                } else {
                    assert_false(r->has_wait);
                }
                const char *lo = json_string_value(json_object_get(q, "lanes_open"));
                if (r->has_lanes)
                    assert_int_equal(r->lanes_open, atoi(lo));
            }
    }
    assert_int_equal(doc.n, queues);
    json_decref(root);

    /* 070801 Alexandria Bay: "At Noon EDT" on 6/29/2022 = 16:00 UTC */
    const off_rec_t *r = s_find(&doc, "070801", TAX_PASSENGER, TAX_STANDARD);
    assert_non_null(r);
    assert_int_equal(r->updated_s, 1656518400);
    assert_int_equal(r->status, OFF_ST_NO_DELAY);
    assert_int_equal(r->wait_s, 300); /* "no delay" with 5 minutes: both kept */
    assert_int_equal(r->lanes_open, 4);
    assert_int_equal(r->dir, TAX_SOUTHBOUND);
    off_doc_free(&doc);
    free(body);
}

static void test_cbsa_sample(void **state)
{
    (void)state;
    size_t len;
    char *body = s_must_slurp(CBSA_SAMPLE, &len);
    off_doc_t doc;
    assert_int_equal(off_parse_cbsa(body, len, s_reg, NOW_2022, &doc), 0);
    assert_int_equal(doc.ports, 25);
    /* North Portal (SK) faces Portal (ND), which the CBP list does not have */
    assert_int_equal(doc.ports_imported, 24);
    assert_int_equal(doc.reasons[OFF_R_UNKNOWN_PORT], 1);
    assert_int_equal(doc.n, 48);
    /* Peace Bridge: 2 minutes commercial, 14 minutes travellers, 09:50 EDT */
    const off_rec_t *r = s_find(&doc, "090101", TAX_PASSENGER, TAX_STANDARD);
    assert_non_null(r);
    assert_int_equal(r->dir, TAX_NORTHBOUND);
    assert_int_equal(r->status, OFF_ST_DELAY);
    assert_int_equal(r->wait_s, 14 * 60);
    assert_int_equal(r->updated_s, 1657201800);
    r = s_find(&doc, "090101", TAX_COMMERCIAL, TAX_STANDARD);
    assert_int_equal(r->wait_s, 120);
    /* Rainbow Bridge takes no trucks: Not Applicable, no number */
    r = s_find(&doc, "090102", TAX_COMMERCIAL, TAX_STANDARD);
    assert_int_equal(r->status, OFF_ST_NOT_APPLICABLE);
    assert_false(r->has_wait);
    /* St. Stephen 09:52 ADT = 12:52 UTC */
    r = s_find(&doc, "011501", TAX_PASSENGER, TAX_STANDARD);
    assert_int_equal(r->status, OFF_ST_NO_DELAY);
    assert_int_equal(r->updated_s, 1657198320);
    off_doc_free(&doc);
    free(body);
}

static void test_listed_texts(void **state)
{
    (void)state;
    assert_int_equal(off_status_parse("Update Pending"), OFF_ST_UPDATE_PENDING);
    assert_int_equal(off_status_parse("N/A"), OFF_ST_NOT_APPLICABLE);
    assert_int_equal(off_status_parse("Lanes Closed"), OFF_ST_LANES_CLOSED);
    assert_int_equal(off_status_parse("--"), OFF_ST_NO_DATA);
    assert_int_equal(off_status_parse("No Delay"), OFF_ST_NO_DELAY);
    assert_int_equal(off_status_parse(" not applicable "), OFF_ST_NOT_APPLICABLE);
    assert_int_equal(off_status_parse("15 minutes"), OFF_ST_NONE);
}

/* One CBP port with one queue; fields substituted. */
static int s_cbp_one(const char *port, const char *date, const char *status, const char *delay,
                     const char *lanes, off_doc_t *doc)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "[{\"port_number\":\"%s\",\"date\":\"%s\",\"time\":\"13:25:16\","
             "\"passenger_vehicle_lanes\":{\"standard_lanes\":{\"update_time\":\"At 1:00 pm EDT\","
             "\"operational_status\":\"%s\",\"delay_minutes\":\"%s\",\"lanes_open\":\"%s\"}}}]",
             port, date, status, delay, lanes);
    return off_parse_cbp(buf, strlen(buf), s_reg, NOW_2022, doc);
}

static void s_expect_item(const char *port, const char *date, const char *status,
                          const char *delay, const char *lanes, enum off_reason why)
{
    off_doc_t doc;
    assert_int_equal(s_cbp_one(port, date, status, delay, lanes, &doc), 0);
    assert_int_equal(doc.n, 0);
    assert_int_equal(doc.reasons[why], 1);
    off_doc_free(&doc);
}

static void test_cbp_bad_items(void **state)
{
    (void)state;
    off_doc_t doc;
    assert_int_equal(s_cbp_one("070801", "6/29/2022", "delay", "25", "3", &doc), 0);
    assert_int_equal(doc.n, 1);
    assert_int_equal(doc.recs[0].wait_s, 1500);
    off_doc_free(&doc);
    s_expect_item("999999", "6/29/2022", "delay", "25", "3", OFF_R_UNKNOWN_PORT);
    s_expect_item("070801", "6/29/2022", "delay", "-5", "3", OFF_R_IMPOSSIBLE);
    s_expect_item("070801", "6/29/2022", "delay", "10000", "3", OFF_R_IMPOSSIBLE);
    s_expect_item("070801", "6/29/2022", "delay", "25", "99", OFF_R_IMPOSSIBLE);
    s_expect_item("070801", "6/29/2099", "delay", "25", "3", OFF_R_FUTURE);
    s_expect_item("070801", "June 29", "delay", "25", "3", OFF_R_BAD_TIME);
    s_expect_item("070801", "6/29/2022", "very slow", "25", "3", OFF_R_BAD_VALUE);
    s_expect_item("070801", "6/29/2022", "delay", "lots", "3", OFF_R_BAD_VALUE);
    /* "Update Pending" is a status, never a number, even with minutes beside it */
    assert_int_equal(s_cbp_one("070801", "6/29/2022", "Update Pending", "30", "", &doc), 0);
    assert_int_equal(doc.recs[0].status, OFF_ST_UPDATE_PENDING);
    assert_false(doc.recs[0].has_wait);
    off_doc_free(&doc);
    /* the same port twice: the second is refused */
    const char *two = "[{\"port_number\":\"070801\"},{\"port_number\":\"070801\"}]";
    assert_int_equal(off_parse_cbp(two, strlen(two), s_reg, NOW_2022, &doc), 0);
    assert_int_equal(doc.ports_imported, 1);
    assert_int_equal(doc.reasons[OFF_R_DUPLICATE_PORT], 1);
    off_doc_free(&doc);
}

static void s_expect_doc(int cbsa, const char *body, size_t len, enum off_reason why)
{
    off_doc_t doc;
    int rc = cbsa ? off_parse_cbsa(body, len, s_reg, NOW_2022, &doc)
                  : off_parse_cbp(body, len, s_reg, NOW_2022, &doc);
    assert_int_equal(rc, -1);
    assert_true(doc.refused);
    assert_int_equal(doc.refused_why, why);
    assert_int_equal(doc.reasons[why], 1);
    assert_int_equal(doc.n, 0);
    off_doc_free(&doc);
}

static void test_bad_documents(void **state)
{
    (void)state;
    size_t len;
    char *body = s_must_slurp(CBP_SAMPLE, &len);
    s_expect_doc(0, body, len / 2, OFF_R_SYNTAX); /* truncated */
    free(body);
    const char *html = "<!DOCTYPE html><html><body>Service Unavailable</body></html>";
    s_expect_doc(0, html, strlen(html), OFF_R_NOT_DATA);
    s_expect_doc(1, html, strlen(html), OFF_R_NOT_DATA);
    const char *latin1 = "[{\"port_number\":\"070801\",\"port_name\":\"Montr\xe9" "al\"}]";
    s_expect_doc(0, latin1, strlen(latin1), OFF_R_CHARSET);
    s_expect_doc(0, "[]", 2, OFF_R_EMPTY);
    s_expect_doc(0, "{\"ports\":[]}", 12, OFF_R_SHAPE);
    s_expect_doc(0, "", 0, OFF_R_SYNTAX);
    const char *hdr = "\xEF\xBB\xBF" "Customs Office;; Location;; Last updated;; a;; b;; c;; d;;\n";
    s_expect_doc(1, hdr, strlen(hdr), OFF_R_EMPTY);
    s_expect_doc(1, "a,b,c\n1,2,3\n", 12, OFF_R_SHAPE);
}

static void test_cbsa_bad_rows(void **state)
{
    (void)state;
    const char *csv =
        "Customs Office;; Location;; Last updated;; C;; CU;; T;; TU;;\n"
        "Peace Bridge;; x;; 2022-07-07 09:50 EDT;; -3 minutes;; --;; 10000 minutes;; --;;\n"
        "Peace Bridge;; x;; 2022-07-07 09:50 EDT;; 5 minutes;; --;; 5 minutes;; --;;\n"
        "Nowhere;; x;; 2022-07-07 09:50 EDT;; 5 minutes;; --;; 5 minutes;; --;;\n"
        "Rainbow Bridge;; x;; 2099-07-07 09:50 EDT;; 5 minutes;; --;; 5 minutes;; --;;\n"
        "Emerson;; x;; yesterday;; 5 minutes;; --;; 5 minutes;; --;;\n"
        "Coutts;; x;; 2022-07-07 09:50 MDT;; Update Pending;; --;; 1 hour 5 minutes;; --;;\n";
    off_doc_t doc;
    assert_int_equal(off_parse_cbsa(csv, strlen(csv), s_reg, NOW_2022, &doc), 0);
    assert_int_equal(doc.ports, 6);
    assert_int_equal(doc.reasons[OFF_R_IMPOSSIBLE], 2);
    assert_int_equal(doc.reasons[OFF_R_DUPLICATE_PORT], 1);
    assert_int_equal(doc.reasons[OFF_R_UNKNOWN_PORT], 1);
    assert_int_equal(doc.reasons[OFF_R_FUTURE], 1);
    assert_int_equal(doc.reasons[OFF_R_BAD_TIME], 1);
    assert_int_equal(doc.n, 2);
    const off_rec_t *r = s_find(&doc, "331001", TAX_COMMERCIAL, TAX_STANDARD);
    assert_int_equal(r->status, OFF_ST_UPDATE_PENDING);
    r = s_find(&doc, "331001", TAX_PASSENGER, TAX_STANDARD);
    assert_int_equal(r->wait_s, 65 * 60);
    off_doc_free(&doc);
}

/* A queue with no measured data is published from the official value with
 * method "official"; once the update time is older than the limit it is
 * stale and shows no wait; measured data always wins. */
static void test_feed_official(void **state)
{
    (void)state;
    size_t len;
    char *body = s_must_slurp(CBSA_SAMPLE, &len);
    off_doc_t doc;
    assert_int_equal(off_parse_cbsa(body, len, s_reg, NOW_2022, &doc), 0);
    state_t *st = state_new(s_reg);
    assert_int_equal(state_apply_official(st, &doc, NOW_2022, 7200), doc.n);
    xstate_t *x = state_find(st, "090101");
    int64_t upd_ms = 1657201800LL * 1000;

    view_queue_t v;
    view_queue(x, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, upd_ms + 600000, 120000, &v);
    assert_true(v.official);
    assert_string_equal(v.status, "open");
    assert_int_equal(v.wait_s, 840);
    char *j = feed_crossings_json(st, upd_ms + 600000, 120000, "090101");
    json_t *root = json_loads(j, 0, NULL);
    json_t *q = json_array_get(json_object_get(json_array_get(json_object_get(
        json_array_get(json_object_get(root, "crossings"), 0), "directions"), 0), "queues"), 0);
    assert_string_equal(json_string_value(json_object_get(q, "method")), "official");
    assert_int_equal(json_integer_value(json_object_get(q, "wait_s")), 840);
    json_t *o = json_object_get(q, "official");
    assert_string_equal(json_string_value(json_object_get(o, "source")), "CBSA");
    assert_string_equal(json_string_value(json_object_get(o, "status")), "delay");
    assert_int_equal(json_integer_value(json_object_get(o, "age_s")), 600);
    json_decref(root);
    free(j);
    /* CBSA's own format, drop-in, carries it too (the same per-queue view) */
    char *csv = view_cbsa_csv(st, upd_ms + 600000, 120000);
    assert_non_null(csv);
    const char *row = strstr(csv, "Peace Bridge");
    assert_non_null(row);
    const char *eol = strchr(row, '\n');
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(eol ? eol - row : (long)strlen(row)), row);
    assert_non_null(strstr(line, "14 minutes"));
    free(csv);

    /* three hours later: stale, no wait */
    view_queue(x, TAX_NORTHBOUND, TAX_PASSENGER, TAX_STANDARD, upd_ms + 3 * 3600000, 120000, &v);
    assert_string_equal(v.status, "stale");
    assert_false(v.has_wait);
    /* the other direction (into the US) has no official value: untouched */
    view_queue(x, TAX_SOUTHBOUND, TAX_PASSENGER, TAX_STANDARD, upd_ms, 120000, &v);
    assert_false(v.official);
    assert_string_equal(v.status, "no_data");
    state_destroy(&st);
    off_doc_free(&doc);
    free(body);
}

int main(void)
{
    log_init("test_official", LOG_LVL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbp_sample),
        cmocka_unit_test(test_cbsa_sample),
        cmocka_unit_test(test_listed_texts),
        cmocka_unit_test(test_cbp_bad_items),
        cmocka_unit_test(test_bad_documents),
        cmocka_unit_test(test_cbsa_bad_rows),
        cmocka_unit_test(test_feed_official),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
