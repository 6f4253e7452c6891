/* test_dashboards — the web pages in a real browser: rrdcached, a
 * collector serving dashboards/ and simulated agents (poe-agent
 * --simulate) for both directions of San Ysidro (250401) and Blaine -
 * Pacific Highway (300401), after a simulated day of San Ysidro history
 * (poe-sim `peak`, replayed through an agent); then Debian's headless Chromium, driven over
 * the DevTools protocol on a pipe (tests/lib/cdp), loads
 *   /            the live board, and
 *   /crossing/250401  one crossing with its graphs,
 * and checks that both directions are shown, that every number on the page
 * (wait, status, lanes open of maximum) is the JSON feed's, that the
 * graphs were drawn (points plotted, and pixels of both directions'
 * colours on the 24-hour canvas), and that the console stayed free of
 * errors, exceptions, failed loads and CSP violations. It saves
 * screenshots board.png and crossing-250401.png in its temporary directory
 * (POE_SCREENSHOT_DIR=docs/img refreshes the committed ones).
 *
 * The agents are stopped before the pages load, and the collector's
 * staleness limit is an hour, so the feed the page read and the feed the
 * test reads are the same. Skipped, with a message, when chromium is not
 * installed (`make deps` installs it). Static-file safety through the real
 * server (traversal, escapes, types) runs either way. No timing
 * assertions: every wait is a bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cdp.h"
#include "proc.h"
#include "stack.h"

#define EN_DASH "\xe2\x80\x93"
#define EM_DASH "\xe2\x80\x94"

static teststack_t s_stack;
static cdp_t s_cdp;
static bool s_browser;          /* chromium is installed and started */

static const struct {
    const char *id, *lanes;     /* simulated lanes: the registry's maximum per mode */
} s_crossings[] = {
    { "250401", "passenger=34,pedestrian=22,commercial=0" },
    { "300401", "passenger=7,pedestrian=0,commercial=3" },
};
#define NCROSS (sizeof s_crossings / sizeof s_crossings[0])
static pid_t s_agents[NCROSS * 2];

/* ---- helpers ----------------------------------------------------------------- */

static json_t *s_get_json(const char *path)
{
    int status = 0;
    char *body = proc_http_get(s_stack.http_port, path, &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

/* True once the archive has a wait for the queue in the last hour. */
static bool s_history_has_wait(const char *id, const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "/v1/history?crossing=%s&direction=%s&mode=passenger", id, dir);
    json_t *h = s_get_json(path);
    bool found = false;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(h, "rows"), i, row)
        if (json_is_number(json_array_get(row, 1)))
            found = true;
    json_decref(h);
    return found;
}

/* The live feed without its "generated" stamp. */
static json_t *s_feed_body(void)
{
    json_t *f = s_get_json("/v1/crossings");
    if (f)
        json_object_del(f, "generated");
    return f;
}

/* A day of history before the live data, so the graphs have lines: a
 * poe-sim `peak` day (San Ysidro's morning rush) ending about two hours
 * ago, replayed through an agent per direction of 250401 (seeds differ,
 * so the two directions do). Returns 0 or -1. */
static int s_backfill(void)
{
    time_t now = time(NULL);
    long long week = ((long long)now - 26 * 3600) / 3600 * 3600;
    for (int d = 0; d < 2; d++) {
        const char *dir = d ? "southbound" : "northbound";
        char sim[1024], agent[1024], events[700], truth[700], log[700], spool[700], wk[32], seed[8];
        snprintf(sim, sizeof sim, "%s", stack_bin_path(&s_stack, "poe-sim"));
        snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
        snprintf(events, sizeof events, "%s/backfill-%s.txt", s_stack.dir, dir);
        snprintf(truth, sizeof truth, "%s/backfill-%s.truth", s_stack.dir, dir);
        snprintf(log, sizeof log, "%s/backfill-%s.log", s_stack.dir, dir);
        snprintf(spool, sizeof spool, "%s/spool-backfill-%s", s_stack.dir, dir);
        snprintf(wk, sizeof wk, "%lld", week);
        snprintf(seed, sizeof seed, "%d", d + 1);
        const char *sargv[] = { sim, "--scenario", "peak", "--week", wk, "--hours", "24",
                                "--seed", seed, "--events", events, "--truth", truth, NULL };
        const char *aargv[] = { agent, "--crossing", "250401", "--direction", dir, "--collector",
                                s_stack.endpoint, "--replay", events, "--speed", "0", "--spool",
                                spool, NULL };
        const char *const *steps[] = { sargv, aargv };
        for (int k = 0; k < 2; k++) {
            int status = -1;
            pid_t pid = proc_spawn(steps[k], log);
            if (pid <= 0 || proc_wait_exit(pid, 180000, &status) != 0 || !WIFEXITED(status) ||
                WEXITSTATUS(status) != 0) {
                if (pid > 0)
                    proc_stop(pid, 2000);
                fprintf(stderr, "test_dashboards: backfill %s failed (log %s)\n", steps[k][0], log);
                return -1;
            }
        }
    }
    return 0;
}

