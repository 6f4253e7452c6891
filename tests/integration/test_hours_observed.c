/* test_hours_observed — each side's hours learned end to end (issue 12):
 * three weeks of sensor lines for both directions of Whirlpool Bridge
 * (090103, US side posted daily 07:00-23:00, Canadian side unknown), with
 * known hours on both sides, replayed at full speed through two real
 * poe-agents → poe-collector → rrdcached.
 *
 * Truth: the US side (southbound) keeps its posted daily 07:00-23:00 and
 * opens 40 minutes late on the Wednesday of the third week; the Canadian
 * side (northbound) keeps mon-fri 08:00-22:00, sat,sun 09:00-18:00, and is
 * closed on the Wednesday of the first week (Remembrance Day when the
 * weeks fall in November). While closed a side has no lanes open, nobody
 * is served and nobody arrives (arrivals are turned away upstream).
 *
 * Checked: both observed schedules equal the truth at every boundary (the
 * data are whole minutes, the learning rounds to 5: here exact), 3 weeks
 * behind each with high confidence, the closure and the late opening listed
 * as exceptions with their dates and kinds, no weekly deviation from the
 * posted US hours, the /v1/hours/mismatches windows of this week equal the
 * ones computed from the truth (US posted, other side observed, "source":
 * "observed"), and a crossing without any data stays unknown. Then the
 * collector is restarted: it relearns from the archive alone (hourly rows
 * in the compact profile the tests use) and finds the same schedules; and
 * poe-report hours uses the Canadian side's observed hours beside the
 * posted US ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hours.h"
#include "hours_obs.h"
#include "proc.h"
#include "stack.h"
#include "timeutil.h"
#include "zone.h"

#define XING "090103"
#define TZ_US "America/New_York"
#define TZ_CA "America/Toronto"
#define WEEKS 3

static teststack_t s_stack;
static int64_t s_w0;            /* Monday 00:00 local, WEEKS weeks before this week's */
static int64_t s_closed_day, s_late_day;

/* Open at local minute m of day dn (weekday wd, Monday 0)? */
static int s_us_open(int64_t dn, int wd, int m)
{
    (void)wd;
    int from = dn == s_late_day ? 7 * 60 + 40 : 7 * 60;
    return m >= from && m < 23 * 60;
}

static int s_ca_open(int64_t dn, int wd, int m)
{
    if (dn == s_closed_day)
        return 0;
    return wd < 5 ? m >= 8 * 60 && m < 22 * 60 : m >= 9 * 60 && m < 18 * 60;
}

/* Sensor lines of one direction over the weeks: the lane opens and closes
 * with the hours; each open minute one unit arrives and one departs. */
static void s_write_events(const char *path, const char *tz, int (*open_at)(int64_t, int, int))
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%lld lane L1 passenger standard closed\n", (long long)s_w0 * 1000);
    int was = 0;
    int64_t end = s_w0 + WEEKS * 7 * 86400LL;
    for (int64_t t = s_w0; t < end; t += 60) {
        struct tm lt;
        assert_int_equal(zone_local(tz, t, &lt, NULL, 0), 0);
        int64_t dn = hours_obs_daynum(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
        int is = open_at(dn, (lt.tm_wday + 6) % 7, lt.tm_hour * 60 + lt.tm_min);
        if (is != was)
            fprintf(f, "%lld lane L1 passenger standard %s\n", (long long)t * 1000, is ? "open" : "closed");
        was = is;
        if (is)
            fprintf(f, "%lld arrive passenger standard\n%lld depart L1\n", (long long)(t + 10) * 1000,
                    (long long)(t + 30) * 1000);
    }
    fprintf(f, "%lld lane L1 passenger standard closed\n", (long long)end * 1000);
    fclose(f);
}

static pid_t s_agent(const char *dir, const char *events)
{
    char log[700], spool[700], agent[1024];
    snprintf(log, sizeof log, "%s/agent-%s.log", s_stack.dir, dir);
    snprintf(spool, sizeof spool, "%s/spool-%s", s_stack.dir, dir);
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    /* Nights are closed, not outages: a gap of two days is still data. */
    const char *argv[] = { agent, "--crossing", XING, "--direction", dir, "--collector",
                           s_stack.endpoint, "--replay", events, "--speed", "0", "--spool", spool,
                           "--interval", "60000", "--max-gap", "172800", "--spool-nosync", NULL };
    pid_t pid = proc_spawn(argv, log);
    assert_true(pid > 0);
    return pid;
}

