/* test_refusal — what a collector refuses is never silent, over real
 * sockets against real collectors.
 *
 * - An agent whose clock is a day ahead (a replay stamped tomorrow): the
 *   collector refuses every sample, its Ack says so (reason, count, the
 *   earliest refused time, its clock), the agent raises a clock ALARM with
 *   the offset and exits 4 from the replay, and nothing counts as accepted
 *   (`batches_refused`, per-agent refused samples in /metrics).
 * - A 10 MiB frame: counted as `oversized` and logged with its peer; the
 *   collector keeps serving.
 * - With CURVE: one plaintext client retrying for 3 s moves
 *   `handshake_failed` by one peer (the attempts counter by its retries),
 *   and a key the allowlist refuses moves `handshake_denied` by one and
 *   `handshake_failed` not at all.
 * - A forwarding collector whose upstream refuses what it forwards logs it
 *   and counts it by reason in /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "proc.h"
#include "replay.h"
#include "stack.h"
#include "timeutil.h"
#include "wire.h"
#include "zclient.h"

#define DAY_MS 86400000LL

static teststack_t s_plain, s_curve, s_region;
static void *s_ctx;
static char s_keys[600], s_allow[700], s_server_secret[700];
static curve_pair_t s_server, s_good, s_stranger;
static rp_expect_t s_expect;

static void s_key(const char *name, curve_pair_t *out)
{
    assert_int_equal(zclient_keypair(s_keys, name, out), 0);
}

static int s_setup(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    snprintf(s_keys, sizeof s_keys, "%s", dir);
    free(dir);
    s_key("collector", &s_server);
    s_key("good", &s_good);
    s_key("stranger", &s_stranger);
    snprintf(s_allow, sizeof s_allow, "%s/agents.conf", s_keys);
    snprintf(s_server_secret, sizeof s_server_secret, "%s/collector.secret", s_keys);
    FILE *f = fopen(s_allow, "w");
    if (!f)
        return -1;
    fprintf(f, "agents = ( { key = \"%s\"; crossing = \"250401\"; direction = \"northbound\"; } );\n",
            s_good.public_key);
    fclose(f);
    if (stack_start_n(&s_plain, 0, NULL) != 0)
        return -1;
    static const char *extra[] = { "--curve-secret", s_server_secret, "--agent-keys", s_allow,
                                   NULL };
    if (stack_start_args(&s_curve, 1, extra) != 0)
        return -1;
    /* A regional collector that takes samples up to two days ahead and
     * forwards to s_plain, which takes 30 s: the upstream refuses. */
    static char up[80];
    snprintf(up, sizeof up, "%s", s_plain.endpoint);
    static const char *region[] = { "--upstream", up, "--max-skew", "172800", NULL };
    if (stack_start_args(&s_region, 2, region) != 0)
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
    int rc = stack_stop(&s_curve);
    rc |= stack_stop(&s_region);
    return stack_stop(&s_plain) | rc;
}

static void *s_dealer(const teststack_t *st, const curve_pair_t *key)
{
    return zclient_dealer(s_ctx, st->endpoint, s_server.public_key, key, 2000);
}

