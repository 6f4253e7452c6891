/* test_outbox — one collector's delivery cursor over the agent's spool:
 * where sequences start, the credit window, cumulative two-level acks
 * (accepted / durable), rollbacks, resend requests (paced), the
 * no-progress timer, rewinds after a reconnect, the resend counter,
 * skipping what the spool no longer holds, and a long in-order run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "outbox.h"

#define NOW ((int64_t)86400000) /* a monotonic clock well past zero */

static outbox_t *O;

static int s_teardown(void **state)
{
    (void)state;
    outbox_destroy(&O);
    assert_null(O);
    outbox_destroy(&O); /* NULL is fine */
    return 0;
}

static void s_new(size_t window, int64_t resend_after_ms, uint64_t first_unacked)
{
    O = outbox_new(window, resend_after_ms, first_unacked);
    assert_non_null(O);
}

/* Send the next batch, which must be seq, with the spool holding up to last. */
static void s_send(uint64_t seq, uint64_t last, int64_t now)
{
    uint64_t got = outbox_peek(O, last);
    if (got != seq)
        fail_msg("peek gave %llu, wanted %llu", (unsigned long long)got,
                 (unsigned long long)seq);
    outbox_sent(O, now);
}

static void s_send_range(uint64_t from, uint64_t to, uint64_t last, int64_t now)
{
    for (uint64_t s = from; s <= to; s++)
        s_send(s, last, now);
}

static void test_start(void **state)
{
    (void)state;
    s_new(4, 3000, 0);
    assert_int_equal(outbox_acked_seq(O), 0);
    assert_int_equal(outbox_durable_seq(O), 0);
    assert_int_equal(outbox_inflight(O), 0);
    assert_int_equal(outbox_resends(O), 0);
    assert_int_equal(outbox_peek(O, 0), 0); /* empty spool */
    assert_int_equal(outbox_peek(O, 5), 1); /* sequences start at 1 */
    assert_int_equal(outbox_peek(O, 5), 1); /* peeking does not move */
    outbox_destroy(&O);

    s_new(4, 3000, 1);
    assert_int_equal(outbox_acked_seq(O), 0);
    assert_int_equal(outbox_peek(O, 1), 1);
    outbox_destroy(&O);

    /* After an agent restart the spool starts at 40: this collector may
     * lack anything from 40 on and has everything before. */
    s_new(4, 3000, 40);
    assert_int_equal(outbox_acked_seq(O), 39);
    assert_int_equal(outbox_durable_seq(O), 39);
    assert_int_equal(outbox_peek(O, 39), 0);
    s_send(40, 45, NOW);
    assert_int_equal(outbox_inflight(O), 1);
    assert_int_equal(outbox_resends(O), 0);
}

static void test_window(void **state)
{
    (void)state;
    s_new(3, 3000, 1);
    s_send_range(1, 3, 5, NOW);
    assert_int_equal(outbox_peek(O, 5), 0); /* window full */
    assert_int_equal(outbox_inflight(O), 3);
    /* Each ack returns credit. */
    assert_true(outbox_ack(O, 1, 0, false, NOW + 10));
    assert_int_equal(outbox_inflight(O), 2);
    s_send(4, 5, NOW + 10);
    assert_int_equal(outbox_peek(O, 5), 0);
    assert_true(outbox_ack(O, 4, 0, false, NOW + 20));
    s_send(5, 5, NOW + 20);
    assert_int_equal(outbox_peek(O, 5), 0); /* nothing new in the spool */
    assert_int_equal(outbox_peek(O, 6), 6); /* until the next batch is spooled */
    outbox_destroy(&O);

    /* Window 0 means 1. */
    s_new(0, 3000, 1);
    s_send(1, 2, NOW);
    assert_int_equal(outbox_peek(O, 2), 0);
}

static void test_ack_cumulative(void **state)
{
    (void)state;
    s_new(10, 3000, 1);
    s_send_range(1, 6, 6, NOW);
    assert_true(outbox_ack(O, 4, 0, false, NOW + 5));
    assert_int_equal(outbox_acked_seq(O), 4);
    assert_int_equal(outbox_inflight(O), 2);
    /* The same ack again moves nothing. */
    assert_false(outbox_ack(O, 4, 0, false, NOW + 6));
    assert_true(outbox_ack(O, 6, 0, false, NOW + 8));
    assert_int_equal(outbox_inflight(O), 0);
    assert_int_equal(outbox_peek(O, 6), 0);
    assert_int_equal(outbox_resends(O), 0);
}

/* The collector already has more than this run sent (the agent restarted
 * with batches still spooled): the cursor jumps, nothing is resent. */
static void test_ack_ahead(void **state)
{
    (void)state;
    s_new(4, 3000, 1);
    s_send(1, 20, NOW);
    assert_true(outbox_ack(O, 8, 0, false, NOW + 1));
    assert_int_equal(outbox_inflight(O), 0);
    s_send(9, 20, NOW + 2);
    assert_int_equal(outbox_resends(O), 0);
}

