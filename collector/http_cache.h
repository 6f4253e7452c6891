/* http_cache — rendered response bodies shared between the cache and the
 * responses still being written, their gzip forms, and the per-view cache
 * slot (one body per state version and second).
 *
 * Bodies are refcounted and written to sockets from where they are
 * (collector/httpconn: sendmsg from the bytes or from a body's parts,
 * sendfile from the memfd), never copied: a response in flight keeps its
 * body alive after the cache has moved on, and a body in parts keeps its
 * parts alive. A body's reference count is
 * atomic: the HTTP worker threads share the bodies of a published snapshot
 * (http_snap.h) and release them when their writes complete. A slot is
 * used by one thread only. */
#ifndef POE_HTTP_CACHE_H
#define POE_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "reclaim.h"

/* glibc's first mmap threshold: a malloc'ed block this big is a map of its
 * own, which free() unmaps. */
#define HTTP_CACHE_RECLAIM_MIN (128 * 1024)

/* A body shared by many responses this long or longer is held in a memfd
 * and sent by sendfile(2) (collector/httpconn.c); a shorter one goes from
 * memory with its head in one sendmsg. */
#define HTTP_CACHE_MEMFD_MIN (16 * 1024)

/* Most pieces a body in parts has: a head, a fragment around its hole
 * and the hole's fill, a tail (collector/frag.c). */
#define HTTP_CACHE_PARTS_MAX 5

typedef struct http_cache_body http_cache_body_t;

/* len bytes of body from off. */
typedef struct {
    http_cache_body_t *body;
    size_t off, len;
} http_cache_part_t;

struct http_cache_body {
    atomic_uint refs;
    reclaim_item_t reclaim;   /* a big body is freed by the reclaim thread */
    size_t len;
    char *data;     /* malloc'ed, or (mapped) a read-only map of fd; NUL after
                     * len. NULL for a body in parts: read those with
                     * http_cache_body_iov */
    int fd;         /* -1, or a memfd holding the same bytes (http_cache_body_fd) */
    bool mapped;    /* data is a map of len + 1 bytes (munmap'ed, not freed) */
    size_t nparts;  /* 0, or the bytes are these parts' in order (each referenced) */
    http_cache_part_t part[HTTP_CACHE_PARTS_MAX];
};

/* Wrap data (malloc'ed, len bytes; taken over, freed on failure). One
 * reference. NULL when data is NULL or out of memory. */
http_cache_body_t *http_cache_body_new(char *data, size_t len);
/* A body whose bytes are parts' (n of them, HTTP_CACHE_PARTS_MAX at most,
 * each a body with data, not in parts itself), holding a reference on
 * each: a crossing's document is the render's envelope around the
 * crossing's fragment, and the fragment's bytes stay where they are
 * rather than being copied into a new document every second
 * (docs/performance.md §1p). Empty parts are left out. One reference;
 * NULL when out of memory. */
http_cache_body_t *http_cache_body_parts(const http_cache_part_t *parts, size_t n);
/* The bytes of b from off, as up to max iovecs (at most
 * 1 + HTTP_CACHE_PARTS_MAX are needed); returns how many. */
size_t http_cache_body_iov(const http_cache_body_t *b, size_t off, struct iovec *iov, size_t max);
/* len bytes of a body being gathered: at data, or (fd >= 0) at off in
 * the file fd, read with pread(2). A memfd body's bytes are read from its
 * file, never through its map: the map's pages touched would join this
 * process's memory for as long as the body lives (3 MB a big document). */
typedef struct {
    const char *data;
    int fd;
    size_t off, len;
} http_cache_piece_t;

/* Part p as a piece: from its body's memfd when it has one, else from
 * its bytes in memory. */
http_cache_piece_t http_cache_part_piece(const http_cache_part_t *p);

/* A body with the bytes of the n pieces (len in all), copied once: into a
 * memfd (as http_cache_body_fd leaves it) from HTTP_CACHE_MEMFD_MIN bytes
 * on, else onto the heap.
 * For the documents joined from fragments: the pieces go straight where
 * the body is held, without a joined copy on the heap first, and the
 * fragments kept in the last such document (collector/frag.c) come from
 * its file. One reference; NULL when out of memory, a piece cannot be
 * read or the memfd fails (logged). */
http_cache_body_t *http_cache_body_gather(const http_cache_piece_t *pc, size_t n, size_t len);
void http_cache_body_ref(http_cache_body_t *b);
/* Drop a reference. The last one frees the body; one with a memfd or one
 * of HTTP_CACHE_RECLAIM_MIN bytes or more is handed to the
 * reclaim thread (common/reclaim.h) when it runs: giving its pages back
 * stalls the thread that does it, and that was an HTTP worker or the
 * ingest loop. */
void http_cache_body_unref(http_cache_body_t *b);

/* Give b a memfd holding its bytes, so it can be sent with sendfile(2)
 * (no copy into the socket: the kernel references the pages) as nginx
 * sends a file. The malloc'ed bytes are then freed and b->data becomes a
 * read-only map of the memfd (the same bytes, still followed by a NUL):
 * the big documents are held once, in the memfd, not twice (heap and
 * memfd: 7.5 MB a snapshot at 10,000 series, two snapshots alive at a
 * render; docs/performance.md §1h). Call before b is shared; not for a
 * body in parts (-1). 0, or -1
 * (b->fd stays -1, b->data is unchanged; the bytes are still sent from
 * memory). */
int http_cache_body_fd(http_cache_body_t *b);

/* A gzip (RFC 1952) copy of b (in parts or not), one reference; NULL when
 * out of memory. */
http_cache_body_t *http_cache_body_gzip(const http_cache_body_t *b);

/* b's bytes written to fd (a file): a memfd body from its file by
 * sendfile, as its gzip form is read by pread, never through its map
 * (reading the map makes its pages this process's resident memory: the
 * big documents are megabytes, docs/performance.md §1r). 0, or -1
 * (errno). */
int http_cache_body_write(const http_cache_body_t *b, int fd);

/* One cached view: its body, the gzip form made on first demand, and what
 * it was rendered for. */
typedef struct {
    http_cache_body_t *plain, *gz;
    uint64_t version;
    int64_t second;
} http_cache_slot_t;

/* True when the slot holds a body for (version, second). */
bool http_cache_slot_fresh(const http_cache_slot_t *s, uint64_t version, int64_t second);

/* Replace the slot's bodies by plain (taking its reference). */
void http_cache_slot_set(http_cache_slot_t *s, http_cache_body_t *plain, uint64_t version, int64_t second);

/* The slot's gzip form, made once; a new reference, NULL when out of memory. */
http_cache_body_t *http_cache_slot_gz(http_cache_slot_t *s);

void http_cache_slot_clear(http_cache_slot_t *s);

#endif
