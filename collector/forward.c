/* forward — see forward.h. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sender.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "vec.h"
#include "wire.h"

typedef struct {
    char crossing[7];
    enum tax_dir dir;
    sender_t *sender;
    wire_batch_t *batch;
    uint32_t interval_ms;
} relay_t;

struct forward {
    struct event_base *base;
    void *zctx;
    char *upstreams, *upstream_keys, *spool_dir;
    const curve_pair_t *key;
    unsigned spool_mb;
    stats_t *stats;
    relay_t **relays;
    size_t n, cap;
};

static void s_relay_free(relay_t *r)
{
    wire_batch_destroy(&r->batch);
    sender_destroy(&r->sender);
    free(r);
}

/* An upstream refused samples of a relay's batch: counted by the reason it
 * named (the link logs them). */
static void s_on_refused(void *arg, const wire_refusals_t *r)
{
    forward_t *self = arg;
    if (!self->stats)
        return;
    for (size_t i = 0; i < r->n; i++) {
        int code = stats_reject_parse(r->v[i].reason);
        if (code >= 0)
            self->stats->upstream_refused[code] += r->v[i].samples;
        else
            self->stats->upstream_refused_other += r->v[i].samples;
    }
}

static relay_t *s_relay_new(forward_t *self, const char *crossing, enum tax_dir dir)
{
    relay_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->crossing, sizeof r->crossing, "%s", crossing);
    r->dir = dir;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s-%s", self->spool_dir, crossing, tax_dir_name(dir));
    sender_opts_t so = { .endpoints = self->upstreams, .spool_dir = path,
                         .spool_mb = self->spool_mb, .crossing = crossing, .direction = (int)dir,
                         .key = self->key, .server_keys = self->upstream_keys,
                         .on_refused = s_on_refused, .arg = self };
    r->sender = sender_new(self->base, self->zctx, &so);
    if (!r->sender) {
        log_error("cannot start forwarding %s/%s", crossing, tax_dir_name(dir));
        s_relay_free(r);
        return NULL;
    }
    log_info("forwarding %s/%s to %s", crossing, tax_dir_name(dir), self->upstreams);
    return r;
}

static relay_t *s_relay(forward_t *self, const char *crossing, enum tax_dir dir)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->relays[i]->dir == dir && strcmp(self->relays[i]->crossing, crossing) == 0)
            return self->relays[i];
    if (VEC_RESERVE(self->relays, self->cap, self->n + 1) != 0)
        return NULL;
    relay_t *r = s_relay_new(self, crossing, dir);
    if (r)
        self->relays[self->n++] = r;
    return r;
}

static void s_add_samples(relay_t *r, const Poenet__Batch *b, const wire_mask_t *valid_q,
                          const wire_mask_t *valid_l)
{
    for (size_t i = 0; i < b->n_queues; i++) {
        if (!wire_mask_has(valid_q, i))
            continue;
        const Poenet__QueueSample *q = b->queues[i];
        wire_queue_sample_t s = { .t_end_ms = (int64_t)q->t_end_ms, .mode = (int)q->mode,
                                  .type = (int)q->type, .arrivals = q->arrivals,
                                  .departures = q->departures, .lanes_open = q->lanes_open,
                                  .has_queue_len = q->has_queue_len, .queue_len = q->queue_len,
                                  .tt_count = q->has_tt_count ? q->tt_count : 0,
                                  .tt_sum_s = q->tt_sum_s, .tt_max_s = q->tt_max_s };
        wire_batch_add_queue(r->batch, &s);
    }
    for (size_t i = 0; i < b->n_lanes; i++) {
        if (!wire_mask_has(valid_l, i))
            continue;
        const Poenet__LaneSample *l = b->lanes[i];
        wire_lane_sample_t s = { .t_end_ms = (int64_t)l->t_end_ms, .mode = (int)l->mode,
                                 .type = (int)l->type, .departures = l->departures,
                                 .open = l->open };
        snprintf(s.lane_id, sizeof s.lane_id, "%s", l->lane_id);
        wire_batch_add_lane(r->batch, &s);
    }
}

int forward_batch(forward_t *self, const Poenet__Batch *b, const wire_mask_t *valid_q,
                  const wire_mask_t *valid_l)
{
    relay_t *r = s_relay(self, b->crossing, (enum tax_dir)b->direction);
    if (!r)
        return -1;
    /* The relay's batches carry the agent's interval (a builder per
     * interval length: agents rarely change theirs). */
    if (!r->batch || r->interval_ms != b->interval_ms) {
        wire_batch_destroy(&r->batch);
        r->batch = wire_batch_new(r->crossing, (int)r->dir, sender_epoch(r->sender), b->interval_ms);
        r->interval_ms = b->interval_ms;
        if (!r->batch)
            return -1;
    }
    s_add_samples(r, b, valid_q, valid_l);
    if (wire_batch_count(r->batch) == 0)
        return 0;
    size_t len;
    uint8_t *buf = wire_batch_pack(r->batch, sender_next_seq(r->sender),
                                   b->has_bad_lines ? b->bad_lines : 0, &len);
    int rc = buf ? sender_append(r->sender, buf, len, tu_now_ms()) : -1;
    free(buf);
    if (rc != 0) {
        log_error("forward %s/%s: could not spool a batch for upstream", r->crossing,
                  tax_dir_name(r->dir));
        return -1;
    }
    return 0;
}

forward_t *forward_new(struct event_base *base, void *zctx, const forward_opts_t *opts)
{
    forward_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->zctx = zctx;
    self->key = opts->key;
    self->spool_mb = opts->spool_mb ? opts->spool_mb : 512;
    self->stats = opts->stats;
    self->upstreams = strdup(opts->upstreams);
    self->upstream_keys = strdup(opts->upstream_keys ? opts->upstream_keys : "");
    self->spool_dir = strdup(opts->spool_dir);
    if (!self->upstreams || !self->upstream_keys || !self->spool_dir)
        goto fail;
    /* A broken --upstream or --upstream-key stops the start, not every relay. */
    sender_opts_t check = { .endpoints = self->upstreams, .key = self->key,
                            .server_keys = self->upstream_keys };
    if (sender_check(&check) != 0)
        goto fail;
    log_info("federation: forwarding to %s, relay spools in %s", opts->upstreams, opts->spool_dir);
    return self;
fail:
    forward_destroy(&self);
    return NULL;
}

void forward_destroy(forward_t **self_p)
{
    forward_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        s_relay_free(self->relays[i]);
    free(self->relays);
    free(self->upstreams);
    free(self->upstream_keys);
    free(self->spool_dir);
    free(self);
    *self_p = NULL;
}
