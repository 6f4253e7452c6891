/* archive_int — the archive's insides, shared by its two halves and by
 * nothing else: collector/archive.c (layout, time guards, staging, commit,
 * fetch) and collector/archive_sync.c (making what rrdcached accepted
 * durable: the pipelined sync on a thread of its own). One struct, one
 * owner: the collector's main loop, except the sync job's state, which the
 * loop and the sync thread touch in turn under mu. */
#ifndef POE_ARCHIVE_INT_H
#define POE_ARCHIVE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "rrdcc.h"
#include "rrdpipe.h"

struct event_base;
struct event;

#define ARCH_STEP 60            /* base step of every file, seconds */
#define ARCH_TIMEOUT_MS 5000    /* per wait on rrdcached */
#define ARCH_NAME_MAX 32        /* crossing and lane ids: one path component */
/* Connections of a pipelined sync: rrdcached answers a FLUSH once the file
 * is written and handles one command of a connection at a time. It runs
 * with one writer thread (-t 1: several corrupt a file flushed while being
 * written, docs/archive.md), so the connections overlap waiting for writes
 * with the INFO reads, not writes with writes. */
#define ARCH_SYNC_PIPES 4
/* A sync connection with replies owed and none coming for this long is
 * given up. Under a flood rrdcached's writers fall far behind its readers
 * and a FLUSH can wait seconds; the sync runs beside the loop, so waiting
 * costs only durability latency. */
#define ARCH_SYNC_TIMEOUT_MS 30000
/* Rounds of a sync (the first FLUSHALL, then FLUSH per file not yet
 * written) and the pause between them; after the last, a file still
 * behind lost rows. In the first, the files are read every POLL_MS while
 * the writer gets through them, and given their own FLUSH once none was
 * written for STALL_MS. */
#define ARCH_SYNC_ROUNDS 5
#define ARCH_SYNC_PAUSE_MS 200
#define ARCH_SYNC_POLL_MS 50
#define ARCH_SYNC_STALL_MS 500
/* Reading every file not yet written at every poll cost 0.3 core with
 * 10,000 files (each read an open, a pread and a close). rrdcached's
 * writer takes FLUSHALL's files in the order of its cache tree, by name:
 * a poll reads from the first file not yet written on, until this many in
 * a row are not written either, plus SWEEP more from a rotating position
 * (a writer that goes out of that order is still followed). Only when
 * none was found written for STALL_MS are all read, once, before the
 * writer is judged stalled. */
#define ARCH_SYNC_POLL_MISSES 8
#define ARCH_SYNC_POLL_SWEEP 32
/* Below this, a failed CREATE is blamed on the disk: a full-profile queue
 * file is about 3 MB. */
#define ARCH_MIN_FREE_BYTES (4LL * 1024 * 1024)

/* One file's time guard. Entries are allocated one by one so pointers to
 * them stay valid while the table grows. */
typedef struct {
    char *path;
    uint64_t hash;
    int64_t last;       /* last update sent or staged, Unix ms; valid when known */
    int64_t accepted;   /* last update rrdcached accepted on this connection, Unix ms */
    bool known;
    bool dirty;         /* committed rows not yet synced (in the dirty list) */
    uint64_t gen;       /* batch that last touched it (never wraps) */
} guard_t;

/* A queue's or a lane's guard by its names (archive.c s_file_guard),
 * direct-mapped. */
#define ARCH_QCACHE 4096
typedef struct {
    char crossing[ARCH_NAME_MAX + 1];
    char lane[ARCH_NAME_MAX + 1];   /* a lane's id; "" for a queue */
    int dir, mode, type;            /* mode and type -1 for a lane */
    guard_t *g;         /* NULL: empty */
} arch_qcache_t;

/* A batch sent by arch_commit_send, until arch_commit_wait: its lines
 * (rrdcached reads them while later batches are staged) and the guards it
 * touched. Its buffers go back to the stage afterwards. */
