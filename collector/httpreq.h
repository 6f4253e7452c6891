/* httpreq — an HTTP/1.x request read from a connection's bytes as they
 * come, by http_parser (libhttp-parser, Debian's): its target, the path
 * and query split from it, its header lines, and the sizes the policy
 * limits look at (collector/http_worker.c). Pure: no socket, no clock but
 * the one that times a request trickled in.
 *
 * httpreq_parse stops at the end of each request (pipelined bytes after
 * it are not read), so the connection answers requests one at a time and
 * in order. It enforces only the hard limits, beyond which reading cannot
 * go on: a head over HTTPREQ_HARD_HEAD (414 while still in the target,
 * else 431), a body over HTTPREQ_HARD_BODY (413, also when announced by
 * Content-Length), or bytes that do not parse (400 with http_parser's
 * reason). Such a request is still complete, with error and reason set,
 * so its answer is the handler's; the connection must close after it. */
#ifndef POE_HTTPREQ_H
#define POE_HTTPREQ_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPREQ_HARD_HEAD (64 * 1024)  /* request line + header lines */
#define HTTPREQ_HARD_BODY (64 * 1024)

enum httpreq_method { HTTPREQ_GET, HTTPREQ_HEAD, HTTPREQ_OPTIONS, HTTPREQ_OTHER };

/* A parsed request; valid until the next is parsed. */
typedef struct {
    enum httpreq_method method;
    int error;              /* 0, or 400/413/414/431: a hard limit broken */
    const char *reason;     /* with error: why, for the client */
    const char *target;     /* the request-target as sent */
    size_t target_len;
    const char *path;       /* target's path (before '?'), NUL-terminated */
    const char *query;      /* after '?', NULL when none */
    size_t headers_size;    /* header lines: name + value + 4 each */
    size_t body_len;        /* bytes of body read (and dropped) */
    const char *headers_;   /* private: "name\0value\0" nheaders_ times */
    int nheaders_;
} httpreq_t;

/* The value of the request's first header called name (ASCII
 * case-insensitive), or NULL. */
const char *httpreq_header(const httpreq_t *req, const char *name);

/* The parser of one connection's requests. */
typedef struct {
    http_parser parser;
    httpreq_t req;          /* the request, once complete */
    bool complete;          /* a request is ready */
    bool keep_alive;        /* it allows another after it */
    bool must_close;        /* nothing after it can be read as HTTP */
    bool in_request;        /* a request's first bytes came, not its last */
    int64_t begun_ms;       /* when (monotonic, coarse) */
    /* private */
    char *text;
    size_t text_len, text_cap;
    int part;
    size_t url_len, head_bytes;
} httpreq_parser_t;

void httpreq_init(httpreq_parser_t *p);

/* Parse up to len bytes at data, stopping at the end of a request.
 * Returns the bytes used; p->complete when a request is ready (the caller
 * clears it once it took the request). */
size_t httpreq_parse(httpreq_parser_t *p, const char *data, size_t len);

/* The request was answered: the next starts clean, even one that breaks
 * before its first byte parses. */
void httpreq_reset(httpreq_parser_t *p);

/* True when a request began more than max_ms ago and is not complete: a
 * client trickling it in, each byte of which would restart an idle
 * timeout. */
bool httpreq_slow(const httpreq_parser_t *p, int64_t max_ms);

void httpreq_free(httpreq_parser_t *p);

#endif
