/* zone — local wall-clock time in a named IANA zone, without switching the
 * process's TZ on every call.
 *
 * The official feeds publish local clock text ("At 6:00 pm PDT") and port
 * hours are local ("6 am-10 pm"), for a dozen zones, up to a few thousand
 * times per rendered feed. glibc converts only in the process zone, so a
 * lookup switches TZ (setenv + tzset + localtime_r) and restores it; the
 * result (UTC offset and abbreviation) is cached per zone and per 15-minute
 * slot of UTC time. Every zone change North America has ever had happens at
 * a whole quarter hour of UTC (offsets are multiples of 15 min and changes
 * fall on local whole or half hours), so an offset is constant within a
 * slot and the cache is exact. Single-threaded use only (the collector has
 * one event loop); TZ is restored before returning. */
#ifndef POE_ZONE_H
#define POE_ZONE_H

#include <stdint.h>
#include <time.h>

/* Local broken-down time of Unix second t in zone (e.g. "America/Phoenix")
 * into *out (tm_gmtoff and tm_isdst set; tm_zone is not set) and its
 * abbreviation ("PDT", "MST") into abbr (abbrlen >= 8). Returns 0, or -1
 * when the zone is not usable (logged once per zone). */
int zone_local(const char *zone, int64_t t, struct tm *out, char *abbr, size_t abbrlen);

/* UTC second of the local wall time y-m-d h:mi in zone (the earlier one when
 * a fall-back hour repeats it; a skipped spring-forward time is taken as
 * standard time). Returns 0 or -1. */
int zone_to_utc(const char *zone, int y, int m, int d, int h, int mi, int64_t *out);

/* Drop the cache (tests switch TZDIR). */
void zone_reset(void);

#endif
