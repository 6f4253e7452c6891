/* offaudit — see offaudit.h. */
#include "offaudit.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OA_MIN_PAIRS 12          /* fewer pairs make no correlation worth reporting */
#define OA_STATUS_PENDING 3      /* OFF_ST_UPDATE_PENDING (collector/official.h) */

const char *oa_age_bucket_name(int i)
{
    static const char *const names[OA_AGE_BUCKETS] = { "<15 min", "15-60 min", "1-2 h", "2-6 h",
                                                       ">=6 h" };
    return i >= 0 && i < OA_AGE_BUCKETS ? names[i] : "?";
}

static bool s_known(double v) { return isfinite(v); }

/* Pearson r of official[i] against measured[i - lag], or (from_update)
 * against measured at lag before the official value's update time (i minus
 * its age); NAN with too few pairs or no variance. */
static double s_corr(const oa_input_t *in, size_t lag, bool from_update)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++) {
        size_t back = lag;
        if (from_update) {
            if (!in->age_s || !s_known(in->age_s[i]) || in->age_s[i] < 0)
                continue;
            back += (size_t)llround(in->age_s[i] / (double)in->step_s);
        }
        if (back > i)
            continue;
        double x = in->official_s[i], y = in->measured_s[i - back];
        if (!s_known(x) || !s_known(y))
            continue;
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
        n++;
    }
    if (n < OA_MIN_PAIRS)
        return NAN;
    double cov = sxy - sx * sy / (double)n;
    double vx = sxx - sx * sx / (double)n, vy = syy - sy * sy / (double)n;
    if (vx <= 0 || vy <= 0)
        return NAN;
    return cov / sqrt(vx * vy);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_ages(const oa_input_t *in, oa_result_t *out)
{
    out->age_p50_s = out->age_p90_s = out->age_max_s = NAN;
    if (!in->age_s)
        return;
    double *v = malloc(in->n * sizeof *v);
    if (!v)
        return;
    size_t n = 0;
    for (size_t i = 0; i < in->n; i++)
        if (s_known(in->age_s[i]) && in->age_s[i] >= 0)
            v[n++] = in->age_s[i];
    if (n > 0) {
        qsort(v, n, sizeof *v, s_cmp_double);
        out->age_p50_s = v[(n - 1) / 2];
        out->age_p90_s = v[(size_t)((double)(n - 1) * 0.9)];
        out->age_max_s = v[n - 1];
        static const double edges[OA_AGE_BUCKETS - 1] = { 900, 3600, 7200, 21600 };
        for (size_t i = 0; i < n; i++) {
            int b = 0;
            while (b < OA_AGE_BUCKETS - 1 && v[i] >= edges[b])
                b++;
            out->age_share[b] += 1.0 / (double)n;
        }
    }
    free(v);
}

int oa_run(const oa_input_t *in, oa_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->mae_min = out->bias_min = out->best_r = out->r_at_zero = out->seen_r = NAN;
    out->seen_lag_s = -1;
    out->share_mult5 = out->share_mult15 = NAN;
    out->best_lag_s = -1;
    if (!in || in->n == 0 || in->step_s <= 0 || !in->measured_s || !in->official_s)
        return -1;
    double sae = 0, sb = 0;
    size_t m5 = 0, m15 = 0;
    for (size_t i = 0; i < in->n; i++) {
        double o = in->official_s[i], m = in->measured_s[i];
        if (s_known(o)) {
            long min = lround(o / 60.0);
            out->official_values++;
            m5 += min % 5 == 0;
            m15 += min % 15 == 0;
        }
        if (s_known(o) && s_known(m)) {
            sae += fabs(o - m);
            sb += o - m;
            out->pairs++;
        }
        if (in->status && in->status[i] == OA_STATUS_PENDING)
            out->pending_hours += (double)in->step_s / 3600.0;
    }
    if (out->pairs) {
        out->mae_min = sae / (double)out->pairs / 60.0;
        out->bias_min = sb / (double)out->pairs / 60.0;
    }
    if (out->official_values) {
        out->share_mult5 = (double)m5 / (double)out->official_values;
        out->share_mult15 = (double)m15 / (double)out->official_values;
    }
    size_t max_lag = (size_t)(in->max_lag_s / in->step_s);
    for (size_t lag = 0; lag <= max_lag && lag < in->n; lag++) {
        double r = s_corr(in, lag, false);
        if (lag == 0)
            out->r_at_zero = r;
        if (isfinite(r) && (!isfinite(out->seen_r) || r > out->seen_r)) {
            out->seen_r = r;
            out->seen_lag_s = (int64_t)lag * in->step_s;
        }
        r = in->age_s ? s_corr(in, lag, true) : NAN;
        if (isfinite(r) && (!isfinite(out->best_r) || r > out->best_r)) {
            out->best_r = r;
            out->best_lag_s = (int64_t)lag * in->step_s;
        }
    }
    s_ages(in, out);
    return 0;
}
