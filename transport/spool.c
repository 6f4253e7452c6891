/* spool — see spool.h. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "vec.h"

#define SPOOL_MAGIC 0x31525350u   /* "PSR1" little-endian */
#define SPOOL_HDR 28               /* magic, len, seq, t_ms, crc */
#define SPOOL_MAX_RECORD (2u * 1024 * 1024)
#define SPOOL_WARN_FILL 0.8

typedef struct {
    uint64_t first, last;   /* seqs held (last < first: empty) */
    uint64_t bytes;
    char *path;
} seg_t;

typedef struct {
    uint32_t seg_id;        /* index into the segment id space (see s_seg_of) */
    uint64_t off;
    uint32_t len;
    int64_t t_ms;
} rec_t;

struct spool {
    char *dir;
    spool_opts_t o;
    uint64_t epoch;
    seg_t *segs;            /* oldest first */
    size_t nsegs, segcap;
    uint32_t seg_base;      /* id of segs[0]; ids grow by one per segment */
    rec_t *recs;            /* recs[i] is seq first_seq + i */
    size_t nrecs, reccap, rec_head;
    uint64_t first_seq;     /* seq of recs[rec_head] */
    uint64_t next_seq;
    int fd;                 /* active (last) segment, open for append */
    uint64_t bytes;
    uint64_t dropped_through, drops;
    bool warned_full;
};

/* ---- helpers ------------------------------------------------------------------ */

static void s_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void s_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t s_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t s_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* CRC over seq, t_ms and payload: a record moved or half-written fails. */
static uint32_t s_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr + 8, 16);
    c = crc32(c, payload, (uInt)len);
    return (uint32_t)c;
}

static int s_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int s_mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- meta (epoch) --------------------------------------------------------------- */

static int s_meta(spool_t *self, uint64_t new_epoch)
{
    char path[4200], tmp[4210];
    snprintf(path, sizeof path, "%s/meta", self->dir);
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fscanf(f, "epoch %" SCNu64, &self->epoch) == 1;
        fclose(f);
        if (ok && self->epoch > 0)
            return 0;
        log_error("spool %s: unreadable meta file: remove the spool to start afresh", self->dir);
        return -1;
    }
    self->epoch = new_epoch;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "epoch %" PRIu64 "\n", new_epoch) < 0 || fflush(f) != 0 ||
        fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("spool %s: cannot write meta: %s", self->dir, strerror(errno));
        return -1;
    }
    s_fsync_dir(self->dir);
    return 0;
}

/* ---- index ------------------------------------------------------------------------ */

static int s_rec_push(spool_t *self, const rec_t *r)
{
    if (self->rec_head + self->nrecs == self->reccap) {
        if (self->rec_head > 0) { /* compact before growing */
            memmove(self->recs, self->recs + self->rec_head, self->nrecs * sizeof *self->recs);
            self->rec_head = 0;
        } else if (VEC_RESERVE(self->recs, self->reccap, self->reccap + 1) != 0) {
            return -1;
        }
    }
    self->recs[self->rec_head + self->nrecs++] = *r;
    return 0;
}

static seg_t *s_seg_add(spool_t *self, uint64_t first, const char *path)
{
    if (self->nsegs == self->segcap) {
        if (VEC_RESERVE(self->segs, self->segcap, self->segcap + 1) != 0)
            return NULL;
    }
    seg_t *s = &self->segs[self->nsegs++];
    *s = (seg_t){ .first = first, .last = first - 1, .path = strdup(path) };
    return s->path ? s : NULL;
}

static const seg_t *s_seg_of(const spool_t *self, const rec_t *r)
{
    return &self->segs[r->seg_id - self->seg_base];
}

/* ---- recovery --------------------------------------------------------------------- */

static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A record the index can accept as the next one. A hole (corruption cut a
 * segment short) is recorded as dropped. */
