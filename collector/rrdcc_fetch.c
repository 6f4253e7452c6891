/* rrdcc_fetch — see rrdcc.h: a FETCH reply read into rows of values. */
#include "rrdcc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rrdcc_fetch_free(rrdcc_fetch_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; f->names && i < f->nds; i++)
        free(f->names[i]);
    free(f->names);
    free(f->values);
    memset(f, 0, sizeof *f);
}

static int s_split_names(rrdcc_fetch_t *f, const char *list)
{
    f->names = calloc(f->nds ? f->nds : 1, sizeof *f->names);
    if (!f->names)
        return -1;
    const char *p = list;
    for (size_t i = 0; i < f->nds; i++) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (w == 0 || !(f->names[i] = strndup(p, w)))
            return -1;
        p += w;
    }
    return 0;
}

/* Header lines "Key: value" before the data rows. */
static int s_fetch_header(rrdcc_fetch_t *f, const rrdcc_reply_t *r, size_t *first_row)
{
    long long ndscount = -1;
    const char *names = NULL;
    size_t i = 0;
    for (; i < r->nlines; i++) {
        const char *l = r->lines[i];
        const char *colon = strchr(l, ':');
        if (!colon || (l[0] >= '0' && l[0] <= '9') || l[0] == ' ')
            break;   /* a data row "<time>: v v" */
        const char *v = colon + 1;
        if (strncmp(l, "Start:", 6) == 0)
            f->start = strtoll(v, NULL, 10);
        else if (strncmp(l, "End:", 4) == 0)
            f->end = strtoll(v, NULL, 10);
        else if (strncmp(l, "Step:", 5) == 0)
            f->step = strtoll(v, NULL, 10);
        else if (strncmp(l, "DSCount:", 8) == 0)
            ndscount = strtoll(v, NULL, 10);
        else if (strncmp(l, "DSName:", 7) == 0)
            names = v;
    }
    if (f->step <= 0 || ndscount <= 0 || !names)
        return -1;
    f->nds = (size_t)ndscount;
    *first_row = i;
    return s_split_names(f, names);
}

static int s_fetch_rows(rrdcc_fetch_t *f, const rrdcc_reply_t *r, size_t first)
{
    f->nrows = r->nlines - first;
    f->values = malloc((f->nrows ? f->nrows : 1) * f->nds * sizeof *f->values);
    if (!f->values)
        return -1;
    for (size_t row = 0; row < f->nrows; row++) {
        char *p;
        long long t = strtoll(r->lines[first + row], &p, 10);
        if (*p != ':' || t != f->start + (long long)(row + 1) * f->step)
            return -1;
        p++;
        for (size_t c = 0; c < f->nds; c++) {
            char *end;
            /* rrdcached prints unknown as "nan" or "-nan"; strtod reads both
             * as a NaN but the sign is noise, so normalise it. */
            double v = strtod(p, &end);
            if (end == p)
                return -1;
            f->values[row * f->nds + c] = isnan(v) ? NAN : v;
            p = end;
        }
    }
    return 0;
}

int rrdcc_fetch_parse(const rrdcc_reply_t *r, rrdcc_fetch_t *out)
{
    memset(out, 0, sizeof *out);
    size_t first;
    if (s_fetch_header(out, r, &first) != 0 || s_fetch_rows(out, r, first) != 0) {
        rrdcc_fetch_free(out);
        return -1;
    }
    return 0;
}
