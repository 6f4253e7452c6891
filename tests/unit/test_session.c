/* test_session — the collector's per-agent delivery state machine: the
 * first batch, commits, duplicates, gaps, a new epoch, a stale epoch, a
 * collector restart mid-session, batches the agent dropped, durability
 * and rollback, persistence, and the session table itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "session.h"

#define E1 ((uint64_t)1795815000000123)
#define E2 (E1 + 86400000000ULL)

static sess_table_t *T;

static int s_setup(void **state)
{
    (void)state;
    log_init("test_session", LOG_LVL_ERROR);
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

/* A national collector's table: each session found by its crossing and
 * direction (through the index's growths), a stranger not, nothing added
 * by looking. */
static void test_table_large(void **state)
{
    (void)state;
    char id[8];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "%06d", 300000 + i * 7);
        for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++) {
            sess_t *s = sess_get(T, id, (enum tax_dir)d);
            assert_non_null(s);
            s->acked_seq = (uint64_t)i * 2 + (uint64_t)d;
        }
    }
    assert_int_equal(sess_count(T), 10000);
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "%06d", 300000 + i * 7);
        for (int d = TAX_NORTHBOUND; d <= TAX_SOUTHBOUND; d++) {
            const sess_t *s = sess_find(T, id, (enum tax_dir)d);
            assert_non_null(s);
            assert_string_equal(s->crossing, id);
            assert_int_equal(s->dir, d);
            assert_int_equal(s->acked_seq, (uint64_t)i * 2 + (uint64_t)d);
        }
        snprintf(id, sizeof id, "%06d", 300001 + i * 7);
        assert_null(sess_find(T, id, TAX_NORTHBOUND));
    }
    assert_int_equal(sess_count(T), 10000);
}

/* A copy (what /health's and /metrics' thread reads) holds what the table
 * held, finds by name, reuses its memory, and does not follow the table. */
static void test_table_copy(void **state)
{
    (void)state;
    sess_table_t *c = sess_table_new();
    assert_non_null(c);
    assert_int_equal(sess_table_copy(c, T), 0);   /* an empty table */
    assert_int_equal(sess_count(c), 0);
    assert_null(sess_find(c, "250401", TAX_NORTHBOUND));
    char id[8];
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 300 * round; i++) {
            snprintf(id, sizeof id, "%06d", 100000 + i);
            sess_get(T, id, TAX_SOUTHBOUND)->acked_seq = (uint64_t)(i * round);
        }
        assert_int_equal(sess_table_copy(c, T), 0);
        assert_int_equal(sess_count(c), sess_count(T));
        sess_get(T, "999999", TAX_NORTHBOUND)->acked_seq = 7;   /* after the copy */
        sess_get(T, "100000", TAX_SOUTHBOUND)->acked_seq = 12345;
        for (int i = 0; i < 300 * round; i++) {
            snprintf(id, sizeof id, "%06d", 100000 + i);
            const sess_t *s = sess_find(c, id, TAX_SOUTHBOUND);
            assert_non_null(s);
            assert_int_equal(s->acked_seq, (uint64_t)(i * round));
            assert_ptr_equal(s, sess_at(c, (size_t)(s - sess_at(c, 0))));
        }
        if (round == 1)
            assert_null(sess_find(c, "999999", TAX_NORTHBOUND));
    }
    sess_table_destroy(&c);
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

/* The agent no longer holds 6..9 (its spool dropped them): a gap that ends
 * there is skipped, not waited for. */
static void test_dropped_through(void **state)
{
    (void)state;
    sess_t *s = sess_get(T, "250401", TAX_NORTHBOUND);
    for (uint64_t q = 1; q <= 5; q++) {
        assert_int_equal(sess_judge(s, E1, q, 0), SESS_ACCEPT);
        sess_commit(s, q);
    }
    /* Dropped through 9, but 10 and 11 are still missing. */
    assert_int_equal(sess_judge(s, E1, 12, 9), SESS_GAP);
    assert_int_equal(s->acked_seq, 9);
    assert_int_equal(s->dropped, 4);
    assert_int_equal(s->gaps, 1);
    assert_int_equal(sess_judge(s, E1, 10, 9), SESS_ACCEPT);
    sess_commit(s, 10);
    /* Dropped through beyond this batch: everything before it is skipped. */
    assert_int_equal(sess_judge(s, E1, 14, 20), SESS_ACCEPT);
    assert_int_equal(s->acked_seq, 13);
    assert_int_equal(s->dropped, 4 + 3); /* 11, 12, 13 */
    sess_commit(s, 14);
    /* A mark at or below what we have changes nothing. */
    assert_int_equal(sess_judge(s, E1, 16, 14), SESS_GAP);
    assert_int_equal(s->acked_seq, 14);
    assert_int_equal(sess_judge(s, E1, 15, 3), SESS_ACCEPT);
    assert_int_equal(sess_judge(s, E1, 14, 3), SESS_DUPLICATE);
    assert_int_equal(s->dropped, 7);
}

