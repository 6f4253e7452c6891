/* test_giveway — common/giveway: work waits while busy, at most max_ms a
 * spell; a spell that reached its maximum lets the work run once and
 * starts again; not busy (or no busy callback) never waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "giveway.h"

static bool s_busy(void *arg)
{
    return *(bool *)arg;
}

static void test_waits_while_busy_up_to_max(void **state)
{
    (void)state;
    bool busy = true;
    giveway_t g;
    giveway_init(&g, s_busy, &busy, 1000);
    assert_true(giveway_wait(&g, 5000));
    assert_true(giveway_wait(&g, 5999));
    assert_false(giveway_wait(&g, 6000));   /* the maximum: runs */
    assert_true(giveway_wait(&g, 6010));    /* still busy: a new spell */
    assert_false(giveway_wait(&g, 7010));
}

static void test_spell_ends_when_not_busy(void **state)
{
    (void)state;
    bool busy = true;
    giveway_t g;
    giveway_init(&g, s_busy, &busy, 1000);
    assert_true(giveway_wait(&g, 100));
    assert_true(giveway_wait(&g, 900));
    busy = false;
    assert_false(giveway_wait(&g, 950));
    busy = true;
    assert_true(giveway_wait(&g, 1500));    /* a fresh spell: its own full wait */
    assert_true(giveway_wait(&g, 2400));
    assert_false(giveway_wait(&g, 2500));
}

static void test_never_without_callback(void **state)
{
    (void)state;
    giveway_t g;
    giveway_init(&g, NULL, NULL, 1000);
    assert_false(giveway_wait(&g, 1));
    assert_false(giveway_wait(&g, 10000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_while_busy_up_to_max),
        cmocka_unit_test(test_spell_ends_when_not_busy),
        cmocka_unit_test(test_never_without_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