static int s_start_agents(void)
{
    for (size_t i = 0; i < NCROSS; i++) {
        for (int d = 0; d < 2; d++) {
            const char *dir = d ? "southbound" : "northbound";
            char log[700], spool[700], agent[1024];
            snprintf(log, sizeof log, "%s/agent-%s-%s.log", s_stack.dir, s_crossings[i].id, dir);
            snprintf(spool, sizeof spool, "%s/spool-%s-%s", s_stack.dir, s_crossings[i].id, dir);
            snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
            const char *argv[] = { agent, "--crossing", s_crossings[i].id, "--direction", dir,
                                   "--collector", s_stack.endpoint, "--spool", spool,
                                   "--simulate", "--sim-lanes", s_crossings[i].lanes,
                                   "--sim-load", "1.05", NULL };
            s_agents[i * 2 + (size_t)d] = proc_spawn(argv, log);
            if (s_agents[i * 2 + (size_t)d] <= 0)
                return -1;
        }
    }
    return 0;
}

static void s_stop_agents(void)
{
    for (size_t i = 0; i < NCROSS * 2; i++) {
        if (s_agents[i] > 0)
            proc_stop(s_agents[i], 5000);
        s_agents[i] = 0;
    }
}

/* Until every direction has archived a wait (the graphs have a point) and
 * then, agents stopped, until the feed stops changing. Bounded. */
static int s_feed_data(void)
{
    int waited = 0;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < NCROSS && all; i++)
            all = s_history_has_wait(s_crossings[i].id, "northbound") &&
                  s_history_has_wait(s_crossings[i].id, "southbound");
        if (all)
            break;
        if (++waited > 240) {
            fprintf(stderr, "test_dashboards: no archived wait after 240 s (logs in %s)\n",
                    s_stack.dir);
            return -1;
        }
        sleep(1);
    }
    s_stop_agents();
    json_t *prev = s_feed_body();
    for (int i = 0; i < 40; i++) {
        usleep(500 * 1000);
        json_t *cur = s_feed_body();
        bool same = prev && cur && json_equal(prev, cur);
        json_decref(prev);
        prev = cur;
        if (same) {
            json_decref(prev);
            return 0;
        }
    }
    json_decref(prev);
    fprintf(stderr, "test_dashboards: the feed kept changing after the agents stopped\n");
    return -1;
}

static int s_setup(void **state)
{
    (void)state;
    static char dash[1024];
    const char *src = getenv("POE_SRC");
    char cwd[900];
    snprintf(dash, sizeof dash, "%s/dashboards", src ? src : getcwd(cwd, sizeof cwd) ? cwd : ".");
    const char *extra[] = { "--dashboards", dash, "--stale-after", "3600", NULL };
    if (stack_start_args(&s_stack, 0, extra) != 0)
        return -1;
    if (!cdp_chromium()) {
        fprintf(stderr, "test_dashboards: chromium not installed (Debian package `chromium`; "
                        "`make deps` installs it): browser tests skipped\n");
        return 0;
    }
    if (s_backfill() != 0 || s_start_agents() != 0 || s_feed_data() != 0)
        return -1;
    char profile[700], log[700];
    snprintf(profile, sizeof profile, "%s/chromium-profile", s_stack.dir);
    snprintf(log, sizeof log, "%s/chromium.log", s_stack.dir);
    mkdir(profile, 0700);
    if (cdp_start(&s_cdp, profile, log, 1200, 1000) != 0) {
        fprintf(stderr, "test_dashboards: chromium did not start (log %s)\n", log);
        return -1;
    }
    s_browser = true;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    if (s_browser)
        cdp_stop(&s_cdp);
    s_stop_agents();
    return stack_stop(&s_stack);
}

