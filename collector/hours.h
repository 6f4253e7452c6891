/* hours — hours of operation of one side of a crossing, per mode: the rule
 * language of the registry, "is it open at this moment", and the weekly
 * windows in which the two sides of a crossing disagree.
 *
 * A rule is one string (docs/registry.md):
 *     "24h"                           open all the time
 *     "mon-fri 06:00-22:00"           weekday range (mon..sun, ranges, lists: "sat,sun", "daily")
 *     "fri,sat 20:00-02:00"           past midnight: the hours after 00:00 belong to the day named
 *     "05-15..09-30 daily 08:00-20:00" seasonal: only between these dates (MM-DD, may wrap the new year)
 * and a side may list holiday closures, closed all day (local time): a date
 * "MM-DD" ("12-25"), or the nth weekday of a month "MM-DAY#N" with N 1..5
 * or L for the last ("11-thu#4" US Thanksgiving, "05-mon#L" Memorial Day,
 * "11-mon#3" Mexico's Revolution Day, "10-mon#2" Canadian Thanksgiving:
 * most holidays move with the calendar). A mode is open when any of its rules covers the moment and
 * the day is not a closure. A side or a mode without rules is unknown,
 * which is never the same as open or closed. */
#ifndef POE_HOURS_H
#define POE_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "taxonomy.h"

#define HOURS_MAX_RULES 16   /* learned schedules (hours_obs) may need more than posted ones */
#define HOURS_MAX_CLOSED 16
#define HOURS_SOURCE_MAX 160

enum hours_state { HOURS_UNKNOWN = -1, HOURS_CLOSED = 0, HOURS_OPEN = 1 };
enum hours_side { HOURS_US = 0, HOURS_OTHER = 1 };

typedef struct {
    uint8_t days;            /* bit 0 = Monday .. bit 6 = Sunday */
    uint16_t from_min;       /* 0..1439 */
    uint16_t to_min;         /* 1..1440; <= from_min: ends the next day */
    uint16_t season_from;    /* month*100+day, 0 = all year */
    uint16_t season_to;
} hours_rule_t;

typedef struct {
    int nrules;              /* 0: unknown */
    bool always;             /* the one rule is "24h" */
    hours_rule_t rules[HOURS_MAX_RULES];
} hours_mode_t;

/* A closure day: a date, or the nth (or last) weekday of a month. */
typedef struct {
    uint8_t month;           /* 1..12 */
    uint8_t day;             /* 1..31; 0: by weekday */
    uint8_t wday;            /* 0 = Monday .. 6 = Sunday */
    int8_t nth;              /* 1..5, or -1 for the last */
} hours_closure_t;

typedef struct {
    bool known;
    char source[HOURS_SOURCE_MAX];      /* where the hours come from */
    int nclosed;
    hours_closure_t closed[HOURS_MAX_CLOSED];
    hours_mode_t mode[TAX_NMODES + 1];  /* by enum tax_mode; 0 unused */
} hours_side_t;

/* Parse one rule. Returns 0, or -1 with the reason in why. */
int hours_parse_rule(const char *text, hours_rule_t *out, char *why, size_t whylen);

/* Parse a "MM-DD" date into month*100+day. Returns 0 or -1. */
int hours_parse_date(const char *text, uint16_t *out);

/* Parse a closure, "MM-DD" or "MM-DAY#N" (N 1..5 or L). Returns 0 or -1. */
int hours_parse_closure(const char *text, hours_closure_t *out);

/* Write a closure back as parsed ("11-thu#4"). Returns buf. */
char *hours_closure_text(const hours_closure_t *c, char *buf, size_t len);

/* True when local day lt (tm_year, tm_mon, tm_mday, tm_wday) is closure c. */
bool hours_closure_on(const hours_closure_t *c, const struct tm *lt);

/* Write a rule back in the language above into buf. Returns buf. */
char *hours_rule_text(const hours_rule_t *r, char *buf, size_t len);

/* State of mode m on side h at local time lt (tm_year, tm_mon, tm_mday,
 * tm_wday, tm_hour, tm_min used). */
enum hours_state hours_state_local(const hours_side_t *h, enum tax_mode m, const struct tm *lt);

/* Which side inspects direction d: the side of the country it enters. */
enum hours_side hours_side_of(enum tax_border b, enum tax_dir d);

/* One stretch of a week when one side is open and the other closed. */
typedef struct {
    int64_t from, to;        /* UTC seconds, [from, to) */
    enum hours_side open_side;
} hours_window_t;

/* Compare two sides' hours for mode m, minute by minute, over the week
 * [week_start, week_start + 7 days), each side in its own zone. Fills up to
 * max windows (in time order; *nwin counts all) and the minutes when only
 * the US side (min_us_only) or only the other side is open. Returns 0, 1
 * when a side's hours are unknown for m (nothing compared), -1 when a zone
 * is unusable. */
int hours_mismatch_week(const hours_side_t *us, const char *us_tz,
                        const hours_side_t *other, const char *other_tz,
                        enum tax_mode m, int64_t week_start,
                        hours_window_t *win, int max, int *nwin,
                        int *min_us_only, int *min_other_only);

#endif
