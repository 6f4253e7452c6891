/* http_cache — rendered response bodies shared between the cache and the
 * responses still being written, their gzip forms, and the per-view cache
 * slot (one body per state version and second).
 *
 * Bodies are refcounted and written to sockets from where they are
 * (collector/httpconn: sendmsg from the bytes, sendfile from the memfd),
 * never copied: a response in flight keeps its body alive after the
 * cache has moved on. A body's reference count is
 * atomic: the HTTP worker threads share the bodies of a published snapshot
 * (http_snap.h) and release them when their writes complete. A slot is
 * used by one thread only. */
#ifndef POE_HTTP_CACHE_H
#define POE_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "reclaim.h"

/* glibc's first mmap threshold: a malloc'ed block this big is a map of its
 * own, which free() unmaps. */
#define HTTP_CACHE_RECLAIM_MIN (128 * 1024)

typedef struct {
    atomic_uint refs;
    reclaim_item_t reclaim;   /* a big body is freed by the reclaim thread */
    size_t len;
    char *data;     /* malloc'ed, or (mapped) a read-only map of fd or an anonymous
                     * map (http_cache_body_map); NUL after len */
    int fd;         /* -1, or a memfd holding the same bytes (http_cache_body_fd) */
    bool mapped;    /* data is a map of len + 1 bytes (munmap'ed, not freed) */
} http_cache_body_t;

/* Wrap data (malloc'ed, len bytes; taken over, freed on failure). One
 * reference. NULL when data is NULL or out of memory. */
http_cache_body_t *http_cache_body_new(char *data, size_t len);
/* A body of len bytes in an anonymous map of its own, zeroed, for the
 * caller to write before it is shared; one reference. Its pages go back to
 * the system when the last reference goes, not into the heap: for
 * documents made anew at every render and held by two snapshots at once
 * (a crossing's own, collector/frag.c), whose freed copies otherwise stay
 * resident between live blocks (docs/performance.md §1m). A map is whole
 * pages: for bodies of a few pages or more. NULL when out of memory. */
http_cache_body_t *http_cache_body_map(size_t len);
void http_cache_body_ref(http_cache_body_t *b);
/* Drop a reference. The last one frees the body; a mapped one, one with a
 * memfd or one of HTTP_CACHE_RECLAIM_MIN bytes or more is handed to the
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
 * render; docs/performance.md §1h). Call before b is shared. 0, or -1
 * (b->fd stays -1, b->data is unchanged; the bytes are still sent from
 * memory). */
int http_cache_body_fd(http_cache_body_t *b);

/* A gzip (RFC 1952) copy of b, one reference; NULL when out of memory. */
http_cache_body_t *http_cache_body_gzip(const http_cache_body_t *b);

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
