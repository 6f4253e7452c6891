/* test_metrics — /metrics text: every line is a HELP, a TYPE or one sample,
 * parsed here by a strict reader of the Prometheus text format 0.0.4 (names,
 * HELP then TYPE before a family's contiguous samples, no family twice,
 * label values escaped, values that parse as numbers); then the values
 * themselves: counters, rejections by reason, per-agent gauges and the
 * absence of made-up samples for agents without data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "session.h"
#include "stats.h"

#define NOW 1768471200000LL

/* ---- a strict reader of the exposition format ------------------------------ */

#define MAX_FAMILIES 128

typedef struct {
    char families[MAX_FAMILIES][64];
    int nfam;
    int samples;
} s_reader_t;

static bool s_name_char(int c, bool first)
{
    return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* Length of the metric or label name at p (0 when there is none). */
static size_t s_name(const char *p)
{
    size_t n = 0;
    while (s_name_char((unsigned char)p[n], n == 0))
        n++;
    return n;
}

static bool s_seen(const s_reader_t *r, const char *name)
{
    for (int i = 0; i < r->nfam; i++)
        if (strcmp(r->families[i], name) == 0)
            return true;
    return false;
}

/* "# HELP name text" followed by "# TYPE name counter|gauge". */
static void s_read_family(s_reader_t *r, const char *help, const char *type)
{
    assert_true(strncmp(help, "# HELP ", 7) == 0);
    size_t n = s_name(help + 7);
    assert_true(n > 0 && n < 64);
    assert_true(help[7 + n] == ' ' && help[8 + n] != '\0');
    assert_null(strchr(help, '\\')); /* our HELP texts need no escapes */
    char name[64];
    memcpy(name, help + 7, n);
    name[n] = '\0';
    if (s_seen(r, name))
        fail_msg("family %s appears twice", name);
    char want[160];
    snprintf(want, sizeof want, "# TYPE %s ", name);
    assert_true(strncmp(type, want, strlen(want)) == 0);
    const char *t = type + strlen(want);
    assert_true(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0);
    if (strcmp(t, "counter") == 0)
        assert_true(n > 6 && strcmp(name + n - 6, "_total") == 0);
    assert_true(r->nfam < MAX_FAMILIES);
    snprintf(r->families[r->nfam++], 64, "%s", name);
}

/* A quoted label value with only \\, \" and \n escapes; returns the
 * position after the closing quote. */
static const char *s_read_label_value(const char *p)
{
    assert_int_equal(*p, '"');
    for (p++; *p != '"'; p++) {
        assert_true(*p != '\0' && *p != '\n');
        if (*p == '\\') {
            p++;
            assert_true(*p == '\\' || *p == '"' || *p == 'n');
        }
    }
    return p + 1;
}

/* "name{l="v",...} value", name being the current family's. */
static void s_read_sample(s_reader_t *r, const char *line)
{
    assert_true(r->nfam > 0);
    const char *fam = r->families[r->nfam - 1];
    size_t n = s_name(line);
    if (n != strlen(fam) || strncmp(line, fam, n) != 0)
        fail_msg("sample '%s' outside its family (current %s)", line, fam);
    const char *p = line + n;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t ln = s_name(p);
            assert_true(ln > 0);
            p += ln;
            assert_int_equal(*p++, '=');
            p = s_read_label_value(p);
            if (*p == ',')
                p++;
            else
                assert_int_equal(*p, '}');
        }
        p++;
    }
    assert_int_equal(*p++, ' ');
    char *end;
    double v = strtod(p, &end);
    assert_true(end != p && *end == '\0');
    assert_false(isnan(v));
    r->samples++;
}

/* Check every line of text; returns the number of samples. */
static int s_validate(const char *text)
{
    s_reader_t r = { .nfam = 0 };
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    char *copy = strdup(text);
    char *save = NULL, *prev_help = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (prev_help) {
            s_read_family(&r, prev_help, line);
            prev_help = NULL;
        } else if (strncmp(line, "# HELP ", 7) == 0) {
            prev_help = line;
        } else {
            assert_true(line[0] != '#');
            s_read_sample(&r, line);
        }
    }
    assert_null(prev_help);
    assert_null(strstr(text, "\n\n"));
    free(copy);
    return r.samples;
}

