/* sse — /v1/stream on one HTTP worker thread: the live feed's per-queue
 * updates to browsers as Server-Sent Events (text/event-stream over a held
 * HTTP/1.1 chunked response).
 *
 * The events are the ZeroMQ live feed's (collector/pubfeed), kept by the
 * main loop in the shared ring (collector/sse_ring): one "event: wait" per
 * changed queue whose "id:" is the feed's sequence number and whose data
 * is the feed's JSON body. A stream starts with "event: snapshot" (id = the
 * sequence the snapshot was rendered at; data = the published /v1/crossings
 * body, or /v1/crossings/{id} with ?crossing=ID, by reference from the
 * worker's HTTP snapshot, collector/http_snap) then every update after it —
 * unless the browser reconnects with a Last-Event-ID the ring still
 * reaches back to: the events after it are then replayed with no gap and
 * no snapshot. A Last-Event-ID that is not a decimal number, or is ahead
 * of the feed, is refused with 400 and its reason (JSON); one too far
 * behind gets a snapshot. A comment line (": hb <seq>") goes every
 * SSE_HEARTBEAT_MS so proxies and browsers see the stream alive. At most
 * the ring's bound of streams across all workers: the next is refused
 * with 503, its reason (JSON) and Retry-After. A client that stops reading
 * (output over SSE_MAX_BACKLOG bytes) is dropped; it reconnects and
 * resumes. A stream that falls behind the ring (its worker starved) gets a
 * new snapshot inline.
 *
 * Frames are formatted once by the main loop; a stream gets one chunk per
 * wake-up with every update it is due (a few hundred bytes each, copied),
 * the snapshot by reference (no copy per stream). Everything here runs on
 * the worker's own thread and event base; the only shared things are the
 * ring and the published snapshot. */
#ifndef POE_SSE_H
#define POE_SSE_H

#include <stdint.h>

#include "http_snap.h"
#include "sse_ring.h"

#include "httpconn.h"

struct event_base;

#define SSE_HEARTBEAT_MS 15000
#define SSE_MAX_BACKLOG (512 * 1024)  /* unread bytes before a client is dropped */

typedef struct sse sse_t;

/* One worker's streams, fed from ring (registered as a reader: call before
 * the worker runs; wake(arg) must make the worker call sse_pump). NULL
 * when out of memory (logged). */
sse_t *sse_new(struct event_base *base, sse_ring_t *ring, void (*wake)(void *arg), void *arg);

/* On the main loop's thread once the worker's thread has stopped, after
 * its connections are freed; unregisters from the ring. */
void sse_destroy(sse_t **self_p);

/* Serve GET or HEAD /v1/stream. crossing: "" for every crossing, else an
 * id the caller checked exists in snap. snap: the worker's newest HTTP
 * snapshot (NULL before the first). Answers errors itself. */
void sse_attach(sse_t *self, httpconn_t *c, const httpreq_t *req, const char *crossing,
                http_snap_t *snap);

/* Send what the ring has for every stream (the worker was woken); snap as
 * for sse_attach, for streams waiting for a snapshot. */
void sse_pump(sse_t *self, http_snap_t *snap);

/* A connection closed: forget its stream, if it had one. */
void sse_conn_closed(sse_t *self, httpconn_t *c);

/* Parse a Last-Event-ID value: 0 and *seq, or -1 (not a decimal number of
 * at most 19 digits). */
int sse_parse_id(const char *s, uint64_t *seq);

#endif
