/* test_http — the collector's HTTP rules through a real server: rrdcached,
 * poe-collector and a poe-agent that replays the San Ysidro fixture, then
 * raw HTTP/1.1 requests (tests/lib/http_client) so every header and byte
 * the server sends is seen: conditional GET (ETag/If-None-Match and
 * Last-Modified/If-Modified-Since → 304 without a body), gzip (and that it
 * inflates to the identity document), Vary, CORS, Cache-Control per
 * endpoint, HEAD, the JSON 404/405/414/400 errors, the CBP XML's charset,
 * the CBSA CSV's BOM, /health and /metrics served from the published
 * snapshot (Age, as_of, a parseable exposition; still answered while the
 * main loop waits on a stopped rrdcached), and /health still answering.
 *
 * Live views carry the second in their tag, so a check that needs the same
 * representation twice retries (bounded) when the second moved between two
 * requests; a 200 that carries the very tag it was asked about is always a
 * failure. Nothing asserts on elapsed time: the blocked-loop check asserts
 * on the Age the collector reports, which only a snapshot can carry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "http_client.h"
#include "proc.h"
#include "stack.h"
#include "timeutil.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"
#define T0_S 1768464000LL /* fixture start, 2026-01-15T08:00Z */
#define HISTORY_OK "/v1/history?crossing=250401&direction=northbound&mode=passenger" \
                   "&from=1768464000&to=1768471200&step=60"
#define CT_JSON "application/json; charset=utf-8"
/* How often a check that needs one representation twice is retried when
 * the second changed in between (each try takes far less than a second). */
#define SAME_SECOND_TRIES 20

static teststack_t s_stack;

/* ---- helpers ----------------------------------------------------------------- */

static void s_run_agent(void)
{
    char log[600], fixture[1024], agent[1024], spool[600];
    snprintf(log, sizeof log, "%s/agent.log", s_stack.dir);
    snprintf(spool, sizeof spool, "%s/spool", s_stack.dir);
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(&s_stack, FIXTURE));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", s_stack.endpoint, "--replay", fixture,
                           "--speed", "0", "--spool", spool, NULL };
    pid_t pid = proc_spawn(argv, log);
    if (pid <= 0)
        fail_msg("cannot start poe-agent");
    int status = -1;
    if (proc_wait_exit(pid, 60000, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not finish the replay within 60 s (log %s)", log);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("agent exited with status %d (log %s)", status, log);
}

static int s_setup(void **state)
{
    (void)state;
    if (stack_start(&s_stack) != 0)
        return -1;
    s_run_agent();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    if (s_stack.rrdcached > 0) /* a failed blocked-loop test may leave it stopped */
        kill(s_stack.rrdcached, SIGCONT);
    return stack_stop(&s_stack);
}

/* One exchange; fails the test when the exchange itself fails. */
static void s_req(const char *method, const char *path, const char *const *headers,
                  hc_response_t *r)
{
    char why[256];
    if (hc_request(s_stack.http_port, method, path, headers, r, why, sizeof why) != 0)
        fail_msg("%s %.200s: %s", method, path, why);
}

static void s_get(const char *path, const char *const *headers, hc_response_t *r)
{
    s_req("GET", path, headers, r);
}

static void s_expect_header(const hc_response_t *r, const char *path, const char *name,
                            const char *want)
{
    const char *got = hc_header(r, name);
    if (!got)
        fail_msg("%.200s: no %s header (status %d)", path, name, r->status);
    if (strcmp(got, want) != 0)
        fail_msg("%.200s: %s is '%s', want '%s'", path, name, got, want);
}

static void s_expect_status(const hc_response_t *r, const char *path, int want)
{
    if (r->status != want)
        fail_msg("%.200s: status %d, want %d; body %.300s", path, r->status, want,
                 r->body ? r->body : "");
}

/* A JSON error: the status, JSON content, no-store, and a body
 * {"error": <containing want_reason>, "status": code}. */
static void s_expect_json_error(const hc_response_t *r, const char *path, int code,
                                const char *want_reason)
{
    s_expect_status(r, path, code);
    s_expect_header(r, path, "Content-Type", CT_JSON);
    s_expect_header(r, path, "Cache-Control", "no-store");
    s_expect_header(r, path, "Access-Control-Allow-Origin", "*");
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    if (!j)
        fail_msg("%.200s: error body is not JSON (%s): %.300s", path, err.text, r->body);
    const char *reason = json_string_value(json_object_get(j, "error"));
    json_int_t st = json_integer_value(json_object_get(j, "status"));
    if (!reason || st != code)
        fail_msg("%.200s: error body %.300s lacks error/status %d", path, r->body, code);
    if (want_reason && !strstr(reason, want_reason))
        fail_msg("%.200s: reason '%s' does not name '%s'", path, reason, want_reason);
    json_decref(j);
}

/* The Unix second of an IMF-fixdate, parsed independently of route.c. */
static int64_t s_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    if (!end || *end != '\0')
        fail_msg("not an HTTP date: '%s'", s ? s : "(none)");
    return (int64_t)timegm(&tm);
}

