/* stats — see stats.h. Owns the stable names of the rejection reasons, which
 * appear as keys in /health and in logs; renaming one breaks dashboards. */
#include "stats.h"

#include <string.h>

static const char *const s_reject_names[REJ_MAX] = {
    [REJ_DECODE] = "decode",
    [REJ_NOT_BATCH] = "not_batch",
    [REJ_UNKNOWN_CROSSING] = "unknown_crossing",
    [REJ_BAD_INTERVAL] = "bad_interval",
    [REJ_FUTURE] = "future",
    [REJ_MISALIGNED] = "misaligned",
    [REJ_IMPOSSIBLE] = "impossible",
    [REJ_LANES] = "lanes",
    [REJ_STALE_EPOCH] = "stale_epoch",
    [REJ_GAP] = "gap",
    [REJ_ARCHIVE] = "archive",
    [REJ_UNAUTHORIZED] = "unauthorized",
    [REJ_WRONG_AGENT] = "wrong_agent",
    [REJ_TOO_OLD] = "too_old",
    [REJ_RATE] = "rate_limited",
    [REJ_OVERSIZED] = "oversized",
    [REJ_NOT_OWNER] = "not_owner",
    [REJ_SECOND_SOURCE] = "second_source",
};

/* The name of a rejection reason; "?" for a value outside the enum. */
const char *stats_reject_name(enum stats_reject r)
{
    if ((int)r < 0 || r >= REJ_MAX || !s_reject_names[r])
        return "?";
    return s_reject_names[r];
}

int stats_reject_parse(const char *name)
{
    for (int r = 0; r < REJ_MAX; r++)
        if (s_reject_names[r] && strcmp(s_reject_names[r], name) == 0)
            return r;
    return -1;
}

bool stats_reject_is_sample(enum stats_reject r)
{
    return r == REJ_FUTURE || r == REJ_TOO_OLD || r == REJ_MISALIGNED || r == REJ_IMPOSSIBLE ||
           r == REJ_LANES;
}

bool stats_reject_in_ack(enum stats_reject r)
{
    return stats_reject_is_sample(r) || r == REJ_NOT_OWNER || r == REJ_SECOND_SOURCE;
}
