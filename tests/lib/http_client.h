/* http_client — a minimal blocking HTTP/1.1 client for tests, over a raw
 * socket to 127.0.0.1, so a test sees exactly what the server sent: status
 * line, every header (looked up case-insensitively) and the body bytes,
 * undecoded (no gzip inflation).
 *
 * One request per connection: the request carries "Connection: close" and
 * the answer is read until the server closes, so bytes a server wrongly
 * sends after a HEAD or 304 response are seen, not silently left unread.
 * A chunked body is de-chunked; otherwise the body is every byte after the
 * headers and must be at least Content-Length long. Every exchange is
 * bounded by 10 s in total. Plain POSIX, no dependencies. */
#ifndef POE_TEST_HTTP_CLIENT_H
#define POE_TEST_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define HC_MAX_HEADERS 64
#define HC_TIMEOUT_MS 10000

typedef struct {
    int status;                      /* e.g. 200 */
    char reason[64];                 /* "OK" */
    char version[16];                /* "HTTP/1.1" */
    size_t nheaders;
    char *name[HC_MAX_HEADERS];      /* as received */
    char *value[HC_MAX_HEADERS];     /* leading and trailing blanks removed */
    char *body;                      /* malloc'ed, NUL-terminated after body_len bytes */
    size_t body_len;
} hc_response_t;

/* Send "METHOD path HTTP/1.1" to 127.0.0.1:port with Host, Connection:
 * close and the extra header lines in headers ("Name: value", NULL-
 * terminated; NULL for none), then read the whole response into *out.
 * Returns 0, or -1 (connection, timeout or parse error) with a reason in
 * why (may be NULL) and *out empty. hc_free *out in both cases. */
int hc_request(int port, const char *method, const char *path, const char *const *headers,
               hc_response_t *out, char *why, size_t whylen);

/* The same with a request body of bodylen bytes (Content-Length added). */
int hc_request_body(int port, const char *method, const char *path, const char *const *headers,
                    const char *body, size_t bodylen, hc_response_t *out, char *why,
                    size_t whylen);

/* GET with optional extra headers. Same contract as hc_request. */
int hc_get(int port, const char *path, const char *const *headers, hc_response_t *out,
           char *why, size_t whylen);

/* Value of the first header named name (case-insensitive), NULL if absent. */
const char *hc_header(const hc_response_t *r, const char *name);

/* How many headers are named name (case-insensitive). */
size_t hc_header_count(const hc_response_t *r, const char *name);

/* Free what *r holds and empty it; safe on an empty or freed response. */
void hc_free(hc_response_t *r);

#endif
