/* poe-fetch — one HTTP GET with libcurl, its outcome and body written to
 * standard output in the form collector/fetch.h describes. The collector
 * starts it for each poll of an official feed (collector/importer.c), so
 * that the daemon itself links no TLS stack (collector/fetch.h says why).
 *
 * It follows at most --max-redirs redirects over http and https only,
 * accepts every encoding libcurl decodes, sends the validators it is given
 * and keeps those of the final response. The body is held in memory up to
 * --max-bytes; the answer is written once the transfer has ended, so a
 * reader sees a whole answer or none. Exit 0 when an answer was written
 * (whatever the transfer's outcome), 2 on a usage error, 1 otherwise. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"

typedef struct {
    char *body;
    size_t len, cap, max;
    bool too_large;
    char etag[256], last_modified[64];
} s_resp_t;

static size_t s_on_body(char *ptr, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t add = size * n;
    if (r->len + add > r->max) {
        r->too_large = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (r->len + add > r->cap) {
        size_t cap = r->cap ? r->cap : 64 * 1024;
        while (cap < r->len + add)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b)
            return 0;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, ptr, add);
    r->len += add;
    return add;
}

/* Keep the validators of the final response (a redirect's are dropped). */
static size_t s_on_header(char *buf, size_t size, size_t n, void *arg)
{
    s_resp_t *r = arg;
    size_t len = size * n;
    char line[320];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, l);
    line[l] = 0;
    l = strcspn(line, "\r\n"); /* one line, whatever follows */
    line[l] = 0;
    if (strncasecmp(line, "HTTP/", 5) == 0) {
        r->etag[0] = r->last_modified[0] = 0;
    } else if (strncasecmp(line, "ETag:", 5) == 0) {
        snprintf(r->etag, sizeof r->etag, "%s", line + 5 + strspn(line + 5, " \t"));
    } else if (strncasecmp(line, "Last-Modified:", 14) == 0) {
        snprintf(r->last_modified, sizeof r->last_modified, "%s",
                 line + 14 + strspn(line + 14, " \t"));
    }
    return len;
}

static enum fetch_outcome s_outcome(CURLcode res, const s_resp_t *r)
{
    if (res == CURLE_OK)
        return FETCH_DONE;
    if (res == CURLE_OPERATION_TIMEDOUT)
        return FETCH_TIMEOUT;
    if (res == CURLE_TOO_MANY_REDIRECTS)
        return FETCH_REDIRECTS;
    return r->too_large ? FETCH_TOO_LARGE : FETCH_TRANSPORT;
}

static int s_answer(CURLcode res, long code, const s_resp_t *r)
{
    enum fetch_outcome o = s_outcome(res, r);
    size_t len = o == FETCH_DONE ? r->len : 0;
    printf("%s\noutcome %s\nhttp %ld\netag %s\nlast-modified %s\nerror %s\nlength %zu\n\n",
           FETCH_MAGIC, fetch_outcome_name(o), code, r->etag, r->last_modified,
           res == CURLE_OK ? "" : curl_easy_strerror(res), len);
    if (len && fwrite(r->body, 1, len, stdout) != len)
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}

static int s_usage(void)
{
    fprintf(stderr, "Usage: poe-fetch [--connect-timeout S] [--timeout S] [--max-redirs N]\n"
                    "                 [--max-bytes N] [--user-agent UA] [--if-none-match ETAG]\n"
                    "                 [--if-modified-since DATE] URL\n"
                    "One GET over http or https; writes the outcome and the body to stdout\n"
                    "(collector/fetch.h).\n");
    return 2;
}

static bool s_number(const char *s, long min, long *out)
{
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || *e || v < min)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "connect-timeout", required_argument, NULL, 'c' },
        { "timeout", required_argument, NULL, 't' },
        { "max-redirs", required_argument, NULL, 'r' },
        { "max-bytes", required_argument, NULL, 'b' },
        { "user-agent", required_argument, NULL, 'u' },
        { "if-none-match", required_argument, NULL, 'e' },
        { "if-modified-since", required_argument, NULL, 'm' },
        { NULL, 0, NULL, 0 },
    };
    long connect_s = 10, total_s = 30, redirs = 5, max_bytes = 8L << 20;
    const char *ua = "poe-fetch", *inm = NULL, *ims = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'c': ok = s_number(optarg, 1, &connect_s); break;
        case 't': ok = s_number(optarg, 1, &total_s); break;
        case 'r': ok = s_number(optarg, 0, &redirs); break;
        case 'b': ok = s_number(optarg, 1, &max_bytes); break;
        case 'u': ua = optarg; break;
        case 'e': inm = optarg; break;
        case 'm': ims = optarg; break;
        default: ok = false;
        }
        if (!ok)
            return s_usage();
    }
    if (optind != argc - 1)
        return s_usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    CURL *e = curl_easy_init();
    if (!e)
        return 1;
    s_resp_t r = { .max = (size_t)max_bytes };
    struct curl_slist *hdrs = NULL;
    char h[320];
    if (inm) {
        snprintf(h, sizeof h, "If-None-Match: %s", inm);
        hdrs = curl_slist_append(hdrs, h);
    }
    if (ims) {
        snprintf(h, sizeof h, "If-Modified-Since: %s", ims);
        hdrs = curl_slist_append(hdrs, h);
    }
    curl_easy_setopt(e, CURLOPT_URL, argv[optind]);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl decodes */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, total_s);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, redirs);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    CURLcode res = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    int rc = s_answer(res, code, &r);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    free(r.body);
    return rc;
}
