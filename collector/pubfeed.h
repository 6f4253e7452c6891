/* pubfeed — the live feed of wait updates over ZeroMQ.
 *
 * A PUB socket carries one message per changed queue, [topic][JSON body],
 * topic "wait.<crossing>.<direction>.<mode>.<lane>", every body with a
 * sequence number one higher than the last; a heartbeat [hb][{"seq":N}]
 * goes every second, so a subscriber sees a gap even when nothing changes.
 * A ROUTER next to it answers "SNAPSHOT [prefix]" with the current state of
 * every queue under the prefix, each stamped with the sequence number the
 * snapshot was taken at, then [END][{"seq":S}]: a late subscriber
 * subscribes first, takes the snapshot, and drops updates with seq <= S
 * (the clone pattern). Runs on the collector's event loop. */
#ifndef POE_PUBFEED_H
#define POE_PUBFEED_H

#include <stdint.h>

#include "curve.h"
#include "state.h"

struct event_base;
typedef struct pubfeed pubfeed_t;

/* Bind pub_endpoint and snap_endpoint. With server_key (not NULL) both are
 * CURVE servers: subscribers need a key the ZAP allowlist knows. NULL on
 * failure (logged). */
pubfeed_t *pubfeed_new(struct event_base *base, void *zctx, const char *pub_endpoint,
                   const char *snap_endpoint, state_t *state, int64_t stale_after_ms,
                   const curve_pair_t *server_key);
void pubfeed_destroy(pubfeed_t **self_p);

/* Also hand every update to fn (the browsers' stream, collector/sse):
 * its sequence number, crossing and JSON body, after it is published. */
typedef void (pubfeed_tap_fn)(void *arg, uint64_t seq, const char *crossing, const char *body);
void pubfeed_set_tap(pubfeed_t *self, pubfeed_tap_fn *fn, void *arg);

/* Publish queue k (tax_queue_index) of crossing x, direction d, as it is now. */
void pubfeed_queue_changed(pubfeed_t *self, const xstate_t *x, enum tax_dir d, int k);

#endif
