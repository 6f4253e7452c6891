/* sender — see sender.h. */
#include "sender.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "spool.h"
#include "timeutil.h"

#define SENDER_ENDPOINT_MAX 256
#define SENDER_SEGMENT_MAX (4u << 20)

struct sender {
    spool_t *spool;
    int n;
    char endpoints[SENDER_MAX_COLLECTORS][SENDER_ENDPOINT_MAX];
    char server_keys[SENDER_MAX_COLLECTORS][CURVE_KEY_Z85];
    outbox_t *outboxes[SENDER_MAX_COLLECTORS];
    link_t *links[SENDER_MAX_COLLECTORS];
    size_t window;
    bool congested;
    sender_progress_fn *on_progress;
    void *arg;
};

/* Split a comma-separated list into at most SENDER_MAX_COLLECTORS items
 * of less than size bytes. Returns the count, or -1 (logged) for an empty
 * or overlong item, too many, or (with unique) a repeated one. */
static int s_split(const char *list, const char *what, bool unique, char *out, size_t size)
{
    int n = 0;
    const char *p = list ? list : "";
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0) {
            log_error("%s '%s': an empty entry (stray comma?)", what, list ? list : "");
            return -1;
        }
        if (len >= size) {
            log_error("%s: an entry of %zu characters (at most %zu)", what, len, size - 1);
            return -1;
        }
        if (n == SENDER_MAX_COLLECTORS) {
            log_error("%s: more than %d collectors", what, SENDER_MAX_COLLECTORS);
            return -1;
        }
        char *item = out + (size_t)n * size;
        memcpy(item, p, len);
        item[len] = '\0';
        for (int i = 0; unique && i < n; i++)
            if (strcmp(out + (size_t)i * size, item) == 0) {
                log_error("%s: '%s' is listed twice", what, item);
                return -1;
            }
        n++;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int s_parse_endpoints(sender_t *self, const char *list)
{
    self->n = s_split(list, "collector endpoints", true, &self->endpoints[0][0], SENDER_ENDPOINT_MAX);
    if (self->n < 0)
        return -1;
    for (int i = 0; i < self->n; i++)
        if (!strstr(self->endpoints[i], "://")) {
            log_error("collector endpoint '%s' is not transport://address (e.g. "
                      "tcp://127.0.0.1:5555)", self->endpoints[i]);
            return -1;
        }
    return 0;
}

/* One key for all collectors, or one per collector in order. */
static int s_parse_keys(sender_t *self, const sender_opts_t *o)
{
    bool have_keys = o->server_keys && *o->server_keys;
    if (!o->key || !have_keys) {
        if (o->key || have_keys) {
            log_error("CURVE needs both this end's key pair and the collectors' public key(s)");
            return -1;
        }
        return 0;
    }
    char items[SENDER_MAX_COLLECTORS][1024];
    int nk = s_split(o->server_keys, "collector keys", false, &items[0][0], sizeof items[0]);
    if (nk < 0)
        return -1;
    if (nk != 1 && nk != self->n) {
        log_error("%d collector keys for %d collectors: give one key for all, or one per "
                  "collector in the same order", nk, self->n);
        return -1;
    }
    for (int i = 0; i < self->n; i++)
        if (curve_load_public(items[nk == 1 ? 0 : i], self->server_keys[i]) != 0)
            return -1;
    return 0;
}

int sender_check(const sender_opts_t *o)
{
    sender_t probe = { 0 };
    return s_parse_endpoints(&probe, o->endpoints) == 0 && s_parse_keys(&probe, o) == 0 ? 0 : -1;
}

static int s_open_spool(sender_t *self, const sender_opts_t *o)
{
    uint64_t budget = (uint64_t)o->spool_mb << 20;
    spool_opts_t so = { .budget_bytes = budget,
                        .segment_bytes = budget / 16 < SENDER_SEGMENT_MAX ? budget / 16
                                                                          : SENDER_SEGMENT_MAX,
                        .sync = !o->spool_nosync };
    /* A new stream's epoch: microseconds of the wall clock, so a spool
     * made again after being wiped is a new session at every collector. */
    uint64_t epoch = (uint64_t)tu_now_ms() * 1000 + (uint64_t)(tu_mono_ms() % 1000);
    self->spool = spool_open(o->spool_dir, &so, epoch);
    return self->spool ? 0 : -1;
}

static void s_on_link_progress(void *arg) { sender_progress(arg); }

static int s_open_links(sender_t *self, struct event_base *base, void *zctx,
                        const sender_opts_t *o)
{
    for (int i = 0; i < self->n; i++) {
        /* After a restart everything still spooled may be missing there. */
        self->outboxes[i] = outbox_new(self->window, SENDER_RESEND_MS,
                                       spool_first_seq(self->spool));
        if (!self->outboxes[i])
            return -1;
        if (!base)
            continue;
        link_opts_t lo = { .endpoint = self->endpoints[i], .crossing = o->crossing,
                           .direction = o->direction, .key = o->key,
                           .server_key = self->server_keys[i], .on_refused = o->on_refused,
                           .refused_arg = o->arg };
        self->links[i] = link_new(base, zctx, &lo, self->spool, self->outboxes[i],
                                  s_on_link_progress, self);
        if (!self->links[i])
            return -1;
    }
    return 0;
}

