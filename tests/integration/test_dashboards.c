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
 * Then the people at the line: the board and the crossing page in English,
 * Spanish and French at 390 px (no horizontal overflow, no catalog key
 * shown raw, no English words left on the Spanish and French pages except
 * names and the port's own words, every control labelled and reachable by
 * keyboard, every text at WCAG AA contrast, severity also in words), with
 * screenshots per language and width; the live stream (/v1/stream): with
 * the board open and agents running again, a queue's new reading on the
 * page within 2 s of the feed having it (the figure: the one bound
 * asserted as a time), without a poll; the port notice (--notices) shown in
 * the page's language; a starred crossing first; and, last, the offline
 * view: the service worker shows the last data, greyed, with its age,
 * after the collector stops.
 *
 * The agents are stopped before the pages load, and the collector's
 * staleness limit is an hour, so the feed the page read and the feed the
 * test reads are the same. Skipped, with a message, when chromium is not
 * installed (`make deps` installs it). Static-file safety through the real
 * server (traversal, escapes, types) runs either way. No other timing
 * assertion: every wait is a bound. */
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
#include "docsrv.h"
#include "http_client.h"
#include "proc.h"
#include "stack.h"
#include "timeutil.h"

#define EN_DASH "\xe2\x80\x93"
#define EM_DASH "\xe2\x80\x94"

static teststack_t s_stack;
static cdp_t s_cdp;
static bool s_browser;          /* chromium is installed and started */
static char s_notices[64];      /* the notices file given to the collector */
static char s_feed[64], s_snap[64]; /* the live feed (Unix sockets in /tmp) */
static docsrv_t *s_official;    /* CBP's and CBSA's sample documents, for the importer */

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
/* /v1/crossings without what changes with the clock alone: its time and
 * the age of every official value. */
static json_t *s_feed_body(void)
{
    json_t *f = s_get_json("/v1/crossings");
    if (!f)
        return NULL;
    json_object_del(f, "generated");
    size_t i, j, k;
    json_t *c, *d, *q;
    json_array_foreach(json_object_get(f, "crossings"), i, c)
        json_array_foreach(json_object_get(c, "directions"), j, d)
            json_array_foreach(json_object_get(d, "queues"), k, q)
                json_object_del(json_object_get(q, "official"), "age_s");
    return f;
}

/* The official samples (deploy/data) served on loopback and imported by
 * the collector, as in `make demo`: every other crossing of the board
 * shows its official value. Returns 0 or -1. */
static int s_serve_official(const char *src, char *cbp, char *cbsa, size_t len)
{
    char file[1100];
    s_official = docsrv_new();
    if (!s_official)
        return -1;
    snprintf(file, sizeof file, "%s/deploy/data/cbp_api_bwtnew_2022-06-29.json", src);
    if (docsrv_add_file(s_official, "/api/bwtnew", file, "application/json") != 0)
        return -1;
    snprintf(file, sizeof file, "%s/deploy/data/cbsa_bwt-eng_2022-07-07.csv", src);
    if (docsrv_add_file(s_official, "/bwt-taf/bwt-eng.csv", file, "text/csv; charset=utf-8") != 0 ||
        docsrv_start(s_official) != 0)
        return -1;
    snprintf(cbp, len, "http://127.0.0.1:%d/api/bwtnew", docsrv_port(s_official));
    snprintf(cbsa, len, "http://127.0.0.1:%d/bwt-taf/bwt-eng.csv", docsrv_port(s_official));
    return 0;
}

