/* archive_reader — queue series read from the archive on a thread of its
 * own, handed to the event loop one by one.
 *
 * A FETCH waits for rrdcached to write the file first, behind its single
 * writer: about 0.1 s a file when the writer is busy, and a collector
 * restarting after an outage reads thousands of files while every agent
 * drains its spool at it. Done on the loop, each of those waits stalled
 * ingest (10,000 series live: batches waited up to 1.8 s to be judged,
 * docs/performance.md 1f). Here a thread with its own rrdcached connection
 * (its own archive_t) makes the requests in order and queues the series,
 * at most ARCH_READER_AHEAD ahead of the loop; the loop is woken by an
 * eventfd and gives each to fn, within a time budget per turn, so what the
 * caller does with a series (on the loop, with the loop's data) never
 * competes with its other work for more than a slice. Then done is called
 * once, also on the loop. Single owner: new, destroy and the callbacks on
 * the loop's thread. */
#ifndef POE_ARCHIVE_READER_H
#define POE_ARCHIVE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "taxonomy.h"

struct event_base;
typedef struct arch_reader arch_reader_t;

/* Series read ahead of the loop at most (each up to a few hundred KB). */
#define ARCH_READER_AHEAD 8
/* The loop's time for fn per turn before it yields to its other events. */
#define ARCH_READER_SLICE_MS 10

typedef struct {
    char crossing[8];        /* a 6-digit port number (tax_crossing_id_valid) */
    enum tax_dir dir;
    enum tax_mode mode;
    enum tax_type type;
    size_t tag;             /* the caller's, given back with the series */
} arch_read_t;

/* One request answered: rc as arch_fetch_queue (0 read, 1 no such file,
 * -1 failed with why). s is the caller's to free with arch_series_free
 * when rc is 0. */
typedef void (arch_reader_fn)(void *arg, const arch_read_t *req, int rc, arch_series_t *s,
                              const char *why);
/* Every request answered (or the reader gave up at the first failure:
 * failed true, the rest unanswered). */
typedef void (arch_reader_done_fn)(void *arg, bool failed);

/* Read reqs[0..n) (copied) over (from, to] at step from the rrdcached and
 * directory of arch, on a thread. NULL when it cannot start (logged). */
arch_reader_t *arch_reader_new(struct event_base *base, const archive_t *arch,
                               const arch_read_t *reqs, size_t n, int64_t from, int64_t to,
                               int64_t step, arch_reader_fn *fn, arch_reader_done_fn *done,
                               void *arg);

/* Stop the thread (a read in progress ends first: at most rrdcached's
 * timeout), free what it read and not handed on. Callbacks are not called. */
void arch_reader_destroy(arch_reader_t **self_p);

/* Whether done was called. */
bool arch_reader_finished(const arch_reader_t *self);

#endif
