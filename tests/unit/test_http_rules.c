/* test_http_rules — the HTTP server's pure helpers that test_route does not
 * cover: routing of the hours and official-format paths and the {id}
 * length limit, Accept-Encoding negotiation (route_accepts_gzip), HTTP
 * dates both ways (route_http_date, route_parse_http_date), more
 * If-None-Match spellings, and the shared, refcounted, gzip'ed bodies and
 * cache slots of http_cache (checked byte for byte by inflating with zlib;
 * reference mistakes show up under SANITIZE=address as use-after-free or
 * leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "http_cache.h"
#include "route.h"

/* ---- paths -------------------------------------------------------------- */

static void test_match_all_routes(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        enum route_kind kind;
    } fixed[] = {
        { "/health", ROUTE_HEALTH },
        { "/metrics", ROUTE_METRICS },
        { "/v1/crossings", ROUTE_CROSSINGS },
        { "/v1/history", ROUTE_HISTORY },
        { "/v1/hours", ROUTE_HOURS },
        { "/v1/hours/mismatches", ROUTE_MISMATCHES },
        { "/xml/bwt.xml", ROUTE_CBP_XML },
        { "/api/bwtnew", ROUTE_CBP_BWTNEW },
        { "/api/waittimes", ROUTE_CBP_WAITTIMES },
        { "/bwt-taf/bwt-eng.csv", ROUTE_CBSA_CSV },
        { "/bwt-taf/bwt-eng.json", ROUTE_CBSA_JSON },
        { "/bwt-taf/bwt-fra.csv", ROUTE_CBSA_CSV_FR },
        { "/bwt-taf/bwt-fra.json", ROUTE_CBSA_JSON_FR },
        { "/sw.js", ROUTE_DASH_SW },
        { "/v1/stream", ROUTE_STREAM },
        { "/v1/labels", ROUTE_LABELS },
    };
    char id[ROUTE_ID_MAX];
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (route_match(fixed[i].path, id, sizeof id) != fixed[i].kind)
            fail_msg("'%s' routes to %d, want %d", fixed[i].path,
                     route_match(fixed[i].path, id, sizeof id), fixed[i].kind);
    memset(id, 0, sizeof id);
    assert_int_equal(route_match("/api/bwtpublicmod/250401", id, sizeof id), ROUTE_CBP_PORT);
    assert_string_equal(id, "250401");
    assert_int_equal(route_match("/v1/hours/250401", id, sizeof id), ROUTE_HOURS_ONE);
    assert_string_equal(id, "250401");
    /* Not the fixed path: a crossing named so (the server 404s it). */
    assert_int_equal(route_match("/v1/hours/mismatch", id, sizeof id), ROUTE_HOURS_ONE);
}

