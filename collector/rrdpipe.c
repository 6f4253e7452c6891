/* rrdpipe — see rrdpipe.h. */
#include "rrdpipe.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "vec.h"

#define RRDPIPE_DEFAULT_TIMEOUT_MS 5000
/* A reply bigger than this is not rrdcached talking to us (INFO of a full
 * profile file is about 6 KB). */
#define RRDPIPE_MAX_REPLY (4u << 20)
#define RRDPIPE_MAX_READ (1 << 20)

typedef struct {
    rrdpipe_fn *fn;
    void *arg;
} pending_t;

struct rrdpipe {
    struct event_base *base;
    char *sock_path;
    struct timeval timeout;
    struct bufferevent *bev;     /* NULL while disconnected */
    uint64_t connects;
    bool outage_logged;
    char err[256];

    pending_t *q;                /* owed replies are q[head, n) */
    size_t head, n, qcap;

    /* The reply being read: its status (once read), lines so far. */
    bool have_status;
    long status;
    char *arena;                 /* message and lines, NUL-terminated */
    size_t alen, acap;
    size_t *offs;
    const char **lines;
    size_t nlines, lcap, ocap;
};

static void s_set_err(rrdpipe_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_set_err(rrdpipe_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->err, sizeof self->err, fmt, ap);
    va_end(ap);
}

rrdpipe_t *rrdpipe_new(struct event_base *base, const char *address, int timeout_ms)
{
    if (!base || !address) {
        log_error("rrdpipe: no event base or rrdcached address");
        return NULL;
    }
    const char *path = strncmp(address, "unix:", 5) == 0 ? address + 5 : address;
    struct sockaddr_un sa;
    if (path[0] != '/' || strlen(path) >= sizeof sa.sun_path) {
        log_error("rrdpipe: rrdcached address must be unix:/abs/path or /abs/path: %s", address);
        return NULL;
    }
    rrdpipe_t *self = calloc(1, sizeof *self);
    if (!self || !(self->sock_path = strdup(path))) {
        log_error("rrdpipe: out of memory");
        free(self);
        return NULL;
    }
    int ms = timeout_ms > 0 ? timeout_ms : RRDPIPE_DEFAULT_TIMEOUT_MS;
    self->base = base;
    self->timeout = (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
    return self;
}

/* Close and fail every owed command. The queue is detached first: a
 * callback may queue a new command (which reconnects). */
static void s_fail(rrdpipe_t *self)
{
    if (self->bev)
        bufferevent_free(self->bev);
    self->bev = NULL;
    self->have_status = false;
    self->alen = self->nlines = 0;
    if (self->n > self->head && !self->outage_logged) {
        log_warn("rrdcached %s (pipelined): %s; %zu command(s) unanswered", self->sock_path,
                 self->err, self->n - self->head);
        self->outage_logged = true;
    }
    pending_t *q = self->q;
    size_t head = self->head, n = self->n;
    self->q = NULL;
    self->head = self->n = self->qcap = 0;
    for (size_t i = head; i < n; i++)
        q[i].fn(q[i].arg, NULL);
    free(q);
}

void rrdpipe_destroy(rrdpipe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rrdpipe_t *self = *self_p;
    s_set_err(self, "client closed");
    s_fail(self);
    free(self->sock_path);
    free(self->arena);
    free(self->offs);
    free(self->lines);
    free(self);
    *self_p = NULL;
}

size_t rrdpipe_pending(const rrdpipe_t *self) { return self->n - self->head; }
uint64_t rrdpipe_connects(const rrdpipe_t *self) { return self->connects; }
const char *rrdpipe_error(const rrdpipe_t *self) { return self->err; }

/* ---- replies ------------------------------------------------------------------ */

static int s_arena_add(rrdpipe_t *self, struct evbuffer *in, size_t len, size_t *off)
{
    if (self->alen + len + 1 > RRDPIPE_MAX_REPLY ||
        VEC_RESERVE(self->arena, self->acap, self->alen + len + 1) != 0)
        return -1;
    evbuffer_copyout(in, self->arena + self->alen, len);
    self->arena[self->alen + len] = '\0';
    *off = self->alen;
    self->alen += len + 1;
    return 0;
}

/* Hand the complete reply to the oldest owed command. */
static void s_dispatch(rrdpipe_t *self)
{
    for (size_t i = 0; i < self->nlines; i++)
        self->lines[i] = self->arena + self->offs[i + 1];
    rrdcc_reply_t r = { .status = (int)self->status, .message = self->arena + self->offs[0],
                        .nlines = self->nlines, .lines = self->lines };
    pending_t p = self->q[self->head++];
    if (self->head == self->n)
        self->head = self->n = 0;
    self->have_status = false;
    if (self->n == self->head)
        bufferevent_set_timeouts(self->bev, NULL, NULL);
    p.fn(p.arg, &r);
    self->alen = self->nlines = 0;
}

/* One line of input: a status line or one of the lines it announced.
 * -1 on a protocol error. */
static int s_on_line(rrdpipe_t *self, struct evbuffer *in, size_t len)
{
    if (VEC_RESERVE(self->offs, self->ocap, self->nlines + 2) != 0 ||
        VEC_RESERVE(self->lines, self->lcap, self->nlines + 1) != 0) {
        s_set_err(self, "out of memory reading a reply");
        return -1;
    }
    if (!self->have_status) {
        char head[32];
        size_t k = len < sizeof head - 1 ? len : sizeof head - 1;
        evbuffer_copyout(in, head, k);
        head[k] = '\0';
        char *end;
        errno = 0;
        long st = strtol(head, &end, 10);
        if (end == head || errno != 0 || (*end != ' ' && *end != '\0' && *end != '\r')) {
            s_set_err(self, "not a status line: \"%.24s\"", head);
            return -1;
        }
        if (self->n == self->head) {
            s_set_err(self, "a reply nobody asked for: \"%.24s\"", head);
            return -1;
        }
        size_t skip = (size_t)(end - head);
        while (skip < len && skip < k && head[skip] == ' ')
            skip++;
        evbuffer_drain(in, skip);
        self->alen = self->nlines = 0;
        if (s_arena_add(self, in, len - skip, &self->offs[0]) != 0) {
            s_set_err(self, "reply too big");
            return -1;
        }
        evbuffer_drain(in, len - skip + 1);
        self->status = st;
        self->have_status = true;
    } else {
        if (s_arena_add(self, in, len, &self->offs[self->nlines + 1]) != 0) {
            s_set_err(self, "reply too big");
            return -1;
        }
        evbuffer_drain(in, len + 1);
        self->nlines++;
    }
    if (self->nlines >= (size_t)(self->status > 0 ? self->status : 0))
        s_dispatch(self);
    return 0;
}

static void s_on_read(struct bufferevent *bev, void *arg)
{
    rrdpipe_t *self = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
        if (eol.pos < 0) {
            if (evbuffer_get_length(in) > RRDPIPE_MAX_REPLY) {
                s_set_err(self, "reply line longer than %u bytes", RRDPIPE_MAX_REPLY);
                s_fail(self);
            }
            return;
        }
        if (s_on_line(self, in, (size_t)eol.pos) != 0) {
            s_fail(self);
            return;
        }
        /* A callback may have failed the connection (it cannot free it). */
        if (self->bev != bev)
            return;
    }
}

