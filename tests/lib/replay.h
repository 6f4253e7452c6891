/* replay — a known sensor event file for the fault suite, and the exact
 * check of an archive against it.
 *
 * rp_generate writes a deterministic event file for one crossing direction
 * (lanes, arrivals and departures in four queues) and records, independently
 * of the agent's code, how many arrivals and departures fall in each minute
 * of each queue. rp_compare reads the archive back through the collector's
 * /v1/history and demands exactly those counts: nothing missing, nothing
 * doubled. */
#ifndef POE_TEST_REPLAY_H
#define POE_TEST_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#define RP_QUEUES 4
#define RP_MAX_MIN (24 * 60)

typedef struct {
    int64_t t0_s;              /* first minute, Unix seconds (a multiple of 60) */
    int minutes;
    long events;
    long arrivals[RP_QUEUES][RP_MAX_MIN];
    long departures[RP_QUEUES][RP_MAX_MIN];
} rp_expect_t;

/* Write about `events` events spread over `minutes` minutes starting at
 * t0_s into path. 0 or -1. */
int rp_generate(const char *path, uint64_t seed, int64_t t0_s, int minutes, long events,
                rp_expect_t *e);

/* Compare the archive behind the collector's HTTP port with e. 0 when
 * every minute of every queue matches; -1 with the first difference in
 * why. */
int rp_compare(int http_port, const char *crossing, const char *direction, const rp_expect_t *e,
               char *why, size_t whylen);

/* Mode and lane type of queue q, for messages and URLs. */
const char *rp_queue_mode(int q);
const char *rp_queue_type(int q);

#endif