static void test_match_rejects_near_misses(void **state)
{
    (void)state;
    char id[ROUTE_ID_MAX];
    const char *bad[] = {
        "/v1/hours/", "/v1/hours/mismatches/", "/v1/hours/250401/", "/xml/bwt.xml/",
        "/xml/BWT.xml", "/xml/bwt.xm", "/api/bwtnew/", "/api/waittime", "/api/bwtpublicmod",
        "/api/bwtpublicmod/", "/api/bwtpublicmod/250401/", "/api/bwtpublicmod/250401/x",
        "/bwt-taf/bwt-eng.csv/", "/bwt-taf/bwt-fra.csv/", "/bwt-taf/bwt-deu.csv", "/bwt-taf/", "/metrics/",
        "//v1/crossings", "/v1//crossings", "v1/crossings", "/health?x=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (route_match(bad[i], id, sizeof id) != ROUTE_NONE)
            fail_msg("'%s' should not route", bad[i]);
}

/* The {id} segment fits ROUTE_ID_MAX with its NUL: 15 bytes route, 16 do
 * not, whatever the caller's buffer. */
static void test_match_id_length(void **state)
{
    (void)state;
    char id[64];
    char path[128];
    memset(id, 'x', sizeof id);
    snprintf(path, sizeof path, "/v1/crossings/%.*s", ROUTE_ID_MAX - 1, "123456789012345678901234");
    assert_int_equal(route_match(path, id, sizeof id), ROUTE_CROSSING);
    assert_int_equal(strlen(id), ROUTE_ID_MAX - 1);
    snprintf(path, sizeof path, "/api/bwtpublicmod/%.*s", ROUTE_ID_MAX, "123456789012345678901234");
    assert_int_equal(route_match(path, id, sizeof id), ROUTE_NONE);
    snprintf(path, sizeof path, "/v1/crossings/%.*s", ROUTE_ID_MAX, "123456789012345678901234");
    assert_int_equal(route_match(path, id, sizeof id), ROUTE_NONE);
    /* Exactly the room for "250401" and its NUL. */
    char seven[7];
    assert_int_equal(route_match("/api/bwtpublicmod/250401", seven, sizeof seven), ROUTE_CBP_PORT);
    assert_string_equal(seven, "250401");
    assert_int_equal(route_match("/api/bwtpublicmod/2504011", seven, sizeof seven), ROUTE_NONE);
}

/* The URI limit the server enforces (414) and documents (docs/feed.md,
 * docs/openapi.yaml); a path that long which names nothing is ROUTE_NONE
 * without touching id. */
static void test_uri_limit(void **state)
{
    (void)state;
    assert_int_equal(ROUTE_MAX_URI, 2048);
    char *path = malloc(ROUTE_MAX_URI + 1);
    assert_non_null(path);
    memset(path, '/', ROUTE_MAX_URI);
    path[ROUTE_MAX_URI] = '\0';
    char id[ROUTE_ID_MAX];
    assert_int_equal(route_match(path, id, sizeof id), ROUTE_NONE);
    free(path);
}

/* ---- Accept-Encoding ------------------------------------------------------- */

static void test_accepts_gzip(void **state)
{
    (void)state;
    const char *yes[] = {
        "gzip", "GZIP", "Gzip", "x-gzip", "X-GZIP", "*", "gzip, deflate, br", "deflate, gzip",
        "br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip;q=1", "gzip;q=0.5", "gzip;q=0.001",
        "gzip ; q=0.5", "  gzip  ", ",gzip", "identity, gzip", "deflate;q=0, gzip",
        "\tgzip\t", "gzip;level=9",
    };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (!route_accepts_gzip(yes[i]))
            fail_msg("'%s' should accept gzip", yes[i]);
    const char *no[] = {
        NULL, "", " ", ",", "identity", "deflate", "br", "deflate, br", "gzip;q=0",
        "gzip; q=0", "gzip;Q=0", "gzip;q=0.0", "gzip;q=0.000", "gzip ;q=0", "x-gzip;q=0",
        "*;q=0", "gzipx", "xgzip", "gzi", "x-gzipp", "gzip-x", "**", "deflate;q=1, br",
        "identity;q=1, *;q=0", "gzip;q=0, *", "*, gzip;q=0",
    };
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (route_accepts_gzip(no[i]))
            fail_msg("'%s' should not accept gzip", no[i] ? no[i] : "(null)");
}

/* ---- HTTP dates ------------------------------------------------------------ */

static void test_http_date_format(void **state)
{
    (void)state;
    char buf[40];
    assert_string_equal(route_http_date(784111777, buf, sizeof buf), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_string_equal(route_http_date(0, buf, sizeof buf), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_string_equal(route_http_date(1795815000, buf, sizeof buf), "Fri, 27 Nov 2026 21:30:00 GMT");
    /* A leap day and the last second of a year. */
    assert_string_equal(route_http_date(1835481599, buf, sizeof buf), "Tue, 29 Feb 2028 23:59:59 GMT");
    assert_string_equal(route_http_date(1798761599, buf, sizeof buf), "Thu, 31 Dec 2026 23:59:59 GMT");
    /* Too small a buffer: the epoch text cut short, never an overrun. */
    char small[8];
    route_http_date(784111777, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_http_date_round_trip(void **state)
{
    (void)state;
    const int64_t ts[] = { 0, 1, 59, 86399, 86400, 784111777, 951782400 /* 2000-02-29 */,
                           1768464000, 1795815000, 1835481599, 4102444800 /* 2100-01-01 */,
                           ROUTE_MAX_TIME_S };
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        char buf[40];
        int64_t back = -1;
        route_http_date(ts[i], buf, sizeof buf);
        if (route_parse_http_date(buf, &back) != 0)
            fail_msg("'%s' (from %lld) does not parse", buf, (long long)ts[i]);
        if (back != ts[i])
            fail_msg("'%s': %lld, want %lld", buf, (long long)back, (long long)ts[i]);
    }
}

static void test_http_date_parse(void **state)
{
    (void)state;
    int64_t t = -1;
    assert_int_equal(route_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, 784111777);
    assert_int_equal(route_parse_http_date("Fri, 27 Nov 2026 21:30:00 GMT", &t), 0);
    assert_int_equal(t, 1795815000);

    /* Only IMF-fixdate: the obsolete RFC 850 and asctime forms, other
     * zones, lower-case months, trailing bytes and impossible fields are
     * refused (an If-Modified-Since that is not a date is ignored). */
    const char *bad[] = {
        NULL, "", "yesterday", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 06 Nov 1994 08:49:37 GMTX", "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1969 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
        "\"Sun, 06 Nov 1994 08:49:37 GMT\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        t = 42;
        if (route_parse_http_date(bad[i], &t) != -1)
            fail_msg("'%s' should not parse (got %lld)", bad[i] ? bad[i] : "(null)", (long long)t);
        if (t != 42)
            fail_msg("'%s': output written on failure", bad[i] ? bad[i] : "(null)");
    }
}

/* ---- entity tags ------------------------------------------------------------ */

static void test_etag_more(void **state)
{
    (void)state;
    char etag[48];
    route_etag(0, 1795815000, etag, sizeof etag);
    assert_string_equal(etag, "\"0-1795815000\"");
    route_etag(UINT64_MAX, INT64_MAX, etag, sizeof etag);
    assert_string_equal(etag, "\"18446744073709551615-9223372036854775807\"");
    route_etag(7, 100, etag, sizeof etag);
    assert_true(route_etag_matches("\t\"7-100\"\t", etag));
    assert_true(route_etag_matches("\"1-1\",\"2-2\",\"7-100\"", etag));
    assert_true(route_etag_matches(", ,\"7-100\"", etag));
    assert_true(route_etag_matches("\"1-1\", *", etag));
    assert_false(route_etag_matches("W/", etag));
    assert_false(route_etag_matches("w/\"7-100\"", etag));
    assert_false(route_etag_matches("\"7-100", etag));
    assert_false(route_etag_matches("7-100\"", etag));
    assert_false(route_etag_matches("\"7-1000\"", etag));
    assert_false(route_etag_matches("\"17-100\"", etag));
    assert_false(route_etag_matches("**", etag));
    assert_false(route_etag_matches("\"*\"", etag));
    assert_false(route_etag_matches(",,,", etag));
}

/* ---- http_cache ------------------------------------------------------------- */

static char *s_dup(const char *s, size_t n)
{
    char *d = malloc(n ? n : 1);
    assert_non_null(d);
    memcpy(d, s, n);
    return d;
}

/* Inflate a gzip body and demand exactly want[0..n). */
static void s_expect_gunzip(const http_cache_body_t *gz, const char *want, size_t n)
{
    assert_non_null(gz);
    assert_true(gz->len >= 18);
    assert_int_equal((unsigned char)gz->data[0], 0x1f);
    assert_int_equal((unsigned char)gz->data[1], 0x8b);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    char *out = malloc(n + 64);
    assert_non_null(out);
    z.next_in = (Bytef *)gz->data;
    z.avail_in = (uInt)gz->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)(n + 64);
    int rc = inflate(&z, Z_FINISH);
    size_t got = z.total_out;
    unsigned left = z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || left != 0)
        fail_msg("gzip body does not inflate cleanly (zlib %d, %u bytes left)", rc, left);
    assert_int_equal(got, n);
    assert_memory_equal(out, want, n);
    free(out);
}

/* A body in parts: its bytes are the parts' in order, read as iovecs from
 * any offset, gzipped as one text; it keeps its parts alive after their
 * other holders let go (ASan: no use after free). Gathering copies pieces
 * onto the heap, or into a memfd from HTTP_CACHE_MEMFD_MIN bytes on. */
static void test_body_in_parts(void **state)
{
    (void)state;
    http_cache_body_t *head = http_cache_body_new(s_dup("{\"g\":1,\"x\":[", 12), 12);
    http_cache_body_t *frag = http_cache_body_new(s_dup("{\"t\":\"\\u0000\"}", 14), 14);
    http_cache_body_t *fill = http_cache_body_new(s_dup("\"12:00\"", 7), 7);
    http_cache_body_t *tail = http_cache_body_new(s_dup("]}", 2), 2);
    http_cache_part_t p[] = { { head, 0, 12 }, { frag, 0, 5 }, { fill, 0, 7 },
                              { frag, 13, 1 }, { tail, 0, 2 } };
    http_cache_body_t *b = http_cache_body_parts(p, 5);
    assert_non_null(b);
    http_cache_body_unref(head);
    http_cache_body_unref(frag);
    http_cache_body_unref(fill);
    http_cache_body_unref(tail);
    const char *want = "{\"g\":1,\"x\":[{\"t\":\"12:00\"}]}";
    assert_int_equal(b->len, strlen(want));
    assert_null(b->data);
    assert_int_equal(http_cache_body_fd(b), -1);
    struct iovec iov[1 + HTTP_CACHE_PARTS_MAX];
    char got[64];
    for (size_t off = 0; off <= b->len; off++) {
        size_t n = http_cache_body_iov(b, off, iov, 6), o = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(got + o, iov[i].iov_base, iov[i].iov_len);
            o += iov[i].iov_len;
        }
        assert_int_equal(o, b->len - off);
        assert_memory_equal(got, want + off, o);
    }
    assert_int_equal(http_cache_body_iov(b, 0, iov, 2), 2);   /* no more than asked */
    http_cache_body_t *gz = http_cache_body_gzip(b);
    s_expect_gunzip(gz, want, strlen(want));
    http_cache_body_unref(gz);
    /* gathered: a short text on the heap, a long one in a memfd */
    size_t n = http_cache_body_iov(b, 0, iov, 6);
    http_cache_piece_t pc[6];
    for (size_t i = 0; i < n; i++)
        pc[i] = (http_cache_piece_t){ iov[i].iov_base, -1, 0, iov[i].iov_len };
    http_cache_body_t *g = http_cache_body_gather(pc, n, b->len);
    assert_non_null(g);
    assert_int_equal(g->fd, -1);
    assert_string_equal(g->data, want);
    http_cache_body_unref(g);
    size_t big = HTTP_CACHE_MEMFD_MIN + 5;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'q', big);
    http_cache_piece_t two[] = { { text, -1, 0, 5 }, { text + 5, -1, 0, big - 5 } };
    g = http_cache_body_gather(two, 2, big);
    assert_non_null(g);
    assert_true(g->fd >= 0);
    assert_int_equal(g->len, big);
    assert_memory_equal(g->data, text, big);
    assert_int_equal(g->data[big], '\0');
    http_cache_body_unref(g);
    free(text);
    http_cache_body_unref(b);
}

