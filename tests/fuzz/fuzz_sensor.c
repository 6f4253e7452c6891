/* fuzz_sensor — libFuzzer target for the agent's input: every line of the
 * input goes through sensor_parse_line (one parser, so line numbers and the
 * time-order rule carry across lines, as on a real stream), every event it
 * returns through aggregate_event, and every sample the aggregation emits into a
 * wire batch that is packed at the end and decoded as a collector would.
 *
 * Beyond crashes it checks the promises: a parsed event is in bounds and
 * survives sensor_format/sensor_parse_line unchanged, emitted samples sit
 * on the interval grid, and whatever the agent builds from any input passes
 * the collector's structural checks (wire_decode). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "log.h"
#include "sensor.h"
#include "wire.h"

/* The agent's defaults (agent/main.c): 5 s intervals, 3600 s max gap. */
#define INTERVAL_MS 5000
#define MAX_GAP_MS (3600LL * 1000)
/* Longer lines are cut here; the parser refuses them well before. */
#define LINE_CAP 2048

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_sensor: invariant failed: %s (%s:%d)\n", #cond,   \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

static wire_batch_t *s_batch;
static uint64_t s_seq;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_init("fuzz_sensor", LOG_LVL_ERROR);
    /* Big (two 4096-sample arrays): made once, emptied by every pack. */
    s_batch = wire_batch_new("250401", 1, 1, INTERVAL_MS);
    return s_batch ? 0 : -1;
}

/* Pack what the batch holds and decode it the way the collector does. */
static void s_pack_and_decode(void)
{
    if (wire_batch_count(s_batch) == 0)
        return;
    size_t len = 0;
    uint8_t *buf = wire_batch_pack(s_batch, ++s_seq, 0, &len);
    CHECK(buf != NULL);
    Poenet__Envelope *env = NULL;
    char why[200] = "";
    if (wire_decode(buf, len, &env, why, sizeof why) != 0) {
        fprintf(stderr, "fuzz_sensor: the collector refuses the agent's batch: %s\n", why);
        abort();
    }
    wire_free(&env);
    free(buf);
}

static void s_emit(void *arg, const wire_queue_sample_t *q, const wire_lane_sample_t *l)
{
    (void)arg;
    CHECK((q != NULL) != (l != NULL));
    int rc;
    if (q) {
        CHECK(q->t_end_ms % INTERVAL_MS == 0);
        CHECK(q->tt_count == 0 || q->tt_max_s * (uint64_t)q->tt_count >= q->tt_sum_s);
        rc = wire_batch_add_queue(s_batch, q);
    } else {
        CHECK(l->t_end_ms % INTERVAL_MS == 0);
        CHECK(wire_lane_id_valid(l->lane_id));
        rc = wire_batch_add_lane(s_batch, l);
    }
    if (rc != 0) { /* full: the agent packs and starts over, so do we */
        s_pack_and_decode();
        rc = q ? wire_batch_add_queue(s_batch, q) : wire_batch_add_lane(s_batch, l);
        CHECK(rc == 0);
    }
}

/* A parsed event formats back into a line that parses to the same event. */
static void s_check_roundtrip(const sensor_event_t *ev)
{
    char line[SENSOR_MAX_LINE + 64], why[200];
    int n = sensor_format(ev, line, sizeof line);
    CHECK(n > 0 && (size_t)n < sizeof line);
    sensor_parser_t p;
    sensor_parser_init(&p);
    sensor_event_t again;
    CHECK(sensor_parse_line(&p, line, &again, why, sizeof why) == SENSOR_EVENT);
    CHECK(again.t_ms == ev->t_ms && again.kind == ev->kind && again.n == ev->n);
    CHECK(again.mode == ev->mode && again.type == ev->type && again.open == ev->open);
    CHECK(again.booth == ev->booth && strcmp(again.lane_id, ev->lane_id) == 0);
    CHECK(strcmp(again.hash, ev->hash) == 0);
}

static void s_line(sensor_parser_t *p, aggregate_t *ag, const char *line, int64_t *last_t)
{
    sensor_event_t ev;
    char why[200] = "";
    uint64_t bad = p->bad;
    enum sensor_result r = sensor_parse_line(p, line, &ev, why, sizeof why);
    if (r == SENSOR_BAD) {
        CHECK(why[0] && p->bad == bad + 1);
        return;
    }
    if (r == SENSOR_NONE)
        return;
    CHECK(r == SENSOR_EVENT);
    CHECK(ev.t_ms >= *last_t);
    *last_t = ev.t_ms;
    s_check_roundtrip(&ev);
    why[0] = '\0';
    if (aggregate_event(ag, &ev, why, sizeof why) != 0)
        CHECK(why[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aggregate_t *ag = aggregate_new(INTERVAL_MS, MAX_GAP_MS, s_emit, NULL, 0x5eed5eedULL);
    CHECK(ag != NULL);
    sensor_parser_t p;
    sensor_parser_init(&p);
    char line[LINE_CAP + 1];
    int64_t last_t = 0;
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (data + i)) + 1 : size - i;
        size_t keep = n < LINE_CAP ? n : LINE_CAP;
        memcpy(line, data + i, keep); /* an embedded NUL ends the line early, as in C I/O */
        line[keep] = '\0';
        s_line(&p, ag, line, &last_t);
        i += n;
    }
    aggregate_flush(ag);
    s_pack_and_decode();
    aggregate_destroy(&ag);
    return 0;
}
