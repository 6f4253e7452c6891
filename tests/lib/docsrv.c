/* docsrv — see docsrv.h. */
#include "docsrv.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DOCSRV_MAX 8

typedef struct {
    char path[128], etag[32], ctype[64];
    char *body;
    size_t len;
} s_doc_t;

struct docsrv {
    s_doc_t docs[DOCSRV_MAX];
    int ndocs, port;
    struct event_base *base;
    struct evhttp *http;
    pthread_t thread;
    int running;
    atomic_bool stop;
    _Atomic uint64_t requests, not_modified;
};

docsrv_t *docsrv_new(void)
{
    return calloc(1, sizeof(docsrv_t));
}

int docsrv_add_file(docsrv_t *self, const char *path, const char *file, const char *ctype)
{
    if (self->running || self->ndocs == DOCSRV_MAX)
        return -1;
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return -1;
    s_doc_t *d = &self->docs[self->ndocs];
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    d->body = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!d->body || fread(d->body, 1, (size_t)n, fp) != (size_t)n) {
        free(d->body);
        d->body = NULL;
        fclose(fp);
        return -1;
    }
    fclose(fp);
    d->len = (size_t)n;
    snprintf(d->path, sizeof d->path, "%s", path);
    snprintf(d->etag, sizeof d->etag, "\"docsrv-%d\"", self->ndocs);
    snprintf(d->ctype, sizeof d->ctype, "%s", ctype);
    self->ndocs++;
    return 0;
}

static void s_on_request(struct evhttp_request *req, void *arg)
{
    docsrv_t *self = arg;
    const char *uri = evhttp_request_get_uri(req);
    for (int i = 0; i < self->ndocs; i++) {
        s_doc_t *d = &self->docs[i];
        if (strcmp(uri, d->path) != 0)
            continue;
        self->requests++;
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        evhttp_add_header(out, "ETag", d->etag);
        const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
        if (inm && strcmp(inm, d->etag) == 0) {
            self->not_modified++;
            evhttp_send_reply(req, 304, "Not Modified", NULL);
            return;
        }
        evhttp_add_header(out, "Content-Type", d->ctype);
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, d->body, d->len);
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
        return;
    }
    evhttp_send_error(req, 404, NULL);
}

static void s_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* The loop wakes at least every 50 ms to see stop (libevent is not built
 * thread-aware here, so no other thread may touch the base). */
static void *s_run(void *arg)
{
    docsrv_t *self = arg;
    struct event *tick = event_new(self->base, -1, EV_PERSIST, s_tick, NULL);
    struct timeval tv = { 0, 50000 };
    event_add(tick, &tv);
    while (!self->stop)
        event_base_loop(self->base, EVLOOP_ONCE);
    event_free(tick);
    return NULL;
}

int docsrv_start(docsrv_t *self)
{
    self->base = event_base_new();
    self->http = self->base ? evhttp_new(self->base) : NULL;
    struct evhttp_bound_socket *bs = self->http ? evhttp_bind_socket_with_handle(self->http, "127.0.0.1", 0) : NULL;
    if (!bs)
        return -1;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl) != 0)
        return -1;
    self->port = ntohs(sa.sin_port);
    evhttp_set_gencb(self->http, s_on_request, self);
    if (pthread_create(&self->thread, NULL, s_run, self) != 0)
        return -1;
    self->running = 1;
    return 0;
}

int docsrv_port(const docsrv_t *self) { return self->port; }
uint64_t docsrv_requests(const docsrv_t *self) { return self->requests; }
uint64_t docsrv_not_modified(const docsrv_t *self) { return self->not_modified; }

void docsrv_destroy(docsrv_t **self_p)
{
    docsrv_t *self = *self_p;
    if (!self)
        return;
    if (self->running) {
        self->stop = true;
        pthread_join(self->thread, NULL);
    }
    if (self->http)
        evhttp_free(self->http);
    if (self->base)
        event_base_free(self->base);
    for (int i = 0; i < self->ndocs; i++)
        free(self->docs[i].body);
    free(self);
    *self_p = NULL;
}
