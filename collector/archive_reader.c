/* archive_reader — queue series read on a thread, handed to the loop (see
 * archive_reader.h). The thread owns its archive_t and touches nothing of
 * the loop's; the two share the queue of series read, under mu. */
#include "archive_reader.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "archive_int.h"
#include "log.h"
#include "timeutil.h"

typedef struct {
    size_t req;             /* index into reqs */
    int rc;
    arch_series_t s;
    char why[200];
} s_read_t;

struct arch_reader {
    struct event_base *base;
    struct event *ev_ready, *ev_more;
    int fd;                 /* eventfd: the thread wrote a series (or finished) */
    arch_reader_fn *fn;
    arch_reader_done_fn *done;
    void *arg;
    arch_read_t *reqs;
    size_t n;
    int64_t from, to, step;
    char *address, *root;
    enum arch_profile profile;
    pthread_t thread;
    bool started, finished;
    /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* room in the queue, or stop */
    s_read_t ring[ARCH_READER_AHEAD];
    size_t head, count;     /* series read, not yet handed on */
    bool stop, over, failed;
};

static void s_wake(arch_reader_t *self)
{
    uint64_t one = 1;
    if (write(self->fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("archive reader: waking the loop: %s", strerror(errno));
}

/* Wait for room; false when told to stop. */
static bool s_wait_room(arch_reader_t *self)
{
    pthread_mutex_lock(&self->mu);
    while (!self->stop && self->count == ARCH_READER_AHEAD)
        pthread_cond_wait(&self->cv, &self->mu);
    bool go = !self->stop;
    pthread_mutex_unlock(&self->mu);
    return go;
}

static void s_push(arch_reader_t *self, s_read_t *r)
{
    pthread_mutex_lock(&self->mu);
    self->ring[(self->head + self->count) % ARCH_READER_AHEAD] = *r;
    self->count++;
    pthread_mutex_unlock(&self->mu);
    s_wake(self);
}

static void s_finish(arch_reader_t *self, bool failed)
{
    pthread_mutex_lock(&self->mu);
    self->over = true;
    self->failed = failed;
    pthread_mutex_unlock(&self->mu);
    s_wake(self);
}

static void *s_thread(void *arg)
{
    arch_reader_t *self = arg;
    pthread_setname_np(pthread_self(), "poe-arch-read");   /* top -H, perf sched */
    archive_t *arch = arch_new(self->address, self->root, self->profile);
    bool failed = !arch;
    for (size_t i = 0; i < self->n && !failed && s_wait_room(self); i++) {
        const arch_read_t *q = &self->reqs[i];
        s_read_t r = { .req = i };
        r.rc = arch_fetch_queue(arch, q->crossing, q->dir, q->mode, q->type, self->from, self->to,
                                self->step, &r.s, r.why, sizeof r.why);
        failed = r.rc < 0;
        s_push(self, &r);
    }
    arch_destroy(&arch);
    s_finish(self, failed);
    return NULL;
}

/* Take the oldest series read; false when there is none. */
static bool s_pop(arch_reader_t *self, s_read_t *out, bool *over, bool *failed)
{
    pthread_mutex_lock(&self->mu);
    bool have = self->count > 0;
    if (have) {
        *out = self->ring[self->head];
        self->head = (self->head + 1) % ARCH_READER_AHEAD;
        self->count--;
        pthread_cond_signal(&self->cv);
    }
    *over = self->over && self->count == 0;
    *failed = self->failed;
    pthread_mutex_unlock(&self->mu);
    return have;
}

/* On the loop: hand on what was read, for up to a slice, then yield. */
static void s_deliver(arch_reader_t *self)
{
    int64_t t0 = tu_mono_ms();
    s_read_t r;
    bool over = false, failed = false, have;
    while ((have = s_pop(self, &r, &over, &failed))) {
        self->fn(self->arg, &self->reqs[r.req], r.rc, &r.s, r.why);
        if (tu_mono_ms() - t0 >= ARCH_READER_SLICE_MS)
            break;
    }
    if (have) {
        struct timeval zero = { 0, 0 };
        event_add(self->ev_more, &zero);
        return;
    }
    if (over && !self->finished) {
        self->finished = true;
        self->done(self->arg, failed);
    }
}

static void s_on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_warn("archive reader: %s", strerror(errno));
    arch_reader_t *self = arg;
    if (!evtimer_pending(self->ev_more, NULL))
        s_deliver(self);
}

static void s_on_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_deliver(arg);
}

arch_reader_t *arch_reader_new(struct event_base *base, const archive_t *arch,
                               const arch_read_t *reqs, size_t n, int64_t from, int64_t to,
                               int64_t step, arch_reader_fn *fn, arch_reader_done_fn *done,
                               void *arg)
{
    arch_reader_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->base = base;
    self->fn = fn;
    self->done = done;
    self->arg = arg;
    self->n = n;
    self->from = from;
    self->to = to;
    self->step = step;
    self->profile = arch->profile;
    self->address = strdup(rrdcc_address(arch->rc));
    self->root = strdup(arch->root);
    self->reqs = malloc((n ? n : 1) * sizeof *reqs);
    self->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!self->address || !self->root || !self->reqs || self->fd < 0)
        goto fail;
    if (n)
        memcpy(self->reqs, reqs, n * sizeof *reqs);
    self->ev_ready = event_new(base, self->fd, EV_READ | EV_PERSIST, s_on_ready, self);
    self->ev_more = evtimer_new(base, s_on_more, self);
    if (!self->ev_ready || !self->ev_more || event_add(self->ev_ready, NULL) != 0)
        goto fail;
    int err = pthread_create(&self->thread, NULL, s_thread, self);
    if (err != 0) {
        errno = err;   /* pthread_create returns its error, errno is untouched */
        goto fail;
    }
    self->started = true;
    return self;
fail:
    log_error("archive reader: cannot start: %s", strerror(errno));
    arch_reader_destroy(&self);
    return NULL;
}

void arch_reader_destroy(arch_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    arch_reader_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_cond_signal(&self->cv);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->thread, NULL);
    }
    for (size_t i = 0; i < self->count; i++) {
        s_read_t *r = &self->ring[(self->head + i) % ARCH_READER_AHEAD];
        if (r->rc == 0)
            arch_series_free(&r->s);
    }
    if (self->ev_ready)
        event_free(self->ev_ready);
    if (self->ev_more)
        event_free(self->ev_more);
    if (self->fd >= 0)
        close(self->fd);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self->reqs);
    free(self->address);
    free(self->root);
    free(self);
    *self_p = NULL;
}

bool arch_reader_finished(const arch_reader_t *self)
{
    return self->finished;
}
