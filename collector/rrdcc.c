/* rrdcc — see rrdcc.h. Protocol reference: man rrdcached, PROTOCOL. */
#include "rrdcc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"
#include "vec.h"

#define RRDCC_DEFAULT_TIMEOUT_MS 5000
/* A line longer than this is not rrdcached talking to us. */
#define RRDCC_MAX_LINE (1u << 20)

/* A batch owed an answer: its bytes are "BATCH\n", buf, ".\n". */
typedef struct {
    const char *buf;
    size_t len;
    size_t pos;             /* of those bytes, written */
    bool done;              /* its result is read (or failed) */
    int rc;
    char err[512];
} owed_t;

#define OWED_HEAD "BATCH\n"
#define OWED_HEAD_LEN 6
#define OWED_TRAIL ".\n"
#define OWED_TRAIL_LEN 2

struct rrdcc {
    char *sock_path;
    int fd;                 /* -1 while disconnected */
    uint64_t connects;
    int timeout_ms;
    bool outage_logged;     /* a failure was logged and no success since */
    bool manual;            /* no automatic reconnection (rrdcc_set_autoconnect) */
    char err[512];

    char *rbuf;             /* unread input is rbuf[roff, rlen) */
    size_t roff, rlen, rcap;

    char *arena;            /* reply text: NUL-terminated strings */
    size_t alen, acap;
    size_t *offs;           /* arena offset of each reply line */
    const char **lines;     /* built from offs once the reply is complete */
    size_t nlines, lcap;

    /* BATCHes sent by rrdcc_batch_send whose results the caller has not
     * taken yet (rrdcc_batch_wait), oldest first, in a ring. Each is
     * written in order after the one before it ("BATCH\n", its lines,
     * ".\n") and answered in that order. Any other command reads every
     * owed result first and keeps it here, so replies are never taken for
     * another's. Results are settled oldest first: the settled ones are a
     * prefix of the ring. */
    owed_t owed[RRDCC_OWED_MAX];
    size_t ofirst, nowed;
};

static void s_owed_settle(rrdcc_t *self, size_t n);

/* ---- errors ---------------------------------------------------------------- */

static void s_set_err(rrdcc_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_set_err(rrdcc_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->err, sizeof self->err, fmt, ap);
    va_end(ap);
}

/* The connection is in an unknown state: drop it, log once per outage. */
static int s_fail_io(rrdcc_t *self)
{
    rrdcc_disconnect(self);
    if (!self->outage_logged) {
        log_warn("rrdcached %s: %s", self->sock_path, self->err);
        self->outage_logged = true;
    }
    return -1;
}

/* ---- connection ------------------------------------------------------------ */

rrdcc_t *rrdcc_new(const char *address, int timeout_ms)
{
    if (!address) {
        log_error("rrdcc: no rrdcached address");
        return NULL;
    }
    const char *path = strncmp(address, "unix:", 5) == 0 ? address + 5 : address;
    struct sockaddr_un sa;
    if (path[0] != '/' || strlen(path) >= sizeof sa.sun_path) {
        log_error("rrdcc: rrdcached address must be unix:/abs/path or /abs/path "
                  "(under %zu bytes): %s", sizeof sa.sun_path, address);
        return NULL;
    }
    rrdcc_t *self = calloc(1, sizeof *self);
    if (!self || !(self->sock_path = strdup(path))) {
        log_error("rrdcc: out of memory");
        free(self);
        return NULL;
    }
    self->fd = -1;
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : RRDCC_DEFAULT_TIMEOUT_MS;
    return self;
}

void rrdcc_destroy(rrdcc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rrdcc_t *self = *self_p;
    rrdcc_disconnect(self);
    free(self->sock_path);
    free(self->rbuf);
    free(self->arena);
    free(self->offs);
    free(self->lines);
    free(self);
    *self_p = NULL;
}

/* The i-th owed batch, oldest first. */
static owed_t *s_owed(rrdcc_t *self, size_t i)
{
    return &self->owed[(self->ofirst + i) % RRDCC_OWED_MAX];
}

void rrdcc_disconnect(rrdcc_t *self)
{
    for (size_t i = 0; i < self->nowed; i++) {
        owed_t *o = s_owed(self, i);
        if (o->done)
            continue;
        o->done = true;
        o->rc = -1;
        snprintf(o->err, sizeof o->err, "%s",
                 self->err[0] ? self->err : "connection closed before the batch was answered");
    }
    if (self->fd >= 0)
        close(self->fd);
    self->fd = -1;
    self->roff = self->rlen = 0;
}

