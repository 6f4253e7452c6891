/* test_bgjob — common/bgjob: the work runs on the job's thread, its done
 * on the loop after it; a second job is refused while one runs; destroy
 * waits for a running job and calls its done; the runner is reusable; a
 * runner made nice runs its work at that nice value. */
#include <event2/event.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

static void s_nice_work(void *arg)
{
    errno = 0;
    int v = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    atomic_store((atomic_int *)arg, errno ? -100 : v);
}

static void s_nice_done(void *arg)
{
    (void)arg;
}

/* A runner made nice runs its work at that nice value, on its own thread
 * only: the caller's stays as it was. */
static void test_nice_is_the_threads_own(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    errno = 0;
    int mine = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    assert_int_equal(errno, 0);
    atomic_int seen;
    atomic_init(&seen, -200);
    bgjob_t *j = bgjob_new_nice(base, "test-nice", mine + 5);
    assert_non_null(j);
    assert_int_equal(bgjob_run(j, s_nice_work, s_nice_done, &seen), 0);
    bgjob_destroy(&j);                 /* waits for the work */
    assert_int_equal(atomic_load(&seen), mine + 5 > 19 ? 19 : mine + 5);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)), mine);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_then_done_on_the_loop),
        cmocka_unit_test(test_destroy_finishes_a_running_job),
        cmocka_unit_test(test_nice_is_the_threads_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
