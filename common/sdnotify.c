/* sdnotify — see sdnotify.h. */
#include "sdnotify.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

struct sdnotify {
    struct event *ev_ping;
    uint64_t period_usec;
};

/* NOTIFY_SOCKET as a sockaddr: a path, or "@name" for the abstract
 * namespace (a leading NUL byte). -1 when it does not fit. */
static int s_address(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
    size_t n = strlen(name);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (n < 2 || n >= sizeof sa->sun_path || (name[0] != '/' && name[0] != '@'))
        return -1;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@')
        sa->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
    return 0;
}

int sdnotify_send(const char *msg)
{
    const char *name = getenv("NOTIFY_SOCKET");
    if (!name || !name[0])
        return 0;
    struct sockaddr_un sa;
    socklen_t salen;
    if (s_address(name, &sa, &salen) != 0) {
        log_error("NOTIFY_SOCKET '%s' is neither a socket path nor @abstract", name);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("notify socket: %s", strerror(errno));
        return -1;
    }
    ssize_t sent = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int err = errno;
    close(fd);
    if (sent != (ssize_t)strlen(msg)) {
        log_error("notify %s: %s", name, sent < 0 ? strerror(err) : "short send");
        return -1;
    }
    return 1;
}

/* A whole positive decimal number, else 0. */
static uint64_t s_number(const char *s)
{
    if (!s || *s < '0' || *s > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    return errno || *end ? 0 : (uint64_t)v;
}

uint64_t sdnotify_watchdog_usec(void)
{
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && pid[0] && s_number(pid) != (uint64_t)getpid())
        return 0; /* meant for another process (e.g. our parent) */
    return s_number(getenv("WATCHDOG_USEC"));
}

static void s_on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    (void)sdnotify_send("WATCHDOG=1"); /* a failure is logged; the manager judges */
}

sdnotify_t *sdnotify_new(struct event_base *base)
{
    sdnotify_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    const char *name = getenv("NOTIFY_SOCKET");
    self->period_usec = name && name[0] ? sdnotify_watchdog_usec() : 0;
    if (self->period_usec == 0)
        return self;
    self->ev_ping = event_new(base, -1, EV_PERSIST, s_on_ping, self);
    uint64_t half = self->period_usec / 2;
    struct timeval every = { (time_t)(half / 1000000), (suseconds_t)(half % 1000000) };
    if (!self->ev_ping || event_add(self->ev_ping, &every) != 0) {
        log_error("watchdog timer: out of memory");
        if (self->ev_ping)
            event_free(self->ev_ping);
        free(self);
        return NULL;
    }
    log_info("watchdog: the service manager wants a ping every %.3f s; sending every %.3f s",
             self->period_usec / 1e6, half / 1e6);
    s_on_ping(-1, 0, self); /* the first one now: the period runs from the start */
    return self;
}

void sdnotify_ready(sdnotify_t *self, const char *status)
{
    (void)self;
    char msg[512];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", status ? status : "ready");
    (void)sdnotify_send(msg);
}

void sdnotify_destroy(sdnotify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sdnotify_t *self = *self_p;
    (void)sdnotify_send("STOPPING=1");
    if (self->ev_ping)
        event_free(self->ev_ping);
    free(self);
    *self_p = NULL;
}
