/* test_security — only trusted agents, only their own crossing, over real
 * CURVE sockets against a real collector. Each of these is refused while
 * the collector keeps serving the good agent: no key (plaintext), an
 * unknown key, a key revoked by SIGHUP (on a connection already open and on
 * a new one), a valid key sending another crossing's data, an oversized
 * frame, a garbage frame, and a flood above the rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "proc.h"
#include "stack.h"
#include "timeutil.h"
#include "wire.h"
#include "zclient.h"

static teststack_t s_st;
static void *s_ctx;
static char s_keys[600], s_allow[700], s_server_secret[700], s_feed[64], s_snap[64];
static curve_pair_t s_server, s_good, s_other, s_stranger;

static void s_key(const char *name, curve_pair_t *out)
{
    assert_int_equal(zclient_keypair(s_keys, name, out), 0);
}

static void s_write_allowlist(bool with_other)
{
    FILE *f = fopen(s_allow, "w");
    assert_non_null(f);
    fprintf(f, "agents = (\n  { key = \"%s\"; crossing = \"250401\"; direction = \"northbound\"; }",
            s_good.public_key);
    if (with_other)
        fprintf(f, ",\n  { key = \"%s/other.pub\"; crossing = \"300401\"; direction = \"southbound\"; }",
                s_keys);
    fprintf(f, "\n);\n");
    fclose(f);
}

static int s_setup(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    snprintf(s_keys, sizeof s_keys, "%s", dir);
    free(dir);
    s_key("collector", &s_server);
    s_key("good", &s_good);
    s_key("other", &s_other);
    s_key("stranger", &s_stranger);
    snprintf(s_allow, sizeof s_allow, "%s/agents.conf", s_keys);
    snprintf(s_server_secret, sizeof s_server_secret, "%s/collector.secret", s_keys);
    s_write_allowlist(true);
    int port = 20000 + (int)(getpid() % 13000) + 6 * 3 + 50;
    snprintf(s_feed, sizeof s_feed, "tcp://127.0.0.1:%d", port);
    snprintf(s_snap, sizeof s_snap, "tcp://127.0.0.1:%d", port + 1);
    static const char *extra[] = { "--curve-secret", s_server_secret, "--agent-keys", s_allow,
                                   "--max-samples-per-s", "2000", "--feed", s_feed,
                                   "--feed-snapshot", s_snap, "--feed-curve", NULL };
    if (stack_start_args(&s_st, 6, extra) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    zclient_close_all();
    zmq_ctx_term(s_ctx);
    proc_rm_rf(s_keys);
    return stack_stop(&s_st);
}

/* A DEALER to the collector; key NULL = plaintext. */
static void *s_dealer(const curve_pair_t *key)
{
    return zclient_dealer(s_ctx, s_st.endpoint, s_server.public_key, key, 1500);
}

/* Send one batch; returns the reply's acked_seq, -2 for a refusal (error,
 * no durable_seq), -1 for no reply at all. */
