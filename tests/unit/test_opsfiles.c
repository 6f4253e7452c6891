/* test_opsfiles — the operators' files in deploy/ agree with the code:
 *   - every poenet_* metric the Prometheus alert rules and the Grafana
 *     dashboard use is a family collector/metrics.c writes (rendered here
 *     with a session holding every value, so no family is left out);
 *   - the rules have an alert for each thing operators must know (a side
 *     stale, a spool filling, durable lag growing, rrdcached down,
 *     handshake failures), each with an expr and a runbook section that
 *     exists in docs/operations.md; `promtool check rules` when installed;
 *   - the dashboard is valid JSON with panels for ingest, lag, spool,
 *     staleness and HTTP, every panel with a query;
 *   - the systemd units are Type=notify with a watchdog, and pass
 *     `systemd-analyze verify` where systemd is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"
#include "session.h"
#include "stats.h"

#define RULES "deploy/prometheus/poenet-alerts.yml"
#define DASHBOARD "deploy/grafana/poenet-collectors.json"
#define OPSDOC "docs/operations.md"
#define NOW 1768471200000LL

static char *s_families;   /* "\nname\nname\n..." of every family rendered */

static const char *s_src(const char *rel)
{
    static char path[1024];
    const char *src = getenv("POE_SRC");
    snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
    return path;
}

static char *s_read(const char *rel)
{
    FILE *f = fopen(s_src(rel), "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Render /metrics with one session whose every value is set, and keep the
 * family names of its TYPE lines. */
static int s_setup(void **state)
{
    (void)state;
    stats_t st = { .started_ms = NOW - 1000 };
    sess_table_t *t = sess_table_new();
    sess_t *s = sess_get(t, "250401", TAX_NORTHBOUND);
    s->newest_ms = s->last_seen_ms = s->oldest_unacked_ms = NOW - 5000;
    char *text = metrics_render(&st, t, NULL, true, NOW);
    sess_table_destroy(&t);
    if (!text)
        return -1;
    size_t cap = strlen(text) + 2, len = 1;
    s_families = calloc(1, cap);
    s_families[0] = '\n';
    for (const char *p = text; (p = strstr(p, "# TYPE ")); p++) {
        const char *name = p + 7, *end = strchr(name, ' ');
        memcpy(s_families + len, name, (size_t)(end - name));
        len += (size_t)(end - name);
        s_families[len++] = '\n';
    }
    free(text);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    free(s_families);
    return 0;
}

static bool s_is_family(const char *name)
{
    char want[160];
    snprintf(want, sizeof want, "\n%.128s\n", name);
    return strstr(s_families, want) != NULL;
}

/* Every poenet_* identifier in text must be a family; returns how many
 * were seen. */
static int s_check_names(const char *text, const char *where)
{
    int seen = 0;
    for (const char *p = text; (p = strstr(p, "poenet_")); p++) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        char name[128];
        size_t n = 0;
        while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n < sizeof name - 1) {
            name[n] = p[n];
            n++;
        }
        name[n] = '\0';
        if (!s_is_family(name))
            fail_msg("%s uses %s, which collector/metrics.c does not write", where, name);
        seen++;
    }
    return seen;
}

static void test_rules_match_metrics(void **state)
{
    (void)state;
    char *rules = s_read(RULES);
    assert_non_null(rules);
    assert_true(s_check_names(rules, RULES) >= 10);
    char *doc = s_read(OPSDOC);
    assert_non_null(doc);
    /* Each alert: an expr before the next alert, and a runbook anchor that
     * is a "### Name" section of the operations doc. */
    int alerts = 0;
    for (char *a = strstr(rules, "- alert: "); a; alerts++) {
        char *next = strstr(a + 1, "- alert: ");
        char *expr = strstr(a, "expr:"), *runbook = strstr(a, "runbook: \"" OPSDOC "#");
        assert_true(expr && (!next || expr < next));
        assert_true(runbook && (!next || runbook < next));
        char anchor[80];
        assert_int_equal(sscanf(runbook, "runbook: \"" OPSDOC "#%79[a-z0-9-]\"", anchor), 1);
        bool found = false;
        for (char *h = strstr(doc, "\n### "); h && !found; h = strstr(h + 1, "\n### ")) {
            char *end = strchr(h + 5, '\n');
            found = (size_t)(end - (h + 5)) == strlen(anchor) &&
                    strncasecmp(h + 5, anchor, strlen(anchor)) == 0;
        }
        if (!found)
            fail_msg("runbook #%s has no section in %s", anchor, OPSDOC);
        a = next;
    }
    assert_true(alerts >= 5);
    const char *must[] = { "PoenetCrossingSideStale", "PoenetAgentSpoolFilling",
                           "PoenetDurableLagGrowing", "PoenetRrdcachedDown",
                           "PoenetHandshakeDenied", "PoenetHandshakeFailures" };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        char want[96];
        snprintf(want, sizeof want, "- alert: %s\n", must[i]);
        if (!strstr(rules, want))
            fail_msg("%s has no alert %s", RULES, must[i]);
    }
    free(doc);
    free(rules);
}

