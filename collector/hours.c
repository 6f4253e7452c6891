/* hours — see hours.h. Parsing is strict (a rule either means exactly one
 * thing or is rejected with a reason the registry reports with file:line),
 * because a misread "6 am-10 pm" would show a queue "closed" that is open. */
#include "hours.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "zone.h"

static const char *const s_day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int s_day(const char *s, size_t n)
{
    for (int i = 0; i < 7; i++)
        if (n == 3 && strncmp(s, s_day_names[i], 3) == 0)
            return i;
    return -1;
}

/* "mon-fri", "sat,sun", "mon,wed-fri", "daily" → bitmask. */
static int s_parse_days(const char *s, size_t n, uint8_t *out)
{
    if (n == 5 && strncmp(s, "daily", 5) == 0) {
        *out = 0x7f;
        return 0;
    }
    uint8_t days = 0;
    size_t i = 0;
    while (i < n) {
        size_t seg = i;
        while (i < n && s[i] != ',')
            i++;
        const char *p = s + seg;
        size_t len = i - seg;
        int a, b;
        if (len == 7 && p[3] == '-') {
            a = s_day(p, 3);
            b = s_day(p + 4, 3);
        } else {
            a = b = s_day(p, len);
        }
        if (a < 0 || b < 0)
            return -1;
        for (int d = a;; d = (d + 1) % 7) {   /* "fri-mon" wraps the week */
            days |= (uint8_t)(1u << d);
            if (d == b)
                break;
        }
        if (i < n)
            i++;
    }
    if (!days)
        return -1;
    *out = days;
    return 0;
}

/* "HH:MM" with 00:00..24:00. */
static int s_parse_clock(const char *s, size_t n, uint16_t *out)
{
    if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *out = (uint16_t)(h * 60 + m);
    return 0;
}

int hours_parse_date(const char *text, uint16_t *out)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (strlen(text) != 5 || text[2] != '-')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && !isdigit((unsigned char)text[i]))
            return -1;
    int m = (text[0] - '0') * 10 + (text[1] - '0');
    int d = (text[3] - '0') * 10 + (text[4] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    *out = (uint16_t)(m * 100 + d);
    return 0;
}

int hours_parse_closure(const char *text, hours_closure_t *out)
{
    memset(out, 0, sizeof *out);
    uint16_t md;
    if (hours_parse_date(text, &md) == 0) {
        out->month = (uint8_t)(md / 100);
        out->day = (uint8_t)(md % 100);
        return 0;
    }
    /* "MM-DAY#N": a valid month before the weekday ("01-01" stands in). */
    char month[6];
    if (strlen(text) != 8 || text[2] != '-' || text[6] != '#')
        return -1;
    snprintf(month, sizeof month, "%.2s-01", text);
    int wd = s_day(text + 3, 3);
    if (hours_parse_date(month, &md) != 0 || wd < 0)
        return -1;
    char n = text[7];
    if (n != 'L' && (n < '1' || n > '5'))
        return -1;
    out->month = (uint8_t)(md / 100);
    out->wday = (uint8_t)wd;
    out->nth = (int8_t)(n == 'L' ? -1 : n - '0');
    return 0;
}

char *hours_closure_text(const hours_closure_t *c, char *buf, size_t len)
{
    if (c->day)
        snprintf(buf, len, "%02u-%02u", c->month, c->day);
    else if (c->nth < 0)
        snprintf(buf, len, "%02u-%s#L", c->month, s_day_names[c->wday % 7]);
    else
        snprintf(buf, len, "%02u-%s#%d", c->month, s_day_names[c->wday % 7], c->nth);
    return buf;
}

static int s_days_in_month(int year, int month)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : mdays[month - 1];
}

bool hours_closure_on(const hours_closure_t *c, const struct tm *lt)
{
    int month = lt->tm_mon + 1, mday = lt->tm_mday;
    if (c->month != month)
        return false;
    if (c->day)
        return c->day == mday;
    if (c->wday != (lt->tm_wday + 6) % 7)
        return false;
    if (c->nth < 0)
        return mday + 7 > s_days_in_month(lt->tm_year + 1900, month);
    return (mday - 1) / 7 + 1 == c->nth;
}

