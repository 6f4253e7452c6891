/* fuzz_wire — libFuzzer target for what a collector does with one frame off
 * the network: wire_decode, then, for a batch, the same validate path
 * collector/ingest.c runs (val_batch, val_queue_sample, val_lane_sample)
 * against a small registry; and wire_batch_restamp, which the agent's spool
 * applies to stored frames.
 *
 * Beyond crashes and sanitizer reports it checks the promises: a decoded
 * batch is structurally sound (wire.h), a sample validation accepted is
 * within the limits validate.h states, and a restamped batch still decodes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"
#include "taxonomy.h"
#include "validate.h"
#include "wire.h"

/* Three real entries of deploy/registry.conf: a big MX port, one without
 * any lanes, a small CA one (so max_lanes 0, 1 and 34 are all exercised). */
static const char s_registry[] =
    "crossings = (\n"
    "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
    "    max_lanes = { passenger = 34; pedestrian = 22; commercial = 0; }; },\n"
    "  { id = \"070803\"; bwt_id = \"04070803\"; border = \"CA\"; name = \"Alexandria Bay, NY\";\n"
    "    us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
    "    max_lanes = { passenger = 0; pedestrian = 0; commercial = 0; }; },\n"
    "  { id = \"300403\"; bwt_id = \"02300403\"; border = \"CA\"; name = \"Blaine - Point Roberts\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Vancouver\";\n"
    "    max_lanes = { passenger = 3; pedestrian = 0; commercial = 1; }; }\n"
    ");\n";

/* The collector's clock for every input: the fixture's day, default skew. */
#define NOW_MS 1768464000000LL
#define SKEW_MS 30000

static registry_t *s_reg;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_wire: invariant failed: %s (%s:%d)\n", #cond,     \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_init("fuzz_wire", LOG_LVL_ERROR);
    int fd = memfd_create("registry", 0);
    if (fd < 0 || write(fd, s_registry, sizeof s_registry - 1) != (ssize_t)(sizeof s_registry - 1))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int nbad = 0;
    s_reg = reg_load(path, &nbad);
    close(fd);
    if (!s_reg || reg_count(s_reg) != 3 || nbad != 0) {
        fprintf(stderr, "fuzz_wire: built-in registry did not load\n");
        abort();
    }
    return 0;
}

/* What wire.h promises about every batch wire_decode lets through. */
static void s_check_structure(const Poenet__Batch *b)
{
    CHECK(tax_crossing_id_valid(b->crossing));
    CHECK(tax_dir_valid((int)b->direction));
    CHECK(b->seq > 0);
    CHECK(b->n_queues <= WIRE_MAX_QUEUE_SAMPLES && b->n_lanes <= WIRE_MAX_LANE_SAMPLES);
    for (size_t i = 0; i < b->n_queues; i++)
        CHECK(tax_mode_valid((int)b->queues[i]->mode) && tax_type_valid((int)b->queues[i]->type));
    for (size_t i = 0; i < b->n_lanes; i++) {
        CHECK(wire_lane_id_valid(b->lanes[i]->lane_id));
        CHECK(tax_mode_valid((int)b->lanes[i]->mode) && tax_type_valid((int)b->lanes[i]->type));
    }
}

/* What validate.h promises about a sample it accepted. */
static void s_check_time(const Poenet__Batch *b, uint64_t t_end_ms)
{
    CHECK(t_end_ms % b->interval_ms == 0);
    CHECK(t_end_ms <= (uint64_t)(NOW_MS + SKEW_MS));
}

/* Units that can pass at per_s in the batch's interval: counted whole, so
 * rounded up (a booth clearing one a second clears one in a 250-ms
 * interval now and then). */
static double s_most(double per_s, const Poenet__Batch *b)
{
    return ceil(per_s * b->interval_ms / 1000.0);
}

static void s_check_queue(const Poenet__Batch *b, const reg_crossing_t *reg,
                          const Poenet__QueueSample *q)
{
    s_check_time(b, q->t_end_ms);
    int max = reg->max_lanes[q->mode];
    CHECK((uint64_t)q->lanes_open <= (uint64_t)max);
    CHECK(q->departures <= (max > 0 ? max : 1) * s_most(VAL_MAX_DEPART_PER_LANE_S, b));
    CHECK(q->arrivals <= s_most(VAL_MAX_ARRIVE_PER_S, b));
    CHECK(!q->has_queue_len || q->queue_len <= VAL_MAX_QUEUE);
}