/* The value of the sample whose text before the value is exactly key. */
static bool s_value(const char *text, const char *key, double *v)
{
    size_t k = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, k) == 0 && p[k] == ' ') {
            *v = strtod(p + k + 1, NULL);
            return true;
        }
    }
    return false;
}

static double s_must(const char *text, const char *key)
{
    double v = 0;
    if (!s_value(text, key, &v))
        fail_msg("no sample %s", key);
    return v;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_empty_collector_is_valid_and_zero(void **state)
{
    (void)state;
    stats_t st = { .started_ms = NOW - 90500 };
    char *text = metrics_render(&st, NULL, NULL, false, NOW);
    assert_non_null(text);
    int samples = s_validate(text);
    assert_true(samples >= 10 + REJ_MAX);
    assert_true(s_must(text, "poenet_uptime_seconds") == 90.5);
    /* the time the values were read (workers serve the text later) */
    assert_true(s_must(text, "poenet_published_timestamp_seconds") == NOW / 1000.0);
    assert_true(s_must(text, "poenet_archive_connected") == 0);
    assert_true(s_must(text, "poenet_frames_received_total") == 0);
    assert_true(s_must(text, "poenet_agents") == 0);
    /* Every reason, under its /health name, even at zero. */
    for (int r = 0; r < REJ_MAX; r++) {
        char key[96];
        snprintf(key, sizeof key, "poenet_rejected_total{reason=\"%s\"}",
                 stats_reject_name((enum stats_reject)r));
        assert_true(s_must(text, key) == 0);
    }
    /* Agent families are declared, without samples. */
    assert_non_null(strstr(text, "# TYPE poenet_agent_lag_seconds gauge\n"));
    assert_null(strstr(text, "poenet_agent_lag_seconds{"));
    free(text);
}

static void test_counters_and_agents(void **state)
{
    (void)state;
    stats_t st = { .started_ms = NOW - 1000, .frames_in = 1234, .batches_accepted = 1200,
                   .batches_duplicate = 7, .samples_accepted = 98765432101ULL,
                   .samples_already_archived = 3, .heartbeats_in = 40, .agent_bad_lines = 5,
                   .handshake_denied = 2, .handshake_failed = 9, .lane_plans = 3,
                   .lane_plan_reload_failures = 1, .batches_refused = 6,
                   .handshake_attempts_failed = 31, .upstream_refused_other = 2 };
    st.upstream_refused[REJ_TOO_OLD] = 17;
    st.upstream_refused[REJ_NOT_OWNER] = 8;
    st.rejected[REJ_OVERSIZED] = 1;
    st.rejected[REJ_DECODE] = 4;
    st.rejected[REJ_GAP] = 1;
    sess_table_t *t = sess_table_new();
    sess_t *nb = sess_get(t, "250401", TAX_NORTHBOUND);
    nb->epoch = 99;
    nb->acked_seq = 120;
    nb->durable_seq = 118;
    nb->newest_ms = NOW - 12500;
    nb->last_seen_ms = NOW - 250;
    nb->spool_batches = 2;
    nb->oldest_unacked_ms = NOW - 4000;
    nb->batches = 120;
    nb->duplicates = 3;
    nb->gaps = 1;
    nb->dropped = 6;
    nb->bad_lines = 5;
    nb->refused[REJ_FUTURE] = 1440;
    nb->refused[REJ_LANES] = 2;
    sess_t *sb = sess_get(t, "250401", TAX_SOUTHBOUND); /* seen, nothing archived yet */
    sb->last_seen_ms = NOW - 1000;

    char *text = metrics_render(&st, t, NULL, true, NOW);
    assert_non_null(text);
    s_validate(text);
    assert_true(s_must(text, "poenet_archive_connected") == 1);
    assert_true(s_must(text, "poenet_frames_received_total") == 1234);
    assert_non_null(strstr(text, "\npoenet_samples_accepted_total 98765432101\n"));
    assert_true(s_must(text, "poenet_batches_duplicate_total") == 7);
    assert_true(s_must(text, "poenet_heartbeats_received_total") == 40);
    assert_true(s_must(text, "poenet_rejected_total{reason=\"decode\"}") == 4);
    assert_true(s_must(text, "poenet_rejected_total{reason=\"gap\"}") == 1);
    assert_true(s_must(text, "poenet_handshake_denied_total") == 2);
    assert_true(s_must(text, "poenet_handshake_failed_total") == 9);
    assert_true(s_must(text, "poenet_lane_plans") == 3);
    assert_true(s_must(text, "poenet_batches_refused_total") == 6);
    assert_true(s_must(text, "poenet_handshake_attempts_failed_total") == 31);
    assert_true(s_must(text, "poenet_rejected_total{reason=\"oversized\"}") == 1);
    assert_true(s_must(text, "poenet_upstream_refused_samples_total{reason=\"too_old\"}") == 17);
    assert_true(s_must(text, "poenet_upstream_refused_samples_total{reason=\"other\"}") == 2);
    assert_true(s_must(text, "poenet_upstream_refused_samples_total{reason=\"not_owner\"}") == 8);
    /* Refused samples per agent and reason: one series per sample reason. */
    assert_true(s_must(text, "poenet_agent_refused_samples_total{crossing=\"250401\","
                             "direction=\"northbound\",reason=\"future\"}") == 1440);
    assert_true(s_must(text, "poenet_agent_refused_samples_total{crossing=\"250401\","
                             "direction=\"northbound\",reason=\"lanes\"}") == 2);
    assert_true(s_must(text, "poenet_agent_refused_samples_total{crossing=\"250401\","
                             "direction=\"southbound\",reason=\"too_old\"}") == 0);
    /* The HELP texts say what is counted: peers, not retries. */
    assert_non_null(strstr(text, "# HELP poenet_handshake_denied_total Agent keys ZAP refused"));
    assert_non_null(strstr(text, "# HELP poenet_handshake_failed_total Peer addresses"));
    assert_true(s_must(text, "poenet_lane_plan_reload_failures_total") == 1);
    assert_true(s_must(text, "poenet_agents") == 2);

    const char *n = "{crossing=\"250401\",direction=\"northbound\"}";
    const char *s = "{crossing=\"250401\",direction=\"southbound\"}";
    char key[160];
#define AGENT(metric, labels) (snprintf(key, sizeof key, "%s%s", metric, labels), key)
    assert_true(s_must(text, AGENT("poenet_agent_lag_seconds", n)) == 12.5);
    assert_true(s_must(text, AGENT("poenet_agent_last_seen_seconds", n)) == 0.25);
    assert_true(s_must(text, AGENT("poenet_agent_acked_seq", n)) == 120);
    assert_true(s_must(text, AGENT("poenet_agent_durable_seq", n)) == 118);
    assert_true(s_must(text, AGENT("poenet_agent_spool_batches", n)) == 2);
    assert_true(s_must(text, AGENT("poenet_agent_oldest_unacked_seconds", n)) == 4);
    assert_true(s_must(text, AGENT("poenet_agent_gaps_total", n)) == 1);
    assert_true(s_must(text, AGENT("poenet_agent_dropped_batches_total", n)) == 6);
    assert_true(s_must(text, AGENT("poenet_agent_duplicates_total", n)) == 3);
    /* Southbound has no archived sample and no spool report: no lag and no
     * age is invented for it, but it is seen and its seqs are there. */
    double v;
    assert_false(s_value(text, AGENT("poenet_agent_lag_seconds", s), &v));
    assert_false(s_value(text, AGENT("poenet_agent_oldest_unacked_seconds", s), &v));
    assert_true(s_must(text, AGENT("poenet_agent_last_seen_seconds", s)) == 1);
    assert_true(s_must(text, AGENT("poenet_agent_acked_seq", s)) == 0);
#undef AGENT
    free(text);
    sess_table_destroy(&t);
}

/* Label values are escaped: a session name with a quote, a backslash and a
 * newline (impossible from the wire, which checks ids, but the renderer must
 * not rely on that) still yields one well-formed sample line. */
static void test_label_values_are_escaped(void **state)
{
    (void)state;
    stats_t st = { .started_ms = NOW };
    sess_table_t *t = sess_table_new();
    sess_t *x = sess_get(t, "a\"b\\c\n", TAX_NORTHBOUND);
    x->acked_seq = 5;
    char *text = metrics_render(&st, t, NULL, true, NOW);
    assert_non_null(text);
    s_validate(text);
    assert_true(s_must(text, "poenet_agent_acked_seq{crossing=\"a\\\"b\\\\c\\n\",direction=\"northbound\"}") == 5);
    free(text);
    sess_table_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_collector_is_valid_and_zero),
        cmocka_unit_test(test_counters_and_agents),
        cmocka_unit_test(test_label_values_are_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
