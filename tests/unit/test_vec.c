/* test_vec — the shared growth rule of hand-kept arrays: nothing allocated
 * when the room is there, geometric growth that keeps the contents, a
 * first allocation of at least VEC_MIN_CAP, a need beyond doubling met
 * exactly, and sizes that would overflow a size_t refused untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "vec.h"

static void test_empty_need_zero_allocates_nothing(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(VEC_RESERVE(v, cap, 0), 0);
    assert_null(v);
    assert_int_equal(cap, 0);
}

static void test_first_allocation_is_min_cap(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(VEC_RESERVE(v, cap, 1), 0);
    assert_non_null(v);
    assert_int_equal(cap, VEC_MIN_CAP);
    int *before = v;
    /* Room there: no reallocation, same pointer. */
    assert_int_equal(VEC_RESERVE(v, cap, VEC_MIN_CAP), 0);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, VEC_MIN_CAP);
    free(v);
}

static void test_growth_doubles_and_keeps_contents(void **state)
{
    (void)state;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0, grows = 0, last_cap = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        assert_int_equal(VEC_RESERVE(v, cap, n + 1), 0);
        if (cap != last_cap) {
            if (last_cap)
                assert_int_equal(cap, last_cap * 2);
            last_cap = cap;
            grows++;
        }
        v[n++] = i * 2654435761u;
    }
    for (uint64_t i = 0; i < n; i++)
        assert_true(v[i] == i * 2654435761u);
    assert_true(cap >= n && cap < 2 * n);
    /* 16 → 131072: 14 allocations for 100000 appends. */
    assert_int_equal(grows, 14);
    free(v);
}

static void test_need_beyond_double_is_met_exactly(void **state)
{
    (void)state;
    char *v = NULL;
    size_t cap = 0;
    assert_int_equal(VEC_RESERVE(v, cap, 1000), 0);
    assert_int_equal(cap, 1000);
    v[999] = 'x';
    assert_int_equal(VEC_RESERVE(v, cap, 1001), 0);
    assert_int_equal(cap, 2000);
    assert_int_equal(v[999], 'x');
    assert_int_equal(VEC_RESERVE(v, cap, 5000), 0);
    assert_int_equal(cap, 5000);
    assert_int_equal(v[999], 'x');
    free(v);
}

static void test_overflow_refused_untouched(void **state)
{
    (void)state;
    uint64_t *v = NULL;
    size_t cap = 0;
    assert_int_equal(VEC_RESERVE(v, cap, 4), 0);
    uint64_t *before = v;
    size_t cap_before = cap;
    errno = 0;
    assert_int_equal(VEC_RESERVE(v, cap, SIZE_MAX / sizeof *v + 1), -1);
    assert_int_equal(errno, EOVERFLOW);
    errno = 0;
    assert_int_equal(VEC_RESERVE(v, cap, SIZE_MAX), -1);
    assert_int_equal(errno, EOVERFLOW);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);
    free(v);
}

static void test_zero_element_size_refused(void **state)
{
    (void)state;
    void *p = NULL;
    size_t cap = 0;
    errno = 0;
    assert_int_equal(vec_reserve(&p, &cap, 1, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_null(p);
    assert_int_equal(cap, 0);
}

static void test_large_struct_array(void **state)
{
    (void)state;
    typedef struct { int64_t t; char name[56]; } row_t;
    row_t *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 200000; i++) {
        assert_int_equal(VEC_RESERVE(v, cap, n + 1), 0);
        v[n++] = (row_t){ .t = i, .name = "x" };
    }
    assert_int_equal(v[0].t, 0);
    assert_int_equal(v[199999].t, 199999);
    assert_int_equal(v[123456].name[0], 'x');
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_need_zero_allocates_nothing),
        cmocka_unit_test(test_first_allocation_is_min_cap),
        cmocka_unit_test(test_growth_doubles_and_keeps_contents),
        cmocka_unit_test(test_need_beyond_double_is_met_exactly),
        cmocka_unit_test(test_overflow_refused_untouched),
        cmocka_unit_test(test_zero_element_size_refused),
        cmocka_unit_test(test_large_struct_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