/* Until both documents were imported (10 s at most). */
static int s_official_imported(void)
{
    for (int i = 0; i < 100; i++) {
        json_t *h = s_get_json("/health");
        json_t *o = json_object_get(h, "official");
        bool both = json_integer_value(json_object_get(json_object_get(o, "CBP"), "taken")) >= 1 &&
                    json_integer_value(json_object_get(json_object_get(o, "CBSA"), "taken")) >= 1;
        json_decref(h);
        if (both)
            return 0;
        usleep(100 * 1000);
    }
    fprintf(stderr, "test_dashboards: the official samples were not imported within 10 s\n");
    return -1;
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
                fprintf(stderr, "test_dashboards: backfill %s failed (status %d)\n", steps[k][0],
                        status);
                proc_print_tail(log, 40);
                snprintf(log, sizeof log, "%s/collector.log", s_stack.dir);
                proc_print_tail(log, 40);
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
    /* a notice for San Ysidro valid from an hour ago to tomorrow */
    snprintf(s_notices, sizeof s_notices, "/tmp/poe-notices-%d.conf", (int)getpid());
    FILE *nf = fopen(s_notices, "w");
    if (!nf)
        return -1;
    char from[32], until[32];
    time_t now = time(NULL), a = now - 3600, b = now + 86400;
    strftime(from, sizeof from, "%Y-%m-%dT%H:%M:%SZ", gmtime(&a));
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", gmtime(&b));
    fprintf(nf, "notices = ( { crossing = \"250401\"; kind = \"construction\"; from = \"%s\";\n"
                "  until = \"%s\"; text = { en = \"Lane 12 closed for repaving.\";\n"
                "  es = \"Carril 12 cerrado por repavimentación.\";\n"
                "  fr = \"Voie 12 fermée pour réfection.\"; }; } );\n", from, until);
    fclose(nf);
    snprintf(s_feed, sizeof s_feed, "ipc:///tmp/poe-dash-feed-%d", (int)getpid());
    snprintf(s_snap, sizeof s_snap, "ipc:///tmp/poe-dash-snap-%d", (int)getpid());
    static char cbp[128], cbsa[128];
    char root[1000];
    snprintf(root, sizeof root, "%s", src ? src : getcwd(cwd, sizeof cwd) ? cwd : ".");
    if (s_serve_official(root, cbp, cbsa, sizeof cbp) != 0)
        return -1;
    const char *extra[] = { "--dashboards", dash, "--stale-after", "3600", "--notices", s_notices,
                            "--feed", s_feed, "--feed-snapshot", s_snap, "--official-cbp", cbp,
                            "--official-cbsa", cbsa, NULL };
    if (stack_start_args(&s_stack, 0, extra) != 0 || s_official_imported() != 0)
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
    if (s_notices[0])
        unlink(s_notices);
    if (s_feed[0]) {
        unlink(s_feed + 6);
        unlink(s_snap + 6);
    }
    int rc = stack_stop(&s_stack);
    docsrv_destroy(&s_official);
    return rc;
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
        "  var wt = null; if (w) { var wc = w.cloneNode(true);"
        "    wc.querySelectorAll('.offtag').forEach(function (e) { e.remove(); }); wt = wc.textContent; }"
        "  return {key: td.dataset.key, status: td.dataset.status || null, wait: wt,"
        "          lanes: l ? l.textContent : null, official: !!td.querySelector('.official'),"
        "          fromOfficial: !!(w && w.classList.contains('from-official') && w.querySelector('.offtag'))}; })");
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
/* queues compared with an official value beside ours, and shown from it */
static int s_official_seen[2];

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
                /* the official value is shown beside ours when the feed has one,
                 * and a wait shown from it says so in words */
                bool off = json_is_object(json_object_get(q, "official"));
                const char *meth = json_string_value(json_object_get(q, "method"));
                bool from_off = meth && strcmp(meth, "official") == 0;
                if (off != json_is_true(json_object_get(cell, "official")) ||
                    from_off != json_is_true(json_object_get(cell, "fromOfficial")))
                    fail_msg("%s: page shows official %d (from it %d), feed says %d (method %s)", key,
                             json_is_true(json_object_get(cell, "official")),
                             json_is_true(json_object_get(cell, "fromOfficial")), off, meth ? meth : "null");
                s_official_seen[0] += off;
                s_official_seen[1] += from_off;
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
    s_official_seen[0] = s_official_seen[1] = 0;
    int n = s_compare(feed, cells, NULL, open);
    printf("board: %d queues match the feed, %d+%d open waits shown, %d official values beside "
           "(%d shown from them)\n", n, open[0], open[1], s_official_seen[0], s_official_seen[1]);
    /* the samples cover every crossing: official values beside ours, and
     * shown alone where no agent ever sent (stale: the samples are old) */
    assert_true(s_official_seen[0] > 0 && s_official_seen[1] > 0);
    json_t *sy = json_object_get(cells, "250401/northbound/passenger/standard");
    assert_true(json_is_true(json_object_get(sy, "official")));      /* CBP's, beside */
    assert_false(json_is_true(json_object_get(sy, "fromOfficial"))); /* measured wins */
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

/* ---- languages, phones, notices, watch list, offline ------------------- */

static void s_viewport(int width, int height, bool mobile)
{
    json_t *m = cdp_call(&s_cdp, true, "Emulation.setDeviceMetricsOverride",
                         json_pack("{s:i, s:i, s:i, s:b, s:i, s:i}", "width", width, "height", height,
                                   "deviceScaleFactor", 1, "mobile", mobile, "screenWidth", width,
                                   "screenHeight", height), 10000);
    assert_non_null(m);
    json_decref(m);
}

