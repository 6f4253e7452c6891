/* test_fcstore — the forecasts kept current as data arrives, within the
 * refresh budget: without a loop every due run is immediate; with one, a
 * due queue waits once (however often it is due meanwhile) for the timer,
 * which runs it later on its newest data, within the budget, and gives way
 * to a busy loop for at most FCSTORE_DEFER_MAX_MS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <event2/event.h>

#include "fcstore.h"
#include "log.h"
#include "registry.h"
#include "state.h"

#define CROSSING "250401"
#define T0_MS 1768464000000LL    /* 2026-01-15T08:00Z */

typedef struct {
    registry_t *reg;
    state_t *st;
    fcstore_t *fc;
    xstate_t *x;
} fix_t;

static int s_setup(void **state)
{
    log_init("test_fcstore", LOG_LVL_ERROR);
    fix_t *f = calloc(1, sizeof *f);
    int nbad = 0;
    f->reg = reg_load("deploy/registry.conf", &nbad);
    assert_non_null(f->reg);
    f->st = state_new(f->reg);
    f->fc = fcstore_new(f->st);
    f->x = state_find(f->st, CROSSING);
    assert_non_null(f->x);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fix_t *f = *state;
    fcstore_destroy(&f->fc);
    state_destroy(&f->st);
    reg_destroy(&f->reg);
    free(f);
    return 0;
}

/* Minute m of queue k: 5 arrivals, 5 departures on two lanes, then the
 * store is told. */
static void s_minute(fix_t *f, enum tax_type type, int m)
{
    int64_t t = T0_MS + 60000LL * m;
    est_input_t in = { .t_end_ms = t, .interval_ms = 60000, .arrivals = 5, .departures = 5,
                       .lanes_open = 2 };
    assert_int_equal(state_apply(f->st, f->x, TAX_NORTHBOUND, &in, t, TAX_PASSENGER, type, t), 1);
    fcstore_queue_changed(f->fc, f->x, TAX_NORTHBOUND, tax_queue_index(TAX_PASSENGER, type));
}

static const fc_result_t *s_fc(fix_t *f, enum tax_type type)
{
    return f->x->forecast[TAX_NORTHBOUND - 1][tax_queue_index(TAX_PASSENGER, type)];
}

static void test_without_a_loop_every_run_is_immediate(void **state)
{
    fix_t *f = *state;
    s_minute(f, TAX_STANDARD, 1);
    assert_non_null(s_fc(f, TAX_STANDARD));
    assert_int_equal(s_fc(f, TAX_STANDARD)->issued_s, (T0_MS + 60000) / 1000);
    s_minute(f, TAX_STANDARD, 2);   /* a minute later: due again */
    assert_int_equal(s_fc(f, TAX_STANDARD)->issued_s, (T0_MS + 120000) / 1000);
    assert_int_equal(fcstore_pending(f->fc), 0);
}

static void test_beyond_the_budget_a_run_waits_once(void **state)
{
    fix_t *f = *state;
    struct event_base *base = event_base_new();
    assert_int_equal(fcstore_start(f->fc, base, 0), 0);   /* no room: everything waits */
    for (int m = 1; m <= 5; m++) {
        s_minute(f, TAX_STANDARD, m);
        s_minute(f, TAX_READY, m);
    }
    assert_null(s_fc(f, TAX_STANDARD));
    assert_null(s_fc(f, TAX_READY));
    assert_int_equal(fcstore_pending(f->fc), 2);          /* each queue once */
    assert_int_equal(fcstore_deferred(f->fc), 2);

    fcstore_set_budget(f->fc, 1000);
    struct timeval later = { 0, 300 * 1000 };
    event_base_loopexit(base, &later);
    event_base_dispatch(base);
    assert_int_equal(fcstore_pending(f->fc), 0);
    /* Run on the newest data, not on the data of when it fell due. */
    assert_non_null(s_fc(f, TAX_STANDARD));
    assert_int_equal(s_fc(f, TAX_STANDARD)->issued_s, (T0_MS + 5 * 60000) / 1000);
    assert_int_equal(s_fc(f, TAX_READY)->issued_s, (T0_MS + 5 * 60000) / 1000);
    fcstore_destroy(&f->fc);    /* its timer first, then the base */
    event_base_free(base);
}

static void s_dispatch_ms(struct event_base *base, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* The caller (ingest's commit) never runs a forecast, even with budget. */
static void test_with_a_loop_a_run_waits_for_the_timer(void **state)
{
    fix_t *f = *state;
    struct event_base *base = event_base_new();
    assert_int_equal(fcstore_start(f->fc, base, 1000), 0);
    s_minute(f, TAX_STANDARD, 1);
    assert_null(s_fc(f, TAX_STANDARD));
    assert_int_equal(fcstore_pending(f->fc), 1);
    s_dispatch_ms(base, FCSTORE_PENDING_EVERY_MS * 3);
    assert_int_equal(fcstore_pending(f->fc), 0);
    assert_non_null(s_fc(f, TAX_STANDARD));
    assert_int_equal(s_fc(f, TAX_STANDARD)->issued_s, (T0_MS + 60000) / 1000);
    fcstore_destroy(&f->fc);
    event_base_free(base);
}

static bool s_busy(void *arg)
{
    int *asked = arg;
    (*asked)++;
    return true;
}

/* While the loop is busy the runs wait, up to FCSTORE_DEFER_MAX_MS. */
static void test_runs_give_way_to_a_busy_loop_for_a_while(void **state)
{
    fix_t *f = *state;
    struct event_base *base = event_base_new();
    int asked = 0;
    assert_int_equal(fcstore_start(f->fc, base, 1000), 0);
    fcstore_set_busy(f->fc, s_busy, &asked);
    s_minute(f, TAX_STANDARD, 1);
    s_dispatch_ms(base, FCSTORE_PENDING_EVERY_MS * 3);
    assert_true(asked > 0);
    assert_null(s_fc(f, TAX_STANDARD));
    assert_int_equal(fcstore_pending(f->fc), 1);
    s_dispatch_ms(base, FCSTORE_DEFER_MAX_MS);   /* busy all along: it runs anyway */
    assert_int_equal(fcstore_pending(f->fc), 0);
    assert_non_null(s_fc(f, TAX_STANDARD));

    fcstore_set_busy(f->fc, NULL, NULL);          /* idle: the next runs at once */
    s_minute(f, TAX_STANDARD, 2);
    s_dispatch_ms(base, FCSTORE_PENDING_EVERY_MS * 3);
    assert_int_equal(s_fc(f, TAX_STANDARD)->issued_s, (T0_MS + 120000) / 1000);
    fcstore_destroy(&f->fc);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_a_loop_every_run_is_immediate, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_beyond_the_budget_a_run_waits_once, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_with_a_loop_a_run_waits_for_the_timer, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_runs_give_way_to_a_busy_loop_for_a_while,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
