/* test_pubfeed — the live ZeroMQ feed: a late subscriber takes a snapshot
 * stamped with a sequence number, drops older updates, then sees every
 * change with the next numbers in order; heartbeats carry the newest
 * number so a gap is always detectable. Real collector and rrdcached on
 * loopback; a raw DEALER plays the agent.
 *
 * The browsers' stream /v1/stream (collector/sse) carries the same
 * updates with the same sequence numbers as ids: a snapshot first, then
 * every change; a reconnect with Last-Event-ID resumes with no gap; a
 * garbage or future Last-Event-ID is refused with its reason; past the
 * client cap (--sse-clients 4) 10,000 attempts are each refused with 503
 * and the collector keeps serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "proc.h"
#include "stack.h"
#include "timeutil.h"
#include "wire.h"

static teststack_t s_st;
static void *s_ctx, *s_agent;
static char s_feed[64], s_snap[64];
static uint64_t s_seq_out;

static int s_setup(void **state)
{
    (void)state;
    int port = 20000 + (int)(getpid() % 13000) + 7 * 3 + 2;
    snprintf(s_feed, sizeof s_feed, "tcp://127.0.0.1:%d", port + 40);
    snprintf(s_snap, sizeof s_snap, "tcp://127.0.0.1:%d", port + 41);
    static const char *extra[7];
    extra[0] = "--feed";
    extra[1] = s_feed;
    extra[2] = "--feed-snapshot";
    extra[3] = s_snap;
    extra[4] = "--sse-clients";
    extra[5] = "4";
    if (stack_start_args(&s_st, 7, extra) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    s_agent = zmq_socket(s_ctx, ZMQ_DEALER);
    int linger = 0, timeout = 3000;
    zmq_setsockopt(s_agent, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s_agent, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    return zmq_connect(s_agent, s_st.endpoint);
}

static int s_teardown(void **state)
{
    (void)state;
    zmq_close(s_agent);
    zmq_ctx_term(s_ctx);
    return stack_stop(&s_st);
}

/* One batch of one interval for passenger/standard and ready; acked. */
static void s_send_interval(int64_t t_end_ms, uint32_t arrivals)
{
    wire_batch_t *b = wire_batch_new("250401", 1, 99, 5000);
    for (int type = 1; type <= 2; type++) {
        wire_queue_sample_t q = { .t_end_ms = t_end_ms, .mode = 1, .type = type,
                                  .arrivals = arrivals, .departures = 1, .lanes_open = 4 };
        wire_batch_add_queue(b, &q);
    }
    size_t len;
    uint8_t *buf = wire_batch_pack(b, ++s_seq_out, 0, &len);
    wire_batch_destroy(&b);
    zmq_send(s_agent, buf, len, 0);
    free(buf);
    uint8_t reply[512];
    assert_true(zmq_recv(s_agent, reply, sizeof reply, 0) > 0);
}

static json_t *s_recv_json(void *sock, char *topic, size_t tlen)
{
    char body[8192];
    int n = zmq_recv(sock, topic, tlen - 1, 0);
    if (n < 0)
        return NULL;
    topic[n] = '\0';
    n = zmq_recv(sock, body, sizeof body - 1, 0);
    if (n < 0)
        return NULL;
    body[n] = '\0';
    return json_loads(body, 0, NULL);
}

static uint64_t s_seq(json_t *j) { return (uint64_t)json_integer_value(json_object_get(j, "seq")); }

