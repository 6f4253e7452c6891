/* test_docroot — --publish-dir and the shipped nginx site for it.
 *
 * A stack (rrdcached, poe-collector --publish-dir, an agent replaying the
 * San Ysidro fixture), then: every public document is in the docroot with
 * a .gz sibling that inflates to it, the JSON ones parse and carry the
 * replayed crossing; `nginx -t` accepts deploy/nginx/poenet-feed.conf
 * (pointed at our port, docroot and collector) and nginx, run unprivileged
 * on loopback, serves the documents with the collector's headers (type,
 * CORS, Cache-Control, ETag, Last-Modified, gzip, Vary, 304, preflight)
 * and passes /health through to the collector; no temporary file is left
 * once the collector has stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "http_client.h"
#include "nginx.h"
#include "proc.h"
#include "stack.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"
#define WAIT_MS 20000
#define TRIES 20

static teststack_t s_stack;
static char *s_dir;            /* ours: the docroot and nginx's files */
static char s_pub[600];
static ngx_t s_ngx;

static const char *const s_files[] = {
    "v1/crossings.json",        "v1/crossings/250401.json", "xml/bwt.xml",
    "api/bwtnew.json",          "api/waittimes.json",       "api/bwtpublicmod/250401.json",
    "bwt-taf/bwt-eng.csv",      "bwt-taf/bwt-eng.json",     "bwt-taf/bwt-fra.csv",
    "bwt-taf/bwt-fra.json",     "v1/hours.json",            "v1/hours/mismatches.json",
};
#define NFILES (sizeof s_files / sizeof s_files[0])

/* ---- helpers ------------------------------------------------------------------ */

static void s_sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000L }, NULL);
}

static char *s_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *b = realloc(buf, (cap *= 2) + 1);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* gunzip in[0..len) into a malloc'ed buffer, NULL when it is not gzip. */
static char *s_gunzip(const char *in, size_t len, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return NULL;
    size_t cap = 1 << 20;
    char *out = malloc(cap + 1);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = out ? inflate(&z, Z_FINISH) : Z_MEM_ERROR;
    *outlen = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    out[*outlen] = '\0';
    return out;
}

static void s_run_agent(void)
{
    char log[600], fixture[1024], agent[1024], spool[600];
    snprintf(log, sizeof log, "%s/agent.log", s_dir);
    snprintf(spool, sizeof spool, "%s/spool", s_dir);
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(&s_stack, FIXTURE));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", s_stack.endpoint, "--replay", fixture,
                           "--speed", "0", "--spool", spool, NULL };
    pid_t pid = proc_spawn(argv, log);
    int status = -1;
    if (pid <= 0 || proc_wait_exit(pid, 60000, &status) != 0) {
        if (pid > 0)
            proc_stop(pid, 2000);
        fail_msg("agent did not finish the replay within 60 s (log %s)", log);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("agent exited with status %d (log %s)", status, log);
}

/* Until the published document of the replayed crossing shows its data
 * (a queue with an "updated" time: the fixture is in the past, so its
 * status is stale, not open). */
static void s_wait_published(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/v1/crossings/250401.json", s_pub);
    char last[400] = "(none)";
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        size_t len;
        char *body = s_read(path, &len);
        bool seen = body && strstr(body, "\"updated\":\"2026-01-15T");
        if (body)
            snprintf(last, sizeof last, "%s", body);
        free(body);
        if (seen)
            return;
        s_sleep_ms(100);
    }
    fail_msg("%s never showed the replayed data of 250401: %s", path, last);
}

static int s_setup(void **state)
{
    (void)state;
    if (!(s_dir = proc_tmpdir()))
        return -1;
    snprintf(s_pub, sizeof s_pub, "%s/public", s_dir);
    const char *extra[] = { "--publish-dir", s_pub, NULL };
    if (stack_start_args(&s_stack, 0, extra) != 0)
        return -1;
    s_run_agent();
    s_wait_published();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ngx_stop(&s_ngx);
    int rc = s_stack.dir ? stack_stop(&s_stack) : 0;
    if (s_dir) {
        proc_rm_rf(s_dir);
        free(s_dir);
    }
    return rc;
}

