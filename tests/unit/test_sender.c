/* test_sender — the delivery layer's fan-out without sockets: the spool
 * released at the minimum durable seq over two collectors, back-pressure
 * with hysteresis, and one rule for endpoint and key lists that the agent
 * and the forwarding collector share (both refuse the same lists). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "forward.h"
#include "proc.h"
#include "sender.h"

static char *s_dir;
static char s_spool[1024];
static int s_progress_calls;

static int s_setup(void **state)
{
    (void)state;
    s_dir = proc_tmpdir();
    snprintf(s_spool, sizeof s_spool, "%s/spool", s_dir ? s_dir : "");
    s_progress_calls = 0;
    return s_dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_dir);
    free(s_dir);
    return 0;
}

static void s_on_progress(void *arg)
{
    (void)arg;
    s_progress_calls++;
}

static sender_t *s_offline(const char *endpoints, const curve_pair_t *key, const char *keys)
{
    sender_opts_t o = { .endpoints = endpoints, .spool_dir = s_spool, .spool_mb = 1,
                        .spool_nosync = true, .window = 4, .crossing = "250401",
                        .key = key, .server_keys = keys, .on_progress = s_on_progress };
    return sender_new(NULL, NULL, &o);
}

/* 1 MB budget: 64 KiB segments; 10 KB batches fill one in about 6. */
static void s_append(sender_t *s, int n)
{
    static uint8_t batch[10000];
    for (int i = 0; i < n; i++)
        assert_int_equal(sender_append(s, batch, sizeof batch, 1000 + i), 0);
}

static void test_release_at_minimum_durable(void **state)
{
    (void)state;
    sender_t *s = s_offline("tcp://127.0.0.1:1,tcp://127.0.0.1:2", NULL, NULL);
    assert_non_null(s);
    assert_int_equal(sender_ncollectors(s), 2);
    s_append(s, 30);
    assert_int_equal(sender_last_seq(s), 30);
    /* Collector 0 has everything on disk, collector 1 only through 8. */
    outbox_ack(sender_outbox(s, 0), 30, 30, false, 0);
    outbox_ack(sender_outbox(s, 1), 20, 8, false, 0);
    sender_progress(s);
    assert_int_equal(s_progress_calls, 1);
    assert_int_equal(sender_min_durable(s), 8);
    assert_int_equal(sender_min_acked(s), 20);
    uint64_t first = sender_spool_first_seq(s);
    assert_true(first > 1);   /* whole segments at or below 8 went */
    assert_true(first <= 9);  /* nothing collector 1 still needs */
    assert_false(sender_all_durable(s));
    outbox_ack(sender_outbox(s, 1), 30, 30, false, 0);
    sender_progress(s);
    assert_true(sender_all_durable(s));
    assert_true(sender_spool_first_seq(s) > 20);
    sender_destroy(&s);
    assert_null(s);
}

static void test_congestion_has_hysteresis(void **state)
{
    (void)state;
    sender_t *s = s_offline("tcp://127.0.0.1:1,tcp://127.0.0.1:2", NULL, NULL);
    assert_non_null(s);
    s_append(s, 17);                       /* window 4: 17 > 4 windows behind */
    assert_true(sender_congested(s));
    outbox_ack(sender_outbox(s, 0), 17, 17, false, 0);
    outbox_ack(sender_outbox(s, 1), 6, 6, false, 0);
    assert_true(sender_congested(s));      /* 11 behind: still above 2 windows */
    outbox_ack(sender_outbox(s, 1), 9, 9, false, 0);
    assert_false(sender_congested(s));     /* 8 behind: resume */
    sender_destroy(&s);
}

