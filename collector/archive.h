/* archive — the RRD archive of every series, written and read through
 * rrdcached.
 *
 * Layout (docs/archive.md): <dir>/<crossing>/<direction>/<mode>-<type>.rrd
 * with data sources arrivals, departures (ABSOLUTE: counts per interval),
 * lanes_open, queue, wait_s (GAUGE); and per lane
 * <dir>/<crossing>/<direction>/lane-<id>.rrd with departures, open.
 * Base step 60 s. Files are created on first use (rrdcached CREATE).
 *
 * The time guard lives here: a row at or before a file's last update is
 * skipped (counted as already archived), never sent, because rrdcached
 * stops a whole command at the first stale value. The last update time of
 * a file not yet seen in this process is read back from rrdcached (FLUSH +
 * LAST), so the guard holds across collector restarts.
 *
 * Writes are staged with arch_add_* and sent together by arch_commit in
 * one rrdcached BATCH; commit returns 0 only when rrdcached accepted every
 * command — the collector acknowledges a batch to its agent only then. */
#ifndef POE_ARCHIVE_H
#define POE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "taxonomy.h"

typedef struct archive archive_t;

enum arch_profile {
    ARCH_FULL = 0,    /* 1 min × 8 d, 5 min × 35 d, 1 h × 2 y, 1 d × 10 y (AVERAGE, MAX) */
    ARCH_COMPACT      /* 1 min × 1 d, 1 h × 35 d: tests and benchmarks */
};

/* rrdcached: "unix:/path/to/sock" or "/path/to/sock". dir: absolute or
 * relative archive root (made absolute here; created if missing). */
archive_t *arch_new(const char *rrdcached, const char *dir, enum arch_profile profile);
void arch_destroy(archive_t **self_p);

/* Rows carry the interval's end in milliseconds: intervals shorter than a
 * second (250, 500 ms) end within one second, and each is its own row.
 * rrdcached takes fractional update times (librrd keeps the fraction in the
 * file's live header, last_up_usec); a row on a whole second is sent as
 * before, without one. Counts are ABSOLUTE, so two 500-ms rows of one
 * second add up in the 60-s step like one 1-s row. */
typedef struct {
    int64_t t_ms;         /* interval end, Unix milliseconds */
    uint32_t interval_ms; /* interval length: a new file starts at the second before t_ms - interval_ms */
    uint32_t arrivals, departures;
    uint32_t lanes_open;
    double queue;         /* NAN = unknown */
    double wait_s;        /* NAN = unknown (e.g. no lane open) */
} arch_queue_row_t;

typedef struct {
    int64_t t_ms;
    uint32_t interval_ms;
    uint32_t departures;
    bool open;
} arch_lane_row_t;

/* Stage one row. Returns 1 when staged, 0 when skipped by the time guard
 * (at or before the file's last update, to the millisecond), -1 when rrdcached could not be
 * asked for the file's state (connection lost; nothing staged). */
int arch_add_queue(archive_t *self, const char *crossing, enum tax_dir dir,
                   enum tax_mode mode, enum tax_type type, const arch_queue_row_t *row);
int arch_add_lane(archive_t *self, const char *crossing, enum tax_dir dir,
                  const char *lane_id, const arch_lane_row_t *row);

/* An official value (CBP/CBSA, collector/importer.c) as fetched at t_s:
 * <dir>/<crossing>/<direction>/official-<mode>-<type>.rrd beside the
 * measured file, data sources wait_s, lanes_open, updated (the document's
 * update time, Unix seconds), age_s (t_s - updated) and status (enum
 * off_status: 3 = "Update Pending"), all GAUGE with a
 * 15-minute heartbeat; NAN = unknown. Same guard and BATCH as the others. */
typedef struct {
    int64_t t_s;
    double wait_s, lanes_open, updated_s, age_s;
    double status;        /* enum off_status as a number (official.h) */
} arch_official_row_t;

int arch_add_official(archive_t *self, const char *crossing, enum tax_dir dir,
                      enum tax_mode mode, enum tax_type type, const arch_official_row_t *row);

/* Send everything staged in one BATCH. 0 when every command was accepted;
 * -1 otherwise with a reason in why. Staged rows are cleared either way;
 * after a failure the per-file guard is re-read from rrdcached on next use,
 * so what was accepted is not sent twice and what was not is sent again. */
int arch_commit(archive_t *self, char *why, size_t whylen);