/* The body of a gzip response inflated (zlib, gzip wrapper only). */
static char *s_gunzip(const hc_response_t *r, size_t *len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    size_t cap = 1 << 20;
    char *out = malloc(cap);
    assert_non_null(out);
    z.next_in = (Bytef *)r->body;
    z.avail_in = (uInt)r->body_len;
    int rc;
    do {
        if (z.total_out == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        z.next_out = (Bytef *)out + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
    } while (rc == Z_OK);
    if (rc != Z_STREAM_END || z.avail_in != 0)
        fail_msg("gzip body does not inflate cleanly (zlib %d, %u bytes left)", rc, z.avail_in);
    *len = z.total_out;
    inflateEnd(&z);
    return out;
}

/* ---- conditional GET ------------------------------------------------------- */

/* /v1/hours is rendered again only when the observed hours change: its tag
 * and date are stable between changes, so every case is exact. The agent's
 * replay may still be moving the hours when the test starts (a slow,
 * sanitized build): a pass that meets another tag starts over. */
#define HOURS_TRIES 10

/* One pass over the conditional cases; false when the tag moved meanwhile. */
static bool s_conditional_stable_pass(const char *path)
{
    hc_response_t a, r;
    s_get(path, NULL, &a);
    s_expect_status(&a, path, 200);
    const char *etag = hc_header(&a, "ETag");
    const char *lm = hc_header(&a, "Last-Modified");
    assert_non_null(etag);
    assert_non_null(lm);
    assert_true(a.body_len > 0);
    s_expect_header(&a, path, "Vary", "Accept-Encoding");
    char h_inm[128], h_weak[160], h_list[192], h_ims[128];
    snprintf(h_inm, sizeof h_inm, "If-None-Match: %s", etag);
    snprintf(h_weak, sizeof h_weak, "If-None-Match: W/%s", etag);
    snprintf(h_list, sizeof h_list, "If-None-Match: \"0-1\", %s", etag);
    snprintf(h_ims, sizeof h_ims, "If-Modified-Since: %s", lm);
    bool same = true;

    /* A matching tag in any spelling: 304, no body, same validators. */
    const char *hit[][2] = { { h_inm, NULL }, { h_weak, NULL }, { h_list, NULL },
                             { "If-None-Match: *", NULL }, { h_ims, NULL } };
    for (size_t i = 0; same && i < sizeof hit / sizeof *hit; i++) {
        s_get(path, hit[i], &r);
        const char *now = hc_header(&r, "ETag");
        if (r.status == 200 && now && strcmp(now, etag) != 0) {
            same = false; /* the hours moved on */
        } else {
            if (r.status != 304)
                fail_msg("%s with '%s': status %d, want 304", path, hit[i][0], r.status);
            if (r.body_len != 0)
                fail_msg("%s with '%s': 304 carries %zu body bytes", path, hit[i][0],
                         r.body_len);
            s_expect_header(&r, path, "ETag", etag);
            s_expect_header(&r, path, "Last-Modified", lm);
            s_expect_header(&r, path, "Cache-Control", "public, max-age=300");
            s_expect_header(&r, path, "Vary", "Accept-Encoding");
            s_expect_header(&r, path, "Access-Control-Allow-Origin", "*");
        }
        hc_free(&r);
    }

    /* Not matching: the full document again. If-None-Match wins over a
     * matching If-Modified-Since; an unparseable date is ignored. */
    char h_ims_old[] = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT";
    const char *miss[][3] = { { "If-None-Match: \"0-1\"", NULL, NULL },
                              { "If-None-Match: \"0-1\"", h_ims, NULL },
                              { h_ims_old, NULL, NULL },
                              { "If-Modified-Since: yesterday", NULL, NULL } };
    for (size_t i = 0; same && i < sizeof miss / sizeof *miss; i++) {
        s_get(path, miss[i], &r);
        if (r.status != 200)
            fail_msg("%s with '%s'%s: status %d, want 200", path, miss[i][0],
                     miss[i][1] ? " and a matching date" : "", r.status);
        const char *now = hc_header(&r, "ETag");
        assert_non_null(now);
        if (strcmp(now, etag) != 0)
            same = false;
        else if (r.body_len != a.body_len || memcmp(r.body, a.body, a.body_len) != 0)
            fail_msg("%s with '%s': another body than the plain GET under the same tag %s",
                     path, miss[i][0], etag);
        hc_free(&r);
    }
    hc_free(&a);
    return same;
}

static void test_conditional_stable(void **state)
{
    (void)state;
    for (int tries = 0; !s_conditional_stable_pass("/v1/hours"); tries++)
        if (tries == HOURS_TRIES)
            fail_msg("/v1/hours: the tag changed during each of %d passes", tries + 1);
}

/* A live view's tag is "<state version>-<second>" and Last-Modified is that
 * second. Echoing either back is 304 unless the second (or the state)
 * moved on, and then the 200 carries a different tag. */
static void s_conditional_live(const char *path, bool by_date)
{
    for (int tries = 0;; tries++) {
        hc_response_t a, r;
        s_get(path, NULL, &a);
        s_expect_status(&a, path, 200);
        const char *etag = hc_header(&a, "ETag");
        const char *lm = hc_header(&a, "Last-Modified");
        assert_non_null(etag);
        assert_non_null(lm);
        unsigned long long version;
        long long second;
        int used = 0;
        if (sscanf(etag, "\"%llu-%lld\"%n", &version, &second, &used) != 2 ||
            etag[used] != '\0')
            fail_msg("%s: ETag '%s' is not \"<version>-<second>\"", path, etag);
        assert_int_equal(second, s_http_date(lm));

        char h[160];
        snprintf(h, sizeof h, by_date ? "If-Modified-Since: %s" : "If-None-Match: %s",
                 by_date ? lm : etag);
        const char *hdrs[] = { h, NULL };
        s_get(path, hdrs, &r);
        if (r.status == 304) {
            assert_int_equal(r.body_len, 0);
            s_expect_header(&r, path, "ETag", etag);
            s_expect_header(&r, path, "Cache-Control", "public, max-age=5");
            hc_free(&r);
            hc_free(&a);
            return;
        }
        s_expect_status(&r, path, 200);
        const char *etag2 = hc_header(&r, "ETag");
        assert_non_null(etag2);
        if (strcmp(etag2, etag) == 0)
            fail_msg("%s: '%s' answered 200 with that very tag", path, h);
        if (by_date && s_http_date(hc_header(&r, "Last-Modified")) <= s_http_date(lm))
            fail_msg("%s: '%s' answered 200 without a newer Last-Modified", path, h);
        hc_free(&r);
        hc_free(&a);
        if (tries == SAME_SECOND_TRIES)
            fail_msg("%s: the representation changed on each of %d tries", path, tries + 1);
    }
}

static void test_conditional_live(void **state)
{
    (void)state;
    const char *paths[] = { "/v1/crossings", "/v1/crossings/250401", "/xml/bwt.xml",
                            "/api/bwtnew", "/api/bwtpublicmod/250401", "/bwt-taf/bwt-eng.csv" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        s_conditional_live(paths[i], false);
        s_conditional_live(paths[i], true);
    }
    /* A tag from another version or second is never a match. */
    const char *hdrs[] = { "If-None-Match: \"0-0\"", NULL };
    hc_response_t r;
    s_get("/v1/crossings", hdrs, &r);
    s_expect_status(&r, "/v1/crossings", 200);
    assert_true(r.body_len > 0);
    hc_free(&r);
}

/* ---- gzip ------------------------------------------------------------------ */

/* Fetch path as identity and as gzip until both carry the same tag (the
 * same representation), then compare the inflated body with the plain
 * one byte for byte. */
static void s_gzip_same(const char *path, const char *accept)
{
    char h[128];
    snprintf(h, sizeof h, "Accept-Encoding: %s", accept);
    const char *gzh[] = { h, NULL };
    for (int tries = 0;; tries++) {
        hc_response_t plain, gz;
        s_get(path, NULL, &plain);
        s_get(path, gzh, &gz);
        s_expect_status(&plain, path, 200);
        s_expect_status(&gz, path, 200);
        assert_null(hc_header(&plain, "Content-Encoding"));
        s_expect_header(&gz, path, "Content-Encoding", "gzip");
        s_expect_header(&gz, path, "Vary", "Accept-Encoding");
        s_expect_header(&plain, path, "Vary", "Accept-Encoding");
        s_expect_header(&gz, path, "Content-Type", hc_header(&plain, "Content-Type"));
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", gz.body_len);
        s_expect_header(&gz, path, "Content-Length", cl);
        assert_true(gz.body_len >= 18 && (unsigned char)gz.body[0] == 0x1f &&
                    (unsigned char)gz.body[1] == 0x8b);
        size_t n;
        char *doc = s_gunzip(&gz, &n);
        bool same_tag = strcmp(hc_header(&plain, "ETag"), hc_header(&gz, "ETag")) == 0;
        if (same_tag && (n != plain.body_len || memcmp(doc, plain.body, n) != 0))
            fail_msg("%s: gzip body inflates to %zu bytes unlike the %zu-byte identity body "
                     "of the same ETag", path, n, plain.body_len);
        free(doc);
        hc_free(&plain);
        hc_free(&gz);
        if (same_tag)
            return;
        if (tries == SAME_SECOND_TRIES)
            fail_msg("%s: the representation changed on each of %d tries", path, tries + 1);
    }
}

static void test_gzip(void **state)
{
    (void)state;
    s_gzip_same("/v1/hours", "gzip");
    s_gzip_same("/v1/crossings", "gzip, deflate, br");
    s_gzip_same("/xml/bwt.xml", "x-gzip");
    s_gzip_same("/bwt-taf/bwt-eng.csv", "*");
    s_gzip_same("/api/bwtnew", "br;q=1.0, gzip;q=0.5");

    /* Refused or not offered: identity. */
    const char *no[] = { "Accept-Encoding: gzip;q=0", "Accept-Encoding: identity",
                         "Accept-Encoding: deflate, br", "Accept-Encoding: gzip;q=0.000", NULL };
    for (size_t i = 0; no[i]; i++) {
        const char *hdrs[] = { no[i], NULL };
        hc_response_t r;
        s_get("/v1/hours", hdrs, &r);
        s_expect_status(&r, "/v1/hours", 200);
        if (hc_header(&r, "Content-Encoding"))
            fail_msg("/v1/hours with '%s': Content-Encoding %s", no[i],
                     hc_header(&r, "Content-Encoding"));
        assert_int_equal(r.body[0], '{');
        hc_free(&r);
    }
}

/* ---- headers per endpoint ------------------------------------------------------ */

static const struct {
    const char *path, *ctype, *cache;
    bool view;   /* conditional: ETag, Last-Modified, Vary */
} s_endpoints[] = {
    { "/health", CT_JSON, "no-store", false },
    { "/metrics", "text/plain; version=0.0.4; charset=utf-8", "no-store", false },
    { "/v1/crossings", CT_JSON, "public, max-age=5", true },
    { "/v1/crossings/250401", CT_JSON, "public, max-age=5", true },
    { HISTORY_OK, CT_JSON, "public, max-age=60", false },
    { "/v1/hours", CT_JSON, "public, max-age=300", true },
    { "/v1/hours/mismatches", CT_JSON, "public, max-age=300", true },
    { "/xml/bwt.xml", "text/xml; charset=ISO-8859-1", "public, max-age=5", true },
    { "/api/bwtnew", CT_JSON, "public, max-age=5", true },
    { "/api/waittimes", CT_JSON, "public, max-age=5", true },
    { "/api/bwtpublicmod/250401", CT_JSON, "public, max-age=5", true },
    { "/bwt-taf/bwt-eng.csv", "text/csv; charset=utf-8", "public, max-age=5", true },
    { "/bwt-taf/bwt-eng.json", CT_JSON, "public, max-age=5", true },
};

static void test_headers_per_endpoint(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_endpoints / sizeof *s_endpoints; i++) {
        const char *path = s_endpoints[i].path;
        hc_response_t r;
        s_get(path, NULL, &r);
        s_expect_status(&r, path, 200);
        s_expect_header(&r, path, "Content-Type", s_endpoints[i].ctype);
        s_expect_header(&r, path, "Cache-Control", s_endpoints[i].cache);
        s_expect_header(&r, path, "Access-Control-Allow-Origin", "*");
        s_expect_header(&r, path, "Access-Control-Expose-Headers", "ETag, Last-Modified");
        s_expect_header(&r, path, "X-Content-Type-Options", "nosniff");
        assert_int_equal(hc_header_count(&r, "Cache-Control"), 1);
        assert_int_equal(hc_header_count(&r, "Content-Type"), 1);
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", r.body_len);
        s_expect_header(&r, path, "Content-Length", cl);
        assert_true(r.body_len > 0);
        if (s_endpoints[i].view) {
            assert_non_null(hc_header(&r, "ETag"));
            s_http_date(hc_header(&r, "Last-Modified"));
            s_expect_header(&r, path, "Vary", "Accept-Encoding");
        } else if (hc_header(&r, "ETag")) {
            fail_msg("%s: unexpected ETag %s", path, hc_header(&r, "ETag"));
        }
        /* Every JSON endpoint's body parses (the CBSA one after its BOM,
         * up to its trailing comment line). */
        if (strncmp(s_endpoints[i].ctype, "text/plain", 10) == 0 &&
            strncmp(r.body, "# HELP ", 7) != 0)
            fail_msg("%s: not a Prometheus exposition: %.80s", path, r.body);
        if (strcmp(s_endpoints[i].ctype, CT_JSON) == 0) {
            json_error_t err;
            const char *b = r.body;
            size_t n = r.body_len;
            if (n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
                b += 3;
                n = strcspn(b, "\n");
            }
            json_t *j = json_loadb(b, n, 0, &err);
            if (!j)
                fail_msg("%s: body is not JSON: %s", path, err.text);
            json_decref(j);
        }
        hc_free(&r);
    }
}

