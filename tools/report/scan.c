/* scan — see scan.h. */
#include "scan.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "vec.h"
#include "zone.h"

typedef struct {
    scan_queue_t *v;
    size_t n, cap;
} s_list_t;

static int s_push(s_list_t *l, const scan_queue_t *q)
{
    if (VEC_RESERVE(l->v, l->cap, l->n + 1) != 0) {
        log_error("out of memory listing the archive");
        return -1;
    }
    l->v[l->n++] = *q;
    return 0;
}

/* "<mode>-<type>.rrd" → mode and type; -1 for anything else (lane files). */
static int s_parse_file(const char *name, scan_queue_t *q)
{
    char buf[64];
    size_t len = strlen(name);
    if (len < 5 || len >= sizeof buf || strcmp(name + len - 4, ".rrd") != 0)
        return -1;
    memcpy(buf, name, len - 4);
    buf[len - 4] = '\0';
    char *dash = strchr(buf, '-');
    if (!dash)
        return -1;
    *dash = '\0';
    return tax_mode_parse(buf, &q->mode) == 0 && tax_type_parse(dash + 1, &q->type) == 0 ? 0 : -1;
}

static int s_walk_dir(const char *root, const char *crossing, enum tax_dir d, s_list_t *l)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", root, crossing, tax_dir_name(d));
    DIR *dh = opendir(path);
    if (!dh)
        return 0;   /* that direction has no data */
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(dh))) {
        scan_queue_t q = { .dir = d };
        snprintf(q.crossing, sizeof q.crossing, "%s", crossing);
        if (s_parse_file(e->d_name, &q) == 0)
            rc = s_push(l, &q);
    }
    closedir(dh);
    return rc;
}

static int s_cmp(const void *a, const void *b)
{
    const scan_queue_t *x = a, *y = b;
    int c = strcmp(x->crossing, y->crossing);
    if (c)
        return c;
    if (x->dir != y->dir)
        return (int)x->dir - (int)y->dir;
    if (x->mode != y->mode)
        return (int)x->mode - (int)y->mode;
    return (int)x->type - (int)y->type;
}

int scan_list(const char *root, const char *crossing_only, scan_queue_t **out, size_t *n)
{
    DIR *dh = opendir(root);
    if (!dh) {
        log_error("cannot read archive directory %s", root);
        return -1;
    }
    s_list_t l = { 0 };
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(dh))) {
        if (!tax_crossing_id_valid(e->d_name) || e->d_name[0] == '.')
            continue;
        if (crossing_only && strcmp(crossing_only, e->d_name) != 0)
            continue;
        for (int d = 1; rc == 0 && d <= TAX_NDIRS; d++)
            rc = s_walk_dir(root, e->d_name, (enum tax_dir)d, &l);
    }
    closedir(dh);
    if (rc != 0) {
        free(l.v);
        return -1;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, s_cmp);
    *out = l.v;
    *n = l.n;
    return 0;
}

int scan_fetch(archive_t *a, const scan_queue_t *q, int64_t from, int64_t to, arch_series_t *out)
{
    char why[256];
    int rc = arch_fetch_queue(a, q->crossing, q->dir, q->mode, q->type, from, to, 0, out, why,
                              sizeof why);
    if (rc < 0)
        log_error("%s %s %s-%s: %s", q->crossing, tax_dir_name(q->dir), tax_mode_name(q->mode),
                  tax_type_name(q->type), why);
    return rc;
}

int scan_hour_of_week(const char *zone, int64_t t)
{
    struct tm lt;
    if (zone && zone[0]) {
        char abbr[16];
        if (zone_local(zone, t, &lt, abbr, sizeof abbr) != 0)
            return -1;
    } else {
        time_t tt = (time_t)t;
        gmtime_r(&tt, &lt);
    }
    return ((lt.tm_wday + 6) % 7) * 24 + lt.tm_hour;
}

const char *scan_day_name(int day)
{
    static const char *const names[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    return day >= 0 && day < 7 ? names[day] : "?";
}
