/* route — see route.h. Parsing is strict on purpose: an unknown or repeated
 * parameter is a 400, not ignored, so a typo ("form=") cannot silently
 * return the default hour instead of what was asked for. */
#include "route.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_KEY_MAX 16
#define S_VAL_MAX 64

/* ---- paths -------------------------------------------------------------- */

static const struct {
    const char *path;
    enum route_kind kind;
} s_fixed[] = {
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
    { "/", ROUTE_DASH_BOARD },
};

/* "<prefix>{id}" with one non-empty segment. */
static bool s_match_id(const char *path, const char *prefix, char *id, size_t idlen)
{
    size_t plen = strlen(prefix);
    if (strncmp(path, prefix, plen) != 0)
        return false;
    const char *seg = path + plen;
    size_t n = strlen(seg);
    if (n == 0 || n >= idlen || n >= ROUTE_ID_MAX || strchr(seg, '/'))
        return false;
    memcpy(id, seg, n + 1);
    return true;
}

enum route_kind route_match(const char *path, char *id, size_t idlen)
{
    if (!path)
        return ROUTE_NONE;
    for (size_t i = 0; i < sizeof s_fixed / sizeof s_fixed[0]; i++)
        if (strcmp(path, s_fixed[i].path) == 0)
            return s_fixed[i].kind;
    if (s_match_id(path, "/v1/crossings/", id, idlen))
        return ROUTE_CROSSING;
    if (s_match_id(path, "/api/bwtpublicmod/", id, idlen))
        return ROUTE_CBP_PORT;
    if (s_match_id(path, "/crossing/", id, idlen))
        return ROUTE_DASH_CROSSING;
    if (route_asset_path(path))
        return ROUTE_DASH_ASSET;
    return ROUTE_NONE;
}

const char *route_asset_path(const char *path)
{
    size_t plen = strlen(ROUTE_ASSET_PREFIX);
    if (!path || strncmp(path, ROUTE_ASSET_PREFIX, plen) != 0 || !path[plen])
        return NULL;
    return path + plen;
}

/* ---- query strings ------------------------------------------------------ */

enum s_param { P_CROSSING, P_DIRECTION, P_MODE, P_LANE, P_FROM, P_TO, P_STEP, P_COUNT };

static const char *const s_param_names[P_COUNT] = {
    "crossing", "direction", "mode", "lane", "from", "to", "step"
};

typedef struct {
    bool given[P_COUNT];
    char val[P_COUNT][S_VAL_MAX + 1];
} s_params_t;

static int s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode form-encoding (%XX and '+') of in[0..n) into out (outlen bytes).
 * Returns 0, -1 on a bad escape, -2 when it does not fit. */
static int s_decode(const char *in, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = s_hex((unsigned char)in[i + 1]);
            int lo = s_hex((unsigned char)in[i + 2]);
            /* %00 would cut the value short behind the checks' backs. */
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= outlen)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static int s_param_lookup(const char *key)
{
    for (int p = 0; p < P_COUNT; p++)
        if (strcmp(key, s_param_names[p]) == 0)
            return p;
    return -1;
}

/* One "key=value" segment into ps. */
static int s_take_pair(const char *seg, size_t n, s_params_t *ps, char *why, size_t whylen)
{
    const char *eq = memchr(seg, '=', n);
    char key[S_KEY_MAX + 1];
    size_t klen = eq ? (size_t)(eq - seg) : n;
    int rc = s_decode(seg, klen, key, sizeof key);
    if (rc == -1 || (rc == 0 && klen == 0)) {
        snprintf(why, whylen, "malformed query string");
        return -1;
    }
    int p = rc == 0 ? s_param_lookup(key) : -1;
    if (p < 0) {
        snprintf(why, whylen, "unknown parameter '%.*s'", (int)(klen < 32 ? klen : 32), seg);
        return -1;
    }
    if (!eq) {
        snprintf(why, whylen, "parameter '%s' has no value", key);
        return -1;
    }
    if (ps->given[p]) {
        snprintf(why, whylen, "parameter '%s' given twice", key);
        return -1;
    }
    rc = s_decode(eq + 1, n - klen - 1, ps->val[p], sizeof ps->val[p]);
    if (rc != 0) {
        snprintf(why, whylen, rc == -1 ? "bad percent-encoding in '%s'" : "parameter '%s' is too long",
                 key);
        return -1;
    }
    ps->given[p] = true;
    return 0;
}

