/* test_zwatch — a ZeroMQ socket driven from a libevent base loses no
 * message: everything sent is read, through bursts, replies sent from the
 * handler, messages that came before the watch, and a readiness question
 * asked from outside a wake-up (zwatch_pending), which spends the edge
 * the watch would have woken on. A DEALER and a ROUTER over inproc, one
 * thread; every loop has a deadline, so a lost edge fails instead of
 * hanging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdbool.h>
#include <string.h>
#include <zmq.h>

#include "zwatch.h"

typedef struct {
    void *zctx, *router, *dealer;
    struct event_base *base;
    zwatch_t *wr, *wd;        /* watches on the router and the dealer */
    int got, replies, drained, want, sent;
    bool reply;               /* the router answers each message */
    struct event *tick;
} fx_t;

static int s_router_msg(void *arg)
{
    fx_t *f = arg;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    if (zmq_msg_recv(&id, f->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&id);
        return -1;
    }
    zmq_msg_init(&body);
    assert_true(zmq_msg_recv(&body, f->router, 0) >= 0);
    f->got++;
    if (f->reply) {
        zmq_send(f->router, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(f->router, zmq_msg_data(&body), zmq_msg_size(&body), ZMQ_DONTWAIT);
    }
    zmq_msg_close(&body);
    zmq_msg_close(&id);
    return 0;
}

static int s_dealer_msg(void *arg)
{
    fx_t *f = arg;
    char buf[64];
    if (zmq_recv(f->dealer, buf, sizeof buf, ZMQ_DONTWAIT) < 0)
        return -1;
    f->replies++;
    return 0;
}

static void s_router_drained(void *arg) { ((fx_t *)arg)->drained++; }

static void s_send(fx_t *f)
{
    char msg[16];
    int n = snprintf(msg, sizeof msg, "m%d", f->sent++);
    assert_true(zmq_send(f->dealer, msg, (size_t)n, ZMQ_DONTWAIT) == n);
}

static void s_fx_init(fx_t *f, bool reply)
{
    memset(f, 0, sizeof *f);
    f->reply = reply;
    f->zctx = zmq_ctx_new();
    f->router = zmq_socket(f->zctx, ZMQ_ROUTER);
    f->dealer = zmq_socket(f->zctx, ZMQ_DEALER);
    int hwm = 0;   /* unbounded: the tests send more than the default at once */
    zmq_setsockopt(f->dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(f->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(f->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(f->dealer, ZMQ_RCVHWM, &hwm, sizeof hwm);
    assert_int_equal(zmq_bind(f->router, "inproc://zwatch-test"), 0);
    assert_int_equal(zmq_connect(f->dealer, "inproc://zwatch-test"), 0);
    f->base = event_base_new();
    assert_non_null(f->base);
}

static void s_watch(fx_t *f, size_t burst)
{
    zwatch_handlers_t hr = { .on_message = s_router_msg, .on_drained = s_router_drained,
                             .arg = f, .burst = burst };
    zwatch_handlers_t hd = { .on_message = s_dealer_msg, .arg = f };
    f->wr = zwatch_new(f->base, f->router, &hr);
    f->wd = zwatch_new(f->base, f->dealer, &hd);
    assert_non_null(f->wr);
    assert_non_null(f->wd);
}

static void s_fx_free(fx_t *f)
{
    if (f->tick)
        event_free(f->tick);
    zwatch_destroy(&f->wr);
    zwatch_destroy(&f->wd);
    event_base_free(f->base);
    zmq_close(f->dealer);
    zmq_close(f->router);
    zmq_ctx_term(f->zctx);
}

/* Run the loop until every message (and reply) is in, or 5 s passed. */
static void s_until_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fx_t *f = arg;
    if (f->got == f->want && (!f->reply || f->replies == f->want))
        event_base_loopbreak(f->base);
}

/* Call fn every usec microseconds from the loop (outside any wake-up). */
static void s_tick(fx_t *f, event_callback_fn fn, long usec)
{
    f->tick = event_new(f->base, -1, EV_PERSIST, fn, f);
    struct timeval every = { 0, usec };
    event_add(f->tick, &every);
}

static void s_run(fx_t *f)
{
    struct event *check = event_new(f->base, -1, EV_PERSIST, s_until_done, f);
    struct timeval every = { 0, 1000 }, limit = { 5, 0 };
    event_add(check, &every);
    event_base_loopexit(f->base, &limit);
    event_base_dispatch(f->base);
    event_free(check);
}

/* Messages queued before the watch began raise no edge: the first check
 * finds them. A burst of 4 yields and comes back until all are read, and
 * replies sent from the handler do not cost the next message its edge. */
static void test_burst_with_replies(void **state)
{
    (void)state;
    fx_t f;
    s_fx_init(&f, true);
    f.want = 2000;
    while (f.sent < f.want)
        s_send(&f);
    s_watch(&f, 4);
    s_run(&f);
    assert_int_equal(f.got, f.want);
    assert_int_equal(f.replies, f.want);
    assert_true(f.drained >= f.want / 4);
    s_fx_free(&f);
}

/* One message at a time, and right after each send someone asks whether
 * the router has one waiting (as the publisher asks whether agents' frames
 * wait): asking spends the edge, and the watch must still read them all. */
static void s_send_and_ask(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fx_t *f = arg;
    if (f->sent == f->want)
        return;
    s_send(f);
    assert_true(zwatch_pending(f->wr));
    zwatch_pending(f->wr);   /* asked twice: the second finds it too */
}

static void test_pending_keeps_the_edge(void **state)
{
    (void)state;
    fx_t f;
    s_fx_init(&f, false);
    f.want = 200;
    s_watch(&f, 0);
    s_tick(&f, s_send_and_ask, 2000);
    s_run(&f);
    assert_int_equal(f.sent, f.want);
    assert_int_equal(f.got, f.want);
    assert_false(zwatch_pending(f.wr));
    s_fx_free(&f);
}

/* Sends from a timer, outside any wake-up, interleaved with the router's
 * replies: nothing waits for a later message to be noticed. */
static void s_send_some(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fx_t *f = arg;
    for (int i = 0; i < 7 && f->sent < f->want; i++)
        s_send(f);
}

static void test_trickle_with_replies(void **state)
{
    (void)state;
    fx_t f;
    s_fx_init(&f, true);
    f.want = 700;
    s_watch(&f, 3);
    s_tick(&f, s_send_some, 500);
    s_run(&f);
    assert_int_equal(f.got, f.want);
    assert_int_equal(f.replies, f.want);
    s_fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_with_replies),
        cmocka_unit_test(test_pending_keeps_the_edge),
        cmocka_unit_test(test_trickle_with_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