static void test_endpoint_lists_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "", ",", "tcp://127.0.0.1:1,", ",tcp://127.0.0.1:1", "tcp://127.0.0.1:1,,tcp://127.0.0.1:2",
        "127.0.0.1:5555", "tcp://127.0.0.1:1,tcp://127.0.0.1:1",
        "tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3,tcp://127.0.0.1:4,"
        "tcp://127.0.0.1:5,tcp://127.0.0.1:6,tcp://127.0.0.1:7,tcp://127.0.0.1:8,tcp://127.0.0.1:9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sender_t *s = s_offline(bad[i], NULL, NULL);
        if (s)
            fail_msg("accepted endpoint list '%s'", bad[i]);
    }
    sender_t *s = s_offline("tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3,"
                            "tcp://127.0.0.1:4,tcp://127.0.0.1:5,tcp://127.0.0.1:6,"
                            "tcp://127.0.0.1:7,ipc:///tmp/poe-never-bound", NULL, NULL);
    assert_non_null(s);
    assert_int_equal(sender_ncollectors(s), SENDER_MAX_COLLECTORS);
    sender_destroy(&s);
}

/* This end's pair, two collector keys and the list "k1,k2". */
static void s_keys(curve_pair_t *me, char k1[41], char k2[41], char two[100])
{
    char sec[41];
    assert_int_equal(zmq_curve_keypair(me->public_key, me->secret_key), 0);
    assert_int_equal(zmq_curve_keypair(k1, sec), 0);
    assert_int_equal(zmq_curve_keypair(k2, sec), 0);
    snprintf(two, 100, "%s,%s", k1, k2);
}

static void test_key_lists(void **state)
{
    (void)state;
    curve_pair_t me;
    char k1[41], k2[41], two[100], three[140];
    s_keys(&me, k1, k2, two);
    snprintf(three, sizeof three, "%s,%s,%s", k1, k2, k1);
    const char *eps3 = "tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3";
    sender_t *s;
    assert_null(s = s_offline(eps3, &me, two));      /* 2 keys for 3 collectors */
    assert_null(s = s_offline(eps3, &me, NULL));     /* a pair and no server key */
    assert_null(s = s_offline(eps3, NULL, k1));      /* server keys and no pair */
    assert_null(s = s_offline(eps3, &me, "not-a-key"));
    assert_non_null(s = s_offline(eps3, &me, k1));   /* one key for all */
    sender_destroy(&s);
    assert_non_null(s = s_offline(eps3, &me, three)); /* two collectors may share a key */
    sender_destroy(&s);
    assert_non_null(s = s_offline("tcp://127.0.0.1:1,tcp://127.0.0.1:2", &me, two));
    sender_destroy(&s);
}

/* The forwarder applies the same rule when it starts: a list the agent
 * refuses stops the collector's start too (it once kept the first 4 and
 * fell back to key 0). */
static void test_forwarder_shares_the_rule(void **state)
{
    (void)state;
    curve_pair_t me;
    char k1[41], k2[41], two[100];
    s_keys(&me, k1, k2, two);
    const char *nine = "tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3,tcp://127.0.0.1:4,"
                       "tcp://127.0.0.1:5,tcp://127.0.0.1:6,tcp://127.0.0.1:7,tcp://127.0.0.1:8,"
                       "tcp://127.0.0.1:9";
    forward_opts_t bad[] = {
        { .upstreams = nine, .spool_dir = s_dir },
        { .upstreams = "tcp://127.0.0.1:1,,tcp://127.0.0.1:2", .spool_dir = s_dir },
        { .upstreams = "tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3",
          .spool_dir = s_dir, .key = &me, .upstream_keys = two },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        forward_t *f = forward_new(NULL, NULL, &bad[i]);
        assert_null(f);
        sender_t *s = s_offline(bad[i].upstreams, bad[i].key, bad[i].upstream_keys);
        assert_null(s);
    }
    forward_opts_t good = { .upstreams = "tcp://127.0.0.1:1,tcp://127.0.0.1:2",
                            .spool_dir = s_dir, .key = &me, .upstream_keys = two };
    forward_t *f = forward_new(NULL, NULL, &good);
    assert_non_null(f);
    forward_destroy(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_release_at_minimum_durable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_congestion_has_hysteresis, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_lists_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_key_lists, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_forwarder_shares_the_rule, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
