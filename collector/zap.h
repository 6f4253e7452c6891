/* zap — who may send to this collector: the CURVE allowlist and the ZAP
 * handler (ZeroMQ RFC 27) that applies it at every handshake.
 *
 * Owns the allowlist file (libconfig; docs/security.md):
 *   agents = ( { key = "<Z85 public key or path to NAME.pub>";
 *                crossing = "250401"; direction = "northbound";
 *                backfill = false; } );
 * Each key is bound to one crossing direction; crossing = "*" and
 * direction = "*" bind a regional collector's key, which forwards for all,
 * or, with a list, only for the crossings its region owns:
 *   { key = "r1.pub"; name = "r1"; crossings = [ "250401", "250601" ]; }
 * A crossing is owned by one region name at most (two names listing it
 * reject the file); several keys of one name share its crossings (a key
 * being rotated). Ownership is enforced per batch by ingest: a region
 * sending a crossing it does not own, or a second sender of a series whose
 * owner feeds it, is refused with that reason (docs/security.md). The handler runs on the
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
#include <stddef.h>

#include "curve.h"
#include "registry.h"
#include "stats.h"
#include "taxonomy.h"

struct event_base;

typedef struct {
    char key[CURVE_KEY_Z85];
    char crossing[7];     /* or "*" */
    enum tax_dir dir;     /* 0 = any */
    bool backfill;        /* may send history older than the horizon */
    char name[32];        /* who the key is in log lines and refusals ("r1"); "" = unnamed */
    int owns;             /* crossings listed in its `crossings` (0 = no list) */
} zap_entry_t;

typedef struct zap zap_t;

/* Load the allowlist and start answering ZAP requests in zctx. NULL when
 * the file is unusable (reason logged with file:line). */
zap_t *zap_new(struct event_base *base, void *zctx, const char *allowlist, stats_t *stats);
void zap_destroy(zap_t **self_p);

/* Read an allowlist file without using it (poe-collector --check): the
 * number of keys, or -1 with the reason logged as zap_new would. With a
 * registry (may be NULL), a crossing that a key is bound to or a region
 * owns and the registry lacks is an error too: every sample of it would be
 * refused as an unknown crossing. */
int zap_check_file(const char *allowlist, const registry_t *reg);

/* The allowlist alone, answering no handshakes: what ingest's checks see,
 * for tests. NULL when the file is unusable (logged). */
zap_t *zap_load(const char *allowlist);

/* Read the allowlist again. On any error the old list stays in force. */
int zap_reload(zap_t *self);

/* The binding of a key (Z85), NULL when it is not allowed. */
const zap_entry_t *zap_lookup(const zap_t *self, const char *key);

/* The name of the region that owns crossing (an entry's `crossings`), NULL
 * when no entry lists it. */
const char *zap_owner(const zap_t *self, const char *crossing);

/* "region r1", "key of 250401/northbound" or "key Abc...": a key's binding
 * as log lines and refusals name it. */
void zap_describe(const zap_entry_t *e, char *buf, size_t len);


#endif
