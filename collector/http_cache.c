/* http_cache — see http_cache.h. */
#include "http_cache.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>
#include <string.h>
#include <zlib.h>

#include "fileio.h"
#include "log.h"

http_cache_body_t *http_cache_body_new(char *data, size_t len)
{
    if (!data)
        return NULL;
    http_cache_body_t *b = malloc(sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = data;
    b->fd = -1;
    b->mapped = false;
    b->nparts = 0;
    return b;
}

http_cache_body_t *http_cache_body_parts(const http_cache_part_t *parts, size_t n)
{
    assert(n <= HTTP_CACHE_PARTS_MAX);
    http_cache_body_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    atomic_init(&b->refs, 1);
    b->fd = -1;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len == 0)
            continue;
        assert(parts[i].body && parts[i].body->data &&
               parts[i].off + parts[i].len <= parts[i].body->len);
        b->part[b->nparts] = parts[i];
        http_cache_body_ref(parts[i].body);
        b->nparts++;
        b->len += parts[i].len;
    }
    return b;
}

size_t http_cache_body_iov(const http_cache_body_t *b, size_t off, struct iovec *iov, size_t max)
{
    if (!b->nparts) {
        if (off >= b->len || max == 0)
            return 0;
        iov[0] = (struct iovec){ b->data + off, b->len - off };
        return 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < b->nparts && k < max; i++) {
        const http_cache_part_t *p = &b->part[i];
        if (off >= p->len) {
            off -= p->len;
            continue;
        }
        iov[k++] = (struct iovec){ p->body->data + p->off + off, p->len - off };
        off = 0;
    }
    return k;
}

/* fd (len bytes written) followed by a NUL, mapped read-only: readers may
 * count on the NUL after the bytes, as with a malloc'ed copy. MAP_FAILED
 * when it fails. */
static void *s_map_memfd(int fd, size_t len)
{
    if (ftruncate(fd, (off_t)len + 1) != 0)   /* the byte more is a zero */
        return MAP_FAILED;
    return mmap(NULL, len + 1, PROT_READ, MAP_SHARED, fd, 0);
}

http_cache_piece_t http_cache_part_piece(const http_cache_part_t *p)
{
    if (p->body->fd >= 0)
        return (http_cache_piece_t){ NULL, p->body->fd, p->off, p->len };
    return (http_cache_piece_t){ p->body->data + p->off, -1, 0, p->len };
}

/* len bytes of the file in from off read exactly into to. -1 (errno)
 * when they cannot be: ENODATA where the file is shorter. */
static int s_pread_all(int in, size_t off, char *to, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t got = pread(in, to + done, len - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0)
            errno = ENODATA;
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

/* len bytes of the file in from off appended to the file out, copied in
 * the kernel (their pages never pass through this process); by pread and
 * write where the kernel cannot. */
static int s_copy_range(int in, size_t off, int out, size_t len)
{
    loff_t at = (loff_t)off;
    while (len > 0) {
        ssize_t n = copy_file_range(in, &at, out, NULL, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                      errno == EOPNOTSUPP))
            break;
        if (n == 0)
            errno = ENODATA;
        if (n <= 0)
            return -1;
        len -= (size_t)n;
    }
    enum { CHUNK = 64 * 1024 };
    size_t cap = len < CHUNK ? len : CHUNK;   /* a crossing's fragment: ~8 KB */
    char *buf = len ? malloc(cap) : NULL;
    if (len && !buf)
        return -1;
    int rc = 0;
    for (size_t done = 0; done < len && rc == 0;) {
        size_t want = len - done < cap ? len - done : cap;
        rc = s_pread_all(in, (size_t)at + done, buf, want) == 0 &&
                     fileio_write_all(out, buf, want) == 0
                 ? 0
                 : -1;
        done += want;
    }
    free(buf);
    return rc;
}

/* A run of pieces being written with one writev: iov[k], the short file
 * ranges among them read into stage (used bytes). */
enum { RUN_PIECES = 64, RUN_STAGE = 64 * 1024, RUN_SHORT = 16 * 1024 };
typedef struct {
    struct iovec iov[RUN_PIECES];
    size_t k, used;
    char *stage;
} s_run_t;

static int s_run_flush(s_run_t *r, int fd)
{
    int rc = r->k ? fileio_writev_all(fd, r->iov, r->k) : 0;
    r->k = r->used = 0;
    return rc;
}

/* The n pieces appended to the file fd, in runs written with one writev:
 * pieces in memory as they are, short ranges of a file read into the
 * run's staging buffer first (a holed fragment is two ranges of a few KB
 * around its fill: a copy_file_range each cost twice a writev of the same
 * bytes); longer ranges, or short ones when no buffer can be had, copied
 * in the kernel (s_copy_range). */
