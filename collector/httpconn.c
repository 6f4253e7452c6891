/* httpconn — see httpconn.h. s_drive is the state machine; the event
 * callback, httpconn_respond and httpconn_stream_send are its entry
 * points, and only an entry point that is not inside s_drive (`busy`)
 * tears a closed connection down, so nothing below frees the connection
 * under its own feet.
 *
 * Input: the worker's read buffer is shared by its connections (one is
 * driven at a time); what a connection has read but not parsed when it
 * stops to wait for an answer is copied into its own `pend`. The request
 * being parsed is kept in `text` as "target\0name\0value\0...path\0query\0".
 * A read shorter than the buffer means the socket is drained: the next read
 * waits for the event instead of costing a read that fails with EAGAIN. */
#include "httpconn.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "route.h"

enum s_state { S_READ, S_HANDLE, S_WRITE, S_STREAM, S_LINGER, S_CLOSED };

/* After answering a broken request the connection stops sending and reads
 * what the client still sends, for at most this long and this much, then
 * closes: closing with unread input makes the kernel send a reset, and a
 * client still sending its body would lose the answer (nginx's lingering
 * close). */
static const struct timeval s_linger_tv = { 2, 0 };
#define S_LINGER_MAX (1024 * 1024)

/* status line + Date + Content-Length/Transfer-Encoding + Connection */
#define S_OWN_LINES 192

/* Answers longer than MIN get a send buffer of their size, up to MAX. */
#define HTTPCONN_SNDBUF_MIN (64 * 1024)
#define HTTPCONN_SNDBUF_MAX (4 * 1024 * 1024)

struct httpconn {
    const httpconn_cfg_t *cfg;
    int fd;
    int slot;
    enum s_state state;
    struct event *ev_read, *ev_write;
    short armed;                /* events added: EV_READ, EV_WRITE */
    const struct timeval *read_tv, *write_tv;   /* their timeouts */
    const struct timeval *stream_timeout;
    bool busy;                  /* inside s_drive */
    bool drained;               /* the socket had nothing more at the last read */
    bool must_close;            /* close once the answer is written */
    bool chunked;               /* a stream's pieces are chunks */
    bool broken;                /* a stream's write failed: close at the next turn */
    bool linger;                /* the answer is to a broken request: linger */
    int sndbuf;                 /* SO_SNDBUF asked for; 0: the kernel's own, autotuned */
    size_t lingered;            /* bytes dropped while lingering */
    httpreq_parser_t rq;        /* the request being parsed */
    /* input read and not parsed while a request waits for its answer */
    char *pend;
    size_t pend_len, pend_off;
    /* the answer being written */
    http_cache_body_t *body;
    size_t body_len, body_off, head_len, head_off;
    struct evbuffer *out;       /* a stream's pieces */
    char head[S_OWN_LINES + HTTPCONN_HEAD_MAX];
};

/* One request's bytes, up to its end. */
static size_t s_parse(httpconn_t *c, const char *data, size_t len)
{
    size_t used = httpreq_parse(&c->rq, data, len);
    if (c->rq.must_close)
        c->must_close = true;
    return used;
}

/* ---- the answer's head ----------------------------------------------------- */

void httpconn_head_init(httpconn_head_t *h)
{
    h->len = 0;
    h->full = h->close = false;
}

static void s_put(char *buf, size_t cap, size_t *len, bool *full, const char *s, size_t n)
{
    if (*len + n > cap) {
        *full = true;
        return;
    }
    memcpy(buf + *len, s, n);
    *len += n;
}

void httpconn_head_add(httpconn_head_t *h, const char *name, const char *value)
{
    s_put(h->buf, sizeof h->buf, &h->len, &h->full, name, strlen(name));
    s_put(h->buf, sizeof h->buf, &h->len, &h->full, ": ", 2);
    s_put(h->buf, sizeof h->buf, &h->len, &h->full, value, strlen(value));
    s_put(h->buf, sizeof h->buf, &h->len, &h->full, "\r\n", 2);
}

