/* hours_obs — the hours one side of a crossing actually keeps for one mode,
 * learned from the minutes its lanes were open (issue 12, docs/feed.md).
 *
 * A track holds the last HOBS_DAYS local days of one side and mode as one
 * state per wall-clock minute of the side's own zone (unknown, closed,
 * open, and whether anything departed). Minutes are stored by their local
 * date and time, so a schedule is learned in wall-clock terms and a DST
 * change is no special case: the skipped spring-forward hour is simply
 * unknown, the repeated fall-back hour is merged (open wins).
 *
 * Feeding: hours_obs_add takes one minute (lanes open on average over it,
 * departures in it; NAN = unknown). Several lane types of one mode feed the
 * same track: a minute is open when any of them was (the mode is open when
 * at least one of its lanes is). Adding is O(1); nothing is learned then.
 *
 * Learning (hours_obs_learn), on a copy of the window:
 *   1. bad input, per day: a day whose raw minutes flip open/closed more than
 *      HOBS_FLAP_MAX times is flapping (unknown, counted); an open stretch
 *      with departures known and none at all for HOBS_STUCK_MIN minutes is
 *      a stuck sensor (unknown, counted); a day with no data is silent.
 *   2. smoothing: open runs of at most HOBS_BLIP_MIN minutes between closed
 *      minutes are blips (closed); closed or unknown runs shorter than
 *      HOBS_GAP_MIN between open minutes are gaps (open); an unknown run
 *      shorter than HOBS_GAP_MIN between closed minutes is closed. Longer
 *      unknown stays unknown, never closed.
 *   3. per weekday and minute, the majority of the known days (a tie goes to
 *      the latest day); days that differ from that for HOBS_EXC_MIN minutes
 *      or more are exceptions (listed with their date and what happened) and
 *      the majority is taken again without them.
 *   4. the week becomes rules of the registry's language (hours.h), ends
 *      rounded to 5 minutes: "24h", "mon-fri 08:00-22:00", overnight.
 * The result is unknown when some weekday has no usable day (fewer than
 * HOBS_DAY_KNOWN_PCT % of its minutes known) or the week needs more than
 * HOURS_MAX_RULES rules. weeks = the fewest usable days of any weekday;
 * confidence = agreement of the usable days with the schedule × min(1,
 * weeks / 3), lowered by flapping and stuck days, and at most
 * HOBS_SILENT_CONF ("low") when more than the last HOBS_SILENT_DAYS days
 * of the window have no data (7 whole days and today's so far) (a direction that went silent: its old hours may no
 * longer hold).
 *
 * Pure: no I/O, no logging; counters tell the caller what to log. Not
 * thread-safe (the caller locks). */
#ifndef POE_HOURS_OBS_H
#define POE_HOURS_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hours.h"

#define HOBS_DAYS 35            /* local days kept: 5 weeks (the archive's 5-minute rows) */
#define HOBS_GAP_MIN 10         /* closed/unknown runs shorter than this inside open: open */
#define HOBS_BLIP_MIN 1         /* open runs this short between closed: closed */
#define HOBS_FLAP_MAX 48        /* raw open/closed flips per day beyond this: flapping */
#define HOBS_STUCK_MIN (24 * 60) /* open without a departure this long: stuck sensor */
#define HOBS_EXC_MIN 20         /* a day differing this many minutes is an exception */
#define HOBS_DAY_KNOWN_PCT 80   /* a day is usable with this share of minutes known */
#define HOBS_MAX_EXC 16
#define HOBS_CLOCK_AHEAD_S 300  /* a minute further ahead of "now" is a clock jump */
#define HOBS_SILENT_DAYS 7      /* more days than this without data at the end (a week and
                                 * the day so far): low confidence */
#define HOBS_SILENT_CONF 0.5    /* the confidence is at most this then ("low") */

typedef struct hours_obs hours_obs_t;

/* A track in zone tz (IANA name, copied). NULL when out of memory. */
hours_obs_t *hours_obs_new(const char *tz);
void hours_obs_destroy(hours_obs_t **self_p);

enum hobs_add {
    HOBS_ADDED = 0,
    HOBS_OLD = 1,         /* before the window (ignored) */
    HOBS_CLOCK = -1,      /* more than HOBS_CLOCK_AHEAD_S after now: a clock jump (refused) */
    HOBS_BADZONE = -2,    /* the zone cannot be used */
    HOBS_NOMEM = -3       /* out of memory for the minute's day (not stored) */
};

/* One minute starting at UTC second t (any second of the minute): lanes
 * open on average over it (>= 0.5: open; NAN: unknown), departures in it
 * (NAN: unknown). now_s is the caller's clock. */