static void test_body_refs(void **state)
{
    (void)state;
    assert_null(http_cache_body_new(NULL, 5));
    http_cache_body_t *b = http_cache_body_new(s_dup("hello", 5), 5);
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->len, 5);
    assert_memory_equal(b->data, "hello", 5);
    http_cache_body_ref(b);
    assert_int_equal(b->refs, 2);
    http_cache_body_unref(b);
    assert_int_equal(b->refs, 1);
    assert_memory_equal(b->data, "hello", 5);
    http_cache_body_unref(b);          /* freed: ASan reports a leak otherwise */
    http_cache_body_unref(NULL);       /* a no-op */
}

/* A body given a memfd (http_cache_body_fd) keeps its bytes once, in the
 * memfd: data becomes a read-only map of it, the same bytes followed by a
 * NUL (also when they fill whole pages), the fd's bytes are those; the
 * gzip form reads the map; the last unref unmaps it (ASan and the page
 * count would show a leak). An empty body too. */
static void test_body_fd(void **state)
{
    (void)state;
    size_t sizes[] = { 5, 4096, 0 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        char *text = malloc(n + 1);
        assert_non_null(text);
        for (size_t i = 0; i < n; i++)
            text[i] = (char)('a' + i % 26);
        text[n] = '\0';
        char *want = s_dup(text, n);
        http_cache_body_t *b = http_cache_body_new(text, n);
        assert_non_null(b);
        assert_false(b->mapped);
        assert_int_equal(http_cache_body_fd(b), 0);
        assert_true(b->fd >= 0);
        assert_true(b->mapped);
        assert_int_equal(b->len, n);
        assert_memory_equal(b->data, want, n);
        assert_int_equal(b->data[n], '\0');
        /* asked again (a body shared with a later snapshot): the same one */
        int fd = b->fd;
        const char *map = b->data;
        assert_int_equal(http_cache_body_fd(b), 0);
        assert_int_equal(b->fd, fd);
        assert_ptr_equal(b->data, map);
        char *back = malloc(n + 1);
        assert_non_null(back);
        assert_int_equal(pread(b->fd, back, n + 1, 0), (ssize_t)(n + 1));
        assert_memory_equal(back, want, n);
        http_cache_body_t *gz = http_cache_body_gzip(b);
        assert_non_null(gz);
        s_expect_gunzip(gz, want, n);
        http_cache_body_unref(gz);
        /* written to a file from the memfd (sendfile): the same bytes, no
         * more (not the NUL after them) */
        FILE *tf = tmpfile();
        assert_non_null(tf);
        assert_int_equal(http_cache_body_write(b, fileno(tf)), 0);
        memset(back, 0, n + 1);
        assert_int_equal(pread(fileno(tf), back, n + 1, 0), (ssize_t)n);
        assert_memory_equal(back, want, n);
        fclose(tf);
        http_cache_body_ref(b);
        http_cache_body_unref(b);
        assert_memory_equal(b->data, want, n);   /* still mapped: one reference left */
        http_cache_body_unref(b);
        free(back);
        free(want);
    }
}

