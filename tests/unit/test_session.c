/* test_session — the collector's per-agent delivery state machine: the
 * first batch, commits, duplicates, gaps, a new epoch, a stale epoch, a
 * collector restart mid-session, and the session table itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "session.h"

#define E1 ((uint64_t)1795815000000123)
#define E2 (E1 + 86400000000ULL)

static sess_table_t *T;

static int s_setup(void **state)
{
    (void)state;
    T = sess_table_new();
    return T ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    sess_table_destroy(&T);
    assert_null(T);
    return 0;
}

static void test_table(void **state)
{
    (void)state;
    assert_int_equal(sess_count(T), 0);
    assert_null(sess_at(T, 0));
    sess_t *a = sess_get(T, "250401", TAX_NORTHBOUND);
    assert_non_null(a);
    assert_string_equal(a->crossing, "250401");
    assert_int_equal(a->dir, TAX_NORTHBOUND);
    assert_int_equal(a->epoch, 0);
    assert_int_equal(a->acked_seq, 0);
    assert_int_equal(a->batches + a->duplicates + a->gaps + a->bad_lines, 0);
    assert_ptr_equal(sess_get(T, "250401", TAX_NORTHBOUND), a);
    sess_t *b = sess_get(T, "250401", TAX_SOUTHBOUND);
    assert_true(b != a);
    assert_int_equal(sess_count(T), 2);
    assert_ptr_equal(sess_at(T, 1), b);
    assert_null(sess_at(T, 2));

    /* Many agents: the table grows and keeps each one's state. */
    char id[8];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "%06d", 100000 + i);
        sess_t *s = sess_get(T, id, (enum tax_dir)(1 + i % 2));
        assert_non_null(s);
        assert_int_equal(sess_judge(s, E1, 1, 0), SESS_ACCEPT);
        sess_commit(s, 1);
        assert_int_equal(sess_judge(s, E1, 2, 0), SESS_ACCEPT);
        sess_commit(s, 2 + (uint64_t)i);
    }
    assert_int_equal(sess_count(T), 102);
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "%06d", 100000 + i);
        sess_t *s = sess_get(T, id, (enum tax_dir)(1 + i % 2));
        assert_string_equal(s->crossing, id);
        assert_int_equal(s->acked_seq, 2 + (uint64_t)i);
        assert_int_equal(s->batches, 2);
    }
    assert_int_equal(sess_count(T), 102);
}

static void test_first_commit_duplicate_gap(void **state)
{
    (void)state;
    sess_t *s = sess_get(T, "250401", TAX_NORTHBOUND);
    assert_int_equal(sess_judge(s, E1, 1, 0), SESS_ACCEPT);
    assert_int_equal(s->epoch, E1);
    assert_int_equal(s->acked_seq, 0); /* judged, not yet archived */
    /* Not committed (archive failed): the same batch is accepted again. */
    assert_int_equal(sess_judge(s, E1, 1, 0), SESS_ACCEPT);
    sess_commit(s, 1);
    assert_int_equal(s->acked_seq, 1);
    assert_int_equal(s->batches, 1);
    assert_int_equal(sess_judge(s, E1, 2, 0), SESS_ACCEPT);
    sess_commit(s, 2);
    assert_int_equal(s->acked_seq, 2);

    /* Resends of what is archived. */
    assert_int_equal(sess_judge(s, E1, 2, 0), SESS_DUPLICATE);
    assert_int_equal(sess_judge(s, E1, 1, 0), SESS_DUPLICATE);
    assert_int_equal(s->duplicates, 2);
    assert_int_equal(s->acked_seq, 2);

    /* 3 went missing. */
    assert_int_equal(sess_judge(s, E1, 4, 0), SESS_GAP);
    assert_int_equal(sess_judge(s, E1, 5, 0), SESS_GAP);
    assert_int_equal(s->gaps, 2);
    assert_int_equal(s->acked_seq, 2);
    assert_int_equal(sess_judge(s, E1, 3, 0), SESS_ACCEPT);
    sess_commit(s, 3);
    assert_int_equal(sess_judge(s, E1, 4, 0), SESS_ACCEPT);
    sess_commit(s, 4);
    assert_int_equal(s->acked_seq, 4);
    assert_int_equal(s->batches, 4);
    /* A commit never moves acked_seq back. */
    sess_commit(s, 2);
    assert_int_equal(s->acked_seq, 4);
}

static void test_new_and_stale_epoch(void **state)
{
    (void)state;
    sess_t *s = sess_get(T, "090101", TAX_SOUTHBOUND);
    for (uint64_t q = 1; q <= 10; q++) {
        assert_int_equal(sess_judge(s, E1, q, 0), SESS_ACCEPT);
        sess_commit(s, q);
    }
    s->bad_lines = 17;
    /* The agent restarted: a new epoch starts over at 1. */
    assert_int_equal(sess_judge(s, E2, 1, 0), SESS_ACCEPT);
    assert_int_equal(s->epoch, E2);
    assert_int_equal(s->acked_seq, 0);
    assert_int_equal(s->bad_lines, 0);
    sess_commit(s, 1);
    assert_int_equal(s->acked_seq, 1);
    assert_int_equal(sess_judge(s, E2, 2, 0), SESS_ACCEPT);
    sess_commit(s, 2);
    /* Stragglers of the old run are refused, whatever their seq. */
    assert_int_equal(sess_judge(s, E1, 11, 0), SESS_STALE_EPOCH);
    assert_int_equal(sess_judge(s, E1, 3, 0), SESS_STALE_EPOCH);
    assert_int_equal(sess_judge(s, E1, 1, 0), SESS_STALE_EPOCH);
    assert_int_equal(s->epoch, E2);
    assert_int_equal(s->acked_seq, 2);
    assert_int_equal(s->duplicates + s->gaps, 0);
    assert_int_equal(sess_judge(s, E2, 3, 0), SESS_ACCEPT);
}

/* The collector restarted while an agent was at seq 56: its batch 57 is
 * the first this collector sees, and starts the session. */
static void test_collector_restart(void **state)
{
    (void)state;
    sess_t *s = sess_get(T, "300401", TAX_NORTHBOUND);
    assert_int_equal(sess_judge(s, E1, 57, 0), SESS_ACCEPT);
    assert_int_equal(s->epoch, E1);
    assert_int_equal(s->acked_seq, 56);
    sess_commit(s, 57);
    assert_int_equal(s->acked_seq, 57);
    assert_int_equal(sess_judge(s, E1, 57, 0), SESS_DUPLICATE);
    assert_int_equal(sess_judge(s, E1, 40, 0), SESS_DUPLICATE);
    assert_int_equal(sess_judge(s, E1, 59, 0), SESS_GAP);
    assert_int_equal(sess_judge(s, E1, 58, 0), SESS_ACCEPT);
    sess_commit(s, 58);
    assert_int_equal(s->acked_seq, 58);
    assert_int_equal(s->batches, 2);
}

static void test_verdict_names(void **state)
{
    (void)state;
    assert_string_equal(sess_verdict_name(SESS_ACCEPT), "accept");
    assert_string_equal(sess_verdict_name(SESS_DUPLICATE), "duplicate");
    assert_string_equal(sess_verdict_name(SESS_GAP), "gap");
    assert_string_equal(sess_verdict_name(SESS_STALE_EPOCH), "stale_epoch");
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T_(test_table),
        T_(test_first_commit_duplicate_gap),
        T_(test_new_and_stale_epoch),
        T_(test_collector_restart),
        T_(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
