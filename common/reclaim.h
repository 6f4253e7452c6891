/* reclaim — memory given back by a background thread, so that the thread
 * that dropped it does not pay for it.
 *
 * Giving pages back to the kernel (munmap, and free() of a block glibc
 * mapped on its own) takes the process's mmap lock for writing and flushes
 * the TLB of every CPU running one of its threads, by an inter-processor
 * interrupt: on a virtual machine, 100 µs or more a call. A snapshot of
 * the public documents holds hundreds of mapped bodies; whichever thread
 * dropped its last reference paid for all of them at once, and measured
 * on this project's machines that was an HTTP worker holding a /health
 * answer for 40-60 ms, or the ingest loop (docs/performance.md §1o).
 *
 * reclaim_defer() hands an item to the reclaim thread, which runs at a
 * lower priority (nice 10) and calls the item's function. The items are
 * intrusive (reclaim_item_t inside the caller's struct): deferring
 * allocates nothing. When the thread is not running (not started, or
 * stopping), or more than RECLAIM_BACKLOG_MAX bytes already wait, the
 * caller frees the item itself: memory is never held without bound.
 *
 * One reclaim thread per process, like the allocator it stands beside:
 * reclaim_start() at start-up, reclaim_stop() at the end, which frees
 * whatever still waits. Thread-safe. */
#ifndef POE_RECLAIM_H
#define POE_RECLAIM_H

#include <stddef.h>

#define RECLAIM_BACKLOG_MAX ((size_t)256 << 20)

typedef struct reclaim_item reclaim_item_t;
struct reclaim_item {
    reclaim_item_t *next;
    void (*fn)(reclaim_item_t *it);   /* frees the struct holding it */
    size_t bytes;                      /* what it gives back, for the bound */
};

/* Start the reclaim thread. 0, or -1 (errno; items are then freed by their
 * callers, as before). Calling it again while it runs does nothing. */
int reclaim_start(void);

/* Free everything still waiting, then stop the thread. Items deferred
 * afterwards are refused (their callers free them). */
void reclaim_stop(void);

/* Hand it (fn and bytes set) to the reclaim thread: 0, or -1 when the
 * caller must call it->fn(it) itself (not running, or the backlog full). */
int reclaim_defer(reclaim_item_t *it);

#endif