static int s_write_pieces(int fd, const http_cache_piece_t *pc, size_t n)
{
    s_run_t r = { .k = 0 };
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const http_cache_piece_t *p = &pc[i];
        bool staged = p->fd >= 0 && p->len <= RUN_SHORT &&
                      (r.stage || (r.stage = malloc(RUN_STAGE)));
        if (p->fd >= 0 && !staged) {
            rc = s_run_flush(&r, fd) == 0 ? s_copy_range(p->fd, p->off, fd, p->len) : -1;
            continue;
        }
        bool full = r.k == RUN_PIECES || (staged && r.used + p->len > RUN_STAGE);
        if (full && s_run_flush(&r, fd) != 0) {
            rc = -1;
            break;
        }
        char *to = staged ? r.stage + r.used : (char *)p->data;
        if (staged && s_pread_all(p->fd, p->off, to, p->len) != 0) {
            rc = -1;
            break;
        }
        r.iov[r.k++] = (struct iovec){ to, p->len };
        r.used += staged ? p->len : 0;
    }
    if (rc == 0)
        rc = s_run_flush(&r, fd);
    free(r.stage);
    return rc;
}

static http_cache_body_t *s_gather_memfd(const http_cache_piece_t *pc, size_t n, size_t len)
{
    int fd = memfd_create("poenet-body", MFD_CLOEXEC);
    void *map = MAP_FAILED;
    if (fd >= 0 && s_write_pieces(fd, pc, n) == 0)
        map = s_map_memfd(fd, len);
    http_cache_body_t *b = map != MAP_FAILED ? calloc(1, sizeof *b) : NULL;
    if (!b) {
        log_error("http: gathering a body into a memfd failed: %s", strerror(errno));
        if (map != MAP_FAILED)
            munmap(map, len + 1);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = map;
    b->fd = fd;
    b->mapped = true;
    return b;
}

http_cache_body_t *http_cache_body_gather(const http_cache_piece_t *pc, size_t n, size_t len)
{
    if (len >= HTTP_CACHE_MEMFD_MIN)
        return s_gather_memfd(pc, n, len);
    char *data = malloc(len + 1);
    if (!data)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (pc[i].fd < 0) {
            memcpy(data + o, pc[i].data, pc[i].len);
        } else if (s_pread_all(pc[i].fd, pc[i].off, data + o, pc[i].len) != 0) {
            log_error("http: gathering a body failed: %s", strerror(errno));
            free(data);
            return NULL;
        }
        o += pc[i].len;
    }
    assert(o == len);
    data[len] = '\0';
    return http_cache_body_new(data, len);
}

