/* sse — /v1/stream: the live feed's per-queue updates to browsers as
 * Server-Sent Events (text/event-stream over a held HTTP/1.1 response).
 *
 * The events are the ZeroMQ live feed's (collector/pubfeed tap): one
 * "event: wait" per changed queue whose "id:" is the feed's sequence
 * number and whose data is the feed's JSON body. A stream starts with
 * "event: snapshot" (id = the sequence it was taken at; data = the
 * /v1/crossings body, or one crossing's with ?crossing=ID) — unless the
 * browser reconnects with Last-Event-ID still inside the ring of recent
 * events, which are then replayed with no gap. A Last-Event-ID that is not
 * a decimal number, or is ahead of the feed, is refused (400, reason in
 * the JSON body); one too far behind gets a snapshot. A comment line
 * (": hb <seq>") goes every SSE_HEARTBEAT_MS so proxies and browsers see
 * the stream alive. At most max_clients streams: the next is refused with
 * 503 and a reason, Retry-After. A client that stops reading (output over
 * SSE_MAX_BACKLOG bytes) is dropped; it reconnects and resumes.
 *
 * Written for an HTTP server on the collector's one event loop (http.c
 * before the worker threads of http_worker.c): NOT WIRED at present —
 * /v1/stream answers 503 until the streams move onto the workers (each
 * worker its own client list, fed from this ring by the main loop). */
#ifndef POE_SSE_H
#define POE_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct event_base;
struct evhttp_request;
struct evhttp_connection;

#define SSE_RING 4096                 /* recent events kept for resuming */
#define SSE_HEARTBEAT_MS 15000
#define SSE_MAX_BACKLOG (512 * 1024)  /* unread bytes before a client is dropped */
#define SSE_DEFAULT_CLIENTS 256

typedef struct sse sse_t;

/* NULL when out of memory (logged). */
sse_t *sse_new(struct event_base *base, state_t *state, int64_t stale_after_ms, int max_clients);
void sse_destroy(sse_t **self_p);

/* The live feed published update seq for crossing (a JSON body). */
void sse_publish(sse_t *self, uint64_t seq, const char *crossing, const char *body);

/* Serve GET /v1/stream (query: optional crossing=ID, known to the caller
 * to exist when given). Answers errors itself. */
void sse_attach(sse_t *self, struct evhttp_request *req, const char *crossing);

/* A connection closed: forget its stream, if it had one. */
void sse_conn_closed(sse_t *self, struct evhttp_connection *evcon);

/* Streams open now, and refused (cap, bad Last-Event-ID) since start. */
int sse_clients(const sse_t *self);
uint64_t sse_refused(const sse_t *self);

/* Parse a Last-Event-ID value: 0 and *seq, or -1 (not a decimal number of
 * at most 19 digits). */
int sse_parse_id(const char *s, uint64_t *seq);

#endif
