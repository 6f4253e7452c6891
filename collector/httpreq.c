/* httpreq — see httpreq.h. The request being parsed is kept in `text` as
 * "target\0name\0value\0...path\0query\0"; its pointers are made when it
 * is complete (text may move until then). */
#include "httpreq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum s_part { P_NONE, P_URL, P_FIELD, P_VALUE };

/* Room for len more bytes (and a NUL). */
static int s_reserve(httpreq_parser_t *c, size_t len)
{
    if (c->text_len + len + 1 <= c->text_cap)
        return 0;
    size_t cap = c->text_cap ? c->text_cap : 512;
    while (cap < c->text_len + len + 1)
        cap *= 2;
    char *t = realloc(c->text, cap);
    if (!t)
        return -1;
    c->text = t;
    c->text_cap = cap;
    return 0;
}

static int s_append(httpreq_parser_t *c, const char *at, size_t len)
{
    if (s_reserve(c, len) != 0)
        return -1;
    memcpy(c->text + c->text_len, at, len);
    c->text_len += len;
    return 0;
}

static void s_fail(httpreq_parser_t *c, int code, const char *reason)
{
    if (!c->req.error) {
        c->req.error = code;
        c->req.reason = reason;
    }
}

/* End what is open (the target, a name, a value) with its NUL. */
static int s_end_part(httpreq_parser_t *c)
{
    if (c->part == P_VALUE) {
        while (c->text_len > 0 && (c->text[c->text_len - 1] == ' ' || c->text[c->text_len - 1] == '\t'))
            c->text_len--;
        c->req.nheaders_++;
    }
    int rc = s_append(c, "", 1);
    if (c->part == P_FIELD) { /* a name without a value */
        rc |= s_append(c, "", 1);
        c->req.nheaders_++;
    }
    c->part = P_NONE;
    return rc;
}

/* Count n more bytes of the head against the hard limit. */
static int s_head_bytes(httpreq_parser_t *c, size_t n)
{
    c->head_bytes += n;
    if (c->head_bytes <= HTTPREQ_HARD_HEAD)
        return 0;
    if (c->part == P_URL || c->part == P_NONE)
        s_fail(c, 414, "request URI too long");
    else
        s_fail(c, 431, "request header fields too large");
    return -1;
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int s_on_begin(http_parser *p)
{
    httpreq_parser_t *c = p->data;
    c->begun_ms = s_mono_ms();
    c->in_request = true;
    c->text_len = 0;
    c->part = P_NONE;
    c->url_len = c->head_bytes = 0;
    memset(&c->req, 0, sizeof c->req);
    return 0;
}

static int s_on_url(http_parser *p, const char *at, size_t len)
{
    httpreq_parser_t *c = p->data;
    c->part = P_URL;
    c->url_len += len;
    if (s_head_bytes(c, len) != 0)
        return -1;
    return s_append(c, at, len);
}

static int s_on_field(http_parser *p, const char *at, size_t len)
{
    httpreq_parser_t *c = p->data;
    if (c->part != P_FIELD) {
        if (s_end_part(c) != 0)
            return -1;
        c->req.headers_size += 4;
    }
    c->part = P_FIELD;
    c->req.headers_size += len;
    if (s_head_bytes(c, len) != 0)
        return -1;
    return s_append(c, at, len);
}

static int s_on_value(http_parser *p, const char *at, size_t len)
{
    httpreq_parser_t *c = p->data;
    if (c->part == P_FIELD && s_append(c, "", 1) != 0)
        return -1;
    c->part = P_VALUE;
    c->req.headers_size += len;
    if (s_head_bytes(c, len) != 0)
        return -1;
    return s_append(c, at, len);
}

static int s_on_headers(http_parser *p)
{
    httpreq_parser_t *c = p->data;
    if (s_end_part(c) != 0)
        return -1;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > HTTPREQ_HARD_BODY) {
        s_fail(c, 413, "request body too large");
        return -1;
    }
    return 0;
}

