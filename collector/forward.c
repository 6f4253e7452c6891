/* forward — see forward.h. */
#include "forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "spool.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "wire.h"

#define FWD_MAX_UPSTREAMS 4
#define FWD_WINDOW 32

typedef struct {
    char crossing[7];
    enum tax_dir dir;
    spool_t *spool;
    link_t *links[FWD_MAX_UPSTREAMS];
    int nlinks;
    wire_batch_t *batch;
    uint32_t interval_ms;
} relay_t;

struct forward {
    struct event_base *base;
    void *zctx;
    char *upstreams, *spool_dir;
    const curve_pair_t *key;
    char server_keys[FWD_MAX_UPSTREAMS][CURVE_KEY_Z85];
    int nkeys;
    unsigned spool_mb;
    relay_t **relays;
    size_t n, cap;
};

static void s_on_progress(void *arg)
{
    relay_t *r = arg;
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < r->nlinks; i++) {
        uint64_t d = outbox_durable_seq(link_outbox(r->links[i]));
        if (d < min)
            min = d;
    }
    spool_release(r->spool, min);
}

static void s_relay_free(relay_t *r)
{
    for (int i = 0; i < r->nlinks; i++)
        link_destroy(&r->links[i]);
    wire_batch_destroy(&r->batch);
    spool_close(&r->spool);
    free(r);
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
    uint64_t mb = self->spool_mb;
    spool_opts_t so = { .budget_bytes = mb << 20, .segment_bytes = (mb << 20) / 16 < (4u << 20)
                                                                       ? (mb << 20) / 16 : (4u << 20),
                        .sync = true };
    r->spool = spool_open(path, &so, (uint64_t)tu_now_ms() * 1000);
    if (!r->spool)
        goto fail;
    char list[1024];
    snprintf(list, sizeof list, "%s", self->upstreams);
    char *save = NULL;
    for (char *ep = strtok_r(list, ",", &save); ep && r->nlinks < FWD_MAX_UPSTREAMS;
         ep = strtok_r(NULL, ",", &save)) {
        int k = r->nlinks < self->nkeys ? r->nlinks : 0;
        link_curve_t curve = { .public_key = self->key ? self->key->public_key : NULL,
                               .secret_key = self->key ? self->key->secret_key : NULL,
                               .server_key = self->nkeys ? self->server_keys[k] : NULL };
        r->links[r->nlinks] = link_new(self->base, self->zctx, ep, r->spool, FWD_WINDOW, crossing,
                                       (int)dir, &curve, s_on_progress, r);
        if (!r->links[r->nlinks])
            goto fail;
        r->nlinks++;
    }
    if (r->nlinks == 0)
        goto fail;
    log_info("forwarding %s/%s to %s", crossing, tax_dir_name(dir), self->upstreams);
    return r;
fail:
    log_error("cannot start forwarding %s/%s", crossing, tax_dir_name(dir));
    s_relay_free(r);
    return NULL;
}

static relay_t *s_relay(forward_t *self, const char *crossing, enum tax_dir dir)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->relays[i]->dir == dir && strcmp(self->relays[i]->crossing, crossing) == 0)
            return self->relays[i];
    if (self->n == self->cap) {
        size_t ncap = self->cap ? self->cap * 2 : 16;
        relay_t **nr = realloc(self->relays, ncap * sizeof *nr);
        if (!nr)
            return NULL;
        self->relays = nr;
        self->cap = ncap;
    }
    relay_t *r = s_relay_new(self, crossing, dir);
    if (r)
        self->relays[self->n++] = r;
    return r;
}

static void s_add_samples(relay_t *r, const Poenet__Batch *b, const bool *valid_q,
                          const bool *valid_l)
{
    for (size_t i = 0; i < b->n_queues; i++) {
        if (!valid_q[i])
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
        if (!valid_l[i])
            continue;
        const Poenet__LaneSample *l = b->lanes[i];
        wire_lane_sample_t s = { .t_end_ms = (int64_t)l->t_end_ms, .mode = (int)l->mode,
                                 .type = (int)l->type, .departures = l->departures,
                                 .open = l->open };
        snprintf(s.lane_id, sizeof s.lane_id, "%s", l->lane_id);
        wire_batch_add_lane(r->batch, &s);
    }
}

int forward_batch(forward_t *self, const Poenet__Batch *b, const bool *valid_q, const bool *valid_l)
{
    relay_t *r = s_relay(self, b->crossing, (enum tax_dir)b->direction);
    if (!r)
        return -1;
    /* The relay's batches carry the agent's interval (a builder per
     * interval length: agents rarely change theirs). */
    if (!r->batch || r->interval_ms != b->interval_ms) {
        wire_batch_destroy(&r->batch);
        r->batch = wire_batch_new(r->crossing, (int)r->dir, spool_epoch(r->spool), b->interval_ms);
        r->interval_ms = b->interval_ms;
        if (!r->batch)
            return -1;
    }
    s_add_samples(r, b, valid_q, valid_l);
    if (wire_batch_count(r->batch) == 0)
        return 0;
    size_t len;
    uint8_t *buf = wire_batch_pack(r->batch, spool_next_seq(r->spool),
                                   b->has_bad_lines ? b->bad_lines : 0, &len);
    int rc = buf ? spool_append(r->spool, buf, len, tu_now_ms()) : -1;
    free(buf);
    if (rc != 0) {
        log_error("forward %s/%s: could not spool a batch for upstream", r->crossing,
                  tax_dir_name(r->dir));
        return -1;
    }
    for (int i = 0; i < r->nlinks; i++)
        link_pump(r->links[i]);
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
    self->upstreams = strdup(opts->upstreams);
    self->spool_dir = strdup(opts->spool_dir);
    if (!self->upstreams || !self->spool_dir)
        goto fail;
    if (opts->key) {
        char list[2048];
        snprintf(list, sizeof list, "%s", opts->upstream_keys ? opts->upstream_keys : "");
        char *save = NULL;
        for (char *k = strtok_r(list, ",", &save); k && self->nkeys < FWD_MAX_UPSTREAMS;
             k = strtok_r(NULL, ",", &save))
            if (curve_load_public(k, self->server_keys[self->nkeys++]) != 0)
                goto fail;
        if (self->nkeys == 0) {
            log_error("--upstream with CURVE needs --upstream-key");
            goto fail;
        }
    }
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
    free(self->spool_dir);
    free(self);
    *self_p = NULL;
}
