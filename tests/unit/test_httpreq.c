/* test_httpreq — one request read as its bytes come (collector/httpreq),
 * without a socket: a request split at every byte gives the same target,
 * path, query and headers as whole; parsing stops at the end of each
 * pipelined request; header sizes as the limits count them; the hard
 * limits (head, announced body, sent body) and bytes that do not parse
 * give a complete request with its status and reason; a reset after an
 * answer leaves nothing of the last request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

static const char s_req[] = "GET /v1/crossings/250401?lang=es&x=1#frag HTTP/1.1\r\n"
                            "Host: example.org\r\n"
                            "Accept-Encoding: gzip, br  \r\n"
                            "If-None-Match: \"7-1768464000\"\r\n\r\n";

static void s_check(const httpreq_t *r)
{
    assert_int_equal(r->error, 0);
    assert_int_equal(r->method, HTTPREQ_GET);
    assert_string_equal(r->path, "/v1/crossings/250401");
    assert_string_equal(r->query, "lang=es&x=1");
    assert_string_equal(r->target, "/v1/crossings/250401?lang=es&x=1#frag");
    assert_int_equal(r->target_len, strlen(r->target));
    assert_string_equal(httpreq_header(r, "host"), "example.org");
    assert_string_equal(httpreq_header(r, "ACCEPT-ENCODING"), "gzip, br");
    assert_string_equal(httpreq_header(r, "If-None-Match"), "\"7-1768464000\"");
    assert_null(httpreq_header(r, "Cookie"));
    /* name + value + 4 each, as sent (trailing blanks included) */
    assert_int_equal(r->headers_size, (4 + 11 + 4) + (15 + 10 + 4) + (13 + 14 + 4));
}

static void test_split_at_every_byte(void **state)
{
    (void)state;
    size_t len = strlen(s_req);
    for (size_t cut = 1; cut < len; cut++) {
        httpreq_parser_t p;
        httpreq_init(&p);
        assert_int_equal(httpreq_parse(&p, s_req, cut), cut);
        assert_false(p.complete);
        assert_int_equal(httpreq_parse(&p, s_req + cut, len - cut), len - cut);
        assert_true(p.complete);
        assert_true(p.keep_alive);
        s_check(&p.req);
        httpreq_free(&p);
    }
}

static void test_stops_after_each_request(void **state)
{
    (void)state;
    const char two[] = "HEAD /a HTTP/1.1\r\n\r\nOPTIONS /b HTTP/1.0\r\n\r\n";
    httpreq_parser_t p;
    httpreq_init(&p);
    size_t used = httpreq_parse(&p, two, strlen(two));
    assert_int_equal(used, strlen("HEAD /a HTTP/1.1\r\n\r\n"));
    assert_true(p.complete);
    assert_int_equal(p.req.method, HTTPREQ_HEAD);
    assert_string_equal(p.req.path, "/a");
    assert_null(p.req.query);
    p.complete = false;
    httpreq_reset(&p);
    assert_int_equal(httpreq_parse(&p, two + used, strlen(two) - used), strlen(two) - used);
    assert_true(p.complete);
    assert_int_equal(p.req.method, HTTPREQ_OPTIONS);
    assert_false(p.keep_alive);   /* HTTP/1.0 without keep-alive */
    httpreq_free(&p);
}

static void s_expect_error(const char *bytes, size_t len, int code, const char *reason_part)
{
    httpreq_parser_t p;
    httpreq_init(&p);
    httpreq_parse(&p, bytes, len);
    assert_true(p.complete);
    assert_true(p.must_close);
    assert_int_equal(p.req.error, code);
    assert_non_null(strstr(p.req.reason, reason_part));
    assert_non_null(p.req.path);
    httpreq_free(&p);
}

static void test_broken_and_over_the_hard_limits(void **state)
{
    (void)state;
    const char bad[] = "GET /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n";
    s_expect_error(bad, strlen(bad), 400, "malformed request");
    const char big[] = "POST /x HTTP/1.1\r\nContent-Length: 70000\r\n\r\n";
    s_expect_error(big, strlen(big), 413, "body too large");
    size_t n = HTTPREQ_HARD_HEAD + 10;
    char *head = malloc(n + 64);
    assert_non_null(head);
    memcpy(head, "GET /", 5);
    memset(head + 5, 'a', n);
    s_expect_error(head, n, 414, "URI too long");
    int at = sprintf(head, "GET / HTTP/1.1\r\nCookie: ");
    memset(head + at, 'c', n);
    s_expect_error(head, (size_t)at + n, 431, "header fields too large");
    free(head);
    /* a chunked body over the limit, sent */
    httpreq_parser_t p;
    httpreq_init(&p);
    const char chunked[] = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    httpreq_parse(&p, chunked, strlen(chunked));
    char chunk[16 * 1024 + 16];
    int hn = sprintf(chunk, "4000\r\n");
    memset(chunk + hn, 'b', 16 * 1024);
    memcpy(chunk + hn + 16 * 1024, "\r\n", 2);
    for (int i = 0; i < 5 && !p.complete; i++)
        httpreq_parse(&p, chunk, (size_t)hn + 16 * 1024 + 2);
    assert_true(p.complete);
    assert_int_equal(p.req.error, 413);
    httpreq_free(&p);
}

static void test_reset_forgets_the_last(void **state)
{
    (void)state;
    httpreq_parser_t p;
    httpreq_init(&p);
    httpreq_parse(&p, s_req, strlen(s_req));
    assert_true(p.complete);
    p.complete = false;
    httpreq_reset(&p);
    assert_int_equal(p.req.nheaders_, 0);
    assert_null(p.req.path);
    assert_false(httpreq_slow(&p, 0));
    /* the next one breaks at its first byte: no trace of the last */
    httpreq_parse(&p, "\x01", 1);
    assert_true(p.complete);
    assert_int_equal(p.req.error, 400);
    assert_null(httpreq_header(&p.req, "Host"));
    httpreq_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_stops_after_each_request),
        cmocka_unit_test(test_broken_and_over_the_hard_limits),
        cmocka_unit_test(test_reset_forgets_the_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
