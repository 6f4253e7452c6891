/* offreport — `poe-report official` (docs/guide-planners.md): the audit
 * of official waits (offaudit.c) for every queue that has an official
 * series beside its measured one, ranked, written as official.md (and
 * stdout, in o->tx's language), official.csv (English) and official.png. */
#ifndef POE_REPORT_OFFREPORT_H
#define POE_REPORT_OFFREPORT_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "rtext.h"
#include "scan.h"

typedef struct {
    const char *archive_dir;   /* for the PNG's DEFs */
    const char *rrdcached;     /* "unix:PATH": rrdtool graph flushes through it */
    const char *out_dir;
    int64_t from, to;
    const rtext_t *tx;         /* the Markdown's language */
} or_opts_t;

/* 0, or -1 (logged). */
int or_run(archive_t *a, const scan_queue_t *qs, size_t nq, const or_opts_t *o);

#endif