static void s_on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    rrdpipe_t *self = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (what & BEV_EVENT_TIMEOUT)
        s_set_err(self, "no answer within %ld ms", (long)(self->timeout.tv_sec * 1000 +
                                                          self->timeout.tv_usec / 1000));
    else if (what & BEV_EVENT_EOF)
        s_set_err(self, "connection closed by rrdcached");
    else
        s_set_err(self, "%s", strerror(EVUTIL_SOCKET_ERROR()));
    s_fail(self);
}

/* ---- sending ---------------------------------------------------------------------- */

static int s_connect(rrdpipe_t *self)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, self->sock_path, strlen(self->sock_path) + 1);
    self->bev = bufferevent_socket_new(self->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!self->bev) {
        s_set_err(self, "out of memory");
        return -1;
    }
    bufferevent_setcb(self->bev, s_on_read, NULL, s_on_event, self);
    if (bufferevent_socket_connect(self->bev, (struct sockaddr *)&sa, sizeof sa) != 0) {
        s_set_err(self, "connect: %s", strerror(errno));
        bufferevent_free(self->bev);
        self->bev = NULL;
        if (!self->outage_logged)
            log_warn("rrdcached %s (pipelined): %s", self->sock_path, self->err);
        self->outage_logged = true;
        return -1;
    }
    /* libevent reads 16 KB per wake-up by default: INFO replies are ~4 KB
     * each, and the loop has agents to serve between wake-ups. */
    bufferevent_set_max_single_read(self->bev, RRDPIPE_MAX_READ);
    bufferevent_enable(self->bev, EV_READ | EV_WRITE);
    self->connects++;
    if (self->outage_logged)
        log_info("rrdcached %s (pipelined): connected again", self->sock_path);
    self->outage_logged = false;
    return 0;
}

int rrdpipe_connect(rrdpipe_t *self)
{
    return self->bev ? 0 : s_connect(self);
}

bool rrdpipe_connected(const rrdpipe_t *self) { return self->bev != NULL; }

int rrdpipe_send(rrdpipe_t *self, const char *line, rrdpipe_fn *fn, void *arg)
{
    if (strchr(line, '\n')) {
        s_set_err(self, "command contains a newline");
        return -1;
    }
    if (!self->bev && s_connect(self) != 0)
        return -1;
    if (VEC_RESERVE(self->q, self->qcap, self->n + 1) != 0) {
        s_set_err(self, "out of memory");
        return -1;
    }
    struct evbuffer *out = bufferevent_get_output(self->bev);
    if (evbuffer_add(out, line, strlen(line)) != 0 || evbuffer_add(out, "\n", 1) != 0) {
        s_set_err(self, "out of memory");
        s_fail(self);   /* part of a line may be queued: the stream is lost */
        return -1;
    }
    if (self->n == self->head)
        bufferevent_set_timeouts(self->bev, &self->timeout, &self->timeout);
    self->q[self->n++] = (pending_t){ fn, arg };
    return 0;
}
