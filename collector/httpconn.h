/* httpconn — one HTTP/1.x connection of an HTTP worker (http_worker), as
 * a state machine driven by one function from its socket's events, as
 * memcached drives its connections:
 *
 *   READ --request parsed--> HANDLE --answered--> WRITE --written--> READ
 *                                  \--held answer--> STREAM (/v1/stream)
 *   WRITE --an answer to a broken request--> LINGER --client done--> CLOSED
 *   any --EOF, error, timeout, or an answer that closes--> CLOSED
 *
 * Requests are parsed by httpreq (http_parser). One request is handled at
 * a time: pipelined requests wait, unparsed, until
 * the one before is answered, so answers go out in order and a client
 * that stops reading stops being read.
 *
 * An answer is a status, header lines the caller built (httpconn_head_t:
 * copied into a fixed buffer, no allocation, no printf) and a body
 * (refcounted, http_cache.h, never copied). The connection adds the status
 * line, Date, Content-Length and Connection, and writes head and body
 * with one sendmsg at once, in the same loop turn — evhttp wrote through a
 * bufferevent on the next turn, with ~40 allocations and a printf per
 * header, which was most of a small response's cost (docs/performance.md
 * §3a). HEAD gets the length and no body.
 *
 * The connection enforces only the hard limits, beyond which it cannot go
 * on reading (httpreq.h): a request that breaks one, or that does not
 * parse, is still handed over with req->error set so the handler answers
 * it in its own format; the connection then stops sending and reads what
 * the client still sends (2 s, 1 MB at most) before it closes, so the
 * answer is not lost to a reset. The policy limits
 * are the handler's: the request carries its sizes. A connection idle, or
 * with a request incomplete, for the read timeout, or whose writing makes
 * no progress for the write timeout, is closed.
 *
 * Everything here runs on the worker's thread. */
#ifndef POE_HTTPCONN_H
#define POE_HTTPCONN_H

#include <stdbool.h>
#include <stddef.h>

#include "http_cache.h"
#include "httpreq.h"

struct event_base;
struct evbuffer;
struct timeval;

#define HTTPCONN_HEAD_MAX 1024           /* the caller's header lines */

typedef struct httpconn httpconn_t;

/* Header lines of an answer, built without allocating. */
typedef struct {
    size_t len;
    bool full;              /* a line did not fit: the answer is refused */
    bool close;             /* close the connection after this answer */
    char buf[HTTPCONN_HEAD_MAX];
} httpconn_head_t;

void httpconn_head_init(httpconn_head_t *h);
void httpconn_head_add(httpconn_head_t *h, const char *name, const char *value);

typedef struct {
    /* A request is complete: answer it now or later, exactly once, with
     * httpconn_respond or httpconn_stream. */
    void (*on_request)(void *arg, httpconn_t *c, const httpreq_t *req);
    /* The socket closed (once per connection; not called by
     * httpconn_destroy). A connection whose request is still unanswered
     * lives on until it is answered. */
    void (*on_close)(void *arg, httpconn_t *c);
    void *arg;
    const struct timeval *read_timeout;   /* idle or incomplete request */
    const struct timeval *write_timeout;  /* no progress writing an answer */
    char *rbuf;             /* the worker's read buffer, shared by its connections */
    size_t rbuf_len;
} httpconn_cfg_t;

/* Take over fd (a connected, non-blocking socket) on base. cfg must
 * outlive the connection. NULL when out of memory (fd is then closed). */
httpconn_t *httpconn_new(struct event_base *base, int fd, const httpconn_cfg_t *cfg);

/* Close and free at once, whatever the state (the worker going away). */
void httpconn_destroy(httpconn_t **self_p);

/* Answer the request with code, h's lines and body (one reference, taken;
 * NULL: no body). A connection already closed just drops it (and is freed
 * if nothing else holds it). h NULL: no lines of the caller's. 0, or -1
 * when h overflowed (the answer becomes a bare 500; the body is
 * released). */
int httpconn_respond(httpconn_t *c, int code, const httpconn_head_t *h,
                     http_cache_body_t *body);

/* Answer with a held response (200 and h's lines) whose body is sent
 * piece by piece with httpconn_stream_send: chunked for HTTP/1.1, running
 * to the close for 1.0. While held, a write that makes no progress for
 * write_timeout closes it. 0 or -1 (closed). */
int httpconn_stream(httpconn_t *c, const httpconn_head_t *h, const struct timeval *write_timeout);

/* Send b's bytes (b is emptied) as the stream's next piece. Never closes
 * the connection from inside the call (a failed write is seen on the next
 * loop turn), so a caller may walk its streams while sending. -1 when out
 * of memory. */
int httpconn_stream_send(httpconn_t *c, struct evbuffer *b);

/* Bytes accepted by httpconn_stream_send and not yet written. */
size_t httpconn_backlog(const httpconn_t *c);

/* Close the connection (on the next loop turn, as httpconn_stream_send
 * would see a failure). */
void httpconn_close(httpconn_t *c);

/* A slot number the owner keeps with the connection (its table index). */
void httpconn_set_slot(httpconn_t *c, int slot);
int httpconn_slot(const httpconn_t *c);

#endif
