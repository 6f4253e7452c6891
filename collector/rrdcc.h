/* rrdcc — a small client for the rrdcached text protocol over a Unix socket.
 *
 * Owns one connection to rrdcached and the line protocol on it: a command
 * line out, a status line "<n> message" back followed by n lines when n > 0
 * (n < 0 is an error reported by rrdcached), and BATCH mode. We speak the
 * protocol ourselves because librrd 1.7.2 does not export rrd_client_new and
 * its rrdc_* calls make one round trip per update (~18k updates/s), while a
 * BATCH carries many updates per write (~840k updates/s).
 *
 * All I/O is blocking from the caller's point of view but every wait is
 * bounded by the timeout given to rrdcc_new (poll), so a hung rrdcached
 * cannot hang the caller. Any I/O error or timeout closes the connection,
 * because the position in the reply stream is then unknown; the next
 * command reconnects (or, with rrdcc_set_autoconnect off, fails until the
 * caller reconnects).
 *
 * Every call returns 0 or -1. After -1, rrdcc_error() says why and
 * rrdcc_connected() tells a refused command (still connected: rrdcached
 * answered with a negative status) from a lost connection. */
#ifndef POE_RRDCC_H
#define POE_RRDCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rrdcc rrdcc_t;

/* A reply: the status line and the lines after it. Points into the
 * client; valid until the next call on the same client. */
typedef struct {
    int status;              /* < 0 refused; >= 0 number of lines */
    const char *message;     /* status line after the number */
    size_t nlines;
    const char *const *lines;
} rrdcc_reply_t;

/* Client for address "unix:/path/sock" or "/path/sock" with a timeout per
 * wait in milliseconds (<= 0 means 5000). Does not connect yet. NULL on a
 * bad address or out of memory (logged). */
rrdcc_t *rrdcc_new(const char *address, int timeout_ms);

/* Close the connection, free the client and set *self_p to NULL. */
void rrdcc_destroy(rrdcc_t **self_p);

/* Connect now (closing any previous connection). Failures are logged once
 * per outage, not once per attempt, so a caller may retry every second. */
int rrdcc_connect(rrdcc_t *self);

/* Close the connection; the next command reconnects (unless automatic
 * reconnection is off). */
void rrdcc_disconnect(rrdcc_t *self);

/* On by default. Off: a command while disconnected fails ("not connected")
 * and only rrdcc_connect connects, so a caller whose state belongs to one
 * rrdcached process (the archive's time guards) sees every new connection
 * before anything is sent on it. */
void rrdcc_set_autoconnect(rrdcc_t *self, bool on);

bool rrdcc_connected(const rrdcc_t *self);

/* The address given to rrdcc_new. */
const char *rrdcc_address(const rrdcc_t *self);

/* How many times a connection was established (the first one included). A
 * change means rrdcached may have restarted and lost what it had cached. */
uint64_t rrdcc_connects(const rrdcc_t *self);

/* Why the last call failed ("" when it did not). */
const char *rrdcc_error(const rrdcc_t *self);

/* Send one command line (no newline; must not contain one) and read the
 * status line and the lines that follow. Connects first when needed.
 * Returns 0 when rrdcached answered with status >= 0; -1 when it refused
 * (reply filled, still connected) or on I/O failure. reply may be NULL. */
int rrdcc_command(rrdcc_t *self, const char *line, rrdcc_reply_t *reply);

/* Send buf (commands, each ending in '\n', none of them BATCH or '.') as
 * one BATCH and read the result "<n> errors" and its n lines
 * "<command number> <message>" (numbers from 1). Returns 0 when every
 * command was accepted; -1 when some were refused (reply lists them,
 * rrdcc_error() names the first) or on I/O failure (what was sent before
 * the failure may have been applied). reply may be NULL. */
int rrdcc_batch(rrdcc_t *self, const char *buf, size_t len, rrdcc_reply_t *reply);

