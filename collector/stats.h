/* stats — the collector's counters, shared by ingest (writes) and the HTTP
 * views (read). Single-threaded: both run on the one event loop. */
#ifndef POE_STATS_H
#define POE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "official.h"

/* Why a frame or a sample was refused. Names in stats_reject_name(). */
enum stats_reject {
    REJ_DECODE = 0,        /* not a poenet message / structurally bad */
    REJ_NOT_BATCH,         /* an agent sent something other than a batch/heartbeat */
    REJ_UNKNOWN_CROSSING,  /* crossing id not in the registry */
    REJ_BAD_INTERVAL,      /* interval_ms not one wire_interval_valid accepts */
    REJ_FUTURE,            /* sample stamped beyond now + allowed skew */
    REJ_MISALIGNED,        /* sample end not on an interval boundary */
    REJ_IMPOSSIBLE,        /* count beyond physical limits */
    REJ_LANES,             /* more lanes open than the crossing has */
    REJ_STALE_EPOCH,       /* a batch from an agent session already replaced */
    REJ_GAP,               /* seq beyond the next expected one: resend asked */
    REJ_ARCHIVE,           /* rrdcached refused or was unreachable: not acked */
    REJ_UNAUTHORIZED,      /* the sender's CURVE key is not (or no longer) allowed */
    REJ_WRONG_AGENT,       /* a key speaking for a crossing direction not its own */
    REJ_TOO_OLD,           /* sample older than the spool horizon, agent may not backfill */
    REJ_RATE,              /* agent above its rate limit: not acked, it sends again later */
    REJ_OVERSIZED,         /* a frame above WIRE_MAX_FRAME (received whole up to the hard limit) */
    REJ_NOT_OWNER,         /* a region key sent a crossing its allowlist entry does not own */
    REJ_SECOND_SOURCE,     /* a series already fed by another sender (its owner wins) */
    REJ_MAX
};

/* One official feed's importer (collector/importer.c). */
typedef struct {
    bool configured;
    uint64_t polls;                 /* requests sent, retries included */
    uint64_t taken;                 /* 200 documents parsed and applied */
    uint64_t not_modified;          /* 304 answers to a conditional GET */
    uint64_t refused;               /* polls that ended without a usable document */
    uint64_t retries;
    uint64_t reasons[OFF_R_MAX];    /* whole-document and per-port/queue reasons */
    int64_t last_attempt_ms, last_ok_ms;    /* wall clock; last_ok = taken or 304 */
    int64_t last_duration_ms;       /* of the last request */
    int64_t last_parse_us;          /* parsing and applying the last document */
    uint64_t ports, ports_imported, queues; /* of the last document taken */
    uint64_t archived_rows;         /* official rows accepted by rrdcached */
    uint64_t archive_failures;      /* polls whose rows rrdcached did not take */
    int last_http_status;
} stats_official_t;

typedef struct {
    int64_t started_ms;
    uint64_t frames_in;
    uint64_t batches_accepted;
    uint64_t batches_duplicate;     /* already archived: acked again, not re-applied */
    uint64_t samples_accepted;
    uint64_t samples_already_archived; /* at or before the file's last update */
    uint64_t heartbeats_in;
    uint64_t rejected[REJ_MAX];
    uint64_t agent_bad_lines;       /* sum of what agents reported */
    uint64_t batches_refused;       /* judged, every sample refused (acked, reasons in the ack) */
    /* Handshakes count peers: one per refused key (ZAP) or failing peer
     * address, once per episode of retries (collector/peerwatch.h). */
    uint64_t handshake_denied;      /* ZAP said no: unknown or revoked key */
    uint64_t handshake_failed;      /* other failed handshakes: plaintext peers, wrong server key */
    uint64_t handshake_attempts_failed; /* every failed attempt, libzmq's retries and denials included */
    /* Samples an upstream collector refused of what this one forwarded,
     * by the reason it named (unknown names under REJ_DECODE's slot would
     * mislead: they are logged, and counted in upstream_refused_other). */
    uint64_t upstream_refused[REJ_MAX];
    uint64_t upstream_refused_other;
    uint64_t lane_plans;            /* crossing directions with a lane plan in use */
    uint64_t lane_plan_reload_failures; /* SIGHUPs whose plans were refused (old ones kept) */
    uint64_t notices;               /* port notices loaded (valid or not yet) */
    uint64_t notices_rejected;      /* notice entries refused, every load counted */
    uint64_t notice_reload_failures;/* SIGHUPs whose notices file was unreadable (old ones kept) */
    /* The browsers' live stream (/v1/stream): collector/sse_ring's atomic
     * counters, copied in when /health or /metrics is rendered (0: no
     * stream, the collector runs without --feed). */
    uint64_t sse_clients, sse_max_clients;
    uint64_t sse_refused_full, sse_refused_bad_id, sse_refused_future_id, sse_dropped_slow;
    stats_official_t official[OFF_NSOURCES];
} stats_t;

const char *stats_reject_name(enum stats_reject r);

/* The reason of a name stats_reject_name gives; -1 for an unknown one. */
int stats_reject_parse(const char *name);

/* True for the reasons that refuse single samples of a batch that is still
 * acknowledged (they travel back in the Ack: proto/poenet.proto). */
bool stats_reject_is_sample(enum stats_reject r);

/* True for the reasons an Ack can carry back to the sender: the sample
 * reasons, and the source reasons (not_owner, second_source) that refuse a
 * whole batch of a forwarding region, acknowledged so its relay moves on. */
bool stats_reject_in_ack(enum stats_reject r);

#endif