typedef struct {
    char *buf;
    size_t len, cap;
    guard_t **guards;
    size_t nguards, gcap;
} arch_flight_t;

struct archive {
    rrdcc_t *rc;
    char *root;                 /* absolute, no trailing '/' */
    enum arch_profile profile;

    guard_t **slots;            /* open addressing, linear probing */
    arch_qcache_t *qcache;      /* ARCH_QCACHE entries */
    size_t cap, used;

    char *stage;                /* staged UPDATE lines */
    size_t slen, scap;
    /* Batches sent by arch_commit_send, until arch_commit_wait, oldest
     * first in a ring. */
    arch_flight_t flights[ARCH_FLIGHTS_MAX];
    size_t ffirst, nflights;
    guard_t **touched;          /* guards touched by the staged batch */
    size_t ntouched, tcap;
    uint64_t gen;               /* current batch, from 1 */

    guard_t **dirty;            /* committed since the last sync */
    size_t ndirty, dcap;
    uint64_t seen_connects;     /* rrdcc_connects() when guards were last valid */
    uint64_t generation;
    bool stage_void;            /* the staged batch predates a new connection */
    uint64_t wipes;             /* times every guard was forgotten (new connections) */

    /* The pipelined sync (arch_sync_start). Its items live until every
     * reply came, even when it was cancelled. */
    rrdpipe_t *pipes[ARCH_SYNC_PIPES];
    struct sync_item *items;
    size_t nitems, owed;
    bool sync_starting, sync_detached, sync_failed;
    uint64_t sync_gen, sync_wipes;
    int sync_round;             /* 1: FLUSHALL + reads; 2..: FLUSH + read of the rest */
    bool sync_polling;          /* round 1 reads the files on a timer */
    bool sync_asking;           /* a file could not be read here (logged once) */
    size_t poll_front;          /* items sorted by path: the first not yet written */
    size_t poll_sweep;          /* where the next sweep starts */
    int64_t poll_progress_ms;   /* the last poll that found a file newly written */
    /* The sync's I/O runs on a thread of its own with its own event base,
     * so the collector's busy loop does not pace rrdcached's replies.
     * Handoff: the loop prepares a job while the thread waits, the thread
     * runs it to the end and says so through done_fd; the job's state is
     * touched by one side at a time, in turn, under mu. */
    struct event_base *wbase;
    struct event *wtick, *ev_done;
    pthread_t worker;
    bool worker_up, job, job_end, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done_fd;
    int64_t sync_started_ms;
    char sync_why[400];
    arch_synced_fn *sync_done;
    void *sync_arg;
    char last_error[400];       /* the last reason a row could not be staged */
};

/* A reason for the caller; why may be NULL. */
void arch_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Connect when needed. rrdcc never reconnects by itself (autoconnect is
 * off): a new connection is seen here before anything is sent on it, so no
 * row is ever judged by a guard of a previous rrdcached process. 0 on the
 * same connection, 1 on a new one (guards forgotten), -1 when down. */
int arch_link(archive_t *self);

/* Every guard unknown and nothing pending: what a new connection means. */
void arch_forget_all(archive_t *self);

/* The guard table (archive_guard.c): the first slots; the guard of path,
 * added unknown when missing (NULL: out of memory); everything freed. */
int arch_guards_init(archive_t *self);
guard_t *arch_guard(archive_t *self, const char *path);
void arch_guards_free(archive_t *self);

/* A file's last update in Unix ms, once rrdcached has written it (the
 * caller FLUSHed): from the file's header (rrdhead, with the fraction of a
 * second), else rrdcached's INFO, whole seconds: a lower bound. 0, or -1
 * with rrdcc's error (not logged). */
int arch_last_written(archive_t *self, const char *path, int64_t *last_ms);

/* Stop the sync thread and free its connections (archive_sync.c). */
void arch_sync_stop(archive_t *self);

#endif