/* The page's own audit (run in the page): horizontal overflow, raw keys,
 * English words left (for es/fr: words of en.json's texts that the
 * language's catalog does not use, found outside names), unlabelled or
 * unreachable controls, texts under WCAG AA contrast, severity shown by
 * colour only. Returns a JSON object of findings. */
static const char s_audit_js[] =
    "(async function () {"
    "  var lang = POE_I18N.lang(), out = {lang: lang,"
    "    overflow: document.documentElement.scrollWidth - Math.min(innerWidth, screen.width),"
    "    missing: POE_I18N.missing.slice(), raw: [], english: [], unlabelled: [], contrast: [], colourOnly: 0};"
    "  function visible(e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&"
    "    getComputedStyle(e).visibility !== 'hidden'; }"
    "  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), texts = [], n;"
    "  while ((n = walker.nextNode())) {"
    "    var p = n.parentElement, t = n.textContent.trim();"
    "    if (!t || !p || p.closest('script,style,[data-name],#lang,.nrow .ntext,.notice .ntext') || !visible(p)) continue;"
    "    texts.push(t);"
    "    if (/^[a-z_]+(\\.[a-z0-9_]+)+$/.test(t)) out.raw.push(t); }"
    "  document.querySelectorAll('[placeholder],[aria-label],[title]').forEach(function (e) {"
    "    if (e.closest('[data-name]')) return;"
    "    ['placeholder', 'aria-label', 'title'].forEach(function (a) { var v = e.getAttribute(a);"
    "      if (v && /^[a-z_]+(\\.[a-z0-9_]+)+$/.test(v)) out.raw.push(v); }); });"
    "  if (lang !== 'en') {"
    "    var en = await (await fetch('/dashboards/i18n/en.json')).json(),"
    "        me = await (await fetch('/dashboards/i18n/' + lang + '.json')).json(), mine = {}, eng = {};"
    "    function words(s) { return (s.toLowerCase().match(/[a-z\\u00c0-\\u00ff]{4,}/g) || []); }"
    "    Object.keys(me).forEach(function (k) { words(me[k]).forEach(function (w) { mine[w] = 1; }); });"
    "    Object.keys(en).forEach(function (k) { if (k[0] !== '_') words(en[k]).forEach(function (w) { if (!mine[w]) eng[w] = 1; }); });"
    "    texts.forEach(function (t) { words(t).forEach(function (w) { if (eng[w] && out.english.indexOf(w) < 0) out.english.push(w + ' (in \"' + t.slice(0, 40) + '\")'); }); }); }"
    "  document.querySelectorAll('select,input,button,a[href],summary').forEach(function (e) {"
    "    if (!visible(e)) return;"
    "    var named = (e.labels && e.labels.length) || e.getAttribute('aria-label') || (e.textContent || '').trim();"
    "    if (!named || e.tabIndex < 0) out.unlabelled.push(e.outerHTML.slice(0, 60)); });"
    "  function rgb(c) { var m = c.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }"
    "  function lum(c) { var a = c.slice(0, 3).map(function (v) { v /= 255;"
    "    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });"
    "    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; }"
    "  function bg(e) { for (; e; e = e.parentElement) { var s = getComputedStyle(e);"
    "    if (s.backgroundImage !== 'none') return null; var c = rgb(s.backgroundColor);"
    "    if (c.length < 4 || c[3] > 0.5) return c; } return [255, 255, 255]; }"
    "  var seen = new Set();"
    "  document.querySelectorAll('body *').forEach(function (e) {"
    "    if (!visible(e) || seen.size > 4000) return;"
    "    var own = Array.from(e.childNodes).some(function (c) { return c.nodeType === 3 && c.textContent.trim(); });"
    "    if (!own) return; seen.add(e);"
    "    var s = getComputedStyle(e), b = bg(e); if (!b || parseFloat(s.opacity) < 1) return;"
    "    var l1 = lum(rgb(s.color)), l2 = lum(b), r = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);"
    "    var big = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && +s.fontWeight >= 700);"
    "    if (r < (big ? 3 : 4.5)) out.contrast.push(e.tagName + '.' + e.className + ' \"' + e.textContent.trim().slice(0, 20) + '\" ' + r.toFixed(2)); });"
    "  document.querySelectorAll('.wait[class*=sev]').forEach(function (w) {"
    "    if (/sev[0-4]/.test(w.className) && !w.closest('.legend') && !w.getAttribute('aria-label')) out.colourOnly++; });"
    "  var nt = document.querySelector('.notice .ntext');"
    "  out.notice = nt ? {lang: nt.lang, text: nt.textContent} : null;"
    "  out.contrast = out.contrast.slice(0, 10);"
    "  return out; })()";

