/* observed — the hours each side of every crossing actually keeps, per mode,
 * learned by hours_obs from the lanes of the direction that side inspects
 * (the one entering its country: hours_side_of).
 *
 * One track per crossing, side and mode the registry gives lanes, and one
 * per lane type of a mode that has several (its hours may differ). At start
 * observed_load(_async) reads the last HOBS_DAYS days of every queue's
 * lanes_open and departures from the archive (its 5-minute rows: the
 * schedule is learned to 5 minutes); then every interval the collector
 * archives comes through observed_interval, is folded into its minute and
 * stored when the minute is over. Every learn_every_s a timer relearns the
 * tracks that changed; a request never reads the archive. Results are
 * guarded by a mutex so HTTP threads may read them while the event loop
 * learns. Bad input is counted (observed_counters, in /health and
 * /metrics) and logged once per track: a minute far ahead of the clock or
 * an interval behind one already folded (clock jumps: refused), a lane
 * type open a day without a departure (a stuck sensor: its open minutes
 * unknown until it departs or closes), flapping and stuck days (unknown),
 * a direction silent for a week (its hours at low confidence). Tracks are
 * relearned when they change and at least once a day, so silence shows. */
#ifndef POE_OBSERVED_H
#define POE_OBSERVED_H

#include <stdint.h>

#include "archive.h"
#include "hours_demand.h"
#include "hours_obs.h"
#include "registry.h"

struct event_base;
typedef struct observed observed_t;

/* Tracks for every crossing of reg; relearning every learn_every_s on base
 * (base NULL: only when observed_refresh is called). NULL when out of memory. */
observed_t *observed_new(struct event_base *base, const registry_t *reg, int learn_every_s);
void observed_destroy(observed_t **self_p);

/* Read the archive's last HOBS_DAYS days (its 5-minute rows) into the
 * tracks and learn. Returns the number of queue files read, -1 when
 * rrdcached failed (logged; the tracks then learn from live data only). */
int observed_load(observed_t *self, archive_t *arch, int64_t now_s);

/* The same without holding the loop: the files are read on a thread of
 * their own (archive_reader.h: a FETCH waits for rrdcached's writer, ~0.1 s
 * a file when it is busy, and there are ~10,000 files at 10,000 series),
 * and applied on the loop a slice at a time, so the collector serves and
 * ingests meanwhile; live minutes merge with the archived ones. Needs a
 * base. 0, or -1 when it could not be started. */
int observed_load_async(observed_t *self, archive_t *arch, int64_t now_s);

/* One archived interval of a queue of crossing ci (registry order): lanes
 * open at its end, arrivals and departures in it, ending at t_end_ms (Unix
 * ms), interval_ms long (agents' intervals may be a part of a second). */
void observed_interval(observed_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                       enum tax_type type, int64_t t_end_ms, uint32_t interval_ms, uint32_t lanes,
                       uint32_t arrivals, uint32_t departures, int64_t now_s);

/* The archived demand of direction d, mode m in [from_s, to_s) of a typical
 * week (hours_demand_sum), under the lock: HTTP threads may ask. */
double observed_demand(const observed_t *self, size_t ci, enum tax_dir d, enum tax_mode m,
                       int64_t from_s, int64_t to_s, double *covered);

/* Store finished minutes and relearn changed tracks now. Returns how many
 * were relearned. */
int observed_refresh(observed_t *self, int64_t now_s);

/* A copy of the result of crossing ci, side, mode m. 0, or -1 when there is
 * no such track (the mode has no lanes). */
int observed_get(const observed_t *self, size_t ci, enum hours_side side, enum tax_mode m,
                 hobs_result_t *out);

/* The same for lane type t of mode m, tracked only where the mode has
 * lanes of several types (their hours may differ from the mode's: a
 * NEXUS/SENTRI lane closing earlier). -1 when there is no such track. */
int observed_get_type(const observed_t *self, size_t ci, enum hours_side side, enum tax_mode m,
                      enum tax_type t, hobs_result_t *out);

/* Bumped whenever a result changed (views cache on it), and when. */
uint64_t observed_version(const observed_t *self);
int64_t observed_changed_s(const observed_t *self);

typedef struct {
    uint64_t minutes;          /* minutes stored */
    uint64_t clock_jumps;      /* minutes refused: ahead of the clock */
    uint64_t clock_back;       /* intervals refused: ending before one already folded */
    uint64_t too_old;          /* minutes before a track's window */
    uint64_t stuck_lanes;      /* lane types found open HOBS_STUCK_MIN without a departure */
    uint64_t relearns;         /* tracks learned */
    uint32_t tracks, known;    /* tracks, and those with a known schedule */
    uint32_t stuck, flapping;  /* tracks with such days in their window */
    uint32_t silent;           /* tracks without a usable day ("no data") */
    uint32_t silent_week;      /* tracks with hours but no data for HOBS_SILENT_DAYS (low confidence) */
    double load_s, last_refresh_ms;     /* time of the start-up load and the last relearn */
} observed_counters_t;

void observed_counters(const observed_t *self, observed_counters_t *out);

#endif