/* promtool is in Debian's prometheus package (~100 MB with the server):
 * not a build dependency; used when an operator's machine has it. */
static void test_promtool(void **state)
{
    (void)state;
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool not installed: `promtool check rules` skipped "
                        "(metric names and structure were checked above)\n");
        skip();
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "promtool check rules '%s'", s_src(RULES));
    assert_int_equal(system(cmd), 0);
}

static bool s_title_has(json_t *panels, const char *word)
{
    size_t i;
    json_t *p;
    json_array_foreach(panels, i, p) {
        const char *t = json_string_value(json_object_get(p, "title"));
        if (t && strcasestr(t, word))
            return true;
    }
    return false;
}

static void test_dashboard(void **state)
{
    (void)state;
    json_error_t err;
    json_t *d = json_load_file(s_src(DASHBOARD), 0, &err);
    if (!d)
        fail_msg("%s:%d: %s", DASHBOARD, err.line, err.text);
    assert_non_null(json_string_value(json_object_get(d, "uid")));
    json_t *panels = json_object_get(d, "panels");
    assert_true(json_array_size(panels) >= 8);
    const char *must[] = { "ingest", "lag", "spool", "stale", "HTTP" };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!s_title_has(panels, must[i]))
            fail_msg("%s has no panel about %s", DASHBOARD, must[i]);
    size_t i, k;
    json_t *p, *t;
    int exprs = 0;
    json_array_foreach(panels, i, p) {
        if (strcmp(json_string_value(json_object_get(p, "type")), "row") == 0)
            continue;
        json_t *targets = json_object_get(p, "targets");
        assert_true(json_array_size(targets) >= 1);
        json_t *pos = json_object_get(p, "gridPos");
        assert_true(json_integer_value(json_object_get(pos, "w")) > 0);
        json_array_foreach(targets, k, t) {
            const char *e = json_string_value(json_object_get(t, "expr"));
            assert_non_null(e);
            s_check_names(e, DASHBOARD);
            exprs++;
        }
    }
    assert_true(exprs >= 15);
    json_decref(d);
}

static void test_units_notify(void **state)
{
    (void)state;
    const char *units[] = { "deploy/systemd/poe-collector.service",
                            "deploy/systemd/poe-agent@.service" };
    for (int i = 0; i < 2; i++) {
        char *u = s_read(units[i]);
        assert_non_null(u);
        assert_non_null(strstr(u, "\nType=notify\n"));
        assert_non_null(strstr(u, "\nNotifyAccess=main\n"));
        assert_non_null(strstr(u, "\nWatchdogSec="));
        free(u);
    }
    /* systemd's own parser over the units, in a scratch root holding the
     * programs they name (verify checks that ExecStart= is executable). */
    if (system("command -v systemd-analyze >/dev/null 2>&1 && test -d /lib/systemd/system") != 0) {
        fprintf(stderr, "systemd-analyze not installed: unit verification skipped\n");
        skip();
    }
    const char *bin = getenv("POE_BIN");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "set -e; r=$(mktemp -d); trap 'rm -rf \"$r\"' EXIT; "
             "mkdir -p \"$r/usr/local/bin\" \"$r/usr/bin\" \"$r/bin\" \"$r/etc/systemd/system\" \"$r/lib/systemd\"; "
             "cp '%s/poe-collector' '%s/poe-agent' \"$r/usr/local/bin/\"; "
             "cp \"$(command -v rrdcached)\" \"$r/usr/bin/\"; cp /bin/kill \"$r/bin/\"; "
             "cp -r /lib/systemd/system \"$r/lib/systemd/\"; cp '%s'/*.service \"$r/etc/systemd/system/\"; "
             "out=$(systemd-analyze verify --root=\"$r\" poe-collector.service rrdcached-poenet.service "
             "poe-agent@250401-northbound.service 2>&1); "
             "if [ -n \"$out\" ]; then echo \"$out\" >&2; exit 1; fi",
             bin ? bin : "build/bin", bin ? bin : "build/bin", s_src("deploy/systemd"));
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_match_metrics),
        cmocka_unit_test(test_promtool),
        cmocka_unit_test(test_dashboard),
        cmocka_unit_test(test_units_notify),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