/* ---- the docroot -------------------------------------------------------------- */

/* file and file.gz hold the same document (retried: the collector may be
 * between the two renames of one second). */
static void s_check_pair(const char *rel)
{
    char path[700], gzpath[710];
    snprintf(path, sizeof path, "%s/%s", s_pub, rel);
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    for (int i = 0; i < TRIES; i++) {
        size_t plen = 0, glen = 0, ilen = 0;
        char *plain = s_read(path, &plen), *gz = s_read(gzpath, &glen);
        char *inflated = gz ? s_gunzip(gz, glen, &ilen) : NULL;
        if (!plain || !gz)
            fail_msg("%s or its .gz is missing", path);
        if (!inflated)
            fail_msg("%s is not gzip", gzpath);
        bool same = plen == ilen && memcmp(plain, inflated, plen) == 0 && plen > 0;
        if (same && strstr(rel, ".json") && strncmp(rel, "bwt-taf/", 8) != 0) {
            json_error_t err;
            /* CBSA's JSON starts with a UTF-8 BOM, as CBSA's own does. */
            const char *text = strncmp(plain, "\xEF\xBB\xBF", 3) == 0 ? plain + 3 : plain;
            json_t *j = json_loads(text, 0, &err);
            if (!j)
                fail_msg("%s is not JSON: %s", path, err.text);
            json_decref(j);
        }
        free(plain);
        free(gz);
        free(inflated);
        if (same)
            return;
        s_sleep_ms(50);
    }
    fail_msg("%s.gz never inflated to %s", rel, rel);
}

static void test_docroot_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFILES; i++)
        s_check_pair(s_files[i]);
    char path[700];
    size_t len;
    snprintf(path, sizeof path, "%s/v1/crossings.json", s_pub);
    char *body = s_read(path, &len);
    assert_non_null(body);
    assert_non_null(strstr(body, "\"250401\""));
    free(body);
    snprintf(path, sizeof path, "%s/xml/bwt.xml", s_pub);
    body = s_read(path, &len);
    assert_non_null(body);
    assert_non_null(strstr(body, "<port_number>250401</port_number>"));
    free(body);
    /* /v1/hours of the shipped registry is held in a memfd (16 KB or
     * more), which is written from its file, not its map: checked above
     * like every other, and here that it is one of those. */
    snprintf(path, sizeof path, "%s/v1/hours.json", s_pub);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size >= 16 * 1024);
}

/* ---- nginx with the shipped site ------------------------------------------------ */

static void s_get(const char *method, const char *path, const char *const *hdrs,
                  hc_response_t *r)
{
    char why[256];
    if (hc_request(s_ngx.port, method, path, hdrs, r, why, sizeof why) != 0)
        fail_msg("%s %s through nginx: %s", method, path, why);
}

static void s_expect(const hc_response_t *r, const char *path, const char *name,
                     const char *want)
{
    const char *v = hc_header(r, name);
    if (!v || strcasecmp(v, want) != 0)
        fail_msg("%s: %s is '%s', want '%s'", path, name, v ? v : "(absent)", want);
}

