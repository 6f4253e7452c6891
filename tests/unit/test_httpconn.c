/* test_httpconn — one HTTP connection's state machine (collector/httpconn)
 * over a socketpair, on its own event base, with no server around it:
 * keep-alive and pipelined requests answered in order, a request trickled
 * in byte by byte, HEAD, HTTP/1.0 with and without keep-alive, headers
 * looked up case-insensitively, the target split into path and query,
 * a malformed request and a body over the hard limit handed over with
 * their error and the connection closed after the answer (lingering to
 * read what the client still sends), an answer given
 * later (pipelined requests wait for it), a held response in chunks, big
 * bodies by sendfile and by sendmsg through a full socket, and the idle
 * timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpconn.h"

#define MAXREQ 8

/* What the handler saw of a request. */
typedef struct {
    int method, error;
    char path[256], query[256], accept[64], host[64];
    size_t body_len;
} seen_t;

typedef struct {
    struct event_base *base;
    int client;                 /* the test's end */
    httpconn_t *conn;
    httpconn_cfg_t cfg;
    struct timeval tv;
    char rbuf[4096];
    bool answer_later;          /* the handler keeps the request */
    httpconn_t *held;
    int nreq, closed;
    seen_t req[MAXREQ];
    http_cache_body_t *body;    /* what the handler answers with */
} fx_t;

static void s_on_request(void *arg, httpconn_t *c, const httpreq_t *req)
{
    fx_t *fx = arg;
    assert_true(fx->nreq < MAXREQ);
    seen_t *r = &fx->req[fx->nreq++];
    r->method = (int)req->method;
    r->error = req->error;
    r->body_len = req->body_len;
    snprintf(r->path, sizeof r->path, "%s", req->path ? req->path : "(null)");
    snprintf(r->query, sizeof r->query, "%s", req->query ? req->query : "(null)");
    const char *a = httpreq_header(req, "accept-ENCODING");
    snprintf(r->accept, sizeof r->accept, "%s", a ? a : "(null)");
    const char *h = httpreq_header(req, "Host");
    snprintf(r->host, sizeof r->host, "%s", h ? h : "(null)");
    if (fx->answer_later) {
        fx->held = c;
        return;
    }
    httpconn_head_t head;
    httpconn_head_init(&head);
    httpconn_head_add(&head, "X-Req", r->path);
    if (fx->body)
        http_cache_body_ref(fx->body);
    httpconn_respond(c, req->error ? req->error : 200, &head, fx->body);
}

static void s_on_close(void *arg, httpconn_t *c)
{
    fx_t *fx = arg;
    if (c == fx->conn)
        fx->conn = NULL;
    fx->closed++;
}

static int s_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    int sv[2];
    if (!fx || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -1;
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fx->base = event_base_new();
    fx->client = sv[1];
    fx->tv = (struct timeval){ 5, 0 };
    fx->cfg = (httpconn_cfg_t){ .on_request = s_on_request, .on_close = s_on_close, .arg = fx,
                                .read_timeout = &fx->tv, .write_timeout = &fx->tv,
                                .rbuf = fx->rbuf, .rbuf_len = sizeof fx->rbuf };
    fx->conn = httpconn_new(fx->base, sv[0], &fx->cfg);
    fx->body = http_cache_body_new(strdup("hello"), 5);
    *state = fx;
    return fx->base && fx->conn && fx->body ? 0 : -1;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    httpconn_destroy(&fx->conn);
    http_cache_body_unref(fx->body);
    close(fx->client);
    event_base_free(fx->base);
    free(fx);
    return 0;
}

static void s_send(fx_t *fx, const char *s)
{
    assert_int_equal(write(fx->client, s, strlen(s)), (ssize_t)strlen(s));
}

static void s_turns(fx_t *fx, int n)
{
    for (int i = 0; i < n; i++)
        event_base_loop(fx->base, EVLOOP_NONBLOCK);
}

/* Everything the server has written so far (the loop turned meanwhile). */
static size_t s_recv(fx_t *fx, char *buf, size_t cap)
{
    size_t len = 0;
    for (int idle = 0; idle < 20 && len + 1 < cap;) {
        s_turns(fx, 1);
        ssize_t n = recv(fx->client, buf + len, cap - 1 - len, MSG_DONTWAIT);
        if (n > 0) {
            len += (size_t)n;
            idle = 0;
        } else {
            idle++;
        }
    }
    buf[len] = '\0';
    return len;
}