static int s_index_record(spool_t *self, uint64_t seq, uint64_t off, uint32_t len, int64_t t_ms)
{
    if (self->nrecs == 0 && self->first_seq == 0) {
        self->first_seq = seq;
    } else if (seq != self->next_seq) {
        if (seq < self->next_seq)
            return -1;
        log_error("spool %s: batches %" PRIu64 "..%" PRIu64 " are missing (corruption): lost",
                  self->dir, self->next_seq, seq - 1);
        /* Only what precedes every held record can be skipped by seq. */
        self->dropped_through = seq - 1;
        self->drops++;
        self->nrecs = 0;
        self->rec_head = 0;
        self->first_seq = seq;
    }
    rec_t r = { .seg_id = self->seg_base + (uint32_t)(self->nsegs - 1), .off = off, .len = len,
                .t_ms = t_ms };
    if (s_rec_push(self, &r) != 0)
        return -1;
    self->next_seq = seq + 1;
    return 0;
}

/* Read one segment's records; cut it at the first bad one. */
static int s_scan_segment(spool_t *self, seg_t *seg, bool is_last)
{
    int fd = open(seg->path, O_RDWR);
    if (fd < 0)
        return -1;
    struct stat st;
    fstat(fd, &st);
    uint64_t off = 0, size = (uint64_t)st.st_size;
    uint8_t hdr[SPOOL_HDR];
    uint8_t *payload = NULL;
    const char *why = NULL;
    while (off < size) {
        if (size - off < SPOOL_HDR) { why = "short header"; break; }
        if (pread(fd, hdr, SPOOL_HDR, (off_t)off) != SPOOL_HDR) { why = "read error"; break; }
        uint32_t len = s_get32(hdr + 4);
        if (s_get32(hdr) != SPOOL_MAGIC) { why = "bad magic"; break; }
        if (len > SPOOL_MAX_RECORD || size - off - SPOOL_HDR < len) { why = "short record"; break; }
        uint8_t *np = realloc(payload, len ? len : 1);
        if (!np) { why = "out of memory"; break; }
        payload = np;
        if (pread(fd, payload, len, (off_t)(off + SPOOL_HDR)) != (ssize_t)len) { why = "read error"; break; }
        if (s_crc(hdr, payload, len) != s_get32(hdr + 24)) { why = "checksum mismatch"; break; }
        uint64_t seq = s_get64(hdr + 8);
        if (s_index_record(self, seq, off, len, (int64_t)s_get64(hdr + 16)) != 0) {
            why = "sequence goes backwards";
            break;
        }
        if (seg->last < seg->first)
            seg->first = seq;
        seg->last = seq;
        off += SPOOL_HDR + len;
    }
    free(payload);
    if (why) {
        if (is_last)
            log_warn("spool %s: torn tail (%s) at byte %" PRIu64 " of %" PRIu64 ": cut", seg->path,
                     why, off, size);
        else
            log_error("spool %s: corrupt record (%s) at byte %" PRIu64 ": rest of segment lost",
                      seg->path, why, off);
        if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
            close(fd);
            return -1;
        }
    }
    close(fd);
    seg->bytes = off;
    self->bytes += off;
    return 0;
}

static int s_recover(spool_t *self)
{
    DIR *d = opendir(self->dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "seg-", 4) != 0 || !strstr(de->d_name, ".log"))
            continue;
        if (VEC_RESERVE(names, cap, n + 1) != 0)
            break;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, s_cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", self->dir, names[i]);
        uint64_t first = strtoull(names[i] + 4, NULL, 10);
        seg_t *seg = s_seg_add(self, first, path);
        rc = seg ? s_scan_segment(self, seg, i + 1 == n) : -1;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- append ------------------------------------------------------------------------ */

