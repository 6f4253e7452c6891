/* source — see source.h. */
#include "source.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

/* Lines handled per loop turn at full speed, so acknowledgements and
 * timers still run during a fast replay. */
#define SRC_REPLAY_CHUNK 4096

typedef struct src_conn src_conn_t;

struct source {
    struct event_base *base;
    src_sink_t sink;
    char origin[256];
    /* replay */
    FILE *fp;
    bool is_replay;
    double speed;
    bool paused, eof;
    struct event *ev_step;
    sensor_parser_t parser;
    char *line;              /* a line read but not yet due (speed > 0) */
    size_t line_cap;
    bool have_line;
    int64_t t0_event, t0_wall;
    /* listen */
    struct evconnlistener *listener;
    char *unix_path;
    src_conn_t *conns;
    int nconn_total;
};

struct src_conn {
    source_t *src;
    struct bufferevent *bev;
    sensor_parser_t parser;
    char origin[280];
    src_conn_t *next;
};

static void s_line(source_t *self, sensor_parser_t *p, const char *origin, const char *line)
{
    sensor_event_t ev;
    char why[200];
    int64_t last_t = p->last_t_ms;
    enum sensor_result r = sensor_parse_line(p, line, &ev, why, sizeof why);
    if (r == SENSOR_EVENT && self->sink.on_event(self->sink.arg, &ev, why, sizeof why) == 0)
        return;
    if (r == SENSOR_NONE)
        return;
    if (r == SENSOR_EVENT) {
        /* Refused after parsing (e.g. stamped far in the future): it must not
         * set the stream's clock, or every later good line is "backwards". */
        p->last_t_ms = last_t;
        p->good--;
        p->bad++;
    }
    (*self->sink.bad_lines)++;
    log_warn("%s:%llu: %s", origin, (unsigned long long)p->line_no, why);
}

/* ---- replay ---------------------------------------------------------------- */

/* Event time of a line, or -1 for comments and lines the parser will reject. */
static int64_t s_line_time(const char *line)
{
    char *end;
    long long t = strtoll(line, &end, 10);
    return end == line || t <= 0 ? -1 : (int64_t)t;
}

static void s_schedule(source_t *self, int64_t delay_ms)
{
    struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000) };
    event_add(self->ev_step, &tv);
}

/* How long until the buffered line is due at the chosen speed. */
static int64_t s_due_in(source_t *self)
{
    if (self->speed <= 0)
        return 0;
    int64_t t = s_line_time(self->line);
    if (t < 0)
        return 0;
    if (self->t0_event == 0) {
        self->t0_event = t;
        self->t0_wall = tu_mono_ms();
    }
    int64_t due = self->t0_wall + (int64_t)((double)(t - self->t0_event) / self->speed);
    return due - tu_mono_ms();
}

static void s_replay_step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    source_t *self = arg;
    for (int n = 0; n < SRC_REPLAY_CHUNK && !self->paused; n++) {
        if (!self->have_line) {
            if (getline(&self->line, &self->line_cap, self->fp) < 0) {
                self->eof = true;
                if (ferror(self->fp))
                    log_error("%s: read error: %s", self->origin, strerror(errno));
                self->sink.on_eof(self->sink.arg);
                return;
            }
            self->have_line = true;
        }
        int64_t wait = s_due_in(self);
        if (wait > 0) {
            s_schedule(self, wait);
            return;
        }
        self->have_line = false;
        s_line(self, &self->parser, self->origin, self->line);
    }
    if (!self->paused)
        s_schedule(self, 0);
}

source_t *src_replay_new(struct event_base *base, const char *path, double speed,
                         const src_sink_t *sink)
{
    source_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->sink = *sink;
    self->is_replay = true;
    self->speed = speed;
    sensor_parser_init(&self->parser);
    snprintf(self->origin, sizeof self->origin, "%s", strcmp(path, "-") == 0 ? "stdin" : path);
    self->fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!self->fp) {
        log_error("cannot open replay file %s: %s", path, strerror(errno));
        free(self);
        return NULL;
    }
    self->ev_step = event_new(base, -1, 0, s_replay_step, self);
    s_schedule(self, 0);
    return self;
}