static void s_audit(const char *page, const char *lang, bool want_notice)
{
    json_t *a = cdp_eval(&s_cdp, s_audit_js);
    assert_non_null(a);
    char *dump = json_dumps(a, JSON_COMPACT);
    printf("%s [%s]: overflow %lld px, notice %s\n", page, lang,
           json_integer_value(json_object_get(a, "overflow")),
           json_object_get(a, "notice") && !json_is_null(json_object_get(a, "notice")) ? "shown" : "none");
    assert_string_equal(json_string_value(json_object_get(a, "lang")), lang);
    if (json_integer_value(json_object_get(a, "overflow")) > 0)
        fail_msg("%s [%s]: horizontal overflow: %s", page, lang, dump);
    const char *lists[] = { "missing", "raw", "english", "unlabelled", "contrast" };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (json_array_size(json_object_get(a, lists[i])))
            fail_msg("%s [%s]: %s: %s", page, lang, lists[i], dump);
    if (json_integer_value(json_object_get(a, "colourOnly")))
        fail_msg("%s [%s]: severity by colour only: %s", page, lang, dump);
    if (want_notice) {
        json_t *n = json_object_get(a, "notice");
        if (!json_is_object(n) || strcmp(json_string_value(json_object_get(n, "lang")), lang) != 0)
            fail_msg("%s [%s]: the port's notice is not shown in the page's language: %s", page, lang, dump);
    }
    free(dump);
    json_decref(a);
}

/* The audit finds what it looks for: English text, a raw key, a grey on
 * grey text and a too-wide element put into the Spanish page. */
static void s_audit_can_fail(void)
{
    json_t *v = cdp_eval(&s_cdp,
        "(function () { var d = document.createElement('div'); d.id = 'audit-bad';"
        " d.innerHTML = '<p>Border wait times</p><p>board.title</p><p id=\"ab-grey\">gris</p><div id=\"ab-wide\">ancho</div>';"
        " document.body.appendChild(d);"
        /* through the CSSOM: the pages' CSP refuses inline style attributes */
        " var g = document.getElementById('ab-grey'); g.style.color = '#999'; g.style.background = '#aaa';"
        " document.getElementById('ab-wide').style.width = '2000px'; return true; })()");
    json_decref(v);
    json_t *a = cdp_eval(&s_cdp, s_audit_js);
    v = cdp_eval(&s_cdp, "document.getElementById('audit-bad').remove(), true");
    json_decref(v);
    assert_non_null(a);
    assert_true(json_integer_value(json_object_get(a, "overflow")) > 0);
    assert_true(json_array_size(json_object_get(a, "english")) > 0);
    assert_true(json_array_size(json_object_get(a, "raw")) > 0);
    assert_true(json_array_size(json_object_get(a, "contrast")) > 0);
    printf("audit self-check: finds overflow, %zu English word(s), raw key, %zu low-contrast text(s)\n",
           json_array_size(json_object_get(a, "english")), json_array_size(json_object_get(a, "contrast")));
    json_decref(a);
}

static void test_languages_phone(void **state)
{
    (void)state;
    s_need_browser();
    const char *langs[] = { "en", "es", "fr" };
    const int widths[] = { 390, 1200 };
    for (size_t w = 0; w < 2; w++) {
        s_viewport(widths[w], widths[w] == 390 ? 844 : 1000, widths[w] == 390);
        for (size_t l = 0; l < 3; l++) {
            const char *pages[][2] = { { "/?lang=%s#sort=wait", "board" },
                                       { "/crossing/250401?lang=%s", "crossing-250401" } };
            for (size_t p = 0; p < 2; p++) {
                char path[128], url[256], shot[128];
                snprintf(path, sizeof path, pages[p][0], langs[l]);
                s_url(url, sizeof url, path);
                cdp_clear_errors(&s_cdp);
                assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'",
                                          30000), 0);
                s_audit(path, langs[l], true);
                if (widths[w] == 390 && p == 0 && strcmp(langs[l], "es") == 0)
                    s_audit_can_fail();
                snprintf(shot, sizeof shot, "%s-%s-%d.png", pages[p][1], langs[l], widths[w]);
                /* the phone crossing page in full; the board as the phone shows it (75 crossings long otherwise) */
                assert_int_equal(cdp_screenshot(&s_cdp, s_shot_path(shot), widths[w] == 390 && p == 1), 0);
                s_no_console_errors(path);
            }
        }
    }
    s_viewport(1200, 1000, false);
}

