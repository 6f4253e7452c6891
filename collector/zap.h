/* zap — who may send to this collector: the CURVE allowlist and the ZAP
 * handler (ZeroMQ RFC 27) that applies it at every handshake.
 *
 * Owns the allowlist file (libconfig; docs/security.md):
 *   agents = ( { key = "<Z85 public key or path to NAME.pub>";
 *                crossing = "250401"; direction = "northbound";
 *                backfill = false; } );
 * Each key is bound to one crossing direction; crossing = "*" and
 * direction = "*" bind a regional collector's key, which forwards for all. The handler runs on the
 * collector's event loop (a REP socket on inproc://zeromq.zap.01, bound
 * before any CURVE socket): unknown keys are refused at the handshake, and
 * the key travels with every message as its "User-Id", so ingest can check
 * the binding per message and a key revoked by a reload (SIGHUP) stops
 * being accepted on connections that are already open. Written over libzmq
 * rather than czmq's zauth so that the handler, like every other socket,
 * lives on the one event loop, with no actor thread to coordinate. */
#ifndef POE_ZAP_H
#define POE_ZAP_H

#include <stdbool.h>

#include "curve.h"
#include "stats.h"
#include "taxonomy.h"

struct event_base;

typedef struct {
    char key[CURVE_KEY_Z85];
    char crossing[7];     /* or "*" */
    enum tax_dir dir;     /* 0 = any */
    bool backfill;        /* may send history older than the horizon */
} zap_entry_t;

typedef struct zap zap_t;

/* Load the allowlist and start answering ZAP requests in zctx. NULL when
 * the file is unusable (reason logged with file:line). */
zap_t *zap_new(struct event_base *base, void *zctx, const char *allowlist, stats_t *stats);
void zap_destroy(zap_t **self_p);

/* Read an allowlist file without using it (poe-collector --check): the
 * number of keys, or -1 with the reason logged as zap_new would. */
int zap_check_file(const char *allowlist);

/* Read the allowlist again. On any error the old list stays in force. */
int zap_reload(zap_t *self);

/* The binding of a key (Z85), NULL when it is not allowed. */
const zap_entry_t *zap_lookup(const zap_t *self, const char *key);


#endif