static void test_durable(void **state)
{
    (void)state;
    s_new(10, 3000, 1);
    s_send_range(1, 5, 5, NOW);
    assert_true(outbox_ack(O, 5, 3, false, NOW + 1));
    assert_int_equal(outbox_acked_seq(O), 5);
    assert_int_equal(outbox_durable_seq(O), 3);
    /* Only durability moves: still news. */
    assert_true(outbox_ack(O, 5, 5, false, NOW + 2));
    assert_int_equal(outbox_durable_seq(O), 5);
    assert_false(outbox_ack(O, 5, 5, false, NOW + 3));
    /* Durable never runs ahead of accepted. */
    s_send_range(6, 7, 7, NOW + 3);
    assert_true(outbox_ack(O, 6, 9, false, NOW + 4));
    assert_int_equal(outbox_durable_seq(O), 6);
    assert_int_equal(outbox_acked_seq(O), 6);
}

/* The collector lost rows rrdcached had accepted: acked goes back to its
 * durable point and everything after it goes again. */
static void test_rollback(void **state)
{
    (void)state;
    s_new(20, 3000, 1);
    s_send_range(1, 10, 10, NOW);
    assert_true(outbox_ack(O, 8, 6, false, NOW + 1));
    assert_int_equal(outbox_inflight(O), 2);
    assert_true(outbox_ack(O, 6, 6, false, NOW + 2));
    assert_int_equal(outbox_acked_seq(O), 6);
    assert_int_equal(outbox_durable_seq(O), 6);
    assert_int_equal(outbox_inflight(O), 0);
    s_send_range(7, 10, 10, NOW + 3);
    assert_int_equal(outbox_resends(O), 4);
    /* The rollback counts as a go-back: a resend request right after it
     * does not rewind again. */
    assert_false(outbox_ack(O, 6, 6, true, NOW + 100));
    assert_int_equal(outbox_inflight(O), 4);
}

static void test_resend_flag(void **state)
{
    (void)state;
    s_new(10, 3000, 1);
    s_send_range(1, 5, 5, NOW);
    /* The collector saw a gap after 2: rewind to 3. */
    assert_true(outbox_ack(O, 2, 0, true, NOW + 100));
    assert_int_equal(outbox_inflight(O), 0);
    s_send(3, 5, NOW + 101);
    s_send(4, 5, NOW + 101);
    assert_int_equal(outbox_resends(O), 2);
    /* Batches 4 and 5 of the first pass draw their own resend requests:
     * within 500 ms they do not rewind again. */
    assert_false(outbox_ack(O, 2, 0, true, NOW + 300));
    assert_int_equal(outbox_inflight(O), 2);
    assert_false(outbox_ack(O, 2, 0, true, NOW + 599));
    assert_int_equal(outbox_inflight(O), 2);
    s_send(5, 5, NOW + 599);
    assert_int_equal(outbox_resends(O), 3);
    assert_int_equal(outbox_peek(O, 5), 0);
    /* 500 ms after the last go-back a request is honoured again. */
    assert_true(outbox_ack(O, 3, 0, true, NOW + 600));
    assert_int_equal(outbox_inflight(O), 0);
    s_send(4, 5, NOW + 601);
    s_send(5, 5, NOW + 601);
    assert_int_equal(outbox_resends(O), 5);
    /* A resend request with nothing in flight changes nothing. */
    assert_true(outbox_ack(O, 5, 0, false, NOW + 700));
    assert_false(outbox_ack(O, 5, 0, true, NOW + 5000));
    assert_int_equal(outbox_peek(O, 5), 0);
}

/* Pacing starts open: a first request is honoured even at clock 0. */
static void test_resend_first_request(void **state)
{
    (void)state;
    s_new(10, 3000, 1);
    s_send_range(1, 3, 3, 0);
    outbox_ack(O, 1, 0, true, 0);
    assert_int_equal(outbox_inflight(O), 0);
    assert_int_equal(outbox_peek(O, 3), 2);
}

static void test_tick(void **state)
{
    (void)state;
    s_new(10, 3000, 1);
    assert_false(outbox_tick(O, NOW + 100000)); /* nothing in flight */
    assert_false(outbox_tick(O, NOW + 100000)); /* spooled but never sent */
    s_send(1, 3, NOW);
    s_send(2, 3, NOW + 500);
    assert_false(outbox_tick(O, NOW + 2999));
    /* An ack that moves nothing is no progress. */
    assert_false(outbox_ack(O, 0, 0, false, NOW + 2000));
    assert_true(outbox_tick(O, NOW + 3000)); /* resend_after_ms since the first send */
    assert_int_equal(outbox_inflight(O), 0);
    assert_false(outbox_tick(O, NOW + 3001)); /* nothing in flight after the rewind */
    s_send_range(1, 3, 3, NOW + 3001);
    assert_int_equal(outbox_resends(O), 2);
    assert_false(outbox_tick(O, NOW + 6000));
    /* Progress restarts the clock. */
    assert_true(outbox_ack(O, 1, 0, false, NOW + 5000));
    assert_false(outbox_tick(O, NOW + 7999));
    assert_true(outbox_tick(O, NOW + 8000));
    s_send(2, 3, NOW + 8000);
    /* A tick rewind also paces resend requests. */
    assert_false(outbox_ack(O, 1, 0, true, NOW + 8200));
    assert_int_equal(outbox_inflight(O), 1);
    /* Everything acknowledged: no more ticks. */
    assert_true(outbox_ack(O, 3, 0, false, NOW + 8300));
    assert_false(outbox_tick(O, NOW + 100000));
}