static int s_split_query(const char *query, s_params_t *ps, char *why, size_t whylen)
{
    const char *q = query ? query : "";
    while (*q) {
        size_t n = strcspn(q, "&");
        /* Empty segments ("a=1&&b=2", a trailing '&') carry nothing. */
        if (n > 0 && s_take_pair(q, n, ps, why, whylen) != 0)
            return -1;
        q += n;
        if (*q == '&')
            q++;
    }
    return 0;
}

/* A non-negative decimal integer within [min, max]; no sign, no spaces. */
static int s_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int s_require(const s_params_t *ps, enum s_param p, char *why, size_t whylen)
{
    if (ps->given[p])
        return 0;
    snprintf(why, whylen, "missing parameter '%s'", s_param_names[p]);
    return -1;
}

static int s_names(const s_params_t *ps, route_history_t *out, char *why, size_t whylen)
{
    if (s_require(ps, P_CROSSING, why, whylen) || s_require(ps, P_DIRECTION, why, whylen) ||
        s_require(ps, P_MODE, why, whylen))
        return -1;
    if (!tax_crossing_id_valid(ps->val[P_CROSSING])) {
        snprintf(why, whylen, "crossing must be a 6-digit port number");
        return -1;
    }
    memcpy(out->crossing, ps->val[P_CROSSING], sizeof out->crossing);
    if (tax_dir_parse(ps->val[P_DIRECTION], &out->dir) != 0) {
        snprintf(why, whylen, "direction must be northbound or southbound");
        return -1;
    }
    if (tax_mode_parse(ps->val[P_MODE], &out->mode) != 0) {
        snprintf(why, whylen, "mode must be passenger, pedestrian or commercial");
        return -1;
    }
    out->type = TAX_STANDARD;
    if (ps->given[P_LANE] && tax_type_parse(ps->val[P_LANE], &out->type) != 0) {
        snprintf(why, whylen, "lane must be standard, ready, nexus_sentri or fast");
        return -1;
    }
    return 0;
}

static int s_times(const s_params_t *ps, int64_t now_s, route_history_t *out, char *why,
                   size_t whylen)
{
    out->to = now_s;
    if (ps->given[P_TO] && s_parse_int(ps->val[P_TO], 0, ROUTE_MAX_TIME_S, &out->to) != 0) {
        snprintf(why, whylen, "to must be Unix seconds");
        return -1;
    }
    out->from = out->to > ROUTE_DEFAULT_SPAN_S ? out->to - ROUTE_DEFAULT_SPAN_S : 0;
    if (ps->given[P_FROM] && s_parse_int(ps->val[P_FROM], 0, ROUTE_MAX_TIME_S, &out->from) != 0) {
        snprintf(why, whylen, "from must be Unix seconds");
        return -1;
    }
    out->step = ROUTE_DEFAULT_STEP_S;
    if (ps->given[P_STEP] && s_parse_int(ps->val[P_STEP], 1, ROUTE_MAX_STEP_S, &out->step) != 0) {
        snprintf(why, whylen, "step must be 1..%d seconds", ROUTE_MAX_STEP_S);
        return -1;
    }
    if (out->to <= out->from) {
        snprintf(why, whylen, "to must be after from");
        return -1;
    }
    if (out->to - out->from > ROUTE_MAX_SPAN_S) {
        snprintf(why, whylen, "span exceeds %d days", ROUTE_MAX_SPAN_S / 86400);
        return -1;
    }
    return 0;
}

