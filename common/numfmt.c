/* numfmt — see numfmt.h. */
#include "numfmt.h"

#include <math.h>
#include <string.h>

static size_t s_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t numfmt_i64(char *out, int64_t v)
{
    if (v >= 0)
        return s_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + s_u64(out + 1, (uint64_t)0 - (uint64_t)v);
}

size_t numfmt_fixed9(char *out, double v)
{
    if (!isfinite(v) || fabs(v) >= 1e9) {
        out[0] = 'U';
        return 1;
    }
    /* |v| < 1e9: v * 1e9 < 1e18 fits an int64 exactly enough (a double
     * carries 15-16 digits; the 9 decimals are rounded, not truncated). */
    int64_t scaled = llround(v * 1e9);
    size_t n = 0;
    if (scaled < 0) {
        out[n++] = '-';
        scaled = -scaled;
    }
    uint64_t ip = (uint64_t)scaled / 1000000000u, fp = (uint64_t)scaled % 1000000000u;
    n += s_u64(out + n, ip);
    if (fp) {
        char d[9];
        for (int i = 8; i >= 0; i--, fp /= 10)
            d[i] = (char)('0' + fp % 10);
        int last = 8;
        while (d[last] == '0')
            last--;
        out[n++] = '.';
        memcpy(out + n, d, (size_t)last + 1);
        n += (size_t)last + 1;
    }
    return n;
}