static void test_snapshot_then_ordered_updates(void **state)
{
    (void)state;
    int64_t t = (tu_now_ms() / 5000 - 10) * 5000;
    s_send_interval(t, 3); /* before anyone subscribes */

    void *sub = zmq_socket(s_ctx, ZMQ_SUB), *req = zmq_socket(s_ctx, ZMQ_DEALER);
    int linger = 0, timeout = 3000;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(sub, s_feed), 0);
    assert_int_equal(zmq_connect(req, s_snap), 0);
    usleep(300 * 1000); /* the subscription reaches the publisher */

    zmq_send(req, "SNAPSHOT wait.250401.", 21, 0);
    char topic[128];
    int items = 0;
    uint64_t at = 0, stamped[8];
    for (;;) {
        json_t *j = s_recv_json(req, topic, sizeof topic);
        assert_non_null(j);
        if (strcmp(topic, "END") == 0) {
            at = s_seq(j);
            json_decref(j);
            break;
        }
        assert_non_null(strstr(topic, "wait.250401.northbound.passenger."));
        assert_string_equal(json_string_value(json_object_get(j, "into")), "US");
        assert_true(items < 8);
        stamped[items++] = s_seq(j);
        json_decref(j);
    }
    assert_int_equal(items, 2);
    assert_true(at >= 2);
    for (int i = 0; i < items; i++) /* every item says when the snapshot was taken */
        assert_int_equal(stamped[i], at);

    /* Two more intervals: four updates, numbered at+1 .. at+4, in order. */
    s_send_interval(t + 5000, 5);
    s_send_interval(t + 10000, 7);
    uint64_t want = at + 1;
    int updates = 0;
    while (updates < 4) {
        json_t *j = s_recv_json(sub, topic, sizeof topic);
        assert_non_null(j);
        if (strcmp(topic, "hb") == 0) {
            assert_true(s_seq(j) >= want - 1);
        } else if (s_seq(j) > at) {
            assert_int_equal(s_seq(j), want);
            want++;
            updates++;
            json_t *q = json_object_get(j, "queue");
            assert_int_equal(json_integer_value(json_object_get(q, "arrivals")),
                             updates <= 2 ? 5 : 7);
        }
        json_decref(j);
    }
    /* The next heartbeat says where the feed is: nothing was missed. */
    for (;;) {
        json_t *j = s_recv_json(sub, topic, sizeof topic);
        assert_non_null(j);
        bool hb = strcmp(topic, "hb") == 0;
        if (hb)
            assert_int_equal(s_seq(j), want - 1);
        json_decref(j);
        if (hb)
            break;
    }
    zmq_close(sub);
    zmq_close(req);
}

/* ---- /v1/stream ------------------------------------------------------------ */

static int s_http_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s_st.http_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* GET /v1/stream with an optional Last-Event-ID; the socket. */
static int s_stream_open(const char *last_id)
{
    int fd = s_http_connect();
    assert_true(fd >= 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n",
                     last_id ? "Last-Event-ID: " : "", last_id ? last_id : "", last_id ? "\r\n" : "");
    assert_int_equal(write(fd, req, (size_t)n), n);
    return fd;
}

/* Read from fd into buf (appending at *len) until want appears or
 * timeout_ms passes; true when it appeared. */
static bool s_read_until(int fd, char *buf, size_t cap, size_t *len, const char *want, int timeout_ms)
{
    int64_t end = tu_mono_ms() + timeout_ms;
    while (!strstr(buf, want)) {
        int64_t left = end - tu_mono_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return false;
        ssize_t n = read(fd, buf + *len, cap - 1 - *len);
        if (n <= 0)
            return false;
        *len += (size_t)n;
        buf[*len] = '\0';
    }
    return true;
}

/* The data line of the event with id seq in buf, as JSON. */
static json_t *s_event_data(const char *buf, uint64_t seq, const char *event)
{
    char head[96];
    snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)seq, event);
    const char *p = strstr(buf, head);
    if (!p)
        return NULL;
    p += strlen(head);
    const char *e = strchr(p, '\n');
    char *copy = strndup(p, e ? (size_t)(e - p) : strlen(p));
    json_t *j = json_loads(copy, 0, NULL);
    free(copy);
    return j;
}

