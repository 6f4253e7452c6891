/* test_fuzz_regressions — every bug the libFuzzer targets (tests/fuzz) and
 * the review behind docs/security.md found, replayed through the same
 * functions, so a fix cannot quietly come undone. Each test names where the
 * finding came from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "aggregate.h"
#include "registry.h"
#include "sensor.h"
#include "stats.h"
#include "taxonomy.h"
#include "validate.h"
#include "wire.h"

#define NOW_MS 1768464000000LL   /* fuzz_wire's clock */
#define SKEW_MS 30000

/* Blaine - Point Roberts as in fuzz_wire's registry: 3 passenger lanes. */
static reg_crossing_t s_point_roberts(void)
{
    reg_crossing_t r;
    memset(&r, 0, sizeof r);
    strcpy(r.id, "300403");
    strcpy(r.bwt_id, "02300403");
    r.border = TAX_BORDER_CA;
    strcpy(r.name, "Blaine - Point Roberts");
    r.max_lanes[TAX_PASSENGER] = 3;
    r.max_lanes[TAX_COMMERCIAL] = 1;
    return r;
}

/* A packed one-sample batch from crossing 300403, decoded as the collector
 * decodes frames: the input shape fuzz_wire found. */
static Poenet__Envelope *s_frame_with_lanes_open(uint32_t lanes_open)
{
    wire_batch_t *b = wire_batch_new("300403", TAX_SOUTHBOUND, 42, 10000);
    assert_non_null(b);
    wire_queue_sample_t q = { .t_end_ms = NOW_MS - 10000, .mode = TAX_PASSENGER,
                              .type = TAX_STANDARD, .arrivals = 2, .departures = 2,
                              .lanes_open = lanes_open };
    assert_int_equal(wire_batch_add_queue(b, &q), 0);
    size_t len = 0;
    uint8_t *buf = wire_batch_pack(b, 4, 0, &len);
    wire_batch_destroy(&b);
    assert_non_null(buf);
    Poenet__Envelope *env = NULL;
    char why[200];
    assert_int_equal(wire_decode(buf, len, &env, why, sizeof why), 0);
    free(buf);
    return env;
}

/* fuzz_wire, invariant "lanes_open <= max_lanes": collector/validate.c
 * compared (int)lanes_open > max, so 2^31..2^32-1 lanes open became
 * negative and were accepted, reaching the estimator as billions of open
 * booths (a wait of zero). */
static void test_wire_lanes_open_beyond_int_is_refused(void **state)
{
    (void)state;
    reg_crossing_t reg = s_point_roberts();
    val_ctx_t ctx = { .now_ms = NOW_MS, .max_skew_ms = SKEW_MS };
    const uint32_t bad[] = { 4, 0x80000000u, 0xfffffffdu, 0xffffffffu };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Poenet__Envelope *env = s_frame_with_lanes_open(bad[i]);
        char why[200] = "";
        enum stats_reject code = REJ_MAX;
        assert_int_equal(val_batch(env->batch, &reg, why, sizeof why, &code), 0);
        assert_int_equal(val_queue_sample(&ctx, env->batch, &reg, env->batch->queues[0], why,
                                          sizeof why, &code), -1);
        assert_int_equal(code, REJ_LANES);
        assert_non_null(strstr(why, "lanes open"));
        wire_free(&env);
    }
    /* The crossing's own lane count is still fine. */
    Poenet__Envelope *env = s_frame_with_lanes_open(3);
    char why[200];
    enum stats_reject code = REJ_MAX;
    assert_int_equal(val_queue_sample(&ctx, env->batch, &reg, env->batch->queues[0], why,
                                      sizeof why, &code), 0);
    wire_free(&env);
}

/* Privacy review (docs/security.md): a malformed tag line had its fields
 * quoted in the rejection reason, which the agent logs, so a vehicle's tag
 * hash in the wrong place ("tag <hash> entry ...") reached the log. */
static void test_sensor_bad_tag_line_never_quotes_the_hash(void **state)
{
    (void)state;
    const char *hash = "f501234d7f509cfc";
    const char *lines[] = {
        "1768464031159 tag f501234d7f509cfc passenger ready entry",
        "1768464031159 tag entry f501234d7f509cfc passenger ready",
        "1768464031159 tag booth passenger f501234d7f509cfc ready",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        sensor_parser_t p;
        sensor_parser_init(&p);
        sensor_event_t ev;
        char why[200] = "";
        assert_int_equal(sensor_parse_line(&p, lines[i], &ev, why, sizeof why), SENSOR_BAD);
        assert_non_null(strstr(why, "tag"));
        assert_null(strstr(why, hash));
        assert_null(strstr(why, "f501234d")); /* not even a prefix */
    }
    /* The well-formed line still parses. */
    sensor_parser_t p;
    sensor_parser_init(&p);
    sensor_event_t ev;
    char why[200];
    assert_int_equal(sensor_parse_line(&p, "1768464031159 tag entry passenger ready f501234d7f509cfc",
                                       &ev, why, sizeof why), SENSOR_EVENT);
    assert_string_equal(ev.hash, hash);
    assert_int_equal(ev.mode, TAX_PASSENGER);
    assert_int_equal(ev.type, TAX_READY);
}