static void test_durable_and_rollback(void **state)
{
    (void)state;
    sess_t *a = sess_get(T, "250401", TAX_NORTHBOUND);
    sess_t *b = sess_get(T, "250401", TAX_SOUTHBOUND);
    for (uint64_t q = 1; q <= 3; q++) {
        assert_int_equal(sess_judge(a, E1, q, 0), SESS_ACCEPT);
        sess_commit(a, q);
    }
    assert_int_equal(sess_judge(b, E2, 1, 0), SESS_ACCEPT);
    sess_commit(b, 1);
    assert_int_equal(a->durable_seq, 0);
    assert_int_equal(b->durable_seq, 0);
    assert_int_equal(sess_mark_durable(T), 2);
    assert_int_equal(a->durable_seq, 3);
    assert_int_equal(b->durable_seq, 1);
    assert_int_equal(sess_mark_durable(T), 0);
    /* More accepted, then rrdcached loses it: back to the durable point. */
    for (uint64_t q = 4; q <= 6; q++) {
        assert_int_equal(sess_judge(a, E1, q, 0), SESS_ACCEPT);
        sess_commit(a, q);
    }
    assert_int_equal(sess_rollback(T), 1);
    assert_int_equal(a->acked_seq, 3);
    assert_int_equal(b->acked_seq, 1);
    assert_int_equal(sess_rollback(T), 0);
    /* The lost batches are taken again, known as resends; what follows
     * them is not. */
    assert_int_equal(sess_judge(a, E1, 4, 0), SESS_ACCEPT);
    assert_true(sess_is_resend(a, 4));
    sess_commit(a, 4);
    assert_int_equal(sess_judge(a, E1, 3, 0), SESS_DUPLICATE);
    assert_true(sess_is_resend(a, 6));
    assert_false(sess_is_resend(a, 7));
    assert_false(sess_is_resend(b, 2));
    /* A new agent run starts afresh. */
    assert_int_equal(sess_judge(a, E1 + 1, 1, 0), SESS_ACCEPT);
    assert_false(sess_is_resend(a, 1));
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_session.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/sessions", dir);

    /* No file yet: an empty table. */
    assert_int_equal(sess_load(T, path), 0);
    assert_int_equal(sess_count(T), 0);

    sess_t *a = sess_get(T, "250401", TAX_NORTHBOUND);
    sess_t *b = sess_get(T, "090101", TAX_SOUTHBOUND);
    for (uint64_t q = 1; q <= 7; q++) {
        assert_int_equal(sess_judge(a, E1, q, 0), SESS_ACCEPT);
        sess_commit(a, q);
    }
    assert_int_equal(sess_judge(b, E2, 30, 0), SESS_ACCEPT);
    sess_commit(b, 30);
    sess_mark_durable(T);
    assert_int_equal(sess_judge(a, E1, 8, 0), SESS_ACCEPT);
    sess_commit(a, 8); /* accepted, not durable: not what a restart may rely on */
    assert_int_equal(sess_save(T, path), 0);

    /* A bad line in the file is skipped, the others load. */
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("25040 northbound 1 2\n250401 eastbound 1 2\nnonsense\n", f);
    fclose(f);

    sess_table_t *t2 = sess_table_new();
    assert_non_null(t2);
    assert_int_equal(sess_load(t2, path), 0);
    assert_int_equal(sess_count(t2), 2);
    sess_t *a2 = sess_get(t2, "250401", TAX_NORTHBOUND);
    sess_t *b2 = sess_get(t2, "090101", TAX_SOUTHBOUND);
    assert_int_equal(sess_count(t2), 2);
    assert_int_equal(a2->epoch, E1);
    assert_int_equal(a2->acked_seq, 7);
    assert_int_equal(a2->durable_seq, 7);
    assert_int_equal(b2->epoch, E2);
    assert_int_equal(b2->acked_seq, 30);
    /* After the restart, resends are recognised and 8 is taken again. */
    assert_int_equal(sess_judge(a2, E1, 7, 0), SESS_DUPLICATE);
    assert_int_equal(sess_judge(a2, E1, 8, 0), SESS_ACCEPT);
    assert_int_equal(sess_judge(a2, E1, 10, 0), SESS_GAP);
    assert_int_equal(sess_judge(b2, E1, 31, 0), SESS_STALE_EPOCH);
    sess_table_destroy(&t2);

    /* No temporary file left behind. */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    unlink(path);
    rmdir(dir);
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
        T_(test_table_large),
        T_(test_table_copy),
        T_(test_first_commit_duplicate_gap),
        T_(test_new_and_stale_epoch),
        T_(test_collector_restart),
        T_(test_dropped_through),
        T_(test_durable_and_rollback),
        T_(test_save_load),
        T_(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
