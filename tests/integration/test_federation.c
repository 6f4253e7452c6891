/* test_federation — two regional collectors, each with its own agents,
 * forward to one national collector over the agents' link (spool,
 * acknowledgements). The national feed must list the crossings of both
 * regions with both directions and match the regions queue by queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "stack.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"

static teststack_t s_nat, s_a, s_b;
static char s_up[80];

static int s_setup(void **state)
{
    (void)state;
    if (stack_start_n(&s_nat, 10, NULL) != 0)
        return -1;
    snprintf(s_up, sizeof s_up, "%s", s_nat.endpoint);
    static const char *extra[3];
    extra[0] = "--upstream";
    extra[1] = s_up;
    if (stack_start_args(&s_a, 8, extra) != 0 || stack_start_args(&s_b, 9, extra) != 0)
        return -1;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    int rc = stack_stop(&s_a);
    rc |= stack_stop(&s_b);
    rc |= stack_stop(&s_nat);
    return rc;
}

static pid_t s_agent(const teststack_t *st, const char *crossing, const char *dir)
{
    static char agent[1024], fixture[1024], spool[700], log[700];
    snprintf(agent, sizeof agent, "%s", stack_bin_path(st, "poe-agent"));
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(st, FIXTURE));
    snprintf(spool, sizeof spool, "%s/spool-%s-%s", st->dir, crossing, dir);
    snprintf(log, sizeof log, "%s/agent-%s-%s.log", st->dir, crossing, dir);
    const char *argv[] = { agent, "--crossing", crossing, "--direction", dir, "--collector",
                           st->endpoint, "--replay", fixture, "--speed", "0", "--spool", spool,
                           "--spool-nosync", NULL };
    return proc_spawn(argv, log);
}

static json_t *s_get(int port, const char *path)
{
    int status = 0;
    char *body = proc_http_get(port, path, &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

/* The fields a region and the nation must agree on, per queue. */
static char *s_digest(int port, const char *crossing)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/crossings/%s", crossing);
    json_t *j = s_get(port, path);
    if (!j)
        return NULL;
    json_t *out = json_array();
    json_t *dirs = json_object_get(json_array_get(json_object_get(j, "crossings"), 0), "directions");
    size_t i, k;
    json_t *d, *q;
    json_array_foreach(dirs, i, d) {
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
                                                 "direction", json_object_get(d, "direction"),
                                                 "mode", json_object_get(q, "mode"),
                                                 "lane", json_object_get(q, "lane"),
                                                 "status", json_object_get(q, "status"),
                                                 "updated", json_object_get(q, "updated"),
                                                 "lanes_open", json_object_get(q, "lanes_open"),
                                                 "arrivals", json_object_get(q, "arrivals")));
        }
    }
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(j);
    return s;
}

static void test_national_matches_regions(void **state)
{
    (void)state;
    pid_t p[4] = { s_agent(&s_a, "250401", "northbound"), s_agent(&s_a, "250401", "southbound"),
                   s_agent(&s_b, "250601", "northbound"), s_agent(&s_b, "250601", "southbound") };
    for (int i = 0; i < 4; i++) {
        int status = -1;
        assert_int_equal(proc_wait_exit(p[i], 60000, &status), 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const struct { teststack_t *region; const char *crossing; } cases[] = {
        { &s_a, "250401" }, { &s_b, "250601" },
    };
    for (int c = 0; c < 2; c++) {
        /* The feed is published at most every 100 ms after a change
         * (collector/http.c): wait, bounded, for the replay's end to show. */
        char *regional = NULL;
        for (int tries = 0; tries < 100; tries++) {
            free(regional);
            regional = s_digest(cases[c].region->http_port, cases[c].crossing);
            if (regional && strstr(regional, "2026-01-15T10:00:00Z"))
                break;
            usleep(100 * 1000);
        }
        assert_non_null(regional);
        assert_non_null(strstr(regional, "\"northbound\""));
        assert_non_null(strstr(regional, "\"southbound\""));
        assert_non_null(strstr(regional, "2026-01-15T10:00:00Z"));
        char *national = NULL;
        for (int tries = 0; tries < 150; tries++) { /* the relays drain within seconds */
            free(national);
            national = s_digest(s_nat.http_port, cases[c].crossing);
            if (national && strcmp(national, regional) == 0)
                break;
            usleep(100 * 1000);
        }
        if (!national || strcmp(national, regional) != 0)
            fail_msg("national view of %s differs:\n region   %s\n national %s", cases[c].crossing,
                     regional, national ? national : "(none)");
        free(national);
        free(regional);
    }
    /* The national archive has the series too, not only the live state. */
    json_t *h = s_get(s_nat.http_port,
                      "/v1/history?crossing=250601&direction=southbound&mode=passenger&lane=standard"
                      "&from=1768464000&to=1768471200&step=60");
    assert_non_null(h);
    assert_true(json_array_size(json_object_get(h, "rows")) >= 100);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_national_matches_regions),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
