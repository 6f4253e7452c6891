/* replay — see replay.h. */
#include "replay.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

static const char *s_mode[RP_QUEUES] = { "passenger", "passenger", "passenger", "pedestrian" };
static const char *s_type[RP_QUEUES] = { "standard", "ready", "nexus_sentri", "standard" };
static const int s_lanes[RP_QUEUES] = { 10, 3, 2, 4 };
static const char *s_prefix[RP_QUEUES] = { "PS", "PR", "PN", "WS" };
/* Share of the events in each queue, roughly as at a large crossing. */
static const double s_share[RP_QUEUES] = { 0.5, 0.2, 0.1, 0.2 };

const char *rp_queue_mode(int q) { return s_mode[q]; }
const char *rp_queue_type(int q) { return s_type[q]; }

static uint64_t s_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

typedef struct {
    int64_t t;
    int q;
    int lane;   /* 0 = arrival */
} rp_event_t;

static int s_cmp_event(const void *a, const void *b)
{
    const rp_event_t *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void s_write_event(FILE *f, const rp_event_t *ev)
{
    if (ev->lane == 0)
        fprintf(f, "%lld arrive %s %s\n", (long long)ev->t, s_mode[ev->q], s_type[ev->q]);
    else
        fprintf(f, "%lld depart %s%02d\n", (long long)ev->t, s_prefix[ev->q], ev->lane);
}

int rp_generate(const char *path, uint64_t seed, int64_t t0_s, int minutes, long events,
                rp_expect_t *e)
{
    if (minutes > RP_MAX_MIN)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    memset(e, 0, sizeof *e);
    e->t0_s = t0_s;
    e->minutes = minutes;
    uint64_t x = seed | 1;
    int64_t t0_ms = t0_s * 1000;
    fprintf(f, "# fault-suite replay, seed %llu\n", (unsigned long long)seed);
    for (int q = 0; q < RP_QUEUES; q++)
        for (int l = 1; l <= s_lanes[q]; l++)
            fprintf(f, "%lld lane %s%02d %s %s open\n", (long long)t0_ms, s_prefix[q], l,
                    s_mode[q], s_type[q]);
    /* Each second, each queue gets at most one arrival and one departure
     * (Bernoulli with the queue's share of the rate), which keeps every
     * lane within physical limits; the second's events go out in time order. */
    int64_t seconds = (int64_t)minutes * 60;
    double per_s = (double)events / (double)seconds / 2.0;
    for (int64_t s = 0; s < seconds; s++) {
        rp_event_t evs[RP_QUEUES * 2];
        int n = 0;
        int minute = (int)(s / 60);
        for (int q = 0; q < RP_QUEUES; q++) {
            double p = per_s * s_share[q];
            for (int k = 0; k < 2; k++) {
                if ((double)(s_next(&x) % 1000) >= p * 1000.0)
                    continue;
                rp_event_t *ev = &evs[n++];
                ev->t = t0_ms + s * 1000 + (int64_t)(s_next(&x) % 1000);
                ev->q = q;
                ev->lane = k == 0 ? 0 : 1 + (int)(s_next(&x) % (uint64_t)s_lanes[q]);
                if (k == 0)
                    e->arrivals[q][minute]++;
                else
                    e->departures[q][minute]++;
                e->events++;
            }
        }
        qsort(evs, (size_t)n, sizeof evs[0], s_cmp_event);
        for (int i = 0; i < n; i++)
            s_write_event(f, &evs[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int s_compare_queue(int port, const char *crossing, const char *direction, int q,
                           const rp_expect_t *e, char *why, size_t len)
{
    char path[512];
    snprintf(path, sizeof path,
             "/v1/history?crossing=%s&direction=%s&mode=%s&lane=%s&from=%lld&to=%lld&step=60",
             crossing, direction, s_mode[q], s_type[q], (long long)e->t0_s - 60,
             (long long)(e->t0_s + (int64_t)e->minutes * 60 + 60));
    int status = 0;
    char *body = proc_http_get(port, path, &status);
    if (!body || status != 200) {
        snprintf(why, len, "GET %s -> %d", path, status);
        free(body);
        return -1;
    }
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    json_t *rows = json_object_get(j, "rows");
    int seen = 0, rc = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        int64_t t = json_integer_value(json_array_get(row, 0));
        int minute = (int)((t - 60 - e->t0_s) / 60);
        if (minute < 0 || minute >= e->minutes)
            continue;
        json_t *a = json_array_get(row, 2), *d = json_array_get(row, 3);
        long ga = json_is_number(a) ? (long)(json_number_value(a) + 0.5) : -1;
        long gd = json_is_number(d) ? (long)(json_number_value(d) + 0.5) : -1;
        if (ga != e->arrivals[q][minute] || gd != e->departures[q][minute]) {
            snprintf(why, len, "%s/%s minute %d: archive %ld arrivals %ld departures (-1 = unknown), "
                     "input %ld %ld", s_mode[q], s_type[q], minute, ga, gd,
                     e->arrivals[q][minute], e->departures[q][minute]);
            rc = -1;
            break;
        }
        seen++;
    }
    if (rc == 0 && seen != e->minutes) {
        snprintf(why, len, "%s/%s: %d of %d minutes in the archive", s_mode[q], s_type[q], seen,
                 e->minutes);
        rc = -1;
    }
    json_decref(j);
    return rc;
}

int rp_compare(int http_port, const char *crossing, const char *direction, const rp_expect_t *e,
               char *why, size_t whylen)
{
    for (int q = 0; q < RP_QUEUES; q++)
        if (s_compare_queue(http_port, crossing, direction, q, e, why, whylen) != 0)
            return -1;
    return 0;
}