void http_cache_body_ref(http_cache_body_t *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void s_body_free(reclaim_item_t *it)
{
    http_cache_body_t *b = (http_cache_body_t *)((char *)it - offsetof(http_cache_body_t, reclaim));
    for (size_t i = 0; i < b->nparts; i++)
        http_cache_body_unref(b->part[i].body);
    if (b->mapped)
        munmap(b->data, b->len + 1);
    else
        free(b->data);
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

void http_cache_body_unref(http_cache_body_t *b)
{
    /* acq_rel: the thread freeing sees every write of the others. */
    if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    b->reclaim.fn = s_body_free;
    b->reclaim.bytes = b->len;
    /* A body in parts holds no bytes of its own: its parts decide. */
    if (!b->nparts && (b->mapped || b->fd >= 0 || b->len >= HTTP_CACHE_RECLAIM_MIN) &&
        reclaim_defer(&b->reclaim) == 0)
        return;
    s_body_free(&b->reclaim);
}

int http_cache_body_fd(http_cache_body_t *b)
{
    if (b->fd >= 0)   /* already given one: data is its map, not malloc'ed */
        return 0;
    if (b->nparts)
        return -1;
    int fd = memfd_create("poenet-body", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fileio_write_all(fd, b->data, b->len) != 0) {
        close(fd);
        return -1;
    }
    void *map = s_map_memfd(fd, b->len);
    if (map == MAP_FAILED) {
        close(fd);
        return -1;
    }
    free(b->data);
    b->data = map;
    b->mapped = true;
    b->fd = fd;
    return 0;
}

/* deflate z's input with flush, growing *out (*cap bytes, z->next_out in
 * it) whenever it fills. Z_OK once the input is taken (Z_STREAM_END after
 * Z_FINISH); Z_MEM_ERROR or deflate's error otherwise. */
static int s_deflate_all(z_stream *z, char **out, size_t *cap, int flush)
{
    for (;;) {
        int rc = deflate(z, flush);
        if (rc == Z_STREAM_END || (rc < 0 && rc != Z_BUF_ERROR))
            return rc;
        if (z->avail_out > 0 && z->avail_in == 0 && flush != Z_FINISH)
            return Z_OK;
        if (z->avail_out == 0) {
            size_t used = *cap, grown = *cap * 2;
            char *bigger = grown > UINT_MAX ? NULL : realloc(*out, grown);
            if (!bigger)
                return Z_MEM_ERROR;
            *out = bigger;
            *cap = grown;
            z->next_out = (Bytef *)bigger + used;
            z->avail_out = (uInt)(grown - used);
        } else if (rc == Z_BUF_ERROR) {
            return rc;   /* no progress possible with room left: cannot happen */
        }
    }
}

/* All of b's bytes fed, from memory (its own or its parts'): s_deflate_all's
 * result. */
static int s_deflate_iov(z_stream *z, const http_cache_body_t *b, char **out, size_t *cap)
{
    struct iovec iov[1 + HTTP_CACHE_PARTS_MAX];
    size_t n = http_cache_body_iov(b, 0, iov, sizeof iov / sizeof iov[0]);
    int rc = Z_OK;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        z->next_in = (Bytef *)iov[i].iov_base;
        z->avail_in = (uInt)iov[i].iov_len;
        rc = s_deflate_all(z, out, cap, Z_NO_FLUSH);
    }
    return rc;
}

/* The same from a memfd body's file (len bytes) by pread, not from its
 * map (see http_cache_body_write): 3.2 MB of /v1/crossings at 10,000
 * series, and the other big documents, for every snapshot alive. */
static int s_deflate_fd(z_stream *z, int fd, size_t len, char **out, size_t *cap)
{
    enum { CHUNK = 64 * 1024 };
    char *buf = malloc(CHUNK);
    if (!buf)
        return Z_MEM_ERROR;
    int rc = Z_OK;
    for (size_t off = 0; off < len && rc >= 0;) {
        size_t want = len - off < CHUNK ? len - off : CHUNK;
        if (s_pread_all(fd, off, buf, want) != 0) {
            rc = Z_ERRNO;
            break;
        }
        z->next_in = (Bytef *)buf;
        z->avail_in = (uInt)want;
        rc = s_deflate_all(z, out, cap, Z_NO_FLUSH);
        off += want;
    }
    free(buf);
    return rc;
}

http_cache_body_t *http_cache_body_gzip(const http_cache_body_t *b)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper, which every browser accepts as
     * Content-Encoding: gzip (raw zlib "deflate" is misread by some). */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    /* Room for an eighth of the input, grown as needed and fitted at the
     * end: deflateBound's worst case (more than the input) held by every
     * snapshot's gzip form was megabytes that the big documents' forms
     * (10-100x smaller) never used. */
    size_t cap = b->len / 8 + 1024;
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = b->fd >= 0 && !b->nparts ? s_deflate_fd(&z, b->fd, b->len, &out, &cap)
                                      : s_deflate_iov(&z, b, &out, &cap);
    if (rc >= 0) {
        z.next_in = NULL;
        z.avail_in = 0;
        rc = s_deflate_all(&z, &out, &cap, Z_FINISH);
    }
    size_t len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        log_error("http: gzip failed (%d)", rc);
        free(out);
        return NULL;
    }
    char *fit = realloc(out, len ? len : 1);
    return http_cache_body_new(fit ? fit : out, len);
}

int http_cache_body_write(const http_cache_body_t *b, int fd)
{
    if (b->fd >= 0 && !b->nparts) {
        off_t off = 0;
        while ((size_t)off < b->len) {
            ssize_t n = sendfile(fd, b->fd, &off, b->len - (size_t)off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
        }
        return 0;
    }
    if (!b->nparts)
        return fileio_write_all(fd, b->data, b->len);
    /* Parts from their bodies' files, where they have one (a crossing's
     * document in the joined document's memfd, collector/frag.c). */
    http_cache_piece_t pc[HTTP_CACHE_PARTS_MAX];
    for (size_t i = 0; i < b->nparts; i++)
        pc[i] = http_cache_part_piece(&b->part[i]);
    return s_write_pieces(fd, pc, b->nparts);
}

bool http_cache_slot_fresh(const http_cache_slot_t *s, uint64_t version, int64_t second)
{
    return s->plain && s->version == version && s->second == second;
}

void http_cache_slot_clear(http_cache_slot_t *s)
{
    http_cache_body_unref(s->plain);
    http_cache_body_unref(s->gz);
    s->plain = s->gz = NULL;
}

void http_cache_slot_set(http_cache_slot_t *s, http_cache_body_t *plain, uint64_t version, int64_t second)
{
    http_cache_slot_clear(s);
    s->plain = plain;
    s->version = version;
    s->second = second;
}

http_cache_body_t *http_cache_slot_gz(http_cache_slot_t *s)
{
    if (!s->gz && s->plain)
        s->gz = http_cache_body_gzip(s->plain);
    if (s->gz)
        http_cache_body_ref(s->gz);
    return s->gz;
}