bool rrdcc_connected(const rrdcc_t *self) { return self->fd >= 0; }
const char *rrdcc_address(const rrdcc_t *self) { return self->sock_path; }
void rrdcc_set_autoconnect(rrdcc_t *self, bool on) { self->manual = !on; }
uint64_t rrdcc_connects(const rrdcc_t *self) { return self->connects; }

const char *rrdcc_error(const rrdcc_t *self) { return self->err; }

int rrdcc_connect(rrdcc_t *self)
{
    rrdcc_disconnect(self);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s_set_err(self, "socket: %s", strerror(errno));
        return s_fail_io(self);
    }
    /* A Unix connect blocks only while the listen backlog is full; the send
     * timeout bounds that wait on Linux. */
    struct timeval tv = { .tv_sec = self->timeout_ms / 1000,
                          .tv_usec = (self->timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, self->sock_path, strlen(self->sock_path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        s_set_err(self, "connect: %s", strerror(errno));
        close(fd);
        return s_fail_io(self);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        s_set_err(self, "fcntl: %s", strerror(errno));
        close(fd);
        return s_fail_io(self);
    }
    self->fd = fd;
    self->connects++;
    self->err[0] = '\0';
    if (self->outage_logged)
        log_info("rrdcached %s: connected again", self->sock_path);
    self->outage_logged = false;
    return 0;
}

/* Connected, reconnecting when allowed. Owed batches stay owed. */
static int s_connected(rrdcc_t *self)
{
    if (self->fd >= 0)
        return 0;
    if (self->manual) {
        s_set_err(self, "not connected");
        return -1;
    }
    return rrdcc_connect(self);
}

/* Connected for a command of its own: every owed result is read first. */
static int s_ensure_connected(rrdcc_t *self)
{
    s_owed_settle(self, self->nowed);
    return s_connected(self);
}

/* ---- bounded I/O ------------------------------------------------------------- */

/* Wait until fd is ready for events; every wait is bounded by the timeout
 * so that a stopped rrdcached shows up as an error, not a hang. */
static int s_wait(rrdcc_t *self, short events, const char *what)
{
    int64_t deadline = tu_mono_ms() + self->timeout_ms;
    for (;;) {
        int64_t left = deadline - tu_mono_ms();
        if (left <= 0) {
            s_set_err(self, "timed out after %d ms %s", self->timeout_ms, what);
            return -1;
        }
        struct pollfd p = { .fd = self->fd, .events = events };
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR) {
            s_set_err(self, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static int s_write_all(rrdcc_t *self, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(self->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (s_wait(self, POLLOUT, "writing to rrdcached") != 0)
                return -1;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            s_set_err(self, "write: %s", n < 0 ? strerror(errno) : "no progress");
            return -1;
        }
    }
    return 0;
}

/* Read more input into rbuf, compacting and growing it as needed: 0 when
 * something was read, 1 when nothing had arrived and wait is false, -1 on
 * an error (end of file included). */
static int s_fill_some(rrdcc_t *self, bool wait)
{
    if (self->roff > 0) {
        memmove(self->rbuf, self->rbuf + self->roff, self->rlen - self->roff);
        self->rlen -= self->roff;
        self->roff = 0;
    }
    if (self->rcap - self->rlen < 4096) {
        /* 64 KiB, then doubling (rlen <= rcap); a buffer past the longest
         * line allowed means a runaway reply. */
        if (self->rcap * 2 > RRDCC_MAX_LINE + 65536) {
            s_set_err(self, "reply line longer than %u bytes", RRDCC_MAX_LINE);
            return -1;
        }
        if (VEC_RESERVE(self->rbuf, self->rcap, self->rlen + 65536) != 0) {
            s_set_err(self, "out of memory");
            return -1;
        }
    }
    for (;;) {
        ssize_t n = recv(self->fd, self->rbuf + self->rlen, self->rcap - self->rlen, 0);
        if (n > 0) {
            self->rlen += (size_t)n;
            return 0;
        }
        if (n == 0) {
            s_set_err(self, "connection closed by rrdcached");
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            s_set_err(self, "read: %s", strerror(errno));
            return -1;
        }
        if (!wait)
            return 1;
        if (s_wait(self, POLLIN, "waiting for rrdcached's reply") != 0)
            return -1;
    }
}

static int s_fill(rrdcc_t *self)
{
    return s_fill_some(self, true);
}

/* Next input line, NUL-terminated in place (no '\n'); valid until the next
 * read. */
static int s_read_line(rrdcc_t *self, char **line)
{
    for (;;) {
        char *start = self->rbuf + self->roff;
        char *nl = self->rlen > self->roff ? memchr(start, '\n', self->rlen - self->roff) : NULL;
        if (nl) {
            *nl = '\0';
            self->roff = (size_t)(nl - self->rbuf) + 1;
            *line = start;
            return 0;
        }
        if (s_fill(self) != 0)
            return -1;
    }
}

/* ---- replies ------------------------------------------------------------------ */

static int s_arena_add(rrdcc_t *self, const char *s, size_t *off)
{
    size_t n = strlen(s) + 1;
    if (VEC_RESERVE(self->arena, self->acap, self->alen + n) != 0)
        return -1;
    memcpy(self->arena + self->alen, s, n);
    *off = self->alen;
    self->alen += n;
    return 0;
}

static int s_reserve_lines(rrdcc_t *self, size_t n)
{
    /* offs and lines grow alike: one capacity holds for both. */
    size_t ocap = self->lcap, lcap = self->lcap;
    if (VEC_RESERVE(self->offs, ocap, n) != 0 || VEC_RESERVE(self->lines, lcap, n) != 0)
        return -1;
    self->lcap = lcap;
    return 0;
}

/* Read "<status> message" and, when status > 0, that many lines. Fills
 * reply with pointers into the arena. -1 only on I/O or protocol errors. */
static int s_read_reply_tail(rrdcc_t *self, rrdcc_reply_t *reply, bool more_expected);

static int s_read_reply(rrdcc_t *self, rrdcc_reply_t *reply)
{
    return s_read_reply_tail(self, reply, false);
}

/* The first of two replies to one write: more input may follow it. */
static int s_read_line_reply(rrdcc_t *self, rrdcc_reply_t *reply)
{
    return s_read_reply_tail(self, reply, true);
}

static int s_read_reply_tail(rrdcc_t *self, rrdcc_reply_t *reply, bool more_expected)
{
    char *line;
    if (s_read_line(self, &line) != 0)
        return -1;
    char *end;
    errno = 0;
    long status = strtol(line, &end, 10);
    if (end == line || errno != 0 || (*end != ' ' && *end != '\0')) {
        s_set_err(self, "not a status line: \"%.80s\"", line);
        return -1;
    }
    while (*end == ' ')
        end++;
    size_t msg_off;
    self->alen = 0;
    self->nlines = 0;
    if (s_arena_add(self, end, &msg_off) != 0)
        goto oom;
    size_t n = status > 0 ? (size_t)status : 0;
    if (s_reserve_lines(self, n) != 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (s_read_line(self, &line) != 0)
            return -1;
        if (s_arena_add(self, line, &self->offs[i]) != 0)
            goto oom;
        self->nlines++;
    }
    for (size_t i = 0; i < n; i++)
        self->lines[i] = self->arena + self->offs[i];
    /* Input beyond a complete reply means a reply had more lines than it
     * announced (rrdcached has a few multi-line error messages): every later
     * reply would be misread, so start over on a fresh connection. */
    if (!more_expected && self->rlen > self->roff) {
        s_set_err(self, "unexpected data after a reply to \"%.60s\"", self->arena + msg_off);
        return -1;
    }
    reply->status = (int)status;
    reply->message = self->arena + msg_off;
    reply->nlines = n;
    reply->lines = self->lines;
    return 0;
oom:
    s_set_err(self, "out of memory reading a reply");
    return -1;
}

int rrdcc_command(rrdcc_t *self, const char *line, rrdcc_reply_t *reply)
{
    rrdcc_reply_t local;
    if (!reply)
        reply = &local;
    if (strchr(line, '\n')) {
        s_set_err(self, "command contains a newline");
        return -1;
    }
    if (s_ensure_connected(self) != 0)
        return -1;
    if (s_write_all(self, line, strlen(line)) != 0 || s_write_all(self, "\n", 1) != 0 ||
        s_read_reply(self, reply) != 0)
        return s_fail_io(self);
    if (reply->status < 0) {
        s_set_err(self, "rrdcached refused \"%.120s\": %s", line, reply->message);
        return -1;
    }
    self->err[0] = '\0';
    return 0;
}

/* ---- BATCH ------------------------------------------------------------------------ */

/* Read the two replies of a BATCH already sent: "Go ahead", then "<n>
 * errors" and n lines. */
static int s_batch_result(rrdcc_t *self, rrdcc_reply_t *reply, bool more_expected)
{
    if (s_read_line_reply(self, reply) != 0)
        return s_fail_io(self);
    if (reply->status < 0) {
        /* The lines were then read as commands, each answered: the stream
         * is lost (and some may have been applied, as after any failure). */
        s_set_err(self, "rrdcached refused BATCH: %s", reply->message);
        return s_fail_io(self);
    }
    if (s_read_reply_tail(self, reply, more_expected) != 0)
        return s_fail_io(self);
    if (reply->status < 0) {
        s_set_err(self, "rrdcached refused the batch: %s", reply->message);
        return -1;
    }
    if (reply->status > 0) {
        char *end;
        unsigned long cmd = strtoul(reply->lines[0], &end, 10);
        while (*end == ' ')
            end++;
        s_set_err(self, "%d command(s) refused, first #%lu: %s", reply->status, cmd, end);
        return -1;
    }
    self->err[0] = '\0';
    return 0;
}

/* buf a batch. */
static int s_batch_check(rrdcc_t *self, const char *buf, size_t len)
{
    if (len > 0 && buf[len - 1] != '\n') {
        s_set_err(self, "batch does not end with a newline");
        return -1;
    }
    return 0;
}

/* The unwritten bytes of an owed batch, as up to three pieces. */
static int s_owed_iov(const owed_t *o, struct iovec *iov)
{
    int n = 0;
    size_t pos = o->pos;
    const struct { const char *p; size_t len; } part[3] = {
        { OWED_HEAD, OWED_HEAD_LEN }, { o->buf, o->len }, { OWED_TRAIL, OWED_TRAIL_LEN }
    };
    for (int i = 0; i < 3; i++) {
        if (pos >= part[i].len) {
            pos -= part[i].len;
            continue;
        }
        iov[n++] = (struct iovec){ (void *)(part[i].p + pos), part[i].len - pos };
        pos = 0;
    }
    return n;
}

static bool s_owed_written(const owed_t *o)
{
    return o->pos == OWED_HEAD_LEN + o->len + OWED_TRAIL_LEN;
}

/* Write what the socket takes now of the first n owed batches, in order.
 * 0 (done or not), -1 on an I/O error. */
static int s_write_some(rrdcc_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        owed_t *o = s_owed(self, i);
        while (!o->done && !s_owed_written(o)) {
            struct iovec iov[3];
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)s_owed_iov(o, iov) };
            ssize_t w = sendmsg(self->fd, &msg, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            if (w <= 0) {
                s_set_err(self, "write: %s", w < 0 ? strerror(errno) : "no progress");
                return -1;
            }
            o->pos += (size_t)w;
        }
    }
    return 0;
}

/* Whether the first n owed batches are written (or failed). */
static bool s_written(rrdcc_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s_owed(self, i)->done && !s_owed_written(s_owed(self, i)))
            return false;
    return true;
}