static int s_on_body(http_parser *p, const char *at, size_t len)
{
    (void)at;
    httpreq_parser_t *c = p->data;
    c->req.body_len += len;
    if (c->req.body_len > HTTPREQ_HARD_BODY) {
        s_fail(c, 413, "request body too large");
        return -1;
    }
    return 0;
}

/* The request's pointers into text, its path and query appended. */
static int s_finish(httpreq_parser_t *c)
{
    if (c->part != P_NONE || c->text_len == 0)
        if (s_end_part(c) != 0)
            return -1;
    size_t tlen = strlen(c->text);
    const char *path = c->text, *end = c->text + tlen;
    /* absolute-form (RFC 9112 3.2.2): the path starts after the authority */
    if (strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0) {
        const char *slash = strchr(strstr(path, "//") + 2, '/');
        path = slash ? slash : end;
    }
    size_t plen = strcspn(path, "?#");
    const char *q = path[plen] == '?' ? path + plen + 1 : NULL;
    size_t qlen = q ? strcspn(q, "#") : 0;
    size_t poff = (size_t)(path - c->text), qoff = q ? (size_t)(q - c->text) : 0;
    size_t at = c->text_len;
    if (s_reserve(c, plen + qlen + 2) != 0)   /* the copies below read text itself */
        return -1;
    s_append(c, c->text + poff, plen);
    s_append(c, "", 1);
    if (q) {
        s_append(c, c->text + qoff, qlen);
        s_append(c, "", 1);
    }
    c->req.target = c->text;
    c->req.target_len = c->url_len;
    c->req.headers_ = c->text + tlen + 1;
    c->req.path = c->text + at;
    c->req.query = q ? c->text + at + plen + 1 : NULL;
    switch (c->parser.method) {
    case HTTP_GET: c->req.method = HTTPREQ_GET; break;
    case HTTP_HEAD: c->req.method = HTTPREQ_HEAD; break;
    case HTTP_OPTIONS: c->req.method = HTTPREQ_OPTIONS; break;
    default: c->req.method = HTTPREQ_OTHER; break;
    }
    return 0;
}

static int s_on_complete(http_parser *p)
{
    httpreq_parser_t *c = p->data;
    c->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    c->in_request = false;
    if (s_finish(c) != 0)
        return -1;
    c->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings s_settings = {
    .on_message_begin = s_on_begin,
    .on_url = s_on_url,
    .on_header_field = s_on_field,
    .on_header_value = s_on_value,
    .on_headers_complete = s_on_headers,
    .on_body = s_on_body,
    .on_message_complete = s_on_complete,
};

size_t httpreq_parse(httpreq_parser_t *c, const char *data, size_t len)
{
    size_t used = http_parser_execute(&c->parser, &s_settings, data, len);
    enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
    if (err == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        if (c->parser.upgrade)
            c->must_close = true;   /* what follows is not HTTP */
        return used;
    }
    if (err == HPE_OK && !c->parser.upgrade)
        return used;
    /* A broken request: answered (its error, its format) then closed. */
    static _Thread_local char why[96];
    snprintf(why, sizeof why, "malformed request: %s", http_errno_description(err));
    s_fail(c, 400, why);
    if (s_finish(c) != 0)
        s_fail(c, 503, "out of memory");
    c->complete = true;
    c->must_close = true;
    return len;
}

const char *httpreq_header(const httpreq_t *req, const char *name)
{
    const char *p = req->headers_;
    for (int i = 0; i < req->nheaders_; i++) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

void httpreq_init(httpreq_parser_t *c)
{
    memset(c, 0, sizeof *c);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
}

void httpreq_reset(httpreq_parser_t *c)
{
    s_on_begin(&c->parser);
    c->in_request = false;
}

void httpreq_free(httpreq_parser_t *c)
{
    free(c->text);
    c->text = NULL;
    c->text_len = c->text_cap = 0;
}

bool httpreq_slow(const httpreq_parser_t *c, int64_t max_ms)
{
    return c->in_request && !c->complete && s_mono_ms() - c->begun_ms > max_ms;
}
