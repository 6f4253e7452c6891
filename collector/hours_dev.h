/* hours_dev — where the hours a side keeps (hours_obs) depart from the hours
 * it posts (the registry): "opens 25 minutes late on mon-fri", "closed on
 * 2026-11-26, a posted-open day".
 *
 * The weekly comparison is minute by minute over the side's own wall-clock
 * week: the posted rules in force in the week of a reference date (seasons
 * apply, closure days do not: they are dates, compared separately) against
 * the learned week. A stretch where they differ shorter than HDEV_MIN_MIN
 * minutes is within the learned schedule's 5-minute rounding and not
 * listed. Each stretch is named by where it lies: at a posted opening
 * (opens late / early), at a posted closing (closes early / late), or
 * inside (closed while posted open, open while posted closed); equal
 * stretches on several weekdays are one deviation with those days. By
 * date: an observed all-day closure on a day the posted hours open (not a
 * posted holiday). Pure. */
#ifndef POE_HOURS_DEV_H
#define POE_HOURS_DEV_H

#include <stdint.h>

#include "hours.h"
#include "hours_obs.h"

#define HDEV_MIN_MIN 10
#define HDEV_MAX 32

enum hdev_kind {
    HDEV_OPENS_LATE,
    HDEV_OPENS_EARLY,
    HDEV_CLOSES_EARLY,
    HDEV_CLOSES_LATE,
    HDEV_CLOSED_INSIDE,     /* closed while posted open */
    HDEV_OPEN_OUTSIDE,      /* open while posted closed */
    HDEV_CLOSED_ON_DATE     /* closed all day on a posted-open date */
};

typedef struct {
    enum hdev_kind kind;
    uint8_t days;            /* weekdays (bit 0 Monday); 0 for a date */
    int from_min, to_min;    /* the differing stretch, minutes of its first day (to may pass 1440) */
    int minutes;
    int year, month, day;    /* HDEV_CLOSED_ON_DATE */
} hours_dev_t;

/* Compare posted mode m against learned obs (known) for the week holding
 * local day ref_daynum. Fills up to max deviations, returns how many there
 * are (all of them), or -1 when posted or observed is unknown. */
int hours_dev_compare(const hours_side_t *posted, enum tax_mode m, const hobs_result_t *obs,
                      int64_t ref_daynum, hours_dev_t *out, int max);

const char *hours_dev_name(enum hdev_kind k);

/* One line for people: "opens 25 min late on mon-fri (posted 06:00, kept 06:25)". */
char *hours_dev_text(const hours_dev_t *d, char *buf, size_t len);

#endif
