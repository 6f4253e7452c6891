/* test_importer — the official importer (collector/importer.c) against a
 * loopback HTTP server in this process, on one event loop: the real CBP and
 * CBSA samples (deploy/data) are imported whole, the second poll is a 304,
 * and each bad input of issue 13 is refused with its own reason while the
 * values taken before stay in the state unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "importer.h"
#include "log.h"
#include "proc.h"
#include "registry.h"
#include "stack.h"
#include "state.h"
#include "timeutil.h"

#define DATA "deploy/data/"

enum s_mode {
    M_SAMPLE, M_TRUNCATED, M_HTML, M_404, M_500, M_503, M_REDIRECT_LOOP, M_SLOW,
    M_LATIN1, M_EMPTY, M_UNKNOWN, M_DUPLICATE, M_IMPOSSIBLE, M_FUTURE, M_HUGE, M_GZIP
};

typedef struct {
    struct event_base *base;
    struct evhttp *http;
    int port;
    enum s_mode mode;
    char *cbp, *cbsa;
    size_t cbp_len, cbsa_len;
    int requests, conditional;
    char user_agent[128];
    registry_t *reg;
    state_t *state;
    stats_t stats;
    int applied;
    int slow_in_flight;
    int slow_fd, slow_port;    /* the server that never answers */        /* set by the server thread when a slow reply started */
    _Atomic int stop;         /* set by the main thread, read by the server thread */
    pthread_t server;          /* the server thread of test_collector_keeps_serving */
    bool server_running;       /* joined by s_teardown, also after a failed assertion */
} s_ctx_t;

/* A sample the test cannot do without. */
static char *s_must_slurp(const char *path, size_t *len)
{
    char *buf = proc_slurp(path, len);
    assert_non_null(buf);
    return buf;
}

static void s_reply(struct evhttp_request *req, int code, const char *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}

static void s_one_port(struct evhttp_request *req, const char *port, const char *date,
                       const char *delay)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "[{\"port_number\":\"%s\",\"date\":\"%s\",\"time\":\"13:25:16\","
                     "\"passenger_vehicle_lanes\":{\"standard_lanes\":{\"update_time\":"
                     "\"At 1:00 pm EDT\",\"operational_status\":\"delay\",\"delay_minutes\":"
                     "\"%s\",\"lanes_open\":\"2\"}}}]", port, date, delay);
    s_reply(req, 200, buf, (size_t)n);
}

