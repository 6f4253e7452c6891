/* sse_client — a Server-Sent Events client for tests and benches: one
 * held GET on 127.0.0.1, read without blocking (poll or epoll the fd), the
 * chunked body de-chunked and cut into frames as a browser's EventSource
 * would ("id:", "event:", "data:" lines; comment lines; "retry:").
 *
 * A refused stream (a status other than 200) is read to its end: status
 * and body tell why. Plain POSIX. */
#ifndef POE_TEST_SSE_CLIENT_H
#define POE_TEST_SSE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int fd;
    int status;                 /* 0 until the status line came */
    char *raw;                  /* bytes as received (after the headers: undecoded) */
    size_t rlen, rcap;
    size_t hdr_end;             /* offset of the body in raw; 0 until the headers came */
    bool chunked;
    size_t cpos;                /* de-chunking cursor in raw */
    size_t chunk_left;          /* bytes left of the current chunk */
    bool chunk_crlf;            /* a chunk's trailing CRLF is due */
    char *body;                 /* the de-chunked body, NUL-terminated */
    size_t blen, bcap;
    size_t epos;                /* where the next frame starts in body */
    bool closed;                /* the server closed (or an error) */
} sse_client_t;

typedef struct {
    bool has_id;
    uint64_t id;
    char event[32];             /* "wait", "snapshot"; ":" for a comment frame; "retry" */
    char *data;                 /* malloc'ed (data lines joined by \n; the comment's text) */
} sse_client_event_t;

/* Connect and send "GET path" with Last-Event-ID: last_id when not NULL.
 * 0, or -1 (connection refused...). */
int sse_client_open(sse_client_t *c, int port, const char *path, const char *last_id);

/* Read what arrived, with one read(2) (never blocks): poll again for
 * more. Returns bytes read, 0 when nothing was waiting, -1 when the
 * server closed or the connection failed. */
long sse_client_read(sse_client_t *c);

/* Wait up to timeout_ms for something to read, then read it. As
 * sse_client_read. */
long sse_client_wait(sse_client_t *c, int timeout_ms);

/* The next complete frame: 1 (ev filled; sse_client_event_free it), 0
 * when none is complete yet. */
int sse_client_next(sse_client_t *c, sse_client_event_t *ev);
void sse_client_event_free(sse_client_event_t *ev);

/* Read until the headers came (and, for a refusal, the whole body) or
 * timeout_ms: the status, or -1. */
int sse_client_status(sse_client_t *c, int timeout_ms);

/* Value of header name in the response (static buffer), NULL if absent. */
const char *sse_client_header(const sse_client_t *c, const char *name);

void sse_client_close(sse_client_t *c);

#endif
