/* archive_sync — the archive's durable half (see archive.h, arch_sync_*,
 * and docs/archive.md): every second what rrdcached accepted is made
 * durable by FLUSHALL, then each file written since the last sync is read
 * until its header shows the rows (collector/rrdhead; INFO where the file
 * cannot be read here), and while the writer stops making progress on them
 * a FLUSH per file for the rest (a few rounds), many commands in flight on
 * connections of its own (collector/rrdpipe) run by a thread with its own
 * event base, so the collector's busy loop does not pace rrdcached's
 * replies. The result comes back to the loop through an
 * eventfd; the thread touches nothing of the loop's but the job it is
 * handed. Also the blocking arch_sync (at exit). Times are Unix ms: rows of
 * sub-second intervals end within one second. */
#include "archive_int.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "rrdhead.h"
#include "timeutil.h"
#include "vec.h"

typedef struct sync_item {
    archive_t *self;
    guard_t *g;
    int64_t need;       /* what rrdcached had accepted when the sync started */
    bool retry;         /* not seen on disk yet */
    bool lost;          /* not on disk after its own FLUSH */
    bool ask;           /* the file cannot be read here: INFO tells */
} sync_item_t;

static int s_sync_send(archive_t *self, bool flush_each);
static void s_next_round(evutil_socket_t fd, short what, void *arg);
static void s_poll(evutil_socket_t fd, short what, void *arg);

static void s_sync_fail(archive_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first reason is the one reported. */
static void s_sync_fail(archive_t *self, const char *fmt, ...)
{
    if (self->sync_failed)
        return;
    self->sync_failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->sync_why, sizeof self->sync_why, fmt, ap);
    va_end(ap);
}

/* The items' files are pending again — unless a new connection made every
 * pending sync moot meanwhile. */
static void s_sync_requeue(archive_t *self)
{
    if (self->wipes != self->sync_wipes)
        return;
    for (size_t i = 0; i < self->nitems; i++) {
        guard_t *g = self->items[i].g;
        if (g->dirty)
            continue;
        if (VEC_RESERVE(self->dirty, self->dcap, self->ndirty + 1) != 0) {
            /* Cannot remember it: pretend rrdcached restarted. */
            log_error("archive: out of memory keeping unsynced files");
            self->generation++;
            return;
        }
        self->dirty[self->ndirty++] = g;
        g->dirty = true;
    }
}

/* The loop's side of the end of a sync: what the thread found. */
static void s_sync_finish(archive_t *self)
{
    bool lost = false;
    for (size_t i = 0; i < self->nitems; i++)
        lost = lost || self->items[i].lost;
    if (!self->sync_detached) {
        if (lost) {
            log_error("archive: %s", self->sync_why);
            /* Lost rows: every guard may be ahead of what rrdcached has. */
            arch_forget_all(self);
        }
        if (!self->sync_failed && self->generation != self->sync_gen)
            s_sync_fail(self, "rrdcached may have lost accepted rows during the sync");
        if (self->sync_failed)
            s_sync_requeue(self);
    }
    arch_synced_fn *done = self->sync_detached ? NULL : self->sync_done;
    void *arg = self->sync_arg;
    int rc = self->sync_failed ? -1 : 0;
    log_debug("archive: sync of %zu file(s) %s in %lld ms", self->nitems,
              rc ? "failed" : "done", (long long)(tu_mono_ms() - self->sync_started_ms));
    char why[sizeof self->sync_why];
    snprintf(why, sizeof why, "%s", self->sync_failed ? self->sync_why : "");
    free(self->items);
    self->items = NULL;
    self->nitems = 0;
    self->sync_done = NULL;
    if (done)
        done(arg, rc, why);
}

/* Every reply answered and the polling over (on the sync thread, or on the
 * loop before the handoff when nothing could be sent). A second round
 * FLUSHes each file the first did not find written, then reads it (or asks
 * INFO): the exact check. */
static void s_sync_settle(archive_t *self)
{
    if (self->owed > 0 || self->sync_starting || self->sync_polling)
        return;
    bool stragglers = false;
    for (size_t i = 0; i < self->nitems && !stragglers; i++)
        stragglers = self->items[i].retry;
    if (stragglers && !self->sync_failed && self->sync_round < ARCH_SYNC_ROUNDS) {
        self->sync_round++;
        struct timeval pause = { 0, ARCH_SYNC_PAUSE_MS * 1000 };
        if (event_base_once(self->wbase, -1, EV_TIMEOUT, s_next_round, self, &pause) == 0)
            return;
        s_sync_fail(self, "cannot schedule the next round of a sync");
    }
    self->job_end = true;
}