/* The same in two halves, and several batches in flight, so the caller
 * prepares the next batches while rrdcached applies the first (one round
 * trip for many batches instead of one each). rrdcc_batch_send queues buf
 * behind the batches owed already and writes what the socket takes now;
 * buf must stay unchanged until its result is taken. It returns 0 when the
 * batch is owed (even if writing it failed: the result says so), -1 when
 * it could not be started (nothing owed: not connected, not a batch, or
 * RRDCC_OWED_MAX owed already). rrdcc_batch_wait takes the oldest owed
 * batch's result (writing what it needs and blocking, bounded by the
 * timeout), as rrdcc_batch returns it, without the refused lines. A refused
 * batch fails alone; a lost connection fails every batch owed. Any other
 * command on the client first reads every owed result and keeps them for
 * rrdcc_batch_wait. rrdcc_batch_ready, without blocking, writes more,
 * reads what has arrived and says whether rrdcc_batch_wait would return at
 * once; rrdcc_batch_writing, whether part of the newest batch is still to
 * be written (watch rrdcc_fd for writing, else for reading). rrdcc_fd is
 * -1 when not connected and changes with each connection. */
#define RRDCC_OWED_MAX 8
int rrdcc_batch_send(rrdcc_t *self, const char *buf, size_t len);
int rrdcc_batch_wait(rrdcc_t *self);
bool rrdcc_batch_ready(rrdcc_t *self);
bool rrdcc_batch_writing(const rrdcc_t *self);
int rrdcc_fd(const rrdcc_t *self);

/* PING: 0 when rrdcached answers PONG. */
int rrdcc_ping(rrdcc_t *self);

/* FLUSH path: returns once rrdcached has written the file's pending
 * updates ("Nothing to flush" is success). -1 also when the file is
 * missing. */
int rrdcc_flush(rrdcc_t *self, const char *path);

/* LAST path: rrdcached 1.7.2 answers the last update time ROUNDED DOWN to
 * the file's step (it reads its cache, so pending updates count). The
 * exact time is within [*out, *out + step). */
int rrdcc_last(rrdcc_t *self, const char *path, int64_t *out);

/* INFO path, field last_update: the exact last update time as written in
 * the file (pending updates do not count: FLUSH first). */
int rrdcc_last_update(rrdcc_t *self, const char *path, int64_t *out);

/* CREATE path -s step -b start [-O] defs...: defs are "DS:..." and
 * "RRA:..." strings. With no_overwrite an existing file is an error.
 * The directory must exist (rrdcached's own mkdir needs -B -R, and its
 * error for that case is two lines that would desynchronise the stream). */
int rrdcc_create(rrdcc_t *self, const char *path, int64_t start, unsigned step,
                 bool no_overwrite, const char *const *defs, size_t ndefs);

/* A FETCH result: nrows rows of nds values, row i ending at
 * start + (i + 1) * step; "nan" becomes NAN. */
typedef struct {
    int64_t start, end, step;
    size_t nds, nrows;
    char **names;            /* nds DS names, in column order */
    double *values;          /* nrows * nds, row-major */
} rrdcc_fetch_t;

/* FETCH path cf start end [ds...] (rrdcached flushes the file first and
 * picks the finest RRA that covers start). ds may be NULL/0 for all DS in
 * file order. Fills out (free with rrdcc_fetch_free). */
int rrdcc_fetch(rrdcc_t *self, const char *path, const char *cf, int64_t start,
                int64_t end, const char *const *ds, size_t nds, rrdcc_fetch_t *out);
void rrdcc_fetch_free(rrdcc_fetch_t *f);

/* A FETCH reply's lines ("Key: value" headers, then "<time>: v v" rows
 * each one step after the last) into out (collector/rrdcc_fetch.c). -1
 * when malformed (out is then empty). */
int rrdcc_fetch_parse(const rrdcc_reply_t *r, rrdcc_fetch_t *out);

#endif