/* HEAD: the headers of a GET, Content-Length included, and no body. */
static void test_head(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_endpoints / sizeof *s_endpoints; i++) {
        const char *path = s_endpoints[i].path;
        hc_response_t r;
        s_req("HEAD", path, NULL, &r);
        s_expect_status(&r, path, 200);
        if (r.body_len != 0)
            fail_msg("HEAD %s: %zu body bytes", path, r.body_len);
        s_expect_header(&r, path, "Content-Type", s_endpoints[i].ctype);
        s_expect_header(&r, path, "Cache-Control", s_endpoints[i].cache);
        s_expect_header(&r, path, "Access-Control-Allow-Origin", "*");
        const char *cl = hc_header(&r, "Content-Length");
        if (!cl || atol(cl) <= 0)
            fail_msg("HEAD %s: Content-Length '%s'", path, cl ? cl : "(none)");
        if (s_endpoints[i].view)
            assert_non_null(hc_header(&r, "ETag"));
        hc_free(&r);
    }
    /* Exact length against a GET of the same (stable) representation, plain and gzip. */
    const char *gz[] = { "Accept-Encoding: gzip", NULL };
    for (int g = 0; g < 2; g++) {
        hc_response_t get, head;
        s_get("/v1/hours", g ? gz : NULL, &get);
        s_req("HEAD", "/v1/hours", g ? gz : NULL, &head);
        char cl[32];
        snprintf(cl, sizeof cl, "%zu", get.body_len);
        s_expect_header(&head, "HEAD /v1/hours", "Content-Length", cl);
        s_expect_header(&head, "HEAD /v1/hours", "ETag", hc_header(&get, "ETag"));
        if (g)
            s_expect_header(&head, "HEAD /v1/hours", "Content-Encoding", "gzip");
        else
            assert_null(hc_header(&head, "Content-Encoding"));
        hc_free(&get);
        hc_free(&head);
    }
    /* An error's HEAD has no body either. */
    hc_response_t r;
    s_req("HEAD", "/no/such/path", NULL, &r);
    s_expect_status(&r, "HEAD /no/such/path", 404);
    assert_int_equal(r.body_len, 0);
    hc_free(&r);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_method_not_allowed(void **state)
{
    (void)state;
    const char *methods[] = { "POST", "PUT", "DELETE", "PATCH" };
    const char *paths[] = { "/v1/crossings", "/health", "/xml/bwt.xml", HISTORY_OK };
    const char *hdrs[] = { "Content-Length: 0", NULL };
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
            hc_response_t r;
            s_req(methods[m], paths[p], hdrs, &r);
            s_expect_json_error(&r, paths[p], 405, "method not allowed");
            s_expect_header(&r, paths[p], "Allow", "GET, HEAD, OPTIONS");
            hc_free(&r);
        }
    }
    /* A small body is read and still answered with the JSON 405. */
    hc_response_t r;
    char why[256];
    const char *body_hdrs[] = { "Content-Type: application/json", NULL };
    if (hc_request_body(s_stack.http_port, "POST", "/v1/crossings", body_hdrs, "{}", 2, &r, why,
                        sizeof why) != 0)
        fail_msg("POST /v1/crossings {}: %s", why);
    s_expect_json_error(&r, "POST /v1/crossings {}", 405, "method not allowed");
    s_expect_header(&r, "POST /v1/crossings", "Allow", "GET, HEAD, OPTIONS");
    hc_free(&r);
}

