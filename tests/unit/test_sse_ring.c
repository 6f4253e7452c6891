/* test_sse_ring — the live stream's ring of recent updates
 * (collector/sse_ring): a reader gets the events after its sequence number
 * in order, references that outlive the ring's own; once more than
 * SSE_RING updates passed it learns it is too far behind (and must take a
 * snapshot) rather than silently skipping; an update that could not be
 * kept leaves a visible gap; readers are woken once per loop turn however
 * many updates the turn appended, and not twice within SSE_WAKE_MIN_MS; the bound on streams refuses past it
 * and counts the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse_ring.h"

static int s_wakes;

static void s_wake(void *arg)
{
    (void)arg;
    s_wakes++;
}

static void s_publish(sse_ring_t *r, uint64_t seq)
{
    char body[64];
    snprintf(body, sizeof body, "{\"seq\":%llu}", (unsigned long long)seq);
    sse_ring_publish(r, seq, seq % 2 ? "250401" : "300401", body);
}

static void test_read_after_and_too_far_behind(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    sse_ring_t *r = sse_ring_new(base, 0);
    assert_non_null(r);
    sse_event_t **out = calloc(SSE_RING, sizeof *out);
    uint64_t newest = 99;
    assert_int_equal(sse_ring_read(r, 0, out, &newest), 0);   /* nothing yet */
    assert_int_equal(newest, 0);
    for (uint64_t s = 1; s <= 10; s++)
        s_publish(r, s);
    int n = sse_ring_read(r, 4, out, &newest);
    assert_int_equal(n, 6);
    assert_int_equal(newest, 10);
    for (int i = 0; i < n; i++) {
        assert_int_equal(out[i]->seq, 5 + (uint64_t)i);
        char want[96];
        snprintf(want, sizeof want, "id: %d\nevent: wait\ndata: {\"seq\":%d}\n\n", 5 + i, 5 + i);
        assert_int_equal(out[i]->len, strlen(want));
        assert_memory_equal(out[i]->frame, want, out[i]->len);
    }
    /* the reader's references outlive the ring's */
    for (uint64_t s = 11; s <= 10 + SSE_RING; s++)
        s_publish(r, s);
    assert_int_equal(out[0]->seq, 5);
    for (int i = 0; i < n; i++)
        sse_event_unref(out[i]);
    /* 11 .. 10 + SSE_RING are kept: after 10 is fine, after 9 is a gap */
    assert_int_equal(sse_ring_read(r, 10, out, &newest), SSE_RING);
    for (int i = 0; i < SSE_RING; i++)
        sse_event_unref(out[i]);
    assert_int_equal(sse_ring_read(r, 9, out, &newest), -1);
    assert_int_equal(sse_ring_read(r, 0, out, &newest), -1);
    assert_int_equal(sse_ring_read(r, newest, out, &newest), 0);
    assert_int_equal(sse_ring_seq(r), 10 + SSE_RING);
    free(out);
    sse_ring_destroy(&r);
    event_base_free(base);
}

static void test_first_after_start(void **state)
{
    (void)state;
    /* a collector whose feed starts later than 1 (it never does today, but
     * the ring must not claim events it never had) */
    struct event_base *base = event_base_new();
    sse_ring_t *r = sse_ring_new(base, 0);
    sse_event_t *out[SSE_RING];
    uint64_t newest;
    s_publish(r, 7);
    s_publish(r, 8);
    assert_int_equal(sse_ring_read(r, 6, out, &newest), 2);
    sse_event_unref(out[0]);
    sse_event_unref(out[1]);
    assert_int_equal(sse_ring_read(r, 5, out, &newest), -1);
    sse_ring_destroy(&r);
    event_base_free(base);
}

static void test_one_wake_per_turn(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    sse_ring_t *r = sse_ring_new(base, 0);
    int a = 0, b = 0;
    assert_int_equal(sse_ring_add_reader(r, s_wake, &a), 0);
    assert_int_equal(sse_ring_add_reader(r, s_wake, &b), 0);
    s_wakes = 0;
    for (uint64_t s = 1; s <= 40; s++)
        s_publish(r, s);
    assert_int_equal(s_wakes, 0);          /* not before the turn ends */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(s_wakes, 2);          /* each reader once */
    sse_ring_remove_reader(r, &a);
    s_publish(r, 41);   /* within SSE_WAKE_MIN_MS of the last: on a timer */
    event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(s_wakes, 2);
    event_base_loop(base, EVLOOP_ONCE);  /* waits for the timer */
    assert_int_equal(s_wakes, 3);
    sse_ring_destroy(&r);
    event_base_free(base);
}

static void test_bound(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    sse_ring_t *r = sse_ring_new(base, 3);
    assert_int_equal(sse_ring_max_clients(r), 3);
    for (int i = 0; i < 3; i++)
        assert_true(sse_ring_admit(r));
    for (int i = 0; i < 5; i++)
        assert_false(sse_ring_admit(r));
    assert_int_equal(sse_ring_clients(r), 3);
    assert_int_equal(sse_ring_counted(r, SSE_REFUSED_FULL), 5);
    sse_ring_leave(r);
    assert_true(sse_ring_admit(r));
    sse_ring_count(r, SSE_REFUSED_BAD_ID);
    assert_int_equal(sse_ring_counted(r, SSE_REFUSED_BAD_ID), 1);
    assert_string_equal(sse_why_name(SSE_REFUSED_FUTURE_ID), "future_last_event_id");
    sse_ring_destroy(&r);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_after_and_too_far_behind),
        cmocka_unit_test(test_first_after_start),
        cmocka_unit_test(test_one_wake_per_turn),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
