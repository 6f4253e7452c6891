/* test_sse — /v1/stream, the browsers' live stream, on the collector's HTTP
 * worker threads (collector/sse, collector/sse_ring).
 *
 * Real collector (two HTTP threads) and rrdcached on loopback; a raw
 * DEALER plays the agent, a ZeroMQ SUB reads the live feed alongside.
 * Several streams (landing on both workers) each start with a snapshot,
 * then carry exactly the live feed's updates — same bodies, ids = the
 * feed's sequence numbers, no gap, none twice — those of one crossing
 * only with ?crossing=; a reconnect with Last-Event-ID resumes with the
 * events after it and no snapshot; a garbage, negative, overlong or
 * future Last-Event-ID, a bad query and an unknown crossing each get
 * their status and reason; past the bound on streams (--sse-clients 6)
 * 10,000 attempts are each refused with 503, the JSON reason and
 * Retry-After, counted in /metrics, and the collector keeps serving; a
 * freed place is taken again. Run under ASan+UBSan and ThreadSanitizer
 * too (make test-tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "http_client.h"
#include "proc.h"
#include "sse_client.h"
#include "stack.h"
#include "timeutil.h"
#include "wire.h"

#define MAX_STREAMS 6
#define WAIT_MS 20000      /* bound on any wait (sanitizers are slow) */

static teststack_t s_st;
static void *s_ctx, *s_agent, *s_sub;
static char s_feed[96], s_snap[96];
static uint64_t s_seq_250401, s_seq_other; /* sequences are per crossing direction */
static int64_t s_t;        /* the next interval's end */

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_feed, sizeof s_feed, "ipc:///tmp/poe-sse-feed-%d", (int)getpid());
    snprintf(s_snap, sizeof s_snap, "ipc:///tmp/poe-sse-snap-%d", (int)getpid());
    static const char *extra[9];
    extra[0] = "--feed";
    extra[1] = s_feed;
    extra[2] = "--feed-snapshot";
    extra[3] = s_snap;
    extra[4] = "--sse-clients";
    extra[5] = "6";
    extra[6] = "--http-threads";
    extra[7] = "2";
    if (stack_start_args(&s_st, 13, extra) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    s_agent = zmq_socket(s_ctx, ZMQ_DEALER);
    s_sub = zmq_socket(s_ctx, ZMQ_SUB);
    int linger = 0, timeout = WAIT_MS;
    zmq_setsockopt(s_agent, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s_agent, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s_sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s_sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s_sub, ZMQ_SUBSCRIBE, "wait.", 5);
    s_t = (tu_now_ms() / 5000 - 60) * 5000;
    if (zmq_connect(s_agent, s_st.endpoint) != 0 || zmq_connect(s_sub, s_feed) != 0)
        return -1;
    usleep(300 * 1000); /* the subscription reaches the publisher */
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    zmq_close(s_agent);
    zmq_close(s_sub);
    zmq_ctx_term(s_ctx);
    unlink(s_feed + 6);
    unlink(s_snap + 6);
    return stack_stop(&s_st);
}

/* One batch of one interval of crossing's passenger standard and ready
 * lanes (two queues change: two updates); acked. */