static void test_sse_same_updates_and_resume(void **state)
{
    (void)state;
    static char buf[1 << 20];
    size_t len = 0;
    buf[0] = '\0';
    int fd = s_stream_open(NULL);
    assert_true(s_read_until(fd, buf, sizeof buf, &len, "event: snapshot", 5000));
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "text/event-stream"));
    const char *idp = strstr(buf, "id: ");
    assert_non_null(idp);
    uint64_t at = strtoull(idp + 4, NULL, 10);
    char *nl = strstr(buf, "event: snapshot\ndata: ");
    assert_non_null(nl);
    assert_non_null(strstr(nl, "\"crossings\":["));
    printf("sse: snapshot at seq %llu\n", (unsigned long long)at);

    /* the ZeroMQ feed alongside, to compare bodies */
    void *sub = zmq_socket(s_ctx, ZMQ_SUB);
    int linger = 0, timeout = 3000;
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "wait.", 5);
    assert_int_equal(zmq_connect(sub, s_feed), 0);
    usleep(300 * 1000);
    int64_t t = (tu_now_ms() / 5000 - 2) * 5000;
    s_send_interval(t, 9);   /* two queues change: at+1, at+2 */
    char want[64];
    snprintf(want, sizeof want, "id: %llu\n", (unsigned long long)(at + 2));
    assert_true(s_read_until(fd, buf, sizeof buf, &len, want, 5000));
    for (uint64_t s = at + 1; s <= at + 2; s++) {
        char topic[128];
        json_t *z = s_recv_json(sub, topic, sizeof topic);
        assert_non_null(z);
        assert_int_equal(s_seq(z), s);
        json_t *e = s_event_data(buf, s, "wait");
        if (!e || !json_equal(e, z))
            fail_msg("sse event %llu differs from the ZeroMQ feed's", (unsigned long long)s);
        json_decref(e);
        json_decref(z);
    }
    zmq_close(sub);
    close(fd);

    /* resume after at+1: exactly at+2 comes, no snapshot */
    char last[32];
    snprintf(last, sizeof last, "%llu", (unsigned long long)(at + 1));
    len = 0;
    buf[0] = '\0';
    fd = s_stream_open(last);
    assert_true(s_read_until(fd, buf, sizeof buf, &len, want, 5000));
    assert_null(strstr(buf, "event: snapshot"));
    snprintf(want, sizeof want, "id: %llu\n", (unsigned long long)(at + 1));
    assert_null(strstr(buf, want));
    close(fd);
    printf("sse: resumed after %s with %llu, no gap, no snapshot\n", last, (unsigned long long)(at + 2));
}

static void test_sse_bad_input(void **state)
{
    (void)state;
    static char buf[65536];
    const struct {
        const char *id, *why;
    } bad[] = {
        { "garbage", "Last-Event-ID must be a decimal sequence number" },
        { "-1", "Last-Event-ID must be a decimal sequence number" },
        { "123456789012345678901234", "Last-Event-ID must be a decimal sequence number" },
        { "9999999999", "is ahead of the feed" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = 0;
        buf[0] = '\0';
        int fd = s_stream_open(bad[i].id);
        assert_true(s_read_until(fd, buf, sizeof buf, &len, "}", 5000));
        if (!strstr(buf, "HTTP/1.1 400") || !strstr(buf, bad[i].why))
            fail_msg("Last-Event-ID '%s': %s", bad[i].id, buf);
        close(fd);
    }
    /* the cap: 4 streams held, then 10,000 attempts refused one by one */
    int held[4];
    for (int i = 0; i < 4; i++) {
        size_t len = 0;
        buf[0] = '\0';
        held[i] = s_stream_open(NULL);
        assert_true(s_read_until(held[i], buf, sizeof buf, &len, "event: snapshot", 5000));
    }
    int refused = 0;
    for (int i = 0; i < 10000; i++) {
        size_t len = 0;
        buf[0] = '\0';
        int fd = s_stream_open(NULL);
        if (s_read_until(fd, buf, sizeof buf, &len, "}", 5000) && strstr(buf, "HTTP/1.1 503") &&
            strstr(buf, "live stream full (4 clients)"))
            refused++;
        else if (i < 3)
            fprintf(stderr, "attempt %d: %s\n", i, buf);
        close(fd);
    }
    printf("sse: 10000 attempts past the cap, %d refused with 503 and the reason\n", refused);
    assert_int_equal(refused, 10000);
    int status = 0;
    char *h = proc_http_get(s_st.http_port, "/health", &status);
    assert_int_equal(status, 200);
    free(h);
    for (int i = 0; i < 4; i++)
        close(held[i]);
    /* the freed places are taken again */
    usleep(200 * 1000);
    size_t len = 0;
    buf[0] = '\0';
    int fd = s_stream_open(NULL);
    assert_true(s_read_until(fd, buf, sizeof buf, &len, "event: snapshot", 5000));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_then_ordered_updates),
        cmocka_unit_test(test_sse_same_updates_and_resume),
        cmocka_unit_test(test_sse_bad_input),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
