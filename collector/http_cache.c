/* http_cache — see http_cache.h. */
#include "http_cache.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
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
    return b;
}

http_cache_body_t *http_cache_body_map(size_t len)
{
    http_cache_body_t *b = malloc(sizeof *b);
    void *map = b ? mmap(NULL, len + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : MAP_FAILED;
    if (map == MAP_FAILED) {
        free(b);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = map;         /* zeros: the NUL after the bytes is there */
    b->fd = -1;
    b->mapped = true;
    return b;
}

void http_cache_body_ref(http_cache_body_t *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

static void s_body_free(reclaim_item_t *it)
{
    http_cache_body_t *b = (http_cache_body_t *)((char *)it - offsetof(http_cache_body_t, reclaim));
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
    if ((b->mapped || b->fd >= 0 || b->len >= HTTP_CACHE_RECLAIM_MIN) &&
        reclaim_defer(&b->reclaim) == 0)
        return;
    s_body_free(&b->reclaim);
}

int http_cache_body_fd(http_cache_body_t *b)
{
    if (b->fd >= 0)   /* already given one: data is its map, not malloc'ed */
        return 0;
    int fd = memfd_create("poenet-body", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fileio_write_all(fd, b->data, b->len) != 0) {
        close(fd);
        return -1;
    }
    /* One byte more, a zero (ftruncate fills with zeros): readers may
     * count on the NUL after the bytes, as with the malloc'ed copy. */
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)b->len + 1) == 0)
        map = mmap(NULL, b->len + 1, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        close(fd);
        return -1;
    }
    if (b->mapped)        /* an anonymous map (http_cache_body_map) */
        munmap(b->data, b->len + 1);
    else
        free(b->data);
    b->data = map;
    b->mapped = true;
    b->fd = fd;
    return 0;
}

http_cache_body_t *http_cache_body_gzip(const http_cache_body_t *b)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper, which every browser accepts as
     * Content-Encoding: gzip (raw zlib "deflate" is misread by some). */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)b->len);
    char *out = malloc(cap ? cap : 1);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)b->data;
    z.avail_in = (uInt)b->len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        log_error("http: gzip failed (%d)", rc);
        free(out);
        return NULL;
    }
    return http_cache_body_new(out, len);
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