/* The first n owed batches' rest, waiting for the socket as needed. */
static int s_write_rest(rrdcc_t *self, size_t n)
{
    for (;;) {
        if (s_write_some(self, n) != 0)
            return -1;
        if (s_written(self, n))
            return 0;
        if (s_wait(self, POLLOUT, "writing to rrdcached") != 0)
            return -1;
    }
}

int rrdcc_batch(rrdcc_t *self, const char *buf, size_t len, rrdcc_reply_t *reply)
{
    rrdcc_reply_t local;
    if (s_batch_check(self, buf, len) != 0 || s_ensure_connected(self) != 0)
        return -1;
    /* One round trip, not two: rrdcached reads "BATCH", answers "Go ahead"
     * and takes the following lines as the batch whether or not we waited
     * for that answer. Accepted commands are silent and errors are held back
     * until '.', so it never blocks writing to us while we write. */
    if (s_write_all(self, OWED_HEAD, OWED_HEAD_LEN) != 0 || s_write_all(self, buf, len) != 0 ||
        s_write_all(self, OWED_TRAIL, OWED_TRAIL_LEN) != 0)
        return s_fail_io(self);
    return s_batch_result(self, reply ? reply : &local, false);
}

/* The first n owed batches' results, read now where they were not
 * (blocking, bounded), in order. Only what precedes a batch is written
 * before its result is read: rrdcached may be blocked writing that result
 * to us while a later batch waits for room. */
