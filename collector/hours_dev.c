/* hours_dev — see hours_dev.h. */
#include "hours_dev.h"

#include <stdio.h>
#include <string.h>

#define S_WEEK (7 * 1440)

static int s_mon0(int64_t daynum)
{
    int64_t w = (daynum + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static void s_tm(int64_t daynum, int min, struct tm *lt)
{
    int y, mo, d;
    hours_obs_civil(daynum, &y, &mo, &d);
    memset(lt, 0, sizeof *lt);
    lt->tm_year = y - 1900;
    lt->tm_mon = mo - 1;
    lt->tm_mday = d;
    lt->tm_wday = (s_mon0(daynum) + 1) % 7;
    lt->tm_hour = min / 60;
    lt->tm_min = min % 60;
}

/* Adds (kind, day, from, to) grouping equal stretches on other days. */
static int s_push(hours_dev_t *out, int max, int n, enum hdev_kind kind, int day, int from, int len)
{
    for (int i = 0; i < n && i < max; i++)
        if (out[i].kind == kind && out[i].from_min == from && out[i].minutes == len && out[i].days) {
            out[i].days |= (uint8_t)(1u << day);
            return n;
        }
    if (n < max)
        out[n] = (hours_dev_t){ .kind = kind, .days = (uint8_t)(1u << day), .from_min = from,
                                .to_min = from + len, .minutes = len };
    return n + 1;
}

static int s_weekly(const uint8_t *p, const uint8_t *o, hours_dev_t *out, int max)
{
    int k0 = -1;
    for (int i = 0; i < S_WEEK && k0 < 0; i++)
        if (p[i] == o[i])
            k0 = i;
    if (k0 < 0)   /* differs all week: one stretch from Monday 00:00 */
        return s_push(out, max, 0, p[0] ? HDEV_CLOSED_INSIDE : HDEV_OPEN_OUTSIDE, 0, 0, S_WEEK);
    int n = 0;
    for (int i = 0; i < S_WEEK;) {
        int a = k0 + i;
        if (p[a % S_WEEK] == o[a % S_WEEK]) {
            i++;
            continue;
        }
        int b = a;
        while (p[b % S_WEEK] != o[b % S_WEEK] && p[b % S_WEEK] == p[a % S_WEEK])
            b++;
        i += b - a;
        int len = b - a;
        if (len < HDEV_MIN_MIN)
            continue;
        bool posted_open = p[a % S_WEEK];
        bool p_before = p[(a + S_WEEK - 1) % S_WEEK], p_after = p[b % S_WEEK];
        enum hdev_kind kind;
        if (posted_open)
            kind = !p_before ? HDEV_OPENS_LATE : !p_after ? HDEV_CLOSES_EARLY : HDEV_CLOSED_INSIDE;
        else
            kind = p_after ? HDEV_OPENS_EARLY : p_before ? HDEV_CLOSES_LATE : HDEV_OPEN_OUTSIDE;
        n = s_push(out, max, n, kind, (a % S_WEEK) / 1440, a % 1440, len);
    }
    return n;
}

static bool s_posted_closure(const hours_side_t *posted, const struct tm *lt)
{
    for (int i = 0; i < posted->nclosed; i++)
        if (hours_closure_on(&posted->closed[i], lt))
            return true;
    return false;
}

int hours_dev_compare(const hours_side_t *posted, enum tax_mode m, const hobs_result_t *obs,
                      int64_t ref_daynum, hours_dev_t *out, int max)
{
    if (!posted->known || !tax_mode_valid(m) || !posted->mode[m].nrules || obs->status != HOBS_KNOWN)
        return -1;
    hours_side_t rules = *posted;   /* the weekly rules, without closure days */
    rules.nclosed = 0;
    uint8_t p[S_WEEK], o[S_WEEK];   /* on the stack: HTTP threads may compare at once */
    int64_t monday = ref_daynum - s_mon0(ref_daynum);
    for (int i = 0; i < S_WEEK; i++) {
        struct tm lt;
        s_tm(monday + i / 1440, i % 1440, &lt);
        p[i] = hours_state_local(&rules, m, &lt) == HOURS_OPEN;
        o[i] = obs->week[i / 1440][i % 1440] == 2;
    }
    int n = s_weekly(p, o, out, max);
    for (int e = 0; e < obs->nexc; e++) {
        const hobs_exception_t *x = &obs->exc[e];
        if (x->kind != HOBS_EXC_CLOSED)
            continue;
        int64_t dn = hours_obs_daynum(x->year, x->month, x->day);
        struct tm lt;
        s_tm(dn, 0, &lt);
        if (s_posted_closure(posted, &lt))
            continue;   /* a posted holiday, kept */
        bool open = false;
        for (int min = 0; min < 1440 && !open; min += 5) {
            s_tm(dn, min, &lt);
            open = hours_state_local(&rules, m, &lt) == HOURS_OPEN;
        }
        if (!open)
            continue;
        if (n < max)
            out[n] = (hours_dev_t){ .kind = HDEV_CLOSED_ON_DATE, .minutes = x->minutes,
                                    .year = x->year, .month = x->month, .day = x->day };
        n++;
    }
    return n;
}

const char *hours_dev_name(enum hdev_kind k)
{
    switch (k) {
    case HDEV_OPENS_LATE: return "opens_late";
    case HDEV_OPENS_EARLY: return "opens_early";
    case HDEV_CLOSES_EARLY: return "closes_early";
    case HDEV_CLOSES_LATE: return "closes_late";
    case HDEV_CLOSED_INSIDE: return "closed_while_posted_open";
    case HDEV_OPEN_OUTSIDE: return "open_while_posted_closed";
    default: return "closed_on_posted_open_day";
    }
}

char *hours_dev_text(const hours_dev_t *d, char *buf, size_t len)
{
    if (d->kind == HDEV_CLOSED_ON_DATE) {
        snprintf(buf, len, "closed on %04d-%02d-%02d, a posted-open day", d->year, d->month, d->day);
        return buf;
    }
    char days[64], rule[80];
    hours_rule_t r = { .days = d->days, .from_min = 0, .to_min = 60 };
    hours_rule_text(&r, rule, sizeof rule);
    snprintf(days, sizeof days, "%.*s", (int)strcspn(rule, " "), rule);
    int a = d->from_min % 1440, b = d->to_min % 1440;
    char from[8], to[8];
    snprintf(from, sizeof from, "%02d:%02d", a / 60, a % 60);
    snprintf(to, sizeof to, "%02d:%02d", b / 60, b % 60);
    switch (d->kind) {
    case HDEV_OPENS_LATE:
        snprintf(buf, len, "opens %d min late on %s (posted %s, kept %s)", d->minutes, days, from, to);
        break;
    case HDEV_OPENS_EARLY:
        snprintf(buf, len, "opens %d min early on %s (posted %s, kept %s)", d->minutes, days, to, from);
        break;
    case HDEV_CLOSES_EARLY:
        snprintf(buf, len, "closes %d min early on %s (posted %s, kept %s)", d->minutes, days, to, from);
        break;
    case HDEV_CLOSES_LATE:
        snprintf(buf, len, "closes %d min late on %s (posted %s, kept %s)", d->minutes, days, from, to);
        break;
    case HDEV_CLOSED_INSIDE:
        snprintf(buf, len, "closed %s-%s on %s while posted open", from, to, days);
        break;
    default:
        snprintf(buf, len, "open %s-%s on %s while posted closed", from, to, days);
        break;
    }
    return buf;
}