/* fuzz_sensor, timeout: a sensor clock that jumps decades ahead (still
 * inside the parser's 2000..2200 bounds) made aggregate_advance step through
 * every 5 s interval of the silence one by one (1.1e9 iterations: 1.7 s at
 * -O2, over 25 s under the sanitizers), holding the agent's event loop. The
 * outage is now skipped in one step, with the same samples emitted. */
static long s_jump_samples;

static void s_count_emit(void *arg, const wire_queue_sample_t *q, const wire_lane_sample_t *l)
{
    (void)arg;
    (void)q;
    (void)l;
    s_jump_samples++;
}

static void test_sensor_clock_jump_is_one_step(void **state)
{
    (void)state;
    const char *lines[] = { "1768464000000 lane PS01 passenger standard open",
                            "1768464000000 arrive passenger standard",
                            "7258118400000 arrive passenger standard" };
    aggregate_t *ag = aggregate_new(5000, 3600 * 1000, s_count_emit, NULL, 1);
    assert_non_null(ag);
    sensor_parser_t p;
    sensor_parser_init(&p);
    clock_t t0 = clock();
    for (size_t i = 0; i < 3; i++) {
        sensor_event_t ev;
        char why[200];
        assert_int_equal(sensor_parse_line(&p, lines[i], &ev, why, sizeof why), SENSOR_EVENT);
        assert_int_equal(aggregate_event(ag, &ev, why, sizeof why), 0);
    }
    double cpu_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* The hour after the last event is reported (720 intervals x (queue +
     * lane)), then nothing until the jump: exactly as before the fix. */
    assert_int_equal(s_jump_samples, 1440);
    assert_int_equal(aggregate_closed_until(ag), 7258118400000LL);
    /* A bound against a hang, not a benchmark: the fix takes microseconds,
     * the bug took seconds. */
    if (cpu_s > 5.0)
        fail_msg("a clock jump took %.2f s of CPU", cpu_s);
    aggregate_destroy(&ag);
}

/* fuzz_wire, CI run of 2026-11-28 (invariant "a restamped batch decodes"):
 * a good batch frame followed by 0x80 0x00 0x00, field number 0 written in
 * two bytes. protobuf-c read it as an unknown field; wire_decode let the
 * frame through, and wire_batch_restamp packed the field back as the
 * one-byte tag 0x00, which nothing decodes. The frame (tests/fuzz/corpus/
 * fuzz_wire/field-number-zero) is now refused, and not re-stamped. */
static void test_wire_field_number_zero_is_refused(void **state)
{
    (void)state;
    static const uint8_t frame[] = {
        0x0a, 0x39, 0x0a, 0x06, 0x32, 0x35, 0x30, 0x34, 0x30, 0x31, 0x10, 0x01, 0x18, 0x2a,
        0x20, 0x02, 0x28, 0x88, 0x27, 0x32, 0x11, 0x08, 0x88, 0xef, 0xac, 0x85, 0xbc, 0x33,
        0x10, 0x01, 0x18, 0x01, 0x20, 0x03, 0x28, 0x02, 0x30, 0x04, 0x32, 0x11, 0x08, 0x88,
        0xef, 0xac, 0x85, 0xbc, 0x33, 0x10, 0x02, 0x18, 0x03, 0x20, 0x03, 0x28, 0x02, 0x30,
        0x04, 0x40, 0x03, 0x80, 0x00, 0x00
    };
    Poenet__Envelope *env = NULL;
    char why[200] = "";
    assert_int_equal(wire_decode(frame, sizeof frame, &env, why, sizeof why), -1);
    assert_null(env);
    assert_non_null(strstr(why, "field number 0"));
    size_t len = 0;
    assert_null(wire_batch_restamp(frame, sizeof frame, 7, &len));
    /* Without the three bytes it is a good batch, re-stamped as before. */
    assert_int_equal(wire_decode(frame, sizeof frame - 3, &env, why, sizeof why), 0);
    wire_free(&env);
    uint8_t *out = wire_batch_restamp(frame, sizeof frame - 3, 7, &len);
    assert_non_null(out);
    assert_int_equal(wire_decode(out, len, &env, why, sizeof why), 0);
    assert_int_equal(env->batch->dropped_through, 7);
    wire_free(&env);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_lanes_open_beyond_int_is_refused),
        cmocka_unit_test(test_sensor_bad_tag_line_never_quotes_the_hash),
        cmocka_unit_test(test_sensor_clock_jump_is_one_step),
        cmocka_unit_test(test_wire_field_number_zero_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