static void s_send_interval(const char *crossing, uint32_t arrivals)
{
    wire_batch_t *b = wire_batch_new(crossing, 1, 99, 5000);
    for (int type = 1; type <= 2; type++) {
        wire_queue_sample_t q = { .t_end_ms = s_t, .mode = 1, .type = type,
                                  .arrivals = arrivals, .departures = 1, .lanes_open = 4 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, strcmp(crossing, "250401") == 0 ? ++s_seq_250401 : ++s_seq_other, 0,
                                   &len);
    wire_batch_destroy(&b);
    zmq_send(s_agent, buf, len, 0);
    free(buf);
    uint8_t reply[512];
    assert_true(zmq_recv(s_agent, reply, sizeof reply, 0) > 0);
}

/* The next update of the ZeroMQ feed: its seq, body in *j. */
static uint64_t s_feed_next(json_t **j)
{
    char topic[128], body[8192];
    int n = zmq_recv(s_sub, topic, sizeof topic - 1, 0);
    assert_true(n > 0);
    n = zmq_recv(s_sub, body, sizeof body - 1, 0);
    assert_true(n > 0);
    body[n] = '\0';
    *j = json_loads(body, 0, NULL);
    assert_non_null(*j);
    return (uint64_t)json_integer_value(json_object_get(*j, "seq"));
}

/* Wait for the next frame other than a comment or retry. */
static bool s_next_event(sse_client_t *c, sse_client_event_t *ev)
{
    int64_t end = tu_mono_ms() + WAIT_MS;
    for (;;) {
        while (sse_client_next(c, ev) == 1) {
            if (strcmp(ev->event, ":") != 0 && strcmp(ev->event, "retry") != 0)
                return true;
            sse_client_event_free(ev);
        }
        int64_t left = end - tu_mono_ms();
        if (left <= 0 || sse_client_wait(c, (int)left) < 0)
            return false;
    }
}

/* Open a stream. A place freed by a close is free once the collector's
 * worker saw the close, which on a loaded machine can come after the next
 * open: a 503 "full" is retried within WAIT_MS (test_bound counts these). */
static void s_open(sse_client_t *c, const char *path, const char *last_id)
{
    int64_t end = tu_mono_ms() + WAIT_MS;
    for (;;) {
        assert_int_equal(sse_client_open(c, s_st.http_port, path, last_id), 0);
        int st = sse_client_status(c, WAIT_MS);
        if (st != 503 || tu_mono_ms() >= end) {
            assert_int_equal(st, 200);
            break;
        }
        sse_client_close(c);
        usleep(50 * 1000);
    }
    assert_string_equal(sse_client_header(c, "Content-Type"), "text/event-stream; charset=utf-8");
}

/* A counter of /metrics, by its whole name with labels; -1 when absent.
 * From a snapshot rendered after the call (tests/lib/proc.h). */
static long s_metric(const char *name)
{
    int status = 0;
    char *m = proc_metrics(s_st.http_port, &status);
    assert_int_equal(status, 200);
    char key[200];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(m, key);
    long v = at ? strtol(at + strlen(key), NULL, 10) : -1;
    free(m);
    return v;
}

/* A fresh stream: its snapshot's id. */
static uint64_t s_open_snapshot(sse_client_t *c, const char *path)
{
    s_open(c, path, NULL);
    sse_client_event_t ev;
    assert_true(s_next_event(c, &ev));
    assert_string_equal(ev.event, "snapshot");
    assert_true(ev.has_id);
    json_t *j = json_loads(ev.data, 0, NULL);
    assert_non_null(json_object_get(j, "crossings"));
    json_decref(j);
    sse_client_event_free(&ev);
    return ev.id;
}

static void test_same_updates_no_gap_and_resume(void **state)
{
    (void)state;
    s_send_interval("250401", 2);   /* something in the feed before anyone streams */
    json_t *skip;
    s_feed_next(&skip);
    json_decref(skip);
    s_feed_next(&skip);
    json_decref(skip);
    /* until the published snapshot has it (bounded): the streams' snapshots
     * are then at a sequence number past 0 */
    for (int i = 0; i < 200; i++) {
        int status = 0;
        char *b = proc_http_get(s_st.http_port, "/v1/crossings/250401", &status);
        bool has = b && strstr(b, "\"ready\"");
        free(b);
        if (has)
            break;
        usleep(50 * 1000);
    }
    sse_client_t all[4], one, other;
    uint64_t at[4];
    for (int i = 0; i < 4; i++)
        at[i] = s_open_snapshot(&all[i], "/v1/stream");
    uint64_t at_one = s_open_snapshot(&one, "/v1/stream?crossing=250401");
    (void)s_open_snapshot(&other, "/v1/stream?crossing=300401");
    printf("sse: 6 streams, snapshots at %llu..%llu\n", (unsigned long long)at[0],
           (unsigned long long)at[3]);

    /* 10 intervals: 20 updates, compared with the ZeroMQ feed's */
    enum { N = 20 };
    json_t *feed[N];
    uint64_t first = 0;
    for (int i = 0; i < N / 2; i++) {
        s_t += 5000;
        s_send_interval("250401", (uint32_t)(3 + i));
    }
    for (int i = 0; i < N; i++) {
        uint64_t seq = s_feed_next(&feed[i]);
        if (i == 0)
            first = seq;
        assert_int_equal(seq, first + (uint64_t)i);
    }
    uint64_t last = first + N - 1;
    for (int k = 0; k < 5; k++) {
        sse_client_t *c = k < 4 ? &all[k] : &one;
        uint64_t want = (k < 4 ? at[k] : at_one) + 1;
        assert_true(want <= first);   /* the snapshot was before the batches */
        while (want <= last) {
            sse_client_event_t ev;
            if (!s_next_event(c, &ev))
                fail_msg("stream %d: no event %llu", k, (unsigned long long)want);
            assert_string_equal(ev.event, "wait");
            if (!ev.has_id || ev.id != want)
                fail_msg("stream %d: event %llu where %llu was due", k, (unsigned long long)ev.id,
                         (unsigned long long)want);
            if (want >= first) {
                json_t *e = json_loads(ev.data, 0, NULL);
                if (!e || !json_equal(e, feed[want - first]))
                    fail_msg("stream %d: event %llu differs from the ZeroMQ feed's", k,
                             (unsigned long long)want);
                json_decref(e);
            }
            sse_client_event_free(&ev);
            want++;
        }
    }
    printf("sse: 5 streams carried updates %llu..%llu as the ZeroMQ feed, in order, no gap\n",
           (unsigned long long)first, (unsigned long long)last);
    /* the other crossing's stream got none of them: its next frame is a
     * heartbeat or the update below, never one of 250401 */
    s_t += 5000;
    s_send_interval("300401", 9);
    sse_client_event_t ev;
    assert_true(s_next_event(&other, &ev));
    json_t *e = json_loads(ev.data, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(e, "crossing")), "300401");
    assert_true(ev.id > last);
    json_decref(e);
    sse_client_event_free(&ev);
    for (int i = 0; i < 2; i++) {
        s_feed_next(&e);
        json_decref(e);
    }

    /* resume after first+4: exactly first+5 .. last+2 follow, no snapshot */
    for (int i = 0; i < 4; i++)
        sse_client_close(&all[i]);
    sse_client_close(&one);
    sse_client_close(&other);
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)(first + 4));
    sse_client_t r;
    s_open(&r, "/v1/stream", id);
    for (uint64_t want = first + 5; want <= last + 2; want++) {
        assert_true(s_next_event(&r, &ev));
        if (strcmp(ev.event, "wait") != 0 || ev.id != want)
            fail_msg("resume after %s: '%s' %llu where wait %llu was due", id, ev.event,
                     (unsigned long long)ev.id, (unsigned long long)want);
        if (want <= last) {
            json_t *j = json_loads(ev.data, 0, NULL);
            assert_true(json_equal(j, feed[want - first]));
            json_decref(j);
        }
        sse_client_event_free(&ev);
    }
    sse_client_close(&r);
    /* from 0: everything since the collector started, still in the ring */
    s_open(&r, "/v1/stream", "0");
    assert_true(s_next_event(&r, &ev));
    assert_string_equal(ev.event, "wait");
    assert_int_equal(ev.id, 1);
    sse_client_event_free(&ev);
    sse_client_close(&r);
    printf("sse: resumed after %s with %llu..%llu, no gap, no snapshot\n", id,
           (unsigned long long)(first + 5), (unsigned long long)(last + 2));
    for (int i = 0; i < N; i++)
        json_decref(feed[i]);
}

