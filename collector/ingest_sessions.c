/* ingest_sessions — the sessions file after each durable sync, written off
 * the loop (see ingest_int.h). An fsync on the loop held every agent's
 * batch for as long as the disk took: 141 and 653 ms measured while
 * rrdcached wrote (docs/performance.md §1o). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgjob.h"
#include "ingest_int.h"
#include "log.h"
#include "session.h"

/* The durable point of each session the last sync covered: the acked seq
 * at the sync's start, or less if the session went back since (a
 * rollback). Sessions of another epoch now are left alone. Into
 * self->save; the number that moved. */
static size_t s_prepare(ingest_t *self)
{
    size_t n = sess_count(self->sessions), moved = 0;
    uint64_t *durable = malloc((n ? n : 1) * sizeof *durable);
    uint64_t *epoch = malloc((n ? n : 1) * sizeof *epoch);
    if (!durable || !epoch) {   /* nothing moves; the next sync tries again */
        free(durable);
        free(epoch);
        self->save.n = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const sess_t *s = sess_at(self->sessions, i);
        durable[i] = s->durable_seq;
        epoch[i] = s->epoch;
    }
    for (size_t i = 0; i < self->nsnap; i++) {
        const acked_snap_t *a = &self->snap[i];
        const sess_t *s = sess_find(self->sessions, a->crossing, a->dir);
        if (!s || s->epoch != a->epoch)
            continue;
        size_t k = (size_t)(s - sess_at(self->sessions, 0));
        uint64_t to = a->acked < s->acked_seq ? a->acked : s->acked_seq;
        if (k < n && to > durable[k]) {
            durable[k] = to;
            moved++;
        }
    }
    self->save.durable = durable;
    self->save.epoch = epoch;
    self->save.n = n;
    return moved;
}

static void s_write(void *arg)
{
    ingest_t *self = arg;
    self->save.rc = self->save.text
                        ? sess_write_file(self->ctx.sessions_path, self->save.text, self->save.len)
                        : -1;
}

/* On the loop once the file is on disk (or failed: then nothing moves, and
 * the next sync tries again). */
static void s_written(void *arg)
{
    ingest_t *self = arg;
    for (size_t i = 0; self->save.rc == 0 && i < self->save.n; i++) {
        sess_t *s = sess_at_mut(self->sessions, i);
        if (!s || s->epoch != self->save.epoch[i])
            continue;   /* a new agent run since: its own points */
        uint64_t to = self->save.durable[i] < s->acked_seq ? self->save.durable[i] : s->acked_seq;
        if (to > s->durable_seq)
            s->durable_seq = to;
    }
    free(self->save.durable);
    free(self->save.epoch);
    free(self->save.text);
    self->save.durable = self->save.epoch = NULL;
    self->save.text = NULL;
    self->save.n = 0;
}

/* Without a file: the points move at once. */
static void s_apply_now(ingest_t *self)
{
    s_prepare(self);
    self->save.rc = 0;
    s_written(self);
}

int ingest_sessions_synced(ingest_t *self, bool blocking)
{
    if (!self->ctx.sessions_path) {
        s_apply_now(self);
        return 0;
    }
    if (blocking)
        ingest_sessions_stop(self);   /* a write still running lands first */
    else if (self->saver && bgjob_busy(self->saver))
        return 0;                     /* the next sync covers these points */
    if (s_prepare(self) == 0) {
        s_written(self);              /* nothing moved: nothing to write */
        return 0;
    }
    self->save.text = sess_text(self->sessions, self->save.durable, &self->save.len);
    if (!blocking && !self->saver && !(self->saver = bgjob_new(self->base, "poe-sessions")))
        log_warn("sessions: no thread to write them (%s): written on the loop", strerror(errno));
    if (!blocking && self->saver && bgjob_run(self->saver, s_write, s_written, self) == 0)
        return 0;
    s_write(self);
    int rc = self->save.rc;
    s_written(self);
    return rc;
}

void ingest_sessions_stop(ingest_t *self)
{
    bgjob_destroy(&self->saver);   /* calls s_written of a write still running */
}