static int s_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* True once the server closed its end (read returns 0). */
static bool s_peer_closed(fx_t *fx)
{
    char c;
    s_turns(fx, 3);
    return recv(fx->client, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_pipelined_in_order(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    char buf[4096];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 2);
    assert_string_equal(fx->req[0].path, "/a");
    assert_string_equal(fx->req[0].query, "x=1");
    assert_string_equal(fx->req[1].path, "/b");
    assert_string_equal(fx->req[1].query, "(null)");
    assert_int_equal(s_count(buf, "HTTP/1.1 200 OK\r\n"), 2);
    assert_int_equal(s_count(buf, "Content-Length: 5\r\n"), 2);
    assert_int_equal(s_count(buf, "\r\nDate: "), 2);
    assert_null(strstr(buf, "Connection: close"));
    char *a = strstr(buf, "X-Req: /a"), *b = strstr(buf, "X-Req: /b");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    assert_non_null(fx->conn);  /* kept alive */
}

static void test_trickled_byte_by_byte(void **state)
{
    fx_t *fx = *state;
    const char *req = "GET /slow?q=2 HTTP/1.1\r\nHost: trickle\r\nAccept-Encoding:  gzip  \r\n\r\n";
    for (const char *p = req; *p; p++) {
        assert_int_equal(write(fx->client, p, 1), 1);
        s_turns(fx, 2);
    }
    char buf[1024];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 1);
    assert_string_equal(fx->req[0].path, "/slow");
    assert_string_equal(fx->req[0].host, "trickle");
    assert_string_equal(fx->req[0].accept, "gzip");   /* trailing blanks trimmed */
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
}

static void test_head_has_length_no_body(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "HEAD /h HTTP/1.1\r\n\r\n");
    char buf[1024];
    size_t n = s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->req[0].method, HTTPREQ_HEAD);
    assert_non_null(strstr(buf, "Content-Length: 5\r\n"));
    assert_true(n >= 4 && strcmp(buf + n - 4, "\r\n\r\n") == 0);   /* nothing after the head */
}

static void test_http10(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    char buf[1024];
    s_recv(fx, buf, sizeof buf);
    assert_non_null(strstr(buf, "Connection: keep-alive\r\n"));
    assert_non_null(fx->conn);
    s_send(fx, "GET /c HTTP/1.0\r\n\r\n");
    s_recv(fx, buf, sizeof buf);
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_true(s_peer_closed(fx));
    assert_null(fx->conn);
    assert_int_equal(fx->closed, 1);
}

static void test_absolute_form_and_methods(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "OPTIONS http://example.org/v1/x?y=z#f HTTP/1.1\r\n\r\n"
               "DELETE /d HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    char buf[2048];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 2);
    assert_int_equal(fx->req[0].method, HTTPREQ_OPTIONS);
    assert_string_equal(fx->req[0].path, "/v1/x");
    assert_string_equal(fx->req[0].query, "y=z");
    assert_int_equal(fx->req[1].method, HTTPREQ_OTHER);
    assert_int_equal(fx->req[1].body_len, 3);
}

static void test_malformed_answered_then_closed(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "GET /ok HTTP/1.1\r\n\r\nGE\x01T / HTTP/1.1\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
    char buf[2048];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 2);
    assert_int_equal(fx->req[0].error, 0);
    assert_int_equal(fx->req[1].error, 400);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    assert_true(s_peer_closed(fx));
}

static void test_hard_body_limit(void **state)
{
    fx_t *fx = *state;
    s_send(fx, "POST /big HTTP/1.1\r\nContent-Length: 1000000\r\n\r\nxxxx");
    char buf[1024];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 1);
    assert_int_equal(fx->req[0].error, 413);
    assert_non_null(strstr(buf, "HTTP/1.1 413 "));
    assert_true(s_peer_closed(fx));
    /* It lingers: the rest of the body is read and dropped (no reset),
     * and it goes when the client closes. */
    assert_int_equal(fx->closed, 0);
    static char more[200 * 1024];
    size_t off = 0;
    for (int i = 0; i < 1000 && off < sizeof more; i++) {
        ssize_t w = send(fx->client, more + off, sizeof more - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        assert_true(w > 0 || errno == EAGAIN);
        off += w > 0 ? (size_t)w : 0;
        s_turns(fx, 1);
    }
    assert_int_equal(off, sizeof more);
    shutdown(fx->client, SHUT_WR);
    s_turns(fx, 3);
    assert_int_equal(fx->closed, 1);
}

static void test_hard_head_limit(void **state)
{
    fx_t *fx = *state;
    size_t n = HTTPREQ_HARD_HEAD + 100;
    char *req = malloc(n + 64);
    assert_non_null(req);
    int at = snprintf(req, 64, "GET / HTTP/1.1\r\nCookie: ");
    memset(req + at, 'c', n);
    req[at + (int)n] = '\0';
    /* written while the loop turns: the pair's buffer is smaller */
    size_t off = 0, len = strlen(req);
    for (int i = 0; i < 1000 && off < len && fx->nreq == 0; i++) {
        ssize_t w = send(fx->client, req + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        s_turns(fx, 1);
    }
    free(req);
    char buf[1024];
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 1);
    assert_int_equal(fx->req[0].error, 431);
    assert_non_null(strstr(buf, "HTTP/1.1 431 "));
}