static void s_need_browser(void)
{
    if (!s_browser) {
        fprintf(stderr, "test_dashboards: skipped: chromium not installed\n");
        skip();
    }
}

static void s_url(char *buf, size_t n, const char *path)
{
    snprintf(buf, n, "http://127.0.0.1:%d%s", s_stack.http_port, path);
}

static const char *s_shot_path(const char *name)
{
    static char path[1200];
    const char *dir = getenv("POE_SCREENSHOT_DIR");
    char img[1100];
    /* Into the test's own directory unless asked: a test run must not
     * change the committed pictures (POE_SCREENSHOT_DIR=docs/img refreshes
     * them). */
    if (dir && *dir)
        snprintf(img, sizeof img, "%s", dir);
    else
        snprintf(img, sizeof img, "%s/screenshots", s_stack.dir);
    mkdir(img, 0755);
    snprintf(path, sizeof path, "%s/%s", img, name);
    return path;
}

static void s_no_console_errors(const char *page)
{
    for (int i = 0; i < s_cdp.nerrors; i++)
        fprintf(stderr, "%s: %s\n", page, s_cdp.errors[i]);
    if (s_cdp.nerrors)
        fail_msg("%s: %d console error(s)", page, s_cdp.nerrors);
}

/* When the page first showed its data, after navigation start (the
 * page's own performance.now(); printed, not asserted). */
static void s_print_ready(const char *url)
{
    json_t *v = cdp_eval(&s_cdp, "+document.body.dataset.readyMs");
    printf("%s: data shown %lld ms after navigation start\n", url,
           (long long)json_number_value(v));
    json_decref(v);
}

/* What the page shows for a queue of the feed (dashboards/common.js). */
static void s_expect_wait(json_t *q, char *buf, size_t n)
{
    const char *st = json_string_value(json_object_get(q, "status"));
    json_t *min = json_object_get(q, "wait_min");
    if (strcmp(st, "open") == 0) {
        if (!json_is_integer(min)) {
            snprintf(buf, n, EM_DASH);
        } else {
            long long m = json_integer_value(min);
            if (m < 120)
                snprintf(buf, n, "%lld min", m);
            else
                snprintf(buf, n, "%lld h %02lld", m / 60, m % 60);
        }
    } else if (strcmp(st, "closed") == 0) {
        const char *by = json_string_value(json_object_get(q, "closed_by"));
        snprintf(buf, n, "%s", by && strcmp(by, "hours") == 0 ? "closed (hours)" : "closed");
    } else {
        snprintf(buf, n, "%s", strcmp(st, "stale") == 0 ? "stale" : "no data");
    }
}

static void s_expect_lanes(json_t *q, char *buf, size_t n)
{
    json_t *open = json_object_get(q, "lanes_open");
    long long max = json_integer_value(json_object_get(q, "max_lanes"));
    if (json_is_integer(open))
        snprintf(buf, n, "%lld/%lld", json_integer_value(open), max);
    else
        snprintf(buf, n, EN_DASH "/%lld", max);
}

/* The page's queue cells: {key: {status, wait, lanes}}. */
static json_t *s_page_cells(void)
{
    json_t *list = cdp_eval(&s_cdp,
        "Array.from(document.querySelectorAll('td.q')).map(function (td) {"
        "  var w = td.querySelector('.wait'), l = td.querySelector('.lanes');"
        "  return {key: td.dataset.key, status: td.dataset.status || null,"
        "          wait: w ? w.textContent : null, lanes: l ? l.textContent : null}; })");
    assert_non_null(list);
    json_t *cells = json_object();
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        const char *key = json_string_value(json_object_get(c, "key"));
        assert_non_null(key);
        if (json_object_get(cells, key))
            fail_msg("queue %s shown twice", key);
        json_object_set(cells, key, c);
    }
    json_decref(list);
    return cells;
}

/* Every queue of the feed is on the page with the feed's status, wait and
 * lanes; counts the open queues with a wait per direction (0 north, 1
 * south) of crossing want (NULL: any). Returns the queues compared. */
