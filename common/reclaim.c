/* reclaim — see reclaim.h. */
#include "reclaim.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Below the ingest loop and the HTTP workers (nice 0), above nothing:
 * still ~10 % of a core when every core is busy, so a flood cannot starve
 * it while its backlog grows. */
#define S_NICE 10

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    reclaim_item_t *head;
    size_t bytes;              /* waiting */
    bool running, stopping;
    pthread_t thread;
} s_self = { .mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void s_free_all(reclaim_item_t *it)
{
    while (it) {
        reclaim_item_t *next = it->next;
        it->fn(it);
        it = next;
    }
}

static void *s_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "poe-reclaim");
    /* Linux: a thread's own nice value (PRIO_PROCESS with its tid). Raising
     * it needs no privilege; failing to, it runs at the process's. */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), S_NICE);
    pthread_mutex_lock(&s_self.mu);
    for (;;) {
        while (!s_self.head && !s_self.stopping)
            pthread_cond_wait(&s_self.cond, &s_self.mu);
        reclaim_item_t *batch = s_self.head;
        s_self.head = NULL;
        s_self.bytes = 0;
        bool stop = s_self.stopping;
        pthread_mutex_unlock(&s_self.mu);
        s_free_all(batch);
        pthread_mutex_lock(&s_self.mu);
        if (stop && !s_self.head)
            break;
    }
    pthread_mutex_unlock(&s_self.mu);
    return NULL;
}

int reclaim_start(void)
{
    pthread_mutex_lock(&s_self.mu);
    int rc = 0;
    if (!s_self.running) {
        s_self.stopping = false;
        int err = pthread_create(&s_self.thread, NULL, s_thread, NULL);
        if (err != 0) {
            errno = err;
            rc = -1;
        } else {
            s_self.running = true;
        }
    }
    pthread_mutex_unlock(&s_self.mu);
    return rc;
}

void reclaim_stop(void)
{
    pthread_mutex_lock(&s_self.mu);
    bool running = s_self.running;
    s_self.stopping = true;
    pthread_cond_signal(&s_self.cond);
    pthread_mutex_unlock(&s_self.mu);
    if (!running)
        return;
    pthread_join(s_self.thread, NULL);
    pthread_mutex_lock(&s_self.mu);
    s_self.running = false;
    pthread_mutex_unlock(&s_self.mu);
}

int reclaim_defer(reclaim_item_t *it)
{
    pthread_mutex_lock(&s_self.mu);
    bool take = s_self.running && !s_self.stopping &&
                s_self.bytes + it->bytes <= RECLAIM_BACKLOG_MAX;
    if (take) {
        it->next = s_self.head;
        s_self.head = it;
        s_self.bytes += it->bytes;
        if (!it->next)
            pthread_cond_signal(&s_self.cond);   /* it was idle, or about to be */
    }
    pthread_mutex_unlock(&s_self.mu);
    return take ? 0 : -1;
}
