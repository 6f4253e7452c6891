/* ingest_int — the insides of ingest, shared by its two halves and by
 * nothing else: collector/ingest.c (the ROUTER socket, frames in and
 * replies out, the durable sync's timer, the handshake monitor) and
 * collector/ingest_batch.c (a batch judged, validated, estimated and
 * staged; the group of batches committed in one rrdcached BATCH; the
 * heartbeat). Both run on the collector's main loop. */
#ifndef POE_INGEST_INT_H
#define POE_INGEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "ingest.h"
#include "peerwatch.h"
#include "wire.h"
#include "zwatch.h"

struct event;

/* Frames handled per wake-up before yielding to HTTP and timers. Measured
 * (docs/performance.md 1b): 16 per turn cut /health's worst wait in a
 * catch-up flood from ~3 s to ~1.3 s but halved the rate and doubled the
 * time to durable; the loop's other work keeps /health far from 20 ms
 * either way, so the rate wins. */
#define INGEST_BURST 256
/* Batches of different agents staged into one rrdcached BATCH: one round
 * trip, and one wake-up of rrdcached, for many agents' frames (docs/
 * performance.md 1d). A group holds at most one batch per crossing
 * direction (a second one ends it), so each batch is judged, estimated
 * and committed exactly as alone; it ends with the burst, before any
 * other kind of frame, and at these sizes. */
#define INGEST_GROUP_MAX 32
#define INGEST_GROUP_ROWS 16384
/* ZMQ_MAXMSGSIZE of the agent socket. Frames above WIRE_MAX_FRAME up to
 * this are received whole, so they can be counted and logged with their
 * peer (`oversized`); beyond it libzmq drops the connection and the 4.3
 * monitor cannot tell that from a peer leaving (docs/security.md). */
#define INGEST_HARD_FRAME (16 * WIRE_MAX_FRAME)
/* Handshake refusals: a peer retrying within this counts once. */
#define INGEST_HANDSHAKE_WINDOW_MS 60000
/* At most one line per agent about refused samples this often. */
#define INGEST_REFUSED_LOG_MS 30000

/* A session's accepted point when a sync started: what that sync makes
 * durable once rrdcached has written it. */
typedef struct {
    char crossing[7];
    enum tax_dir dir;
    uint64_t epoch, acked;
} acked_snap_t;

/* A batch staged in the group, waiting for the group's commit. */
typedef struct {
    Poenet__Envelope *env;      /* its frame, decoded; owned until the group ends */
    zmq_msg_t id;               /* the sender's routing id (socket path only) */
    bool has_id;
    bool solo;                  /* its session goes alone (sess_t.solo) */
    xstate_t *x;
    char who[48];
    long staged;
    int64_t now_ms;
    /* Shadow queue states (its one crossing direction), committed only
     * once rrdcached accepted the group. */
    qstate_t shadow[TAX_NQUEUES];
    bool touched[TAX_NQUEUES];
    wire_mask_t valid_q, valid_l;  /* samples that passed validation */
    wire_refusals_t refused;    /* what of it was refused, for its ack */
    char refused_why[REJ_MAX][200]; /* the first reason text per code, for the log */
} member_t;

/* Groups in flight at once: rrdcached applies one while the next are
 * staged and sent, one round trip for several (docs/performance.md 1q). */
#define INGEST_FLIGHTS ARCH_FLIGHTS_MAX

/* A group sent to rrdcached and not yet answered. */
typedef struct {
    member_t *m;                /* INGEST_GROUP_MAX; swapped with the group's */
    size_t n;
    uint64_t gen;               /* the archive's generation it was judged in */
} ingest_flight_t;

struct ingest {
    struct event_base *base;
    void *sock;
    void *monitor;              /* PAIR receiving the ROUTER's handshake events */
    peerwatch_t *peers;         /* handshake outcomes per peer (counted once per episode) */
    zwatch_t *watch;
    zwatch_t *watch_monitor;
    struct event *ev_sync;
    ingest_ctx_t ctx;
    sess_table_t *sessions;
    uint64_t arch_gen;          /* archive generation the sessions agree with */
    bool sync_failing;          /* for logging the start and end of an outage once */
    acked_snap_t *snap;         /* per session, at the start of the running sync */
    size_t nsnap, snapcap;
    /* The sessions file written off the loop (ingest_sessions.c): what it
     * says, applied to the sessions once it is on disk. */
    struct bgjob *saver;
    struct {
        uint64_t *durable, *epoch;  /* per session index, as written */
        size_t n;
        char *text;
        size_t len;
        int rc;
    } save;
    char last_reject[400];      /* rate limit of repeated rejection lines */
    int64_t last_reject_ms;
    uint64_t repeats;
    member_t *group;            /* INGEST_GROUP_MAX, staged into one BATCH */
    size_t ngroup;
    long group_rows;
    /* Groups sent to rrdcached and not yet answered (arch_commit_send),
     * oldest first in a ring: the next group is staged meanwhile. No
     * session is in two of them, nor in a flight and the group. */
    ingest_flight_t flights[INGEST_FLIGHTS];
    size_t ffirst, nflights;
    struct event *ev_flight;    /* its answer (or the socket's room to write it) */
    bool group_sent;            /* replies went out: re-check the socket */
};

/* Count a rejection and log it (repeats of one line at most every 30 s). */
void ingest_reject(ingest_t *self, enum stats_reject code, const char *who, const char *why);

/* Handle one frame (see ingest_batch.c): a batch may join the group when id
 * is given (the socket path); returns the reply to send now, malloc'ed. */
uint8_t *ingest_frame(ingest_t *self, const void *data, size_t len, zmq_msg_t *id,
                      const char *peer_key, int64_t now_ms, size_t *reply_len);

/* Commit the group and answer its members; out: the reply of a member
 * without a routing id (ingest_handle_frame's). A group in flight is
 * answered first. */
void ingest_group_end(ingest_t *self, uint8_t **out, size_t *out_len);

/* The socket path: send the group to rrdcached and stage the next one
 * while it is applied (the oldest flight is answered first when
 * INGEST_FLIGHTS are in flight). Its members are answered by
 * ingest_flights_land. */
void ingest_group_launch(ingest_t *self);

/* Wait for the n oldest groups in flight (all of them when n is larger),
 * count and answer their members. */
void ingest_flights_land(ingest_t *self, size_t n);

/* Answer the groups in flight whose answers came, without blocking. */
void ingest_flights_land_ready(ingest_t *self);

/* Watch the archive's connection for the flights' answers (ingest.c). */
void ingest_flight_watch(ingest_t *self);

/* rrdcached may have lost rows it accepted: roll sessions back to what is
 * on disk when the archive's generation moved. */
void ingest_check_archive(ingest_t *self);

/* After a sync that succeeded (ingest_sessions.c): the sessions' durable
 * points move to what the sync made durable once the sessions file saying
 * so is on disk, so a durable acknowledgement never runs ahead of the
 * file. The file is written on the saver's thread (blocking: here, at
 * exit); a sync that ends while a write runs leaves its points to the
 * next sync, which covers them. 0, or -1 (the file was not written). */
int ingest_sessions_synced(ingest_t *self, bool blocking);

/* Finish a write still running (its points are applied), stop the
 * saver's thread. */
void ingest_sessions_stop(ingest_t *self);

#endif