/* A browser's preflight before a cross-origin revalidation (If-None-Match
 * is not a CORS-safelisted header): 204 with what it may send, on every
 * known path; an unknown path is still a 404. */
static void test_cors_preflight(void **state)
{
    (void)state;
    const char *paths[] = { "/v1/crossings", "/xml/bwt.xml", "/api/bwtnew", HISTORY_OK };
    const char *hdrs[] = { "Origin: https://example.org", "Access-Control-Request-Method: GET",
                           "Access-Control-Request-Headers: if-none-match", NULL };
    for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
        hc_response_t r;
        s_req("OPTIONS", paths[p], hdrs, &r);
        s_expect_status(&r, paths[p], 204);
        assert_int_equal(r.body_len, 0);
        s_expect_header(&r, paths[p], "Access-Control-Allow-Origin", "*");
        s_expect_header(&r, paths[p], "Access-Control-Allow-Methods", "GET, HEAD");
        const char *allow = hc_header(&r, "Access-Control-Allow-Headers");
        if (!allow || !strstr(allow, "If-None-Match") || !strstr(allow, "If-Modified-Since"))
            fail_msg("%s: Access-Control-Allow-Headers '%s'", paths[p], allow ? allow : "(none)");
        s_expect_header(&r, paths[p], "Access-Control-Max-Age", "86400");
        s_expect_header(&r, paths[p], "Allow", "GET, HEAD, OPTIONS");
        hc_free(&r);
    }
    hc_response_t r;
    s_req("OPTIONS", "/no/such/path", hdrs, &r);
    s_expect_json_error(&r, "OPTIONS /no/such/path", 404, "no such path");
    hc_free(&r);
}