static const char *s_reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* The Date line, formatted once a second per thread. */
static const char *s_date_line(void)
{
    static _Thread_local time_t at = -1;
    static _Thread_local char line[48];
    time_t now = time(NULL);
    if (now != at) {
        char d[40];
        snprintf(line, sizeof line, "Date: %s\r\n", route_http_date(now, d, sizeof d));
        at = now;
    }
    return line;
}

static void s_line(httpconn_t *c, bool *full, const char *s)
{
    s_put(c->head, sizeof c->head, &c->head_len, full, s, strlen(s));
}

/* Status line, Date, length or chunking, Connection, h's lines, end. */
static int s_build_head(httpconn_t *c, int code, const httpconn_head_t *h, long long length,
                        bool stream)
{
    bool full = h && h->full;
    char status[64];
    snprintf(status, sizeof status, "HTTP/1.1 %d %s\r\n", code, s_reason(code));
    c->head_len = c->head_off = 0;
    s_line(c, &full, status);
    s_line(c, &full, s_date_line());
    if (stream && c->rq.parser.http_minor >= 1) {
        s_line(c, &full, "Transfer-Encoding: chunked\r\n");
        c->chunked = true;
    } else if (length >= 0) {
        char cl[48];
        snprintf(cl, sizeof cl, "Content-Length: %lld\r\n", length);
        s_line(c, &full, cl);
    }
    if (h && h->close)
        c->must_close = true;
    if (stream && c->rq.parser.http_minor == 0)
        c->must_close = true;   /* the body runs to the close */
    if (c->must_close || !c->rq.keep_alive)
        s_line(c, &full, "Connection: close\r\n");
    else if (c->rq.parser.http_minor == 0)
        s_line(c, &full, "Connection: keep-alive\r\n");
    if (h)
        s_put(c->head, sizeof c->head, &c->head_len, &full, h->buf, h->len);
    s_put(c->head, sizeof c->head, &c->head_len, &full, "\r\n", 2);
    if (!c->rq.keep_alive)
        c->must_close = true;
    return full ? -1 : 0;
}

/* ---- writing --------------------------------------------------------------- */

/* A body with a memfd (the publisher gives one to big bodies:
 * HTTP_CACHE_MEMFD_MIN) goes by sendfile(2), as nginx sends a file: no
 * copy from user memory. A smaller one, or one in parts (a crossing's
 * document: its envelope around its fragment), goes with the head in one
 * sendmsg. */

static bool s_by_sendfile(const httpconn_t *c)
{
    return c->body && c->body->fd >= 0 && c->body_len > 0;
}

/* -1 with errno, or the bytes written. */
static ssize_t s_send_some(httpconn_t *c)
{
    bool by_file = s_by_sendfile(c);
    if (by_file && c->head_off == c->head_len) {
        off_t off = (off_t)c->body_off;
        return sendfile(c->fd, c->body->fd, &off, c->body_len - c->body_off);
    }
    struct iovec iov[2 + HTTP_CACHE_PARTS_MAX];
    size_t n = 0;
    if (c->head_off < c->head_len)
        iov[n++] = (struct iovec){ c->head + c->head_off, c->head_len - c->head_off };
    if (c->body_off < c->body_len && !by_file)
        n += http_cache_body_iov(c->body, c->body_off, iov + n, sizeof iov / sizeof iov[0] - n);
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
    return sendmsg(c->fd, &msg, MSG_NOSIGNAL | (by_file ? MSG_MORE : 0));
}

/* Write what is pending: the head and body, then a stream's pieces. 0 all
 * written, 1 the socket is full, -1 failed. */
static int s_write(httpconn_t *c)
{
    while (c->head_off < c->head_len || c->body_off < c->body_len) {
        ssize_t w = s_send_some(c);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
        }
        size_t hw = c->head_len - c->head_off;
        if ((size_t)w < hw) {
            c->head_off += (size_t)w;
            continue;
        }
        c->head_off = c->head_len;
        c->body_off += (size_t)w - hw;
    }
    while (c->out && evbuffer_get_length(c->out) > 0) {
        int w = evbuffer_write(c->out, c->fd);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
        if (w == 0)
            return -1;
    }
    return 0;
}

