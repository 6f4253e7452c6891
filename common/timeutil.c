/* timeutil — see timeutil.h. */
#include "timeutil.h"

#include <time.h>

static int64_t s_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tu_now_ms(void) { return s_clock_ms(CLOCK_REALTIME); }
int64_t tu_mono_ms(void) { return s_clock_ms(CLOCK_MONOTONIC); }

char *tu_iso8601(int64_t epoch_s, char *buf, size_t len)
{
    time_t t = (time_t)epoch_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