/* Pieces read from a memfd body's file (a joined document's fragments,
 * collector/frag.c: long ones copied in the kernel, short ones staged) and
 * from memory, a big memory piece as it is: the bytes in order. A body in
 * parts of a memfd body written to a file: its bytes. A piece beyond its
 * file's end fails the gather. */
static void test_gather_from_files(void **state)
{
    (void)state;
    size_t n = 300 * 1024;
    char *text = malloc(n + 1);
    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    text[n] = '\0';
    char *want = s_dup(text, n);
    http_cache_body_t *src = http_cache_body_new(text, n);
    assert_int_equal(http_cache_body_fd(src), 0);
    http_cache_part_t part = { src, 1000, 200000 };
    http_cache_piece_t fp = http_cache_part_piece(&part);
    assert_int_equal(fp.fd, src->fd);
    assert_null(fp.data);
    size_t big = 100 * 1024;
    char *mem = malloc(big);
    assert_non_null(mem);
    memset(mem, 'Z', big);
    http_cache_piece_t pc[] = { { "<", -1, 0, 1 }, fp, { mem, -1, 0, big },
                                { NULL, src->fd, 5, 70000 }, { ">", -1, 0, 1 } };
    size_t len = 1 + 200000 + big + 70000 + 1;
    char *expect = malloc(len);
    assert_non_null(expect);
    expect[0] = '<';
    memcpy(expect + 1, want + 1000, 200000);
    memcpy(expect + 1 + 200000, mem, big);
    memcpy(expect + 1 + 200000 + big, want + 5, 70000);
    expect[len - 1] = '>';
    http_cache_body_t *g = http_cache_body_gather(pc, 5, len);
    assert_non_null(g);
    assert_true(g->fd >= 0);
    assert_int_equal(g->len, len);
    assert_memory_equal(g->data, expect, len);
    http_cache_body_unref(g);
    /* many short pieces of the file (staged, past the runs' 64 pieces and
     * their 64-KB staging buffer) between pieces in memory */
    enum { NSHORT = 150 };
    http_cache_piece_t many[2 * NSHORT];
    size_t mlen = 0;
    for (size_t i = 0; i < NSHORT; i++) {
        many[2 * i] = (http_cache_piece_t){ NULL, src->fd, i * 1777, 900 + i };
        many[2 * i + 1] = (http_cache_piece_t){ ",", -1, 0, 1 };
        mlen += 900 + i + 1;
    }
    g = http_cache_body_gather(many, 2 * NSHORT, mlen);
    assert_non_null(g);
    assert_true(g->fd >= 0);
    for (size_t i = 0, o = 0; i < NSHORT; o += 900 + i + 1, i++) {
        assert_memory_equal(g->data + o, want + i * 1777, 900 + i);
        assert_int_equal(g->data[o + 900 + i], ',');
    }
    http_cache_body_unref(g);
    /* short: onto the heap, the file piece read straight into it */
    http_cache_piece_t small[] = { { "[", -1, 0, 1 }, { NULL, src->fd, 10, 100 } };
    g = http_cache_body_gather(small, 2, 101);
    assert_non_null(g);
    assert_int_equal(g->fd, -1);
    assert_int_equal(g->data[0], '[');
    assert_memory_equal(g->data + 1, want + 10, 100);
    assert_int_equal(g->data[101], '\0');
    http_cache_body_unref(g);
    /* beyond the file: not a body */
    http_cache_piece_t past[] = { { NULL, src->fd, n - 10, 100 } };
    assert_null(http_cache_body_gather(past, 1, 100));
    http_cache_piece_t past_big[] = { { NULL, src->fd, n - 20000, 30000 } };
    assert_null(http_cache_body_gather(past_big, 1, 30000));
    /* a body in parts of the memfd body, written to a file */
    http_cache_body_t *head = http_cache_body_new(s_dup("{", 1), 1);
    http_cache_part_t parts[] = { { head, 0, 1 }, { src, 20, 150000 }, { head, 0, 1 } };
    http_cache_body_t *doc = http_cache_body_parts(parts, 3);
    assert_non_null(doc);
    FILE *tf = tmpfile();
    assert_non_null(tf);
    assert_int_equal(http_cache_body_write(doc, fileno(tf)), 0);
    char *back = malloc(150002 + 1);
    assert_non_null(back);
    assert_int_equal(pread(fileno(tf), back, 150003, 0), 150002);
    assert_int_equal(back[0], '{');
    assert_memory_equal(back + 1, want + 20, 150000);
    assert_int_equal(back[150001], '{');
    fclose(tf);
    free(back);
    http_cache_body_unref(doc);
    http_cache_body_unref(head);
    http_cache_body_unref(src);
    free(expect);
    free(mem);
    free(want);
}