/* Let the socket take a big answer whole, so that it goes out at the
 * client's pace without the worker woken again for each piece: a new
 * connection starts with a 16 KB send buffer (tcp_wmem) that the kernel's
 * autotuning grows only as the window does, so /v1/crossings (3.2 MB at
 * 10,000 series) took many EAGAIN/EPOLLOUT turns, each a wake-up of this
 * thread on a busy machine (docs/performance.md §1o). Bounded by
 * HTTPCONN_SNDBUF_MAX (and the kernel's wmem_max); the buffer's memory is
 * taken only while bytes wait in it, and a client that stops reading is
 * closed by the write timeout (docs/security.md). */
static void s_fit_sndbuf(httpconn_t *c)
{
    size_t want = c->head_len + c->body_len;
    if (want <= HTTPCONN_SNDBUF_MIN || (size_t)c->sndbuf >= want)
        return;
    int v = want > HTTPCONN_SNDBUF_MAX ? HTTPCONN_SNDBUF_MAX : (int)want;
    if (v > c->sndbuf && setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0)
        c->sndbuf = v;
}

static void s_release_answer(httpconn_t *c)
{
    http_cache_body_unref(c->body);
    c->body = NULL;
    c->body_len = c->body_off = 0;
}

/* ---- the state machine ------------------------------------------------------- */

/* Keep input not yet parsed for after the answer. */
static void s_keep(httpconn_t *c, const char *at, size_t len)
{
    char *p = malloc(len);
    if (!p) {
        c->state = S_CLOSED;   /* cannot keep the client's next request */
        return;
    }
    memcpy(p, at, len);
    c->pend = p;
    c->pend_len = len;
    c->pend_off = 0;
}

static void s_dispatch(httpconn_t *c)
{
    c->rq.complete = false;
    c->linger = c->rq.req.error != 0;
    c->state = S_HANDLE;
    c->cfg->on_request(c->cfg->arg, c, &c->rq.req);
}

static int64_t s_ms(const struct timeval *tv)
{
    return (int64_t)tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

/* S_READ: parse what was kept, else read; hand over a whole request. */
static bool s_do_read(httpconn_t *c)
{
    if (c->pend) {
        c->pend_off += s_parse(c, c->pend + c->pend_off, c->pend_len - c->pend_off);
        if (c->pend_off == c->pend_len || c->must_close) {
            free(c->pend);
            c->pend = NULL;
        }
        if (c->rq.complete)
            s_dispatch(c);
        return true;
    }
    if (c->drained)
        return false;
    ssize_t n = read(c->fd, c->cfg->rbuf, c->cfg->rbuf_len);
    if (n < 0 && errno == EINTR)
        return true;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->drained = true;
        return false;
    }
    if (n <= 0) {   /* the client closed, or the socket failed */
        c->state = S_CLOSED;
        return true;
    }
    c->drained = (size_t)n < c->cfg->rbuf_len;
    size_t used = s_parse(c, c->cfg->rbuf, (size_t)n);
    if (httpreq_slow(&c->rq, s_ms(c->cfg->read_timeout))) {
        c->state = S_CLOSED;    /* trickling a request in (slowloris): each byte restarts the idle timeout */
        return true;
    }
    if (c->rq.complete) {
        if (used < (size_t)n && !c->must_close)
            s_keep(c, c->cfg->rbuf + used, (size_t)n - used);
        if (c->state == S_READ)
            s_dispatch(c);
    }
    return true;
}

/* S_WRITE: write the answer; then the next request, or close. */
static bool s_do_write(httpconn_t *c)
{
    int rc = s_write(c);
    if (rc > 0)
        return false;
    s_release_answer(c);
    c->state = rc < 0 || c->must_close ? S_CLOSED : S_READ;
    if (rc == 0 && c->state == S_CLOSED && c->linger && shutdown(c->fd, SHUT_WR) == 0) {
        c->state = S_LINGER;
        c->drained = false;
    }
    httpreq_reset(&c->rq);
    return true;
}