/* arch_commit in two halves, with up to ARCH_FLIGHTS_MAX batches in
 * flight, so the next batches are staged while rrdcached applies the
 * first: arch_commit_send hands the staged rows to rrdcached (what the
 * socket takes now; the rest as arch_commit_ready or arch_commit_wait go
 * on) and starts an empty stage; the caller must not send more than
 * ARCH_FLIGHTS_MAX (arch_commit_in_flight counts them). It returns 0 when
 * sent, 1 when nothing was staged (nothing in flight), -1 as arch_commit
 * (the staged rows are dropped, their guards forgotten). arch_commit_wait
 * takes the oldest flight's outcome (blocking, bounded by rrdcached's
 * timeout) with arch_commit's meaning — 0 accepted (its files wait for the
 * next sync), -1 not (reason in why; its guards are re-read on next use) —
 * and 0 when none is in flight. A refused flight fails alone; a lost
 * connection fails every flight. Any other use of the archive's connection
 * in between (a fetch, a file's last update, a synchronous arch_commit)
 * first finishes the flights and keeps their outcomes for
 * arch_commit_wait. arch_commit_ready says without blocking whether
 * arch_commit_wait would return at once; arch_commit_fd is the socket to
 * watch meanwhile, for writing when *writing, else for reading (-1: not
 * connected, and then arch_commit_wait returns at once). Rows staged while
 * batches are in flight must not be for the files they touched unless
 * their order does not matter: they reach rrdcached after them; and a file
 * must not be in two flights (its guard's accepted point moves with the
 * first). */
#define ARCH_FLIGHTS_MAX 2
int arch_commit_send(archive_t *self, char *why, size_t whylen);
int arch_commit_wait(archive_t *self, char *why, size_t whylen);
size_t arch_commit_in_flight(const archive_t *self);
bool arch_commit_ready(archive_t *self);
int arch_commit_fd(const archive_t *self, bool *writing);

/* Drop staged rows without sending them (e.g. a batch failed validation
 * half way). */
void arch_abort(archive_t *self);

/* Read back a queue's series through rrdcached FETCH (which flushes the file
 * first). Columns in this order: wait_s, arrivals, departures, lanes_open,
 * queue; arrivals and departures converted to counts per step; unknown
 * values are NAN. step is a hint (the archive picks the RRA). */
#define ARCH_NCOLS 5
typedef struct {
    int64_t start, end, step;   /* rows cover (start, end], row i ends at start + (i+1)*step */
    size_t nrows;
    double *values;             /* nrows * ARCH_NCOLS, row-major */
} arch_series_t;

/* Returns 0 and fills out (free with arch_series_free), 1 when the series
 * has no file yet, -1 on error (reason in why). */
int arch_fetch_queue(archive_t *self, const char *crossing, enum tax_dir dir,
                     enum tax_mode mode, enum tax_type type, int64_t from, int64_t to,
                     int64_t step, arch_series_t *out, char *why, size_t whylen);
void arch_series_free(arch_series_t *s);

/* The official series of a queue, the same way: ARCH_OFF_NCOLS columns
 * wait_s, lanes_open, updated, age_s, status per row. 1 when it has no file. */
#define ARCH_OFF_NCOLS 5
int arch_fetch_official(archive_t *self, const char *crossing, enum tax_dir dir,
                        enum tax_mode mode, enum tax_type type, int64_t from, int64_t to,
                        int64_t step, arch_series_t *out, char *why, size_t whylen);

/* Make every row committed since the last successful sync durable: FLUSH
 * each file touched (rrdcached answers once the file is written, so the
 * rows survive rrdcached being killed; its journal alone does not
 * guarantee that). 0 when all files flushed (or nothing to do), -1 with a
 * reason otherwise (the files stay pending for the next sync). */
int arch_sync(archive_t *self, char *why, size_t whylen);

/* The same without waiting, for a daemon's loop: FLUSHALL, then every file
 * committed since the last sync read until its header shows the rows
 * (rrdhead; INFO for a file it cannot read), FLUSH and a read again for
 * the ones the writer does not get to, in a few rounds, pipelined on connections of its own
 * (rrdpipe) driven by a thread of the archive with its own event base,
 * while batches go on being committed; the end is reported on base (an
 * eventfd), where done runs. The thread touches only the sync's own job.
 * done(arg, 0, "") once every one of those files is on disk through what
 * rrdcached had accepted when the sync started; done(arg, -1, why)
 * otherwise (those files stay pending). Returns 0 when started (done runs
 * later, from the loop), 1 when there was nothing to sync, -1 when it could
 * not start (why; done is not called). One sync at a time: -1 while one
 * runs. Durable means what was accepted before this call, not after. */
struct event_base;
typedef void (arch_synced_fn)(void *arg, int rc, const char *why);
int arch_sync_start(archive_t *self, struct event_base *base, arch_synced_fn *done, void *arg,
                    char *why, size_t whylen);
bool arch_sync_running(const archive_t *self);

/* Give up a running sync: its files are pending again and done is never
 * called (e.g. before a blocking arch_sync at exit). */
void arch_sync_cancel(archive_t *self);

/* Changes whenever rrdcached may have lost rows it had accepted (the
 * connection was re-established). Every file's guard is then re-learned,
 * and callers must resend what was accepted but not yet synced. */
uint64_t arch_generation(archive_t *self);

/* Why the last arch_add_* returned -1 (never NULL). */
const char *arch_last_error(const archive_t *self);

/* Files committed but not yet synced. */
size_t arch_pending_sync(const archive_t *self);

/* True while the rrdcached connection is up (for /health). */
bool arch_connected(const archive_t *self);

#endif
