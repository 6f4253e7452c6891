/* sse_ring — see sse_ring.h. Slot seq % SSE_RING holds the event of seq
 * (or NULL, or an older event when that update could not be kept); the
 * slots are guarded by one mutex, held only to swap a pointer or to take
 * references. Waking the readers is deferred to an active event on the
 * main loop so a batch that changes 40 queues costs each worker one
 * wake-up, not 40, and to a timer when the last wake-up was less than
 * SSE_WAKE_MIN_MS ago. */
#include "sse_ring.h"

#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

typedef struct {
    void (*wake)(void *arg);
    void *arg;
} s_reader_t;

struct sse_ring {
    pthread_mutex_t mu;                 /* guards slots, first */
    sse_event_t *slots[SSE_RING];
    uint64_t first;                     /* the first seq published since start (0: none) */
    _Atomic uint64_t newest;
    s_reader_t readers[SSE_MAX_READERS];
    int nreaders;
    struct event *ev_wake;              /* main loop: wake the readers */
    int64_t woke_ms;                    /* monotonic: the last wake */
    bool wake_due;                      /* ev_wake is pending or active */
    int max_clients;
    atomic_int clients;
    _Atomic uint64_t counted[SSE_WHY_MAX];
};

static const char *s_why_names[SSE_WHY_MAX] = {
    [SSE_REFUSED_FULL] = "full",
    [SSE_REFUSED_BAD_ID] = "bad_last_event_id",
    [SSE_REFUSED_FUTURE_ID] = "future_last_event_id",
    [SSE_DROPPED_SLOW] = "slow_reader",
};

const char *sse_why_name(enum sse_why why)
{
    return why < SSE_WHY_MAX ? s_why_names[why] : "?";
}

static void s_on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sse_ring_t *self = arg;
    self->wake_due = false;
    self->woke_ms = tu_mono_ms();
    for (int i = 0; i < self->nreaders; i++)
        self->readers[i].wake(self->readers[i].arg);
}

sse_ring_t *sse_ring_new(struct event_base *base, int max_clients)
{
    sse_ring_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ev_wake = event_new(base, -1, 0, s_on_wake, self))) {
        log_error("sse: out of memory");
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->mu, NULL);
    atomic_init(&self->newest, 0);
    atomic_init(&self->clients, 0);
    for (int i = 0; i < SSE_WHY_MAX; i++)
        atomic_init(&self->counted[i], 0);
    self->max_clients = max_clients > 0 ? max_clients : SSE_DEFAULT_CLIENTS;
    return self;
}

void sse_ring_destroy(sse_ring_t **self_p)
{
    sse_ring_t *self = *self_p;
    if (!self)
        return;
    event_free(self->ev_wake);
    for (int i = 0; i < SSE_RING; i++)
        sse_event_unref(self->slots[i]);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

int sse_ring_add_reader(sse_ring_t *self, void (*wake)(void *arg), void *arg)
{
    if (self->nreaders == SSE_MAX_READERS)
        return -1;
    self->readers[self->nreaders++] = (s_reader_t){ .wake = wake, .arg = arg };
    return 0;
}

void sse_ring_remove_reader(sse_ring_t *self, void *arg)
{
    for (int i = 0; i < self->nreaders; i++) {
        if (self->readers[i].arg == arg) {
            self->readers[i] = self->readers[--self->nreaders];
            return;
        }
    }
}

void sse_event_ref(sse_event_t *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void sse_event_unref(sse_event_t *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        free(e);
}

void sse_ring_publish(sse_ring_t *self, uint64_t seq, const char *crossing, const char *body)
{
    size_t cap = strlen(body) + 64;
    sse_event_t *e = malloc(sizeof *e + cap);
    if (e) {
        atomic_init(&e->refs, 1);
        e->seq = seq;
        snprintf(e->crossing, sizeof e->crossing, "%s", crossing);
        e->len = (size_t)snprintf(e->frame, cap, "id: %" PRIu64 "\nevent: wait\ndata: %s\n\n",
                                  seq, body);
    } else {
        /* the gap shows in the ids; a reader resuming across it still
         * gets every other update (there is nothing else to send) */
        log_error("sse: out of memory: update %" PRIu64 " not streamed", seq);
    }
    pthread_mutex_lock(&self->mu);
    sse_event_t *old = self->slots[seq % SSE_RING];
    self->slots[seq % SSE_RING] = e;
    if (!self->first)
        self->first = seq;
    atomic_store_explicit(&self->newest, seq, memory_order_release);
    pthread_mutex_unlock(&self->mu);
    sse_event_unref(old);
    if (!self->nreaders || self->wake_due)
        return;
    /* At the end of this turn, or SSE_WAKE_MIN_MS after the last wake: a
     * flood of batches costs every stream one write per interval, not one
     * per batch. */
    self->wake_due = true;
    int64_t wait = self->woke_ms + SSE_WAKE_MIN_MS - tu_mono_ms();
    if (wait <= 0) {
        event_active(self->ev_wake, EV_TIMEOUT, 0);
    } else {
        struct timeval tv = { 0, (suseconds_t)(wait * 1000) };
        event_add(self->ev_wake, &tv);
    }
}

uint64_t sse_ring_seq(const sse_ring_t *self)
{
    return atomic_load_explicit(&self->newest, memory_order_acquire);
}

int sse_ring_read(sse_ring_t *self, uint64_t after, sse_event_t **out, uint64_t *newest)
{
    int n = 0;
    pthread_mutex_lock(&self->mu);
    uint64_t top = atomic_load_explicit(&self->newest, memory_order_relaxed);
    uint64_t oldest = top >= SSE_RING ? top - SSE_RING + 1 : 1;
    if (self->first > oldest)
        oldest = self->first;
    *newest = top;
    if (after < top && after + 1 < oldest) {
        pthread_mutex_unlock(&self->mu);
        return -1;
    }
    for (uint64_t s = after + 1; s <= top; s++) {
        sse_event_t *e = self->slots[s % SSE_RING];
        if (e && e->seq == s) {
            sse_event_ref(e);
            out[n++] = e;
        }
    }
    pthread_mutex_unlock(&self->mu);
    return n;
}

bool sse_ring_admit(sse_ring_t *self)
{
    if (atomic_fetch_add(&self->clients, 1) >= self->max_clients) {
        atomic_fetch_sub(&self->clients, 1);
        sse_ring_count(self, SSE_REFUSED_FULL);
        return false;
    }
    return true;
}

void sse_ring_leave(sse_ring_t *self)
{
    atomic_fetch_sub(&self->clients, 1);
}

int sse_ring_max_clients(const sse_ring_t *self)
{
    return self->max_clients;
}

void sse_ring_count(sse_ring_t *self, enum sse_why why)
{
    atomic_fetch_add_explicit(&self->counted[why], 1, memory_order_relaxed);
}

int sse_ring_clients(const sse_ring_t *self)
{
    return self ? atomic_load(&self->clients) : 0;
}

uint64_t sse_ring_counted(const sse_ring_t *self, enum sse_why why)
{
    return self ? atomic_load_explicit(&self->counted[why], memory_order_relaxed) : 0;
}