/* S_STREAM: drop what the client sends (EOF ends it), write pieces. */
static bool s_do_stream(httpconn_t *c)
{
    while (!c->drained && !c->broken) {
        ssize_t n = read(c->fd, c->cfg->rbuf, c->cfg->rbuf_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            c->drained = true;
        else if (n <= 0)
            c->broken = true;
    }
    if (c->broken || s_write(c) < 0) {
        c->state = S_CLOSED;
        return true;
    }
    return false;
}

/* S_LINGER: drop what comes until the client closes (or the bounds). */
static bool s_do_linger(httpconn_t *c)
{
    while (!c->drained) {
        ssize_t n = read(c->fd, c->cfg->rbuf, c->cfg->rbuf_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->drained = true;
        } else if (n <= 0 || (c->lingered += (size_t)n) > S_LINGER_MAX) {
            c->state = S_CLOSED;
            return true;
        }
    }
    return false;
}

/* Wait for what (EV_READ or EV_WRITE) with timeout tv (NULL: none). An
 * event already waiting with the same timeout is left alone: a persistent
 * event restarts its own timeout each time it fires. */
static void s_want(httpconn_t *c, short what, const struct timeval *tv)
{
    struct event *ev = what == EV_READ ? c->ev_read : c->ev_write;
    const struct timeval **had = what == EV_READ ? &c->read_tv : &c->write_tv;
    if ((c->armed & what) && *had == tv)
        return;
    if (c->armed & what)
        event_del(ev);  /* event_add(NULL) would keep an old timeout */
    event_add(ev, tv);
    *had = tv;
    c->armed |= what;
}

static void s_unwant(httpconn_t *c, short what)
{
    if (c->armed & what)
        event_del(what == EV_READ ? c->ev_read : c->ev_write);
    c->armed &= (short)~what;
}

/* Add or remove the events the state waits for; unchanged ones are left
 * alone (a persistent read event restarts its own timeout). */
static void s_arm(httpconn_t *c)
{
    bool pending = c->head_off < c->head_len || c->body_off < c->body_len ||
                   (c->out && evbuffer_get_length(c->out) > 0);
    switch (c->state) {
    case S_READ:
        s_unwant(c, EV_WRITE);
        s_want(c, EV_READ, c->cfg->read_timeout);
        break;
    case S_WRITE:
        s_unwant(c, EV_READ);
        s_want(c, EV_WRITE, c->cfg->write_timeout);
        break;
    case S_STREAM:
        s_want(c, EV_READ, NULL);   /* to see the client go */
        if (pending)
            s_want(c, EV_WRITE, c->stream_timeout);
        else
            s_unwant(c, EV_WRITE);
        break;
    case S_LINGER:
        s_unwant(c, EV_WRITE);
        s_want(c, EV_READ, &s_linger_tv);
        break;
    case S_HANDLE:
    case S_CLOSED:
        s_unwant(c, EV_READ);
        s_unwant(c, EV_WRITE);
        break;
    }
}

static void s_drive(httpconn_t *c)
{
    c->busy = true;
    for (bool go = true; go;) {
        switch (c->state) {
        case S_READ: go = s_do_read(c); break;
        case S_WRITE: go = s_do_write(c); break;
        case S_STREAM: go = s_do_stream(c); break;
        case S_LINGER: go = s_do_linger(c); break;
        case S_HANDLE:
        case S_CLOSED: go = false; break;
        }
    }
    c->busy = false;
    s_arm(c);
}

/* After an entry point: a closed connection goes. */
static void s_settle(httpconn_t *c)
{
    if (c->state != S_CLOSED)
        return;
    if (c->cfg->on_close)
        c->cfg->on_close(c->cfg->arg, c);
    httpconn_destroy(&c);
}

static void s_on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    httpconn_t *c = arg;
    if (what & EV_TIMEOUT)
        c->state = S_CLOSED;    /* idle, or a client that stopped reading */
    else if (what & EV_READ)
        c->drained = false;
    if (c->broken && c->state != S_HANDLE)
        c->state = S_CLOSED;
    if (c->state != S_CLOSED)
        s_drive(c);
    else
        s_arm(c);
    s_settle(c);
}