/* GET /v1/stream with headers: status and the reason in the JSON body. */
static void s_expect(const char *path, const char *header, int status, const char *why)
{
    const char *h[] = { header, NULL };
    hc_response_t r;
    char err[128];
    assert_int_equal(hc_get(s_st.http_port, path, header ? h : NULL, &r, err, sizeof err), 0);
    if (r.status != status || !strstr(r.body, why))
        fail_msg("%s %s: %d %s (wanted %d '%s')", path, header ? header : "", r.status, r.body,
                 status, why);
    assert_non_null(strstr(hc_header(&r, "Content-Type"), "application/json"));
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    json_decref(j);
    hc_free(&r);
}

static void test_bad_input(void **state)
{
    (void)state;
    s_expect("/v1/stream", "Last-Event-ID: garbage", 400, "Last-Event-ID must be a decimal sequence number");
    s_expect("/v1/stream", "Last-Event-ID: -1", 400, "Last-Event-ID must be a decimal sequence number");
    s_expect("/v1/stream", "Last-Event-ID: 12x", 400, "Last-Event-ID must be a decimal sequence number");
    s_expect("/v1/stream", "Last-Event-ID: 123456789012345678901234", 400,
             "Last-Event-ID must be a decimal sequence number");
    s_expect("/v1/stream", "Last-Event-ID: 9999999999", 400, "is ahead of the feed");
    s_expect("/v1/stream?crossing=999999", NULL, 404, "unknown crossing '999999'");
    s_expect("/v1/stream?lang=fr", NULL, 400, "the stream takes only crossing=ID");
    int status = 0;
    char *m = proc_metrics(s_st.http_port, &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(m, "poenet_sse_refused_total{reason=\"bad_last_event_id\"} 4"));
    assert_non_null(strstr(m, "poenet_sse_refused_total{reason=\"future_last_event_id\"} 1"));
    free(m);
}

