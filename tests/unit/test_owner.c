/* test_owner — who may feed a series: the allowlist's region ownership
 * (zap: name, crossings; one owner per crossing, file:line errors) and
 * owner_check/owner_take on a session: the owner wins, a region sends
 * only what it lists, the first sender of an unowned series keeps it
 * until it lapses or is revoked, keys of one region or one crossing
 * direction count as one sender, and a new sender starts a new session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "owner.h"
#include "proc.h"
#include "zap.h"

static char s_dir[600];
static char s_k[6][41]; /* r1, r1 (rotated), r2, r3, r4, agent of 300402/northbound */

static int s_setup(void **state)
{
    (void)state;
    log_init("test_owner", LOG_LVL_ERROR);
    char *d = proc_tmpdir();
    snprintf(s_dir, sizeof s_dir, "%s", d);
    free(d);
    for (int i = 0; i < 6; i++) {
        char secret[41];
        if (zmq_curve_keypair(s_k[i], secret) != 0)
            return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_dir);
    return 0;
}

static const char *s_write(const char *text)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/allow.conf", s_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* The standard list: r1 (two keys) owns 070801, r2 owns 300401; r3 and r4
 * forward for anything nobody owns; an agent key of 300402/northbound. */
static zap_t *s_zap(void)
{
    char text[2048];
    snprintf(text, sizeof text,
             "agents = (\n"
             "  { key = \"%s\"; name = \"r1\"; crossings = [ \"070801\" ]; },\n"
             "  { key = \"%s\"; name = \"r1\"; crossings = [ \"070801\" ]; },\n"
             "  { key = \"%s\"; name = \"r2\"; crossings = [ \"300401\" ]; },\n"
             "  { key = \"%s\"; crossing = \"*\"; direction = \"*\"; name = \"r3\"; },\n"
             "  { key = \"%s\"; crossing = \"*\"; direction = \"*\"; },\n"
             "  { key = \"%s\"; crossing = \"300402\"; direction = \"northbound\"; }\n);\n",
             s_k[0], s_k[1], s_k[2], s_k[3], s_k[4], s_k[5]);
    zap_t *z = zap_load(s_write(text));
    assert_non_null(z);
    return z;
}

static void test_allowlist_ownership(void **state)
{
    (void)state;
    zap_t *z = s_zap();
    assert_string_equal(zap_owner(z, "070801"), "r1");
    assert_string_equal(zap_owner(z, "300401"), "r2");
    assert_null(zap_owner(z, "300402"));
    char buf[96];
    zap_describe(zap_lookup(z, s_k[2]), buf, sizeof buf);
    assert_string_equal(buf, "region r2");
    zap_describe(zap_lookup(z, s_k[5]), buf, sizeof buf);
    assert_string_equal(buf, "key of 300402/northbound");
    zap_destroy(&z);
    assert_null(z);
}

static void test_allowlist_errors(void **state)
{
    (void)state;
    char text[1024];
    /* Two regions owning one crossing would refuse each other. */
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r1\"; crossings = [ \"070801\" ]; },\n"
             "           { key = \"%s\"; name = \"r2\"; crossings = [ \"070801\" ]; } );\n",
             s_k[0], s_k[2]);
    assert_int_equal(zap_check_file(s_write(text), NULL), -1);
    /* A list needs a name to be said in refusals. */
    snprintf(text, sizeof text, "agents = ( { key = \"%s\"; crossings = [ \"070801\" ]; } );\n",
             s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), -1);
    /* Not a port number; a list with a single crossing binding. */
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r1\"; crossings = [ \"7080\" ]; } );\n", s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), -1);
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r1\"; crossing = \"070801\"; "
             "direction = \"northbound\"; crossings = [ \"070801\" ]; } );\n", s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), -1);
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r 1\"; crossings = [ \"070801\" ]; } );\n",
             s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), -1);
    /* The old form still loads. */
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; crossing = \"*\"; direction = \"*\"; } );\n", s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), 1);
}

/* --check with the registry: a crossing it lacks, owned or bound, fails
 * the check (every sample of it would be refused); the registry's pass. */
