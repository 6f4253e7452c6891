/* outbox — see outbox.h. A ring of messages: [head, head+inflight) are on
 * the wire, [head+inflight, head+count) wait for credit. */
#include "outbox.h"

#include <stdlib.h>

#define OUTBOX_RESEND_PACE_MS 500

struct outbox {
    outbox_msg_t *ring;
    size_t cap, head, count, inflight;
    size_t window;
    int64_t resend_after_ms;
    int64_t progress_ms;     /* last ack that freed something, or first send */
    int64_t rewound_ms;      /* last go-back; asked-for resends are paced by it */
    uint64_t next_seq;
    uint64_t acked_seq;
    uint64_t sent_max;       /* highest seq ever sent: later sends are resends */
    uint64_t resends;
};

outbox_t *outbox_new(size_t window, int64_t resend_after_ms)
{
    outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 64;
    self->ring = calloc(self->cap, sizeof *self->ring);
    if (!self->ring) {
        free(self);
        return NULL;
    }
    self->window = window ? window : 1;
    self->resend_after_ms = resend_after_ms;
    self->next_seq = 1;
    return self;
}

void outbox_destroy(outbox_t **self_p)
{
    outbox_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free(self->ring[(self->head + i) % self->cap].buf);
    free(self->ring);
    free(self);
    *self_p = NULL;
}

uint64_t outbox_next_seq(const outbox_t *self) { return self->next_seq; }

static int s_grow(outbox_t *self)
{
    size_t ncap = self->cap * 2;
    outbox_msg_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        n[i] = self->ring[(self->head + i) % self->cap];
    free(self->ring);
    self->ring = n;
    self->cap = ncap;
    self->head = 0;
    return 0;
}

int outbox_push(outbox_t *self, uint8_t *buf, size_t len)
{
    if (self->count == self->cap && s_grow(self) != 0)
        return -1;
    self->ring[(self->head + self->count) % self->cap] =
        (outbox_msg_t){ .seq = self->next_seq, .buf = buf, .len = len };
    self->count++;
    self->next_seq++;
    return 0;
}

const outbox_msg_t *outbox_peek(const outbox_t *self)
{
    if (self->inflight >= self->count || self->inflight >= self->window)
        return NULL;
    return &self->ring[(self->head + self->inflight) % self->cap];
}

void outbox_sent(outbox_t *self, int64_t now_ms)
{
    const outbox_msg_t *m = outbox_peek(self);
    if (!m)
        return;
    if (m->seq <= self->sent_max)
        self->resends++;
    else
        self->sent_max = m->seq;
    if (self->inflight == 0)
        self->progress_ms = now_ms;
    self->inflight++;
}

size_t outbox_ack(outbox_t *self, uint64_t acked_seq, bool resend, int64_t now_ms)
{
    size_t freed = 0;
    while (self->count > 0) {
        outbox_msg_t *m = &self->ring[self->head];
        if (m->seq > acked_seq)
            break;
        free(m->buf);
        m->buf = NULL;
        self->head = (self->head + 1) % self->cap;
        self->count--;
        if (self->inflight > 0)
            self->inflight--;
        freed++;
    }
    if (acked_seq > self->acked_seq)
        self->acked_seq = acked_seq;
    if (freed)
        self->progress_ms = now_ms;
    /* Every batch behind a gap draws its own resend request: honour one per
     * pacing period, or a burst of requests becomes a resend storm. */
    if (resend && self->inflight > 0 && now_ms - self->rewound_ms >= OUTBOX_RESEND_PACE_MS) {
        outbox_rewind(self);
        self->rewound_ms = now_ms;
    }
    return freed;
}

bool outbox_tick(outbox_t *self, int64_t now_ms)
{
    if (self->inflight == 0 || now_ms - self->progress_ms < self->resend_after_ms)
        return false;
    outbox_rewind(self);
    self->progress_ms = now_ms;
    self->rewound_ms = now_ms;
    return true;
}

void outbox_rewind(outbox_t *self) { self->inflight = 0; }

size_t outbox_pending(const outbox_t *self) { return self->count; }
size_t outbox_inflight(const outbox_t *self) { return self->inflight; }
uint64_t outbox_acked_seq(const outbox_t *self) { return self->acked_seq; }
uint64_t outbox_resends(const outbox_t *self) { return self->resends; }
