/* sender — reliable delivery of one stream of batches to 1..8 collectors.
 *
 * What an agent and a forwarding collector both are: one spool (every
 * batch on disk before it is first sent), one link and one outbox per
 * collector (each gets every batch, at its own pace), the spool released at
 * the minimum durable seq over all of them (so any one collector's outage
 * costs disk, never data), and back-pressure for a producer that can wait
 * (a replay). The endpoint and key lists follow one rule for every user:
 * comma-separated, at most SENDER_MAX_COLLECTORS, no empty or repeated
 * entry, and with CURVE either one server key for all collectors or
 * exactly one per collector, in order; anything else is refused, loudly,
 * before a socket is made. */
#ifndef POE_SENDER_H
#define POE_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "outbox.h"
#include "refusals.h"

#define SENDER_MAX_COLLECTORS 8
#define SENDER_WINDOW 32           /* default credit window, batches */
#define SENDER_RESEND_MS 3000      /* go-back-N when no ack moves this long */

struct event_base;
typedef struct sender sender_t;

/* An acknowledgement moved: acked (credit) or durable (spool released). */
typedef void(sender_progress_fn)(void *arg);

typedef struct {
    const char *endpoints;      /* comma-separated collector endpoints */
    const char *spool_dir;
    unsigned spool_mb;          /* disk budget of the spool */
    bool spool_nosync;          /* skip fdatasync per batch (a power cut may lose the last) */
    size_t window;              /* batches in flight per collector; 0 = SENDER_WINDOW */
    const char *crossing;       /* the stream's crossing and direction (heartbeats) */
    int direction;
    const curve_pair_t *key;    /* this end's key pair; NULL = plaintext */
    const char *server_keys;    /* with key: collector public keys or key files */
    sender_progress_fn *on_progress;
    /* Samples a collector refused (its Ack, by reason); may be NULL. The
     * links also count and log them (refusals.h). */
    void (*on_refused)(void *arg, const wire_refusals_t *r);
    void *arg;
} sender_opts_t;

/* Open the spool and one link per endpoint on base. With base and zctx
 * NULL no link is made: each collector is only its outbox, which the
 * caller drives (sender_outbox; the fan-out's unit tests). NULL on any
 * refusal or failure (logged with the reason). */
sender_t *sender_new(struct event_base *base, void *zctx, const sender_opts_t *o);
void sender_destroy(sender_t **self_p);

/* Apply the list rules to o->endpoints, o->key and o->server_keys (key
 * files are read) without opening anything. 0, or -1 with the reason
 * logged. */
int sender_check(const sender_opts_t *o);

/* Spool a packed batch carrying sender_next_seq() and start sending it.
 * 0, or -1 when the spool refused it (logged; the caller keeps it). */
int sender_append(sender_t *self, const uint8_t *buf, size_t len, int64_t now_ms);

/* Send what the windows allow now (e.g. from a timer). */
void sender_pump(sender_t *self);

/* Release the spool through the minimum durable seq and tell the user;
 * links call it, and so do tests after driving outboxes by hand. */
void sender_progress(sender_t *self);

uint64_t sender_epoch(const sender_t *self);
uint64_t sender_next_seq(const sender_t *self);
uint64_t sender_last_seq(const sender_t *self);

/* Minimum over collectors of the acked / durable seq. */
uint64_t sender_min_acked(const sender_t *self);
uint64_t sender_min_durable(const sender_t *self);

/* True when every spooled batch is durable at every collector. */
bool sender_all_durable(const sender_t *self);

/* Back-pressure with hysteresis: becomes true when more than 4 windows
 * are unacknowledged by the slowest collector, false again at 2. */
bool sender_congested(sender_t *self);

int sender_ncollectors(const sender_t *self);
outbox_t *sender_outbox(sender_t *self, int i);
const char *sender_endpoint(const sender_t *self, int i);
uint64_t sender_spool_first_seq(const sender_t *self);

/* What collector i refused so far; NULL when it has no link. */
const refusals_t *sender_refusals(const sender_t *self, int i);

/* The most samples any one collector refused (each judges every sample;
 * summing over collectors would count one sample twice). */
uint64_t sender_refused_max(const sender_t *self);

/* Log the spool and every collector's acked/durable/resent, one line each. */
void sender_log_status(const sender_t *self, int64_t now_ms);

#endif
