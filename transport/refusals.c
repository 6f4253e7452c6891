/* refusals — see refusals.h. */
#include "refusals.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

bool refusals_is_time(const char *reason)
{
    return strcmp(reason, "future") == 0 || strcmp(reason, "too_old") == 0;
}

static refusals_reason_t *s_reason(refusals_t *self, const char *reason)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->v[i].reason, reason) == 0)
            return &self->v[i];
    if (self->n == WIRE_MAX_REFUSED)
        return NULL;
    refusals_reason_t *r = &self->v[self->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    return r;
}

static void s_iso(uint64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(buf, len, "%" PRIu64, ms);
}

void refusals_format(const refusals_t *self, bool pending, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < self->n && n < len; i++) {
        const refusals_reason_t *r = &self->v[i];
        uint64_t c = pending ? r->pending : r->total;
        if (c == 0)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s %" PRIu64, n ? ", " : "", r->reason, c);
        if (w > 0 && refusals_is_time(r->reason) && (size_t)w < len - n) {
            char iso[32];
            s_iso(r->first_t_end_ms, iso, sizeof iso);
            int64_t s = r->offset_ms / 1000;
            w += snprintf(buf + n + (size_t)w, len - n - (size_t)w,
                          " (earliest %s, %" PRId64 " s %s the collector's clock)", iso,
                          s < 0 ? -s : s, s < 0 ? "behind" : "ahead of");
        }
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static void s_log(refusals_t *self, int64_t mono_ms, const char *who)
{
    char line[1024];
    refusals_format(self, true, line, sizeof line);
    if (!line[0])
        return;
    uint64_t pending = 0;
    for (size_t i = 0; i < self->n; i++) {
        pending += self->v[i].pending;
        self->v[i].pending = 0;
    }
    log_warn("%s refused %" PRIu64 " sample(s)%s: %s (%" PRIu64 " since start; refused "
             "samples are not resent)", who, pending, self->last_log_ms ? " in the last minute" : "",
             line, self->total);
    self->last_log_ms = mono_ms;
}

void refusals_tick(refusals_t *self, int64_t mono_ms, const char *who)
{
    if (!self->last_log_ms || mono_ms - self->last_log_ms >= REFUSALS_LOG_MS)
        s_log(self, mono_ms, who);
}

void refusals_add(refusals_t *self, const wire_refusals_t *r, int64_t now_ms, int64_t mono_ms,
                  const char *who)
{
    if (r->n == 0)
        return;
    if (r->collector_ms > 0) {
        self->clock_offset_ms = now_ms - r->collector_ms;
        self->have_clock = true;
    }
    for (size_t i = 0; i < r->n; i++) {
        refusals_reason_t *e = s_reason(self, r->v[i].reason);
        if (!e)
            continue;
        e->total += r->v[i].samples;
        e->pending += r->v[i].samples;
        self->total += r->v[i].samples;
        /* The earliest refused sample and the offset it implies: for a
         * replay the later samples of a file only add their own span. */
        uint64_t t = r->v[i].first_t_end_ms;
        if (t && (!e->first_t_end_ms || t < e->first_t_end_ms)) {
            e->first_t_end_ms = t;
            if (r->collector_ms > 0)
                e->offset_ms = (int64_t)t - r->collector_ms;
        }
    }
    refusals_tick(self, mono_ms, who);
}

const refusals_reason_t *refusals_time(const refusals_t *self)
{
    const refusals_reason_t *best = NULL;
    for (size_t i = 0; i < self->n; i++)
        if (refusals_is_time(self->v[i].reason) && self->v[i].total &&
            (!best || self->v[i].total > best->total))
            best = &self->v[i];
    return best;
}
