/* oracle — see oracle.h. */
#include "oracle.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "vec.h"

typedef struct {
    int64_t t_ms;
    int lanes;
    size_t seq;                 /* call order: the last of equal times wins */
} oracle_lane_t;

struct oracle {
    int64_t *arr, *dep;         /* sorted apart in oracle_finish */
    size_t n, cap;
    oracle_lane_t *lane;        /* change times, sorted and distinct after finish */
    size_t nlane, lanecap;
    double *cum;                /* lane-seconds from lane[0].t_ms to lane[i].t_ms */
    double mu;
    bool ready;
};

/* Times outside [0, ORACLE_MAX_MS] are refused: every difference below
 * then fits, and a run longer than ORACLE_MAX_SPAN_MS is refused by
 * oracle_finish (the rate grid walks it cell by cell). */
#define ORACLE_MAX_MS (1LL << 50)
#define ORACLE_MAX_SPAN_MS (400 * 86400 * 1000LL)

static int s_cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static int s_cmp_lane(const void *x, const void *y)
{
    const oracle_lane_t *a = x, *b = y;
    if (a->t_ms != b->t_ms)
        return a->t_ms < b->t_ms ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* How many of the sorted v[0..n) are ≤ t. */
static size_t s_upto(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the lane change in force at t, or -1 before the first. */
static ptrdiff_t s_lane_at(const oracle_t *self, int64_t t)
{
    size_t lo = 0, hi = self->nlane;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->lane[mid].t_ms <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

oracle_t *oracle_new(void)
{
    return calloc(1, sizeof(oracle_t));
}

void oracle_destroy(oracle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    oracle_t *self = *self_p;
    free(self->arr);
    free(self->dep);
    free(self->lane);
    free(self->cum);
    free(self);
    *self_p = NULL;
}

int oracle_add_vehicle(oracle_t *self, int64_t arrive_ms, int64_t depart_ms)
{
    if (!self || arrive_ms < 0 || depart_ms < arrive_ms || depart_ms > ORACLE_MAX_MS)
        return -1;
    /* arr and dep grow alike: one capacity holds for both. */
    size_t acap = self->cap, dcap = self->cap;
    if (VEC_RESERVE(self->arr, acap, self->n + 1) != 0 || VEC_RESERVE(self->dep, dcap, self->n + 1) != 0)
        return -1;
    self->cap = dcap;
    self->arr[self->n] = arrive_ms;
    self->dep[self->n++] = depart_ms;
    self->ready = false;
    return 0;
}

int oracle_set_lanes(oracle_t *self, int64_t t_ms, int lanes)
{
    if (!self || t_ms < 0 || t_ms > ORACLE_MAX_MS)
        return -1;
    lanes = lanes > 0 ? lanes : 0;
    self->ready = false;
    if (self->nlane && self->lane[self->nlane - 1].t_ms == t_ms) {
        self->lane[self->nlane - 1].lanes = lanes;
        return 0;
    }
    if (VEC_RESERVE(self->lane, self->lanecap, self->nlane + 1) != 0)
        return -1;
    self->lane[self->nlane] = (oracle_lane_t){ t_ms, lanes, self->nlane };
    self->nlane++;
    return 0;
}

/* Sort the change times, keep the last call of each time, and integrate
 * the lanes: cum[i] lane-seconds from the first change to the i-th. */
static int s_finish_lanes(oracle_t *self)
{
    if (self->nlane)
        qsort(self->lane, self->nlane, sizeof *self->lane, s_cmp_lane);
    size_t w = 0;
    for (size_t i = 0; i < self->nlane; i++) {
        if (w && self->lane[w - 1].t_ms == self->lane[i].t_ms)
            w--;
        self->lane[w++] = self->lane[i];
    }
    self->nlane = w;
    free(self->cum);
    self->cum = malloc((w ? w : 1) * sizeof *self->cum);
    if (!self->cum)
        return -1;
    for (size_t i = 0; i < w; i++)
        self->cum[i] = i == 0 ? 0
                              : self->cum[i - 1] + self->lane[i - 1].lanes *
                                                       ((self->lane[i].t_ms - self->lane[i - 1].t_ms) / 1000.0);
    return 0;
}

/* mu on the 5-s grid, walking arrivals, departures and lanes together. */
static double s_learn_rate(const oracle_t *self)
{
    int64_t start = self->arr[0] / ORACLE_GRID_MS * ORACLE_GRID_MS; /* arr ≥ 0 */
    int64_t end = self->dep[self->n - 1];
    size_t ia = 0, id = 0, il = 0;
    double busy_dep = 0, busy_ls = 0, open_ls = 0;
    for (int64_t u = start; u < end; u += ORACLE_GRID_MS) {
        while (ia < self->n && self->arr[ia] <= u)
            ia++;
        while (id < self->n && self->dep[id] <= u)
            id++;
        while (il < self->nlane && self->lane[il].t_ms <= u)
            il++;
        int lanes = il ? self->lane[il - 1].lanes : 0;
        size_t id_next = id; /* departures in (u, u + grid] */
        while (id_next < self->n && self->dep[id_next] <= u + ORACLE_GRID_MS)
            id_next++;
        open_ls += lanes * (ORACLE_GRID_MS / 1000.0);
        if (lanes > 0 && (int64_t)(ia - id) >= lanes + 1) {
            busy_ls += lanes * (ORACLE_GRID_MS / 1000.0);
            busy_dep += (double)(id_next - id);
        }
    }
    if (busy_ls > 0)
        return busy_dep / busy_ls;
    return open_ls > 0 ? (double)self->n / open_ls : 0;
}

int oracle_finish(oracle_t *self)
{
    if (!self)
        return -1;
    self->ready = false;
    self->mu = 0;
    if (self->n) {
        qsort(self->arr, self->n, sizeof *self->arr, s_cmp_i64);
        qsort(self->dep, self->n, sizeof *self->dep, s_cmp_i64);
    }
    if (s_finish_lanes(self) != 0 || self->n == 0 ||
        self->dep[self->n - 1] - self->arr[0] > ORACLE_MAX_SPAN_MS)
        return -1;
    self->mu = s_learn_rate(self);
    self->ready = self->mu > 0;
    return self->ready ? 0 : -1;
}

double oracle_rate(const oracle_t *self)
{
    return self && self->ready ? self->mu : 0;
}

/* The lane change in force at t when the oracle can answer there (lanes
 * open, t within the arrivals), with N(t) in *n; -1 otherwise. */
static ptrdiff_t s_state(const oracle_t *self, int64_t t, double *n)
{
    if (!self || !self->ready || t < self->arr[0] || t > self->arr[self->n - 1])
        return -1;
    ptrdiff_t k = s_lane_at(self, t);
    if (k < 0 || self->lane[k].lanes == 0)
        return -1;
    *n = (double)s_upto(self->arr, self->n, t) - (double)s_upto(self->dep, self->n, t);
    return k;
}

double oracle_now(const oracle_t *self, int64_t t_ms)
{
    double n;
    ptrdiff_t k = s_state(self, t_ms, &n);
    if (k < 0)
        return NAN;
    double lanes = self->lane[k].lanes;
    return fmax(n + 1, lanes) / (lanes * self->mu);
}

/* Lane-seconds from the first change to t (t at or after lane[k]). */
static double s_area(const oracle_t *self, ptrdiff_t k, int64_t t)
{
    return self->cum[k] + self->lane[k].lanes * ((t - self->lane[k].t_ms) / 1000.0);
}

double oracle_future(const oracle_t *self, int64_t t_ms)
{
    double n;
    ptrdiff_t k = s_state(self, t_ms, &n);
    if (k < 0)
        return NAN;
    /* (N + 1) / mu lane-seconds of service: the first change j after t at
     * which the area reaches the target; it is reached in segment j − 1
     * (which then has lanes open), or after the last change. */
    double target = s_area(self, k, t_ms) + (n + 1) / self->mu;
    size_t lo = (size_t)k + 1, hi = self->nlane;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->cum[mid] >= target)
            hi = mid;
        else
            lo = mid + 1;
    }
    const oracle_lane_t *seg = &self->lane[lo - 1];
    if (seg->lanes == 0) /* after the last change, with every lane closed */
        return NAN;
    double at_s = (seg->t_ms - t_ms) / 1000.0 + (target - self->cum[lo - 1]) / seg->lanes;
    double s = fmax(at_s, 1 / self->mu);
    return s * 1000 <= ORACLE_HORIZON_MS ? s : NAN;
}