int route_parse_history(const char *query, int64_t now_s, route_history_t *out,
                        char *why, size_t whylen)
{
    s_params_t ps;
    memset(&ps, 0, sizeof ps);
    memset(out, 0, sizeof *out);
    if (s_split_query(query, &ps, why, whylen) != 0)
        return -1;
    if (s_names(&ps, out, why, whylen) != 0)
        return -1;
    return s_times(&ps, now_s, out, why, whylen);
}

/* ---- entity tags -------------------------------------------------------- */

char *route_etag(uint64_t version, int64_t second, char *buf, size_t len)
{
    snprintf(buf, len, "\"%" PRIu64 "-%" PRId64 "\"", version, second);
    return buf;
}

bool route_etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    size_t elen = strlen(etag);
    const char *p = if_none_match;
    while (*p) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        const char *tag = p;
        if (m >= 2 && strncmp(tag, "W/", 2) == 0) {
            tag += 2;
            m -= 2;
        }
        if ((m == 1 && tag[0] == '*') || (m == elen && strncmp(tag, etag, elen) == 0))
            return true;
        p += n;
    }
    return false;
}

/* ---- content negotiation and dates --------------------------------------- */

/* q=0 (any spelling: 0, 0.0, 0.000) refuses a coding. */
static bool s_q_zero(const char *params, size_t n)
{
    const char *q = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            q = params + i + 2;
            break;
        }
    if (!q)
        return false;
    if (*q != '0')
        return false;
    for (q++; q < params + n && (*q == '.' || *q == '0'); q++)
        ;
    return q >= params + n || *q == ' ' || *q == ';' || *q == '\t';
}

bool route_accepts_gzip(const char *ae)
{
    if (!ae)
        return false;
    /* An explicit gzip entry decides; "*" speaks only for codings not
     * listed (RFC 9110 12.5.3), so "gzip;q=0, *" refuses gzip. */
    int gzip = -1, star = -1;
    const char *p = ae;
    while (*p) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t tok = strcspn(p, " \t;,");
        if (tok > n)
            tok = n;
        int ok = !s_q_zero(p + tok, n - tok);
        if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (tok == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip = gzip == 1 ? 1 : ok;
        else if (tok == 1 && p[0] == '*')
            star = ok;
        p += n;
    }
    return gzip >= 0 ? gzip == 1 : star == 1;
}

char *route_http_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(buf, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 GMT");
    return buf;
}

int route_parse_http_date(const char *s, int64_t *out)
{
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    char wd[4], mon[4], zone[4];
    int d, y, h, mi, sec, used = 0;
    if (!s || sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &h, &mi, &sec, zone,
                     &used) != 8 || s[used] != '\0' || strcmp(zone, "GMT") != 0 || strlen(wd) != 3)
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            m = i;
    if (m < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || h > 23 || mi > 59 || sec > 60 ||
        h < 0 || mi < 0 || sec < 0)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                     .tm_sec = sec };
    int64_t t = (int64_t)timegm(&tm);
    /* timegm normalises "31 Feb" into March: accept only a date that
     * prints back exactly as given (weekday and padding included). */
    char again[40];
    route_http_date(t, again, sizeof again);
    if (strcmp(again, s) != 0)
        return -1;
    *out = t;
    return 0;
}

/* ---- listen address ----------------------------------------------------- */

int route_parse_listen(const char *addr_port, char *addr, size_t addrlen, uint16_t *port)
{
    const char *colon = addr_port ? strrchr(addr_port, ':') : NULL;
    if (!colon)
        return -1;
    size_t alen = (size_t)(colon - addr_port);
    if (alen == 0 || alen >= addrlen || alen >= INET_ADDRSTRLEN)
        return -1;
    char tmp[INET_ADDRSTRLEN];
    memcpy(tmp, addr_port, alen);
    tmp[alen] = '\0';
    struct in_addr ia;
    if (inet_pton(AF_INET, tmp, &ia) != 1)
        return -1;
    int64_t p;
    if (s_parse_int(colon + 1, 0, 65535, &p) != 0)
        return -1;
    memcpy(addr, tmp, alen + 1);
    *port = (uint16_t)p;
    return 0;
}
