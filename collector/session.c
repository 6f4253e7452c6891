/* session — see session.h. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "vec.h"

/* Sessions in the order they came, and an open-addressing index of them
 * by crossing and direction: every batch and heartbeat looks its session
 * up, several times, and a scan of 834 sessions was a tenth of the
 * ingest's time in a live burst. Sessions are never removed. */
struct sess_table {
    sess_t *v;
    size_t n, cap;
    uint32_t *idx;      /* position + 1 in v; 0 empty */
    size_t icap;        /* a power of two, at least twice n (0: none yet) */
};

static uint64_t s_hash(const char *crossing, enum tax_dir dir)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (const char *c = crossing; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (h ^ (uint64_t)dir) * 1099511628211ULL;
}

static void s_index_put(sess_table_t *self, size_t pos)
{
    const sess_t *s = &self->v[pos];
    size_t i = (size_t)s_hash(s->crossing, s->dir) & (self->icap - 1);
    while (self->idx[i])
        i = (i + 1) & (self->icap - 1);
    self->idx[i] = (uint32_t)(pos + 1);
}

/* Room in the index for n sessions: -1 out of memory (the index is kept). */
static int s_index_reserve(sess_table_t *self, size_t n)
{
    if (n * 2 <= self->icap)
        return 0;
    size_t icap = self->icap ? self->icap : 64;
    while (icap < n * 2)
        icap *= 2;
    uint32_t *idx = calloc(icap, sizeof *idx);
    if (!idx)
        return -1;
    free(self->idx);
    self->idx = idx;
    self->icap = icap;
    for (size_t pos = 0; pos < self->n; pos++)
        s_index_put(self, pos);
    return 0;
}

sess_table_t *sess_table_new(void) { return calloc(1, sizeof(sess_table_t)); }

void sess_table_destroy(sess_table_t **self_p)
{
    if (*self_p) {
        free((*self_p)->v);
        free((*self_p)->idx);
        free(*self_p);
        *self_p = NULL;
    }
}

const sess_t *sess_find(const sess_table_t *self, const char *crossing, enum tax_dir dir)
{
    if (self->icap == 0)
        return NULL;
    for (size_t i = (size_t)s_hash(crossing, dir) & (self->icap - 1); self->idx[i];
         i = (i + 1) & (self->icap - 1)) {
        const sess_t *s = &self->v[self->idx[i] - 1];
        if (s->dir == dir && strcmp(s->crossing, crossing) == 0)
            return s;
    }
    return NULL;
}

sess_t *sess_get(sess_table_t *self, const char *crossing, enum tax_dir dir)
{
    const sess_t *found = sess_find(self, crossing, dir);
    if (found)
        return (sess_t *)found;
    if (self->n >= UINT32_MAX - 1 || VEC_RESERVE(self->v, self->cap, self->n + 1) != 0 ||
        s_index_reserve(self, self->n + 1) != 0)
        return NULL;
    sess_t *s = &self->v[self->n];
    memset(s, 0, sizeof *s);
    snprintf(s->crossing, sizeof s->crossing, "%s", crossing);
    s->dir = dir;
    s_index_put(self, self->n++);
    return s;
}

int sess_table_copy(sess_table_t *dst, const sess_table_t *src)
{
    size_t icap = dst->icap;
    if (VEC_RESERVE(dst->v, dst->cap, src->n) != 0 || VEC_RESERVE(dst->idx, icap, src->icap) != 0)
        return -1;
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    if (src->icap)
        memcpy(dst->idx, src->idx, src->icap * sizeof *src->idx);
    dst->n = src->n;
    dst->icap = src->icap;
    return 0;
}

size_t sess_count(const sess_table_t *self) { return self->n; }
const sess_t *sess_at(const sess_table_t *self, size_t i) { return i < self->n ? &self->v[i] : NULL; }
sess_t *sess_at_mut(sess_table_t *self, size_t i) { return i < self->n ? &self->v[i] : NULL; }