static json_t *s_health(const teststack_t *st)
{
    int status = 0;
    char *body = proc_health(st->http_port, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    return j;
}

/* A top-level counter of /health, or one of its "rejected" reasons. */
static long s_count(const teststack_t *st, const char *name)
{
    json_t *h = s_health(st);
    json_t *v = json_object_get(h, name);
    if (!v)
        v = json_object_get(json_object_get(h, "rejected"), name);
    assert_non_null(v);
    long n = (long)json_integer_value(v);
    json_decref(h);
    return n;
}

static char *s_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The Ack of a batch stamped a day ahead names what was refused. */
static void test_ack_names_refusals(void **state)
{
    (void)state;
    void *d = s_dealer(&s_plain, NULL);
    wire_batch_t *b = wire_batch_new("250401", 1, 77, 5000);
    int64_t t0 = (tu_now_ms() / 5000) * 5000 + DAY_MS;
    for (int i = 0; i < 5; i++) {
        wire_queue_sample_t q = { .t_end_ms = t0 + 5000LL * i, .mode = 1, .type = 1,
                                  .arrivals = 2, .departures = 1, .lanes_open = 3 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, 1, 0, &len);
    wire_batch_destroy(&b);
    assert_int_equal(zmq_send(d, buf, len, 0), (int)len);
    free(buf);
    uint8_t reply[4096];
    int n = zmq_recv(d, reply, sizeof reply, 0);
    assert_true(n > 0);
    Poenet__Envelope *env;
    char why[200];
    assert_int_equal(wire_decode(reply, (size_t)n, &env, why, sizeof why), 0);
    assert_int_equal(env->body_case, POENET__ENVELOPE__BODY_ACK);
    /* Delivered (acked), and the refusal travels with it. */
    assert_int_equal(env->ack->acked_seq, 1);
    wire_refusals_t r;
    wire_refusals_from_ack(env->ack, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].reason, "future");
    assert_int_equal(r.v[0].samples, 5);
    assert_int_equal(r.v[0].first_t_end_ms, (uint64_t)t0);
    assert_int_equal(r.seq, 1);
    int64_t now = tu_now_ms();
    assert_true(r.collector_ms > now - 10000 && r.collector_ms <= now + 1000);
    wire_free(&env);
    zclient_close(d);
}

/* A whole replay stamped tomorrow: refused, said, alarmed, exit 4. */
static void test_agent_clock_a_day_ahead(void **state)
{
    (void)state;
    char events[600], log[600], spool[600], agent[1024];
    snprintf(events, sizeof events, "%s/tomorrow.txt", s_plain.dir);
    snprintf(log, sizeof log, "%s/agent-ahead.log", s_plain.dir);
    snprintf(spool, sizeof spool, "%s/spool-ahead", s_plain.dir);
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_plain, "poe-agent"));
    int64_t t0_s = (tu_now_ms() + DAY_MS) / 60000 * 60;
    assert_int_equal(rp_generate(events, 7, t0_s, 10, 3000, &s_expect), 0);
    long accepted_before = s_count(&s_plain, "samples_accepted");
    long batches_before = s_count(&s_plain, "batches_accepted");
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", s_plain.endpoint, "--replay", events, "--speed", "0",
                           "--spool", spool, "--spool-nosync", NULL };
    pid_t pid = proc_spawn(argv, log);
    assert_true(pid > 0);
    int status = -1;
    if (proc_wait_exit(pid, 60000, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not finish within 60 s (log %s)", log);
    }
    const char *text = s_file(log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 4)
        fprintf(stderr, "%s", text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 4);
    /* The links' line, the ALARM naming the clock and its offset. */
    assert_non_null(strstr(text, "refused"));
    assert_non_null(strstr(text, "future"));
    assert_non_null(strstr(text, "ALARM clock trouble"));
    const char *ahead = strstr(text, "samples are stamped ");
    assert_non_null(ahead);
    long off_s = strtol(ahead + strlen("samples are stamped "), NULL, 10);
    assert_true(off_s > 86400 - 600 && off_s < 86400 + 900);
    assert_non_null(strstr(text, "replay incomplete"));
    /* Nothing counted as accepted; refusals counted for this agent. */
    assert_int_equal(s_count(&s_plain, "samples_accepted"), accepted_before);
    assert_int_equal(s_count(&s_plain, "batches_accepted"), batches_before);
    assert_true(s_count(&s_plain, "batches_refused") >= 1);
    assert_true(s_count(&s_plain, "future") >= 100);
    int st = 0;
    char *m = proc_http_get(s_plain.http_port, "/metrics", &st);
    assert_non_null(m);
    const char *want = "poenet_agent_refused_samples_total{crossing=\"250401\","
                       "direction=\"northbound\",reason=\"future\"} ";
    const char *line = strstr(m, want);
    assert_non_null(line);
    assert_true(strtol(line + strlen(want), NULL, 10) >= 100);
    free(m);
}

/* 10 MiB in one frame: counted, logged with the peer, and served after. */
static void test_oversized_frame_counted(void **state)
{
    (void)state;
    long before = s_count(&s_plain, "oversized");
    void *d = s_dealer(&s_plain, NULL);
    size_t big = 10u << 20;
    char *junk = calloc(1, big);
    assert_non_null(junk);
    assert_int_equal(zmq_send(d, junk, big, 0), (int)big);
    free(junk);
    long now = before;
    for (int i = 0; i < 50 && now == before; i++) {
        usleep(100 * 1000);
        now = s_count(&s_plain, "oversized");
    }
    assert_int_equal(now, before + 1);
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", s_plain.dir);
    const char *text = s_file(path);
    assert_non_null(strstr(text, "peer 127.0.0.1: rejected (oversized): frame of 10485760 bytes"));
    /* The same connection is still served. */
    wire_batch_t *b = wire_batch_new("250401", 2, 88, 5000);
    wire_queue_sample_t q = { .t_end_ms = (tu_now_ms() / 5000 - 2) * 5000, .mode = 1, .type = 1,
                              .arrivals = 1, .departures = 1, .lanes_open = 2 };
    wire_batch_add_queue(b, &q);
    size_t len;
    uint8_t *buf = wire_batch_pack(b, 1, 0, &len);
    wire_batch_destroy(&b);
    zmq_send(d, buf, len, 0);
    free(buf);
    uint8_t reply[4096];
    int n = zmq_recv(d, reply, sizeof reply, 0);
    assert_true(n > 0);
    Poenet__Envelope *env;
    char why[200];
    assert_int_equal(wire_decode(reply, (size_t)n, &env, why, sizeof why), 0);
    assert_int_equal(env->ack->acked_seq, 1);
    assert_int_equal(env->ack->n_refused, 0);
    wire_free(&env);
    zclient_close(d);
}