static void s_next_round(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    archive_t *self = arg;
    s_sync_send(self, true);
    s_sync_settle(self);
}

/* What a file's last update on disk says of an item: written, not yet
 * (another round), or lost after the last. */
static void s_judge(archive_t *self, sync_item_t *it, int64_t on_disk)
{
    if (on_disk >= it->need) {
        it->retry = false;
    } else if (self->sync_round < ARCH_SYNC_ROUNDS) {
        /* Not written yet, or being written: rrdcached answers FLUSH at
         * once for a file its writer has taken but not finished. */
        it->retry = true;
    } else {
        /* rrdcached took the rows but could not write them (or lost them):
         * they must come again, as in arch_sync. */
        s_sync_fail(self, "%s: written through %lld ms, rows through %lld ms were accepted: "
                    "rrdcached could not write them", it->g->path, (long long)on_disk,
                    (long long)it->need);
        it->lost = true;
    }
}

/* Read the item's file here; 0 when judged, -1 when rrdcached must be
 * asked instead (then it always is for this item). */
static int s_check_file(archive_t *self, sync_item_t *it)
{
    int64_t last;
    char why[120];
    int rc = rrdhead_last_update_ms(it->g->path, &last, why, sizeof why);
    if (rc == 0) {
        s_judge(self, it, last);
        return 0;
    }
    if (!self->sync_asking)
        log_warn("archive: %s: %s: the sync asks rrdcached (INFO) instead", it->g->path,
                 rc == -2 ? why : strerror(errno));
    self->sync_asking = true;
    it->ask = true;
    return -1;
}

static void s_on_info(void *arg, const rrdcc_reply_t *r);

static int s_send_info(archive_t *self, rrdpipe_t *p, sync_item_t *it)
{
    char line[PATH_MAX + 16];
    snprintf(line, sizeof line, "INFO %s", it->g->path);
    if (rrdpipe_send(p, line, s_on_info, it) != 0) {
        s_sync_fail(self, "rrdcached INFO %s: %s", it->g->path, rrdpipe_error(p));
        return -1;
    }
    self->owed++;
    return 0;
}

static rrdpipe_t *s_pipe_of(archive_t *self, const sync_item_t *it)
{
    return self->pipes[(size_t)(it - self->items) % ARCH_SYNC_PIPES];
}

/* rrdcached's order (its cache tree compares names with strcmp). */
static int s_item_cmp(const void *a, const void *b)
{
    return strcmp(((const sync_item_t *)a)->g->path, ((const sync_item_t *)b)->g->path);
}

static void s_on_flushall(void *arg, const rrdcc_reply_t *r)
{
    archive_t *self = arg;
    if (!r)
        s_sync_fail(self, "rrdcached FLUSHALL: %s", rrdpipe_error(self->pipes[0]));
    else if (r->status < 0)
        s_sync_fail(self, "rrdcached FLUSHALL: %s", r->message);
    self->owed--;
    if (!self->sync_failed) {
        self->sync_polling = true;
        self->poll_front = self->poll_sweep = 0;
        self->poll_progress_ms = tu_mono_ms();
        s_poll(-1, 0, self);
    }
    s_sync_settle(self);
}

/* Not yet seen written, and read here (not by INFO). */
static bool s_waiting(const sync_item_t *it)
{
    return it->retry && !it->ask;
}

/* Read a waiting item's file: 1 when it is written now. */
static int s_poll_one(archive_t *self, sync_item_t *it)
{
    if (s_check_file(self, it) != 0) {
        (void)s_send_info(self, s_pipe_of(self, it), it);
        return 0;
    }
    return !it->retry;
}

/* The files from the first not yet written on, until MISSES in a row are
 * not written either (all of them when full); then SWEEP more from where
 * the last sweep ended. Returns how many were found written. */