static void s_wait_agent(pid_t pid)
{
    int status = -1;
    if (proc_wait_exit(pid, 240000, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not finish its replay within 240 s");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static json_t *s_get(const char *path)
{
    int status = 0;
    char *body = proc_http_get(s_stack.http_port, path, &status);
    assert_non_null(body);
    if (status != 200)
        fail_msg("GET %s -> %d %s", path, status, body);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    return j;
}

static json_t *s_obs(json_t *x, const char *side)
{
    return json_object_get(json_object_get(json_object_get(json_object_get(x, side), "modes"),
                                           "passenger"), "observed");
}

/* Poll /v1/hours/090103 until both sides have WEEKS weeks learned. */
static json_t *s_wait_learned(void)
{
    for (int i = 0; i < 300; i++) {
        json_t *x = s_get("/v1/hours/" XING);
        if (json_integer_value(json_object_get(s_obs(x, "us"), "weeks")) >= WEEKS &&
            json_integer_value(json_object_get(s_obs(x, "other"), "weeks")) >= WEEKS)
            return x;
        if (i == 299) {
            char *dump = json_dumps(x, JSON_INDENT(1));
            fprintf(stderr, "%s\n", dump);
            free(dump);
            fprintf(stderr, "(collector log: %s/collector.log)\n", s_stack.dir);
            fail_msg("observed hours of %s not learned within 30 s", XING);
        }
        json_decref(x);
        usleep(100 * 1000);
    }
    return NULL;
}

static const char *s_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(null)";
}

/* The exception of side obs on date, NULL if none. */
static json_t *s_exception(json_t *obs, const char *date)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(obs, "exceptions"), i, e)
        if (strcmp(s_str(e, "date"), date) == 0)
            return e;
    return NULL;
}

