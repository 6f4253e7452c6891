/* hours_obs — see hours_obs.h. The store is a ring of local days, four bits
 * per minute (state in bits 0-1, bit 2 departures known, bit 3 something
 * departed): 720 bytes a day, 25 KB a track with 5 weeks of data, about 11
 * MB for 76 crossings × 2 sides × 3 modes. A day is allocated when its
 * first minute arrives: a collector that starts with an empty archive holds
 * a day per track, not 5 weeks (10,000 series: 64 MB; docs/performance.md
 * §4). */
#include "hours_obs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone.h"

#define S_UNK 0
#define S_CLOSED 1
#define S_OPEN 2
#define S_DEP_KNOWN 4
#define S_DEPARTED 8
#define S_WEEK (7 * 1440)

typedef struct {
    int64_t daynum;          /* the local day it holds */
    uint8_t nib[720];
} s_day_t;

struct hours_obs {
    char tz[64];
    uint64_t version;
    int64_t last_day;        /* latest day stored, -1 none */
    /* The zone's UTC offset over [off_from, off_to): a zone lookup switches
     * TZ (and glibc rereads the zone file), too slow for every minute. */
    int64_t off_from, off_to;
    long off;
    s_day_t *day[HOBS_DAYS]; /* NULL: nothing stored there yet */
};

/* ---- calendar ------------------------------------------------------------ */

