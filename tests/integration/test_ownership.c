/* test_ownership — the national collector's bad input from regions, over
 * real sockets on loopback: a national collector whose allowlist says
 * which region owns which crossing, a real regional collector (r2)
 * forwarding to it, and raw DEALERs with the regions' keys.
 *
 * - r2 forwards a crossing r1 owns: the national refuses every batch
 *   (not_owner, "region r2 does not own crossing 070801 (region r1 does)"),
 *   counts it in /health and /metrics, and acknowledges with the reason,
 *   so r2's relay moves on and counts upstream_refused{not_owner}; the
 *   crossing r2 owns goes through meanwhile.
 * - The same series from two regions: the owner's copy is taken, the
 *   second one refused (second_source, acknowledged); without a declared
 *   owner, the first sender keeps the series against a second, which is
 *   refused without delivery (it keeps its data).
 * - A region whose clock is minutes ahead: the clock-from-the-future rule
 *   applies to a region like to an agent (future, in the Ack with the
 *   national's clock), and the region's other series carry on.
 * - A region's key revoked (allowlist edit + SIGHUP): its messages on the
 *   open connection are refused (unauthorized), a new handshake is denied
 *   and counted, and the other region carries on. */
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

#define R1_OWNS "070801"
#define R2_OWNS "300401"
#define NOBODYS "300402"

static teststack_t s_nat, s_r2;
static void *s_ctx;
static char s_keys[600], s_nat_allow[700], s_r2_allow[700], s_nat_secret[700], s_r2_secret[700];
static char s_up[80], s_up_key[700];
static curve_pair_t s_nat_key, s_r1, s_r2_key, s_r3, s_r4, s_agent_a, s_agent_b;

static void s_key(const char *name, curve_pair_t *out)
{
    assert_int_equal(zclient_keypair(s_keys, name, out), 0);
}

/* The national allowlist: r1 and r2 own a crossing each; r3 and r4 are
 * regions without a list (they forward for any crossing nobody owns). */
static int s_write_nat_allow(bool with_r2)
{
    FILE *f = fopen(s_nat_allow, "w");
    if (!f)
        return -1;
    fprintf(f, "agents = (\n"
               "  { key = \"%s\"; name = \"r1\"; crossings = [ \"" R1_OWNS "\" ]; },\n",
            s_r1.public_key);
    if (with_r2)
        fprintf(f, "  { key = \"%s\"; name = \"r2\"; crossings = [ \"" R2_OWNS "\" ]; },\n",
                s_r2_key.public_key);
    fprintf(f, "  { key = \"%s\"; crossing = \"*\"; direction = \"*\"; name = \"r3\"; },\n"
               "  { key = \"%s\"; crossing = \"*\"; direction = \"*\"; name = \"r4\"; }\n);\n",
            s_r3.public_key, s_r4.public_key);
    fclose(f);
    return 0;
}