/* A client knocking for 3 s (libzmq retries by itself; `sockets` new
 * sockets one after the other on top): how the counters moved. */
static void s_knock(const curve_pair_t *key, int sockets, long *denied, long *failed,
                    long *attempts)
{
    long d0 = s_count(&s_curve, "handshake_denied"), f0 = s_count(&s_curve, "handshake_failed");
    long a0 = s_count(&s_curve, "handshake_attempts_failed");
    for (int i = 0; i < sockets; i++) {
        void *d = s_dealer(&s_curve, key);
        zmq_send(d, "hello", 5, ZMQ_DONTWAIT);
        usleep(3000 * 1000 / (useconds_t)sockets);
        zclient_close(d);
    }
    usleep(500 * 1000); /* the monitor's last events */
    *denied = s_count(&s_curve, "handshake_denied") - d0;
    *failed = s_count(&s_curve, "handshake_failed") - f0;
    *attempts = s_count(&s_curve, "handshake_attempts_failed") - a0;
}

static void test_plaintext_client_counts_once(void **state)
{
    (void)state;
    long denied, failed, attempts;
    /* libzmq retries by itself (1 to 3 times in 3 s here, fewer under
     * ASan); three sockets of the same client make sure of several. */
    s_knock(NULL, 3, &denied, &failed, &attempts);
    assert_true(attempts >= 3);
    assert_int_equal(failed, 1);
    assert_int_equal(denied, 0);
}

static void test_denied_key_counts_once(void **state)
{
    (void)state;
    long denied, failed, attempts;
    /* libzmq 4.3 does not retry after a ZAP refusal: three sockets of the
     * same key knock instead. */
    s_knock(&s_stranger, 3, &denied, &failed, &attempts);
    assert_true(attempts >= 3);
    assert_int_equal(denied, 1);
    assert_int_equal(failed, 0);
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", s_curve.dir);
    const char *text = s_file(path);
    assert_non_null(strstr(text, s_stranger.public_key));
    /* The good key is still served. */
    void *d = s_dealer(&s_curve, &s_good);
    wire_batch_t *b = wire_batch_new("250401", 1, 99, 5000);
    wire_queue_sample_t q = { .t_end_ms = (tu_now_ms() / 5000 - 2) * 5000, .mode = 1, .type = 1,
                              .arrivals = 1, .departures = 1, .lanes_open = 2 };
    wire_batch_add_queue(b, &q);
    size_t len;
    uint8_t *buf = wire_batch_pack(b, 1, 0, &len);
    wire_batch_destroy(&b);
    zmq_send(d, buf, len, 0);
    free(buf);
    uint8_t reply[4096];
    assert_true(zmq_recv(d, reply, sizeof reply, 0) > 0);
    zclient_close(d);
}

/* The forwarder is a sender too: its upstream's refusals are said. */
static void test_forwarder_learns_upstream_refusals(void **state)
{
    (void)state;
    void *d = s_dealer(&s_region, NULL);
    wire_batch_t *b = wire_batch_new("250401", 2, 55, 5000);
    int64_t t0 = (tu_now_ms() / 5000) * 5000 + DAY_MS;
    for (int i = 0; i < 4; i++) {
        wire_queue_sample_t q = { .t_end_ms = t0 + 5000LL * i, .mode = 1, .type = 1,
                                  .arrivals = 2, .departures = 1, .lanes_open = 3 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, 1, 0, &len);
    wire_batch_destroy(&b);
    zmq_send(d, buf, len, 0);
    free(buf);
    uint8_t reply[4096];
    assert_true(zmq_recv(d, reply, sizeof reply, 0) > 0); /* the region takes them */
    zclient_close(d);
    const char *want = "poenet_upstream_refused_samples_total{reason=\"future\"} ";
    long n = 0;
    for (int i = 0; i < 100 && n < 4; i++) {
        usleep(100 * 1000);
        int st = 0;
        char *m = proc_http_get(s_region.http_port, "/metrics", &st);
        assert_non_null(m);
        const char *line = strstr(m, want);
        assert_non_null(line);
        n = strtol(line + strlen(want), NULL, 10);
        free(m);
    }
    assert_int_equal(n, 4);
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", s_region.dir);
    const char *text = s_file(path);
    assert_non_null(strstr(text, "(stream 250401/southbound) refused 4 sample(s): future 4"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ack_names_refusals),
        cmocka_unit_test(test_agent_clock_a_day_ahead),
        cmocka_unit_test(test_oversized_frame_counted),
        cmocka_unit_test(test_plaintext_client_counts_once),
        cmocka_unit_test(test_denied_key_counts_once),
        cmocka_unit_test(test_forwarder_learns_upstream_refusals),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
