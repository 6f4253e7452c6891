/* http_client — see http_client.h. */
#include "http_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vec.h"

/* A response larger than this is a test failure, not something to buffer. */
#define HC_MAX_RESPONSE (64u * 1024u * 1024u)

static void s_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before deadline: 1 ready, 0 timeout,
 * -1 error. */
static int s_wait(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { .fd = fd, .events = events };
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc < 0 ? -1 : rc > 0 ? 1 : 0;
    }
}

static int s_connect(int port, int64_t deadline, char *why, size_t whylen)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        s_why(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno != EINPROGRESS) {
            s_why(why, whylen, "connect to port %d: %s", port, strerror(errno));
            close(fd);
            return -1;
        }
        int err = 0;
        socklen_t elen = sizeof err;
        if (s_wait(fd, POLLOUT, deadline) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
            s_why(why, whylen, "connect to port %d: %s", port, err ? strerror(err) : "timeout");
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int s_send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (s_wait(fd, POLLOUT, deadline) != 1)
                return -1;
            continue;
        }
        /* The server may answer (414, 405) and close before reading all
         * of a long request: what it sent is still read afterwards. */
        if (w < 0)
            return errno == EPIPE || errno == ECONNRESET ? 0 : -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until the peer closes; *len bytes, NUL-terminated. NULL on timeout,
 * error or an oversized response. */
static char *s_read_all(int fd, int64_t deadline, size_t *len, char *why, size_t whylen)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) {
        if (n + 1 >= cap) {   /* full: room for more and the NUL */
            if (n >= HC_MAX_RESPONSE) {
                s_why(why, whylen, "response over %u bytes", HC_MAX_RESPONSE);
                free(buf);
                return NULL;
            }
            if (VEC_RESERVE(buf, cap, n + 16384 + 1) != 0) {
                s_why(why, whylen, "out of memory");
                free(buf);
                return NULL;
            }
        }
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r > 0) {
            n += (size_t)r;
            continue;
        }
        if (r == 0 || (r < 0 && errno == ECONNRESET && n > 0))
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN && s_wait(fd, POLLIN, deadline) == 1)
            continue;
        s_why(why, whylen, errno == EAGAIN ? "no complete response within %d ms"
                                           : "recv failed within %d ms", HC_TIMEOUT_MS);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *s_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *s_trim(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return s_strndup(s, n);
}

/* Status line and header lines of head[0..n) (CRLF separated). */
static int s_parse_head(const char *head, size_t n, hc_response_t *r, char *why, size_t whylen)
{
    const char *end = head + n;
    const char *eol = strstr(head, "\r\n");
    if (!eol || eol > end) {
        s_why(why, whylen, "no status line");
        return -1;
    }
    int used = 0;
    if (sscanf(head, "%15s %3d%n", r->version, &r->status, &used) != 2 ||
        strncmp(r->version, "HTTP/1.", 7) != 0 || r->status < 100 || r->status > 999) {
        s_why(why, whylen, "bad status line '%.*s'", (int)(eol - head), head);
        return -1;
    }
    const char *rs = head + used;
    while (rs < eol && *rs == ' ')
        rs++;
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)(eol - rs), rs);
    for (const char *line = eol + 2; line < end;) {
        const char *le = strstr(line, "\r\n");
        if (!le || le > end)
            le = end;
        if (le == line)
            break;
        const char *colon = memchr(line, ':', (size_t)(le - line));
        if (!colon || colon == line) {
            s_why(why, whylen, "bad header line '%.*s'", (int)(le - line), line);
            return -1;
        }
        if (r->nheaders == HC_MAX_HEADERS) {
            s_why(why, whylen, "more than %d headers", HC_MAX_HEADERS);
            return -1;
        }
        r->name[r->nheaders] = s_strndup(line, (size_t)(colon - line));
        r->value[r->nheaders] = s_trim(colon + 1, (size_t)(le - colon - 1));
        if (!r->name[r->nheaders] || !r->value[r->nheaders]) {
            free(r->name[r->nheaders]);
            free(r->value[r->nheaders]);
            s_why(why, whylen, "out of memory");
            return -1;
        }
        r->nheaders++;
        line = le + 2;
    }
    return 0;
}