static void s_on_request(struct evhttp_request *req, void *arg)
{
    s_ctx_t *c = arg;
    __atomic_add_fetch(&c->requests, 1, __ATOMIC_SEQ_CST);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *ua = evhttp_find_header(in, "User-Agent");
    snprintf(c->user_agent, sizeof c->user_agent, "%s", ua ? ua : "");
    bool cbsa = strstr(evhttp_request_get_uri(req), "csv") != NULL;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    switch ((enum s_mode)__atomic_load_n((int *)&c->mode, __ATOMIC_SEQ_CST)) {
    case M_SAMPLE:
        if (evhttp_find_header(in, "If-None-Match")) {
            c->conditional++;
            evhttp_send_reply(req, 304, "Not Modified", NULL);
            return;
        }
        evhttp_add_header(out, "ETag", cbsa ? "\"cbsa-1\"" : "\"cbp-1\"");
        s_reply(req, 200, cbsa ? c->cbsa : c->cbp, cbsa ? c->cbsa_len : c->cbp_len);
        return;
    case M_TRUNCATED: s_reply(req, 200, c->cbp, c->cbp_len / 3); return;
    case M_HTML: s_reply(req, 200, "<html><body>We are down</body></html>", 37); return;
    case M_404: s_reply(req, 404, "not found", 9); return;
    case M_500: s_reply(req, 500, "oops", 4); return;
    case M_503: s_reply(req, 503, "busy", 4); return;
    case M_REDIRECT_LOOP:
        evhttp_add_header(out, "Location", evhttp_request_get_uri(req));
        evhttp_send_reply(req, 302, "Found", NULL);
        return;
    case M_SLOW: {
        /* on to a server that takes the connection and never answers (a
         * listening socket nobody accepts from): the total timeout ends it */
        char loc[64];
        snprintf(loc, sizeof loc, "http://127.0.0.1:%d/slow", c->slow_port);
        evhttp_add_header(out, "Location", loc);
        evhttp_send_reply(req, 302, "Found", NULL);
        __atomic_store_n(&c->slow_in_flight, 1, __ATOMIC_SEQ_CST);
        return;
    }
    case M_LATIN1: s_reply(req, 200, "[{\"port_number\":\"070801\",\"port_name\":\"Qu\xe9" "bec\"}]", 44); return;
    case M_EMPTY: s_reply(req, 200, "[]", 2); return;
    case M_UNKNOWN: s_one_port(req, "999999", "6/29/2022", "10"); return;
    case M_DUPLICATE: {
        const char *d = "[{\"port_number\":\"070801\"},{\"port_number\":\"070801\"}]";
        s_reply(req, 200, d, strlen(d));
        return;
    }
    case M_IMPOSSIBLE: s_one_port(req, "070801", "6/29/2022", "10000"); return;
    case M_FUTURE: s_one_port(req, "070801", "6/29/2099", "10"); return;
    case M_GZIP: {
        /* as CBP's servers answer a client that accepts it; 406 to one
         * that does not say so */
        const char *ae = evhttp_find_header(in, "Accept-Encoding");
        if (!ae || !strstr(ae, "gzip")) {
            s_reply(req, 406, "no gzip", 7);
            return;
        }
        uLongf n = compressBound(c->cbp_len) + 32;
        unsigned char *z = malloc(n);
        z_stream zs = { 0 };
        int ok = z && deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        if (ok) {
            zs.next_in = (unsigned char *)c->cbp;
            zs.avail_in = (uInt)c->cbp_len;
            zs.next_out = z;
            zs.avail_out = (uInt)n;
            ok = deflate(&zs, Z_FINISH) == Z_STREAM_END;
            deflateEnd(&zs);
        }
        evhttp_add_header(out, "Content-Encoding", "gzip");
        s_reply(req, ok ? 200 : 500, (const char *)z, ok ? zs.total_out : 0);
        free(z);
        return;
    }
    case M_HUGE: {
        /* one byte past the cap: the helper stops reading there */
        struct evbuffer *b = evbuffer_new();
        char chunk[4096];
        memset(chunk, ' ', sizeof chunk);
        for (size_t n = 0; n <= OFF_MAX_DOC_BYTES; n += sizeof chunk)
            evbuffer_add(b, chunk, sizeof chunk);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return;
    }
    }
}

static void s_apply(void *arg, enum off_source src, const off_doc_t *doc, int64_t fetched_s)
{
    s_ctx_t *c = arg;
    (void)src;
    if (doc)
        state_apply_official(c->state, doc, fetched_s, 7200);
    c->applied++;
}

/* Run the loop until the source has finished `polls` requests (taken,
 * 304 or refused) or 8 s pass. */
static void s_run_until(s_ctx_t *c, enum off_source src, uint64_t polls)
{
    int64_t end = tu_mono_ms() + 8000;
    for (;;) {
        const stats_official_t *o = &c->stats.official[src];
        if (o->taken + o->not_modified + o->refused >= polls || tu_mono_ms() > end)
            break;
        event_base_loop(c->base, EVLOOP_ONCE);
    }
}

static importer_t *s_importer(s_ctx_t *c, bool cbp, bool cbsa)
{
    char u0[128], u1[128];
    snprintf(u0, sizeof u0, "http://127.0.0.1:%d/api/bwtnew", c->port);
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/bwt-taf/bwt-eng.csv", c->port);
    static char helper[1024];
    snprintf(helper, sizeof helper, "%s/poe-fetch", getenv("POE_BIN") ? getenv("POE_BIN") : "build/bin");
    importer_opts_t o = { .url = { cbp ? u0 : NULL, cbsa ? u1 : NULL }, .interval_s = 300,
                          .fetch_helper = helper,
                          .connect_timeout_s = 1, .total_timeout_s = 1, .retries = 0,
                          .backoff_s = 1, .registry = c->reg, .stats = &c->stats };
    return importer_new(c->base, &o, s_apply, c);
}