static void test_answer_later_keeps_order(void **state)
{
    fx_t *fx = *state;
    fx->answer_later = true;
    s_send(fx, "GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
    char buf[2048];
    assert_int_equal(s_recv(fx, buf, sizeof buf), 0);
    assert_int_equal(fx->nreq, 1);   /* the second waits for the first's answer */
    fx->answer_later = false;
    http_cache_body_ref(fx->body);
    httpconn_respond(fx->held, 200, NULL, fx->body);
    s_recv(fx, buf, sizeof buf);
    assert_int_equal(fx->nreq, 2);
    assert_int_equal(s_count(buf, "HTTP/1.1 200 OK\r\n"), 2);
    assert_true(strstr(buf, "X-Req: /second") > strstr(buf, "hello"));
}

/* The handler that streams, as sse_attach does. */
static void s_on_stream(void *arg, httpconn_t *c, const httpreq_t *req)
{
    (void)req;
    fx_t *fx = arg;
    fx->nreq++;
    static const struct timeval wt = { 5, 0 };
    httpconn_head_t h;
    httpconn_head_init(&h);
    assert_int_equal(httpconn_stream(c, &h, &wt), 0);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "retry: 3\n\n", 10);
    assert_int_equal(httpconn_stream_send(c, b), 0);
    evbuffer_free(b);
}

static void test_chunked_stream(void **state)
{
    fx_t *fx = *state;
    fx->cfg.on_request = s_on_stream;
    s_send(fx, "GET /v1/stream HTTP/1.1\r\n\r\n");
    char buf[1024];
    s_recv(fx, buf, sizeof buf);
    assert_non_null(strstr(buf, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\na\r\nretry: 3\n\n\r\n"));
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, "data: x\n\n", 9);
    assert_int_equal(httpconn_stream_send(fx->conn, b), 0);   /* written at once */
    evbuffer_free(b);
    ssize_t n = recv(fx->client, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, "9\r\ndata: x\n\n\r\n");
    assert_int_equal(httpconn_backlog(fx->conn), 0);
    httpconn_close(fx->conn);
    assert_true(s_peer_closed(fx));
    assert_int_equal(fx->closed, 1);
}

enum s_form { S_MEMFD, S_MEMORY, S_PARTS };

/* A body bigger than the socket takes: written as the client reads, by
 * sendfile from a memfd, by sendmsg from memory, and by sendmsg from a
 * body in parts (a crossing's document), whose short writes end inside
 * one part or another. */
static void s_big_body(fx_t *fx, enum s_form form)
{
    size_t len = 3u << 20;
    char *data = malloc(len + 1);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (char)('a' + i % 26);
    http_cache_body_t *flat = http_cache_body_new(data, len), *big = flat;
    assert_non_null(big);
    if (form == S_MEMFD)
        assert_int_equal(http_cache_body_fd(big), 0);
    if (form == S_PARTS) {
        http_cache_part_t p[] = { { flat, 0, 7 }, { flat, 7, 0 }, { flat, 7, len / 2 },
                                  { flat, 7 + len / 2, len - 7 - len / 2 } };
        big = http_cache_body_parts(p, 4);
        assert_non_null(big);
        assert_int_equal(big->nparts, 3);   /* the empty one left out */
        assert_int_equal(big->len, len);
    }
    http_cache_body_unref(fx->body);
    fx->body = big;
    s_send(fx, "GET /big HTTP/1.1\r\n\r\n");
    s_turns(fx, 2);
    char *got = malloc(len + 4096);
    assert_non_null(got);
    size_t n = 0;
    for (int idle = 0; idle < 200;) {
        s_turns(fx, 1);
        ssize_t r = recv(fx->client, got + n, len + 4096 - n, MSG_DONTWAIT);
        if (r > 0) {
            n += (size_t)r;
            idle = 0;
        } else {
            idle++;
        }
    }
    char *end = strstr(got, "\r\n\r\n");
    assert_non_null(end);
    size_t head = (size_t)(end + 4 - got);
    assert_int_equal(n - head, len);
    assert_memory_equal(got + head, flat->data, len);
    free(got);
    if (big != flat)
        http_cache_body_unref(flat);   /* the parts hold their own */
}

static void test_big_body_sendfile(void **state)
{
    s_big_body(*state, S_MEMFD);
}

static void test_big_body_sendmsg(void **state)
{
    s_big_body(*state, S_MEMORY);
}

static void test_big_body_in_parts(void **state)
{
    s_big_body(*state, S_PARTS);
}

static void test_idle_timeout(void **state)
{
    fx_t *fx = *state;
    fx->tv = (struct timeval){ 0, 50 * 1000 };
    /* a connection takes its timeout when it arms its read event: a new one */
    httpconn_destroy(&fx->conn);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    close(fx->client);
    fx->client = sv[1];
    fx->conn = httpconn_new(fx->base, sv[0], &fx->cfg);
    assert_non_null(fx->conn);
    usleep(120 * 1000);
    assert_true(s_peer_closed(fx));
    assert_null(fx->conn);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipelined_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trickled_byte_by_byte, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_head_has_length_no_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_http10, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_absolute_form_and_methods, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_answered_then_closed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hard_body_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hard_head_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_answer_later_keeps_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_chunked_stream, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_big_body_sendfile, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_big_body_sendmsg, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_big_body_in_parts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
