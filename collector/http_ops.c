/* http_ops — see http_ops.h. */
#include "http_ops.h"

#include <stdlib.h>
#include <string.h>

#include "bgjob.h"
#include "feed.h"
#include "log.h"
#include "metrics.h"

struct http_ops {
    bgjob_t *job;
    http_ops_done_fn *done;
    void *arg;
    /* The copies a render reads, and what it made; the job's thread owns
     * them from http_ops_start until done. */
    stats_t stats;
    sess_table_t *sessions;
    observed_counters_t hours;
    http_ops_in_t in;
    http_cache_body_t *health, *metrics;
};

void http_ops_render(const http_ops_in_t *in, http_cache_body_t **health,
                     http_cache_body_t **metrics)
{
    char *h = feed_health_json(in->stats, in->archive_up, in->sessions, in->hours, in->now_ms);
    char *m = metrics_render(in->stats, in->sessions, in->hours, in->archive_up, in->now_ms);
    *health = h ? http_cache_body_new(h, strlen(h)) : NULL;
    *metrics = m ? http_cache_body_new(m, strlen(m)) : NULL;
    if (!*health || !*metrics)
        log_error("http: out of memory rendering /health or /metrics");
}

static void s_work(void *arg)
{
    http_ops_t *self = arg;
    http_ops_render(&self->in, &self->health, &self->metrics);
}

static void s_done(void *arg)
{
    http_ops_t *self = arg;
    http_cache_body_t *h = self->health, *m = self->metrics;
    self->health = self->metrics = NULL;
    self->done(self->arg, h, m, self->in.mono_ms);
}

http_ops_t *http_ops_new(struct event_base *base, http_ops_done_fn *done, void *arg)
{
    http_ops_t *self = calloc(1, sizeof *self);
    if (!self || !(self->sessions = sess_table_new()) ||
        !(self->job = bgjob_new(base, "poe-ops"))) {
        log_error("http: cannot start the thread rendering /health and /metrics");
        if (self)
            sess_table_destroy(&self->sessions);
        free(self);
        return NULL;
    }
    self->done = done;
    self->arg = arg;
    return self;
}

void http_ops_destroy(http_ops_t **self_p)
{
    http_ops_t *self = *self_p;
    if (!self)
        return;
    bgjob_destroy(&self->job);
    sess_table_destroy(&self->sessions);
    free(self);
    *self_p = NULL;
}

bool http_ops_busy(const http_ops_t *self) { return bgjob_busy(self->job); }

int http_ops_start(http_ops_t *self, const http_ops_in_t *in)
{
    if (bgjob_busy(self->job))
        return -1;
    if (in->sessions && sess_table_copy(self->sessions, in->sessions) != 0) {
        log_error("http: out of memory copying the sessions for /health and /metrics");
        return -1;
    }
    self->stats = *in->stats;
    if (in->hours)
        self->hours = *in->hours;
    self->in = *in;
    self->in.stats = &self->stats;
    self->in.sessions = in->sessions ? self->sessions : NULL;
    self->in.hours = in->hours ? &self->hours : NULL;
    return bgjob_run(self->job, s_work, s_done, self);
}