static void s_check_lane(const Poenet__Batch *b, const reg_crossing_t *reg,
                         const Poenet__LaneSample *l)
{
    s_check_time(b, l->t_end_ms);
    CHECK(reg->max_lanes[l->mode] > 0);
    CHECK(l->departures <= s_most(VAL_MAX_DEPART_PER_LANE_S, b));
}

/* The collector's path for one batch (collector/ingest.c s_handle_batch and
 * s_stage_batch), minus the session and the archive. */
static void s_validate(const Poenet__Batch *b)
{
    char why[200];
    enum stats_reject code = REJ_MAX;
    const reg_crossing_t *reg = reg_find(s_reg, b->crossing);
    if (val_batch(b, reg, why, sizeof why, &code) != 0) {
        CHECK(code < REJ_MAX && why[0]);
        return;
    }
    /* a part of a second that divides it (from WIRE_INTERVAL_MIN_MS), or
     * whole seconds that divide a minute (proto/wire.h) */
    uint32_t iv = b->interval_ms;
    CHECK(iv >= WIRE_INTERVAL_MIN_MS && iv <= 60000);
    CHECK(iv <= 1000 ? 1000 % iv == 0 : iv % 1000 == 0 && 60000 % iv == 0);
    val_ctx_t ctx = { .now_ms = NOW_MS, .max_skew_ms = SKEW_MS };
    for (size_t i = 0; i < b->n_queues; i++) {
        code = REJ_MAX;
        if (val_queue_sample(&ctx, b, reg, b->queues[i], why, sizeof why, &code) == 0)
            s_check_queue(b, reg, b->queues[i]);
        else
            CHECK(code < REJ_MAX && stats_reject_name(code)[0] != '?');
    }
    for (size_t i = 0; i < b->n_lanes; i++) {
        code = REJ_MAX;
        if (val_lane_sample(&ctx, b, reg, b->lanes[i], why, sizeof why, &code) == 0)
            s_check_lane(b, reg, b->lanes[i]);
        else
            CHECK(code < REJ_MAX && stats_reject_name(code)[0] != '?');
    }
}

/* The agent re-stamps spooled frames; a batch must survive it intact. */
static void s_restamp(const uint8_t *data, size_t size, const Poenet__Envelope *env)
{
    size_t len = 0;
    uint8_t *out = wire_batch_restamp(data, size, 7, &len);
    if (!env || env->body_case != POENET__ENVELOPE__BODY_BATCH) {
        free(out);
        return;
    }
    CHECK(out != NULL);
    Poenet__Envelope *again = NULL;
    char why[200];
    CHECK(wire_decode(out, len, &again, why, sizeof why) == 0);
    CHECK(again->body_case == POENET__ENVELOPE__BODY_BATCH);
    CHECK(again->batch->has_dropped_through && again->batch->dropped_through == 7);
    CHECK(again->batch->seq == env->batch->seq && again->batch->n_queues == env->batch->n_queues);
    wire_free(&again);
    free(out);
}

/* What an agent's link does with an ack (protocol 2): every refusal that
 * wire_decode lets through is a named reason the table takes. */
static void s_check_refusals(const Poenet__Ack *ack)
{
    wire_refusals_t r;
    wire_refusals_from_ack(ack, &r);
    CHECK(ack->n_refused <= WIRE_MAX_REFUSED);
    CHECK(r.n <= ack->n_refused);
    CHECK(ack->n_refused == 0 || r.n > 0);
    for (size_t i = 0; i < r.n; i++)
        CHECK(r.v[i].reason[0] && strlen(r.v[i].reason) <= WIRE_REASON_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Poenet__Envelope *env = NULL;
    char why[200] = "";
    if (wire_decode(data, size, &env, why, sizeof why) != 0) {
        CHECK(env == NULL && why[0]);
        if (size <= WIRE_MAX_FRAME)
            s_restamp(data, size, NULL);
        return 0;
    }
    if (env->body_case == POENET__ENVELOPE__BODY_BATCH) {
        s_check_structure(env->batch);
        s_validate(env->batch);
    }
    if (env->body_case == POENET__ENVELOPE__BODY_ACK)
        s_check_refusals(env->ack);
    s_restamp(data, size, env);
    wire_free(&env);
    return 0;
}