static void test_body_gzip(void **state)
{
    (void)state;
    /* A typical document, an empty one, and an incompressible one (the
     * output bound must hold when gzip makes it bigger). */
    static const char doc[] = "{\"generated\":\"2026-11-27T21:42:47Z\",\"crossings\":[]}";
    http_cache_body_t *b = http_cache_body_new(s_dup(doc, sizeof doc - 1), sizeof doc - 1);
    http_cache_body_t *g = http_cache_body_gzip(b);
    assert_int_equal(g->refs, 1);
    s_expect_gunzip(g, doc, sizeof doc - 1);
    assert_int_equal(b->refs, 1);   /* the source is not referenced */
    http_cache_body_unref(g);
    http_cache_body_unref(b);

    b = http_cache_body_new(s_dup("", 0), 0);
    g = http_cache_body_gzip(b);
    s_expect_gunzip(g, "", 0);
    http_cache_body_unref(g);
    http_cache_body_unref(b);

    size_t n = 200000;
    char *noise = malloc(n);
    assert_non_null(noise);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (char)(x >> 56);
    }
    b = http_cache_body_new(s_dup(noise, n), n);
    g = http_cache_body_gzip(b);
    assert_true(g->len > n);
    s_expect_gunzip(g, noise, n);
    http_cache_body_unref(g);
    http_cache_body_unref(b);

    /* Repetitive text compresses. */
    memset(noise, 'a', n);
    b = http_cache_body_new(s_dup(noise, n), n);
    g = http_cache_body_gzip(b);
    assert_true(g->len < n / 100);
    s_expect_gunzip(g, noise, n);
    http_cache_body_unref(g);
    http_cache_body_unref(b);
    free(noise);
}