static int s_compare(json_t *feed, json_t *cells, const char *want, int open_waits[2])
{
    int compared = 0;
    size_t i, j, k;
    json_t *c, *d, *q;
    json_array_foreach(json_object_get(feed, "crossings"), i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        json_array_foreach(json_object_get(c, "directions"), j, d) {
            const char *dir = json_string_value(json_object_get(d, "direction"));
            json_array_foreach(json_object_get(d, "queues"), k, q) {
                char key[128], wait[64], lanes[64];
                snprintf(key, sizeof key, "%s/%s/%s/%s", id, dir,
                         json_string_value(json_object_get(q, "mode")),
                         json_string_value(json_object_get(q, "lane")));
                json_t *cell = json_object_get(cells, key);
                if (!cell)
                    fail_msg("queue %s of the feed is not on the page", key);
                s_expect_wait(q, wait, sizeof wait);
                s_expect_lanes(q, lanes, sizeof lanes);
                const char *st = json_string_value(json_object_get(q, "status"));
                const char *pst = json_string_value(json_object_get(cell, "status"));
                const char *pw = json_string_value(json_object_get(cell, "wait"));
                const char *pl = json_string_value(json_object_get(cell, "lanes"));
                if (!pst || strcmp(pst, st) != 0 || !pw || strcmp(pw, wait) != 0 || !pl ||
                    strcmp(pl, lanes) != 0)
                    fail_msg("%s: page shows %s '%s' lanes '%s', feed says %s '%s' lanes '%s'", key,
                             pst ? pst : "?", pw ? pw : "?", pl ? pl : "?", st, wait, lanes);
                compared++;
                if ((!want || strcmp(want, id) == 0) && strcmp(st, "open") == 0 &&
                    json_is_integer(json_object_get(q, "wait_min")))
                    open_waits[strcmp(dir, "southbound") == 0]++;
            }
        }
    }
    return compared;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_board(void **state)
{
    (void)state;
    s_need_browser();
    char url[256];
    s_url(url, sizeof url, "/#sort=wait");
    cdp_clear_errors(&s_cdp);
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
    s_print_ready(url);
    json_t *feed = s_get_json("/v1/crossings");
    assert_non_null(feed);
    json_t *cells = s_page_cells();
    for (size_t i = 0; i < NCROSS; i++) {
        int open[2] = { 0, 0 };
        s_compare(feed, cells, s_crossings[i].id, open);
        if (!open[0] || !open[1])
            fail_msg("board: %s shows %d northbound and %d southbound waits", s_crossings[i].id,
                     open[0], open[1]);
    }
    int open[2] = { 0, 0 };
    int n = s_compare(feed, cells, NULL, open);
    printf("board: %d queues match the feed, %d+%d open waits shown\n", n, open[0], open[1]);
    /* every crossing of the feed has a group, with both direction headers */
    json_t *v = cdp_eval(&s_cdp, "[document.querySelectorAll('tbody.crossing').length,"
                                 " document.querySelectorAll('tbody.crossing th.dir').length]");
    size_t ncross = json_array_size(json_object_get(feed, "crossings"));
    assert_int_equal(json_integer_value(json_array_get(v, 0)), ncross);
    assert_int_equal(json_integer_value(json_array_get(v, 1)), 2 * ncross);
    json_decref(v);
    /* filters: Canada only leaves CA crossings; the text filter finds one */
    v = cdp_eval(&s_cdp,
        "(function () { var b = document.getElementById('f-border'); b.value = 'CA';"
        " b.dispatchEvent(new Event('change'));"
        " var ids = Array.from(document.querySelectorAll('tbody.crossing')).map(function (t) { return t.dataset.id; });"
        " b.value = ''; b.dispatchEvent(new Event('change'));"
        " var f = document.getElementById('f-text'); f.value = '250401'; f.dispatchEvent(new Event('input'));"
        " var one = document.querySelectorAll('tbody.crossing').length;"
        " f.value = ''; f.dispatchEvent(new Event('input'));"
        " return {ca: ids, one: one}; })()");
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_object_get(v, "one")), 1);
    size_t i;
    json_t *idv;
    bool has300401 = false;
    json_array_foreach(json_object_get(v, "ca"), i, idv) {
        const char *id = json_string_value(idv);
        json_t *c;
        size_t k;
        json_array_foreach(json_object_get(feed, "crossings"), k, c)
            if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
                assert_string_equal(json_string_value(json_object_get(c, "border")), "CA");
        has300401 |= strcmp(id, "300401") == 0;
    }
    assert_true(has300401);
    json_decref(v);
    /* The board's hours badge keeps the registry's holiday closures, the
     * floating ones too (common.js closedOn, as collector/hours.c). */
    v = cdp_eval(&s_cdp,
        "(function () { var side = {known: true, tz: 'America/New_York',"
        " closed_dates: ['12-25', '11-thu#4', '05-mon#L', '02-sun#L'],"
        " modes: {passenger: {known: true, always_open: true}}};"
        " function at(y, mo, d, h) { return POE.sideOpen(side, ['passenger'], Date.UTC(y, mo - 1, d, h)); }"
        " return [at(2026, 11, 26, 17), at(2026, 11, 25, 17), at(2026, 12, 25, 17), at(2026, 5, 25, 17),"
        "  at(2026, 5, 18, 17), at(2032, 2, 29, 17), at(2032, 2, 22, 17)].join(' '); })()");
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "closed open closed closed open closed open");
    json_decref(v);
    /* A side without posted hours reads its observed ones, and says so; a
     * deviation from the posted hours is marked (common.js sideHours). */
    v = cdp_eval(&s_cdp,
        "(function () { var rules = [{days: ['mon','tue','wed','thu','fri'], from: '08:00', to: '22:00',"
        " overnight: false, season: null}];"
        " var side = {known: false, tz: 'America/Toronto', closed_dates: [], modes: {passenger: {known: false,"
        " rules: [], observed: {known: true, always_open: false, rules: rules, text: 'mon-fri 08:00-22:00'},"
        " deviations: {comparable: false, list: []}}}};"
        " var posted = {known: true, tz: 'America/Toronto', closed_dates: [], modes: {passenger: {known: true,"
        " always_open: false, rules: rules, deviations: {comparable: true, list: [{text: 'opens 25 min late on mon-fri'}]}}}};"
        " function at(s, y, mo, d, h) { return POE.hoursLabel(POE.sideHours(s, ['passenger'], Date.UTC(y, mo - 1, d, h))); }"
        " return [at(side, 2026, 11, 30, 17), at(side, 2026, 11, 30, 4), at(side, 2026, 11, 29, 17),"
        "  at(posted, 2026, 11, 30, 17)].join(' | '); })()");
    assert_non_null(v);
    assert_string_equal(json_string_value(v),
                        "open by hours (observed mon-fri 08:00-22:00) | closed by hours (observed mon-fri 08:00-22:00)"
                        " | closed by hours (observed mon-fri 08:00-22:00) | open by hours ≠ kept");
    json_decref(v);
    const char *shot = s_shot_path("board.png");
    assert_int_equal(cdp_screenshot(&s_cdp, shot, false), 0);
    printf("board: screenshot %s\n", shot);
    json_decref(cells);
    json_decref(feed);
    s_no_console_errors("/");
}