static int s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    int nbad;
    c->reg = reg_load("deploy/registry.conf", &nbad);
    c->state = state_new(c->reg);
    c->cbp = s_must_slurp(DATA "cbp_api_bwtnew_2022-06-29.json", &c->cbp_len);
    c->cbsa = s_must_slurp(DATA "cbsa_bwt-eng_2022-07-07.csv", &c->cbsa_len);
    c->base = event_base_new();
    c->http = evhttp_new(c->base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(c->http, "127.0.0.1", 0);
    if (!c->reg || !c->state || !bs)
        return -1;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl);
    c->port = ntohs(sa.sin_port);
    evhttp_set_gencb(c->http, s_on_request, c);
    c->slow_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in ss = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (c->slow_fd < 0 || bind(c->slow_fd, (struct sockaddr *)&ss, sizeof ss) != 0 ||
        listen(c->slow_fd, 16) != 0)
        return -1;
    sl = sizeof ss;
    getsockname(c->slow_fd, (struct sockaddr *)&ss, &sl);
    c->slow_port = ntohs(ss.sin_port);
    *state = c;
    return 0;
}

static int s_teardown(void **state)
{
    s_ctx_t *c = *state;
    if (c->server_running) {
        c->stop = 1;
        pthread_join(c->server, NULL);
    }
    evhttp_free(c->http);
    event_base_free(c->base);
    close(c->slow_fd);
    state_destroy(&c->state);
    reg_destroy(&c->reg);
    free(c->cbp);
    free(c->cbsa);
    free(c);
    return 0;
}

static const qofficial_t *s_off(s_ctx_t *c, const char *id, enum tax_dir d, enum tax_mode m)
{
    xstate_t *x = state_find(c->state, id);
    return &x->off[d - 1][tax_queue_index(m, TAX_STANDARD)];
}

/* Both samples whole, then a 304; then every bad input, each its reason,
 * with the values of the samples untouched. */
static void test_samples_then_bad_inputs(void **state)
{
    s_ctx_t *c = *state;
    c->mode = M_SAMPLE;
    importer_t *imp = s_importer(c, true, true);
    assert_non_null(imp);
    s_run_until(c, OFF_CBP, 1);
    s_run_until(c, OFF_CBSA, 1);
    const stats_official_t *cbp = &c->stats.official[OFF_CBP], *cbsa = &c->stats.official[OFF_CBSA];
    assert_int_equal(cbp->taken, 1);
    assert_int_equal(cbp->ports, 76);
    assert_int_equal(cbp->ports_imported, 75);
    assert_int_equal(cbsa->taken, 1);
    assert_int_equal(cbsa->ports, 25);
    assert_int_equal(cbsa->ports_imported, 24);
    assert_non_null(strstr(c->user_agent, "poenet"));
    /* Peace Bridge into Canada: 14 minutes (CBSA); Alexandria Bay into the US: 5 (CBP) */
    assert_int_equal(s_off(c, "090101", TAX_NORTHBOUND, TAX_PASSENGER)->wait_s, 14 * 60);
    assert_int_equal(s_off(c, "090101", TAX_NORTHBOUND, TAX_PASSENGER)->source, OFF_CBSA);
    qofficial_t before = *s_off(c, "070801", TAX_SOUTHBOUND, TAX_PASSENGER);
    assert_int_equal(before.wait_s, 300);
    assert_int_equal(before.source, OFF_CBP);

    importer_poll_now(imp);
    s_run_until(c, OFF_CBP, 2);
    s_run_until(c, OFF_CBSA, 2);
    assert_int_equal(cbp->not_modified, 1);
    assert_int_equal(cbsa->not_modified, 1);
    assert_int_equal(c->conditional, 2);
    importer_destroy(&imp);

    static const struct {
        enum s_mode mode;
        enum off_reason why;
    } bad[] = {
        { M_TRUNCATED, OFF_R_SYNTAX }, { M_HTML, OFF_R_NOT_DATA },
        { M_404, OFF_R_HTTP_STATUS }, { M_500, OFF_R_HTTP_STATUS }, { M_503, OFF_R_HTTP_STATUS },
        { M_REDIRECT_LOOP, OFF_R_REDIRECTS }, { M_SLOW, OFF_R_TIMEOUT },
        { M_LATIN1, OFF_R_CHARSET }, { M_EMPTY, OFF_R_EMPTY },
        { M_UNKNOWN, OFF_R_UNKNOWN_PORT }, { M_DUPLICATE, OFF_R_DUPLICATE_PORT },
        { M_IMPOSSIBLE, OFF_R_IMPOSSIBLE }, { M_FUTURE, OFF_R_FUTURE },
        { M_HUGE, OFF_R_TOO_LARGE },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c->stats.official[OFF_CBP], 0, sizeof c->stats.official[OFF_CBP]);
        c->mode = bad[i].mode;
        imp = s_importer(c, true, false);
        int64_t t0 = tu_mono_ms();
        s_run_until(c, OFF_CBP, 1);
        int64_t took = tu_mono_ms() - t0;
        print_message("bad input %zu: reason %s after %lld ms\n", i, off_reason_name(bad[i].why),
                      (long long)took);
        assert_int_equal(cbp->reasons[bad[i].why], 1);
        const qofficial_t *now = s_off(c, "070801", TAX_SOUTHBOUND, TAX_PASSENGER);
        assert_memory_equal(now, &before, sizeof before); /* the last good value stays */
        importer_destroy(&imp);
    }
}