static size_t s_poll_files(archive_t *self, bool full)
{
    size_t found = 0, misses = 0, n = self->nitems;
    for (size_t i = self->poll_front; i < n && (full || misses < ARCH_SYNC_POLL_MISSES) &&
                                      !self->sync_failed; i++) {
        sync_item_t *it = &self->items[i];
        if (!s_waiting(it))
            continue;
        int w = s_poll_one(self, it);
        found += (size_t)w;
        misses = w ? 0 : misses + 1;
    }
    for (size_t k = 0, read = 0; !full && k < n && read < ARCH_SYNC_POLL_SWEEP &&
                                 !self->sync_failed; k++) {
        sync_item_t *it = &self->items[self->poll_sweep];
        self->poll_sweep = (self->poll_sweep + 1) % n;
        if (!s_waiting(it))
            continue;
        read++;
        found += (size_t)s_poll_one(self, it);
    }
    while (self->poll_front < n && !s_waiting(&self->items[self->poll_front]))
        self->poll_front++;
    return found;
}

/* The first round: the writer works through what FLUSHALL queued; read the
 * files every ARCH_SYNC_POLL_MS while it makes progress on them (see
 * ARCH_SYNC_POLL_MISSES). A FLUSH per file instead would wait for the
 * writer under rrdcached's cache lock, which a flood of updates holds most
 * of the time (measured at 20 files/s). When no file was found written for
 * ARCH_SYNC_STALL_MS and a reading of all of them finds none either, the
 * rest get their own FLUSH (the next round). */
static void s_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    archive_t *self = arg;
    int64_t now = tu_mono_ms();
    bool full = now - self->poll_progress_ms >= ARCH_SYNC_STALL_MS;
    size_t found = s_poll_files(self, full);
    if (found > 0)
        self->poll_progress_ms = now;
    bool waiting = self->poll_front < self->nitems;
    struct timeval pause = { 0, ARCH_SYNC_POLL_MS * 1000 };
    if (waiting && !self->sync_failed && !(full && found == 0) &&
        event_base_once(self->wbase, -1, EV_TIMEOUT, s_poll, self, &pause) == 0)
        return;
    self->sync_polling = false;
    s_sync_settle(self);
}

/* A straggler's own FLUSH came back: rrdcached wrote it (or says why not). */
static void s_on_flush(void *arg, const rrdcc_reply_t *r)
{
    sync_item_t *it = arg;
    archive_t *self = it->self;
    if (!r)
        s_sync_fail(self, "rrdcached FLUSH %s: %s", it->g->path, rrdpipe_error(s_pipe_of(self, it)));
    else if (r->status < 0)
        s_sync_fail(self, "rrdcached FLUSH %s: %s", it->g->path, r->message);
    else if (!it->ask && s_check_file(self, it) != 0)
        (void)s_send_info(self, s_pipe_of(self, it), it);
    self->owed--;
    s_sync_settle(self);
}

static void s_on_info(void *arg, const rrdcc_reply_t *r)
{
    sync_item_t *it = arg;
    archive_t *self = it->self;
    int64_t on_disk = INT64_MIN;
    for (size_t i = 0; r && r->status >= 0 && i < r->nlines; i++) {
        /* "last_update 1 1700000180" */
        if (strncmp(r->lines[i], "last_update ", 12) != 0)
            continue;
        const char *v = strchr(r->lines[i] + 12, ' ');
        if (v)   /* whole seconds: a lower bound of the ms last update */
            on_disk = strtoll(v + 1, NULL, 10) * 1000;
        break;
    }
    if (!r || on_disk == INT64_MIN)
        s_sync_fail(self, "rrdcached INFO %s: %s", it->g->path,
                    r ? r->message : "connection lost");
    else
        s_judge(self, it, on_disk);
    self->owed--;
    s_sync_settle(self);
}

bool arch_sync_running(const archive_t *self) { return self->items != NULL; }

int arch_last_written(archive_t *self, const char *path, int64_t *last_ms)
{
    char why[120];
    if (rrdhead_last_update_ms(path, last_ms, why, sizeof why) == 0)
        return 0;
    /* INFO's last_update is whole seconds: a row later in that second
     * reads as not yet written (another round, a resend at worst), never
     * the other way round. */
    int64_t s;
    if (rrdcc_last_update(self->rc, path, &s) != 0)
        return -1;
    *last_ms = s * 1000;
    return 0;
}