void src_pause(source_t *self, bool paused)
{
    if (!self->is_replay || self->paused == paused)
        return;
    self->paused = paused;
    if (!paused && !self->eof)
        s_schedule(self, 0);
}

/* ---- listen ------------------------------------------------------------------ */

static void s_conn_free(src_conn_t *c)
{
    source_t *self = c->src;
    for (src_conn_t **pp = &self->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    bufferevent_free(c->bev);
    free(c);
}

static void s_conn_read(struct bufferevent *bev, void *arg)
{
    src_conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char *line;
    size_t n;
    while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
        s_line(c->src, &c->parser, c->origin, line);
        free(line);
    }
    if (evbuffer_get_length(in) > SENSOR_MAX_LINE) {
        log_warn("%s: line longer than %d bytes: connection closed", c->origin, SENSOR_MAX_LINE);
        (*c->src->sink.bad_lines)++;
        s_conn_free(c);
    }
}

static void s_conn_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    src_conn_t *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        log_info("%s: sensor stream closed after %llu lines", c->origin,
                 (unsigned long long)c->parser.line_no);
        s_conn_free(c);
    }
}

static void s_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                     void *arg)
{
    (void)l;
    (void)sa;
    (void)salen;
    source_t *self = arg;
    src_conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->src = self;
    sensor_parser_init(&c->parser);
    snprintf(c->origin, sizeof c->origin, "%s#%d", self->origin, ++self->nconn_total);
    c->bev = bufferevent_socket_new(self->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close(fd);
        free(c);
        return;
    }
    bufferevent_setcb(c->bev, s_conn_read, NULL, s_conn_event, c);
    bufferevent_enable(c->bev, EV_READ);
    c->next = self->conns;
    self->conns = c;
    log_info("%s: sensor stream connected", c->origin);
}

static int s_parse_listen(source_t *self, const char *spec, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (strlen(spec + 5) == 0 || strlen(spec + 5) >= sizeof un->sun_path)
            return -1;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, spec + 5);
        self->unix_path = strdup(spec + 5);
        unlink(spec + 5); /* a stale socket from a previous run */
        *len = sizeof *un;
        return 0;
    }
    if (strncmp(spec, "tcp://", 6) == 0) {
        char host[64];
        unsigned port;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        if (sscanf(spec + 6, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535)
            return -1;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
            return -1;
        *len = sizeof *in;
        return 0;
    }
    return -1;
}

source_t *src_listen_new(struct event_base *base, const char *spec, const src_sink_t *sink)
{
    source_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->sink = *sink;
    snprintf(self->origin, sizeof self->origin, "%s", spec);
    struct sockaddr_storage ss;
    socklen_t len;
    if (s_parse_listen(self, spec, &ss, &len) != 0) {
        log_error("bad --listen '%s': want unix:/path or tcp://127.0.0.1:PORT", spec);
        src_destroy(&self);
        return NULL;
    }
    self->listener = evconnlistener_new_bind(base, s_accept, self,
                                             LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                             (struct sockaddr *)&ss, (int)len);
    if (!self->listener) {
        log_error("cannot listen on %s: %s", spec, strerror(errno));
        src_destroy(&self);
        return NULL;
    }
    log_info("listening for sensor lines on %s", spec);
    return self;
}

void src_destroy(source_t **self_p)
{
    source_t *self = *self_p;
    if (!self)
        return;
    while (self->conns)
        s_conn_free(self->conns);
    if (self->listener)
        evconnlistener_free(self->listener);
    if (self->unix_path) {
        unlink(self->unix_path);
        free(self->unix_path);
    }
    if (self->ev_step)
        event_free(self->ev_step);
    if (self->fp && self->fp != stdin)
        fclose(self->fp);
    free(self->line);
    free(self);
    *self_p = NULL;
}
