/* test_plan — lane plans (collector/plan.c over common/wtab.c): hours of
 * the week on the port's clock or the clock the file names, queues without
 * a column, the simulator's plan read back, and broken files refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan.h"
#include "registry.h"
#include "proc.h"
#include "wtab.h"

/* Monday 2026-03-02 00:00 UTC. */
#define MONDAY_MS (1772409600LL * 1000)
#define HOUR_MS (3600 * 1000LL)

static char *s_dir;

static const char *s_write(const char *name, const char *text)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int s_setup(void **state)
{
    (void)state;
    s_dir = proc_tmpdir();
    return s_dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_dir);
    free(s_dir);
    return 0;
}

static const int STD = 0, READY = 1; /* tax_queue_index(passenger, standard / ready) */

/* Phoenix keeps UTC-7 all year: local Monday 07:00 is 14:00 UTC. */
static void test_local_clock(void **state)
{
    (void)state;
    const char *p = s_write("local.csv", "hour_of_week,passenger-standard\n0,4\n7,12\n19,6\n");
    plan_t *plan = plan_load(p, "America/Phoenix");
    assert_non_null(plan);
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 13 * HOUR_MS), 4);
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 14 * HOUR_MS), 12);
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 26 * HOUR_MS), 6); /* 19:00 local */
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 38 * HOUR_MS), 12); /* a daily table */
    assert_int_equal(plan_lanes(plan, READY, MONDAY_MS), -1);              /* no column */
    plan_ref_t ref = { .plan = plan, .queue = STD };
    assert_int_equal(plan_ref_lanes(&ref, MONDAY_MS + 14 * HOUR_MS), 12);
    ref.plan = NULL;
    assert_int_equal(plan_ref_lanes(&ref, MONDAY_MS), -1);
    plan_destroy(&plan);
    assert_null(plan);
}

/* "# timezone: UTC" overrides the port's zone; a weekly table wraps. */
static void test_named_clock(void **state)
{
    (void)state;
    const char *p = s_write("utc.csv", "# timezone: UTC\n# a comment\n"
                                       "hour_of_week,passenger-standard,passenger-ready\n"
                                       "0,4,1\n7,12,\n160,2,3\n");
    plan_t *plan = plan_load(p, "America/Phoenix");
    assert_non_null(plan);
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 7 * HOUR_MS), 12);
    assert_int_equal(plan_lanes(plan, READY, MONDAY_MS + 7 * HOUR_MS), 1); /* empty: holds */
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 161 * HOUR_MS), 2);
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + 168 * HOUR_MS), 4); /* next Monday */
    assert_int_equal(plan_lanes(plan, STD, MONDAY_MS - HOUR_MS), 2);      /* Sunday before */
    plan_destroy(&plan);
}

/* What poe-sim --plan-out writes (wtab_save) reads back the same. */
static void test_save_round_trip(void **state)
{
    (void)state;
    wtab_t *w = wtab_new();
    assert_non_null(w);
    for (int h = 0; h < WTAB_HOURS; h++)
        wtab_set(w, STD, h, h % 24 < 6 ? 8 : 26);
    char path[1024];
    snprintf(path, sizeof path, "%s/saved.csv", s_dir);
    assert_int_equal(wtab_save(w, path, "UTC"), 0);
    wtab_destroy(&w);
    plan_t *plan = plan_load(path, "America/Los_Angeles");
    assert_non_null(plan);
    for (int h = 0; h < WTAB_HOURS; h += 5)
        assert_int_equal(plan_lanes(plan, STD, MONDAY_MS + h * HOUR_MS), h % 24 < 6 ? 8 : 26);
    plan_destroy(&plan);
}

static void test_broken_files(void **state)
{
    (void)state;
    const char *bad[] = {
        "# timezone:\nhour_of_week,passenger-standard\n0,4\n",          /* no zone */
        "# timezone: UTC extra\nhour_of_week,passenger-standard\n0,4\n", /* two words */
        "# timezone: Nowhere/Atlantis\nhour_of_week,passenger-standard\n0,4\n",
        "hour,passenger-standard\n0,4\n",                                 /* first column */
        "hour_of_week,passenger-bicycle\n0,4\n",                          /* unknown queue */
        "hour_of_week,passenger-standard\n7,4\n3,5\n",                    /* out of order */
        "hour_of_week,passenger-standard\n",                              /* no rows */
        "hour_of_week,passenger-standard\n0,1e30\n",                     /* absurd */
        "hour_of_week,passenger-standard\n0,2.5\n",                      /* half a lane */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = s_write("bad.csv", bad[i]);
        plan_t *plan = plan_load(p, "UTC");
        if (plan)
            fail_msg("accepted broken plan %zu: %s", i, bad[i]);
    }
    assert_null(plan_load("/nonexistent/plan.csv", "UTC"));
}

/* A directory of plans for a registry: files found by crossing and
 * direction, hours on the clock of the port that inspects the direction;
 * one broken file and nothing is loaded (what a reload relies on to keep
 * the plans in use). */
static void test_load_dir(void **state)
{
    (void)state;
    const char *reg_path = s_write("registry.conf",
        "crossings = (\n"
        "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
        "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
        "    max_lanes = { passenger = 34; pedestrian = 22; commercial = 0; }; },\n"
        "  { id = \"300403\"; bwt_id = \"02300403\"; border = \"CA\"; name = \"Blaine - Point Roberts\";\n"
        "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Vancouver\";\n"
        "    max_lanes = { passenger = 3; pedestrian = 0; commercial = 1; }; }\n"
        ");\n");
    int nbad = 0;
    registry_t *reg = reg_load(reg_path, &nbad);
    assert_non_null(reg);
    assert_int_equal(nbad, 0);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/plans", s_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char name[64];
    snprintf(name, sizeof name, "plans/250401-northbound.csv");
    s_write(name, "hour_of_week,passenger-standard\n0,4\n7,12\n");

    plan_t *(*plans)[TAX_NDIRS] = NULL;
    int found = -1;
    assert_int_equal(plan_load_dir(dir, reg, &plans, &found), 0);
    assert_int_equal(found, 1);
    assert_non_null(plans);
    size_t sy = (size_t)(reg_find(reg, "250401") - reg_at(reg, 0));
    size_t pr = (size_t)(reg_find(reg, "300403") - reg_at(reg, 0));
    const plan_t *nb = plans[sy][TAX_NORTHBOUND - 1];
    assert_non_null(nb);
    assert_null(plans[sy][TAX_SOUTHBOUND - 1]);
    assert_null(plans[pr][TAX_NORTHBOUND - 1]);
    /* Northbound into San Ysidro is inspected in Los Angeles time (UTC-8 in
     * March before the change): Monday 07:00 local is 15:00 UTC. */
    assert_int_equal(plan_lanes(nb, STD, MONDAY_MS + 14 * HOUR_MS), 4);
    assert_int_equal(plan_lanes(nb, STD, MONDAY_MS + 15 * HOUR_MS), 12);
    plan_free_all(&plans, reg_count(reg));
    assert_null(plans);

    s_write("plans/300403-southbound.csv", "hour_of_week,passenger-standard\n0,four\n");
    found = -1;
    assert_int_equal(plan_load_dir(dir, reg, &plans, &found), -1);
    assert_null(plans);
    assert_int_equal(found, 0);
    reg_destroy(&reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_clock),
        cmocka_unit_test(test_named_clock),
        cmocka_unit_test(test_save_round_trip),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_load_dir),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
