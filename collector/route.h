/* route — the pure request-parsing half of the HTTP server: which route a
 * path names, the /v1/history query, entity tags and the listen address.
 *
 * Owns the API's input rules (what a parameter may hold, its default, the
 * limits on a history span) and the wording of every 400 reason, so they
 * are unit-tested without sockets; http.c only dispatches on the results. */
#ifndef POE_ROUTE_H
#define POE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taxonomy.h"

enum route_kind {
    ROUTE_NONE = 0,     /* no such path: 404 */
    ROUTE_HEALTH,       /* /health */
    ROUTE_CROSSINGS,    /* /v1/crossings */
    ROUTE_CROSSING,     /* /v1/crossings/{id} */
    ROUTE_HISTORY,      /* /v1/history */
    ROUTE_HOURS,        /* /v1/hours */
    ROUTE_MISMATCHES,   /* /v1/hours/mismatches */
    ROUTE_CBP_XML,      /* /xml/bwt.xml */
    ROUTE_CBP_BWTNEW,   /* /api/bwtnew */
    ROUTE_CBP_WAITTIMES,/* /api/waittimes */
    ROUTE_CBP_PORT,     /* /api/bwtpublicmod/{id} */
    ROUTE_CBSA_CSV,     /* /bwt-taf/bwt-eng.csv */
    ROUTE_CBSA_JSON,    /* /bwt-taf/bwt-eng.json */
    ROUTE_CBSA_CSV_FR,  /* /bwt-taf/bwt-fra.csv */
    ROUTE_CBSA_JSON_FR, /* /bwt-taf/bwt-fra.json */
    ROUTE_METRICS,      /* /metrics (Prometheus text) */
    ROUTE_DASH_BOARD,   /* / (dashboards: the live board) */
    ROUTE_DASH_CROSSING,/* /crossing/{id} (dashboards: one crossing) */
    ROUTE_DASH_ASSET,   /* /dashboards/<file> (route_asset_path) */
    ROUTE_DASH_SW,      /* /sw.js (the dashboards' service worker, scope "/") */
    ROUTE_STREAM,       /* /v1/stream (Server-Sent Events, collector/sse) */
    ROUTE_LABELS        /* /v1/labels (the feed's words in en, es, fr) */
};

/* Prefix of the dashboards' asset paths. */
#define ROUTE_ASSET_PREFIX "/dashboards/"

/* Longest request URI served; longer is 414. */
#define ROUTE_MAX_URI 2048

/* Longest {id} segment route_match copies, with its NUL. */
#define ROUTE_ID_MAX 16

/* History query defaults and limits. */
#define ROUTE_DEFAULT_SPAN_S 3600
#define ROUTE_DEFAULT_STEP_S 60
#define ROUTE_MAX_STEP_S 86400
#define ROUTE_MAX_SPAN_S (400 * 86400)
#define ROUTE_MAX_TIME_S 253402300799LL   /* 9999-12-31T23:59:59Z */

/* Which route the (undecoded) path of a request names. For ROUTE_CROSSING,
 * ROUTE_DASH_CROSSING and ROUTE_CBP_PORT the {id} segment is copied into id (idlen >=
 * ROUTE_ID_MAX); a segment that is empty, longer than that or followed by
 * more path is ROUTE_NONE. */
enum route_kind route_match(const char *path, char *id, size_t idlen);

/* For a ROUTE_DASH_ASSET path, the file's path relative to the dashboards
 * directory (a pointer into path; static_path_ok judges it); NULL for any
 * other path. */
const char *route_asset_path(const char *path);

typedef struct {
    char crossing[7];
    enum tax_dir dir;
    enum tax_mode mode;
    enum tax_type type;
    int64_t from, to, step;   /* Unix seconds; the series covers (from, to] */
} route_history_t;

/* Parse the query string of /v1/history (NULL or "" when there is none):
 * crossing, direction and mode are required; lane defaults to standard, to
 * to now_s, from to to - ROUTE_DEFAULT_SPAN_S, step to ROUTE_DEFAULT_STEP_S.
 * Checks syntax and limits only, not that the crossing exists. Returns 0,
 * or -1 with a reason for a 400 in why. */
int route_parse_history(const char *query, int64_t now_s, route_history_t *out,
                        char *why, size_t whylen);

/* The entity tag of a rendered view: "\"<version>-<second>\"" into buf
 * (>= 48 bytes). Returns buf. */
char *route_etag(uint64_t version, int64_t second, char *buf, size_t len);

/* True when an If-None-Match header value (NULL when absent) names etag:
 * "*", or any tag of its comma-separated list, weak (W/) or strong. */
bool route_etag_matches(const char *if_none_match, const char *etag);

/* True when an Accept-Encoding value (NULL when absent) accepts gzip:
 * "gzip", "x-gzip" or "*" listed without q=0. */
bool route_accepts_gzip(const char *accept_encoding);

/* An HTTP date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT") of Unix
 * second t into buf (>= 32 bytes). Returns buf. */
char *route_http_date(int64_t t, char *buf, size_t len);

/* Parse an IMF-fixdate. Returns 0 and the Unix second, or -1. */
int route_parse_http_date(const char *s, int64_t *out);

/* Split "A.B.C.D:PORT" into a dotted IPv4 address (addrlen >= 16) and a
 * port (0 = any free port). Returns 0, or -1 when malformed. */
int route_parse_listen(const char *addr_port, char *addr, size_t addrlen, uint16_t *port);

#endif
