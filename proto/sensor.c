/* sensor — see sensor.h. */
#include "sensor.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENSOR_MAX_TOKENS 8
/* Sanity bounds on time_ms: 2000-01-01 .. 2200-01-01. */
#define SENSOR_MIN_T 946684800000LL
#define SENSOR_MAX_T 7258118400000LL

static enum sensor_result s_bad(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return SENSOR_BAD;
}

/* Split in place on blanks; stops at a '#' that starts a token. */
static int s_tokenize(char *s, char **tok, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (t[0] == '#')
            break;
        if (n == max)
            return max + 1;
        tok[n++] = t;
    }
    return n;
}

static int s_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int s_queue_args(char **tok, sensor_event_t *ev, char *why, size_t len)
{
    if (tax_mode_parse(tok[0], &ev->mode) != 0) {
        s_bad(why, len, "unknown mode '%.32s' (passenger|pedestrian|commercial)", tok[0]);
        return -1;
    }
    if (tax_type_parse(tok[1], &ev->type) != 0) {
        s_bad(why, len, "unknown lane type '%.32s' (standard|ready|nexus_sentri|fast)", tok[1]);
        return -1;
    }
    return 0;
}

static int s_count(const char *s, uint64_t max, const char *what, uint32_t *out,
                   char *why, size_t len)
{
    uint64_t v;
    if (s_parse_u64(s, max, &v) != 0) {
        s_bad(why, len, "bad %s '%.32s' (a whole number up to %" PRIu64 ")", what, s, max);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static enum sensor_result s_parse_event(char **tok, int n, sensor_event_t *ev, char *why, size_t len)
{
    const char *kind = tok[1];
    char **a = tok + 2;
    int na = n - 2;
    if (strcmp(kind, "lane") == 0) {
        if (na != 4)
            return s_bad(why, len, "lane wants <lane_id> <mode> <type> open|closed");
        ev->kind = SENSOR_LANE;
        if (!wire_lane_id_valid(a[0]))
            return s_bad(why, len, "bad lane id '%.40s' (1-32 of [A-Za-z0-9_-])", a[0]);
        snprintf(ev->lane_id, sizeof ev->lane_id, "%s", a[0]);
        if (s_queue_args(a + 1, ev, why, len) != 0)
            return SENSOR_BAD;
        if (strcmp(a[3], "open") != 0 && strcmp(a[3], "closed") != 0)
            return s_bad(why, len, "lane state '%.32s' is not open|closed", a[3]);
        ev->open = a[3][0] == 'o';
        return SENSOR_EVENT;
    }
    if (strcmp(kind, "arrive") == 0) {
        if (na != 2 && na != 3)
            return s_bad(why, len, "arrive wants <mode> <type> [n]");
        ev->kind = SENSOR_ARRIVE;
        ev->n = 1;
        if (s_queue_args(a, ev, why, len) != 0)
            return SENSOR_BAD;
        if (na == 3 && s_count(a[2], SENSOR_MAX_N, "count", &ev->n, why, len) != 0)
            return SENSOR_BAD;
        return SENSOR_EVENT;
    }
    if (strcmp(kind, "depart") == 0) {
        if (na != 1 && na != 2)
            return s_bad(why, len, "depart wants <lane_id> [n]");
        ev->kind = SENSOR_DEPART;
        ev->n = 1;
        if (!wire_lane_id_valid(a[0]))
            return s_bad(why, len, "bad lane id '%.40s' (1-32 of [A-Za-z0-9_-])", a[0]);
        snprintf(ev->lane_id, sizeof ev->lane_id, "%s", a[0]);
        if (na == 2 && s_count(a[1], SENSOR_MAX_N, "count", &ev->n, why, len) != 0)
            return SENSOR_BAD;
        return SENSOR_EVENT;
    }
    if (strcmp(kind, "queue") == 0) {
        if (na != 3)
            return s_bad(why, len, "queue wants <mode> <type> <count>");
        ev->kind = SENSOR_QUEUE;
        if (s_queue_args(a, ev, why, len) != 0)
            return SENSOR_BAD;
        if (s_count(a[2], SENSOR_MAX_QUEUE, "queue count", &ev->n, why, len) != 0)
            return SENSOR_BAD;
        return SENSOR_EVENT;
    }
    if (strcmp(kind, "tag") == 0) {
        /* In a malformed tag line any field may be the vehicle's tag hash,
         * and reasons end up in the log: these never quote a field
         * (reident.h: a hash is never stored, logged or sent). */
        if (na != 4)
            return s_bad(why, len, "tag wants entry|booth <mode> <type> <hash>");
        ev->kind = SENSOR_TAG;
        if (strcmp(a[0], "entry") != 0 && strcmp(a[0], "booth") != 0)
            return s_bad(why, len, "tag reader is not entry|booth");
        ev->booth = a[0][0] == 'b';
        if (tax_mode_parse(a[1], &ev->mode) != 0)
            return s_bad(why, len, "tag: unknown mode (passenger|pedestrian|commercial)");
        if (tax_type_parse(a[2], &ev->type) != 0)
            return s_bad(why, len, "tag: unknown lane type (standard|ready|nexus_sentri|fast)");
        if (strlen(a[3]) > SENSOR_HASH_MAX)
            return s_bad(why, len, "tag hash longer than %d characters", SENSOR_HASH_MAX);
        snprintf(ev->hash, sizeof ev->hash, "%s", a[3]);
        return SENSOR_EVENT;
    }
    return s_bad(why, len, "unknown event '%.32s' (lane|arrive|depart|queue|tag)", kind);
}

void sensor_parser_init(sensor_parser_t *p)
{
    memset(p, 0, sizeof *p);
}

enum sensor_result sensor_parse_line(sensor_parser_t *p, const char *line, sensor_event_t *ev,
                                     char *why, size_t whylen)
{
    p->line_no++;
    size_t n = strlen(line);
    /* The limit is on the line itself, whichever source kept its newline. */
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (n >= SENSOR_MAX_LINE) {
        p->bad++;
        return s_bad(why, whylen, "line longer than %d characters", SENSOR_MAX_LINE - 1);
    }
    char buf[SENSOR_MAX_LINE];
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *tok[SENSOR_MAX_TOKENS];
    int nt = s_tokenize(buf, tok, SENSOR_MAX_TOKENS);
    if (nt == 0)
        return SENSOR_NONE;
    memset(ev, 0, sizeof *ev);
    enum sensor_result r;
    uint64_t t;
    if (nt > SENSOR_MAX_TOKENS)
        r = s_bad(why, whylen, "too many fields");
    else if (nt < 2)
        r = s_bad(why, whylen, "want <time_ms> <event> ...");
    else if (s_parse_u64(tok[0], (uint64_t)SENSOR_MAX_T, &t) != 0 || (int64_t)t < SENSOR_MIN_T)
        r = s_bad(why, whylen, "bad time '%.32s' (Unix epoch milliseconds)", tok[0]);
    else if ((int64_t)t < p->last_t_ms)
        r = s_bad(why, whylen, "time goes backwards: %" PRIu64 " after %" PRId64, t, p->last_t_ms);
    else {
        ev->t_ms = (int64_t)t;
        r = s_parse_event(tok, nt, ev, why, whylen);
    }
    if (r == SENSOR_BAD) {
        p->bad++;
        return r;
    }
    p->good++;
    p->last_t_ms = ev->t_ms;
    return SENSOR_EVENT;
}

int sensor_format(const sensor_event_t *ev, char *buf, size_t len)
{
    const char *m = tax_mode_name(ev->mode), *t = tax_type_name(ev->type);
    switch (ev->kind) {
    case SENSOR_LANE:
        return snprintf(buf, len, "%" PRId64 " lane %s %s %s %s\n", ev->t_ms, ev->lane_id, m, t,
                        ev->open ? "open" : "closed");
    case SENSOR_ARRIVE:
        return snprintf(buf, len, "%" PRId64 " arrive %s %s %u\n", ev->t_ms, m, t, ev->n);
    case SENSOR_DEPART:
        return snprintf(buf, len, "%" PRId64 " depart %s %u\n", ev->t_ms, ev->lane_id, ev->n);
    case SENSOR_QUEUE:
        return snprintf(buf, len, "%" PRId64 " queue %s %s %u\n", ev->t_ms, m, t, ev->n);
    case SENSOR_TAG:
        return snprintf(buf, len, "%" PRId64 " tag %s %s %s %s\n", ev->t_ms,
                        ev->booth ? "booth" : "entry", m, t, ev->hash);
    }
    return 0;
}