enum hobs_add hours_obs_add(hours_obs_t *self, int64_t t, double lanes, double departures,
                            int64_t now_s);

/* Bumped by every stored minute (the caller relearns dirty tracks). */
uint64_t hours_obs_version(const hours_obs_t *self);

enum hobs_exc_kind {
    HOBS_EXC_CLOSED,        /* closed all day where the schedule opens */
    HOBS_EXC_OPENED_LATE,
    HOBS_EXC_OPENED_EARLY,
    HOBS_EXC_CLOSED_EARLY,
    HOBS_EXC_CLOSED_LATE,
    HOBS_EXC_OPEN,          /* open on a day the schedule is closed */
    HOBS_EXC_IRREGULAR      /* differs otherwise */
};

typedef struct {
    int year, month, day;   /* local date */
    enum hobs_exc_kind kind;
    int minutes;            /* how late/early; for others the minutes that differ */
    char observed[48];      /* the day's open stretches, "09:40-22:00", or "closed" */
} hobs_exception_t;

enum hobs_status { HOBS_UNKNOWN = 0, HOBS_KNOWN = 1 };

typedef struct {
    enum hobs_status status;
    const char *why;         /* why unknown, or what lowered the confidence; "" when nothing */
    hours_mode_t sched;      /* the rules (valid when known) */
    int weeks;               /* fewest usable days of any weekday */
    double confidence;       /* 0..1 */
    int days_usable, days_silent, days_flapping, days_stuck;
    int days_silent_recent;  /* days without data at the end of the window (up to today) */
    int64_t first_day, last_day;   /* local day numbers (days since 1970-01-01) of the window */
    int nexc;
    hobs_exception_t exc[HOBS_MAX_EXC];
    int nexc_total;          /* all exceptions (the list keeps the latest HOBS_MAX_EXC) */
    uint8_t week[7][1440];   /* the learned week, mon..sun: 0 unknown, 1 closed, 2 open */
} hobs_result_t;

/* Learn the schedule from what the track holds. The window is the
 * HOBS_DAYS local days up to the day of now_s in the track's zone (0: up to
 * the latest day stored), so a direction that stopped reporting shows as
 * silent days at the end. Always fills out. */
void hours_obs_learn(const hours_obs_t *self, int64_t now_s, hobs_result_t *out);

/* A lane of the track's mode was found stuck open (no departure for
 * HOBS_STUCK_MIN minutes) over [from_s, to_s): the minutes of that range
 * stored open without a departure become unknown again (the other lane
 * types of the mode may have been open; those with departures stay).
 * Returns how many minutes were forgotten. */
int hours_obs_forget(hours_obs_t *self, int64_t from_s, int64_t to_s);

/* Learn from a bare series of local days (tests, tools): days[i][1440] of
 * day number first_day + i, values as hobs_result_t.week, departed[i] (may
 * be NULL) 1 where something departed, 0 where nothing did, 2 unknown. */
void hours_obs_learn_days(const uint8_t (*days)[1440], const uint8_t (*departed)[1440], int ndays,
                          int64_t first_day, hobs_result_t *out);

/* A learned result as kept between learns: hobs_result_t is 11 KB, of
 * which the week by the minute is 10 KB and the exceptions' list 1 KB, yet
 * a week holds a few dozen runs and most results no exception. Every track
 * of a collector keeps one (2,500 at 10,000 series: 28.6 MB as whole
 * results, docs/performance.md §1h), so they are kept packed: the fields,
 * the exceptions listed, and the week as runs of minutes (or 2 bits a
 * minute when that is smaller: a week of more than 1,260 runs).
 * Unpacking gives back the result byte for byte, padding aside. */
typedef struct hobs_packed hobs_packed_t;

/* A malloc'ed packed copy of r (free() it), NULL when out of memory. */
hobs_packed_t *hours_obs_pack(const hobs_result_t *r);

/* What hours_obs_pack was given, written to out; with_week false leaves
 * out->week all unknown (0) and skips decoding it (counters, status). */
void hours_obs_unpack(const hobs_packed_t *p, hobs_result_t *out, bool with_week);

/* The bytes p takes (for tests and figures). */
size_t hours_obs_packed_size(const hobs_packed_t *p);

/* Day number (days since 1970-01-01) of a civil date, and back. */
int64_t hours_obs_daynum(int y, int m, int d);
void hours_obs_civil(int64_t daynum, int *y, int *m, int *d);

const char *hours_obs_exc_name(enum hobs_exc_kind k);
const char *hours_obs_confidence_level(double c);

#endif