/* A gzip-encoded answer, as the agencies' servers send one, is taken as
 * the plain document would be (the helper asks for it and decodes it). */
static void test_gzip_answer_is_taken(void **state)
{
    s_ctx_t *c = *state;
    c->mode = M_GZIP;
    importer_t *imp = s_importer(c, true, false);
    assert_non_null(imp);
    s_run_until(c, OFF_CBP, 1);
    const stats_official_t *cbp = &c->stats.official[OFF_CBP];
    assert_int_equal(cbp->reasons[OFF_R_HTTP_STATUS], 0);
    assert_int_equal(cbp->taken, 1);
    assert_int_equal(cbp->ports, 76);
    assert_int_equal(s_off(c, "070801", TAX_SOUTHBOUND, TAX_PASSENGER)->wait_s, 300);
    importer_destroy(&imp);
}

/* An importer whose fetch helper cannot be run is refused at start, not
 * left to fail every poll in silence. */
static void test_a_missing_helper_is_refused(void **state)
{
    s_ctx_t *c = *state;
    importer_opts_t o = { .url = { "http://127.0.0.1:9/api/bwtnew", NULL }, .interval_s = 300,
                          .fetch_helper = "/nonexistent/poe-fetch",
                          .connect_timeout_s = 1, .total_timeout_s = 1, .retries = 0,
                          .backoff_s = 1, .registry = c->reg, .stats = &c->stats };
    assert_int_equal(importer_check_opts(&o), -1);
    assert_null(importer_new(c->base, &o, s_apply, c));
    assert_int_equal(c->stats.official[OFF_CBP].polls, 0);
}

/* ---- the collector itself under the bad inputs ------------------------------ */

static void s_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* The test server on its own thread and loop while the collector polls it. */
static void *s_server_thread(void *arg)
{
    s_ctx_t *c = arg;
    struct event *tick = event_new(c->base, -1, EV_PERSIST, s_tick, NULL);
    struct timeval tv = { 0, 50000 };
    event_add(tick, &tv);
    while (!c->stop)
        event_base_loop(c->base, EVLOOP_ONCE);
    event_free(tick);
    return NULL;
}

