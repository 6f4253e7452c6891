/* refusals — what one collector refused of a sender's samples, by reason.
 *
 * A collector acknowledges a batch even when it refused some (or all) of
 * its samples — resending cannot make a sample a day in the future
 * acceptable — and since protocol 2 its Ack says what it refused and why
 * (proto/poenet.proto, Refused). The link feeds each such Ack here; this
 * module keeps the totals per reason, the earliest refused sample end and
 * the clock offset the latest time refusal implies, and says it in the log
 * once per minute at most (the first refusal at once), so an operator at
 * the crossing learns it without a flood. Refused samples are not kept:
 * they are dropped loudly (docs/reliability.md says why). */
#ifndef POE_REFUSALS_H
#define POE_REFUSALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define REFUSALS_LOG_MS 60000

typedef struct {
    char reason[WIRE_REASON_MAX + 1];
    uint64_t total;             /* samples refused since start */
    uint64_t pending;           /* ... since the last log line */
    uint64_t first_t_end_ms;    /* earliest refused sample end seen */
    int64_t offset_ms;          /* that earliest end minus the collector's clock then */
} refusals_reason_t;

typedef struct {
    refusals_reason_t v[WIRE_MAX_REFUSED];
    size_t n;
    uint64_t total;
    int64_t clock_offset_ms;    /* latest: this host's clock minus the collector's, at the ack */
    bool have_clock;
    int64_t last_log_ms;        /* monotonic */
} refusals_t;

/* True for the reasons that mean a sample's time was refused. */
bool refusals_is_time(const char *reason);

/* Take an Ack's refusals. now_ms is this host's wall clock when it arrived,
 * mono_ms the monotonic one. who names the collector in the log line,
 * which is written now if none was in the last minute. */
void refusals_add(refusals_t *self, const wire_refusals_t *r, int64_t now_ms, int64_t mono_ms,
                  const char *who);

/* Write the pending line if a minute has passed since the last. */
void refusals_tick(refusals_t *self, int64_t mono_ms, const char *who);

/* "future 120 (first 2026-12-04T19:50:00Z, 86400 s ahead of the collector's clock), too_old 3":
 * totals since start; "" when nothing was refused. */
void refusals_format(const refusals_t *self, bool pending, char *buf, size_t len);

/* The time reason with the most samples (NULL when none). */
const refusals_reason_t *refusals_time(const refusals_t *self);

#endif
