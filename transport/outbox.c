/* outbox — see outbox.h. State: seqs <= acked are accepted, (acked, next)
 * are in flight, next is the one to send. durable <= acked. */
#include "outbox.h"

#include <stdlib.h>

/* Every batch behind a gap draws its own resend request: honour one per
 * pacing period, or a burst of requests becomes a resend storm. */
#define OUTBOX_RESEND_PACE_MS 500

struct outbox {
    size_t window;
    int64_t resend_after_ms;
    uint64_t next, acked, durable;
    uint64_t floor;          /* seqs <= floor are gone from the spool: never in flight */
    int64_t progress_ms;     /* last ack that moved, or first send into an empty window */
    int64_t rewound_ms;
    uint64_t sent_max;       /* highest seq ever sent: sending below it is a resend */
    uint64_t resends;
};

outbox_t *outbox_new(size_t window, int64_t resend_after_ms, uint64_t first_unacked)
{
    outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->window = window ? window : 1;
    self->resend_after_ms = resend_after_ms;
    self->acked = self->durable = first_unacked ? first_unacked - 1 : 0;
    self->next = self->acked + 1;
    self->rewound_ms = -OUTBOX_RESEND_PACE_MS;
    return self;
}

void outbox_destroy(outbox_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

/* Below both the acknowledgement and the spool's floor nothing is in
 * flight: dropped batches must not eat the window. */
static uint64_t s_base(const outbox_t *self)
{
    return self->acked > self->floor ? self->acked : self->floor;
}

size_t outbox_inflight(const outbox_t *self) { return (size_t)(self->next - 1 - s_base(self)); }

uint64_t outbox_peek(const outbox_t *self, uint64_t last_seq)
{
    if (self->next > last_seq || outbox_inflight(self) >= self->window)
        return 0;
    return self->next;
}

void outbox_sent(outbox_t *self, int64_t now_ms)
{
    if (self->next <= self->sent_max)
        self->resends++;
    else
        self->sent_max = self->next;
    if (outbox_inflight(self) == 0)
        self->progress_ms = now_ms;
    self->next++;
}

void outbox_skip_to(outbox_t *self, uint64_t first_available)
{
    if (first_available > 0 && first_available - 1 > self->floor)
        self->floor = first_available - 1;
    if (self->next <= self->floor)
        self->next = self->floor + 1;
}

void outbox_rewind(outbox_t *self) { self->next = s_base(self) + 1; }

bool outbox_ack(outbox_t *self, uint64_t acked, uint64_t durable, bool resend, int64_t now_ms)
{
    bool moved = false;
    if (acked < self->acked) {
        /* The collector lost what it had accepted (rrdcached restarted):
         * everything after its durable point goes again. */
        self->acked = acked;
        outbox_rewind(self);
        self->rewound_ms = now_ms;
        moved = true;
    } else if (acked > self->acked) {
        self->acked = acked;
        if (self->next <= acked)
            self->next = acked + 1;
        self->progress_ms = now_ms;
        moved = true;
    }
    if (durable > self->acked)
        durable = self->acked;
    if (durable != self->durable) {
        self->durable = durable;
        moved = true;
    }
    if (resend && outbox_inflight(self) > 0 && now_ms - self->rewound_ms >= OUTBOX_RESEND_PACE_MS) {
        outbox_rewind(self);
        self->rewound_ms = now_ms;
    }
    return moved;
}

bool outbox_tick(outbox_t *self, int64_t now_ms)
{
    if (outbox_inflight(self) == 0 || now_ms - self->progress_ms < self->resend_after_ms)
        return false;
    outbox_rewind(self);
    self->progress_ms = now_ms;
    self->rewound_ms = now_ms;
    return true;
}

uint64_t outbox_acked_seq(const outbox_t *self) { return self->acked; }
uint64_t outbox_durable_seq(const outbox_t *self) { return self->durable; }
uint64_t outbox_resends(const outbox_t *self) { return self->resends; }
