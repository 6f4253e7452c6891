/* test_bgjob — common/bgjob: the work runs on the job's thread, its done
 * on the loop after it; a second job is refused while one runs; destroy
 * waits for a running job and calls its done; the runner is reusable. */
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "bgjob.h"

typedef struct {
    struct event_base *base;
    pthread_t loop;
    atomic_bool worked_elsewhere;
    atomic_int works, dones;
    int dones_after_work;          /* done saw its work finished */
    useconds_t sleep_us;
} s_ctx_t;

static void s_work(void *arg)
{
    s_ctx_t *c = arg;
    atomic_store(&c->worked_elsewhere, !pthread_equal(pthread_self(), c->loop));
    if (c->sleep_us)
        usleep(c->sleep_us);
    atomic_fetch_add(&c->works, 1);
}

static void s_done(void *arg)
{
    s_ctx_t *c = arg;
    assert_true(pthread_equal(pthread_self(), c->loop));
    c->dones_after_work += atomic_load(&c->works) == atomic_load(&c->dones) + 1;
    atomic_fetch_add(&c->dones, 1);
    event_base_loopbreak(c->base);
}

static void test_work_then_done_on_the_loop(void **state)
{
    (void)state;
    s_ctx_t c = { .base = event_base_new(), .loop = pthread_self(), .sleep_us = 20000 };
    bgjob_t *j = bgjob_new(c.base, "test-bgjob");
    assert_non_null(j);
    for (int round = 1; round <= 3; round++) {
        assert_int_equal(bgjob_run(j, s_work, s_done, &c), 0);
        assert_true(bgjob_busy(j));
        assert_int_equal(bgjob_run(j, s_work, s_done, &c), -1);   /* one at a time */
        event_base_dispatch(c.base);
        assert_false(bgjob_busy(j));
        assert_int_equal(atomic_load(&c.dones), round);
    }
    assert_true(atomic_load(&c.worked_elsewhere));
    assert_int_equal(c.dones_after_work, 3);
    bgjob_destroy(&j);
    assert_null(j);
    event_base_free(c.base);
}

static void test_destroy_finishes_a_running_job(void **state)
{
    (void)state;
    s_ctx_t c = { .base = event_base_new(), .loop = pthread_self(), .sleep_us = 50000 };
    bgjob_t *j = bgjob_new(c.base, "test-bgjob");
    assert_non_null(j);
    assert_int_equal(bgjob_run(j, s_work, s_done, &c), 0);
    bgjob_destroy(&j);                 /* no loop turn: destroy waits, then done */
    assert_int_equal(atomic_load(&c.works), 1);
    assert_int_equal(atomic_load(&c.dones), 1);
    bgjob_destroy(&j);                 /* NULL: nothing */
    event_base_free(c.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_then_done_on_the_loop),
        cmocka_unit_test(test_destroy_finishes_a_running_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
