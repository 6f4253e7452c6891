/* test_peerwatch — peers, not retries: episodes of attempts, reminders,
 * forgetting, the adoption of an unknown address, and the FIFO that ties a
 * handshake outcome to its connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "peerwatch.h"

#define W 60000

static void test_retries_are_one_episode(void **state)
{
    (void)state;
    peerwatch_t *p = peerwatch_new(W);
    uint64_t n = 0;
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", 1000, &n), PEERWATCH_NEW);
    assert_int_equal(n, 1);
    /* libzmq retrying every 100 ms for 3 s: quiet. */
    for (int i = 1; i <= 30; i++)
        assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", 1000 + 100 * i, &n), PEERWATCH_QUIET);
    assert_int_equal(n, 31);
    /* Another peer is another episode. */
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.2", 2000, NULL), PEERWATCH_NEW);
    /* Still retrying a window after the first line: one reminder. */
    for (int64_t t = 4100; t < 1000 + W; t += 1000)
        assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", t, NULL), PEERWATCH_QUIET);
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", 1000 + W, NULL), PEERWATCH_REMIND);
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", 1500 + W, NULL), PEERWATCH_QUIET);
    /* Quiet for longer than the window: the next attempt is a new episode. */
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.1", 1500 + 2 * W + 1, &n), PEERWATCH_NEW);
    assert_int_equal(n, 1);
    peerwatch_destroy(&p);
    assert_null(p);
}

static void test_full_table_forgets_the_stalest(void **state)
{
    (void)state;
    peerwatch_t *p = peerwatch_new(W);
    char who[32];
    for (int i = 0; i < PEERWATCH_EPISODES; i++) {
        snprintf(who, sizeof who, "k%d", i);
        assert_int_equal(peerwatch_seen(p, who, 1000 + i, NULL), PEERWATCH_NEW);
    }
    /* One more: k0 (heard from longest ago) makes room. */
    assert_int_equal(peerwatch_seen(p, "new", 5000, NULL), PEERWATCH_NEW);
    assert_int_equal(peerwatch_seen(p, "k1", 5001, NULL), PEERWATCH_QUIET);
    assert_int_equal(peerwatch_seen(p, "k0", 5002, NULL), PEERWATCH_NEW);
    peerwatch_destroy(&p);
}

static void test_unknown_address_adopted(void **state)
{
    (void)state;
    peerwatch_t *p = peerwatch_new(W);
    char who[PEERWATCH_WHO_MAX];
    assert_false(peerwatch_latest(p, "failed ", 1000, who, sizeof who));
    assert_int_equal(peerwatch_seen(p, "failed ?", 1000, NULL), PEERWATCH_NEW);
    /* The first real address takes the unknown episode over: no new count. */
    assert_true(peerwatch_adopt(p, "failed ?", "failed 10.0.0.9", 1100));
    assert_int_equal(peerwatch_seen(p, "failed 10.0.0.9", 1100, NULL), PEERWATCH_QUIET);
    assert_true(peerwatch_latest(p, "failed ", 1200, who, sizeof who));
    assert_string_equal(who, "failed 10.0.0.9");
    /* Nothing to adopt any more; an active target is not overwritten. */
    assert_false(peerwatch_adopt(p, "failed ?", "failed 10.0.0.9", 1300));
    assert_int_equal(peerwatch_seen(p, "failed ?", 1400, NULL), PEERWATCH_NEW);
    assert_false(peerwatch_adopt(p, "failed ?", "failed 10.0.0.9", 1500));
    /* Past the window nothing is "going on". */
    assert_false(peerwatch_latest(p, "failed ", 1500 + W + 1, who, sizeof who));
    peerwatch_destroy(&p);
}

static void test_outcomes_follow_accept_order(void **state)
{
    (void)state;
    peerwatch_t *p = peerwatch_new(W);
    char addr[PEERWATCH_ADDR_MAX];
    assert_false(peerwatch_handshake_done(p, addr, sizeof addr));
    assert_string_equal(addr, "");
    peerwatch_accepted(p, 11, "10.0.0.1");
    peerwatch_accepted(p, 12, "");
    peerwatch_accepted(p, 13, "10.0.0.3");
    assert_true(peerwatch_handshake_done(p, addr, sizeof addr));
    assert_string_equal(addr, "10.0.0.1");
    /* fd 12 closed before its outcome was seen: it leaves the FIFO. */
    peerwatch_closed(p, 12);
    assert_true(peerwatch_handshake_done(p, addr, sizeof addr));
    assert_string_equal(addr, "10.0.0.3");
    assert_false(peerwatch_handshake_done(p, addr, sizeof addr));
    /* Overflow drops the oldest, never grows. */
    for (int i = 0; i < PEERWATCH_PENDING + 5; i++) {
        char a[16];
        snprintf(a, sizeof a, "10.1.0.%d", i);
        peerwatch_accepted(p, 100 + i, a);
    }
    assert_true(peerwatch_handshake_done(p, addr, sizeof addr));
    assert_string_equal(addr, "10.1.0.5");
    peerwatch_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retries_are_one_episode),
        cmocka_unit_test(test_full_table_forgets_the_stalest),
        cmocka_unit_test(test_unknown_address_adopted),
        cmocka_unit_test(test_outcomes_follow_accept_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
