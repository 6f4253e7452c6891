/* archive — see archive.h and docs/archive.md.
 *
 * Owns the file layout, the RRD definitions of both profiles, the per-file
 * time guard (a hash table keyed by absolute path), the staged BATCH and
 * fetches. All rrdcached traffic goes through rrdcc; making accepted rows
 * durable is collector/archive_sync.c (the struct both share is in
 * archive_int.h). */
#include "archive_int.h"

#include <assert.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "log.h"
#include "numfmt.h"
#include "rrdcc.h"
#include "rrdpipe.h"
#include "timeutil.h"
#include "vec.h"



void arch_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* ---- RRD definitions --------------------------------------------------------- */

/* Column order of arch_series_t, which is also the order rows are sent in. */
enum { S_QUEUE, S_LANE, S_OFFICIAL };   /* kinds of RRD file */

static const char *const s_queue_ds[] = {
    "DS:arrivals:ABSOLUTE:180:0:U",
    "DS:departures:ABSOLUTE:180:0:U",
    "DS:lanes_open:GAUGE:180:0:U",
    "DS:queue:GAUGE:180:0:U",
    "DS:wait_s:GAUGE:180:0:U",
};
/* Official values arrive every few minutes (the importer's interval): a
 * heartbeat of 15 min keeps a series continuous across a missed poll or
 * two and leaves a gap when the feed is really away. */
static const char *const s_official_ds[] = {
    "DS:wait_s:GAUGE:900:0:U",
    "DS:lanes_open:GAUGE:900:0:U",
    "DS:updated:GAUGE:900:0:U",
    "DS:age_s:GAUGE:900:U:U",
    "DS:status:GAUGE:900:0:U",   /* enum off_status: the audit counts "Update Pending" */
};
static const char *const s_lane_ds[] = {
    "DS:departures:ABSOLUTE:180:0:U",
    "DS:open:GAUGE:180:0:1",
};
/* MAX of a single 1-minute PDP equals its AVERAGE, so MAX is kept only
 * where rows consolidate several minutes. */
static const char *const s_full_rra[] = {
    "RRA:AVERAGE:0.5:1:11520",      /* 1 min x 8 d */
    "RRA:AVERAGE:0.5:5:10080",      /* 5 min x 35 d */
    "RRA:MAX:0.5:5:10080",
    "RRA:AVERAGE:0.5:60:17520",     /* 1 h x 730 d */
    "RRA:MAX:0.5:60:17520",
    "RRA:AVERAGE:0.5:1440:3653",    /* 1 d x 10 y */
    "RRA:MAX:0.5:1440:3653",
};
static const char *const s_compact_rra[] = {
    "RRA:AVERAGE:0.5:1:1440",       /* 1 min x 1 d */
    "RRA:AVERAGE:0.5:60:840",       /* 1 h x 35 d */
    "RRA:MAX:0.5:60:840",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* FETCH asks for the columns in arch_series_t order. */
static const char *const s_fetch_cols[ARCH_NCOLS] = {
    "wait_s", "arrivals", "departures", "lanes_open", "queue"
};

/* ---- lifecycle --------------------------------------------------------------------- */

static int s_mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = c;
        if (c == '\0')
            return 0;
    }
}

archive_t *arch_new(const char *rrdcached, const char *dir, enum arch_profile profile)
{
    if (!dir || !*dir || s_mkdir_p(dir) != 0) {
        log_error("archive: cannot create %s: %s", dir ? dir : "(null)", strerror(errno));
        return NULL;
    }
    archive_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("archive: out of memory");
        return NULL;
    }
    self->profile = profile;
    self->gen = 1;
    self->done_fd = -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    self->root = realpath(dir, NULL);
    if (!self->root) {
        log_error("archive: %s: %s", dir, strerror(errno));
        goto fail;
    }
    /* rrdcached splits commands on blanks, so the root must have none. */
    if (strpbrk(self->root, " \t\r\n")) {
        log_error("archive: directory must not contain blanks: \"%s\"", self->root);
        goto fail;
    }
    self->rc = rrdcc_new(rrdcached, ARCH_TIMEOUT_MS);
    self->qcache = calloc(ARCH_QCACHE, sizeof *self->qcache);
    if (!self->rc || !self->qcache || arch_guards_init(self) != 0)
        goto fail;
    rrdcc_set_autoconnect(self->rc, false);
    /* Not fatal: the collector may start before rrdcached; every later
     * call reconnects. rrdcc has logged the failure. */
    if (arch_link(self) >= 0)
        (void)rrdcc_ping(self->rc);
    return self;
