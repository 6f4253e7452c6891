/* test_garbage — a collector fed garbage keeps serving, counts every bad
 * frame by reason, and still accepts the next good batch. Real collector and
 * rrdcached on loopback; the "agent" is a raw DEALER socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "proc.h"
#include "stack.h"
#include "timeutil.h"
#include "wire.h"

static teststack_t s_stack;
static void *s_ctx, *s_sock;

static int s_setup(void **state)
{
    (void)state;
    if (stack_start(&s_stack) != 0)
        return -1;
    s_ctx = zmq_ctx_new();
    s_sock = zmq_socket(s_ctx, ZMQ_DEALER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(s_sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s_sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    return zmq_connect(s_sock, s_stack.endpoint);
}

static int s_teardown(void **state)
{
    (void)state;
    zmq_close(s_sock);
    zmq_ctx_term(s_ctx);
    return stack_stop(&s_stack);
}

static json_t *s_health(void)
{
    int status = 0;
    char *body = proc_health(s_stack.http_port, &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    return j;
}

static long s_rejected(json_t *h, const char *reason)
{
    return (long)json_integer_value(json_object_get(json_object_get(h, "rejected"), reason));
}

/* Send a batch and wait for its acknowledgement; returns acked_seq or -1. */
static long s_send_batch(const char *crossing, uint64_t epoch, uint64_t seq, int64_t t_end_ms,
                         uint32_t lanes_open, char *error, size_t errlen)
{
    wire_batch_t *b = wire_batch_new(crossing, 1, epoch, 5000);
    wire_queue_sample_t q = { .t_end_ms = t_end_ms, .mode = 1, .type = 1, .arrivals = 3,
                              .departures = 2, .lanes_open = lanes_open };
    wire_batch_add_queue(b, &q);
    size_t len;
    uint8_t *buf = wire_batch_pack(b, seq, 0, &len);
    wire_batch_destroy(&b);
    assert_int_equal(zmq_send(s_sock, buf, len, 0), (int)len);
    free(buf);
    uint8_t reply[4096];
    int n = zmq_recv(s_sock, reply, sizeof reply, 0);
    if (n < 0)
        return -1;
    Poenet__Envelope *env;
    char why[200];
    assert_int_equal(wire_decode(reply, (size_t)n, &env, why, sizeof why), 0);
    assert_int_equal(env->body_case, POENET__ENVELOPE__BODY_ACK);
    long acked = (long)env->ack->acked_seq;
    if (error)
        snprintf(error, errlen, "%s", env->ack->error ? env->ack->error : "");
    wire_free(&env);
    return acked;
}

static void test_garbage_frames_are_counted(void **state)
{
    (void)state;
    const char junk[] = "\x08\x96\x01 this is not a poenet message \xff\xfe";
    zmq_send(s_sock, junk, sizeof junk, 0);
    zmq_send(s_sock, "", 0, 0);
    zmq_send(s_sock, "part one", 8, ZMQ_SNDMORE);
    zmq_send(s_sock, "part two", 8, 0);
    uint8_t random_bytes[1000];
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof random_bytes; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        random_bytes[i] = (uint8_t)x;
    }
    zmq_send(s_sock, random_bytes, sizeof random_bytes, 0);

    /* A good batch afterwards is still archived and acknowledged. */
    int64_t t = (tu_now_ms() / 5000 - 2) * 5000;
    char err[200];
    assert_int_equal(s_send_batch("250401", 1, 1, t, 4, err, sizeof err), 1);
    assert_string_equal(err, "");

    json_t *h = s_health();
    assert_int_equal(s_rejected(h, "decode"), 4);
    assert_int_equal(json_integer_value(json_object_get(h, "batches_accepted")), 1);
    json_decref(h);
}

static void test_bad_batches_are_refused_with_reason(void **state)
{
    (void)state;
    char err[200];
    int64_t t = (tu_now_ms() / 5000 - 1) * 5000;
    /* Not in the registry: refused, the reason comes back. */
    assert_int_equal(s_send_batch("999999", 7, 1, t, 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "not in the registry"));
    /* A clock an hour ahead: the sample is dropped, the batch acknowledged. */
    assert_int_equal(s_send_batch("250401", 1, 2, t + 3600 * 1000, 4, NULL, 0), 2);
    /* 90 passenger lanes at a crossing that has 34. */
    assert_int_equal(s_send_batch("250401", 1, 3, t, 90, NULL, 0), 3);
    /* A batch sent again is acknowledged, not applied twice. */
    assert_int_equal(s_send_batch("250401", 1, 3, t, 4, NULL, 0), 3);
    /* A gap asks for a resend of what follows the last archived batch. */
    assert_int_equal(s_send_batch("250401", 1, 9, t, 4, NULL, 0), 3);

    json_t *h = s_health();
    assert_int_equal(s_rejected(h, "unknown_crossing"), 1);
    assert_int_equal(s_rejected(h, "future"), 1);
    assert_int_equal(s_rejected(h, "lanes"), 1);
    assert_int_equal(s_rejected(h, "gap"), 1);
    assert_int_equal(json_integer_value(json_object_get(h, "batches_duplicate")), 1);
    assert_string_equal(json_string_value(json_object_get(h, "status")), "ok");
    json_decref(h);

    /* And the feed still serves. */
    int status = 0;
    char *body = proc_http_get(s_stack.http_port, "/v1/crossings/250401", &status);
    assert_non_null(body);
    assert_int_equal(status, 200);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_frames_are_counted),
        cmocka_unit_test(test_bad_batches_are_refused_with_reason),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