/* The hours in each language (common.js sideHours, hoursLabel, rulesText,
 * devText, excText): a side without posted hours reads its observed ones
 * and says so with today's span in the language's clock (Monday noon,
 * Sunday 23:00 and Saturday noon in Toronto; a Sunday without hours in
 * its rules); a posted side
 * whose hours are not kept is marked in words; rules, deviations and
 * exceptions read in the language (Chromium's Intl: narrow and no-break
 * spaces are compared as spaces). Then the crossing page's hours table:
 * San Ysidro's US side posts 24 h; a day of data is too little to learn a
 * week from, so its observed hours are unknown, with the reason. */
static const char s_hours_js[] =
    "(function () { function sp(s) { return s.replace(/[\\u00a0\\u202f]/g, ' '); }"
    " var wk = ['mon','tue','wed','thu','fri'];"
    " var rules = [{days: wk, from: '08:00', to: '22:00', overnight: false, season: null},"
    "  {days: ['sat','sun'], from: '09:00', to: '18:00', overnight: false, season: null}];"
    " var side = {known: false, tz: 'America/Toronto', closed_dates: [], modes: {passenger: {known: false,"
    "  rules: [], observed: {known: true, always_open: false, rules: rules}, deviations: {comparable: false, list: []}}}};"
    " var dev = {kind: 'opens_late', days: wk, minutes: 25, date: null};"
    " var posted = {known: true, tz: 'America/Toronto', closed_dates: [], modes: {passenger: {known: true,"
    "  always_open: false, rules: rules, deviations: {comparable: true, list: [dev]}}}};"
    " var wkonly = JSON.parse(JSON.stringify(side)); wkonly.modes.passenger.observed.rules = rules.slice(0, 1);"
    " function at(s, y, mo, d, h) { return POE.hoursLabel(POE.sideHours(s, ['passenger'], Date.UTC(y, mo - 1, d, h))); }"
    " return sp([at(side, 2026, 11, 30, 17), at(side, 2026, 11, 30, 4), at(side, 2026, 11, 28, 17),"
    "  at(wkonly, 2026, 11, 29, 17),"
    "  at(posted, 2026, 11, 30, 17), POE.rulesText({always_open: false, rules: rules}),"
    "  POE.devText(dev), POE.excText({date: '2026-11-11', kind: 'opened_late', minutes: 40, observed: '08:40-22:00'}),"
    "  POE.excText({date: '2026-11-11', kind: 'closed', minutes: 840, observed: 'closed'}),"
    "  POE.whyText('not every weekday observed')].join(' | ')); })()";