static void test_slot(void **state)
{
    (void)state;
    http_cache_slot_t s = { 0 };
    assert_false(http_cache_slot_fresh(&s, 0, 0));
    assert_null(http_cache_slot_gz(&s));          /* nothing to compress */
    http_cache_slot_clear(&s);                    /* clearing an empty slot is fine */

    static const char one[] = "first body, first body, first body";
    http_cache_slot_set(&s, http_cache_body_new(s_dup(one, sizeof one - 1), sizeof one - 1), 3, 1000);
    assert_true(http_cache_slot_fresh(&s, 3, 1000));
    assert_false(http_cache_slot_fresh(&s, 4, 1000));
    assert_false(http_cache_slot_fresh(&s, 3, 1001));
    assert_null(s.gz);                      /* made on first demand only */

    /* The gzip form is made once and shared: a new reference each time. */
    http_cache_body_t *g1 = http_cache_slot_gz(&s);
    http_cache_body_t *g2 = http_cache_slot_gz(&s);
    assert_ptr_equal(g1, g2);
    assert_ptr_equal(g1, s.gz);
    assert_int_equal(g1->refs, 3);
    s_expect_gunzip(g1, one, sizeof one - 1);
    http_cache_body_unref(g2);

    /* A response in flight keeps its bodies after the slot moves on. */
    http_cache_body_t *plain = s.plain;
    http_cache_body_ref(plain);
    static const char two[] = "second";
    http_cache_slot_set(&s, http_cache_body_new(s_dup(two, sizeof two - 1), sizeof two - 1), 4, 1000);
    assert_true(http_cache_slot_fresh(&s, 4, 1000));
    assert_false(http_cache_slot_fresh(&s, 3, 1000));
    assert_null(s.gz);                      /* the old gzip form is not reused */
    assert_int_equal(plain->refs, 1);
    assert_int_equal(g1->refs, 1);
    assert_memory_equal(plain->data, one, sizeof one - 1);
    s_expect_gunzip(g1, one, sizeof one - 1);
    http_cache_body_unref(plain);
    http_cache_body_unref(g1);

    http_cache_body_t *g3 = http_cache_slot_gz(&s);
    s_expect_gunzip(g3, two, sizeof two - 1);
    http_cache_body_unref(g3);
    http_cache_slot_clear(&s);
    assert_null(s.plain);
    assert_null(s.gz);
    assert_false(http_cache_slot_fresh(&s, 4, 1000));
    http_cache_slot_clear(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_all_routes),
        cmocka_unit_test(test_match_rejects_near_misses),
        cmocka_unit_test(test_match_id_length),
        cmocka_unit_test(test_uri_limit),
        cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_http_date_format),
        cmocka_unit_test(test_http_date_round_trip),
        cmocka_unit_test(test_http_date_parse),
        cmocka_unit_test(test_etag_more),
        cmocka_unit_test(test_body_refs),
        cmocka_unit_test(test_body_in_parts),
        cmocka_unit_test(test_body_fd),
        cmocka_unit_test(test_gather_from_files),
        cmocka_unit_test(test_body_gzip),
        cmocka_unit_test(test_slot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