static void test_crossing(void **state)
{
    (void)state;
    s_need_browser();
    char url[256];
    s_url(url, sizeof url, "/crossing/250401");
    cdp_clear_errors(&s_cdp);
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
    s_print_ready(url);
    json_t *feed = s_get_json("/v1/crossings/250401");
    assert_non_null(feed);
    json_t *cells = s_page_cells();
    int open[2] = { 0, 0 };
    int n = s_compare(feed, cells, "250401", open);
    assert_int_equal((int)json_object_size(cells), n); /* nothing the feed does not have */
    if (!open[0] || !open[1])
        fail_msg("crossing: %d northbound and %d southbound waits shown", open[0], open[1]);
    /* The hours section: a row per side and mode with lanes, posted beside
     * observed (San Ysidro's US side posts 24h; a day of data is too little
     * to learn a week from). */
    json_t *hrow = cdp_eval(&s_cdp,
        "(function () { var r = document.querySelector('#hours tr[data-side=us][data-mode=passenger]');"
        " return r ? r.querySelector('.posted').textContent + ' | ' + r.querySelector('.observed').textContent : 'none'; })()");
    assert_non_null(hrow);
    /* "no data" until the first relearn (5 min), then "not every weekday observed" */
    if (strncmp(json_string_value(hrow), "24h | unknown (", 15) != 0)
        fail_msg("hours row: %s", json_string_value(hrow));
    json_decref(hrow);
    json_t *title = cdp_eval(&s_cdp, "document.getElementById('x-name').textContent");
    assert_string_equal(json_string_value(title),
                        json_string_value(json_object_get(json_array_get(json_object_get(feed, "crossings"), 0), "name")));
    json_decref(title);

    /* The graphs: points plotted, and pixels of each direction's colour
     * read back from the canvases (northbound #1565c0, southbound
     * #c2185b): the 24-hour wait graph has both directions on one axis
     * (where they overlap one may hide the other, so it counts either),
     * the per-direction graphs each have their own. */
    json_t *g = cdp_eval(&s_cdp,
        "(function () {"
        "  function count(id, rgb) {"
        "    var c = document.getElementById(id), d = c.getContext('2d')"
        "        .getImageData(0, 0, c.width, c.height).data, n = 0;"
        "    for (var i = 0; i < d.length; i += 4)"
        "      if (d[i + 3] >= 128 && Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) +"
        "          Math.abs(d[i + 2] - rgb[2]) < 60) n++;"
        "    return n; }"
        "  var NB = [21, 101, 192], SB = [194, 24, 91], pts = {};"
        "  ['c-wait-24h', 'c-wait-7d', 'c-wait-1y', 'c-flow-nb', 'c-flow-sb', 'c-lanes-nb',"
        "   'c-lanes-sb', 'c-week'].forEach(function (id) {"
        "    pts[id] = +document.getElementById(id).dataset.points; });"
        "  return {wait: count('c-wait-24h', NB) + count('c-wait-24h', SB),"
        "          nb: count('c-flow-nb', NB) + count('c-lanes-nb', NB),"
        "          sb: count('c-flow-sb', SB) + count('c-lanes-sb', SB), points: pts}; })()");
    assert_non_null(g);
    json_t *pts = json_object_get(g, "points");
    const char *must[] = { "c-wait-24h", "c-flow-nb", "c-flow-sb", "c-lanes-nb", "c-lanes-sb" };
    for (size_t i = 0; i < sizeof must / sizeof *must; i++)
        if (json_integer_value(json_object_get(pts, must[i])) < 1)
            fail_msg("graph %s has no points", must[i]);
    printf("crossing: series pixels: 24 h wait %lld, northbound graphs %lld, southbound graphs %lld; points:",
           json_integer_value(json_object_get(g, "wait")), json_integer_value(json_object_get(g, "nb")),
           json_integer_value(json_object_get(g, "sb")));
    const char *key;
    json_t *val;
    json_object_foreach(pts, key, val)
        printf(" %s=%lld", key, json_integer_value(val));
    printf("\n");
    assert_true(json_integer_value(json_object_get(g, "wait")) > 0);
    assert_true(json_integer_value(json_object_get(g, "nb")) > 0);
    assert_true(json_integer_value(json_object_get(g, "sb")) > 0);
    json_decref(g);
    const char *shot = s_shot_path("crossing-250401.png");
    assert_int_equal(cdp_screenshot(&s_cdp, shot, true), 0);
    printf("crossing: screenshot %s\n", shot);
    json_decref(cells);
    json_decref(feed);
    s_no_console_errors("/crossing/250401");
}

/* The collector's static serving through the real server (no browser). */
static void test_static_http(void **state)
{
    (void)state;
    const struct {
        const char *path;
        int status;
    } cases[] = {
        { "/", 200 },
        { "/crossing/250401", 200 },
        { "/crossing/999999", 404 },
        { "/dashboards/board.js", 200 },
        { "/dashboards/style.css", 200 },
        { "/dashboards/../Makefile", 404 },
        { "/dashboards/%2e%2e/Makefile", 404 },
        { "/dashboards/..%2fMakefile", 404 },
        { "/dashboards//etc/passwd", 404 },
        { "/dashboards/.hidden", 404 },
        { "/dashboards/nope.js", 404 },
        { "/dashboards/", 404 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int status = 0;
        char *body = proc_http_get(s_stack.http_port, cases[i].path, &status);
        assert_non_null(body);
        if (status != cases[i].status)
            fail_msg("%s: %d, want %d", cases[i].path, status, cases[i].status);
        if (i == 0 && !strstr(body, "<!doctype html>"))
            fail_msg("/ is not the board page");
        free(body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_http),
        cmocka_unit_test(test_board),
        cmocka_unit_test(test_crossing),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