static json_t *s_health(int port)
{
    int status = 0;
    char *body = proc_http_get(port, "/health", &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

static json_int_t s_cbp(json_t *h, const char *key, const char *reason)
{
    json_t *o = json_object_get(json_object_get(h, "official"), "CBP");
    if (reason)
        o = json_object_get(o, "rejected");
    return json_integer_value(json_object_get(o, reason ? reason : key));
}

/* Queue passenger/standard of direction dir of the first crossing of a
 * /v1/crossings document (a new reference, NULL when not found). */
static json_t *s_queue_in(json_t *root, const char *dir)
{
    json_t *out = NULL;
    json_t *dirs = json_object_get(json_array_get(json_object_get(root, "crossings"), 0), "directions");
    size_t i, k;
    json_t *d, *q;
    json_array_foreach(dirs, i, d) {
        if (strcmp(json_string_value(json_object_get(d, "direction")), dir) != 0)
            continue;
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            if (strcmp(json_string_value(json_object_get(q, "mode")), "passenger") == 0 &&
                strcmp(json_string_value(json_object_get(q, "lane")), "standard") == 0)
                out = json_incref(q);
        }
    }
    return out;
}

/* The same queue of crossing id, as served. */
static json_t *s_served_queue(int port, const char *id, const char *dir)
{
    int status = 0;
    char path[64];
    snprintf(path, sizeof path, "/v1/crossings/%s", id);
    char *body = proc_http_get(port, path, &status);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    json_t *q = s_queue_in(j, dir);
    json_decref(j);
    return q;
}

/* The official value of queue q without its age (grows with the clock),
 * as a string; NULL when none. Takes q. */
static char *s_official_text(json_t *q)
{
    json_t *o = json_object_get(q, "official");
    char *out = NULL;
    if (json_is_object(o)) {
        json_object_del(o, "age_s");
        out = json_dumps(o, JSON_SORT_KEYS);
    }
    json_decref(q);
    return out;
}

/* The same from the --publish-dir copy of /v1/crossings/070801. */
static char *s_published_official(const char *file)
{
    json_t *j = json_load_file(file, 0, NULL);
    json_t *q = s_queue_in(j, "southbound");
    json_decref(j);
    return q ? s_official_text(q) : NULL;
}

/* The official value of 070801 southbound passenger standard, as served. */
static char *s_official_of_070801(int port)
{
    return s_official_text(s_served_queue(port, "070801", "southbound"));
}

/* The measured part of 250401 northbound passenger standard (an agent
 * replayed it): everything but the official value and the ages. */
static char *s_measured_of_250401(int port)
{
    json_t *q = s_served_queue(port, "250401", "northbound");
    char *out = NULL;
    if (q) {
        assert_true(json_is_object(json_object_get(q, "official"))); /* CBP covers it too */
        json_object_del(q, "official");
        out = json_dumps(q, JSON_SORT_KEYS);
    }
    json_decref(q);
    return out;
}

/* poenet_official_rejected_total{source="CBP",reason=...} from /metrics. */
static long long s_metric_rejected(int port, const char *reason)
{
    int status = 0;
    char *body = proc_http_get(port, "/metrics", &status);
    assert_non_null(body);
    char key[128];
    snprintf(key, sizeof key, "poenet_official_rejected_total{source=\"CBP\",reason=\"%s\"} ", reason);
    const char *at = strstr(body, key);
    long long v = at ? strtoll(at + strlen(key), NULL, 10) : -1;
    free(body);
    return v;
}

static void s_replay_agent(teststack_t *st)
{
    char log[600], fixture[1024], agent[1024], spool[600];
    snprintf(log, sizeof log, "%s/agent.log", st->dir);
    snprintf(spool, sizeof spool, "%s/spool", st->dir);
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(st, "tests/fixtures/replay-250401-northbound.txt"));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(st, "poe-agent"));
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", st->endpoint, "--replay", fixture,
                           "--speed", "0", "--spool", spool, NULL };
    pid_t pid = proc_spawn(argv, log);
    assert_true(pid > 0);
    int status = -1;
    if (proc_wait_exit(pid, 60000, &status) != 0) {
        proc_stop(pid, 2000);
        fail_msg("agent did not finish the replay within 60 s (log %s)", log);
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_collector_keeps_serving(void **state)
{
    s_ctx_t *c = *state;
    c->mode = M_SAMPLE;
    assert_int_equal(pthread_create(&c->server, NULL, s_server_thread, c), 0);
    c->server_running = true;
    char u0[128], u1[128];
    snprintf(u0, sizeof u0, "http://127.0.0.1:%d/api/bwtnew", c->port);
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/bwt-taf/bwt-eng.csv", c->port);
    char *pub = proc_tmpdir(); /* --publish-dir: the documents nginx would serve */
    assert_non_null(pub);
    const char *extra[] = { "--official-cbp", u0, "--official-cbsa", u1, "--official-timeout", "2",
                            "--official-connect-timeout", "1", "--publish-dir", pub, NULL };
    teststack_t st = { 0 };
    assert_int_equal(stack_start_args(&st, 0, extra), 0);

    json_t *h = NULL;
    for (int i = 0; i < 100; i++) { /* the first poll goes out at start */
        json_decref(h);
        h = s_health(st.http_port);
        if (s_cbp(h, "taken", NULL) == 1)
            break;
        usleep(100000);
    }
    assert_int_equal(s_cbp(h, "taken", NULL), 1);
    assert_int_equal(s_cbp(h, "ports_imported", NULL), 75);
    /* every queue of the document gets its official row, in slices of the
     * loop (the first poll creates the files) */
    json_int_t queues = s_cbp(h, "queues", NULL);
    assert_true(queues > 500);
    for (int i = 0; i < 300 && s_cbp(h, "archived_rows", NULL) < queues; i++) {
        usleep(100000);
        json_decref(h);
        h = s_health(st.http_port);
    }
    assert_int_equal(s_cbp(h, "archived_rows", NULL), queues);
    assert_int_equal(s_cbp(h, "archive_failures", NULL), 0);
    json_decref(h);
    /* the public documents are re-rendered for the HTTP workers at most
     * every 100 ms (http_snap): wait for the one with the official values */
    char *good = NULL;
    for (int i = 0; i < 300 && !good; i++) {
        good = s_official_of_070801(st.http_port);
        if (!good)
            usleep(100000);
    }
    assert_non_null(good);
    assert_non_null(strstr(good, "\"reported\": \"no_delay\""));
    /* the published copy carries the same official value (written from the
     * same snapshot, at most once a second) */
    char file[600];
    snprintf(file, sizeof file, "%s/v1/crossings/070801.json", pub);
    bool published = false;
    for (int i = 0; i < 300 && !published; i++) {
        char *doc = s_published_official(file);
        published = doc && strcmp(doc, good) == 0;
        free(doc);
        if (!published)
            usleep(100000);
    }
    assert_true(published);
    /* a measured queue: the agent's data is what the queue shows (stale by
     * now, the fixture is old), never the official value beside it */
    s_replay_agent(&st);
    char *measured = NULL;
    for (int i = 0; i < 300; i++) { /* 30 s at most: slow under sanitizers */
        free(measured);
        measured = s_measured_of_250401(st.http_port);
        if (measured && strstr(measured, "\"updated\": \"2026-01-15T"))
            break; /* the snapshot with the agent's data */
        usleep(100000);
    }
    assert_non_null(measured);
    assert_non_null(strstr(measured, "\"method\": null")); /* not "official" */
    assert_non_null(strstr(measured, "\"updated\": \"2026-01-15T"));

    static const struct {
        enum s_mode mode;
        const char *reason;
    } bad[] = {
        { M_TRUNCATED, "syntax" }, { M_HTML, "not_data" }, { M_503, "http_status" },
        { M_REDIRECT_LOOP, "redirects" }, { M_SLOW, "timeout" }, { M_LATIN1, "charset" },
        { M_EMPTY, "empty" }, { M_IMPOSSIBLE, "impossible" }, { M_FUTURE, "future" },
        { M_UNKNOWN, "unknown_port" }, { M_DUPLICATE, "duplicate_port" },
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        h = s_health(st.http_port);
        json_int_t before = s_cbp(h, NULL, bad[b].reason);
        json_decref(h);
        __atomic_store_n((int *)&c->mode, (int)bad[b].mode, __ATOMIC_SEQ_CST);
        __atomic_store_n(&c->slow_in_flight, 0, __ATOMIC_SEQ_CST);
        kill(st.collector, SIGUSR1);
        bool served_while_slow = false;
        json_int_t now = before;
        for (int i = 0; i < 100 && now == before; i++) {
            usleep(50000);
            h = s_health(st.http_port);
            assert_non_null(h); /* /health answers all along */
            if (__atomic_load_n(&c->slow_in_flight, __ATOMIC_SEQ_CST) && now == before)
                served_while_slow = true;
            now = s_cbp(h, NULL, bad[b].reason);
            json_decref(h);
        }
        print_message("bad input %s: counted\n", bad[b].reason);
        assert_int_equal(now, before + 1);
        if (bad[b].mode == M_SLOW)
            assert_true(served_while_slow); /* the loop answered while the slow fetch hung */
        char *after = s_official_of_070801(st.http_port);
        assert_non_null(after);
        /* the last good value stays (the impossible and future documents name
         * 070801 with a bad queue only: skipped, the value stays too) */
        assert_string_equal(after, good);
        free(after);
        /* /metrics counts it as /health does */
        assert_int_equal(s_metric_rejected(st.http_port, bad[b].reason), now);
        /* the measured queue is as it was */
        char *m = s_measured_of_250401(st.http_port);
        assert_non_null(m);
        assert_string_equal(m, measured);
        free(m);
    }
    free(good);
    free(measured);
    assert_int_equal(stack_stop(&st), 0);
    assert_int_equal(proc_rm_rf(pub), 0);
    free(pub);
    c->stop = 1;
    pthread_join(c->server, NULL);
    c->server_running = false;
}

int main(void)
{
    log_init("test_importer", LOG_LVL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_samples_then_bad_inputs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_collector_keeps_serving, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_missing_helper_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_gzip_answer_is_taken, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