/* Split text into up to 3 space-separated words. */
static int s_words(const char *text, const char *w[3], size_t wl[3])
{
    int n = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (n == 3)
            return -1;
        w[n] = p;
        while (*p && *p != ' ')
            p++;
        wl[n] = (size_t)(p - w[n]);
        n++;
    }
    return n;
}

static int s_parse_season(const char *s, size_t n, hours_rule_t *out)
{
    char a[6], b[6];
    if (n != 12 || s[5] != '.' || s[6] != '.')
        return -1;
    memcpy(a, s, 5);
    a[5] = '\0';
    memcpy(b, s + 7, 5);
    b[5] = '\0';
    return hours_parse_date(a, &out->season_from) || hours_parse_date(b, &out->season_to) ? -1 : 0;
}

int hours_parse_rule(const char *text, hours_rule_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "24h") == 0) {
        out->days = 0x7f;
        out->to_min = 1440;
        return 0;
    }
    const char *w[3];
    size_t wl[3];
    int n = s_words(text, w, wl);
    if (n < 2) {
        snprintf(why, whylen, "hours rule '%s' is not \"24h\" or \"[MM-DD..MM-DD] DAYS HH:MM-HH:MM\"", text);
        return -1;
    }
    int k = 0;
    if (n == 3 && s_parse_season(w[k++], wl[0], out) != 0) {
        snprintf(why, whylen, "hours rule '%s': bad season (want MM-DD..MM-DD)", text);
        return -1;
    }
    if (s_parse_days(w[k], wl[k], &out->days) != 0) {
        snprintf(why, whylen, "hours rule '%s': bad days (want e.g. mon-fri, sat,sun, daily)", text);
        return -1;
    }
    k++;
    if (wl[k] != 11 || w[k][5] != '-' || s_parse_clock(w[k], 5, &out->from_min) != 0 ||
        s_parse_clock(w[k] + 6, 5, &out->to_min) != 0 || out->from_min == 1440 || out->to_min == 0) {
        snprintf(why, whylen, "hours rule '%s': bad time range (want HH:MM-HH:MM, 00:00..24:00)", text);
        return -1;
    }
    if (out->from_min == out->to_min) {
        snprintf(why, whylen, "hours rule '%s': empty time range (use \"24h\")", text);
        return -1;
    }
    return 0;
}

static int s_days_text(uint8_t days, char *buf, size_t len)
{
    if (days == 0x7f)
        return snprintf(buf, len, "daily");
    size_t o = 0;
    for (int d = 0; d < 7; d++) {
        if (!(days & (1u << d)))
            continue;
        int e = d;
        while (e + 1 < 7 && (days & (1u << (e + 1))))
            e++;
        int w = e > d + 1 ? snprintf(buf + o, len - o, "%s%s-%s", o ? "," : "", s_day_names[d], s_day_names[e])
                          : snprintf(buf + o, len - o, "%s%s", o ? "," : "", s_day_names[d]);
        if (w < 0 || (size_t)w >= len - o)
            break;
        o += (size_t)w;
        if (e > d + 1)
            d = e;
    }
    return (int)o;
}

char *hours_rule_text(const hours_rule_t *r, char *buf, size_t len)
{
    if (r->days == 0x7f && r->from_min == 0 && r->to_min == 1440 && !r->season_from) {
        snprintf(buf, len, "24h");
        return buf;
    }
    char days[40], season[16] = "";
    s_days_text(r->days, days, sizeof days);
    if (r->season_from)
        snprintf(season, sizeof season, "%02d-%02d..%02d-%02d ", r->season_from / 100,
                 r->season_from % 100, r->season_to / 100, r->season_to % 100);
    snprintf(buf, len, "%s%s %02d:%02d-%02d:%02d", season, days, r->from_min / 60, r->from_min % 60,
             r->to_min / 60, r->to_min % 60);
    return buf;
}

/* ---- evaluation ----------------------------------------------------------- */

static bool s_in_season(const hours_rule_t *r, int mmdd)
{
    if (!r->season_from)
        return true;
    if (r->season_from <= r->season_to)
        return mmdd >= r->season_from && mmdd <= r->season_to;
    return mmdd >= r->season_from || mmdd <= r->season_to;   /* wraps the new year */
}