static int s_open_active(spool_t *self, bool fresh)
{
    if (self->fd >= 0 && !fresh)
        return 0;
    if (self->fd >= 0) {
        close(self->fd);
        self->fd = -1;
    }
    if (fresh || self->nsegs == 0) {
        char path[4400];
        snprintf(path, sizeof path, "%s/seg-%020" PRIu64 ".log", self->dir, self->next_seq);
        if (!s_seg_add(self, self->next_seq, path))
            return -1;
    }
    seg_t *seg = &self->segs[self->nsegs - 1];
    self->fd = open(seg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (self->fd < 0) {
        log_error("spool %s: %s", seg->path, strerror(errno));
        return -1;
    }
    if (fresh)
        s_fsync_dir(self->dir);
    return 0;
}

static void s_delete_oldest(spool_t *self)
{
    seg_t *seg = &self->segs[0];
    uint64_t n = seg->last >= seg->first ? seg->last - seg->first + 1 : 0;
    unlink(seg->path);
    self->bytes -= seg->bytes;
    free(seg->path);
    memmove(self->segs, self->segs + 1, (self->nsegs - 1) * sizeof *self->segs);
    self->nsegs--;
    self->seg_base++;
    if (n > self->nrecs)
        n = self->nrecs;
    self->rec_head += n;
    self->nrecs -= n;
    self->first_seq += n;
}

/* Over budget: the oldest data goes, loudly, rather than the newest. */
static void s_enforce_budget(spool_t *self)
{
    if (!self->warned_full && self->bytes > self->o.budget_bytes * SPOOL_WARN_FILL) {
        self->warned_full = true;
        log_warn("spool %s: %" PRIu64 " of %" PRIu64 " bytes used (80%%): collectors unreachable?",
                 self->dir, self->bytes, self->o.budget_bytes);
    }
    while (self->bytes > self->o.budget_bytes && self->nsegs > 1) {
        seg_t *seg = &self->segs[0];
        log_error("ALARM spool %s full: dropping batches %" PRIu64 "..%" PRIu64
                  " (%" PRIu64 " bytes): the archive will show a gap",
                  self->dir, seg->first, seg->last, seg->bytes);
        if (seg->last >= seg->first && seg->last > self->dropped_through)
            self->dropped_through = seg->last;
        self->drops++;
        s_delete_oldest(self);
    }
}

int spool_append(spool_t *self, const uint8_t *buf, size_t len, int64_t now_ms)
{
    if (len > SPOOL_MAX_RECORD)
        return -1;
    seg_t *active = self->nsegs ? &self->segs[self->nsegs - 1] : NULL;
    bool rotate = !active || active->bytes >= self->o.segment_bytes;
    if (s_open_active(self, rotate) != 0)
        return -1;
    active = &self->segs[self->nsegs - 1];
    uint8_t hdr[SPOOL_HDR];
    s_put32(hdr, SPOOL_MAGIC);
    s_put32(hdr + 4, (uint32_t)len);
    s_put64(hdr + 8, self->next_seq);
    s_put64(hdr + 16, (uint64_t)now_ms);
    s_put32(hdr + 24, s_crc(hdr, buf, len));
    struct iovec iov[2] = { { hdr, SPOOL_HDR }, { (void *)buf, len } };
    ssize_t w = writev(self->fd, iov, 2);
    if (w != (ssize_t)(SPOOL_HDR + len) || (self->o.sync && fdatasync(self->fd) != 0)) {
        log_error("spool %s: write failed: %s", active->path, w < 0 ? strerror(errno) : "short write");
        /* Cut whatever part of the record reached the file. */
        if (w > 0 && ftruncate(self->fd, (off_t)active->bytes) != 0)
            log_error("spool %s: cannot cut a partial record", active->path);
        return -1;
    }
    rec_t r = { .seg_id = self->seg_base + (uint32_t)(self->nsegs - 1), .off = active->bytes,
                .len = (uint32_t)len, .t_ms = now_ms };
    if (self->nrecs == 0)
        self->first_seq = self->next_seq;
    if (s_rec_push(self, &r) != 0)
        return -1;
    if (active->last < active->first)
        active->first = self->next_seq;
    active->last = self->next_seq;
    active->bytes += SPOOL_HDR + len;
    self->bytes += SPOOL_HDR + len;
    self->next_seq++;
    s_enforce_budget(self);
    return 0;
}

/* ---- read / release ----------------------------------------------------------------- */

int spool_read(spool_t *self, uint64_t seq, uint8_t **buf, size_t *len)
{
    if (self->nrecs == 0 || seq < self->first_seq || seq >= self->first_seq + self->nrecs)
        return 1;
    const rec_t *r = &self->recs[self->rec_head + (seq - self->first_seq)];
    const seg_t *seg = s_seg_of(self, r);
    int fd = open(seg->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t hdr[SPOOL_HDR];
    uint8_t *p = malloc(r->len ? r->len : 1);
    int rc = -1;
    if (p && pread(fd, hdr, SPOOL_HDR, (off_t)r->off) == SPOOL_HDR &&
        pread(fd, p, r->len, (off_t)(r->off + SPOOL_HDR)) == (ssize_t)r->len &&
        s_get64(hdr + 8) == seq && s_crc(hdr, p, r->len) == s_get32(hdr + 24)) {
        *buf = p;
        *len = r->len;
        rc = 0;
    } else {
        log_error("spool %s: batch %" PRIu64 " unreadable", seg->path, seq);
        free(p);
    }
    close(fd);
    return rc;
}

void spool_release(spool_t *self, uint64_t upto)
{
    /* The active segment stays: it is still being appended to. */
    while (self->nsegs > 1 && self->segs[0].last <= upto)
        s_delete_oldest(self);
    if (self->warned_full && self->bytes < self->o.budget_bytes * SPOOL_WARN_FILL / 2) {
        self->warned_full = false;
        log_info("spool %s: back to %" PRIu64 " bytes", self->dir, self->bytes);
    }
}

/* ---- lifecycle ----------------------------------------------------------------------- */

spool_t *spool_open(const char *dir, const spool_opts_t *opts, uint64_t new_epoch)
{
    spool_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = -1;
    self->o = *opts;
    self->next_seq = 1;
    self->dir = strdup(dir);
    if (!self->dir || s_mkdir_p(dir) != 0) {
        log_error("spool %s: cannot create: %s", dir, strerror(errno));
        goto fail;
    }
    if (s_meta(self, new_epoch) != 0 || s_recover(self) != 0) {
        log_error("spool %s: recovery failed: %s", dir, strerror(errno));
        goto fail;
    }
    if (self->nrecs == 0 && self->first_seq == 0)
        self->first_seq = self->next_seq;
    log_info("spool %s: epoch %" PRIu64 ", %zu batches held (seq %" PRIu64 "..%" PRIu64
             "), %" PRIu64 " bytes",
             dir, self->epoch, self->nrecs, spool_first_seq(self), spool_last_seq(self),
             self->bytes);
    return self;
fail:
    spool_close(&self);
    return NULL;
}

void spool_close(spool_t **self_p)
{
    spool_t *self = *self_p;
    if (!self)
        return;
    if (self->fd >= 0)
        close(self->fd);
    for (size_t i = 0; i < self->nsegs; i++)
        free(self->segs[i].path);
    free(self->segs);
    free(self->recs);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

uint64_t spool_epoch(const spool_t *self) { return self->epoch; }
uint64_t spool_next_seq(const spool_t *self) { return self->next_seq; }
uint64_t spool_first_seq(const spool_t *self) { return self->nrecs ? self->first_seq : self->next_seq; }
uint64_t spool_last_seq(const spool_t *self) { return self->next_seq - 1; }
int64_t spool_time_of(const spool_t *self, uint64_t seq)
{
    if (self->nrecs == 0 || seq < self->first_seq || seq >= self->first_seq + self->nrecs)
        return 0;
    return self->recs[self->rec_head + (seq - self->first_seq)].t_ms;
}
uint64_t spool_dropped_through(const spool_t *self) { return self->dropped_through; }
uint64_t spool_bytes(const spool_t *self) { return self->bytes; }
uint64_t spool_batches(const spool_t *self) { return self->nrecs; }
uint64_t spool_drops(const spool_t *self) { return self->drops; }
