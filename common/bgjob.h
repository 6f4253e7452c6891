/* bgjob — one piece of blocking work (a file written and fsync'ed) run on
 * a thread of its own, its completion delivered back on the caller's
 * libevent loop.
 *
 * The loop must not wait on the disk: an fsync of the sessions file took
 * 141 and 653 ms on this project's machines while rrdcached wrote
 * (docs/performance.md §1o), and every agent's batch waited behind it.
 * bgjob_run() hands work(arg) to the job's thread and returns; once it
 * has run, done(arg) is called on the loop. One job at a time: the caller
 * decides what to do when one is still running (bgjob_busy).
 *
 * The thread is made by bgjob_new and joined by bgjob_destroy, which
 * first waits for a running job and calls its done (the caller's state is
 * still there then). The thread wakes the loop through a pipe, so the
 * event base needs no threading support. */
#ifndef POE_BGJOB_H
#define POE_BGJOB_H

#include <stdbool.h>

struct event_base;
typedef struct bgjob bgjob_t;

/* A job runner on base, its thread named name (15 characters at most, for
 * top -H). NULL (errno) when the thread or pipe cannot be made. */
bgjob_t *bgjob_new(struct event_base *base, const char *name);

/* The same with the thread at nice value `nice` (Linux: its own; 0 the
 * process's): below the loops and the HTTP workers for work that only
 * has to be done soon (the gzip forms), so that it takes a core they
 * leave. */
bgjob_t *bgjob_new_nice(struct event_base *base, const char *name, int nice);

/* Wait for a running job (its done is called), stop the thread, free. */
void bgjob_destroy(bgjob_t **self_p);

/* True from bgjob_run until its done has returned. */
bool bgjob_busy(const bgjob_t *self);

/* Run work(arg) on the job's thread, then done(arg) on the loop. 0, or -1
 * when a job is still running (nothing is run). */
int bgjob_run(bgjob_t *self, void (*work)(void *arg), void (*done)(void *arg), void *arg);

#endif
