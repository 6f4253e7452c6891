/* test_reclaim — common/reclaim and the bodies that use it: an item handed
 * over is freed by the reclaim thread, not by the thread that dropped it;
 * stopping frees whatever still waits; without the thread (not started, or
 * stopped) and past the backlog bound the caller frees it itself; an
 * http_cache body's last reference, dropped on any thread, frees it once
 * (ASan/TSan watch the hand-off). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_cache.h"
#include "reclaim.h"

typedef struct {
    reclaim_item_t it;
    pthread_t by;                /* the thread that freed it */
    atomic_int *freed;
} s_obj_t;

static void s_obj_free(reclaim_item_t *it)
{
    s_obj_t *o = (s_obj_t *)it;
    o->by = pthread_self();
    atomic_fetch_add(o->freed, 1);
}

static void s_init(s_obj_t *o, atomic_int *freed, size_t bytes)
{
    memset(o, 0, sizeof *o);
    o->it.fn = s_obj_free;
    o->it.bytes = bytes;
    o->freed = freed;
}

static void test_not_running_refuses(void **state)
{
    (void)state;
    atomic_int freed = 0;
    s_obj_t o;
    s_init(&o, &freed, 10);
    assert_int_equal(reclaim_defer(&o.it), -1);   /* the caller frees it */
    assert_int_equal(atomic_load(&freed), 0);
    reclaim_stop();                                /* safe when never started */
}

static void test_freed_on_its_own_thread(void **state)
{
    (void)state;
    enum { N = 200 };
    static s_obj_t objs[N];
    atomic_int freed = 0;
    assert_int_equal(reclaim_start(), 0);
    assert_int_equal(reclaim_start(), 0);          /* already running: nothing */
    for (int i = 0; i < N; i++) {
        s_init(&objs[i], &freed, 4096);
        assert_int_equal(reclaim_defer(&objs[i].it), 0);
    }
    reclaim_stop();                                /* frees what still waits */
    assert_int_equal(atomic_load(&freed), N);
    for (int i = 0; i < N; i++)
        assert_false(pthread_equal(objs[i].by, pthread_self()));
    s_obj_t late;
    s_init(&late, &freed, 1);
    assert_int_equal(reclaim_defer(&late.it), -1); /* stopped: the caller's */
}

static void test_backlog_bound(void **state)
{
    (void)state;
    atomic_int freed = 0;
    s_obj_t big;
    s_init(&big, &freed, RECLAIM_BACKLOG_MAX + 1);
    assert_int_equal(reclaim_start(), 0);
    assert_int_equal(reclaim_defer(&big.it), -1);  /* more than may wait */
    reclaim_stop();
    assert_int_equal(atomic_load(&freed), 0);
}

/* Bodies dropped by several threads at once, malloc'ed, in a memfd and in
 * parts of the others, each freed once (ASan: no leak, no double free;
 * TSan: the hand-off, and the parts' references dropped by whichever
 * thread frees the body holding them). */
static void *s_drop(void *arg)
{
    http_cache_body_t **bodies = arg;
    for (int i = 0; i < 64; i++)
        http_cache_body_unref(bodies[i]);
    return NULL;
}

static void test_bodies_dropped_anywhere(void **state)
{
    (void)state;
    enum { T = 4, N = 64 };
    static http_cache_body_t *bodies[N];
    assert_int_equal(reclaim_start(), 0);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 2) {
            http_cache_part_t p[] = { { bodies[i - 2], 0, 100 }, { bodies[i - 1], 5, 10 } };
            bodies[i] = http_cache_body_parts(p, 2);
        } else {
            size_t len = i % 3 ? 20000 : HTTP_CACHE_RECLAIM_MIN + (size_t)i;
            char *data = malloc(len + 1);
            assert_non_null(data);
            memset(data, 'x', len + 1);
            bodies[i] = http_cache_body_new(data, len);
            assert_non_null(bodies[i]);
            if (i % 3)
                assert_int_equal(http_cache_body_fd(bodies[i]), 0);
        }
        assert_non_null(bodies[i]);
        for (int r = 1; r < T; r++)
            http_cache_body_ref(bodies[i]);
    }
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        assert_int_equal(pthread_create(&th[t], NULL, s_drop, bodies), 0);
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    reclaim_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_running_refuses),
        cmocka_unit_test(test_freed_on_its_own_thread),
        cmocka_unit_test(test_backlog_bound),
        cmocka_unit_test(test_bodies_dropped_anywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