static void test_hours_languages(void **state)
{
    (void)state;
    s_need_browser();
    static const char *const want[][3] = {
        { "en",
          "open by hours (observed 8:00 AM" EN_DASH "10:00 PM) | closed by hours (observed 9:00 AM" EN_DASH "6:00 PM)"
          " | open by hours (observed 9:00 AM" EN_DASH "6:00 PM) | closed all day today (observed)"
          " | open by hours (posted) \xe2\x9a\xa0 not kept as posted"
          " | Mon" EN_DASH "Fri 8:00 AM" EN_DASH "10:00 PM; Sat, Sun 9:00 AM" EN_DASH "6:00 PM"
          " | opens 25 min late on Mon" EN_DASH "Fri | Wed, Nov 11: opened 40 min late (8:40 AM" EN_DASH "10:00 PM)"
          " | Wed, Nov 11: closed all day | not every weekday observed yet",
          "24 hours|unknown (" },
        { "es",
          "abierto según horario (observado 8:00 a.m." EN_DASH "10:00 p.m.) | cerrado según horario (observado 9:00 a.m." EN_DASH "6:00 p.m.)"
          " | abierto según horario (observado 9:00 a.m." EN_DASH "6:00 p.m.) | cerrado todo el día hoy (observado)"
          " | abierto según horario (publicado) \xe2\x9a\xa0 no se cumple"
          " | lun a vie 8:00 a.m." EN_DASH "10:00 p.m.; sáb, dom 9:00 a.m." EN_DASH "6:00 p.m."
          " | abre 25 min tarde (lun a vie) | mié 11 de nov: abrió 40 min tarde (8:40 a.m." EN_DASH "10:00 p.m.)"
          " | mié 11 de nov: cerrado todo el día | aún no se ha observado cada día de la semana",
          "24 horas|desconocido (" },
        { "fr",
          "ouvert selon l'horaire (observé 8 h 00 à 22 h 00) | fermé selon l'horaire (observé 9 h 00 à 18 h 00)"
          " | ouvert selon l'horaire (observé 9 h 00 à 18 h 00) | fermé toute la journée aujourd'hui (observé)"
          " | ouvert selon l'horaire (affiché) \xe2\x9a\xa0 non respecté"
          " | lun. au ven. 8 h 00 à 22 h 00; sam., dim. 9 h 00 à 18 h 00"
          " | ouvre 25 min en retard (lun. au ven.) | mer. 11 nov. : ouvert 40 min en retard (8 h 40 à 22 h 00)"
          " | mer. 11 nov. : fermé toute la journée | pas encore observé chaque jour de la semaine",
          "24 heures|inconnu (" },
    };
    s_viewport(1200, 1000, false);
    for (size_t l = 0; l < 3; l++) {
        char path[64], url[256];
        snprintf(path, sizeof path, "/?lang=%s", want[l][0]);
        s_url(url, sizeof url, path);
        cdp_clear_errors(&s_cdp);
        assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
        json_t *v = cdp_eval(&s_cdp, s_hours_js);
        assert_non_null(v);
        printf("hours [%s]: %s\n", want[l][0], json_string_value(v));
        assert_string_equal(json_string_value(v), want[l][1]);
        json_decref(v);
        /* every badge of the board says which hours it uses */
        v = cdp_eval(&s_cdp, "Array.from(document.querySelectorAll('th.dir .hours')).filter(function (b) {"
                             " return !b.classList.contains('h-unknown') && b.dataset.source !== 'posted'"
                             " && b.dataset.source !== 'observed'; }).length");
        assert_int_equal(json_integer_value(v), 0);
        json_decref(v);
        s_no_console_errors(path);

        snprintf(path, sizeof path, "/crossing/250401?lang=%s", want[l][0]);
        s_url(url, sizeof url, path);
        cdp_clear_errors(&s_cdp);
        assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
        v = cdp_eval(&s_cdp,
            "(function () { var r = document.querySelector('#hours tr[data-side=us][data-mode=passenger]');"
            " return r ? r.querySelector('.posted').textContent + '|' + r.querySelector('.observed').textContent"
            " + '|' + document.querySelectorAll('#hours tr[data-side]').length : 'none'; })()");
        assert_non_null(v);
        printf("hours table [%s]: %s\n", want[l][0], json_string_value(v));
        if (strncmp(json_string_value(v), want[l][2], strlen(want[l][2])) != 0)
            fail_msg("hours table [%s]: %s", want[l][0], json_string_value(v));
        json_decref(v);
        s_audit(path, want[l][0], true);
        s_no_console_errors(path);
    }
}

/* The language switch is remembered; a starred crossing comes first. */
static void test_switch_and_stars(void **state)
{
    (void)state;
    s_need_browser();
    char url[256];
    s_url(url, sizeof url, "/");
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
    json_t *v = cdp_eval(&s_cdp,
        "(function () { var s = document.getElementById('lang'); s.value = 'fr';"
        " s.dispatchEvent(new Event('change')); localStorage.setItem('poe.watch', JSON.stringify(['300401']));"
        " return true; })()");
    json_decref(v);
    usleep(500 * 1000);
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
    v = cdp_eval(&s_cdp, "[document.documentElement.lang, document.querySelector('h1').textContent,"
                         " document.querySelector('tbody.crossing').dataset.id,"
                         " document.querySelector('tbody.crossing .star').getAttribute('aria-pressed')]");
    assert_non_null(v);
    printf("switch and stars: %s, '%s', first %s (starred %s)\n", json_string_value(json_array_get(v, 0)),
           json_string_value(json_array_get(v, 1)), json_string_value(json_array_get(v, 2)),
           json_string_value(json_array_get(v, 3)));
    assert_string_equal(json_string_value(json_array_get(v, 0)), "fr-CA");
    assert_string_equal(json_string_value(json_array_get(v, 2)), "300401");
    assert_string_equal(json_string_value(json_array_get(v, 3)), "true");
    json_decref(v);
    /* the threshold notification: a starred queue falling below it */
    v = cdp_eval(&s_cdp,
        "(function () { POE_WATCH.setThreshold(30);"
        " function feed(w) { return {crossings: [{id: '300401', name: 'Blaine', directions: [{direction: 'northbound',"
        "   queues: [{mode: 'passenger', lane: 'standard', status: 'open', wait_min: w}]}]}]}; }"
        " var a = POE_WATCH.check(feed(45)).length, b = POE_WATCH.check(feed(12)), c = POE_WATCH.check(feed(10)).length;"
        " return [a, b.length, c, b.length ? b[0].title : '']; })()");
    assert_non_null(v);
    assert_int_equal(json_integer_value(json_array_get(v, 0)), 0);
    assert_int_equal(json_integer_value(json_array_get(v, 1)), 1);
    assert_int_equal(json_integer_value(json_array_get(v, 2)), 0);
    printf("watch: notification '%s'\n", json_string_value(json_array_get(v, 3)));
    json_decref(v);
    v = cdp_eval(&s_cdp, "localStorage.clear(), true");
    json_decref(v);
}

