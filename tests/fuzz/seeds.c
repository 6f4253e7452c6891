/* seeds — writes the seed corpus of fuzz_wire: real frames as the agent and
 * collector pack them (batches with every kind of sample, acks, refusals,
 * heartbeats, a restamped batch), so fuzzing starts from messages that pass
 * wire_decode instead of having to discover protobuf by itself.
 * Usage: seeds DIR (make fuzz-seeds). */
#include <stdio.h>
#include <stdlib.h>

#include "wire.h"

/* 2026-01-15T08:00Z, the fixture's day, on the 5 s grid. */
#define T0 1768464000000LL

static int s_save(const char *dir, const char *name, uint8_t *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "seeds: cannot write %s\n", path);
    free(buf);
    return rc;
}

/* A batch of nq queue intervals and nl lane intervals per interval. */
static uint8_t *s_batch(const char *crossing, int dir, uint32_t interval_ms, int intervals,
                        int nl, bool tt, size_t *len)
{
    wire_batch_t *b = wire_batch_new(crossing, dir, 42, interval_ms);
    if (!b)
        return NULL;
    static const char *lanes[] = { "PS01", "PS02", "PR01", "PN01", "WS01", "CF-1_a" };
    for (int k = 0; k < intervals; k++) {
        int64_t t = T0 + (int64_t)(k + 1) * interval_ms;
        wire_queue_sample_t q = { .t_end_ms = t, .mode = 1, .type = 1, .arrivals = 3 + (uint32_t)k,
                                  .departures = 2, .lanes_open = 4, .has_queue_len = k % 2,
                                  .queue_len = 17 };
        if (tt) {
            q.tt_count = 2;
            q.tt_sum_s = 700;
            q.tt_max_s = 420;
        }
        wire_batch_add_queue(b, &q);
        q.mode = 2;
        q.type = 3;
        wire_batch_add_queue(b, &q);
        for (int i = 0; i < nl; i++) {
            wire_lane_sample_t l = { .t_end_ms = t, .mode = i < 4 ? 1 : 2, .type = 1 + i % 4,
                                     .departures = (uint32_t)i, .open = i % 3 != 0 };
            snprintf(l.lane_id, sizeof l.lane_id, "%s", lanes[i % 6]);
            wire_batch_add_lane(b, &l);
        }
    }
    uint8_t *buf = wire_batch_pack(b, 1 + (uint64_t)intervals, 3, len);
    wire_batch_destroy(&b);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds DIR\n");
        return 2;
    }
    const char *d = argv[1];
    size_t len;
    int rc = 0;
    rc |= s_save(d, "batch-queue", s_batch("250401", 1, 5000, 1, 0, false, &len), len);
    rc |= s_save(d, "batch-lanes", s_batch("250401", 1, 5000, 2, 6, false, &len), len);
    rc |= s_save(d, "batch-tt", s_batch("300403", 2, 10000, 3, 2, true, &len), len);
    rc |= s_save(d, "batch-nolanes", s_batch("070803", 2, 60000, 1, 1, false, &len), len);
    rc |= s_save(d, "batch-unknown", s_batch("999999", 1, 5000, 1, 1, false, &len), len);
    rc |= s_save(d, "batch-badinterval", s_batch("250401", 1, 7000, 1, 1, false, &len), len);
    rc |= s_save(d, "batch-many", s_batch("250401", 1, 1000, 20, 6, true, &len), len);
    uint8_t *b = s_batch("250401", 1, 5000, 1, 2, false, &len);
    size_t rlen = 0;
    uint8_t *r = b ? wire_batch_restamp(b, len, 9, &rlen) : NULL;
    free(b);
    rc |= s_save(d, "batch-restamped", r, rlen);
    rc |= s_save(d, "ack", wire_pack_ack(42, 7, 5, false, NULL, &len), len);
    rc |= s_save(d, "ack-resend", wire_pack_ack(42, 7, 7, true, "archive: rrdcached away", &len), len);
    wire_refusals_t rf = { .seq = 7, .collector_ms = T0 };
    wire_refusals_add(&rf, "future", 12, (uint64_t)T0 + 86400000ULL);
    wire_refusals_add(&rf, "lanes", 1, (uint64_t)T0);
    rc |= s_save(d, "ack-refused", wire_pack_ack_refused(42, 7, 5, false, NULL, &rf, &len), len);
    rc |= s_save(d, "refusal", wire_pack_refusal(42, "crossing 999999 is not in the registry", &len), len);
    rc |= s_save(d, "heartbeat", wire_pack_heartbeat(42, (uint64_t)T0, NULL, &len), len);
    wire_agent_status_t st = { "250401", 1, 12, (uint64_t)T0 - 5000 };
    rc |= s_save(d, "heartbeat-status", wire_pack_heartbeat(42, (uint64_t)T0, &st, &len), len);
    return rc ? 1 : 0;
}
