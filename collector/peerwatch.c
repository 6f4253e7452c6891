/* peerwatch — see peerwatch.h. */
#include "peerwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char who[PEERWATCH_WHO_MAX];
    int64_t last_ms, last_log_ms;
    uint64_t attempts;
    bool used;
} s_episode_t;

typedef struct {
    int fd;
    char addr[PEERWATCH_ADDR_MAX];
} s_pending_t;

struct peerwatch {
    int64_t window_ms;
    s_episode_t ep[PEERWATCH_EPISODES];
    s_pending_t pend[PEERWATCH_PENDING];
    size_t npend;
};

peerwatch_t *peerwatch_new(int64_t window_ms)
{
    peerwatch_t *self = calloc(1, sizeof *self);
    if (self)
        self->window_ms = window_ms;
    return self;
}

void peerwatch_destroy(peerwatch_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static bool s_active(const peerwatch_t *self, const s_episode_t *e, int64_t now_ms)
{
    return e->used && now_ms - e->last_ms <= self->window_ms;
}

static s_episode_t *s_find(peerwatch_t *self, const char *who)
{
    for (size_t i = 0; i < PEERWATCH_EPISODES; i++)
        if (self->ep[i].used && strcmp(self->ep[i].who, who) == 0)
            return &self->ep[i];
    return NULL;
}

/* A free slot, or the one heard from longest ago. */
static s_episode_t *s_slot(peerwatch_t *self)
{
    s_episode_t *oldest = &self->ep[0];
    for (size_t i = 0; i < PEERWATCH_EPISODES; i++) {
        if (!self->ep[i].used)
            return &self->ep[i];
        if (self->ep[i].last_ms < oldest->last_ms)
            oldest = &self->ep[i];
    }
    return oldest;
}

enum peerwatch_verdict peerwatch_seen(peerwatch_t *self, const char *who, int64_t now_ms,
                                      uint64_t *attempts)
{
    s_episode_t *e = s_find(self, who);
    enum peerwatch_verdict v = PEERWATCH_QUIET;
    if (!e || !s_active(self, e, now_ms)) {
        if (!e)
            e = s_slot(self);
        memset(e, 0, sizeof *e);
        snprintf(e->who, sizeof e->who, "%s", who);
        e->used = true;
        e->last_log_ms = now_ms;
        v = PEERWATCH_NEW;
    } else if (now_ms - e->last_log_ms >= self->window_ms) {
        e->last_log_ms = now_ms;
        v = PEERWATCH_REMIND;
    }
    e->last_ms = now_ms;
    e->attempts++;
    if (attempts)
        *attempts = e->attempts;
    return v;
}

bool peerwatch_adopt(peerwatch_t *self, const char *from, const char *to, int64_t now_ms)
{
    s_episode_t *f = s_find(self, from), *t = s_find(self, to);
    if (!f || !s_active(self, f, now_ms) || (t && s_active(self, t, now_ms)))
        return false;
    if (t)
        t->used = false;
    snprintf(f->who, sizeof f->who, "%s", to);
    return true;
}

bool peerwatch_latest(const peerwatch_t *self, const char *prefix, int64_t now_ms, char *out,
                      size_t len)
{
    const s_episode_t *best = NULL;
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < PEERWATCH_EPISODES; i++) {
        const s_episode_t *e = &self->ep[i];
        if (s_active(self, e, now_ms) && strncmp(e->who, prefix, pl) == 0 &&
            (!best || e->last_ms > best->last_ms))
            best = e;
    }
    if (best)
        snprintf(out, len, "%s", best->who);
    return best != NULL;
}

void peerwatch_accepted(peerwatch_t *self, int fd, const char *addr)
{
    if (self->npend == PEERWATCH_PENDING) { /* outcomes lost track of: forget the oldest */
        memmove(&self->pend[0], &self->pend[1], (PEERWATCH_PENDING - 1) * sizeof self->pend[0]);
        self->npend--;
    }
    s_pending_t *p = &self->pend[self->npend++];
    p->fd = fd;
    snprintf(p->addr, sizeof p->addr, "%s", addr ? addr : "");
}

static void s_remove(peerwatch_t *self, size_t i)
{
    memmove(&self->pend[i], &self->pend[i + 1], (self->npend - i - 1) * sizeof self->pend[0]);
    self->npend--;
}

bool peerwatch_handshake_done(peerwatch_t *self, char *addr, size_t len)
{
    if (len)
        addr[0] = '\0';
    if (self->npend == 0)
        return false;
    snprintf(addr, len, "%s", self->pend[0].addr);
    s_remove(self, 0);
    return true;
}

void peerwatch_closed(peerwatch_t *self, int fd)
{
    for (size_t i = 0; i < self->npend; i++)
        if (self->pend[i].fd == fd) {
            s_remove(self, i);
            return;
        }
}