static int s_setup(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    snprintf(s_keys, sizeof s_keys, "%s", dir);
    free(dir);
    s_key("national", &s_nat_key);
    s_key("r1", &s_r1);
    s_key("r2", &s_r2_key);
    s_key("r3", &s_r3);
    s_key("r4", &s_r4);
    s_key("agent-a", &s_agent_a);
    s_key("agent-b", &s_agent_b);
    snprintf(s_nat_allow, sizeof s_nat_allow, "%s/national-allow.conf", s_keys);
    snprintf(s_r2_allow, sizeof s_r2_allow, "%s/r2-allow.conf", s_keys);
    snprintf(s_nat_secret, sizeof s_nat_secret, "%s/national.secret", s_keys);
    snprintf(s_r2_secret, sizeof s_r2_secret, "%s/r2.secret", s_keys);
    snprintf(s_up_key, sizeof s_up_key, "%s/national.pub", s_keys);
    if (s_write_nat_allow(true) != 0)
        return -1;
    /* r2's own agents: one of a crossing r1 owns (misplaced), one of its own. */
    FILE *f = fopen(s_r2_allow, "w");
    if (!f)
        return -1;
    fprintf(f, "agents = (\n"
               "  { key = \"%s\"; crossing = \"" R1_OWNS "\"; direction = \"northbound\"; },\n"
               "  { key = \"%s\"; crossing = \"" R2_OWNS "\"; direction = \"northbound\"; }\n);\n",
            s_agent_a.public_key, s_agent_b.public_key);
    fclose(f);
    static const char *nat[] = { "--curve-secret", s_nat_secret, "--agent-keys", s_nat_allow,
                                 NULL };
    if (stack_start_args(&s_nat, 0, nat) != 0)
        return -1;
    snprintf(s_up, sizeof s_up, "%s", s_nat.endpoint);
    static const char *r2[] = { "--curve-secret", s_r2_secret, "--agent-keys", s_r2_allow,
                                "--upstream", s_up, "--upstream-key", s_up_key, NULL };
    if (stack_start_args(&s_r2, 1, r2) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    zclient_close_all();
    zmq_ctx_term(s_ctx);
    int rc = stack_stop(&s_r2);
    rc |= stack_stop(&s_nat);
    proc_rm_rf(s_keys);
    return rc;
}

static void *s_dealer(const teststack_t *st, const char *server_pub, const curve_pair_t *key)
{
    return zclient_dealer(s_ctx, st->endpoint, server_pub, key, 3000);
}

/* A counter of /health ("rejected" reasons included); -1 when absent. */
static long s_count(const teststack_t *st, const char *name)
{
    int status = 0;
    char *body = proc_health(st->http_port, &status);
    json_t *h = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    assert_non_null(h);
    json_t *v = json_object_get(h, name);
    if (!v)
        v = json_object_get(json_object_get(h, "rejected"), name);
    long n = v ? (long)json_integer_value(v) : -1;
    json_decref(h);
    return n;
}

/* A sample of /metrics by its full name with labels; -1 when absent. */
static double s_metric(const teststack_t *st, const char *sample)
{
    int status = 0;
    char *text = proc_http_get(st->http_port, "/metrics", &status);
    char want[200];
    snprintf(want, sizeof want, "\n%s ", sample);
    const char *p = text ? strstr(text, want) : NULL;
    double v = p ? atof(p + strlen(want)) : -1;
    free(text);
    return v;
}

/* How many times needle is in the collector's log. */
static int s_log_count(const teststack_t *st, const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", st->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    int k = 0;
    for (const char *p = strstr(buf, needle); p; p = strstr(p + 1, needle))
        k++;
    return k;
}

static bool s_log_has(const teststack_t *st, const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", st->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* Send one batch of n queue samples ending at t0, t0 + 5 s, ... and return
 * the reply (NULL when none came within the dealer's timeout). */
static Poenet__Envelope *s_send(void *d, const char *crossing, uint64_t epoch, uint64_t seq,
                                int64_t t0, int n)
{
    wire_batch_t *b = wire_batch_new(crossing, 1, epoch, 5000);
    for (int i = 0; i < n; i++) {
        wire_queue_sample_t q = { .t_end_ms = t0 + 5000LL * i, .mode = 1, .type = 1,
                                  .arrivals = 2, .departures = 1, .lanes_open = 3 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, seq, 0, &len);
    wire_batch_destroy(&b);
    int sent = zmq_send(d, buf, len, 0);
    free(buf);
    if (sent != (int)len)
        return NULL;
    uint8_t reply[4096];
    int got = zmq_recv(d, reply, sizeof reply, 0);
    if (got <= 0)
        return NULL;
    Poenet__Envelope *env;
    char why[200];
    if (wire_decode(reply, (size_t)got, &env, why, sizeof why) != 0)
        return NULL;
    return env;
}

/* A recent, aligned sample end: n intervals back. */
static int64_t s_recent(int back)
{
    return (tu_now_ms() / 5000 - back) * 5000;
}

/* The reply acknowledges seq and refused every one of n samples for reason
 * (NULL: nothing refused). */
static void s_assert_ack(Poenet__Envelope *env, uint64_t seq, const char *reason, int n)
{
    assert_non_null(env);
    assert_int_equal(env->body_case, POENET__ENVELOPE__BODY_ACK);
    assert_true(env->ack->has_durable_seq); /* a delivery answer, not a refusal of the key */
    assert_int_equal(env->ack->acked_seq, seq);
    wire_refusals_t r;
    wire_refusals_from_ack(env->ack, &r);
    if (!reason) {
        assert_int_equal(r.n, 0);
    } else {
        assert_int_equal(r.n, 1);
        assert_string_equal(r.v[0].reason, reason);
        assert_int_equal(r.v[0].samples, n);
        assert_int_equal(r.seq, seq);
    }
    wire_free(&env);
}

/* Poll (bounded) until a /health counter reaches at least want. */
static long s_wait_count(const teststack_t *st, const char *name, long want)
{
    long v = s_count(st, name);
    for (int i = 0; i < 300 && v < want; i++) {
        usleep(100 * 1000);
        v = s_count(st, name);
    }
    return v;
}

/* Has the national collector data for crossing's northbound passenger queue? */
static bool s_has_data(const char *crossing)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/crossings/%s", crossing);
    int status = 0;
    char *body = proc_http_get(s_nat.http_port, path, &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    bool data = false;
    size_t i, k;
    json_t *d, *q;
    json_t *dirs = json_object_get(json_array_get(json_object_get(j, "crossings"), 0), "directions");
    json_array_foreach(dirs, i, d) {
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            json_t *u = json_object_get(q, "updated");
            data = data || (u && !json_is_null(u));
        }
    }
    json_decref(j);
    return data;
}

static void test_region_forwards_a_crossing_it_does_not_own(void **state)
{
    (void)state;
    long not_owner0 = s_count(&s_nat, "not_owner");
    assert_true(not_owner0 >= 0);
    /* r2's agents: the misplaced one and r2's own; r2 takes both. */
    void *a = s_dealer(&s_r2, s_r2_key.public_key, &s_agent_a);
    void *b = s_dealer(&s_r2, s_r2_key.public_key, &s_agent_b);
    s_assert_ack(s_send(a, R1_OWNS, 11, 1, s_recent(8), 4), 1, NULL, 0);
    s_assert_ack(s_send(b, R2_OWNS, 12, 1, s_recent(8), 4), 1, NULL, 0);
    /* The national refuses the first, counts it, takes the second. */
    assert_true(s_wait_count(&s_nat, "not_owner", not_owner0 + 1) >= not_owner0 + 1);
    for (int i = 0; i < 300 && !s_has_data(R2_OWNS); i++)
        usleep(100 * 1000);
    assert_true(s_has_data(R2_OWNS));
    assert_false(s_has_data(R1_OWNS));
    assert_true(s_metric(&s_nat, "poenet_rejected_total{reason=\"not_owner\"}") >= 1);
    assert_true(s_log_has(&s_nat, "region r2 does not own crossing " R1_OWNS " (region r1 does)"));
    /* The refusal came back in the ack: r2's relay counts and logs it. */
    double up = -1;
    for (int i = 0; i < 300 && up < 4; i++) {
        usleep(100 * 1000);
        up = s_metric(&s_r2, "poenet_upstream_refused_samples_total{reason=\"not_owner\"}");
    }
    assert_true(up >= 4);
    assert_true(s_log_has(&s_r2, "not_owner 4"));
    zclient_close(a);
    zclient_close(b);
}

static void test_same_series_from_two_regions(void **state)
{
    (void)state;
    void *r1 = s_dealer(&s_nat, s_nat_key.public_key, &s_r1);
    void *r2 = s_dealer(&s_nat, s_nat_key.public_key, &s_r2_key);
    long second0 = s_count(&s_nat, "second_source");
    /* The owner feeds 070801/northbound; r2's copy of it is the second. */
    s_assert_ack(s_send(r1, R1_OWNS, 21, 1, s_recent(6), 2), 1, NULL, 0);
    s_assert_ack(s_send(r2, R1_OWNS, 22, 1, s_recent(6), 2), 1, "second_source", 2);
    s_assert_ack(s_send(r1, R1_OWNS, 21, 2, s_recent(4), 2), 2, NULL, 0);
    assert_int_equal(s_count(&s_nat, "second_source"), second0 + 1);
    assert_true(s_log_has(&s_nat, "series " R1_OWNS "/northbound already comes from region r1, "
                                  "its owner: the copy of region r2 refused"));
    /* Nobody owns 300402: its first sender (r3) keeps it against r4, whose
     * batch is refused without delivery (r4 keeps it: the claim is a
     * guess, r4 may be r3's next key). */
    void *r3 = s_dealer(&s_nat, s_nat_key.public_key, &s_r3);
    void *r4 = s_dealer(&s_nat, s_nat_key.public_key, &s_r4);
    s_assert_ack(s_send(r3, NOBODYS, 31, 1, s_recent(6), 3), 1, NULL, 0);
    Poenet__Envelope *env = s_send(r4, NOBODYS, 32, 1, s_recent(6), 3);
    assert_non_null(env);
    assert_false(env->ack->has_durable_seq);
    assert_non_null(strstr(env->ack->error, "already comes from region r3"));
    wire_free(&env);
    s_assert_ack(s_send(r3, NOBODYS, 31, 2, s_recent(4), 3), 2, NULL, 0);
    assert_int_equal(s_count(&s_nat, "second_source"), second0 + 2);
    /* r1 owns only what it lists: 300402 is not its own. */
    s_assert_ack(s_send(r1, NOBODYS, 21, 3, s_recent(4), 1), 3, "not_owner", 1);
    assert_true(s_metric(&s_nat, "poenet_rejected_total{reason=\"second_source\"}") >= 2);
    zclient_close(r1);
    zclient_close(r2);
    zclient_close(r3);
    zclient_close(r4);
}

/* An epoch above that of r2's running relay for the same series (relays
 * take microseconds of the clock): a raw sender speaking for r2 starts the
 * session anew instead of being an older run of it. */
static uint64_t s_new_epoch(void)
{
    return (uint64_t)tu_now_ms() * 1000 + 999;
}

static void test_region_clock_minutes_ahead(void **state)
{
    (void)state;
    uint64_t ep = s_new_epoch();
    void *r2 = s_dealer(&s_nat, s_nat_key.public_key, &s_r2_key);
    long future0 = s_count(&s_nat, "future");
    int64_t ahead = s_recent(0) + 5 * 60000; /* the region's clock: 5 minutes ahead */
    Poenet__Envelope *env = s_send(r2, R2_OWNS, ep, 1, ahead, 4);
    assert_non_null(env);
    wire_refusals_t r;
    wire_refusals_from_ack(env->ack, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].reason, "future");
    assert_int_equal(r.v[0].first_t_end_ms, (uint64_t)ahead);
    /* The national's clock travels with it: the region can tell its offset. */
    int64_t off_s = ((int64_t)r.v[0].first_t_end_ms - r.collector_ms) / 1000;
    assert_true(off_s > 240 && off_s < 330);
    s_assert_ack(env, 1, "future", 4);
    assert_int_equal(s_count(&s_nat, "future"), future0 + 4);
    /* Its samples on time, and another region, carry on. */
    s_assert_ack(s_send(r2, R2_OWNS, ep, 2, s_recent(2), 1), 2, NULL, 0);
    void *r1 = s_dealer(&s_nat, s_nat_key.public_key, &s_r1);
    s_assert_ack(s_send(r1, R1_OWNS, 21, 3, s_recent(2), 1), 3, NULL, 0);
    zclient_close(r1);
    zclient_close(r2);
}

static void test_revoked_region_key(void **state)
{
    (void)state;
    uint64_t ep = s_new_epoch();
    void *open_r2 = s_dealer(&s_nat, s_nat_key.public_key, &s_r2_key);
    s_assert_ack(s_send(open_r2, R2_OWNS, ep, 1, s_recent(3), 1), 1, NULL, 0);
    long denied0 = s_count(&s_nat, "handshake_denied");
    long unauth0 = s_count(&s_nat, "unauthorized");
    assert_int_equal(s_write_nat_allow(false), 0);
    assert_int_equal(kill(s_nat.collector, SIGHUP), 0);
    /* The open connection: refused (no delivery), counted. */
    Poenet__Envelope *env = NULL;
    for (int i = 0; i < 50; i++) {
        env = s_send(open_r2, R2_OWNS, ep, 2, s_recent(2), 1);
        if (env && !env->ack->has_durable_seq)
            break;
        if (env)
            wire_free(&env); /* the reload had not happened yet */
        usleep(100 * 1000);
    }
    assert_non_null(env);
    assert_false(env->ack->has_durable_seq);
    assert_non_null(strstr(env->ack->error, "not (or no longer) allowed"));
    wire_free(&env);
    assert_true(s_count(&s_nat, "unauthorized") > unauth0);
    /* A new connection: the handshake is denied and counted. */
    void *new_r2 = s_dealer(&s_nat, s_nat_key.public_key, &s_r2_key);
    assert_null(s_send(new_r2, R2_OWNS, ep, 3, s_recent(2), 1));
    assert_true(s_wait_count(&s_nat, "handshake_denied", denied0 + 1) >= denied0 + 1);
    /* r1 carries on. */
    void *r1 = s_dealer(&s_nat, s_nat_key.public_key, &s_r1);
    s_assert_ack(s_send(r1, R1_OWNS, 21, 4, s_recent(1), 1), 4, NULL, 0);
    /* r2's collector hears it on its relays' open connections (their
     * heartbeats): said once per relay, not once per refused message. */
    const char *said = "refuses this sender: key";
    for (int i = 0; i < 100 && s_log_count(&s_r2, said) == 0; i++)
        usleep(100 * 1000);
    assert_true(s_log_count(&s_r2, said) >= 1);
    sleep(4);
    assert_true(s_log_count(&s_r2, said) <= 2); /* its two relays */
    zclient_close(r1);
    zclient_close(new_r2);
    zclient_close(open_r2);
    /* Allowed again (the stack's last test; its relay resumes). */
    assert_int_equal(s_write_nat_allow(true), 0);
    assert_int_equal(kill(s_nat.collector, SIGHUP), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_forwards_a_crossing_it_does_not_own),
        cmocka_unit_test(test_same_series_from_two_regions),
        cmocka_unit_test(test_region_clock_minutes_ahead),
        cmocka_unit_test(test_revoked_region_key),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
