/* zone — see zone.h. A direct-mapped cache of (zone, 15-min slot) →
 * (UTC offset, isdst, abbreviation); a miss switches TZ once and fills the
 * next ZONE_FILL slots of that zone while it is loaded: every switch makes
 * glibc read the zone file again (tzset), and readers go forward in time
 * (the archive loaded at start, a day's feed) — one switch per 15 minutes
 * of data was half of the collector's loop at 10,000 series. */
#include "zone.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ZONE_SLOT_S 900
#define ZONE_CACHE 8192
#define ZONE_FILL 96                 /* slots filled per switch: a day */
#define ZONE_NAME_MAX 48
#define ZONE_NAMES 1024              /* the tz database has ~600 names */

/* An entry names its zone by number (1 + its index in s_names; 0 unused):
 * 24 bytes, not the 88 of a name each — 8,192 entries are 192 KB of
 * resident memory instead of 720 KB once the cache has filled. */
typedef struct {
    int64_t slot;
    int32_t gmtoff;
    uint16_t zone;
    int8_t isdst;
    char abbr[7];                    /* "AKST", "-03": 6 at most in tzdata */
} s_entry_t;

static s_entry_t s_cache[ZONE_CACHE];
static char s_names[ZONE_NAMES][ZONE_NAME_MAX];
static int s_nnames;

void zone_reset(void)
{
    memset(s_cache, 0, sizeof s_cache);
    memset(s_names, 0, sizeof s_names);
    s_nnames = 0;
}

/* The number of zone, given one if it has none; 0 when the table is full. */
static uint16_t s_zone_number(const char *zone)
{
    for (int i = 0; i < s_nnames; i++)
        if (strcmp(s_names[i], zone) == 0)
            return (uint16_t)(i + 1);
    if (s_nnames == ZONE_NAMES)
        return 0;
    snprintf(s_names[s_nnames], ZONE_NAME_MAX, "%s", zone);
    return (uint16_t)++s_nnames;
}

static bool s_is(const s_entry_t *e, const char *zone, int64_t slot)
{
    return e->zone && e->slot == slot && strcmp(s_names[e->zone - 1], zone) == 0;
}

static uint32_t s_hash(const char *zone, int64_t slot)
{
    uint32_t h = 2166136261u;
    for (const char *p = zone; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h ^= (uint32_t)slot * 2654435761u;
    return h % ZONE_CACHE;
}

/* glibc silently falls back to UTC for a zone it cannot load; an unknown
 * zone would then print "UTC" in a feed. Reject it instead: the name must
 * be a file under TZDIR (the registry has checked it already, this guards
 * other callers). */
static bool s_zone_file_exists(const char *zone)
{
    if (!*zone || *zone == '/' || strstr(zone, ".."))
        return false;
    const char *dir = getenv("TZDIR");
    char path[512];
    int n = snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
    if (n < 0 || (size_t)n >= sizeof path)
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fclose(f);
    return true;
}

/* Switch TZ, convert the n slots from slot on into the cache, restore: the
 * only place that touches TZ. */
static int s_lookup(const char *zone, int64_t slot, int n)
{
    if (strlen(zone) >= ZONE_NAME_MAX || !s_zone_file_exists(zone))
        return -1;
    uint16_t number = s_zone_number(zone);
    if (!number)
        return -1;
    const char *old = getenv("TZ");
    char saved[128];
    bool had = old && strlen(old) < sizeof saved;
    if (had)
        strcpy(saved, old);
    char spec[ZONE_NAME_MAX + 1];
    snprintf(spec, sizeof spec, ":%s", zone);
    setenv("TZ", spec, 1);
    tzset();
    int done = 0;
    for (int i = 0; i < n; i++) {
        time_t tt = (time_t)((slot + i) * ZONE_SLOT_S);
        struct tm tm;
        if (!localtime_r(&tt, &tm))
            break;
        s_entry_t *e = &s_cache[s_hash(zone, slot + i)];
        *e = (s_entry_t){ .slot = slot + i, .gmtoff = (int32_t)tm.tm_gmtoff,
                          .zone = number, .isdst = (int8_t)tm.tm_isdst };
        snprintf(e->abbr, sizeof e->abbr, "%s", tm.tm_zone ? tm.tm_zone : "");
        done++;
    }
    if (had)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    return done > 0 ? 0 : -1;
}

static const s_entry_t *s_get(const char *zone, int64_t t)
{
    int64_t slot = t >= 0 ? t / ZONE_SLOT_S : -((-t + ZONE_SLOT_S - 1) / ZONE_SLOT_S);
    s_entry_t *e = &s_cache[s_hash(zone, slot)];
    if (s_is(e, zone, slot))
        return e;
    /* A later slot of the fill may share the bucket: then the one asked
     * for is converted alone. */
    if (s_lookup(zone, slot, ZONE_FILL) != 0 ||
        (!s_is(e, zone, slot) && s_lookup(zone, slot, 1) != 0)) {
        static char last_bad[ZONE_NAME_MAX];
        if (strncmp(last_bad, zone, sizeof last_bad - 1) != 0) {
            log_error("zone: cannot use time zone '%s'", zone);
            snprintf(last_bad, sizeof last_bad, "%s", zone);
        }
        return NULL;
    }
    return e;
}

int zone_local(const char *zone, int64_t t, struct tm *out, char *abbr, size_t abbrlen)
{
    const s_entry_t *e = zone ? s_get(zone, t) : NULL;
    if (!e)
        return -1;
    time_t local = (time_t)(t + e->gmtoff);
    if (!gmtime_r(&local, out))
        return -1;
    out->tm_gmtoff = e->gmtoff;
    out->tm_isdst = e->isdst;
    out->tm_zone = NULL;
    if (abbr && abbrlen)
        snprintf(abbr, abbrlen, "%s", e->abbr);
    return 0;
}

int zone_to_utc(const char *zone, int y, int m, int d, int h, int mi, int64_t *out)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi };
    int64_t wall = (int64_t)timegm(&tm);
    /* Offsets before and after any change bracket the answer; take the
     * earlier instant whose local time is the wall time asked for. */
    struct tm lt;
    int64_t best = INT64_MIN;
    for (int64_t probe = wall - 86400; probe <= wall + 86400; probe += 86400) {
        if (zone_local(zone, probe, &lt, NULL, 0) != 0)
            return -1;
        int64_t cand = wall - lt.tm_gmtoff;
        struct tm chk;
        if (zone_local(zone, cand, &chk, NULL, 0) != 0)
            return -1;
        if (cand + chk.tm_gmtoff == wall && (best == INT64_MIN || cand < best))
            best = cand;
    }
    if (best == INT64_MIN) {
        /* Skipped by a spring-forward change: read it as standard time. */
        if (zone_local(zone, wall - 86400, &lt, NULL, 0) != 0)
            return -1;
        best = wall - lt.tm_gmtoff;
    }
    *out = best;
    return 0;
}