int arch_sync(archive_t *self, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (self->ndirty == 0)
        return 0;
    /* Only the connection the rows were accepted on can vouch for them. */
    int link = arch_link(self);
    if (link != 0) {
        arch_why(why, whylen, link < 0 ? "rrdcached: %s" : "rrdcached restarted (%s): rows "
              "accepted since the last sync may be lost", rrdcc_error(self->rc));
        return -1;
    }
    size_t done = 0;
    int rc = 0;
    for (; done < self->ndirty; done++) {
        guard_t *g = self->dirty[done];
        int64_t on_disk = 0;
        if (rrdcc_flush(self->rc, g->path) != 0 || arch_last_written(self, g->path, &on_disk) != 0) {
            arch_why(why, whylen, "rrdcached FLUSH %s: %s", g->path, rrdcc_error(self->rc));
            rc = -1;
            break;
        }
        if (on_disk < g->accepted) {
            /* rrdcached took the rows but could not write them (it drops
             * them): they must come again. */
            arch_why(why, whylen, "%s: written through %lld ms, rows through %lld ms were accepted: "
                  "rrdcached could not write them", g->path, (long long)on_disk,
                  (long long)g->accepted);
            log_error("archive: %s", why ? why : "rows lost in rrdcached");
            g->known = false;
            self->generation++;
            rc = -1;
            break;
        }
        g->dirty = false;
    }
    if (done > 0) {
        memmove(self->dirty, self->dirty + done, (self->ndirty - done) * sizeof *self->dirty);
        self->ndirty -= done;
    }
    (void)arch_generation(self);   /* a connection lost meanwhile: guards forgotten */
    return rc;
}

/* Wakes the thread's loop now and then so it sees stop. */
static void s_wtick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void *s_worker(void *arg)
{
    archive_t *self = arg;
    pthread_mutex_lock(&self->mu);
    pthread_setname_np(pthread_self(), "poe-arch-sync");   /* top -H, perf sched */
    for (;;) {
        while (!self->job && !self->stop)
            pthread_cond_wait(&self->cv, &self->mu);
        if (self->stop)
            break;
        pthread_mutex_unlock(&self->mu);
        /* The job is ours until job_end: only this thread touches it. */
        bool stop = false;
        while (!self->job_end && !stop) {
            event_base_loop(self->wbase, EVLOOP_ONCE);
            pthread_mutex_lock(&self->mu);
            stop = self->stop;
            pthread_mutex_unlock(&self->mu);
        }
        pthread_mutex_lock(&self->mu);
        self->job = false;
        uint64_t one = 1;
        if (write(self->done_fd, &one, sizeof one) < 0)
            log_error("archive: cannot signal the end of a sync: %s", strerror(errno));
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* On the loop: the thread is done with the job. */
static void s_on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    archive_t *self = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0)
        return;
    pthread_mutex_lock(&self->mu);
    bool mine = !self->job && self->items;
    pthread_mutex_unlock(&self->mu);
    if (mine)
        s_sync_finish(self);
}

static int s_worker_start(archive_t *self, struct event_base *base)
{
    if (self->worker_up)
        return 0;
    self->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    self->wbase = event_base_new();
    if (self->done_fd < 0 || !self->wbase)
        return -1;
    struct timeval tick = { 0, 100000 };
    self->wtick = event_new(self->wbase, -1, EV_PERSIST, s_wtick, self);
    self->ev_done = event_new(base, self->done_fd, EV_READ | EV_PERSIST, s_on_done, self);
    if (!self->wtick || !self->ev_done || event_add(self->wtick, &tick) != 0 ||
        event_add(self->ev_done, NULL) != 0)
        return -1;
    if (pthread_create(&self->worker, NULL, s_worker, self) != 0)
        return -1;
    self->worker_up = true;
    return 0;
}

void arch_sync_stop(archive_t *self)
{
    if (self->worker_up) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_cond_signal(&self->cv);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->worker, NULL);
        self->worker_up = false;
    }
    for (int i = 0; i < ARCH_SYNC_PIPES; i++)
        rrdpipe_destroy(&self->pipes[i]);   /* the last replies end the job */
    if (self->items)
        s_sync_finish(self);                /* detached: only frees it */
    if (self->wtick)
        event_free(self->wtick);
    if (self->ev_done)
        event_free(self->ev_done);
    if (self->wbase)
        event_base_free(self->wbase);
    if (self->done_fd >= 0)
        close(self->done_fd);
}

/* A round of the sync. The first asks rrdcached to write everything it
 * holds (FLUSHALL returns at once; its writer writes the files one after
 * the other) and then reads the files (s_poll). Later ones (flush_each)
 * FLUSH each file not yet found written, then read it — or, for a file
 * that cannot be read here, ask INFO on the same connection, answered
 * after the FLUSH. */
