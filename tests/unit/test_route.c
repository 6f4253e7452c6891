/* test_route — the HTTP server's pure parsing: path routing, the
 * /v1/history query (defaults, limits and the reason given for each 400),
 * entity tags and If-None-Match, and the listen address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "route.h"

#define NOW 1795815000LL

/* ---- paths -------------------------------------------------------------- */

static void test_match(void **state)
{
    (void)state;
    char id[ROUTE_ID_MAX];
    assert_int_equal(route_match("/health", id, sizeof id), ROUTE_HEALTH);
    assert_int_equal(route_match("/v1/crossings", id, sizeof id), ROUTE_CROSSINGS);
    assert_int_equal(route_match("/v1/history", id, sizeof id), ROUTE_HISTORY);
    memset(id, 0, sizeof id);
    assert_int_equal(route_match("/v1/crossings/250401", id, sizeof id), ROUTE_CROSSING);
    assert_string_equal(id, "250401");
    /* Syntax of the id is the handler's business (404 naming it). */
    assert_int_equal(route_match("/v1/crossings/abc", id, sizeof id), ROUTE_CROSSING);
    assert_string_equal(id, "abc");
}

static void test_match_rejects(void **state)
{
    (void)state;
    char id[ROUTE_ID_MAX];
    const char *bad[] = {
        "", "/health/", "/healthz", "/v1", "/v1/crossings/", "/v1/crossings/250401/",
        "/v1/crossings/250401/x", "/v1/crossings/0123456789abcdef", "/v2/crossings",
        "/v1/historyx", "/V1/crossings",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (route_match(bad[i], id, sizeof id) != ROUTE_NONE)
            fail_msg("'%s' should not route", bad[i]);
    assert_int_equal(route_match(NULL, id, sizeof id), ROUTE_NONE);
    /* A buffer too small for the segment is refused, not overrun. */
    char small[4];
    assert_int_equal(route_match("/v1/crossings/250401", small, sizeof small), ROUTE_NONE);
}

/* ---- history query ------------------------------------------------------ */

static void test_history_full(void **state)
{
    (void)state;
    route_history_t q;
    char why[128] = "";
    int rc = route_parse_history("crossing=250401&direction=southbound&mode=pedestrian"
                                 "&lane=nexus_sentri&from=1795000000&to=1795086400&step=300",
                                 NOW, &q, why, sizeof why);
    if (rc != 0)
        fail_msg("rejected: %s", why);
    assert_string_equal(q.crossing, "250401");
    assert_int_equal(q.dir, TAX_SOUTHBOUND);
    assert_int_equal(q.mode, TAX_PEDESTRIAN);
    assert_int_equal(q.type, TAX_NEXUS_SENTRI);
    assert_int_equal(q.from, 1795000000);
    assert_int_equal(q.to, 1795086400);
    assert_int_equal(q.step, 300);
}

static void test_history_defaults(void **state)
{
    (void)state;
    route_history_t q;
    char why[128] = "";
    assert_int_equal(route_parse_history("mode=passenger&direction=northbound&crossing=250401",
                                         NOW, &q, why, sizeof why), 0);
    assert_int_equal(q.type, TAX_STANDARD);
    assert_int_equal(q.to, NOW);
    assert_int_equal(q.from, NOW - 3600);
    assert_int_equal(q.step, 60);

    /* from alone: up to now. to alone: the hour before it. */
    assert_int_equal(route_parse_history("crossing=250401&direction=northbound&mode=passenger"
                                         "&from=1795800000", NOW, &q, why, sizeof why), 0);
    assert_int_equal(q.from, 1795800000);
    assert_int_equal(q.to, NOW);
    assert_int_equal(route_parse_history("crossing=250401&direction=northbound&mode=passenger"
                                         "&to=1795000000", NOW, &q, why, sizeof why), 0);
    assert_int_equal(q.from, 1795000000 - 3600);
    assert_int_equal(q.to, 1795000000);
}

static void test_history_encoding(void **state)
{
    (void)state;
    route_history_t q;
    char why[128] = "";
    /* Percent-encoded names, empty segments and a trailing '&' are fine. */
    assert_int_equal(route_parse_history("%63rossing=25040%31&&direction=north%62ound&mode="
                                         "passenger&lane=nexus%5Fsentri&", NOW, &q, why,
                                         sizeof why), 0);
    assert_string_equal(q.crossing, "250401");
    assert_int_equal(q.dir, TAX_NORTHBOUND);
    assert_int_equal(q.type, TAX_NEXUS_SENTRI);
}

static void s_expect_400(const char *query, const char *reason)
{
    route_history_t q;
    char why[128] = "";
    if (route_parse_history(query, NOW, &q, why, sizeof why) != -1)
        fail_msg("accepted: %s", query ? query : "(null)");
    if (strcmp(why, reason) != 0)
        fail_msg("'%s': got reason '%s', want '%s'", query ? query : "(null)", why, reason);
}

#define BASE "crossing=250401&direction=northbound&mode=passenger"

static void test_history_bad(void **state)
{
    (void)state;
    s_expect_400(NULL, "missing parameter 'crossing'");
    s_expect_400("", "missing parameter 'crossing'");
    s_expect_400("crossing=250401&mode=passenger", "missing parameter 'direction'");
    s_expect_400("crossing=250401&direction=northbound", "missing parameter 'mode'");
    s_expect_400("crossing=25040&direction=northbound&mode=passenger",
                 "crossing must be a 6-digit port number");
    s_expect_400("crossing=25040a&direction=northbound&mode=passenger",
                 "crossing must be a 6-digit port number");
    s_expect_400("crossing=250401&direction=north&mode=passenger",
                 "direction must be northbound or southbound");
    s_expect_400("crossing=250401&direction=northbound&mode=car",
                 "mode must be passenger, pedestrian or commercial");
    s_expect_400(BASE "&lane=sentri", "lane must be standard, ready, nexus_sentri or fast");
    s_expect_400(BASE "&form=1795000000", "unknown parameter 'form'");
    s_expect_400(BASE "&mode=pedestrian", "parameter 'mode' given twice");
    s_expect_400(BASE "&from", "parameter 'from' has no value");
    s_expect_400(BASE "&=5", "malformed query string");
    s_expect_400(BASE "&lane=%zz", "bad percent-encoding in 'lane'");
    s_expect_400(BASE "&lane=%4", "bad percent-encoding in 'lane'");
    s_expect_400(BASE "&lane=standard%00x", "bad percent-encoding in 'lane'");
    s_expect_400(BASE "&lane=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "parameter 'lane' is too long");
    s_expect_400(BASE "&from=17950000x", "from must be Unix seconds");
    s_expect_400(BASE "&from=-5", "from must be Unix seconds");
    s_expect_400(BASE "&from=", "from must be Unix seconds");
    s_expect_400(BASE "&to=99999999999999", "to must be Unix seconds");
    s_expect_400(BASE "&to=+1795000000", "to must be Unix seconds");
    s_expect_400(BASE "&step=0", "step must be 1..86400 seconds");
    s_expect_400(BASE "&step=86401", "step must be 1..86400 seconds");
    s_expect_400(BASE "&step=1.5", "step must be 1..86400 seconds");
    s_expect_400(BASE "&from=1795000000&to=1795000000", "to must be after from");
    s_expect_400(BASE "&from=1795000001&to=1795000000", "to must be after from");
    s_expect_400(BASE "&from=1795900000", "to must be after from");
    s_expect_400(BASE "&from=1700000000&to=1795000000", "span exceeds 400 days");
}

static void test_history_span_limit_inclusive(void **state)
{
    (void)state;
    route_history_t q;
    char why[128] = "";
    assert_int_equal(route_parse_history(BASE "&from=1700000000&to=1734560000", NOW, &q, why,
                                         sizeof why), 0);
    assert_int_equal(q.to - q.from, ROUTE_MAX_SPAN_S);
    s_expect_400(BASE "&from=1700000000&to=1734560001", "span exceeds 400 days");
}

/* ---- entity tags -------------------------------------------------------- */

static void test_etag(void **state)
{
    (void)state;
    char etag[48];
    assert_string_equal(route_etag(42, 1795815000, etag, sizeof etag), "\"42-1795815000\"");
    assert_true(route_etag_matches("\"42-1795815000\"", etag));
    assert_true(route_etag_matches("W/\"42-1795815000\"", etag));
    assert_true(route_etag_matches("\"1-2\", \"42-1795815000\"", etag));
    assert_true(route_etag_matches("\"1-2\" ,W/\"42-1795815000\" ", etag));
    assert_true(route_etag_matches("*", etag));
    assert_false(route_etag_matches(NULL, etag));
    assert_false(route_etag_matches("", etag));
    assert_false(route_etag_matches("\"42-179581500\"", etag));
    assert_false(route_etag_matches("\"42-17958150000\"", etag));
    assert_false(route_etag_matches("42-1795815000", etag));
    assert_false(route_etag_matches("\"1-2\", \"43-1795815000\"", etag));
}

/* ---- listen address ----------------------------------------------------- */

static void test_listen(void **state)
{
    (void)state;
    char addr[16];
    uint16_t port = 1;
    assert_int_equal(route_parse_listen("127.0.0.1:8080", addr, sizeof addr, &port), 0);
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(route_parse_listen("0.0.0.0:0", addr, sizeof addr, &port), 0);
    assert_string_equal(addr, "0.0.0.0");
    assert_int_equal(port, 0);
    const char *bad[] = { NULL, "", "8080", ":8080", "127.0.0.1", "127.0.0.1:",
                          "127.0.0.1:65536", "127.0.0.1:80x", "localhost:80", "::1:80",
                          "127.0.0.256:80", "127.0.0.1:-1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (route_parse_listen(bad[i], addr, sizeof addr, &port) != -1)
            fail_msg("'%s' should be refused", bad[i] ? bad[i] : "(null)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_match_rejects),
        cmocka_unit_test(test_history_full),
        cmocka_unit_test(test_history_defaults),
        cmocka_unit_test(test_history_encoding),
        cmocka_unit_test(test_history_bad),
        cmocka_unit_test(test_history_span_limit_inclusive),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
