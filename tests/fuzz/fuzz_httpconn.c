/* fuzz_httpconn — libFuzzer target for one HTTP connection
 * (collector/httpconn.c): the input is what a client sends, written into
 * a socketpair whose other end a connection reads on its own event base;
 * the first byte chooses how the handler answers (at once, or later from
 * outside the connection's callbacks, or by holding a stream). Beyond
 * crashes, leaks and sanitizer findings it checks the connection's
 * promises: a request handed over has a NUL-terminated path no longer than
 * its target, a broken one carries its status and reason, and every
 * request handed over gets exactly one answer, in order (one status line
 * each, and nothing after a connection is closed). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpconn.h"

#define INPUT_MAX (48 * 1024)

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz_httpconn: invariant failed: %s (%s:%d)\n", #cond, \
                    __FILE__, __LINE__);                                            \
            abort();                                                                \
        }                                                                           \
    } while (0)

typedef struct {
    int mode;               /* 0 at once, 1 later, 2 stream */
    httpconn_t *conn, *held;
    int requests, closed;
    http_cache_body_t *body;
} s_run_t;

static void s_on_request(void *arg, httpconn_t *c, const httpreq_t *req)
{
    s_run_t *r = arg;
    r->requests++;
    CHECK(r->closed == 0);
    CHECK(req->path && req->target);
    CHECK(req->error || strlen(req->path) <= req->target_len);
    CHECK(!req->error || req->reason);
    CHECK(!req->error || req->error == 400 || req->error == 413 || req->error == 414 ||
          req->error == 431);
    (void)httpreq_header(req, "Host");
    httpconn_head_t h;
    httpconn_head_init(&h);
    httpconn_head_add(&h, "X-Path", req->error ? "-" : "p");
    if (r->mode == 1 && !req->error) {
        r->held = c;
        return;
    }
    if (r->mode == 2 && !req->error) {
        static const struct timeval wt = { 1, 0 };
        if (httpconn_stream(c, &h, &wt) == 0) {
            struct evbuffer *b = evbuffer_new();
            evbuffer_add(b, "data: x\n\n", 9);
            httpconn_stream_send(c, b);
            evbuffer_free(b);
        }
        return;
    }
    http_cache_body_ref(r->body);
    httpconn_respond(c, req->error ? req->error : 200, &h, r->body);
}

static void s_on_close(void *arg, httpconn_t *c)
{
    s_run_t *r = arg;
    CHECK(c == r->conn);
    r->conn = NULL;
    r->closed++;
}

static int s_status_lines(const char *buf, size_t len)
{
    int n = 0;
    for (size_t i = 0; i + 9 <= len; i++)
        if (memcmp(buf + i, "HTTP/1.1 ", 9) == 0)
            n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        signal(SIGPIPE, SIG_IGN);
        once = true;
    }
    if (size < 1 || size > INPUT_MAX)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    struct event_base *base = event_base_new();
    static char rbuf[4096];
    struct timeval tv = { 5, 0 };
    s_run_t r = { .mode = data[0] % 3, .body = http_cache_body_new(strdup("ok"), 2) };
    httpconn_cfg_t cfg = { .on_request = s_on_request, .on_close = s_on_close, .arg = &r,
                           .read_timeout = &tv, .write_timeout = &tv, .rbuf = rbuf,
                           .rbuf_len = (size_t)(data[0] >> 2) + 1 };  /* reads split anywhere */
    r.conn = httpconn_new(base, sv[0], &cfg);
    CHECK(r.conn);
    CHECK(write(sv[1], data + 1, size - 1) == (ssize_t)(size - 1));
    shutdown(sv[1], SHUT_WR);
    static char out[1 << 20];
    size_t got = 0;
    for (int turn = 0; turn < 400 && got < sizeof out; turn++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (r.held && turn % 3 == 2) {   /* the answer comes from outside the callbacks */
            httpconn_t *c = r.held;
            r.held = NULL;
            http_cache_body_ref(r.body);
            httpconn_respond(c, 200, NULL, r.body);
        }
        ssize_t n = recv(sv[1], out + got, sizeof out - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 && !r.held)
            break;
    }
    if (r.mode != 2)
        CHECK(s_status_lines(out, got) <= r.requests);
    if (r.conn && !r.held && r.mode == 0)
        CHECK(s_status_lines(out, got) == r.requests);
    if (r.held) {
        http_cache_body_ref(r.body);
        httpconn_respond(r.held, 200, NULL, r.body);
    }
    httpconn_destroy(&r.conn);
    http_cache_body_unref(r.body);
    close(sv[1]);
    event_base_free(base);
    return 0;
}