/* Last: the collector stops; the service worker shows the last data,
 * greyed, under the offline banner with its age — never as current. */
static void test_offline(void **state)
{
    (void)state;
    s_need_browser();
    char url[256];
    s_url(url, sizeof url, "/?lang=es");
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000), 0);
    /* the worker installed, controls the page and holds the feed */
    const char *ctl = "(async function () { await navigator.serviceWorker.ready;"
                      " var c = await caches.open('poenet-v1'); return !!(await c.match('/v1/crossings')) &&"
                      " !!(await c.match('/')); })()";
    bool ready = false;
    for (int i = 0; i < 40 && !ready; i++) {
        json_t *v = cdp_eval(&s_cdp, ctl);
        ready = json_is_true(v);
        json_decref(v);
        if (!ready) {
            usleep(250 * 1000);
            if (i == 10)
                cdp_goto(&s_cdp, url, "document.body && document.body.dataset.ready === '1'", 30000);
        }
    }
    assert_true(ready);
    int code = proc_stop(s_stack.collector, 5000);
    s_stack.collector = -1;
    assert_int_equal(code, 0);
    cdp_clear_errors(&s_cdp);
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.offline === '1'", 30000), 0);
    json_t *v = cdp_eval(&s_cdp, "[document.getElementById('offline').hidden, document.getElementById('offline').textContent,"
                                 " document.body.classList.contains('is-offline'),"
                                 " document.querySelectorAll('tbody.crossing').length]");
    assert_non_null(v);
    printf("offline: banner '%s', %lld crossings shown greyed\n", json_string_value(json_array_get(v, 1)),
           json_integer_value(json_array_get(v, 3)));
    assert_false(json_is_true(json_array_get(v, 0)));
    assert_non_null(strstr(json_string_value(json_array_get(v, 1)), "Sin conexión"));
    assert_true(json_is_true(json_array_get(v, 2)));
    assert_true(json_integer_value(json_array_get(v, 3)) > 0);
    json_decref(v);
    s_viewport(390, 844, true);
    assert_int_equal(cdp_screenshot(&s_cdp, s_shot_path("board-offline-es-390.png"), false), 0);
}

/* The first queue of a /v1/crossings/{id} document: its reading's time
 * ("updated"), malloc'ed, or NULL when it has none yet. */
static char *s_first_reading(json_t *doc)
{
    json_t *q = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(
        json_object_get(doc, "crossings"), 0), "directions"), 0), "queues"), 0);
    const char *u = json_string_value(json_object_get(q, "updated"));
    return u ? strdup(u) : NULL;
}

/* The live stream: with the board open on /v1/stream, an agent runs
 * again; once the feed shows a queue's new reading, the page shows the
 * same within 2 s (a bound on the wait, the figure), without a
 * poll (the board polls every 60 s while the stream is on). */