/* De-chunk p[0..n) into a new buffer. */
static int s_dechunk(const char *p, size_t n, hc_response_t *r, char *why, size_t whylen)
{
    char *out = malloc(n + 1);
    size_t o = 0, i = 0;
    if (!out) {
        s_why(why, whylen, "out of memory");
        return -1;
    }
    for (;;) {
        char *endp;
        if (i >= n || !isxdigit((unsigned char)p[i]))
            goto bad;
        unsigned long sz = strtoul(p + i, &endp, 16);
        const char *crlf = strstr(endp, "\r\n");
        if (!crlf || (size_t)(crlf - p) > n)
            goto bad;
        i = (size_t)(crlf - p) + 2;
        if (sz == 0)
            break;
        if (sz > n - i || n - i - sz < 2 || p[i + sz] != '\r' || p[i + sz + 1] != '\n')
            goto bad;
        memcpy(out + o, p + i, sz);
        o += sz;
        i += sz + 2;
    }
    out[o] = '\0';
    r->body = out;
    r->body_len = o;
    return 0;
bad:
    free(out);
    s_why(why, whylen, "malformed chunked body");
    return -1;
}

static int s_parse(const char *resp, size_t len, hc_response_t *r, char *why, size_t whylen)
{
    const char *hend = strstr(resp, "\r\n\r\n");
    if (!hend) {
        s_why(why, whylen, "no end of headers in %zu bytes", len);
        return -1;
    }
    size_t hlen = (size_t)(hend - resp) + 2;
    if (s_parse_head(resp, hlen, r, why, whylen) != 0)
        return -1;
    const char *body = hend + 4;
    size_t blen = len - (size_t)(body - resp);
    const char *te = hc_header(r, "Transfer-Encoding");
    if (te && strcasecmp(te, "chunked") == 0)
        return s_dechunk(body, blen, r, why, whylen);
    const char *cl = hc_header(r, "Content-Length");
    if (cl) {
        char *endp;
        unsigned long long want = strtoull(cl, &endp, 10);
        if (*cl == '\0' || *endp != '\0') {
            s_why(why, whylen, "bad Content-Length '%s'", cl);
            return -1;
        }
        /* A HEAD or 304 carries the length of the body it does not send. */
        if (blen > 0 && blen < want) {
            s_why(why, whylen, "body of %zu bytes, Content-Length %llu", blen, want);
            return -1;
        }
    }
    r->body = s_strndup(body, blen);
    if (!r->body) {
        s_why(why, whylen, "out of memory");
        return -1;
    }
    r->body_len = blen;
    return 0;
}

int hc_request(int port, const char *method, const char *path, const char *const *headers,
               hc_response_t *out, char *why, size_t whylen)
{
    return hc_request_body(port, method, path, headers, NULL, 0, out, why, whylen);
}

int hc_request_body(int port, const char *method, const char *path, const char *const *headers,
                    const char *body, size_t bodylen, hc_response_t *out, char *why,
                    size_t whylen)
{
    memset(out, 0, sizeof *out);
    s_why(why, whylen, "%s", "");
    int64_t deadline = s_now_ms() + HC_TIMEOUT_MS;
    size_t reqlen = strlen(method) + strlen(path) + 160 + bodylen;
    for (size_t i = 0; headers && headers[i]; i++)
        reqlen += strlen(headers[i]) + 2;
    char *req = malloc(reqlen);
    if (!req) {
        s_why(why, whylen, "out of memory");
        return -1;
    }
    size_t n = (size_t)snprintf(req, reqlen, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                                method, path);
    for (size_t i = 0; headers && headers[i]; i++)
        n += (size_t)snprintf(req + n, reqlen - n, "%s\r\n", headers[i]);
    if (body)
        n += (size_t)snprintf(req + n, reqlen - n, "Content-Length: %zu\r\n", bodylen);
    n += (size_t)snprintf(req + n, reqlen - n, "\r\n");
    if (body) {
        memcpy(req + n, body, bodylen);
        n += bodylen;
    }

    int rc = -1;
    char *resp = NULL;
    size_t len = 0;
    int fd = s_connect(port, deadline, why, whylen);
    if (fd < 0)
        goto done;
    if (s_send_all(fd, req, n, deadline) != 0) {
        s_why(why, whylen, "send: %s", strerror(errno));
        goto done;
    }
    if (!(resp = s_read_all(fd, deadline, &len, why, whylen)))
        goto done;
    rc = s_parse(resp, len, out, why, whylen);
done:
    if (rc != 0)
        hc_free(out);
    if (fd >= 0)
        close(fd);
    free(resp);
    free(req);
    return rc;
}

int hc_get(int port, const char *path, const char *const *headers, hc_response_t *out,
           char *why, size_t whylen)
{
    return hc_request(port, "GET", path, headers, out, why, whylen);
}

const char *hc_header(const hc_response_t *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->name[i], name) == 0)
            return r->value[i];
    return NULL;
}

size_t hc_header_count(const hc_response_t *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        n += strcasecmp(r->name[i], name) == 0;
    return n;
}

void hc_free(hc_response_t *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->name[i]);
        free(r->value[i]);
    }
    free(r->body);
    memset(r, 0, sizeof *r);
}