static void s_owed_settle(rrdcc_t *self, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        owed_t *o = s_owed(self, i);
        if (o->done)
            continue;
        rrdcc_reply_t r;
        int rc;
        if (s_write_rest(self, i + 1) != 0)
            rc = s_fail_io(self);   /* every unsettled one failed with it */
        else
            rc = s_batch_result(self, &r, i + 1 < self->nowed);
        if (o->done)
            continue;
        o->done = true;
        o->rc = rc;
        snprintf(o->err, sizeof o->err, "%s", self->err);
    }
}

int rrdcc_batch_send(rrdcc_t *self, const char *buf, size_t len)
{
    if (self->nowed == RRDCC_OWED_MAX) {
        s_set_err(self, "%d batches are owed already", RRDCC_OWED_MAX);
        return -1;
    }
    if (s_batch_check(self, buf, len) != 0 || s_connected(self) != 0)
        return -1;
    owed_t *o = s_owed(self, self->nowed++);
    *o = (owed_t){ .buf = buf, .len = len };
    if (s_write_some(self, self->nowed) != 0)
        s_fail_io(self);   /* the failure, kept for rrdcc_batch_wait */
    return 0;
}

bool rrdcc_batch_writing(const rrdcc_t *self)
{
    if (self->nowed == 0)
        return false;
    const owed_t *o = &self->owed[(self->ofirst + self->nowed - 1) % RRDCC_OWED_MAX];
    return !o->done && !s_owed_written(o);
}