static char *s_long_path(const char *prefix, size_t total)
{
    char *p = malloc(total + 1);
    assert_non_null(p);
    size_t n = strlen(prefix);
    memcpy(p, prefix, n);
    memset(p + n, 'a', total - n);
    p[total] = '\0';
    return p;
}

static void test_uri_too_long(void **state)
{
    (void)state;
    /* The limit is 2048 bytes of request-target, inclusive. */
    char *at = s_long_path("/v1/crossings?pad=", 2048);
    char *over = s_long_path("/v1/crossings?pad=", 2049);
    char *far = s_long_path("/nowhere/", 6000);
    hc_response_t r;
    s_get(at, NULL, &r);
    s_expect_status(&r, "2048-byte URI", 200);
    hc_free(&r);
    s_get(over, NULL, &r);
    s_expect_json_error(&r, "2049-byte URI", 414, "URI too long");
    hc_free(&r);
    s_get(far, NULL, &r);
    s_expect_json_error(&r, "6000-byte URI", 414, "URI too long");
    hc_free(&r);
    free(at);
    free(over);
    free(far);
}

static void test_headers_and_body_too_large(void **state)
{
    (void)state;
    /* 8 KiB of headers is the limit: a 9 KiB cookie gets a JSON 431. */
    char *big = malloc(9 * 1024 + 16);
    assert_non_null(big);
    memcpy(big, "Cookie: x=", 10);
    memset(big + 10, 'a', 9 * 1024);
    big[10 + 9 * 1024] = '\0';
    const char *hdrs[] = { big, NULL };
    hc_response_t r;
    char why[128];
    assert_int_equal(hc_request(s_stack.http_port, "GET", "/v1/crossings", hdrs, &r, why,
                                sizeof why), 0);
    s_expect_json_error(&r, "9 KiB of headers", 431, "header fields too large");
    hc_free(&r);
    /* Nothing takes a body: 2 KiB of one is a JSON 413. */
    char body[2048];
    memset(body, 'b', sizeof body);
    assert_int_equal(hc_request_body(s_stack.http_port, "GET", "/v1/crossings", NULL, body,
                                     sizeof body, &r, why, sizeof why), 0);
    s_expect_json_error(&r, "2 KiB body", 413, "body too large");
    hc_free(&r);
    free(big);
}