static void test_bound(void **state)
{
    (void)state;
    sse_client_t held[MAX_STREAMS];
    for (int i = 0; i < MAX_STREAMS; i++)
        (void)s_open_snapshot(&held[i], "/v1/stream");
    long full_before = s_metric("poenet_sse_refused_total{reason=\"full\"}");
    assert_true(full_before >= 0);
    int refused = 0;
    for (int i = 0; i < 10000; i++) {
        sse_client_t c;
        assert_int_equal(sse_client_open(&c, s_st.http_port, "/v1/stream", NULL), 0);
        int st = sse_client_status(&c, WAIT_MS);
        const char *ra = sse_client_header(&c, "Retry-After");
        if (st == 503 && ra && strstr(c.body, "\"live stream full (6 clients); poll /v1/crossings instead\""))
            refused++;
        else if (refused == i && i < 3)
            fprintf(stderr, "attempt %d: %d %s\n", i, st, c.body ? c.body : "");
        sse_client_close(&c);
    }
    printf("sse: 10000 attempts past the bound, %d refused with 503, Retry-After and the reason\n",
           refused);
    assert_int_equal(refused, 10000);
    assert_int_equal(s_metric("poenet_sse_refused_total{reason=\"full\"}"), full_before + 10000);
    assert_int_equal(s_metric("poenet_sse_clients"), MAX_STREAMS);
    int status = 0;
    char *h = proc_http_get(s_st.http_port, "/v1/crossings", &status);
    assert_int_equal(status, 200);
    free(h);
    /* the held streams still live: the next update reaches every one */
    s_t += 5000;
    s_send_interval("250401", 11);
    for (int i = 0; i < MAX_STREAMS; i++) {
        sse_client_event_t ev;
        assert_true(s_next_event(&held[i], &ev));
        assert_string_equal(ev.event, "wait");
        sse_client_event_free(&ev);
    }
    sse_client_close(&held[0]);
    /* the freed place is taken again (once the collector saw the close) */
    bool again = false;
    for (int i = 0; i < 200 && !again; i++) {
        sse_client_t c;
        assert_int_equal(sse_client_open(&c, s_st.http_port, "/v1/stream", NULL), 0);
        again = sse_client_status(&c, WAIT_MS) == 200;
        sse_client_close(&c);
        if (!again)
            usleep(50 * 1000);
    }
    assert_true(again);
    for (int i = 1; i < MAX_STREAMS; i++)
        sse_client_close(&held[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_updates_no_gap_and_resume),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