static long s_batch(void *d, const char *crossing, int dir, uint64_t epoch, uint64_t seq,
                    int samples, char *err, size_t errlen)
{
    wire_batch_t *b = wire_batch_new(crossing, dir, epoch, 5000);
    int64_t t = (tu_now_ms() / 5000 - 2) * 5000;
    for (int i = 0; i < samples; i++) {
        wire_queue_sample_t q = { .t_end_ms = t - 5000LL * (samples - 1 - i), .mode = 1, .type = 1,
                                  .arrivals = 2, .departures = 1, .lanes_open = 3 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, seq, 0, &len);
    wire_batch_destroy(&b);
    zmq_send(d, buf, len, 0);
    free(buf);
    uint8_t reply[4096];
    int n = zmq_recv(d, reply, sizeof reply, 0);
    if (n < 0)
        return -1;
    Poenet__Envelope *env;
    char why[200];
    assert_int_equal(wire_decode(reply, (size_t)n, &env, why, sizeof why), 0);
    long r = env->ack->has_durable_seq ? (long)env->ack->acked_seq : -2;
    if (err)
        snprintf(err, errlen, "%s", env->ack->error ? env->ack->error : "");
    wire_free(&env);
    return r;
}

static json_t *s_health(void)
{
    int status = 0;
    char *body = proc_health(s_st.http_port, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    return j;
}

static long s_count(json_t *h, const char *reason)
{
    json_t *v = json_object_get(json_object_get(h, "rejected"), reason);
    return v ? (long)json_integer_value(v) : (long)json_integer_value(json_object_get(h, reason));
}

static void test_good_agent_accepted(void **state)
{
    (void)state;
    void *d = s_dealer(&s_good);
    assert_int_equal(s_batch(d, "250401", 1, 11, 1, 1, NULL, 0), 1);
    zclient_close(d);
}

static void test_plaintext_and_unknown_keys_fail_handshake(void **state)
{
    (void)state;
    void *plain = s_dealer(NULL);
    assert_int_equal(s_batch(plain, "250401", 1, 12, 1, 1, NULL, 0), -1);
    zclient_close(plain);
    void *stranger = s_dealer(&s_stranger);
    assert_int_equal(s_batch(stranger, "250401", 1, 13, 1, 1, NULL, 0), -1);
    zclient_close(stranger);
    json_t *h = s_health();
    assert_true(json_integer_value(json_object_get(h, "handshake_denied")) >= 1);
    assert_true(json_integer_value(json_object_get(h, "handshake_failed")) >= 1);
    json_decref(h);
}

static void test_key_speaks_only_for_its_crossing(void **state)
{
    (void)state;
    void *d = s_dealer(&s_good);
    char err[200];
    assert_int_equal(s_batch(d, "300401", 2, 14, 1, 1, err, sizeof err), -2);
    assert_non_null(strstr(err, "250401/northbound"));
    zclient_close(d);
    json_t *h = s_health();
    assert_int_equal(s_count(h, "wrong_agent"), 1);
    json_decref(h);
}

static void test_revoked_key_after_sighup(void **state)
{
    (void)state;
    void *d = s_dealer(&s_other);
    assert_int_equal(s_batch(d, "300401", 2, 15, 1, 1, NULL, 0), 1);
    s_write_allowlist(false);
    assert_int_equal(kill(s_st.collector, SIGHUP), 0);
    usleep(1000 * 1000); /* the main loop reloads; slow under ThreadSanitizer */
    /* The open connection: its messages are refused now. */
    char err[200];
    assert_int_equal(s_batch(d, "300401", 2, 15, 2, 1, err, sizeof err), -2);
    assert_non_null(strstr(err, "not (or no longer) allowed"));
    zclient_close(d);
    /* A new connection fails at the handshake. */
    d = s_dealer(&s_other);
    assert_int_equal(s_batch(d, "300401", 2, 16, 1, 1, NULL, 0), -1);
    zclient_close(d);
    json_t *h = s_health();
    assert_int_equal(s_count(h, "unauthorized"), 1);
    json_decref(h);
}

static void test_oversized_garbage_and_flood(void **state)
{
    (void)state;
    /* Oversized: received whole below the hard limit, counted, dropped. */
    void *d = s_dealer(&s_good);
    size_t big = WIRE_MAX_FRAME + 4096;
    char *junk = calloc(1, big);
    zmq_send(d, junk, big, 0);
    free(junk);
    zmq_send(d, "\xff\xfe garbage", 10, 0);
    usleep(500 * 1000); /* linger is 0: let both go out before the close */
    zclient_close(d);
    /* Garbage on a good connection is counted, not fatal. */
    d = s_dealer(&s_good);
    zmq_send(d, "\x0a\x02garbage!", 10, 0);
    usleep(300 * 1000);
    /* A flood: 2000 samples/s with bursts of 20000 allowed. */
    long acked = 0, limited = 0;
    for (uint64_t seq = 1; seq <= 12; seq++) {
        long r = s_batch(d, "250401", 1, 20, seq, 4000, NULL, 0);
        if (r == (long)seq)
            acked++;
        else
            limited++;
        if (r != (long)seq)
            break;
    }
    assert_true(acked >= 4);
    assert_true(limited >= 1);
    zclient_close(d);
    json_t *h = s_health();
    assert_true(s_count(h, "rate_limited") >= 1);
    assert_true(s_count(h, "decode") >= 1);
    assert_int_equal(s_count(h, "oversized"), 1);
    assert_string_equal(json_string_value(json_object_get(h, "status")), "ok");
    json_decref(h);
    /* Operators see the same counters in Prometheus text. */
    int status = 0;
    char *metrics = proc_http_get(s_st.http_port, "/metrics", &status);
    assert_non_null(metrics);
    assert_int_equal(status, 200);
    assert_non_null(strstr(metrics, "poenet_rejected_total{reason=\"rate_limited\"} "));
    assert_non_null(strstr(metrics, "poenet_handshake_denied_total "));
    assert_null(strstr(metrics, "poenet_handshake_denied_total 0\n"));
    free(metrics);
    /* The good agent is still served. */
    d = s_dealer(&s_good);
    assert_int_equal(s_batch(d, "250401", 1, 21, 1, 1, NULL, 0), 1);
    zclient_close(d);
}

/* Ask the live feed for a snapshot; true when its END arrived. */
static bool s_snapshot_with(const curve_pair_t *key)
{
    void *req = zclient_dealer(s_ctx, s_snap, s_server.public_key, key, 1500);
    zmq_send(req, "SNAPSHOT wait.", 14, 0);
    bool end = false;
    char topic[64], body[8192];
    for (;;) {
        int n = zmq_recv(req, topic, sizeof topic - 1, 0);
        if (n < 0 || zmq_recv(req, body, sizeof body, 0) < 0)
            break;
        topic[n] = '\0';
        if (strcmp(topic, "END") == 0) {
            end = true;
            break;
        }
    }
    zclient_close(req);
    return end;
}

static void test_live_feed_needs_an_allowed_key(void **state)
{
    (void)state;
    assert_true(s_snapshot_with(&s_good));
    assert_false(s_snapshot_with(&s_stranger));
    assert_false(s_snapshot_with(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_agent_accepted),
        cmocka_unit_test(test_plaintext_and_unknown_keys_fail_handshake),
        cmocka_unit_test(test_key_speaks_only_for_its_crossing),
        cmocka_unit_test(test_revoked_key_after_sighup),
        cmocka_unit_test(test_oversized_garbage_and_flood),
        cmocka_unit_test(test_live_feed_needs_an_allowed_key),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
