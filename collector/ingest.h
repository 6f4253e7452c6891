/* ingest — the collector's agent-facing side: the ROUTER socket, and what
 * happens to each frame that arrives on it.
 *
 * A frame is decoded (wire), its agent's session judged (session), every
 * sample validated (validate) — a bad sample is logged, counted and dropped,
 * the rest of its batch still counts — then estimated against a shadow copy
 * of the queue state, staged in the archive and sent to rrdcached in one
 * BATCH. Only when rrdcached accepted it is the shadow state committed and
 * the batch acknowledged; otherwise the agent resends and nothing counts
 * twice. Acknowledgements have two levels: accepted (acked_seq) and on disk
 * (durable_seq, after a periodic sync); agents delete spooled batches only
 * once durable. If rrdcached restarts and loses what it had accepted, every
 * session rolls back to its durable point and agents resend the rest. Runs
 * on the collector's main event loop (the archive's sync does its I/O on a
 * thread of its own and reports back there); the socket is never touched
 * from another thread. */
#ifndef POE_INGEST_H
#define POE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "curve.h"
#include "poenet.pb-c.h"
#include "wire.h"
#include "zap.h"
#include "registry.h"
#include "session.h"
#include "state.h"
#include "stats.h"

struct event_base;

typedef struct {
    state_t *state;
    archive_t *archive;
    const registry_t *registry;
    stats_t *stats;
    int64_t max_skew_ms;
    int64_t sync_ms;            /* how often accepted rows are made durable */
    const char *sessions_path;  /* where sessions persist; NULL = not kept */
    const curve_pair_t *server_key; /* CURVE server key pair; NULL = plaintext */
    zap_t *zap;                 /* who may send (with server_key) */
    int64_t max_age_ms;         /* samples older than this are refused (0 = no limit) */
    bool allow_backfill;        /* every agent may send history (tests, migrations) */
    double max_samples_per_s;   /* per agent; bursts of 10 s are allowed (0 = no limit) */
    /* Called for each queue whose state changed, after its batch is
     * archived (the live feed); may be NULL. k is tax_queue_index. */
    void (*on_change)(void *arg, const xstate_t *x, enum tax_dir d, int k);
    void *on_change_arg;
    /* Called once a batch is archived, with which of its samples were valid
     * (federation forwards those) and whether it is a resend after a
     * rollback (sess_is_resend: seen before); may be NULL. */
    void (*on_batch)(void *arg, const Poenet__Batch *b, const wire_mask_t *valid_q,
                     const wire_mask_t *valid_l, bool resent);
    void *on_batch_arg;
} ingest_ctx_t;

typedef struct ingest ingest_t;

/* Bind endpoint (e.g. "tcp://127.0.0.1:5555"), load the persisted sessions
 * and start the durability timer. NULL on failure (logged). */
ingest_t *ingest_new(struct event_base *base, void *zctx, const char *endpoint,
                     const ingest_ctx_t *ctx);
void ingest_destroy(ingest_t **self_p);

/* Handle one frame from an agent and return the reply to send back (NULL
 * when there is none), malloc'ed. peer_key is the sender's CURVE public key
 * (Z85) as ZAP authenticated it, NULL on a plaintext socket. Exposed for
 * tests: no socket involved. */
uint8_t *ingest_handle_frame(ingest_t *self, const void *data, size_t len, const char *peer_key,
                             int64_t now_ms, size_t *reply_len);

/* Make everything accepted durable now (FLUSH through rrdcached) and
 * persist the sessions. 0 on success. Called by the timer and at exit. */
int ingest_sync(ingest_t *self);

const sess_table_t *ingest_sessions(const ingest_t *self);

/* Whether agents' frames wait on the socket, or a group of their batches
 * waits for rrdcached's answer (arg: the ingest_t): work that would hold
 * them may wait (http_ctx_t.busy). */
bool ingest_busy(void *arg);

#endif
