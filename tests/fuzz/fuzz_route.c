/* fuzz_route — libFuzzer target for the HTTP server's pure parsers in
 * collector/route.h: route_match (the path), route_parse_history (the
 * /v1/history query), route_etag_matches (If-None-Match),
 * route_accepts_gzip (Accept-Encoding), route_parse_http_date
 * (If-Modified-Since) and route_parse_listen (the --http address). Each
 * input is tried whole by every parser, and also split at its first '?' the
 * way evhttp hands http.c a path and a query.
 *
 * Beyond crashes it checks the promises of route.h: a matched id is short,
 * non-empty, has no '/' and ends the path, an accepted history query is
 * within its limits, an accepted date prints and parses back to itself, an
 * accepted listen address is a dotted IPv4 address, and an entity tag
 * always matches itself. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "taxonomy.h"

/* The clock every history query is parsed against: 2026-01-15T10:00Z. */
#define NOW_S 1768471200LL
#define INPUT_MAX 4096

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_route: invariant failed: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

static void s_match(const char *path)
{
    char id[ROUTE_ID_MAX], small[4];
    memset(id, 'x', sizeof id);
    enum route_kind k = route_match(path, id, sizeof id);
    if (k == ROUTE_CROSSING || k == ROUTE_CBP_PORT) {
        size_t n = strnlen(id, sizeof id), plen = strlen(path);
        CHECK(n > 0 && n < sizeof id && !strchr(id, '/'));
        CHECK(plen > n && path[plen - n - 1] == '/' && strcmp(path + plen - n, id) == 0);
    }
    /* A caller's buffer smaller than ROUTE_ID_MAX is honoured too. */
    memset(small, 'x', sizeof small);
    k = route_match(path, small, sizeof small);
    if (k == ROUTE_CROSSING || k == ROUTE_CBP_PORT)
        CHECK(strnlen(small, sizeof small) < sizeof small);
}

static void s_history(const char *query)
{
    route_history_t h;
    char why[200] = "";
    if (route_parse_history(query, NOW_S, &h, why, sizeof why) != 0) {
        CHECK(why[0] != '\0' && strlen(why) < sizeof why);
        return;
    }
    CHECK(tax_crossing_id_valid(h.crossing));
    CHECK(tax_dir_valid((int)h.dir) && tax_mode_valid((int)h.mode) && tax_type_valid((int)h.type));
    CHECK(h.step >= 1 && h.step <= ROUTE_MAX_STEP_S);
    CHECK(h.from < h.to && h.to - h.from <= ROUTE_MAX_SPAN_S);
    CHECK(h.to <= ROUTE_MAX_TIME_S);
}

static void s_etag(const char *header, uint64_t version)
{
    char tag[48];
    route_etag(version, NOW_S, tag, sizeof tag);
    CHECK(route_etag_matches(tag, tag));
    (void)route_etag_matches(header, tag);
}

static void s_headers(const char *s)
{
    CHECK(route_accepts_gzip("gzip") && !route_accepts_gzip("identity"));
    (void)route_accepts_gzip(s);
    int64_t t;
    if (route_parse_http_date(s, &t) != 0)
        return;
    char buf[64];
    int64_t again = -1;
    route_http_date(t, buf, sizeof buf);
    CHECK(route_parse_http_date(buf, &again) == 0 && again == t);
}

static void s_listen(const char *s)
{
    char addr[INET_ADDRSTRLEN];
    uint16_t port = 1;
    memset(addr, 'x', sizeof addr);
    if (route_parse_listen(s, addr, sizeof addr, &port) != 0)
        return;
    CHECK(strnlen(addr, sizeof addr) < sizeof addr);
    struct in_addr ia;
    CHECK(inet_pton(AF_INET, addr, &ia) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return 0;
    char s[INPUT_MAX + 1];
    memcpy(s, data, size);
    s[size] = '\0';
    uint64_t version = 0;
    memcpy(&version, data, size < sizeof version ? size : sizeof version);

    s_match(s);
    s_history(s);
    s_etag(s, version);
    s_headers(s);
    s_listen(s);

    char *q = strchr(s, '?');
    if (q) {
        *q = '\0';
        s_match(s);
        s_history(q + 1);
    }
    return 0;
}