static void test_rewind_after_reconnect(void **state)
{
    (void)state;
    s_new(3, 3000, 1);
    s_send_range(1, 3, 5, NOW);
    assert_true(outbox_ack(O, 1, 0, false, NOW + 1));
    s_send(4, 5, NOW + 1);
    outbox_rewind(O); /* the link reconnected */
    assert_int_equal(outbox_inflight(O), 0);
    assert_int_equal(outbox_acked_seq(O), 1);
    s_send_range(2, 4, 5, NOW + 2);
    assert_int_equal(outbox_peek(O, 5), 0); /* still bounded by the window */
    assert_int_equal(outbox_resends(O), 3);
    assert_true(outbox_ack(O, 4, 0, false, NOW + 3));
    s_send(5, 5, NOW + 4);
    assert_int_equal(outbox_resends(O), 3); /* 5 is new */
    /* Rewinding twice in a row is harmless. */
    outbox_rewind(O);
    outbox_rewind(O);
    s_send(5, 5, NOW + 5);
    assert_int_equal(outbox_resends(O), 4);
}

static void test_skip_to(void **state)
{
    (void)state;
    s_new(8, 3000, 1);
    /* The spool lost 1..5 before anything was sent. */
    outbox_skip_to(O, 6);
    assert_int_equal(outbox_peek(O, 10), 6);
    s_send(6, 10, NOW);
    assert_int_equal(outbox_resends(O), 0);
    /* Skipping backwards, or to where we already are, is a no-op. */
    outbox_skip_to(O, 3);
    outbox_skip_to(O, 7);
    assert_int_equal(outbox_peek(O, 10), 7);
    assert_int_equal(outbox_acked_seq(O), 0); /* the collector decides what it has */
}

/* Regression (was a bug): outbox_skip_to moves `next` past the seqs the spool
 * dropped but outbox_inflight() = next - 1 - acked still counts them as in
 * flight. Once the spool has dropped at least `window` batches this
 * collector never acknowledged (collector down long enough for the spool
 * budget to be exceeded), outbox_peek returns 0 for good: every tick
 * rewinds to acked + 1, link_pump skips to the spool's first seq again,
 * and nothing is ever sent, so the collector never sees dropped_through
 * and never acks. Regression test: this failed until transport/outbox.c keeps skipped seqs out of
 * the credit count. */
static void test_skip_to_frees_credit(void **state)
{
    (void)state;
    s_new(8, 3000, 1);
    s_send_range(1, 8, 8, NOW); /* collector down: window full */
    assert_true(outbox_tick(O, NOW + 3000));
    /* Over budget: the spool dropped 1..100. */
    outbox_skip_to(O, 101);
    assert_int_equal(outbox_inflight(O), 0);
    assert_int_equal(outbox_peek(O, 120), 101);
    s_send(101, 120, NOW + 3001);
    /* A later rewind (tick or reconnect) goes back no further than the
     * spool allows once skip_to has been called again. */
    outbox_rewind(O);
    outbox_skip_to(O, 101);
    assert_int_equal(outbox_peek(O, 120), 101);
}

static void test_long_run(void **state)
{
    (void)state;
    const uint64_t n = 10000;
    s_new(32, 3000, 1);
    uint64_t next_expected = 1, last_acked = 0;
    int64_t now = NOW;
    while (last_acked < n) {
        uint64_t s;
        while ((s = outbox_peek(O, n)) != 0) {
            assert_int_equal(s, next_expected);
            outbox_sent(O, now);
            next_expected++;
            assert_true(outbox_inflight(O) <= 32);
        }
        /* The collector acks part of what is in flight. */
        uint64_t upto = last_acked + 1 + (next_expected - 1 - last_acked) / 2;
        if (upto > next_expected - 1)
            upto = next_expected - 1;
        assert_true(outbox_ack(O, upto, upto > 5 ? upto - 5 : 0, false, now));
        last_acked = upto;
        now += 7;
        assert_false(outbox_tick(O, now));
    }
    assert_int_equal(next_expected, n + 1);
    assert_int_equal(outbox_acked_seq(O), n);
    assert_int_equal(outbox_durable_seq(O), n - 5);
    assert_int_equal(outbox_resends(O), 0);
    assert_int_equal(outbox_inflight(O), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_start),
        T(test_window),
        T(test_ack_cumulative),
        T(test_ack_ahead),
        T(test_durable),
        T(test_rollback),
        T(test_resend_flag),
        T(test_resend_first_request),
        T(test_tick),
        T(test_rewind_after_reconnect),
        T(test_skip_to),
        T(test_skip_to_frees_credit),
        T(test_long_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
