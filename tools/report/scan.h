/* scan — what the archive holds and how to read it: walks the archive
 * directory (<root>/<crossing>/<direction>/<mode>-<type>.rrd, docs/archive.md)
 * for queue files, reads a queue's series back through rrdcached (FETCH,
 * via the collector's archive module, so rrdcached flushes pending updates
 * first and arrivals/departures come back as counts per row), and places
 * times in the hour of the week of a zone.
 *
 * Lane files (lane-*.rrd) and anything not matching the layout are skipped
 * silently: the report is about queues. */
#ifndef POE_REPORT_SCAN_H
#define POE_REPORT_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "taxonomy.h"

typedef struct {
    char crossing[33];
    enum tax_dir dir;
    enum tax_mode mode;
    enum tax_type type;
} scan_queue_t;

/* Every queue file under root, sorted by crossing, direction, mode, type.
 * crossing_only (may be NULL) limits the walk to one crossing. Returns 0
 * with *out (free()) and *n (may be 0), -1 when root cannot be read
 * (logged). */
int scan_list(const char *root, const char *crossing_only, scan_queue_t **out, size_t *n);

/* The queue's rows in (from, to] through rrdcached, at the finest
 * resolution that covers from (1 min on a fresh full archive, 1 h on an
 * older or compact one). 0 filled, 1 no such file, -1 error (logged). */
int scan_fetch(archive_t *a, const scan_queue_t *q, int64_t from, int64_t to, arch_series_t *out);

/* Hour of the week (0 = Monday 00:00-00:59 .. 167 = Sunday 23:00) of Unix
 * second t in zone (NULL or "" = UTC). -1 when the zone is unusable. */
int scan_hour_of_week(const char *zone, int64_t t);

/* "Mon".."Sun" for day 0..6. */
const char *scan_day_name(int day);

#endif