static void test_live_stream(void **state)
{
    (void)state;
    s_need_browser();
    char url[256];
    s_url(url, sizeof url, "/?lang=en");
    cdp_clear_errors(&s_cdp);
    assert_int_equal(cdp_goto(&s_cdp, url, "document.body && document.body.dataset.liveSeq !== undefined &&"
                              " document.body.dataset.ready === '1'", 30000), 0);
    json_t *v = cdp_eval(&s_cdp, "+document.body.dataset.liveSeq");
    long long seq0 = json_integer_value(v);
    json_decref(v);
    json_t *f0 = s_get_json("/v1/crossings/300401");
    assert_non_null(f0);
    /* The reading's time, not the whole document: an official value's age
     * and the forecast change it without any new reading. */
    char *before = s_first_reading(f0);
    json_decref(f0);
    assert_int_equal(s_start_agents(), 0);
    /* until the feed shows a new reading for 300401 (bounded), then the page follows */
    json_t *f = NULL;
    for (int i = 0; i < 600; i++) {
        usleep(50 * 1000);
        json_decref(f);
        f = s_get_json("/v1/crossings/300401");
        char *now = f ? s_first_reading(f) : NULL;
        bool changed = now && (!before || strcmp(now, before) != 0);
        free(now);
        if (changed)
            break;
    }
    free(before);
    assert_non_null(f);
    int64_t t_feed = tu_mono_ms();
    json_t *q = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(
        json_object_get(f, "crossings"), 0), "directions"), 0), "queues"), 0);
    char key[96], wait[64];
    snprintf(key, sizeof key, "300401/northbound/%s/%s", json_string_value(json_object_get(q, "mode")),
             json_string_value(json_object_get(q, "lane")));
    const char *upd = json_string_value(json_object_get(q, "updated"));
    s_expect_wait(q, wait, sizeof wait);
    char js[512];
    snprintf(js, sizeof js, "(function () { var td = document.querySelector('td.q[data-key=\"%s\"]');"
             " return td ? td.querySelector('.wait').textContent + '|' + (td.querySelector('.age') || {}).title : ''; })()",
             key);
    bool shown = false;
    int64_t t_page = 0;
    while (!shown && tu_mono_ms() - t_feed <= 2000) {
        v = cdp_eval(&s_cdp, js);
        const char *txt = json_string_value(v);
        shown = txt && strncmp(txt, wait, strlen(wait)) == 0 && txt[strlen(wait)] == '|';
        json_decref(v);
        if (!shown)
            usleep(50 * 1000);
        t_page = tu_mono_ms();
    }
    v = cdp_eval(&s_cdp, "+document.body.dataset.liveSeq");
    long long seq1 = json_integer_value(v);
    json_decref(v);
    printf("live: %s '%s' (reading %s) on the page %lld ms after the feed had it; stream seq %lld -> %lld\n",
           key, wait, upd ? upd : "?", (long long)(t_page - t_feed), seq0, seq1);
    s_stop_agents();
    json_decref(f);
    if (!shown)
        fail_msg("the page did not show %s '%s' within 2 s of the feed", key, wait);
    assert_true(seq1 > seq0);
    s_no_console_errors("/ (live)");
}

/* /v1/labels: the feed's words by ?lang= or Accept-Language; an
 * Accept-Language too long for us (2 KB) or for the server (10 KB) is
 * refused with its reason, and the collector keeps serving. */
static void test_labels(void **state)
{
    (void)state;
    hc_response_t r;
    char why[128];
    assert_int_equal(hc_get(s_stack.http_port, "/v1/labels?lang=es", NULL, &r, why, sizeof why), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "status"), "stale")), "desactualizado");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "mode"), "pedestrian")), "Peatones");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "direction"), "northbound")),
                        "Hacia el norte");
    json_decref(j);
    hc_free(&r);
    const char *fr[] = { "Accept-Language: de-DE, fr-CA;q=0.8, en;q=0.5", NULL };
    assert_int_equal(hc_get(s_stack.http_port, "/v1/labels", fr, &r, why, sizeof why), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "Content-Language"), "fr");
    assert_non_null(strstr(r.body, "\"no_data\":\"aucune donn"));
    hc_free(&r);
    static char big[10300];
    for (int n = 0; n < 2; n++) {
        size_t len = n ? 10240 : 2000;
        memcpy(big, "Accept-Language: ", 17);
        for (size_t i = 0; i < len; i++)
            big[17 + i] = "es-MX,"[i % 6];
        big[17 + len] = '\0';
        const char *h[] = { big, NULL };
        assert_int_equal(hc_get(s_stack.http_port, "/v1/labels", h, &r, why, sizeof why), 0);
        printf("labels: Accept-Language of %zu bytes: %d %s\n", len, r.status, r.body ? r.body : "");
        assert_true(r.status == 400 || r.status == 431 || r.status == 413);
        if (n == 0)
            assert_non_null(strstr(r.body, "Accept-Language header of 2000 bytes"));
        hc_free(&r);
    }
    assert_int_equal(hc_get(s_stack.http_port, "/v1/labels?lang=de", NULL, &r, why, sizeof why), 0);
    assert_int_equal(r.status, 400);
    hc_free(&r);
    assert_int_equal(hc_get(s_stack.http_port, "/health", NULL, &r, why, sizeof why), 0);
    assert_int_equal(r.status, 200);
    hc_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_http),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_board),
        cmocka_unit_test(test_live_stream),
        cmocka_unit_test(test_crossing),
        cmocka_unit_test(test_languages_phone),
        cmocka_unit_test(test_hours_languages),
        cmocka_unit_test(test_switch_and_stars),
        cmocka_unit_test(test_offline),
    };
    /* POE_TEST_FILTER=test_live* runs some of them (while developing) */
    if (getenv("POE_TEST_FILTER"))
        cmocka_set_test_filter(getenv("POE_TEST_FILTER"));
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