static void test_nginx_site(void **state)
{
    (void)state;
    char ndir[700], site[1024];
    snprintf(ndir, sizeof ndir, "%s/nginx", s_dir);
    snprintf(site, sizeof site, "%s", stack_src_path(&s_stack, "deploy/nginx/poenet-feed.conf"));
    int port = proc_free_port();
    assert_true(port > 0);
    assert_int_equal(ngx_configure(&s_ngx, ndir, site, port, s_pub, s_stack.http_port), 0);
    if (ngx_check(&s_ngx) != 0)
        fail_msg("nginx -t rejects %s (see %s/nginx-t.log)", site, ndir);
    assert_int_equal(ngx_start(&s_ngx), 0);

    hc_response_t r;
    s_get("GET", "/v1/crossings", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/v1/crossings", "Content-Type", "application/json; charset=utf-8");
    s_expect(&r, "/v1/crossings", "Access-Control-Allow-Origin", "*");
    s_expect(&r, "/v1/crossings", "Access-Control-Expose-Headers", "ETag, Last-Modified");
    s_expect(&r, "/v1/crossings", "Cache-Control", "public, max-age=5");
    s_expect(&r, "/v1/crossings", "X-Content-Type-Options", "nosniff");
    assert_non_null(hc_header(&r, "Last-Modified"));
    assert_null(hc_header(&r, "Access-Control-Allow-Methods")); /* preflights only */
    char etag[128];
    assert_non_null(hc_header(&r, "ETag"));
    snprintf(etag, sizeof etag, "%s", hc_header(&r, "ETag"));
    json_t *j = json_loads(r.body, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    hc_free(&r);

    /* The same representation again: 304 (retried if a new second came). */
    char inm[160];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *cond[] = { inm, NULL };
    int status = 0;
    for (int i = 0; i < TRIES && status != 304; i++) {
        s_get("GET", "/v1/crossings", cond, &r);
        status = r.status;
        if (status == 304)
            assert_int_equal(r.body_len, 0);
        else if (status == 200 && hc_header(&r, "ETag"))
            snprintf(inm, sizeof inm, "If-None-Match: %s", hc_header(&r, "ETag"));
        hc_free(&r);
    }
    assert_int_equal(status, 304);

    const char *gz[] = { "Accept-Encoding: gzip", NULL };
    s_get("GET", "/v1/crossings/250401", gz, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/v1/crossings/250401", "Content-Encoding", "gzip");
    s_expect(&r, "/v1/crossings/250401", "Vary", "Accept-Encoding");
    size_t ilen = 0;
    char *inflated = s_gunzip(r.body, r.body_len, &ilen);
    assert_non_null(inflated);
    assert_non_null(strstr(inflated, "\"250401\""));
    free(inflated);
    hc_free(&r);

    s_get("GET", "/xml/bwt.xml", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/xml/bwt.xml", "Content-Type", "text/xml; charset=iso-8859-1");
    hc_free(&r);
    s_get("GET", "/bwt-taf/bwt-eng.csv", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/bwt-taf/bwt-eng.csv", "Content-Type", "text/csv; charset=utf-8");
    hc_free(&r);
    s_get("GET", "/api/bwtnew", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/api/bwtnew", "Content-Type", "application/json; charset=utf-8");
    hc_free(&r);
    s_get("GET", "/v1/hours", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/v1/hours", "Cache-Control", "public, max-age=300");
    hc_free(&r);
    s_get("GET", "/v1/crossings/999999", NULL, &r);
    assert_int_equal(r.status, 404);
    hc_free(&r);

    s_get("OPTIONS", "/v1/crossings", NULL, &r);
    assert_int_equal(r.status, 204);
    s_expect(&r, "OPTIONS /v1/crossings", "Access-Control-Allow-Methods", "GET, HEAD");
    s_expect(&r, "OPTIONS /v1/crossings", "Access-Control-Max-Age", "86400");
    hc_free(&r);

    /* What is not in the docroot is the collector's, its headers once. */
    s_get("GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    s_expect(&r, "/health", "Cache-Control", "no-store");
    assert_int_equal(hc_header_count(&r, "Access-Control-Allow-Origin"), 1);
    assert_int_equal(hc_header_count(&r, "Cache-Control"), 1);
    assert_non_null(strstr(r.body, "batches_accepted"));
    hc_free(&r);
}

/* ---- nothing half-written left -------------------------------------------------- */

static int s_count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            n += s_count_tmp(path);
        else if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".tmp"))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static void test_no_temporary_left(void **state)
{
    (void)state;
    ngx_stop(&s_ngx);
    assert_int_equal(stack_stop(&s_stack), 0);
    memset(&s_stack, 0, sizeof s_stack);
    assert_int_equal(s_count_tmp(s_pub), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docroot_files),
        cmocka_unit_test(test_nginx_site),
        cmocka_unit_test(test_no_temporary_left),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