static void test_allowlist_against_registry(void **state)
{
    (void)state;
    int nbad = 0;
    registry_t *reg = reg_load("deploy/registry.conf", &nbad);
    assert_non_null(reg);
    char text[1024];
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r1\"; crossings = [ \"250401\", \"070801\" ]; },\n"
             "           { key = \"%s\"; crossing = \"250401\"; direction = \"northbound\"; } );\n",
             s_k[0], s_k[2]);
    assert_int_equal(zap_check_file(s_write(text), reg), 2);
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; name = \"r1\"; crossings = [ \"250401\", \"999999\" ]; } );\n",
             s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), NULL), 1);   /* well formed */
    assert_int_equal(zap_check_file(s_write(text), reg), -1);   /* but not ours */
    snprintf(text, sizeof text,
             "agents = ( { key = \"%s\"; crossing = \"999998\"; direction = \"northbound\"; } );\n",
             s_k[0]);
    assert_int_equal(zap_check_file(s_write(text), reg), -1);
    reg_destroy(&reg);
}

static int s_check(zap_t *z, int k, const char *crossing, sess_t *s, int64_t now,
                   enum stats_reject *code, char *why, size_t len)
{
    *code = REJ_MAX;
    return owner_check(z, s_k[k], crossing, s, now, why, len, code);
}

static void test_owner_wins(void **state)
{
    (void)state;
    zap_t *z = s_zap();
    sess_t s = { .crossing = "070801", .dir = TAX_NORTHBOUND };
    char why[300];
    enum stats_reject code;
    /* r2 first, nobody feeding: not its crossing. */
    assert_int_equal(s_check(z, 2, "070801", &s, 1000, &code, why, sizeof why), -1);
    assert_int_equal(code, REJ_NOT_OWNER);
    assert_string_equal(why, "region r2 does not own crossing 070801 (region r1 does)");
    /* The owner feeds it; r2's copy is now a second source. */
    assert_int_equal(s_check(z, 0, "070801", &s, 2000, &code, why, sizeof why), 0);
    owner_take(z, &s, s_k[0], 2000);
    assert_int_equal(s_check(z, 2, "070801", &s, 3000, &code, why, sizeof why), -1);
    assert_int_equal(code, REJ_SECOND_SOURCE);
    assert_non_null(strstr(why, "already comes from region r1, its owner"));
    /* r3 forwards for anything, but not a crossing someone owns. */
    assert_int_equal(s_check(z, 3, "070801", &s, 3000, &code, why, sizeof why), -1);
    /* r1's other key (rotation) is the same sender: no new session. */
    s.epoch = 42;
    assert_int_equal(s_check(z, 1, "070801", &s, 4000, &code, why, sizeof why), 0);
    owner_take(z, &s, s_k[1], 4000);
    assert_int_equal(s.epoch, 42);
    /* The owner silent for long: r2 is refused as not the owner again. */
    assert_int_equal(s_check(z, 2, "070801", &s, 4000 + OWNER_LAPSE_MS, &code, why, sizeof why),
                     -1);
    assert_int_equal(code, REJ_NOT_OWNER);
    /* A region with a list sends nothing else. */
    sess_t u = { .crossing = "300402", .dir = TAX_NORTHBOUND };
    assert_int_equal(s_check(z, 0, "300402", &u, 1000, &code, why, sizeof why), -1);
    assert_int_equal(code, REJ_NOT_OWNER);
    assert_non_null(strstr(why, "does not list it"));
    zap_destroy(&z);
}

static void test_unowned_first_sender_keeps(void **state)
{
    (void)state;
    zap_t *z = s_zap();
    sess_t s = { .crossing = "300402", .dir = TAX_NORTHBOUND };
    char why[300];
    enum stats_reject code;
    assert_int_equal(s_check(z, 3, "300402", &s, 1000, &code, why, sizeof why), 0);
    owner_take(z, &s, s_k[3], 1000);
    s.epoch = 7;
    /* An unnamed region key, and the crossing's own agent: second. */
    assert_int_equal(s_check(z, 4, "300402", &s, 2000, &code, why, sizeof why), -1);
    assert_int_equal(code, REJ_SECOND_SOURCE);
    assert_non_null(strstr(why, "already comes from region r3"));
    assert_int_equal(s_check(z, 5, "300402", &s, 2000, &code, why, sizeof why), -1);
    /* r3 silent beyond the lapse: the agent takes over, in a new session. */
    int64_t later = 1000 + OWNER_LAPSE_MS;
    assert_int_equal(s_check(z, 5, "300402", &s, later, &code, why, sizeof why), 0);
    owner_take(z, &s, s_k[5], later);
    assert_int_equal(s.epoch, 0);
    assert_string_equal(s.source, s_k[5]);
    zap_destroy(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist_ownership),
        cmocka_unit_test(test_allowlist_errors),
        cmocka_unit_test(test_allowlist_against_registry),
        cmocka_unit_test(test_owner_wins),
        cmocka_unit_test(test_unowned_first_sender_keeps),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