static void test_not_found(void **state)
{
    (void)state;
    const struct {
        const char *path, *reason;
    } cases[] = {
        { "/nope", "no such path" },
        { "/v1/crossings/", "no such path" },
        { "/v1/crossings/250401/x", "no such path" },
        { "/V1/crossings", "no such path" },
        { "/v1/crossings/999999", "unknown crossing '999999'" },
        { "/v1/crossings/abc", "unknown crossing 'abc'" },
        { "/api/bwtpublicmod/999999", "unknown crossing '999999'" },
        { "/v1/history?crossing=999999&direction=northbound&mode=passenger",
          "unknown crossing '999999'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hc_response_t r;
        s_get(cases[i].path, NULL, &r);
        s_expect_json_error(&r, cases[i].path, 404, cases[i].reason);
        hc_free(&r);
    }
    /* An unknown path is 404 whatever the method. */
    hc_response_t r;
    const char *hdrs[] = { "Content-Length: 0", NULL };
    s_req("POST", "/nope", hdrs, &r);
    s_expect_json_error(&r, "POST /nope", 404, "no such path");
    hc_free(&r);
}

static void test_history_bad_params(void **state)
{
    (void)state;
    const struct {
        const char *query, *names;
    } cases[] = {
        { "", "'crossing'" },
        { "crossing=250401&mode=passenger", "'direction'" },
        { "crossing=250401&direction=northbound", "'mode'" },
        { "crossing=25040&direction=northbound&mode=passenger", "crossing" },
        { "crossing=250401&direction=up&mode=passenger", "direction" },
        { "crossing=250401&direction=northbound&mode=car", "mode" },
        { "crossing=250401&direction=northbound&mode=passenger&lane=x", "lane" },
        { "crossing=250401&direction=northbound&mode=passenger&form=1", "'form'" },
        { "crossing=250401&direction=northbound&mode=passenger&mode=passenger", "'mode'" },
        { "crossing=250401&direction=northbound&mode=passenger&step=0", "step" },
        { "crossing=250401&direction=northbound&mode=passenger&from=x", "from" },
        { "crossing=250401&direction=northbound&mode=passenger&to=-1", "to" },
        { "crossing=250401&direction=northbound&mode=passenger&from=2000&to=1000", "to must be after from" },
        { "crossing=250401&direction=northbound&mode=passenger&from=0&to=99999999", "span" },
        { "crossing=250401&direction=northbound&mode=passenger&lane=%zz", "'lane'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[512];
        snprintf(path, sizeof path, "/v1/history?%s", cases[i].query);
        hc_response_t r;
        s_get(path, NULL, &r);
        s_expect_json_error(&r, path, 400, cases[i].names);
        hc_free(&r);
    }
    /* The same queue asked correctly has the fixture's minutes. */
    hc_response_t r;
    s_get(HISTORY_OK, NULL, &r);
    s_expect_status(&r, HISTORY_OK, 200);
    json_error_t err;
    json_t *j = json_loadb(r.body, r.body_len, 0, &err);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "step")), 60);
    /* One row per minute of (from, to], each ending on its minute, with
     * counts (the archive may add the row ending one step after to:
     * rrdcached's FETCH includes the interval holding the end). */
    json_t *rows = json_object_get(j, "rows"), *row;
    size_t i, inside = 0;
    json_array_foreach(rows, i, row) {
        json_int_t t = json_integer_value(json_array_get(row, 0));
        assert_int_equal(t, T0_S + 60 * (json_int_t)(i + 1));
        assert_int_equal(json_array_size(row), 9);
        if (t <= T0_S + 7200) {
            inside++;
            if (!json_is_number(json_array_get(row, 2)))
                fail_msg("history row %lld has no arrivals", (long long)t);
        }
    }
    assert_int_equal(inside, 120);
    assert_int_equal(json_array_size(json_object_get(j, "columns")), 9); /* 6 + 3 official */
    json_decref(j);

    /* Asked with gzip: the same document, compressed (the archive does not
     * change between the two requests). */
    const char *gzh[] = { "Accept-Encoding: gzip", NULL };
    hc_response_t gz;
    s_get(HISTORY_OK, gzh, &gz);
    s_expect_status(&gz, HISTORY_OK, 200);
    s_expect_header(&gz, HISTORY_OK, "Content-Encoding", "gzip");
    s_expect_header(&gz, HISTORY_OK, "Vary", "Accept-Encoding");
    s_expect_header(&r, HISTORY_OK, "Vary", "Accept-Encoding");
    assert_null(hc_header(&r, "Content-Encoding"));
    size_t n;
    char *doc = s_gunzip(&gz, &n);
    if (n != r.body_len || memcmp(doc, r.body, n) != 0)
        fail_msg("history: gzip body inflates to %zu bytes unlike the %zu-byte identity body", n,
                 r.body_len);
    if (gz.body_len >= r.body_len)
        fail_msg("history: gzip body %zu bytes for %zu plain", gz.body_len, r.body_len);
    free(doc);
    hc_free(&gz);
    hc_free(&r);
}

/* ---- official formats --------------------------------------------------------- */

/* True when s[0..n) holds a well-formed UTF-8 multi-byte sequence: text
 * that should be Latin-1 but was sent as UTF-8 ("é" as C3 A9). */
static bool s_has_utf8_sequence(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] >= 0xC2 && s[i] <= 0xF4 && s[i + 1] >= 0x80 && s[i + 1] <= 0xBF)
            return true;
    return false;
}

