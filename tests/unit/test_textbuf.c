/* test_textbuf — the string builder: empty reads as "", appends and
 * formats accumulate, a large document builds whole, bytes go in as given,
 * and a failure is sticky (later appends no-ops, data and take NULL), with
 * a NULL builder read as a failed one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "textbuf.h"

static void test_empty(void **state)
{
    (void)state;
    textbuf_t *b = textbuf_new();
    assert_non_null(b);
    assert_string_equal(textbuf_data(b), "");
    assert_int_equal(textbuf_len(b), 0);
    assert_false(textbuf_failed(b));
    assert_int_equal(textbuf_append(b, ""), 0);
    assert_string_equal(textbuf_data(b), "");
    char *s = textbuf_take(&b);
    assert_null(b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_append_and_printf(void **state)
{
    (void)state;
    textbuf_t *b = textbuf_new();
    assert_int_equal(textbuf_append(b, "poe_"), 0);
    assert_int_equal(textbuf_printf(b, "%s{n=\"%d\"} %.3f\n", "lag", 7, 1.5), 0);
    assert_int_equal(textbuf_append_n(b, "abcdef", 3), 0);
    assert_string_equal(textbuf_data(b), "poe_lag{n=\"7\"} 1.500\nabc");
    assert_int_equal(textbuf_len(b), strlen("poe_lag{n=\"7\"} 1.500\nabc"));
    textbuf_destroy(&b);
    assert_null(b);
    textbuf_destroy(&b);   /* twice is harmless */
}

static void test_bytes_kept_as_given(void **state)
{
    (void)state;
    textbuf_t *b = textbuf_new();
    const char latin1[] = { 'S', (char)0xe9, 'n', (char)0xff };
    assert_int_equal(textbuf_append_n(b, latin1, sizeof latin1), 0);
    assert_int_equal(textbuf_len(b), 4);
    assert_memory_equal(textbuf_data(b), latin1, 4);
    assert_int_equal(textbuf_data(b)[4], '\0');
    textbuf_destroy(&b);
}

static void test_large(void **state)
{
    (void)state;
    textbuf_t *b = textbuf_new();
    for (int i = 0; i < 100000; i++)
        textbuf_printf(b, "%08d\n", i);
    /* A single append larger than everything before it. */
    char *big = malloc(3u << 20);
    assert_non_null(big);
    memset(big, 'z', 3u << 20);
    assert_int_equal(textbuf_append_n(b, big, 3u << 20), 0);
    free(big);
    assert_false(textbuf_failed(b));
    size_t len = textbuf_len(b);
    assert_int_equal(len, 100000 * 9 + (3u << 20));
    char *s = textbuf_take(&b);
    assert_int_equal(strlen(s), len);
    assert_memory_equal(s + 99999 * 9, "00099999\n", 9);
    assert_int_equal(s[len - 1], 'z');
    free(s);
}

static void test_failure_is_sticky(void **state)
{
    (void)state;
    textbuf_t *b = textbuf_new();
    assert_int_equal(textbuf_append(b, "before"), 0);
    /* vsnprintf refuses a wide character the C locale cannot encode; that
     * failure stands for any failure, out of memory included. */
    assert_int_equal(textbuf_printf(b, "%ls", L"\u00e9t\u00e9"), -1);
    assert_true(textbuf_failed(b));
    assert_int_equal(textbuf_append(b, "after"), -1);
    assert_int_equal(textbuf_printf(b, "%d", 1), -1);
    assert_int_equal(textbuf_append_n(b, "x", 1), -1);
    assert_null(textbuf_data(b));
    assert_int_equal(textbuf_len(b), 0);
    assert_null(textbuf_take(&b));
    assert_null(b);
}

static void test_null_builder_is_failed(void **state)
{
    (void)state;
    textbuf_t *b = NULL;
    assert_true(textbuf_failed(b));
    assert_int_equal(textbuf_append(b, "x"), -1);
    assert_int_equal(textbuf_printf(b, "%d", 1), -1);
    assert_null(textbuf_data(b));
    assert_null(textbuf_take(&b));
    textbuf_destroy(&b);
    textbuf_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_append_and_printf),
        cmocka_unit_test(test_bytes_kept_as_given),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_failure_is_sticky),
        cmocka_unit_test(test_null_builder_is_failed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