static void s_date(int64_t dn, char *buf, size_t len)
{
    int y, m, d;
    hours_obs_civil(dn, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
}

static void s_check_schedules(json_t *x, bool fine)
{
    json_t *us = s_obs(x, "us"), *ca = s_obs(x, "other");
    assert_true(json_is_true(json_object_get(us, "known")));
    assert_true(json_is_true(json_object_get(ca, "known")));
    assert_string_equal(s_str(us, "text"), "daily 07:00-23:00");
    assert_string_equal(s_str(ca, "text"), "mon-fri 08:00-22:00; sat,sun 09:00-18:00");
    assert_int_equal(json_integer_value(json_object_get(us, "weeks")), WEEKS);
    assert_string_equal(s_str(us, "confidence_level"), "high");
    assert_string_equal(s_str(ca, "confidence_level"), "high");
    char closed[16], late[16];
    s_date(s_closed_day, closed, sizeof closed);
    s_date(s_late_day, late, sizeof late);
    json_t *e = s_exception(ca, closed);
    if (!e)
        fail_msg("no exception on %s on the Canadian side", closed);
    assert_string_equal(s_str(e, "kind"), "closed");
    e = s_exception(us, late);
    if (!e)
        fail_msg("no exception on %s on the US side", late);
    assert_string_equal(s_str(e, "kind"), "opened_late");
    /* Minute data sees 40 minutes; the archive's hourly rows, the hour. */
    assert_int_equal(json_integer_value(json_object_get(e, "minutes")), fine ? 40 : 60);
    if (fine)
        assert_string_equal(s_str(e, "observed"), "07:40-23:00");
    assert_int_equal(json_array_size(json_object_get(us, "exceptions")), 1);
    assert_int_equal(json_array_size(json_object_get(ca, "exceptions")), 1);
    /* The US side keeps its posted hours every week. */
    json_t *dev = json_object_get(json_object_get(json_object_get(json_object_get(x, "us"), "modes"),
                                                  "passenger"), "deviations");
    assert_true(json_is_true(json_object_get(dev, "comparable")));
    assert_int_equal(json_array_size(json_object_get(dev, "list")), 0);
}

static bool s_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* poe-report hours on the archive: the Canadian side's observed hours are
 * used where its posted ones are unknown, side by side with the posted US
 * ones, and the one-side-open windows follow (weekdays 07-08 and 22-23,
 * weekends 07-09 and 18-23: 14 a week, all US-only). */
static void s_check_report(void)
{
    char rep[1024], rrd[700], archive[700], reg[1024], out[700], from[32], to[32], log[700];
    snprintf(rep, sizeof rep, "%s", stack_bin_path(&s_stack, "poe-report"));
    snprintf(rrd, sizeof rrd, "unix:%s", s_stack.rrd_sock);
    snprintf(archive, sizeof archive, "%s/archive", s_stack.dir);
    snprintf(reg, sizeof reg, "%s", stack_src_path(&s_stack, "deploy/registry.conf"));
    snprintf(out, sizeof out, "%s/report", s_stack.dir);
    snprintf(from, sizeof from, "%lld", (long long)s_w0);
    snprintf(to, sizeof to, "%lld", (long long)(s_w0 + WEEKS * 7 * 86400LL));
    snprintf(log, sizeof log, "%s/report.log", s_stack.dir);
    assert_int_equal(mkdir(out, 0755), 0);
    const char *argv[] = { rep, "hours", "--archive", archive, "--rrdcached", rrd, "--registry", reg,
                           "--from", from, "--to", to, "--crossing", XING, "--out", out, NULL };
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    assert_true(pid > 0);
    assert_int_equal(proc_wait_exit(pid, 60000, &status), 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        FILE *lf = fopen(log, "r");
        char l[512];
        while (lf && fgets(l, sizeof l, lf))
            fputs(l, stderr);
        if (lf)
            fclose(lf);
        fail_msg("poe-report hours failed (log above)");
    }
    char path[800], line[1024];
    snprintf(path, sizeof path, "%s/hours-%s.csv", out, XING);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int us_line = 0, ca_line = 0, windows = 0;
    while (fgets(line, sizeof line, f)) {
        if (s_starts(line, XING ",passenger,hours,US,"))
            us_line = strstr(line, "posted: daily 07:00-23:00 | observed: daily 07:00-23:00") &&
                      strstr(line, "compared: posted");
        if (s_starts(line, XING ",passenger,hours,other,"))
            ca_line = strstr(line, "posted: unknown | observed: mon-fri 08:00-22:00; sat,sun 09:00-18:00") &&
                      strstr(line, "compared: observed");
        if (s_starts(line, XING ",passenger,mismatch,US,"))
            windows++;
        else if (strstr(line, ",mismatch,"))
            fail_msg("unexpected window: %s", line);
    }
    fclose(f);
    assert_true(us_line);
    assert_true(ca_line);
    assert_int_equal(windows, 14);
}

/* This week's mismatch windows equal the truth's. */
static void s_check_mismatches(void)
{
    json_t *j = s_get("/v1/hours/mismatches");
    json_t *mine = NULL, *m;
    size_t i;
    json_array_foreach(json_object_get(j, "mismatches"), i, m)
        if (strcmp(s_str(m, "id"), XING) == 0 && strcmp(s_str(m, "mode"), "passenger") == 0)
            mine = m;
    assert_non_null(mine);
    assert_string_equal(s_str(mine, "source"), "observed");
    assert_string_equal(s_str(mine, "us_source"), "posted");
    assert_string_equal(s_str(mine, "other_source"), "observed");
    hours_side_t us = { .known = true }, ca = { .known = true };
    char why[128];
    assert_int_equal(hours_parse_rule("daily 07:00-23:00", &us.mode[TAX_PASSENGER].rules[0], why,
                                      sizeof why), 0);
    us.mode[TAX_PASSENGER].nrules = 1;
    assert_int_equal(hours_parse_rule("mon-fri 08:00-22:00", &ca.mode[TAX_PASSENGER].rules[0], why,
                                      sizeof why), 0);
    assert_int_equal(hours_parse_rule("sat,sun 09:00-18:00", &ca.mode[TAX_PASSENGER].rules[1], why,
                                      sizeof why), 0);
    ca.mode[TAX_PASSENGER].nrules = 2;
    hours_window_t win[64];
    int nwin, us_only, ca_only;
    int64_t week = s_w0 + WEEKS * 7 * 86400LL;
    assert_int_equal(hours_mismatch_week(&us, TZ_US, &ca, TZ_CA, TAX_PASSENGER, week, win, 64, &nwin,
                                         &us_only, &ca_only), 0);
    json_t *wins = json_object_get(mine, "windows");
    assert_int_equal(json_array_size(wins), nwin);
    assert_int_equal(json_integer_value(json_object_get(mine, "us_only_open_min_per_week")), us_only);
    assert_int_equal(json_integer_value(json_object_get(mine, "other_only_open_min_per_week")), ca_only);
    for (int k = 0; k < nwin; k++) {
        char a[32], b[32];
        json_t *w = json_array_get(wins, (size_t)k);
        assert_string_equal(s_str(w, "from"), tu_iso8601(win[k].from, a, sizeof a));
        assert_string_equal(s_str(w, "to"), tu_iso8601(win[k].to, b, sizeof b));
        assert_string_equal(s_str(w, "open_side"), win[k].open_side == HOURS_US ? "US" : "other");
        /* The archived demand in the window of a typical week (one arrival
         * each open minute): US-only windows here, so southbound (into the
         * US) arrived and northbound (into Canada, closed) did not; loose
         * by a third, for a DST change inside the weeks (UTC bins). */
        json_t *dem = json_object_get(w, "demand");
        double minutes = (double)json_integer_value(json_object_get(w, "minutes"));
        double sb = json_number_value(json_object_get(dem, "southbound"));
        double nb = json_number_value(json_object_get(dem, "northbound"));
        assert_true(json_is_number(json_object_get(dem, "southbound")));
        assert_true(json_is_number(json_object_get(dem, "northbound")));
        if (win[k].open_side == HOURS_US && (sb < minutes * 0.6 || nb > minutes * 0.4))
            fail_msg("window %s: demand southbound %.1f, northbound %.1f in %.0f minutes", a, sb, nb, minutes);
        assert_true(json_number_value(json_object_get(w, "demand_covered")) >= 0.9);
    }
    json_decref(j);
}

static void test_three_weeks(void **state)
{
    (void)state;
    /* The weeks: the three full local weeks before this one. */
    int64_t now = tu_now_ms() / 1000;
    struct tm lt;
    assert_int_equal(zone_local(TZ_CA, now, &lt, NULL, 0), 0);
    int64_t today = hours_obs_daynum(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
    int64_t monday = today - (lt.tm_wday + 6) % 7 - WEEKS * 7;
    int y, mo, d;
    hours_obs_civil(monday, &y, &mo, &d);
    assert_int_equal(zone_to_utc(TZ_CA, y, mo, d, 0, 0, &s_w0), 0);
    s_closed_day = monday + 2;
    s_late_day = monday + 14 + 2;

    char nb[600], sb[600];
    snprintf(nb, sizeof nb, "%s/northbound.txt", s_stack.dir);
    snprintf(sb, sizeof sb, "%s/southbound.txt", s_stack.dir);
    s_write_events(nb, TZ_CA, s_ca_open);   /* northbound enters Canada */
    s_write_events(sb, TZ_US, s_us_open);
    int64_t t0 = tu_mono_ms();
    pid_t a = s_agent("northbound", nb), b = s_agent("southbound", sb);
    s_wait_agent(a);
    s_wait_agent(b);
    json_t *x = s_wait_learned();
    print_message("3 weeks x 2 directions replayed and learned in %.1f s\n",
                  (double)(tu_mono_ms() - t0) / 1000.0);
    s_check_schedules(x, true);
    json_decref(x);
    s_check_mismatches();

    /* A crossing no agent reported: unknown, never closed. */
    x = s_get("/v1/hours/090102");
    json_t *o = s_obs(x, "other");
    assert_true(json_is_false(json_object_get(o, "known")));
    assert_string_equal(s_str(o, "why"), "no data");
    assert_true(json_is_null(json_object_get(o, "text")));
    json_decref(x);

    /* Restarted, the collector learns from the archive alone. */
    proc_stop(s_stack.collector, 10000);
    s_stack.collector = -1;
    assert_int_equal(stack_start_collector(&s_stack), 0);
    x = s_wait_learned();
    s_check_schedules(x, false);
    json_decref(x);
    s_check_report();
}

static int s_setup(void **state)
{
    (void)state;
    memset(&s_stack, 0, sizeof s_stack);
    static const char *const extra[] = { "--hours-learn", "1", NULL };
    return stack_start_args(&s_stack, 0, extra);
}

static int s_teardown(void **state)
{
    (void)state;
    return stack_stop(&s_stack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_weeks, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