/* Monday = 0 from tm_wday (Sunday = 0). */
static int s_mon0(int wday)
{
    return (wday + 6) % 7;
}

/* Does r cover minute min of a day with weekday wd (Monday 0) and date
 * mmdd, counting both the day's own span and the tail of the previous
 * day's overnight span (pwd, pmmdd)? */
static bool s_rule_covers(const hours_rule_t *r, int wd, int mmdd, int pwd, int pmmdd, int min)
{
    bool overnight = r->to_min <= r->from_min;
    if ((r->days & (1u << wd)) && s_in_season(r, mmdd) && min >= r->from_min &&
        (overnight || min < r->to_min))
        return true;
    return overnight && (r->days & (1u << pwd)) && s_in_season(r, pmmdd) && min < r->to_min;
}

static bool s_closed_day(const hours_side_t *h, const struct tm *lt)
{
    for (int i = 0; i < h->nclosed; i++)
        if (hours_closure_on(&h->closed[i], lt))
            return true;
    return false;
}

enum hours_state hours_state_local(const hours_side_t *h, enum tax_mode m, const struct tm *lt)
{
    if (!h || !h->known || !tax_mode_valid(m) || h->mode[m].nrules == 0)
        return HOURS_UNKNOWN;
    int mmdd = (lt->tm_mon + 1) * 100 + lt->tm_mday;
    if (s_closed_day(h, lt))
        return HOURS_CLOSED;
    /* The previous calendar day, for overnight spans. */
    struct tm prev = *lt;
    prev.tm_mday -= 1;
    prev.tm_hour = 12;
    time_t pt = timegm(&prev);
    struct tm p;
    gmtime_r(&pt, &p);
    int pmmdd = (p.tm_mon + 1) * 100 + p.tm_mday;
    int min = lt->tm_hour * 60 + lt->tm_min;
    const hours_mode_t *hm = &h->mode[m];
    for (int i = 0; i < hm->nrules; i++)
        if (s_rule_covers(&hm->rules[i], s_mon0(lt->tm_wday), mmdd, s_mon0(p.tm_wday), pmmdd, min))
            return HOURS_OPEN;
    return HOURS_CLOSED;
}

enum hours_side hours_side_of(enum tax_border b, enum tax_dir d)
{
    return strcmp(tax_dir_into(b, d), "US") == 0 ? HOURS_US : HOURS_OTHER;
}

/* ---- mismatches ----------------------------------------------------------- */

static int s_state_at(const hours_side_t *h, const char *tz, enum tax_mode m, int64_t t,
                      enum hours_state *out)
{
    struct tm lt;
    if (zone_local(tz, t, &lt, NULL, 0) != 0)
        return -1;
    *out = hours_state_local(h, m, &lt);
    return 0;
}

int hours_mismatch_week(const hours_side_t *us, const char *us_tz,
                        const hours_side_t *other, const char *other_tz,
                        enum tax_mode m, int64_t week_start,
                        hours_window_t *win, int max, int *nwin,
                        int *min_us_only, int *min_other_only)
{
    *nwin = *min_us_only = *min_other_only = 0;
    if (!us->known || !other->known || !us->mode[m].nrules || !other->mode[m].nrules)
        return 1;
    int cur = -1;   /* open side of the window being extended, -1 none */
    for (int i = 0; i <= 7 * 1440; i++) {
        int64_t t = week_start + (int64_t)i * 60;
        int kind = -1;
        if (i < 7 * 1440) {
            enum hours_state a, b;
            if (s_state_at(us, us_tz, m, t, &a) != 0 || s_state_at(other, other_tz, m, t, &b) != 0)
                return -1;
            kind = a == b ? -1 : a == HOURS_OPEN ? HOURS_US : HOURS_OTHER;
            if (kind == HOURS_US)
                (*min_us_only)++;
            else if (kind == HOURS_OTHER)
                (*min_other_only)++;
        }
        if (kind == cur) {
            if (cur >= 0 && *nwin <= max)
                win[*nwin - 1].to = t + 60;
            continue;
        }
        cur = kind;
        if (kind >= 0) {
            if (*nwin < max)
                win[*nwin] = (hours_window_t){ t, t + 60, (enum hours_side)kind };
            (*nwin)++;
        }
    }
    return 0;
}
