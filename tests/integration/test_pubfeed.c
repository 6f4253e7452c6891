/* test_pubfeed — the live ZeroMQ feed: a late subscriber takes a snapshot
 * stamped with a sequence number, drops older updates, then sees every
 * change with the next numbers in order; heartbeats carry the newest
 * number so a gap is always detectable. Real collector and rrdcached on
 * loopback; a raw DEALER plays the agent. */
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
    static const char *extra[5];
    extra[0] = "--feed";
    extra[1] = s_feed;
    extra[2] = "--feed-snapshot";
    extra[3] = s_snap;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_then_ordered_updates),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
