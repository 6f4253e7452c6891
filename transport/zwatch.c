/* zwatch — see zwatch.h. */
#include "zwatch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zmq.h>

#include "log.h"

#define ZWATCH_BURST 256

struct zwatch {
    void *sock;
    zwatch_handlers_t h;
    struct event *ev_fd;      /* ZMQ_FD, persistent */
    struct event *ev_again;   /* zero-timeout: continue, or re-check after a kick */
};

static bool s_readable(zwatch_t *self)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(self->sock, ZMQ_EVENTS, &events, &len) != 0) {
        if (errno != EINTR && errno != ETERM)
            log_warn("zwatch: ZMQ_EVENTS: %s", zmq_strerror(errno));
        return false;
    }
    return (events & ZMQ_POLLIN) != 0;
}

static void s_schedule(zwatch_t *self)
{
    struct timeval zero = { 0, 0 };
    event_add(self->ev_again, &zero);
}

/* Read until a read finds nothing (or the burst is spent): ZMQ_EVENTS is
 * asked once per turn, not before every message, as it costs a poll of the
 * socket's mailbox each time. After the empty read ZMQ_EVENTS must still be
 * read: that re-arms the edge, and a message that came in between raises
 * none, so a socket still readable gets another turn. */
static void s_run(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zwatch_t *self = arg;
    for (size_t n = 0;; n++) {
        if (n == self->h.burst) {
            s_schedule(self);
            break;
        }
        if (self->h.on_message(self->h.arg) != 0) {
            if (s_readable(self))
                s_schedule(self);
            break;
        }
    }
    if (self->h.on_drained)
        self->h.on_drained(self->h.arg);
}

zwatch_t *zwatch_new(struct event_base *base, void *sock, const zwatch_handlers_t *h)
{
    zwatch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->sock = sock;
    self->h = *h;
    if (!self->h.burst)
        self->h.burst = ZWATCH_BURST;
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0) {
        log_error("zwatch: ZMQ_FD: %s", zmq_strerror(errno));
        goto fail;
    }
    self->ev_fd = event_new(base, fd, EV_READ | EV_PERSIST, s_run, self);
    self->ev_again = event_new(base, -1, 0, s_run, self);
    if (!self->ev_fd || !self->ev_again || event_add(self->ev_fd, NULL) != 0)
        goto fail;
    s_schedule(self);
    return self;
fail:
    zwatch_destroy(&self);
    return NULL;
}

void zwatch_destroy(zwatch_t **self_p)
{
    zwatch_t *self = *self_p;
    if (!self)
        return;
    if (self->ev_fd)
        event_free(self->ev_fd);
    if (self->ev_again)
        event_free(self->ev_again);
    free(self);
    *self_p = NULL;
}

void zwatch_kick(zwatch_t *self) { s_schedule(self); }

bool zwatch_pending(zwatch_t *self)
{
    if (!s_readable(self))
        return false;
    s_schedule(self);   /* the edge that would have woken the watch is spent */
    return true;
}