enum sess_verdict sess_judge(sess_t *s, uint64_t epoch, uint64_t seq, uint64_t dropped_through)
{
    if (epoch < s->epoch)
        return SESS_STALE_EPOCH;
    if (epoch > s->epoch) {
        s->epoch = epoch;
        s->acked_seq = s->durable_seq = seq - 1;
        s->high_seq = 0;
        s->bad_lines = 0; /* a new agent run counts from zero */
        return SESS_ACCEPT;
    }
    if (seq <= s->acked_seq) {
        s->duplicates++;
        return SESS_DUPLICATE;
    }
    if (seq > s->acked_seq + 1 && dropped_through > s->acked_seq) {
        uint64_t to = dropped_through < seq - 1 ? dropped_through : seq - 1;
        log_warn("agent %s/%s no longer holds batches %" PRIu64 "..%" PRIu64 " (durable here "
                 "before this collector lost its state, or lost to the agent's spool budget): "
                 "moving past them", s->crossing, tax_dir_name(s->dir), s->acked_seq + 1, to);
        s->dropped += to - s->acked_seq;
        s->acked_seq = to; /* durable follows at the next sync */
    }
    if (seq > s->acked_seq + 1) {
        s->gaps++;
        return SESS_GAP;
    }
    return SESS_ACCEPT;
}

bool sess_take_tokens(sess_t *s, double n, double rate, double burst, int64_t now_ms)
{
    if (s->tokens_ms == 0) {
        s->tokens = burst;
    } else if (now_ms > s->tokens_ms) {
        s->tokens += rate * (double)(now_ms - s->tokens_ms) / 1000.0;
        if (s->tokens > burst)
            s->tokens = burst;
    }
    s->tokens_ms = now_ms;
    if (s->tokens < n)
        return false;
    s->tokens -= n;
    return true;
}

void sess_commit(sess_t *s, uint64_t seq)
{
    if (seq > s->acked_seq)
        s->acked_seq = seq;
    if (seq > s->high_seq)
        s->high_seq = seq;
    s->batches++;
}

bool sess_is_resend(const sess_t *s, uint64_t seq) { return seq <= s->high_seq; }

size_t sess_mark_durable(sess_table_t *self)
{
    size_t moved = 0;
    for (size_t i = 0; i < self->n; i++) {
        sess_t *s = &self->v[i];
        moved += s->durable_seq != s->acked_seq;
        s->durable_seq = s->acked_seq;
    }
    return moved;
}

size_t sess_rollback(sess_table_t *self)
{
    size_t moved = 0;
    for (size_t i = 0; i < self->n; i++) {
        sess_t *s = &self->v[i];
        moved += s->acked_seq != s->durable_seq;
        s->acked_seq = s->durable_seq;
    }
    return moved;
}

char *sess_text(const sess_table_t *self, const uint64_t *durable, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    fprintf(f, "# poe-collector sessions: crossing direction epoch durable_seq\n");
    for (size_t i = 0; i < self->n; i++) {
        const sess_t *s = &self->v[i];
        fprintf(f, "%s %s %" PRIu64 " %" PRIu64 "\n", s->crossing, tax_dir_name(s->dir), s->epoch,
                durable ? durable[i] : s->durable_seq);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int sess_write_file(const char *path, const char *text, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("sessions %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (fileio_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        log_error("sessions %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        log_error("sessions %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int sess_save(const sess_table_t *self, const char *path)
{
    size_t len = 0;
    char *text = sess_text(self, NULL, &len);
    if (!text) {
        log_error("sessions %s: out of memory", path);
        return -1;
    }
    int rc = sess_write_file(path, text, len);
    free(text);
    return rc;
}

int sess_load(sess_table_t *self, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[256], crossing[16], dir[16];
    int line_no = 0;
    while (fgets(line, sizeof line, f)) {
        line_no++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        uint64_t epoch, durable;
        enum tax_dir d;
        if (sscanf(line, "%15s %15s %" SCNu64 " %" SCNu64, crossing, dir, &epoch, &durable) != 4 ||
            !tax_crossing_id_valid(crossing) || tax_dir_parse(dir, &d) != 0) {
            log_error("%s:%d: not 'crossing direction epoch durable_seq': skipped", path, line_no);
            continue;
        }
        sess_t *s = sess_get(self, crossing, d);
        if (!s)
            break;
        s->epoch = epoch;
        s->acked_seq = s->durable_seq = durable;
    }
    fclose(f);
    return 0;
}

const char *sess_verdict_name(enum sess_verdict v)
{
    static const char *names[] = { "accept", "duplicate", "gap", "stale_epoch" };
    return names[v];
}