int64_t hours_obs_daynum(int y, int m, int d)
{
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void hours_obs_civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Monday 0 .. Sunday 6 (1970-01-01 was a Thursday). */
static int s_wday(int64_t daynum)
{
    int64_t w = (daynum + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* ---- the store ----------------------------------------------------------- */

hours_obs_t *hours_obs_new(const char *tz)
{
    hours_obs_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->tz, sizeof self->tz, "%s", tz ? tz : "UTC");
    self->last_day = -1;
    self->off_from = self->off_to = 0;
    return self;
}

void hours_obs_destroy(hours_obs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < HOBS_DAYS; i++)
        free((*self_p)->day[i]);
    free(*self_p);
    *self_p = NULL;
}

uint64_t hours_obs_version(const hours_obs_t *self)
{
    return self->version;
}

static int s_slot(int64_t daynum)
{
    int64_t s = daynum % HOBS_DAYS;
    return (int)(s < 0 ? s + HOBS_DAYS : s);
}

static uint8_t s_get(const s_day_t *d, int min)
{
    uint8_t b = d->nib[min / 2];
    return min % 2 ? (uint8_t)(b >> 4) : (uint8_t)(b & 0x0f);
}

static void s_put(s_day_t *d, int min, uint8_t v)
{
    uint8_t *b = &d->nib[min / 2];
    *b = min % 2 ? (uint8_t)((*b & 0x0f) | (v << 4)) : (uint8_t)((*b & 0xf0) | v);
}

/* The offset at t. Offsets change at most twice a year, never twice in a
 * day: equal at t and a day later, it holds in between; else it is kept
 * for one 15-minute slot (zone.h: changes fall on whole quarter hours). */
static int s_offset(hours_obs_t *self, int64_t t, long *off)
{
    if (t >= self->off_from && t < self->off_to) {
        *off = self->off;
        return 0;
    }
    struct tm a, b;
    int64_t slot = t - ((t % 900) + 900) % 900;
    if (zone_local(self->tz, slot, &a, NULL, 0) != 0 || zone_local(self->tz, slot + 86400, &b, NULL, 0) != 0)
        return -1;
    self->off = a.tm_gmtoff;
    self->off_from = slot;
    self->off_to = slot + (a.tm_gmtoff == b.tm_gmtoff ? 86400 : 900);
    *off = self->off;
    return 0;
}

enum hobs_add hours_obs_add(hours_obs_t *self, int64_t t, double lanes, double departures,
                            int64_t now_s)
{
    if (t > now_s + HOBS_CLOCK_AHEAD_S)
        return HOBS_CLOCK;
    long off;
    if (s_offset(self, t, &off) != 0)
        return HOBS_BADZONE;
    int64_t local = t + off;
    int64_t dn = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int min = (int)((local - dn * 86400) / 60);
    if (self->last_day >= 0 && dn <= self->last_day - HOBS_DAYS)
        return HOBS_OLD;
    s_day_t *d = self->day[s_slot(dn)];
    if (!d) {
        if (!(d = calloc(1, sizeof *d)))
            return HOBS_NOMEM;
        d->daynum = dn;
        self->day[s_slot(dn)] = d;
    }
    if (d->daynum != dn) {
        if (d->daynum > dn)
            return HOBS_OLD;
        d->daynum = dn;
        memset(d->nib, 0, sizeof d->nib);
    }
    if (dn > self->last_day)
        self->last_day = dn;
    uint8_t old = s_get(d, min), v = old;
    /* Open wins over closed wins over unknown: lane types of one mode share
     * the track, and the fall-back hour comes twice. */
    uint8_t st = isnan(lanes) ? S_UNK : lanes >= 0.5 ? S_OPEN : S_CLOSED;
    if (st > (v & 3))
        v = (uint8_t)((v & ~3u) | st);
    if (!isnan(departures)) {
        v |= S_DEP_KNOWN;
        if (departures > 0)
            v |= S_DEPARTED;
    }
    if (v != old) {
        s_put(d, min, v);
        self->version++;
    }
    return HOBS_ADDED;
}

/* The local day number of t in zone tz, -1 when the zone cannot be used. */
static int64_t s_local_day(const char *tz, int64_t t)
{
    struct tm lt;
    if (zone_local(tz, t, &lt, NULL, 0) != 0)
        return -1;
    return hours_obs_daynum(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
}

int hours_obs_forget(hours_obs_t *self, int64_t from_s, int64_t to_s)
{
    int n = 0;
    for (int64_t t = from_s / 60 * 60; t < to_s; t += 60) {
        long off;
        if (s_offset(self, t, &off) != 0)
            return n;
        int64_t local = t + off;
        int64_t dn = local >= 0 ? local / 86400 : (local - 86399) / 86400;
        s_day_t *d = self->day[s_slot(dn)];
        if (!d || d->daynum != dn)
            continue;
        int min = (int)((local - dn * 86400) / 60);
        uint8_t v = s_get(d, min);
        if ((v & 3) == S_OPEN && !(v & S_DEPARTED)) {
            s_put(d, min, (uint8_t)(v & ~3u));
            n++;
        }
    }
    if (n)
        self->version++;
    return n;
}

void hours_obs_learn(const hours_obs_t *self, int64_t now_s, hobs_result_t *out)
{
    uint8_t (*days)[1440] = calloc(HOBS_DAYS, sizeof *days);
    uint8_t (*dep)[1440] = calloc(HOBS_DAYS, sizeof *dep);
    int64_t last = self->last_day, today = now_s > 0 ? s_local_day(self->tz, now_s) : -1;
    if (last >= 0 && today > last)
        last = today;   /* days since the track last heard anything are silent */
    int64_t first = last - HOBS_DAYS + 1;
    if (!days || !dep || self->last_day < 0) {
        memset(out, 0, sizeof *out);
        out->status = HOBS_UNKNOWN;
        out->why = days && dep ? "no data" : "out of memory";
        free(days);
        free(dep);
        return;
    }
    for (int i = 0; i < HOBS_DAYS; i++) {
        const s_day_t *d = self->day[s_slot(first + i)];
        for (int m = 0; m < 1440; m++) {
            uint8_t v = d && d->daynum == first + i ? s_get(d, m) : 0;
            days[i][m] = v & 3;
            dep[i][m] = !(v & S_DEP_KNOWN) ? 2 : (v & S_DEPARTED) ? 1 : 0;
        }
    }
    hours_obs_learn_days((const uint8_t (*)[1440])days, (const uint8_t (*)[1440])dep, HOBS_DAYS,
                         first, out);
    free(days);
    free(dep);
}

/* ---- bad input ----------------------------------------------------------- */

/* Silent and flapping days; a flapping day becomes unknown. */
static void s_bad_days(uint8_t *w, int ndays, hobs_result_t *out)
{
    for (int i = 0; i < ndays; i++) {
        uint8_t *d = w + (size_t)i * 1440;
        int known = 0, flips = 0, prev = S_UNK;
        for (int m = 0; m < 1440; m++) {
            if (d[m] == S_UNK)
                continue;
            known++;
            if (prev != S_UNK && d[m] != prev)
                flips++;
            prev = d[m];
        }
        if (!known) {
            out->days_silent++;
        } else if (flips > HOBS_FLAP_MAX) {
            out->days_flapping++;
            memset(d, S_UNK, 1440);
        }
    }
}

/* Open stretches with departures known and none for HOBS_STUCK_MIN minutes
 * become unknown: a lane "open" for a day without serving anyone is a
 * stuck sensor, not hours. */
static void s_stuck(uint8_t *w, const uint8_t *dep, int ndays, hobs_result_t *out)
{
    size_t n = (size_t)ndays * 1440, run = 0;
    int64_t last_marked_day = -1;
    for (size_t i = 0; i <= n; i++) {
        bool quiet = i < n && w[i] == S_OPEN && dep && dep[i] == 0;
        if (quiet) {
            run++;
            continue;
        }
        if (run >= HOBS_STUCK_MIN) {
            for (size_t k = i - run; k < i; k++) {
                w[k] = S_UNK;
                if ((int64_t)(k / 1440) != last_marked_day) {
                    last_marked_day = (int64_t)(k / 1440);
                    out->days_stuck++;
                }
            }
        }
        run = 0;
    }
}

/* ---- smoothing ------------------------------------------------------------ */

/* Replace runs of `what` (mask test) bounded by `side` on both ends and
 * shorter than `maxlen` (inclusive when incl) with `with`. */
static void s_fill_runs(uint8_t *w, size_t n, int what_mask, uint8_t side, size_t maxlen,
                        uint8_t with)
{
    size_t i = 0;
    while (i < n) {
        if (!((1 << w[i]) & what_mask)) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && ((1 << w[i]) & what_mask))
            i++;
        if (s > 0 && i < n && w[s - 1] == side && w[i] == side && i - s <= maxlen)
            memset(w + s, with, i - s);
    }
}

static void s_smooth(uint8_t *w, size_t n)
{
    s_fill_runs(w, n, 1 << S_OPEN, S_CLOSED, HOBS_BLIP_MIN, S_CLOSED);
    s_fill_runs(w, n, (1 << S_CLOSED) | (1 << S_UNK), S_OPEN, HOBS_GAP_MIN - 1, S_OPEN);
    s_fill_runs(w, n, 1 << S_UNK, S_CLOSED, HOBS_GAP_MIN - 1, S_CLOSED);
}

/* ---- the week -------------------------------------------------------------- */

static bool s_usable(const uint8_t *d)
{
    int known = 0;
    for (int m = 0; m < 1440; m++)
        known += d[m] != S_UNK;
    return known * 100 >= 1440 * HOBS_DAY_KNOWN_PCT;
}

/* Majority per weekday and minute over usable days not excluded (a tie is
 * open: the usual exception is a closure). */
static void s_majority(const uint8_t *w, int ndays, int64_t first, const bool *usable,
                       const bool *excluded, uint8_t week[7][1440], int per_wday[7])
{
    uint16_t opens[7][1440] = { { 0 } }, closeds[7][1440] = { { 0 } };
    memset(per_wday, 0, 7 * sizeof *per_wday);
    for (int i = 0; i < ndays; i++) {
        if (!usable[i] || excluded[i])
            continue;
        int wd = s_wday(first + i);
        per_wday[wd]++;
        const uint8_t *d = w + (size_t)i * 1440;
        for (int m = 0; m < 1440; m++) {
            opens[wd][m] += d[m] == S_OPEN;
            closeds[wd][m] += d[m] == S_CLOSED;
        }
    }
    for (int wd = 0; wd < 7; wd++)
        for (int m = 0; m < 1440; m++)
            week[wd][m] = opens[wd][m] + closeds[wd][m] == 0 ? S_UNK
                          : opens[wd][m] >= closeds[wd][m]   ? S_OPEN
                                                             : S_CLOSED;
}

static int s_diff(const uint8_t *d, const uint8_t *s)
{
    int n = 0;
    for (int m = 0; m < 1440; m++)
        n += d[m] != S_UNK && s[m] != S_UNK && d[m] != s[m];
    return n;
}

/* First closed→open and last open→closed minute of a day, -1 if none. */
static void s_edges(const uint8_t *d, int *open_at, int *close_at)
{
    *open_at = *close_at = -1;
    for (int m = 1; m < 1440; m++) {
        if (d[m] == S_OPEN && d[m - 1] == S_CLOSED && *open_at < 0)
            *open_at = m;
        if (d[m] == S_CLOSED && d[m - 1] == S_OPEN)
            *close_at = m;
    }
}

static void s_day_text(const uint8_t *d, char *buf, size_t len)
{
    size_t o = 0;
    int n = 0;
    buf[0] = '\0';
    for (int m = 0; m < 1440; m++) {
        if (d[m] != S_OPEN || (m > 0 && d[m - 1] == S_OPEN))
            continue;
        int e = m;
        while (e < 1440 && d[e] == S_OPEN)
            e++;
        if (++n > 3) {
            snprintf(buf + o, len - o, ",...");
            return;
        }
        int w = snprintf(buf + o, len - o, "%s%02d:%02d-%02d:%02d", o ? "," : "", m / 60, m % 60,
                         e / 60, e % 60);
        if (w < 0 || (size_t)w >= len - o)
            return;
        o += (size_t)w;
    }
    if (!n)
        snprintf(buf, len, "closed");
}

static void s_classify(const uint8_t *d, const uint8_t *s, int diff, hobs_exception_t *e)
{
    int d_open = 0, s_open = 0;
    for (int m = 0; m < 1440; m++) {
        d_open += d[m] == S_OPEN;
        s_open += s[m] == S_OPEN;
    }
    e->kind = HOBS_EXC_IRREGULAR;
    e->minutes = diff;
    s_day_text(d, e->observed, sizeof e->observed);
    if (!d_open && s_open) {
        e->kind = HOBS_EXC_CLOSED;
        e->minutes = s_open;
        return;
    }
    if (d_open && !s_open) {
        e->kind = HOBS_EXC_OPEN;
        e->minutes = d_open;
        return;
    }
    int dop, dcl, sop, scl;
    s_edges(d, &dop, &dcl);
    s_edges(s, &sop, &scl);
    int dopen = dop >= 0 && sop >= 0 ? dop - sop : 0;
    int dclose = dcl >= 0 && scl >= 0 ? dcl - scl : 0;
    if (abs(dopen) < HOBS_GAP_MIN && abs(dclose) < HOBS_GAP_MIN)
        return;
    if (abs(dopen) >= abs(dclose)) {
        e->kind = dopen > 0 ? HOBS_EXC_OPENED_LATE : HOBS_EXC_OPENED_EARLY;
        e->minutes = abs(dopen);
    } else {
        e->kind = dclose > 0 ? HOBS_EXC_CLOSED_LATE : HOBS_EXC_CLOSED_EARLY;
        e->minutes = abs(dclose);
    }
}

/* Flags exception days against week; lists them in out when list. */
static int s_exceptions(const uint8_t *w, int ndays, int64_t first, const bool *usable,
                        uint8_t week[7][1440], bool *exc, hobs_result_t *out, bool list)
{
    int n = 0;
    for (int i = 0; i < ndays; i++) {
        exc[i] = false;
        if (!usable[i])
            continue;
        const uint8_t *d = w + (size_t)i * 1440;
        const uint8_t *s = week[s_wday(first + i)];
        int diff = s_diff(d, s);
        if (diff < HOBS_EXC_MIN)
            continue;
        exc[i] = true;
        n++;
        if (!list)
            continue;
        if (out->nexc == HOBS_MAX_EXC) {   /* keep the latest */
            memmove(out->exc, out->exc + 1, (HOBS_MAX_EXC - 1) * sizeof out->exc[0]);
            out->nexc--;
        }
        hobs_exception_t *e = &out->exc[out->nexc++];
        memset(e, 0, sizeof *e);
        hours_obs_civil(first + i, &e->year, &e->month, &e->day);
        s_classify(d, s, diff, e);
        out->nexc_total++;
    }
    return n;
}

/* ---- rules ------------------------------------------------------------------ */

static int s_round5(int m)
{
    return (m + 2) / 5 * 5;
}

/* Adds piece (day, from, to) to the rule set, grouping equal spans. */
static int s_piece(hours_mode_t *hm, int day, int from, int to)
{
    for (int i = 0; i < hm->nrules; i++) {
        hours_rule_t *r = &hm->rules[i];
        if (r->from_min == from && r->to_min == to) {
            r->days |= (uint8_t)(1u << day);
            return 0;
        }
    }
    if (hm->nrules == HOURS_MAX_RULES)
        return -1;
    hm->rules[hm->nrules++] = (hours_rule_t){ .days = (uint8_t)(1u << day), .from_min = (uint16_t)from,
                                              .to_min = (uint16_t)to };
    return 0;
}

/* Run [s, e) of week minutes (e may pass the week's end) into pieces. */
static int s_run_rules(hours_mode_t *hm, int s, int e)
{
    s = s_round5(s);
    e = s_round5(e);
    int len = e - s;
    if (len <= 0)
        return 0;
    s %= S_WEEK;
    int d = s / 1440, from = s % 1440;
    while (len > 0) {
        if (from + len <= 1440)
            return s_piece(hm, d, from, from + len);
        if (len < 1440)   /* overnight: the hours after 00:00 belong to day d */
            return s_piece(hm, d, from, from + len - 1440);
        if (s_piece(hm, d, from, 1440) != 0)
            return -1;
        len -= 1440 - from;
        d = (d + 1) % 7;
        from = 0;
    }
    return 0;
}

static int s_rules(uint8_t week[7][1440], hours_mode_t *hm)
{
    memset(hm, 0, sizeof *hm);
    const uint8_t *w = &week[0][0];
    int k0 = -1;
    for (int i = 0; i < S_WEEK && k0 < 0; i++)
        if (w[i] != S_OPEN)
            k0 = i;
    if (k0 < 0) {
        hm->nrules = 1;
        hm->always = true;
        hm->rules[0] = (hours_rule_t){ .days = 0x7f, .from_min = 0, .to_min = 1440 };
        return 0;
    }
    for (int i = 0; i < S_WEEK; i++) {
        int a = k0 + i;
        if (w[a % S_WEEK] != S_OPEN || w[(a + S_WEEK - 1) % S_WEEK] == S_OPEN)
            continue;
        int b = a;
        while (w[b % S_WEEK] == S_OPEN)
            b++;
        if (s_run_rules(hm, a, b) != 0)
            return -1;
    }
    return 0;
}

/* Unknown minutes of the learned week take the state before them (the week
 * is circular). Returns how many there were. */
static int s_fill_week(uint8_t week[7][1440])
{
    uint8_t *w = &week[0][0];
    int n = 0, last = -1;
    for (int i = 0; i < S_WEEK; i++)
        if (w[i] != S_UNK)
            last = i;
    if (last < 0)
        return S_WEEK;
    for (int i = 0; i < S_WEEK; i++) {
        int a = (last + 1 + i) % S_WEEK;
        if (w[a] == S_UNK) {
            w[a] = w[(a + S_WEEK - 1) % S_WEEK];
            n++;
        }
    }
    return n;
}

/* ---- learning ----------------------------------------------------------------- */

static void s_score(const uint8_t *w, int ndays, int64_t first, const bool *usable, const bool *exc,
                    uint8_t week[7][1440], hobs_result_t *out)
{
    long agree = 0, known = 0;
    for (int i = 0; i < ndays; i++) {
        if (!usable[i] || exc[i])
            continue;
        const uint8_t *d = w + (size_t)i * 1440, *s = week[s_wday(first + i)];
        for (int m = 0; m < 1440; m++) {
            if (d[m] == S_UNK)
                continue;
            known++;
            agree += d[m] == s[m];
        }
    }
    double c = known ? (double)agree / (double)known : 0;
    c *= out->weeks >= 3 ? 1.0 : out->weeks / 3.0;
    int bad = out->days_flapping + out->days_stuck;
    if (bad) {
        c *= (double)out->days_usable / (double)(out->days_usable + bad);
        out->why = out->days_flapping ? "flapping lanes on some days" : "stuck sensor on some days";
    }
    if (out->weeks < 3 && !bad)
        out->why = "fewer than 3 weeks observed";
    if (out->days_silent_recent > HOBS_SILENT_DAYS) {   /* a week and the day so far */
        if (c > HOBS_SILENT_CONF)
            c = HOBS_SILENT_CONF;
        _Static_assert(HOBS_SILENT_DAYS == 7, "the words name 7 days");
        out->why = "silent for the last 7 days";
    }
    out->confidence = c;
}

void hours_obs_learn_days(const uint8_t (*days)[1440], const uint8_t (*departed)[1440], int ndays,
                          int64_t first_day, hobs_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->status = HOBS_UNKNOWN;
    out->why = "";
    out->first_day = first_day;
    out->last_day = first_day + ndays - 1;
    size_t n = (size_t)ndays * 1440;
    uint8_t *w = malloc(n ? n : 1);
    bool *usable = calloc((size_t)ndays + 1, sizeof *usable);
    bool *exc = calloc((size_t)ndays + 1, sizeof *exc);
    if (!w || !usable || !exc) {
        out->why = "out of memory";
        goto done;
    }
    memcpy(w, days, n);
    s_bad_days(w, ndays, out);
    s_stuck(w, departed ? &departed[0][0] : NULL, ndays, out);
    s_smooth(w, n);
    for (int i = 0; i < ndays; i++) {
        usable[i] = s_usable(w + (size_t)i * 1440);
        out->days_usable += usable[i];
    }
    /* Silent days at the end: counted on the raw minutes (a flapping or
     * stuck day did report something). */
    for (int i = ndays - 1; i >= 0; i--) {
        const uint8_t *d = days[i];
        int m = 0;
        while (m < 1440 && d[m] == S_UNK)
            m++;
        if (m < 1440)
            break;
        out->days_silent_recent++;
    }
    int per_wday[7];
    s_majority(w, ndays, first_day, usable, exc, out->week, per_wday);
    /* Exceptions against the first majority, then the majority without
     * them, as long as each weekday keeps a day. */
    s_exceptions(w, ndays, first_day, usable, out->week, exc, out, false);
    int keep[7] = { 0 };
    for (int i = 0; i < ndays; i++)
        if (usable[i] && !exc[i])
            keep[s_wday(first_day + i)]++;
    for (int i = 0; i < ndays; i++)
        if (exc[i] && !keep[s_wday(first_day + i)])
            exc[i] = false;
    s_majority(w, ndays, first_day, usable, exc, out->week, per_wday);
    s_exceptions(w, ndays, first_day, usable, out->week, exc, out, true);
    /* Weeks behind the schedule: usable days per weekday, exceptions
     * included (they were observed; they just did not follow the pattern). */
    int seen[7] = { 0 };
    for (int i = 0; i < ndays; i++)
        seen[s_wday(first_day + i)] += usable[i];
    out->weeks = seen[0];
    for (int d = 1; d < 7; d++) {
        if (seen[d] < out->weeks)
            out->weeks = seen[d];
        if (!per_wday[d] || !per_wday[0])
            out->weeks = 0;
    }
    if (out->days_usable == 0) {
        out->why = out->days_silent == ndays ? "no data" : out->days_flapping ? "flapping lanes"
                   : out->days_stuck ? "stuck sensor" : "too little data";
        goto done;
    }
    if (out->weeks == 0) {
        out->why = "not every weekday observed";
        goto done;
    }
    s_fill_week(out->week);
    if (s_rules(out->week, &out->sched) != 0) {
        out->why = "irregular: more rules than the registry allows";
        memset(&out->sched, 0, sizeof out->sched);
        goto done;
    }
    out->status = HOBS_KNOWN;
    s_score(w, ndays, first_day, usable, exc, out->week, out);
done:
    free(w);
    free(usable);
    free(exc);
}

/* ---- packed results ------------------------------------------------------------ */

#define S_WEEK_MIN (7 * 1440)
#define S_BITS2_BYTES (S_WEEK_MIN / 4)

enum s_coding { S_RUNS, S_BITS2, S_RAW };

/* data: the result's bytes before exc, nexc_total, exc[0..nexc), then the
 * week: nruns uint16 (value << 14 | length - 1; a week is 10,080 minutes,
 * under 2^14), or 2 bits a minute, or (a value above 3, which no learner
 * writes) the raw bytes. Fields are copied with memcpy: data is unaligned. */
struct hobs_packed {
    uint16_t nruns;
    uint8_t coding, nexc;
    size_t size;
    unsigned char data[];
};

static size_t s_week_bytes(enum s_coding c, size_t nruns)
{
    return c == S_RUNS ? nruns * sizeof(uint16_t) : c == S_BITS2 ? S_BITS2_BYTES : S_WEEK_MIN;
}

hobs_packed_t *hours_obs_pack(const hobs_result_t *r)
{
    const uint8_t *w = &r->week[0][0];
    size_t nruns = 0;
    enum s_coding c = S_RUNS;
    for (size_t i = 0; i < S_WEEK_MIN; i++) {
        if (w[i] > 3)
            c = S_RAW;
        nruns += i == 0 || w[i] != w[i - 1];
    }
    if (c == S_RUNS && s_week_bytes(S_RUNS, nruns) > S_BITS2_BYTES)
        c = S_BITS2;
    size_t nexc = r->nexc < 0 ? 0 : r->nexc > HOBS_MAX_EXC ? HOBS_MAX_EXC : (size_t)r->nexc;
    size_t head = offsetof(hobs_result_t, exc), excb = nexc * sizeof r->exc[0];
    size_t size = head + sizeof r->nexc_total + excb + s_week_bytes(c, nruns);
    hobs_packed_t *p = malloc(sizeof *p + size);
    if (!p)
        return NULL;
    p->nruns = (uint16_t)(c == S_RUNS ? nruns : 0);
    p->coding = (uint8_t)c;
    p->nexc = (uint8_t)nexc;
    p->size = sizeof *p + size;
    unsigned char *o = p->data;
    memcpy(o, r, head);
    o += head;
    memcpy(o, &r->nexc_total, sizeof r->nexc_total);
    o += sizeof r->nexc_total;
    memcpy(o, r->exc, excb);
    o += excb;
    if (c == S_RAW) {
        memcpy(o, w, S_WEEK_MIN);
    } else if (c == S_BITS2) {
        memset(o, 0, S_BITS2_BYTES);
        for (size_t i = 0; i < S_WEEK_MIN; i++)
            o[i / 4] |= (unsigned char)(w[i] << (2 * (i % 4)));
    } else {
        for (size_t i = 0; i < S_WEEK_MIN;) {
            size_t j = i + 1;
            while (j < S_WEEK_MIN && w[j] == w[i])
                j++;
            uint16_t run = (uint16_t)(w[i] << 14 | (j - i - 1));
            memcpy(o, &run, sizeof run);
            o += sizeof run;
            i = j;
        }
    }
    return p;
}

void hours_obs_unpack(const hobs_packed_t *p, hobs_result_t *out, bool with_week)
{
    size_t head = offsetof(hobs_result_t, exc), excb = (size_t)p->nexc * sizeof out->exc[0];
    const unsigned char *in = p->data;
    memcpy(out, in, head);
    in += head;
    memcpy(&out->nexc_total, in, sizeof out->nexc_total);
    in += sizeof out->nexc_total;
    memcpy(out->exc, in, excb);
    memset((char *)out->exc + excb, 0, sizeof out->exc - excb);
    in += excb;
    uint8_t *w = &out->week[0][0];
    if (!with_week) {
        memset(w, 0, S_WEEK_MIN);
        return;
    }
    if (p->coding == S_RAW) {
        memcpy(w, in, S_WEEK_MIN);
    } else if (p->coding == S_BITS2) {
        for (size_t i = 0; i < S_WEEK_MIN; i++)
            w[i] = (uint8_t)(in[i / 4] >> (2 * (i % 4)) & 3);
    } else {
        size_t i = 0;
        for (size_t k = 0; k < p->nruns && i < S_WEEK_MIN; k++) {
            uint16_t run;
            memcpy(&run, in + k * sizeof run, sizeof run);
            size_t len = (size_t)(run & 0x3fff) + 1;
            if (len > S_WEEK_MIN - i)
                len = S_WEEK_MIN - i;
            memset(w + i, run >> 14, len);
            i += len;
        }
        memset(w + i, 0, S_WEEK_MIN - i);
    }
}

size_t hours_obs_packed_size(const hobs_packed_t *p)
{
    return p->size;
}

const char *hours_obs_exc_name(enum hobs_exc_kind k)
{
    switch (k) {
    case HOBS_EXC_CLOSED: return "closed";
    case HOBS_EXC_OPENED_LATE: return "opened_late";
    case HOBS_EXC_OPENED_EARLY: return "opened_early";
    case HOBS_EXC_CLOSED_EARLY: return "closed_early";
    case HOBS_EXC_CLOSED_LATE: return "closed_late";
    case HOBS_EXC_OPEN: return "open";
    default: return "irregular";
    }
}

const char *hours_obs_confidence_level(double c)
{
    return c >= 0.9 ? "high" : c >= 0.6 ? "medium" : "low";
}