static int s_sync_send(archive_t *self, bool flush_each)
{
    char line[PATH_MAX + 16];
    self->sync_starting = true;
    if (!flush_each) {
        if (rrdpipe_send(self->pipes[0], "FLUSHALL", s_on_flushall, self) == 0)
            self->owed++;
        else
            s_sync_fail(self, "rrdcached FLUSHALL: %s", rrdpipe_error(self->pipes[0]));
    }
    for (size_t i = 0; flush_each && i < self->nitems && !self->sync_failed; i++) {
        sync_item_t *it = &self->items[i];
        if (!it->retry)
            continue;
        rrdpipe_t *p = s_pipe_of(self, it);
        snprintf(line, sizeof line, "FLUSH %s", it->g->path);
        if (rrdpipe_send(p, line, s_on_flush, it) != 0) {
            s_sync_fail(self, "rrdcached FLUSH %s: %s", it->g->path, rrdpipe_error(p));
            break;
        }
        self->owed++;
        if (it->ask && s_send_info(self, p, it) != 0)
            break;
    }
    self->sync_starting = false;
    return self->sync_failed ? -1 : 0;
}

/* The sync's connections. One may reach a restarted rrdcached before the
 * archive's own connection noticed the restart; that is safe: rows the old
 * process lost show in INFO (then every guard is forgotten, below), and
 * rows it did not lose are on disk. */
static int s_sync_pipes(archive_t *self, struct event_base *base, char *why, size_t whylen)
{
    if (s_worker_start(self, base) != 0) {
        arch_why(why, whylen, "cannot start the sync thread");
        return -1;
    }
    for (int i = 0; i < ARCH_SYNC_PIPES; i++) {
        if (!self->pipes[i] && !(self->pipes[i] = rrdpipe_new(self->wbase, rrdcc_address(self->rc),
                                                              ARCH_SYNC_TIMEOUT_MS))) {
            arch_why(why, whylen, "cannot make a pipelined rrdcached client");
            return -1;
        }
        if (rrdpipe_connect(self->pipes[i]) != 0) {
            arch_why(why, whylen, "rrdcached: %s", rrdpipe_error(self->pipes[i]));
            return -1;
        }
    }
    return 0;
}

void arch_sync_cancel(archive_t *self)
{
    if (!self->items || self->sync_detached)
        return;
    s_sync_requeue(self);
    self->sync_detached = true;
    self->sync_done = NULL;
}

int arch_sync_start(archive_t *self, struct event_base *base, arch_synced_fn *done, void *arg,
                    char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (self->items) {
        arch_why(why, whylen, "a sync is still running");
        return -1;
    }
    if (self->ndirty == 0)
        return 1;
    int link = arch_link(self);
    if (link != 0) {
        arch_why(why, whylen, link < 0 ? "rrdcached: %s" : "rrdcached restarted (%s): rows "
              "accepted since the last sync may be lost", rrdcc_error(self->rc));
        return -1;
    }
    if (s_sync_pipes(self, base, why, whylen) != 0)
        return -1;
    self->items = calloc(self->ndirty, sizeof *self->items);
    if (!self->items) {
        arch_why(why, whylen, "out of memory");
        return -1;
    }
    self->nitems = self->ndirty;
    self->owed = 0;
    self->sync_failed = self->sync_detached = self->sync_polling = false;
    self->sync_gen = self->generation;
    self->sync_wipes = self->wipes;
    self->sync_done = done;
    self->sync_arg = arg;
    self->sync_starting = true;
    self->sync_started_ms = tu_mono_ms();
    /* The dirty list becomes the sync's: files committed from now on are
     * dirty again and wait for the next sync. */
    for (size_t i = 0; i < self->nitems; i++) {
        guard_t *g = self->dirty[i];
        self->items[i] = (sync_item_t){ self, g, g->accepted, true, false, false };
        g->dirty = false;
    }
    /* In the order rrdcached's writer takes them (s_poll), sorted here,
     * before the sync thread sees them: the loop may read them meanwhile
     * (arch_sync_cancel), so they never move once the sync runs. */
    qsort(self->items, self->nitems, sizeof *self->items, s_item_cmp);
    self->ndirty = 0;
    self->sync_round = 1;
    self->job_end = false;
    s_sync_send(self, false);
    if (self->sync_failed && self->owed == 0) {
        arch_why(why, whylen, "%s", self->sync_why);
        self->sync_done = NULL;   /* not called: the caller has the answer */
        s_sync_finish(self);
        return -1;
    }
    pthread_mutex_lock(&self->mu);
    self->job = true;
    pthread_cond_signal(&self->cv);
    pthread_mutex_unlock(&self->mu);
    return 0;
}