int rrdcc_batch_wait(rrdcc_t *self)
{
    if (self->nowed == 0) {
        s_set_err(self, "no batch is owed");
        return -1;
    }
    s_owed_settle(self, 1);
    owed_t *o = s_owed(self, 0);
    self->ofirst = (self->ofirst + 1) % RRDCC_OWED_MAX;
    self->nowed--;
    snprintf(self->err, sizeof self->err, "%s", o->err);
    return o->rc;
}

/* Whether the input holds n whole replies ("<status> ..." and as many
 * lines as a positive status announces), without taking them. */
static bool s_have_replies(const rrdcc_t *self, int n)
{
    const char *p = self->rbuf + self->roff, *end = self->rbuf + self->rlen;
    long lines = 0;
    while (n > 0 || lines > 0) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        if (!nl)
            return false;
        if (lines > 0) {
            lines--;
        } else {
            long st = strtol(p, NULL, 10);
            lines = st > 0 ? st : 0;
            n--;
        }
        p = nl + 1;
    }
    return true;
}

bool rrdcc_batch_ready(rrdcc_t *self)
{
    if (self->nowed == 0 || s_owed(self, 0)->done || self->fd < 0)
        return true;
    if (s_write_some(self, self->nowed) != 0) {
        s_fail_io(self);
        return true;
    }
    if (!s_owed_written(s_owed(self, 0)))
        return false;
    /* Take what has arrived, without waiting. */
    int rc;
    while ((rc = s_fill_some(self, false)) == 0)
        ;
    if (rc < 0) {
        s_owed_settle(self, 1);   /* end of file or an error: it says which */
        return true;
    }
    if (!s_have_replies(self, 2))
        return false;
    s_owed_settle(self, 1);
    return true;
}

int rrdcc_fd(const rrdcc_t *self) { return self->fd; }

/* ---- single commands ---------------------------------------------------------------- */

/* Commands name files by path in a space-separated line. */
static int s_check_path(rrdcc_t *self, const char *path)
{
    if (!path || path[0] != '/' || strpbrk(path, " \t\r\n")) {
        s_set_err(self, "path must be absolute without blanks: \"%.120s\"", path ? path : "");
        return -1;
    }
    return 0;
}