static void test_cbp_xml_latin1(void **state)
{
    (void)state;
    const char *path = "/xml/bwt.xml";
    hc_response_t r;
    s_get(path, NULL, &r);
    s_expect_status(&r, path, 200);
    s_expect_header(&r, path, "Content-Type", "text/xml; charset=ISO-8859-1");
    static const char prolog[] = "<?xml version='1.0' encoding='ISO-8859-1'?><border_wait_time>";
    assert_true(r.body_len > sizeof prolog);
    if (memcmp(r.body, prolog, sizeof prolog - 1) != 0)
        fail_msg("%s starts '%.80s'", path, r.body);
    static const char tail[] = "</border_wait_time>";
    assert_memory_equal(r.body + r.body_len - (sizeof tail - 1), tail, sizeof tail - 1);
    assert_non_null(strstr(r.body, "<port_number>250401</port_number>"));
    /* One line, no NUL, and Latin-1 rather than UTF-8. */
    assert_int_equal(strlen(r.body), r.body_len);
    assert_null(memchr(r.body, '\n', r.body_len));
    if (s_has_utf8_sequence((const unsigned char *)r.body, r.body_len))
        fail_msg("%s holds UTF-8 sequences in an ISO-8859-1 document", path);
    hc_free(&r);
}

static void test_cbsa_bom(void **state)
{
    (void)state;
    hc_response_t r;
    s_get("/bwt-taf/bwt-eng.csv", NULL, &r);
    s_expect_status(&r, "csv", 200);
    s_expect_header(&r, "csv", "Content-Type", "text/csv; charset=utf-8");
    assert_true(r.body_len > 3);
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    assert_int_equal(strncmp(r.body + 3, "Customs Office;; ", 17), 0);
    /* CRLF line ends, every line ending in ";;". */
    size_t lines = 0;
    for (const char *p = r.body; (p = strstr(p, "\r\n")); p += 2, lines++)
        if (p - r.body < 2 || p[-1] != ';' || p[-2] != ';')
            fail_msg("csv line %zu does not end in ';;'", lines + 1);
    assert_true(lines >= 2);
    assert_memory_equal(r.body + r.body_len - 2, "\r\n", 2);
    assert_null(strstr(r.body, "\n\n"));
    hc_free(&r);

    s_get("/bwt-taf/bwt-eng.json", NULL, &r);
    s_expect_status(&r, "cbsa json", 200);
    assert_memory_equal(r.body, "\xEF\xBB\xBF{\"waitTimes\":[", 17);
    hc_free(&r);
}

/* ---- /health and /metrics from the published snapshot ---------------------------- */

/* The Age header of a /health or /metrics answer (fails when absent). */
static long s_age(const hc_response_t *r, const char *path)
{
    const char *age = hc_header(r, "Age");
    if (!age)
        fail_msg("%s: no Age header (status %d)", path, r->status);
    char *end;
    long v = strtol(age, &end, 10);
    if (end == age || *end || v < 0)
        fail_msg("%s: Age '%s' is not a number of seconds", path, age);
    return v;
}

/* Every line of a Prometheus text exposition: "# HELP", "# TYPE", or
 * name[{labels}] value with a finite number; returns the value of metric
 * name (NAN when absent). */
static double s_exposition(const char *text, const char *name)
{
    double found = NAN;
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0)
            continue;
        size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
        if (n == 0 || (line[0] >= '0' && line[0] <= '9'))
            fail_msg("/metrics: bad metric name in '%.120s'", line);
        const char *rest = line + n;
        if (*rest == '{' && !(rest = strchr(rest, '}')))
            fail_msg("/metrics: unterminated labels in '%.120s'", line);
        if (*rest == '}')
            rest++;
        if (*rest != ' ')
            fail_msg("/metrics: no value in '%.120s'", line);
        char *end;
        double v = strtod(rest + 1, &end);
        if (end == rest + 1 || *end || !isfinite(v))
            fail_msg("/metrics: bad value in '%.120s'", line);
        if (strlen(name) == n && strncmp(line, name, n) == 0 && line[n] == ' ')
            found = v;
    }
    free(copy);
    return found;
}

static void test_health_and_metrics_from_snapshot(void **state)
{
    (void)state;
    hc_response_t r;
    s_get("/health", NULL, &r);
    s_expect_status(&r, "/health", 200);
    long age = s_age(&r, "/health");
    json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
    assert_non_null(j);
    const char *as_of = json_string_value(json_object_get(j, "as_of"));
    json_int_t as_of_ms = json_integer_value(json_object_get(j, "as_of_ms"));
    if (!as_of || strlen(as_of) != strlen("2026-01-15T08:00:00.000Z") || as_of[10] != 'T' ||
        as_of[strlen(as_of) - 1] != 'Z')
        fail_msg("/health: as_of '%s' is not ISO-8601 UTC with milliseconds", as_of ? as_of : "");
    /* rendered by the collector within the last minute (the same clock),
     * and Age agrees with it to the second the two were measured apart */
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    if (as_of_ms < now_ms - 60000 || as_of_ms > now_ms + 1000)
        fail_msg("/health: as_of_ms %lld is not within a minute of now %lld", (long long)as_of_ms,
                 (long long)now_ms);
    if (age > 60)
        fail_msg("/health: Age %ld on a collector that is publishing", age);
    /* every field the dashboards and the other tests read is still there */
    const char *fields[] = { "status", "archive", "uptime_s", "frames_in", "batches_accepted",
                             "samples_accepted", "rejected", "agents", "stream", "official" };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!json_object_get(j, fields[i]))
            fail_msg("/health: no '%s' in %.300s", fields[i], r.body);
    json_decref(j);
    hc_free(&r);

    s_get("/metrics", NULL, &r);
    s_expect_status(&r, "/metrics", 200);
    (void)s_age(&r, "/metrics");
    double published = s_exposition(r.body, "poenet_published_timestamp_seconds");
    if (isnan(published) || fabs(published - (double)time(NULL)) > 60)
        fail_msg("/metrics: poenet_published_timestamp_seconds %f is not within a minute of now",
                 published);
    if (isnan(s_exposition(r.body, "poenet_frames_received_total")))
        fail_msg("/metrics: no poenet_frames_received_total");
    hc_free(&r);
}

