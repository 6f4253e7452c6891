/* sse_client — see sse_client.h. */
#include "sse_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int s_grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

int sse_client_open(sse_client_t *c, int port, const char *path, const char *last_id)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s%s%s\r\n",
                     path, last_id ? "Last-Event-ID: " : "", last_id ? last_id : "",
                     last_id ? "\r\n" : "");
    if (n <= 0 || (size_t)n >= sizeof req || write(c->fd, req, (size_t)n) != n)
        goto fail;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    if (s_grow(&c->body, &c->bcap, 1) != 0)
        goto fail;
    c->body[0] = '\0';
    return 0;
fail:
    sse_client_close(c);
    return -1;
}

static void s_append_body(sse_client_t *c, const char *p, size_t n)
{
    if (s_grow(&c->body, &c->bcap, c->blen + n + 1) != 0)
        return;   /* out of memory in a test: the frame is missing, the test fails */
    memcpy(c->body + c->blen, p, n);
    c->blen += n;
    c->body[c->blen] = '\0';
}

/* Headers, then the body de-chunked as far as raw goes. */
static void s_parse(sse_client_t *c)
{
    if (!c->hdr_end) {
        char *e = c->rlen ? memmem(c->raw, c->rlen, "\r\n\r\n", 4) : NULL;
        if (!e)
            return;
        c->hdr_end = (size_t)(e - c->raw) + 4;
        c->cpos = c->hdr_end;
        sscanf(c->raw, "HTTP/1.%*d %d", &c->status);
        const char *te = sse_client_header(c, "Transfer-Encoding");
        c->chunked = te && strcasecmp(te, "chunked") == 0;
    }
    while (c->cpos < c->rlen) {
        if (!c->chunked) {
            s_append_body(c, c->raw + c->cpos, c->rlen - c->cpos);
            c->cpos = c->rlen;
        } else if (c->chunk_left) {
            size_t n = c->rlen - c->cpos < c->chunk_left ? c->rlen - c->cpos : c->chunk_left;
            s_append_body(c, c->raw + c->cpos, n);
            c->cpos += n;
            c->chunk_left -= n;
            c->chunk_crlf = c->chunk_left == 0;
        } else if (c->chunk_crlf) {
            if (c->rlen - c->cpos < 2)
                return;
            c->cpos += 2;
            c->chunk_crlf = false;
        } else {
            char *e = memmem(c->raw + c->cpos, c->rlen - c->cpos, "\r\n", 2);
            if (!e)
                return;
            c->chunk_left = strtoul(c->raw + c->cpos, NULL, 16);
            c->cpos = (size_t)(e - c->raw) + 2;
            if (!c->chunk_left) { /* the last chunk */
                c->closed = true;
                c->cpos = c->rlen;
            }
        }
    }
}

long sse_client_read(sse_client_t *c)
{
    /* one read a call: a caller polling level-triggered is told again */
    if (s_grow(&c->raw, &c->rcap, c->rlen + 65536 + 1) != 0)
        return -1;
    ssize_t n;
    do
        n = read(c->fd, c->raw + c->rlen, c->rcap - c->rlen - 1);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->rlen += (size_t)n;
        c->raw[c->rlen] = '\0';
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        c->closed = true;
    }
    s_parse(c);
    return n > 0 ? (long)n : c->closed ? -1 : 0;
}

long sse_client_wait(sse_client_t *c, int timeout_ms)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    if (c->closed)
        return -1;
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    return sse_client_read(c);
}

int sse_client_next(sse_client_t *c, sse_client_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    char *start = c->body + c->epos;
    char *end = strstr(start, "\n\n");
    if (!end)
        return 0;
    c->epos = (size_t)(end - c->body) + 2;
    size_t dlen = 0;
    ev->data = calloc(1, (size_t)(end - start) + 1);
    if (!ev->data)
        return 0;
    for (char *line = start; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (n >= 4 && strncmp(line, "id: ", 4) == 0) {
            ev->has_id = true;
            ev->id = strtoull(line + 4, NULL, 10);
        } else if (n >= 7 && strncmp(line, "event: ", 7) == 0) {
            snprintf(ev->event, sizeof ev->event, "%.*s", (int)(n - 7), line + 7);
        } else if (n >= 6 && strncmp(line, "data: ", 6) == 0) {
            if (dlen)
                ev->data[dlen++] = '\n';
            memcpy(ev->data + dlen, line + 6, n - 6);
            dlen += n - 6;
        } else if (n >= 1 && line[0] == ':') {
            snprintf(ev->event, sizeof ev->event, ":");
            memcpy(ev->data + dlen, line + 1, n - 1);
            dlen += n - 1;
        } else if (n >= 6 && strncmp(line, "retry:", 6) == 0) {
            snprintf(ev->event, sizeof ev->event, "retry");
        }
        line += n + 1;
    }
    ev->data[dlen] = '\0';
    return 1;
}

void sse_client_event_free(sse_client_event_t *ev)
{
    free(ev->data);
    ev->data = NULL;
}

static long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int sse_client_status(sse_client_t *c, int timeout_ms)
{
    long end = s_now_ms() + timeout_ms;
    while (!c->hdr_end || (c->status != 200 && !c->closed)) {
        long left = end - s_now_ms();
        if (left <= 0 || sse_client_wait(c, (int)left) < 0)
            break;
    }
    return c->hdr_end ? c->status : -1;
}

const char *sse_client_header(const sse_client_t *c, const char *name)
{
    static char value[256];
    size_t nl = strlen(name);
    if (!c->hdr_end)
        return NULL;
    for (const char *p = strstr(c->raw, "\r\n"); p && (size_t)(p - c->raw) + 2 < c->hdr_end;
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            snprintf(value, sizeof value, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return value;
        }
    }
    return NULL;
}

void sse_client_close(sse_client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->raw);
    free(c->body);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}