fail:
    arch_destroy(&self);
    return NULL;
}

void arch_destroy(archive_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    archive_t *self = *self_p;
    arch_sync_cancel(self);
    arch_sync_stop(self);
    pthread_mutex_destroy(&self->mu);
    pthread_cond_destroy(&self->cv);
    rrdcc_destroy(&self->rc);
    arch_guards_free(self);
    free(self->qcache);
    free(self->dirty);
    free(self->root);
    free(self->stage);
    free(self->touched);
    for (size_t i = 0; i < ARCH_FLIGHTS_MAX; i++) {
        free(self->flights[i].buf);
        free(self->flights[i].guards);
    }
    free(self);
    *self_p = NULL;
}

bool arch_connected(const archive_t *self)
{
    return self->rc && rrdcc_connected(self->rc);
}

/* ---- paths -------------------------------------------------------------------------- */

/* Ids become path components and words of a protocol line. */
static bool s_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > ARCH_NAME_MAX || s[0] == '.')
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

static int s_queue_path(const archive_t *self, const char *crossing, enum tax_dir dir,
                        enum tax_mode mode, enum tax_type type, char *out, size_t len)
{
    if (!s_name_ok(crossing) || !tax_dir_valid(dir) || !tax_mode_valid(mode) ||
        !tax_type_valid(type)) {
        log_warn("archive: bad queue name %s/%d/%d-%d", crossing ? crossing : "(null)",
                 (int)dir, (int)mode, (int)type);
        return -1;
    }
    int n = snprintf(out, len, "%s/%s/%s/%s-%s.rrd", self->root, crossing, tax_dir_name(dir),
                     tax_mode_name(mode), tax_type_name(type));
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static int s_lane_path(const archive_t *self, const char *crossing, enum tax_dir dir,
                       const char *lane_id, char *out, size_t len)
{
    if (!s_name_ok(crossing) || !tax_dir_valid(dir) || !s_name_ok(lane_id)) {
        log_warn("archive: bad lane name %s/%d/%s", crossing ? crossing : "(null)", (int)dir,
                 lane_id ? lane_id : "(null)");
        return -1;
    }
    int n = snprintf(out, len, "%s/%s/%s/lane-%s.rrd", self->root, crossing, tax_dir_name(dir),
                     lane_id);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* ---- the connection the guards belong to --------------------------------------------- */

/* After rrdcached came back, no guard or pending sync can be trusted: what
 * it had cached may be gone. A batch being staged was judged by those
 * guards, so it may not go out either. */
void arch_forget_all(archive_t *self)
{
    for (size_t i = 0; i < self->cap; i++)
        if (self->slots[i])
            self->slots[i]->known = self->slots[i]->dirty = false;
    self->ndirty = 0;
    self->generation++;
    self->wipes++;
    self->stage_void = self->ntouched > 0;
}

static void s_check_connection(archive_t *self)
{
    uint64_t c = rrdcc_connects(self->rc);
    if (c == self->seen_connects)
        return;
    if (self->seen_connects != 0) {
        arch_forget_all(self);
        log_warn("archive: rrdcached connection re-established: unsynced rows may be lost, "
                 "re-reading every file's last update");
    }
    self->seen_connects = c;
}

int arch_link(archive_t *self)
{
    s_check_connection(self);
    if (rrdcc_connected(self->rc))
        return 0;
    if (rrdcc_connect(self->rc) != 0)
        return -1;
    s_check_connection(self);
    return 1;
}

/* ---- learning a file's last update -------------------------------------------------- */

/* rrdcached's CREATE error text is often empty ("RRD Error: "): say what
 * we can see ourselves, which is usually a full disk. Logged once per
 * distinct reason so a retrying agent does not flood the log. */
static void s_create_failed(archive_t *self, const char *dir)
{
    struct statvfs vfs;
    char why[sizeof self->last_error];
    if (statvfs(dir, &vfs) == 0 && vfs.f_bavail * vfs.f_frsize < ARCH_MIN_FREE_BYTES)
        snprintf(why, sizeof why, "cannot create RRD files in %.200s: No space left on device "
                 "(%llu bytes free); acknowledgements wait until there is room", dir,
                 (unsigned long long)(vfs.f_bavail * vfs.f_frsize));
    else
        snprintf(why, sizeof why, "rrdcached refused CREATE in %.200s: %.150s", dir,
                 rrdcc_error(self->rc));
    if (strcmp(why, self->last_error) != 0)
        log_error("archive: %s", why);
    snprintf(self->last_error, sizeof self->last_error, "%s", why);
}

static int s_create(archive_t *self, const char *path, int kind, int64_t start)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (s_mkdir_p(dir) != 0) {
        log_error("archive: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    const char *defs[NELEM(s_queue_ds) + NELEM(s_full_rra)];
    size_t n = 0;
    const char *const *ds = kind == S_LANE ? s_lane_ds : kind == S_OFFICIAL ? s_official_ds : s_queue_ds;
    size_t nds = kind == S_LANE       ? NELEM(s_lane_ds)
                 : kind == S_OFFICIAL ? NELEM(s_official_ds)
                                      : NELEM(s_queue_ds);
    const char *const *rra = self->profile == ARCH_FULL ? s_full_rra : s_compact_rra;
    size_t nrra = self->profile == ARCH_FULL ? NELEM(s_full_rra) : NELEM(s_compact_rra);
    for (size_t i = 0; i < nds; i++)
        defs[n++] = ds[i];
    for (size_t i = 0; i < nrra; i++)
        defs[n++] = rra[i];
    /* -O: never clobber a file someone else created meanwhile. */
    if (arch_link(self) < 0 || rrdcc_create(self->rc, path, start, ARCH_STEP, true, defs, n) != 0) {
        if (rrdcc_connected(self->rc))
            s_create_failed(self, dir);
        return -1;
    }
    return 0;
}

/* Last update (ms) of an existing file, good enough to decide about a row
 * at t_ms. LAST is cheap (rrdcached's cache, no disk write) but rounded down
 * to the step; when that leaves t_ms in doubt, FLUSH writes the pending
 * updates and the file's header gives the exact time, to the fraction of a
 * second (two rows of 500-ms intervals end in the same second). */
static int s_learn(archive_t *self, const char *path, int64_t t_ms, int64_t *last)
{
    int64_t floor_last;
    if (arch_link(self) < 0 || rrdcc_last(self->rc, path, &floor_last) != 0)
        goto fail;
    if (t_ms >= (floor_last + ARCH_STEP) * 1000) {
        *last = floor_last * 1000;   /* t_ms is newer; staging it makes the guard exact */
        return 0;
    }
    if (rrdcc_flush(self->rc, path) != 0 || arch_last_written(self, path, last) != 0)
        goto fail;
    return 0;
fail:
    if (rrdcc_connected(self->rc))
        log_error("archive: %s", rrdcc_error(self->rc));
    return -1;
}

/* Make g known for a row at t_ms: from rrdcached for an existing file, by
 * creating the file (starting at start_s, Unix seconds) otherwise. */
static int s_guard_ready(archive_t *self, guard_t *g, int kind, int64_t t_ms, int64_t start_s)
{
    if (g->known)
        return 0;
    struct stat st;
    if (stat(g->path, &st) == 0) {
        if (s_learn(self, g->path, t_ms, &g->last) != 0)
            return -1;
    } else if (errno == ENOENT) {
        if (s_create(self, g->path, kind, start_s) != 0)
            return -1;
        g->last = start_s * 1000;
    } else {
        log_error("archive: %s: %s", g->path, strerror(errno));
        return -1;
    }
    g->known = true;
    return 0;
}

/* ---- staging ---------------------------------------------------------------------------- */

static int s_touch(archive_t *self, guard_t *g)
{
    if (g->gen == self->gen)
        return 0;
    if (VEC_RESERVE(self->touched, self->tcap, self->ntouched + 1) != 0)
        return -1;
    self->touched[self->ntouched++] = g;
    g->gen = self->gen;
    return 0;
}

static void s_fmt_gauge(char *buf, size_t len, double v)
{
    if (isfinite(v))
        snprintf(buf, len, "%.10g", v);
    else
        snprintf(buf, len, "U");
}

/* One data set per UPDATE: rrdcached stops a command at its first stale
 * value but keeps the values before it, which a retry could not undo. The
 * line is put together by hand: this runs for every sample. */
static int s_stage_guard(archive_t *self, guard_t *g, int kind, int64_t t_ms, uint32_t interval_ms,
                         const char *values, size_t vn)
{
    /* CREATE takes whole seconds: the second at or before the interval's
     * start (the interval's own start for whole-second intervals). */
    int64_t from = t_ms - (interval_ms > 0 ? (int64_t)interval_ms : 1000);
    int64_t start = from / 1000 - (from % 1000 < 0);
    if (s_guard_ready(self, g, kind, t_ms, start) != 0)
        return -1;
    if (self->stage_void) {
        snprintf(self->last_error, sizeof self->last_error,
                 "rrdcached restarted while the batch was prepared: send it again");
        return -1;
    }
    if (t_ms <= g->last)
        return 0;
    size_t plen = strlen(g->path);
    if (s_touch(self, g) != 0 ||
        VEC_RESERVE(self->stage, self->scap, self->slen + plen + vn + NUMFMT_MAX + 14) != 0) {
        g->known = false;   /* learned from LAST it may be a lower bound only */
        log_error("archive: cannot stage a row for %s", g->path);
        return -1;
    }
    char *p = self->stage + self->slen;
    memcpy(p, "UPDATE ", 7);
    p += 7;
    memcpy(p, g->path, plen);
    p += plen;
    *p++ = ' ';
    p += numfmt_i64(p, t_ms / 1000);
    if (t_ms % 1000) {   /* rows are after 1970: t_ms > 0 */
        int f = (int)(t_ms % 1000);
        *p++ = '.';
        *p++ = (char)('0' + f / 100);
        *p++ = (char)('0' + f / 10 % 10);
        *p++ = (char)('0' + f % 10);
    }
    *p++ = ':';
    memcpy(p, values, vn);
    p += vn;
    *p++ = '\n';
    self->slen = (size_t)(p - self->stage);
    g->last = t_ms;
    return 1;
}

static int s_stage(archive_t *self, const char *path, int kind, int64_t t_ms,
                   uint32_t interval_ms, const char *values)
{
    guard_t *g = arch_guard(self, path);
    if (!g) {
        log_error("archive: out of memory");
        return -1;
    }
    return s_stage_guard(self, g, kind, t_ms, interval_ms, values, strlen(values));
}

/* The guard of a queue's file (lane NULL) or a lane's (mode and type -1),
 * from the cache of files staged before: a path formatted and hashed per
 * sample was a tenth of the ingest's time. */
static guard_t *s_file_guard(archive_t *self, const char *crossing, enum tax_dir dir,
                             int mode, int type, const char *lane)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a of the names */
    for (const char *c = crossing ? crossing : ""; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (const char *c = lane ? lane : ""; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    h = (h ^ (uint64_t)((int)dir << 16 | (mode & 0xff) << 8 | (type & 0xff))) * 1099511628211ULL;
    arch_qcache_t *e = &self->qcache[h & (ARCH_QCACHE - 1)];
    if (e->g && crossing && e->dir == (int)dir && e->mode == mode && e->type == type &&
        strcmp(e->crossing, crossing) == 0 && strcmp(e->lane, lane ? lane : "") == 0)
        return e->g;
    char path[PATH_MAX];
    int rc = lane ? s_lane_path(self, crossing, dir, lane, path, sizeof path)
                  : s_queue_path(self, crossing, dir, (enum tax_mode)mode, (enum tax_type)type,
                                 path, sizeof path);
    if (rc != 0)
        return NULL;
    guard_t *g = arch_guard(self, path);
    if (!g) {
        log_error("archive: out of memory");
        return NULL;
    }
    /* The path's checks passed: the names fit. */
    snprintf(e->crossing, sizeof e->crossing, "%s", crossing);
    snprintf(e->lane, sizeof e->lane, "%s", lane ? lane : "");
    e->dir = (int)dir;
    e->mode = mode;
    e->type = type;
    e->g = g;
    return g;
}

int arch_add_queue(archive_t *self, const char *crossing, enum tax_dir dir,
                   enum tax_mode mode, enum tax_type type, const arch_queue_row_t *row)
{
    guard_t *g = s_file_guard(self, crossing, dir, (int)mode, (int)type, NULL);
    if (!g)
        return -1;
    char values[5 * NUMFMT_MAX];
    size_t n = numfmt_i64(values, row->arrivals);
    values[n++] = ':';
    n += numfmt_i64(values + n, row->departures);
    values[n++] = ':';
    n += numfmt_i64(values + n, row->lanes_open);
    values[n++] = ':';
    n += numfmt_fixed9(values + n, row->queue);
    values[n++] = ':';
    n += numfmt_fixed9(values + n, row->wait_s);
    return s_stage_guard(self, g, S_QUEUE, row->t_ms, row->interval_ms, values, n);
}

int arch_add_lane(archive_t *self, const char *crossing, enum tax_dir dir,
                  const char *lane_id, const arch_lane_row_t *row)
{
    guard_t *g = s_file_guard(self, crossing, dir, -1, -1, lane_id);
    if (!g)
        return -1;
    char values[NUMFMT_MAX + 3];
    size_t n = numfmt_i64(values, row->departures);
    values[n++] = ':';
    values[n++] = row->open ? '1' : '0';
    return s_stage_guard(self, g, S_LANE, row->t_ms, row->interval_ms, values, n);
}

/* Beside the measured file: official-<mode>-<type>.rrd */
static int s_official_path(const archive_t *self, const char *crossing, enum tax_dir dir,
                           enum tax_mode mode, enum tax_type type, char *out, size_t len)
{
    if (s_queue_path(self, crossing, dir, mode, type, out, len) != 0)
        return -1;
    char *base = strrchr(out, '/') + 1;
    char name[64];
    snprintf(name, sizeof name, "official-%s", base);
    if ((size_t)(base - out) + strlen(name) >= len)
        return -1;
    memcpy(base, name, strlen(name) + 1);
    return 0;
}

int arch_add_official(archive_t *self, const char *crossing, enum tax_dir dir,
                      enum tax_mode mode, enum tax_type type, const arch_official_row_t *row)
{
    char path[PATH_MAX];
    if (s_official_path(self, crossing, dir, mode, type, path, sizeof path) != 0)
        return -1;
    char w[32], l[32], u[32], a[32], st[32], values[200];
    s_fmt_gauge(w, sizeof w, row->wait_s);
    s_fmt_gauge(l, sizeof l, row->lanes_open);
    s_fmt_gauge(u, sizeof u, row->updated_s);
    s_fmt_gauge(a, sizeof a, row->age_s);
    s_fmt_gauge(st, sizeof st, row->status);
    snprintf(values, sizeof values, "%s:%s:%s:%s:%s", w, l, u, a, st);
    return s_stage(self, path, S_OFFICIAL, row->t_s * 1000, 60000, values);
}

/* ---- commit ---------------------------------------------------------------------------- */

/* Start a new batch. After a failure the touched guards are forgotten:
 * rrdcached may have applied part of the batch, and only it knows which. */
static void s_end_batch(archive_t *self, bool forget)
{
    for (size_t i = 0; forget && i < self->ntouched; i++)
        self->touched[i]->known = false;
    self->ntouched = 0;
    self->slen = 0;
    self->gen++;
    self->stage_void = false;
}

static int s_mark_dirty(archive_t *self, guard_t **touched, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        guard_t *g = touched[i];
        g->accepted = g->last;
        if (g->dirty)
            continue;
        if (VEC_RESERVE(self->dirty, self->dcap, self->ndirty + 1) != 0)
            return -1;
        self->dirty[self->ndirty++] = g;
        g->dirty = true;
    }
    return 0;
}

uint64_t arch_generation(archive_t *self)
{
    s_check_connection(self);
    return self->generation;
}

size_t arch_pending_sync(const archive_t *self) { return self->ndirty; }

const char *arch_last_error(const archive_t *self)
{
    return self->last_error[0] ? self->last_error : "rrdcached unreachable";
}

int arch_commit(archive_t *self, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (self->slen == 0)
        return 0;
    if (arch_link(self) < 0 || self->stage_void) {
        arch_why(why, whylen, self->stage_void ? "rrdcached restarted while the batch was "
              "prepared: send it again" : "rrdcached: %s", rrdcc_error(self->rc));
        s_end_batch(self, true);
        return -1;
    }
    if (rrdcc_batch(self->rc, self->stage, self->slen, NULL) == 0) {
        if (s_mark_dirty(self, self->touched, self->ntouched) != 0) {
            s_end_batch(self, true);
            arch_why(why, whylen, "out of memory");
            return -1;
        }
        s_end_batch(self, false);
        return 0;
    }
    arch_why(why, whylen, "rrdcached: %s", rrdcc_error(self->rc));
    /* A lost connection was logged by rrdcc; a refusal is logged here. */
    if (rrdcc_connected(self->rc))
        log_warn("archive: commit refused: %s", rrdcc_error(self->rc));
    s_end_batch(self, true);
    return -1;
}

/* ---- commit in two halves ---------------------------------------------------------------- */

/* A flight's lines buffer larger than this is freed when it lands. */
#define ARCH_FLIGHT_KEEP (256 * 1024)

_Static_assert(ARCH_FLIGHTS_MAX <= RRDCC_OWED_MAX, "every flight is a batch rrdcc may owe");

int arch_commit_send(archive_t *self, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    assert(self->nflights < ARCH_FLIGHTS_MAX);
    if (self->slen == 0)
        return 1;
    if (arch_link(self) < 0 || self->stage_void) {
        arch_why(why, whylen, self->stage_void ? "rrdcached restarted while the batch was "
              "prepared: send it again" : "rrdcached: %s", rrdcc_error(self->rc));
        s_end_batch(self, true);
        return -1;
    }
    if (rrdcc_batch_send(self->rc, self->stage, self->slen) != 0) {
        arch_why(why, whylen, "rrdcached: %s", rrdcc_error(self->rc));
        s_end_batch(self, true);
        return -1;
    }
    /* The staged lines and guards become the flight's; the stage starts
     * empty in the flight's old buffers. */
    arch_flight_t *f = &self->flights[(self->ffirst + self->nflights++) % ARCH_FLIGHTS_MAX];
    arch_flight_t old = *f;
    *f = (arch_flight_t){ .buf = self->stage, .len = self->slen, .cap = self->scap,
                          .guards = self->touched, .nguards = self->ntouched,
                          .gcap = self->tcap };
    self->stage = old.buf;
    self->scap = old.cap;
    self->touched = old.guards;
    self->tcap = old.gcap;
    self->ntouched = 0;
    s_end_batch(self, false);
    return 0;
}

int arch_commit_wait(archive_t *self, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (self->nflights == 0)
        return 0;
    arch_flight_t *f = &self->flights[self->ffirst];
    self->ffirst = (self->ffirst + 1) % ARCH_FLIGHTS_MAX;
    self->nflights--;
    int rc = rrdcc_batch_wait(self->rc);
    size_t n = f->nguards;
    f->nguards = 0;
    f->len = 0;
    /* A catch-up's groups stage up to ~1.3 MB each: five such buffers
     * would stay resident once the flood is over. Above glibc's mmap
     * threshold, freeing gives the pages back. */
    if (f->cap > ARCH_FLIGHT_KEEP) {
        free(f->buf);
        f->buf = NULL;
        f->cap = 0;
    }
    if (rc == 0 && s_mark_dirty(self, f->guards, n) == 0)
        return 0;
    if (rc == 0)
        arch_why(why, whylen, "out of memory");
    else
        arch_why(why, whylen, "rrdcached: %s", rrdcc_error(self->rc));
    if (rc != 0 && rrdcc_connected(self->rc))
        log_warn("archive: commit refused: %s", rrdcc_error(self->rc));
    /* rrdcached may have applied part of it: only it knows which. */
    for (size_t i = 0; i < n; i++)
        f->guards[i]->known = false;
    return -1;
}

size_t arch_commit_in_flight(const archive_t *self) { return self->nflights; }

bool arch_commit_ready(archive_t *self)
{
    return self->nflights == 0 || rrdcc_batch_ready(self->rc);
}

int arch_commit_fd(const archive_t *self, bool *writing)
{
    *writing = rrdcc_batch_writing(self->rc);
    return rrdcc_fd(self->rc);
}

void arch_abort(archive_t *self)
{
    /* The guards advanced over rows that were never sent. */
    s_end_batch(self, true);
}

/* ---- fetch -------------------------------------------------------------------------------- */

void arch_series_free(arch_series_t *s)
{
    if (!s)
        return;
    free(s->values);
    memset(s, 0, sizeof *s);
}

/* Copy rrdcached's rows into out, columns by name (cols, ncols of them). */
static int s_series_from_fetch(const rrdcc_fetch_t *f, const char *const *cols, int ncols,
                               arch_series_t *out)
{
    int col_of[ARCH_NCOLS];
    for (int c = 0; c < ncols; c++) {
        col_of[c] = -1;
        for (size_t k = 0; k < f->nds; k++)
            if (strcmp(f->names[k], cols[c]) == 0)
                col_of[c] = (int)k;
        if (col_of[c] < 0)
            return -1;
    }
    out->start = f->start;
    out->end = f->end;
    out->step = f->step;
    out->nrows = f->nrows;
    out->values = malloc((f->nrows ? f->nrows : 1) * (size_t)ncols * sizeof *out->values);
    if (!out->values)
        return -1;
    for (size_t r = 0; r < f->nrows; r++)
        for (int c = 0; c < ncols; c++)
            out->values[r * (size_t)ncols + (size_t)c] = f->values[r * f->nds + (size_t)col_of[c]];
    return 0;
}

/* rrdcached returns the finest RRA that covers the start; a coarser step
 * asked for is consolidated here the way RRD would (average of the known
 * rows, unknown when more than half are unknown), on multiples of step. */
static int s_consolidate(arch_series_t *s, int64_t step, int ncols)
{
    if (step <= s->step || step % s->step != 0 || s->nrows == 0)
        return 0;
    int64_t per = step / s->step;
    int64_t start = s->start - ((s->start % step) + step) % step;
    int64_t end = s->end + ((step - s->end % step) % step);
    size_t nrows = (size_t)((end - start) / step);
    double *v = malloc(nrows * (size_t)ncols * sizeof *v);
    if (!v)
        return -1;
    for (size_t o = 0; o < nrows; o++) {
        int64_t lo = start + (int64_t)o * step;   /* rows ending in (lo, lo + step] */
        for (int c = 0; c < ncols; c++) {
            double sum = 0;
            int64_t known = 0;
            for (int64_t k = 1; k <= per; k++) {
                int64_t i = (lo + k * s->step - s->start) / s->step - 1;
                if (i < 0 || (size_t)i >= s->nrows)
                    continue;
                double x = s->values[(size_t)i * (size_t)ncols + (size_t)c];
                if (!isnan(x)) {
                    sum += x;
                    known++;
                }
            }
            v[o * (size_t)ncols + (size_t)c] = known * 2 >= per ? sum / (double)known : NAN;
        }
    }
    free(s->values);
    s->values = v;
    s->start = start;
    s->end = end;
    s->step = step;
    s->nrows = nrows;
    return 0;
}

static int s_fetch(archive_t *self, const char *path, const char *const *cols, int ncols,
                   int64_t from, int64_t to, int64_t step, arch_series_t *out, char *why,
                   size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 1;
        arch_why(why, whylen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (from <= 0 || to <= from) {
        arch_why(why, whylen, "need 0 < from < to");
        return -1;
    }
    rrdcc_fetch_t f;
    if (arch_link(self) < 0 ||
        rrdcc_fetch(self->rc, path, "AVERAGE", from, to, cols, (size_t)ncols, &f) != 0) {
        arch_why(why, whylen, "rrdcached: %s", rrdcc_error(self->rc));
        return -1;
    }
    int rc = s_series_from_fetch(&f, cols, ncols, out);
    rrdcc_fetch_free(&f);
    if (rc == 0 && step > 0)
        rc = s_consolidate(out, step, ncols);
    if (rc != 0) {
        arch_series_free(out);
        arch_why(why, whylen, "out of memory or unexpected columns");
        return -1;
    }
    /* FETCH includes the step that holds `to`; rows cover (from, to]. */
    while (out->nrows > 0 && out->start + (int64_t)out->nrows * out->step > to)
        out->nrows--;
    out->end = out->start + (int64_t)out->nrows * out->step;
    return 0;
}

int arch_fetch_queue(archive_t *self, const char *crossing, enum tax_dir dir,
                     enum tax_mode mode, enum tax_type type, int64_t from, int64_t to,
                     int64_t step, arch_series_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    char path[PATH_MAX];
    if (s_queue_path(self, crossing, dir, mode, type, path, sizeof path) != 0) {
        arch_why(why, whylen, "bad series name");
        return -1;
    }
    int rc = s_fetch(self, path, s_fetch_cols, ARCH_NCOLS, from, to, step, out, why, whylen);
    if (rc != 0)
        return rc;
    /* ABSOLUTE stores a rate; rate x step is the count in each row. */
    for (size_t r = 0; r < out->nrows; r++) {
        out->values[r * ARCH_NCOLS + 1] *= (double)out->step;
        out->values[r * ARCH_NCOLS + 2] *= (double)out->step;
    }
    return 0;
}

int arch_fetch_official(archive_t *self, const char *crossing, enum tax_dir dir,
                        enum tax_mode mode, enum tax_type type, int64_t from, int64_t to,
                        int64_t step, arch_series_t *out, char *why, size_t whylen)
{
    static const char *const cols[ARCH_OFF_NCOLS] = { "wait_s", "lanes_open", "updated", "age_s",
                                                      "status" };
    memset(out, 0, sizeof *out);
    char path[PATH_MAX];
    if (s_official_path(self, crossing, dir, mode, type, path, sizeof path) != 0) {
        arch_why(why, whylen, "bad series name");
        return -1;
    }
    return s_fetch(self, path, cols, ARCH_OFF_NCOLS, from, to, step, out, why, whylen);
}