/* ---- still serving ---------------------------------------------------------------- */

static void test_health_after_all(void **state)
{
    (void)state;
    hc_response_t r;
    s_get("/health", NULL, &r);
    s_expect_status(&r, "/health", 200);
    s_expect_header(&r, "/health", "Cache-Control", "no-store");
    json_error_t err;
    json_t *j = json_loadb(r.body, r.body_len, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(j, "archive")), "connected");
    json_t *agents = json_object_get(j, "agents");
    assert_true(json_is_array(agents));
    bool found = false;
    size_t i;
    json_t *a;
    json_array_foreach(agents, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "crossing")), "250401") == 0 &&
            strcmp(json_string_value(json_object_get(a, "direction")), "northbound") == 0)
            found = json_integer_value(json_object_get(a, "acked_seq")) > 0;
    }
    if (!found)
        fail_msg("/health agents[] has no 250401 northbound with acked_seq > 0: %.400s", r.body);
    json_decref(j);
    hc_free(&r);
}

/* ---- /health while the main loop is blocked ------------------------------------------ */

typedef struct {
    int status;         /* -1: the exchange failed */
    atomic_bool done;
} s_history_t;

static void *s_history_run(void *arg)
{
    s_history_t *h = arg;
    hc_response_t r;
    h->status = hc_request(s_stack.http_port, "GET", HISTORY_OK, NULL, &r, NULL, 0) == 0
                    ? r.status : -1;
    hc_free(&r);
    atomic_store(&h->done, true);
    return NULL;
}

/* One try: rrdcached stopped while a /v1/history job waits for it on the
 * main loop, /health probed every 100 ms. Returns whether the loop was
 * seen waiting (a history slower than 2 s) and sets *blocked_seen. */
static bool s_try_blocked_loop(bool *blocked_seen, int *probes, long *max_age, int *status)
{
    assert_int_equal(kill(s_stack.rrdcached, SIGSTOP), 0);
    s_history_t h = { .status = 0 };
    atomic_init(&h.done, false);
    pthread_t th;
    int64_t t0 = tu_mono_ms();
    assert_int_equal(pthread_create(&th, NULL, s_history_run, &h), 0);
    *max_age = -1;
    *probes = 0;
    *blocked_seen = false;
    /* until the history answered, and at most 4.5 s (its wait is 5 s) */
    for (int i = 0; i < 45 && !atomic_load(&h.done); i++) {
        usleep(100 * 1000);
        hc_response_t r;
        s_get("/health", NULL, &r);
        s_expect_status(&r, "/health (main loop blocked)", 200);
        long age = s_age(&r, "/health (main loop blocked)");
        if (age > *max_age)
            *max_age = age;
        *blocked_seen |= age >= 2 && !atomic_load(&h.done);
        (*probes)++;
        hc_free(&r);
    }
    bool waited = !atomic_load(&h.done) || tu_mono_ms() - t0 >= 2000;
    kill(s_stack.rrdcached, SIGCONT);
    pthread_join(th, NULL);
    *status = h.status;
    return waited;
}

/* With rrdcached stopped, a /v1/history job holds the main loop in its
 * FETCH for the archive's bounded wait (5 s). /health must still answer,
 * 200, from the snapshot published before: an Age of 2 s or more can only
 * come from a snapshot the loop did not replace (it republishes every
 * second), so a /health answered by that loop (as a job) fails here. A try
 * whose history came back at once did not hold the loop (seen twice in
 * CI runs under load, cause unknown: the file is there and rrdcached was
 * stopped); it is tried again, at most three times. Last in the file: the
 * archive's connection is lost by the timeout. */
static void test_health_while_main_loop_blocked(void **state)
{
    (void)state;
    bool blocked_seen = false, waited = false;
    int probes = 0, status = 0;
    long max_age = -1;
    for (int attempt = 1; attempt <= 3 && !waited; attempt++) {
        waited = s_try_blocked_loop(&blocked_seen, &probes, &max_age, &status);
        print_message("try %d: %d /health answers while the main loop waited; largest Age %ld s; "
                      "history %d%s\n", attempt, probes, max_age, status,
                      waited ? "" : " (came back at once: the loop did not wait)");
    }
    if (!waited)
        fail_msg("a /v1/history never held the main loop on a stopped rrdcached in 3 tries");
    if (!blocked_seen)
        fail_msg("/health never came from a snapshot 2 s old while the main loop waited on a "
                 "stopped rrdcached (%d answers, largest Age %ld)", probes, max_age);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditional_stable),
        cmocka_unit_test(test_conditional_live),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_headers_per_endpoint),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_cors_preflight),
        cmocka_unit_test(test_uri_too_long),
        cmocka_unit_test(test_headers_and_body_too_large),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_history_bad_params),
        cmocka_unit_test(test_cbp_xml_latin1),
        cmocka_unit_test(test_cbsa_bom),
        cmocka_unit_test(test_health_and_metrics_from_snapshot),
        cmocka_unit_test(test_health_after_all),
        cmocka_unit_test(test_health_while_main_loop_blocked),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
