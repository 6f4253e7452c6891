/* bgjob — see bgjob.h. */
#include "bgjob.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct bgjob {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    void (*work)(void *arg);     /* set: a job waits for the thread */
    void (*done)(void *arg);
    void *arg;
    bool busy;                   /* loop side: from run until done returned */
    bool stop;
    int pipe[2];                 /* the thread writes a byte when work returned */
    struct event *ev;
    char name[16];
    int nice;                    /* the thread's own, set by itself */
};

static void *s_thread(void *arg)
{
    bgjob_t *self = arg;
    pthread_setname_np(pthread_self(), self->name);
    /* Linux: a thread's own nice value (PRIO_PROCESS with its tid). Raising
     * it needs no privilege; failing to, it runs at the process's. */
    if (self->nice)
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), self->nice);
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->work && !self->stop)
            pthread_cond_wait(&self->cond, &self->mu);
        if (!self->work)
            break;
        void (*work)(void *) = self->work;
        void *warg = self->arg;
        pthread_mutex_unlock(&self->mu);
        work(warg);
        pthread_mutex_lock(&self->mu);
        self->work = NULL;
        char b = 1;
        while (write(self->pipe[1], &b, 1) < 0 && errno == EINTR)
            ;
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* The job's work returned: call its done on the loop. */
static void s_finish(bgjob_t *self)
{
    char b;
    while (read(self->pipe[0], &b, 1) < 0 && errno == EINTR)
        ;
    self->busy = false;
    if (self->done)
        self->done(self->arg);
}

static void s_on_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_finish(arg);
}

bgjob_t *bgjob_new(struct event_base *base, const char *name)
{
    return bgjob_new_nice(base, name, 0);
}

bgjob_t *bgjob_new_nice(struct event_base *base, const char *name, int nice)
{
    bgjob_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->name, sizeof self->name, "%s", name);
    self->nice = nice;
    self->pipe[0] = self->pipe[1] = -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cond, NULL);
    int err = 0;
    if (pipe2(self->pipe, O_CLOEXEC) != 0 ||
        !(self->ev = event_new(base, self->pipe[0], EV_READ | EV_PERSIST, s_on_pipe, self)) ||
        event_add(self->ev, NULL) != 0 ||
        (err = pthread_create(&self->thread, NULL, s_thread, self)) != 0) {
        int saved = err ? err : errno;
        if (self->ev)
            event_free(self->ev);
        for (int i = 0; i < 2; i++)
            if (self->pipe[i] >= 0)
                close(self->pipe[i]);
        pthread_cond_destroy(&self->cond);
        pthread_mutex_destroy(&self->mu);
        free(self);
        errno = saved;
        return NULL;
    }
    return self;
}

void bgjob_destroy(bgjob_t **self_p)
{
    bgjob_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->mu);
    self->stop = true;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->mu);
    pthread_join(self->thread, NULL);   /* after the running job's work */
    if (self->busy)
        s_finish(self);                 /* its byte is in the pipe */
    event_free(self->ev);
    close(self->pipe[0]);
    close(self->pipe[1]);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

bool bgjob_busy(const bgjob_t *self)
{
    return self->busy;
}

int bgjob_run(bgjob_t *self, void (*work)(void *arg), void (*done)(void *arg), void *arg)
{
    if (self->busy)
        return -1;
    self->busy = true;
    pthread_mutex_lock(&self->mu);
    self->work = work;
    self->done = done;
    self->arg = arg;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->mu);
    return 0;
}
