/* forward — federation: a regional collector passing what it archived on
 * to a higher-level (national) collector over the same link agents use.
 *
 * For every agent session it accepts, the collector keeps one relay: its own
 * spool (<dir>/<crossing>-<direction>/, the agent's spool module) and one
 * link per upstream endpoint (the agent's link module: credit window,
 * two-level acknowledgements, resend, CURVE). After a batch is archived
 * here, its valid samples are re-packed into a batch of that relay and
 * spooled, so the upstream receives, per crossing direction, exactly the
 * per-interval series this collector archived — and derives the same waits
 * from them. A relay deletes spooled batches once every upstream has them
 * on disk: an upstream outage costs disk here, never data. Samples an
 * upstream refuses (its Ack says why) are logged by the relay's links once
 * a minute and counted in stats->upstream_refused by reason. */
#ifndef POE_FORWARD_H
#define POE_FORWARD_H

#include <stdbool.h>

#include "curve.h"
#include "poenet.pb-c.h"
#include "stats.h"
#include "wire.h"

struct event_base;
typedef struct forward forward_t;

typedef struct {
    const char *upstreams;      /* comma-separated endpoints */
    const char *spool_dir;      /* relays' spools live below it */
    const curve_pair_t *key;    /* this collector's key pair; NULL = plaintext */
    const char *upstream_keys;  /* the upstreams' public keys (with key) */
    unsigned spool_mb;          /* budget per relay */
    stats_t *stats;             /* upstream refusals are counted here; may be NULL */
} forward_opts_t;

forward_t *forward_new(struct event_base *base, void *zctx, const forward_opts_t *opts);
void forward_destroy(forward_t **self_p);

/* Pass on the samples of an archived batch whose valid flags are set.
 * Returns 0, or -1 when it could not be spooled (logged; the batch stays
 * archived here). */
int forward_batch(forward_t *self, const Poenet__Batch *b, const wire_mask_t *valid_q,
                  const wire_mask_t *valid_l);

#endif