/* ---- public ---------------------------------------------------------------- */

httpconn_t *httpconn_new(struct event_base *base, int fd, const httpconn_cfg_t *cfg)
{
    httpconn_t *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->cfg = cfg;
    c->fd = fd;
    c->slot = -1;
    c->state = S_READ;
    httpreq_init(&c->rq);
    c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, s_on_event, c);
    c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, s_on_event, c);
    if (!c->ev_read || !c->ev_write) {
        httpconn_destroy(&c);
        return NULL;
    }
    s_arm(c);
    return c;
}

void httpconn_destroy(httpconn_t **self_p)
{
    httpconn_t *c = *self_p;
    if (!c)
        return;
    if (c->ev_read)
        event_free(c->ev_read);
    if (c->ev_write)
        event_free(c->ev_write);
    if (c->fd >= 0)
        close(c->fd);
    s_release_answer(c);
    if (c->out)
        evbuffer_free(c->out);
    httpreq_free(&c->rq);
    free(c->pend);
    free(c);
    *self_p = NULL;
}

int httpconn_respond(httpconn_t *c, int code, const httpconn_head_t *h, http_cache_body_t *body)
{
    assert(c->state == S_HANDLE);
    int rc = 0;
    long long length = body ? (long long)body->len : 0;
    if (code == 204 || code == 304)
        length = -1;
    if (s_build_head(c, code, h, length, false) != 0) {
        http_cache_body_unref(body);
        body = NULL;
        c->must_close = true;
        s_build_head(c, 500, NULL, 0, false);
        rc = -1;
    }
    c->body = body;
    c->body_off = 0;
    c->body_len = body && c->rq.req.method != HTTPREQ_HEAD && length >= 0 ? body->len : 0;
    s_fit_sndbuf(c);
    c->state = S_WRITE;
    if (!c->busy) {
        s_drive(c);
        s_settle(c);
    }
    return rc;
}

int httpconn_stream(httpconn_t *c, const httpconn_head_t *h, const struct timeval *write_timeout)
{
    assert(c->state == S_HANDLE && c->busy);
    if (!c->out && !(c->out = evbuffer_new())) {
        httpconn_respond(c, 503, NULL, NULL);
        return -1;
    }
    if (s_build_head(c, 200, h, -1, true) != 0) {
        c->must_close = true;
        s_build_head(c, 500, NULL, 0, false);
        c->state = S_WRITE;
        return -1;
    }
    c->stream_timeout = write_timeout;
    c->state = S_STREAM;
    return 0;
}

int httpconn_stream_send(httpconn_t *c, struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    if (n == 0 || c->state != S_STREAM)
        return 0;
    if (c->chunked) {
        char size[24];
        int sn = snprintf(size, sizeof size, "%zx\r\n", n);
        if (evbuffer_add(c->out, size, (size_t)sn) != 0 || evbuffer_add_buffer(c->out, b) != 0 ||
            evbuffer_add(c->out, "\r\n", 2) != 0)
            return -1;
    } else if (evbuffer_add_buffer(c->out, b) != 0) {
        return -1;
    }
    if (c->busy)
        return 0;   /* s_drive writes it */
    if (s_write(c) < 0) {
        httpconn_close(c);
        return 0;
    }
    s_arm(c);
    return 0;
}

size_t httpconn_backlog(const httpconn_t *c)
{
    return (c->head_len - c->head_off) + (c->body_len - c->body_off) +
           (c->out ? evbuffer_get_length(c->out) : 0);
}

void httpconn_close(httpconn_t *c)
{
    c->broken = true;
    event_active(c->ev_write, EV_WRITE, 0);
}

void httpconn_set_slot(httpconn_t *c, int slot)
{
    c->slot = slot;
}

int httpconn_slot(const httpconn_t *c)
{
    return c->slot;
}
