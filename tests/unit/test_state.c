/* test_state — the collector's state of every crossing and queue: a
 * queue is made at its first applied or committed sample; until then it
 * reads as the shared "never seen" state of its mode and type, and an
 * ignored sample makes nothing. Each crossing's queues are its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "regstate.h"
#include "log.h"
#include "registry.h"
#include "state.h"

#define T0_MS 1768464000000LL    /* 2026-01-15T08:00Z */

typedef regstate_t fix_t;

static int s_setup(void **state)
{
    log_init("test_state", LOG_LVL_ERROR);
    fix_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(regstate_from_file(f, "deploy/registry.conf"), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fix_t *f = *state;
    regstate_free(f);
    free(f);
    return 0;
}

static const est_input_t s_in = { .interval_ms = 5000, .arrivals = 6, .departures = 4,
                                   .lanes_open = 2 };

static void test_never_seen_queues_are_shared(void **state)
{
    fix_t *f = *state;
    assert_true(state_count(f->st) >= 2);
    xstate_t *a = state_at(f->st, 0), *b = state_at(f->st, 1);
    for (int d = 0; d < TAX_NDIRS; d++)
        for (int k = 0; k < TAX_NQUEUES; k++) {
            enum tax_mode m;
            enum tax_type t;
            tax_queue_from_index(k, &m, &t);
            assert_non_null(a->q[d][k]);
            assert_ptr_equal(a->q[d][k], b->q[d][k]);
            assert_false(a->q[d][k]->seen);
            assert_int_equal(a->q[d][k]->est.mode, m);
            assert_int_equal(a->q[d][k]->est.type, t);
            assert_string_equal(qstate_status(a->q[d][k], T0_MS, 60000), "no_data");
        }
    assert_int_equal(state_queues(f->st), 0);
}

static void test_first_sample_makes_the_queue(void **state)
{
    fix_t *f = *state;
    xstate_t *a = state_at(f->st, 0), *b = state_at(f->st, 1);
    int k = tax_queue_index(TAX_COMMERCIAL, TAX_FAST);
    uint64_t v0 = state_version(f->st);
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &s_in, T0_MS, TAX_COMMERCIAL,
                                 TAX_FAST, T0_MS), 1);
    assert_int_equal(state_queues(f->st), 1);
    assert_true(state_version(f->st) == v0 + 1);
    const qstate_t *q = a->q[TAX_SOUTHBOUND - 1][k];
    assert_true(q->seen);
    assert_int_equal(q->arrivals, 6);
    assert_int_equal(q->est.mode, TAX_COMMERCIAL);
    /* The same queue elsewhere, and the other direction, are still unseen. */
    assert_false(b->q[TAX_SOUTHBOUND - 1][k]->seen);
    assert_false(a->q[TAX_NORTHBOUND - 1][k]->seen);

    /* At or before the last applied time: ignored, nothing made. */
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &s_in, T0_MS, TAX_COMMERCIAL,
                                 TAX_FAST, T0_MS), 0);
    assert_int_equal(state_queues(f->st), 1);

    /* A commit makes the queue too, from a copy of what it was. */
    int kp = tax_queue_index(TAX_PASSENGER, TAX_READY);
    qstate_t shadow = *b->q[TAX_NORTHBOUND - 1][kp];
    uint64_t ch = b->changes;
    assert_int_equal(qstate_apply(&shadow, &s_in, T0_MS + 5000, T0_MS + 5000), 1);
    assert_false(b->q[TAX_NORTHBOUND - 1][kp]->seen);   /* a copy: the state unchanged */
    assert_int_equal(state_commit(f->st, b, TAX_NORTHBOUND, kp, &shadow), 0);
    assert_int_equal(state_queues(f->st), 2);
    assert_true(b->changes == ch + 1);
    assert_true(b->q[TAX_NORTHBOUND - 1][kp]->seen);
    assert_true(b->q[TAX_NORTHBOUND - 1][kp]->updated_ms == T0_MS + 5000);
    assert_false(a->q[TAX_NORTHBOUND - 1][kp]->seen);
    /* A second commit replaces it in place. */
    const qstate_t *made = b->q[TAX_NORTHBOUND - 1][kp];
    assert_int_equal(qstate_apply(&shadow, &s_in, T0_MS + 10000, T0_MS + 10000), 1);
    assert_int_equal(state_commit(f->st, b, TAX_NORTHBOUND, kp, &shadow), 0);
    assert_ptr_equal(b->q[TAX_NORTHBOUND - 1][kp], made);
    assert_int_equal(state_queues(f->st), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_never_seen_queues_are_shared, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_first_sample_makes_the_queue, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
