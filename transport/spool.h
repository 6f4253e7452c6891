/* spool — the agent's on-disk log of packed batches, so that nothing it
 * accepted is lost while collectors are away or when it is killed.
 *
 * Owns the spool directory: a `meta` file with the agent's epoch (the
 * session id collectors know it by, kept across restarts) and append-only
 * segment files `seg-<first seq>.log`. Each record is framed with its
 * length, seq, spool time and a CRC-32, and is written (and by default
 * fdatasync'ed) before the batch is first sent. Opening a spool recovers
 * it: a torn tail left by kill -9 is detected by its CRC or length and cut,
 * never replayed as garbage. Segments are deleted once every collector has
 * the batches on disk (spool_release). When the disk budget is exceeded,
 * the oldest segment goes, with a loud counted alarm, and the seqs it held
 * are reported as dropped so the collectors move past the gap (the archive
 * shows unknown there, never a false zero). */
#ifndef POE_SPOOL_H
#define POE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spool spool_t;

typedef struct {
    uint64_t budget_bytes;    /* total size of all segments at most */
    uint64_t segment_bytes;   /* start a new segment beyond this size */
    bool sync;                /* fdatasync every append */
} spool_opts_t;

/* Open (creating if needed) the spool in dir and recover its contents.
 * new_epoch is used only when the spool is new. NULL on error (logged). */
spool_t *spool_open(const char *dir, const spool_opts_t *opts, uint64_t new_epoch);
void spool_close(spool_t **self_p);

uint64_t spool_epoch(const spool_t *self);

/* The seq the next appended batch must carry. */
uint64_t spool_next_seq(const spool_t *self);

/* Append the batch carrying spool_next_seq(). 0, or -1 on an I/O error
 * (logged; the batch is not spooled). May drop the oldest segment when the
 * budget is exceeded. */
int spool_append(spool_t *self, const uint8_t *buf, size_t len, int64_t now_ms);

/* Read batch seq into a malloc'ed buffer. 0 on success, 1 when that seq is
 * no longer (or never was) in the spool, -1 on an I/O or checksum error. */
int spool_read(spool_t *self, uint64_t seq, uint8_t **buf, size_t *len);

/* Oldest and newest seq held (first > last when empty). */
uint64_t spool_first_seq(const spool_t *self);
uint64_t spool_last_seq(const spool_t *self);

/* Spool time (wall ms) of batch seq, 0 when it is not held. */
int64_t spool_time_of(const spool_t *self, uint64_t seq);

/* Delete whole segments whose batches are all <= upto. */
void spool_release(spool_t *self, uint64_t upto);

/* Highest seq lost to the budget or to corruption (0 = none). */
uint64_t spool_dropped_through(const spool_t *self);

uint64_t spool_bytes(const spool_t *self);
uint64_t spool_batches(const spool_t *self);
uint64_t spool_drops(const spool_t *self);   /* alarms raised */

#endif