static int s_path_command(rrdcc_t *self, const char *verb, const char *path,
                          rrdcc_reply_t *reply)
{
    if (s_check_path(self, path) != 0)
        return -1;
    size_t n = strlen(verb) + strlen(path) + 2;
    char *line = malloc(n);
    if (!line) {
        s_set_err(self, "out of memory");
        return -1;
    }
    snprintf(line, n, "%s %s", verb, path);
    int rc = rrdcc_command(self, line, reply);
    free(line);
    return rc;
}

int rrdcc_ping(rrdcc_t *self)
{
    rrdcc_reply_t r;
    if (rrdcc_command(self, "PING", &r) != 0)
        return -1;
    if (strncmp(r.message, "PONG", 4) != 0) {
        s_set_err(self, "PING answered \"%.80s\"", r.message);
        return -1;
    }
    return 0;
}

int rrdcc_flush(rrdcc_t *self, const char *path)
{
    rrdcc_reply_t r;
    return s_path_command(self, "FLUSH", path, &r);
}

static int s_parse_time(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno != 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int rrdcc_last(rrdcc_t *self, const char *path, int64_t *out)
{
    rrdcc_reply_t r;
    if (s_path_command(self, "LAST", path, &r) != 0)
        return -1;
    if (s_parse_time(r.message, out) != 0) {
        s_set_err(self, "LAST answered \"%.80s\"", r.message);
        return -1;
    }
    return 0;
}

int rrdcc_last_update(rrdcc_t *self, const char *path, int64_t *out)
{
    rrdcc_reply_t r;
    if (s_path_command(self, "INFO", path, &r) != 0)
        return -1;
    /* Lines are "<key> <type> <value>": "last_update 1 1700000180". */
    for (size_t i = 0; i < r.nlines; i++) {
        if (strncmp(r.lines[i], "last_update ", 12) != 0)
            continue;
        const char *v = strchr(r.lines[i] + 12, ' ');
        if (v && s_parse_time(v + 1, out) == 0)
            return 0;
        break;
    }
    s_set_err(self, "INFO %s has no last_update", path);
    return -1;
}

int rrdcc_create(rrdcc_t *self, const char *path, int64_t start, unsigned step,
                 bool no_overwrite, const char *const *defs, size_t ndefs)
{
    if (s_check_path(self, path) != 0)
        return -1;
    size_t n = strlen(path) + 64;
    for (size_t i = 0; i < ndefs; i++)
        n += strlen(defs[i]) + 1;
    char *line = malloc(n);
    if (!line) {
        s_set_err(self, "out of memory");
        return -1;
    }
    int len = snprintf(line, n, "CREATE %s -s %u -b %lld%s", path, step, (long long)start,
                       no_overwrite ? " -O" : "");
    for (size_t i = 0; i < ndefs; i++)
        len += snprintf(line + len, n - (size_t)len, " %s", defs[i]);
    rrdcc_reply_t r;
    int rc = rrdcc_command(self, line, &r);
    free(line);
    return rc;
}

/* ---- FETCH ---------------------------------------------------------------------------- */

int rrdcc_fetch(rrdcc_t *self, const char *path, const char *cf, int64_t start,
                int64_t end, const char *const *ds, size_t nds, rrdcc_fetch_t *out)
{
    memset(out, 0, sizeof *out);
    if (s_check_path(self, path) != 0)
        return -1;
    /* rrdcached reads a time <= 0 as relative to now. */
    if (start <= 0 || end <= start) {
        s_set_err(self, "FETCH needs 0 < start < end");
        return -1;
    }
    size_t n = strlen(path) + strlen(cf) + 64;
    for (size_t i = 0; i < nds; i++)
        n += strlen(ds[i]) + 1;
    char *line = malloc(n);
    if (!line) {
        s_set_err(self, "out of memory");
        return -1;
    }
    int len = snprintf(line, n, "FETCH %s %s %lld %lld", path, cf, (long long)start,
                       (long long)end);
    for (size_t i = 0; i < nds; i++)
        len += snprintf(line + len, n - (size_t)len, " %s", ds[i]);
    rrdcc_reply_t r;
    int rc = rrdcc_command(self, line, &r);
    free(line);
    if (rc != 0)
        return -1;
    if (rrdcc_fetch_parse(&r, out) != 0) {
        s_set_err(self, "FETCH %s: malformed reply", path);
        return -1;
    }
    return 0;
}
