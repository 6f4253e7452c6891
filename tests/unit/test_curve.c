/* test_curve — key files and inline keys: curve_load_public takes a Z85
 * key literal or the path of a .pub file, and a path that happens to be 40
 * Z85 characters long (letters, digits, '/', '.', '-') is still read as
 * the file it names (the national network's run directory hit this: every
 * forwarded handshake failed with the path used as the server key). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "curve.h"
#include "proc.h"

static void test_path_of_key_length_is_a_file(void **state)
{
    (void)state;
    char *dir = proc_tmpdir(); /* /tmp/poenet-XXXXXX: 18 characters */
    assert_non_null(dir);
    char name[64], pub[80];
    /* Pad the name so that "<name>.pub" is exactly 40 characters. */
    int pad = 40 - (int)strlen(dir) - 1 - 4;
    assert_true(pad > 0 && pad < 30);
    snprintf(name, sizeof name, "%s/%.*s", dir, pad, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
    snprintf(pub, sizeof pub, "%s.pub", name);
    assert_int_equal(strlen(pub), 40);
    assert_true(curve_key_valid(pub)); /* the ambiguity itself */
    assert_int_equal(curve_write_pair(name), 0);
    curve_pair_t pair;
    char secret[80];
    snprintf(secret, sizeof secret, "%s.secret", name);
    assert_int_equal(curve_load_pair(secret, &pair), 0);
    char got[CURVE_KEY_Z85];
    assert_int_equal(curve_load_public(pub, got), 0);
    assert_string_equal(got, pair.public_key);
    /* The key itself, inline, still works. */
    assert_int_equal(curve_load_public(pair.public_key, got), 0);
    assert_string_equal(got, pair.public_key);
    /* Neither a file nor a key: refused. */
    assert_int_not_equal(curve_load_public("/nonexistent/poenet.pub", got), 0);
    proc_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_of_key_length_is_a_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