sender_t *sender_new(struct event_base *base, void *zctx, const sender_opts_t *o)
{
    sender_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->window = o->window ? o->window : SENDER_WINDOW;
    self->on_progress = o->on_progress;
    self->arg = o->arg;
    if (o->spool_mb < 1) {
        log_error("a spool budget of at least 1 MB please");
        goto fail;
    }
    if (s_parse_endpoints(self, o->endpoints) != 0 || s_parse_keys(self, o) != 0 ||
        s_open_spool(self, o) != 0 || s_open_links(self, base, zctx, o) != 0)
        goto fail;
    return self;
fail:
    sender_destroy(&self);
    return NULL;
}

void sender_destroy(sender_t **self_p)
{
    sender_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < SENDER_MAX_COLLECTORS; i++) {
        link_destroy(&self->links[i]);
        outbox_destroy(&self->outboxes[i]);
    }
    spool_close(&self->spool);
    free(self);
    *self_p = NULL;
}

void sender_pump(sender_t *self)
{
    for (int i = 0; i < self->n; i++)
        if (self->links[i])
            link_pump(self->links[i]);
}

int sender_append(sender_t *self, const uint8_t *buf, size_t len, int64_t now_ms)
{
    if (spool_append(self->spool, buf, len, now_ms) != 0)
        return -1;
    sender_pump(self);
    return 0;
}

static uint64_t s_min(const sender_t *self, bool durable)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < self->n; i++) {
        const outbox_t *o = self->outboxes[i];
        uint64_t v = durable ? outbox_durable_seq(o) : outbox_acked_seq(o);
        if (v < m)
            m = v;
    }
    return m;
}

uint64_t sender_min_acked(const sender_t *self) { return s_min(self, false); }
uint64_t sender_min_durable(const sender_t *self) { return s_min(self, true); }

void sender_progress(sender_t *self)
{
    spool_release(self->spool, sender_min_durable(self));
    if (self->on_progress)
        self->on_progress(self->arg);
}

bool sender_congested(sender_t *self)
{
    uint64_t backlog = spool_last_seq(self->spool) - sender_min_acked(self);
    if (backlog > (uint64_t)self->window * 4)
        self->congested = true;
    else if (backlog <= (uint64_t)self->window * 2)
        self->congested = false;
    return self->congested;
}

bool sender_all_durable(const sender_t *self)
{
    return sender_min_durable(self) >= spool_last_seq(self->spool);
}

uint64_t sender_epoch(const sender_t *self) { return spool_epoch(self->spool); }
uint64_t sender_next_seq(const sender_t *self) { return spool_next_seq(self->spool); }
uint64_t sender_last_seq(const sender_t *self) { return spool_last_seq(self->spool); }
uint64_t sender_spool_first_seq(const sender_t *self) { return spool_first_seq(self->spool); }
int sender_ncollectors(const sender_t *self) { return self->n; }
outbox_t *sender_outbox(sender_t *self, int i) { return self->outboxes[i]; }
const char *sender_endpoint(const sender_t *self, int i) { return self->endpoints[i]; }

void sender_log_status(const sender_t *self, int64_t now_ms)
{
    uint64_t durable = sender_min_durable(self);
    int64_t oldest = spool_time_of(self->spool, durable + 1);
    log_info("  spool %" PRIu64 " batches / %" PRIu64 " bytes, %" PRIu64 " not yet durable "
             "everywhere (oldest %" PRId64 " s ago)", spool_batches(self->spool),
             spool_bytes(self->spool), spool_last_seq(self->spool) - durable,
             oldest ? (now_ms - oldest) / 1000 : 0);
    for (int i = 0; i < self->n; i++) {
        const outbox_t *o = self->outboxes[i];
        log_info("  collector %s %s: acked %" PRIu64 ", durable %" PRIu64 ", %" PRIu64 " resent",
                 self->endpoints[i], self->links[i] && link_alive(self->links[i]) ? "up" : "SILENT",
                 outbox_acked_seq(o), outbox_durable_seq(o), outbox_resends(o));
        const refusals_t *r = sender_refusals(self, i);
        if (r && r->total) {
            char line[1024];
            refusals_format(r, false, line, sizeof line);
            log_warn("  collector %s refused %" PRIu64 " sample(s) since start: %s",
                     self->endpoints[i], r->total, line);
        }
    }
}

const refusals_t *sender_refusals(const sender_t *self, int i)
{
    return i >= 0 && i < self->n && self->links[i] ? link_refusals(self->links[i]) : NULL;
}

uint64_t sender_refused_max(const sender_t *self)
{
    uint64_t m = 0;
    for (int i = 0; i < self->n; i++) {
        const refusals_t *r = sender_refusals(self, i);
        if (r && r->total > m)
            m = r->total;
    }
    return m;
}
