/* test_serve_consistency — the HTTP workers under load while the state
 * moves: no torn bodies, one state version per response.
 *
 * A stack (rrdcached, poe-collector with its HTTP worker threads) and two
 * agents replaying the San Ysidro fixture (two hours) at 1000x
 * (northbound and southbound: a new state version every few milliseconds
 * for about seven seconds), while HAMMER_THREADS client threads GET /v1/crossings (plain
 * and gzip), /v1/crossings/250401 and /xml/bwt.xml, each over a fresh
 * connection, until the agents are done and a second more. Every response
 * must be a 200 whose body is exactly Content-Length bytes and whole (the
 * JSON parses, the gzip inflates, the XML closes); every response that
 * carries one entity tag (a state version and second) must carry the same
 * document, gzip'ed or not; and for one tag, /v1/crossings/250401 must be
 * the very crossing /v1/crossings lists. The test fails if the state did
 * not move while it looked (fewer than MIN_VERSIONS state versions seen). Under
 * `make test-tsan` the same run checks the hand-offs for data races. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>

#include "http_client.h"
#include "proc.h"
#include "stack.h"

#define FIXTURE "tests/fixtures/replay-250401-northbound.txt"
#define HAMMER_THREADS 3
#define MIN_VERSIONS 3
#define MAX_DOCS 4096
#define AGENT_TIMEOUT_MS 120000

enum { D_LIST, D_ONE, D_XML, D_NKINDS };

typedef struct {
    const char *path;
    int kind;
    bool gzip;
} s_req_t;

static const s_req_t s_reqs[] = {
    { "/v1/crossings", D_LIST, false },
    { "/v1/crossings", D_LIST, true },
    { "/v1/crossings/250401", D_ONE, false },
    { "/v1/crossings/250401", D_ONE, true },
    { "/xml/bwt.xml", D_XML, false },
};
#define NREQS (sizeof s_reqs / sizeof s_reqs[0])

/* The first body seen for each (kind, tag). */
typedef struct {
    int kind;
    char etag[64];
    char *body;
    size_t len;
} s_doc_t;

static teststack_t s_stack;
static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static s_doc_t s_docs[MAX_DOCS];
static size_t s_ndocs;
static atomic_bool s_stop;
static atomic_long s_requests;
static char s_failure[512];     /* the first problem found, "" when none */

static void s_fail(const char *fmt, ...)
{
    pthread_mutex_lock(&s_mu);
    if (!s_failure[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s_failure, sizeof s_failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s_mu);
    atomic_store(&s_stop, true);
}

static char *s_gunzip(const char *in, size_t len, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return NULL;
    size_t cap = 4u << 20;
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

/* Whole: the JSON parses, the XML ends with its root's closing tag. */
static bool s_whole(int kind, const char *body, size_t len)
{
    if (kind == D_XML) {
        const char *end = "</border_wait_time>";
        size_t n = strlen(end);
        while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r'))
            len--;
        return len >= n && memcmp(body + len - n, end, n) == 0;
    }
    json_t *j = json_loadb(body, len, 0, NULL);
    json_decref(j);
    return j != NULL;
}

/* Keep the first body of (kind, tag); compare the others with it. */
static void s_record(int kind, const char *etag, char *body, size_t len, const char *what)
{
    pthread_mutex_lock(&s_mu);
    for (size_t i = 0; i < s_ndocs; i++) {
        s_doc_t *d = &s_docs[i];
        if (d->kind == kind && strcmp(d->etag, etag) == 0) {
            bool same = d->len == len && memcmp(d->body, body, len) == 0;
            pthread_mutex_unlock(&s_mu);
            free(body);
            if (!same)
                s_fail("%s: two different bodies (%zu and %zu bytes) under one tag %s", what,
                       d->len, len, etag);
            return;
        }
    }
    if (s_ndocs < MAX_DOCS) {
        s_docs[s_ndocs++] = (s_doc_t){ .kind = kind, .body = body, .len = len };
        snprintf(s_docs[s_ndocs - 1].etag, sizeof s_docs[0].etag, "%s", etag);
        body = NULL;
    }
    pthread_mutex_unlock(&s_mu);
    free(body);
}

static void s_one(const s_req_t *q)
{
    const char *hdrs[] = { q->gzip ? "Accept-Encoding: gzip" : "Accept-Encoding: identity", NULL };
    hc_response_t r;
    char why[256], what[96];
    snprintf(what, sizeof what, "GET %s%s", q->path, q->gzip ? " (gzip)" : "");
    if (hc_get(s_stack.http_port, q->path, hdrs, &r, why, sizeof why) != 0) {
        s_fail("%s: %s", what, why);
        return;
    }
    atomic_fetch_add(&s_requests, 1);
    const char *cl = hc_header(&r, "Content-Length"), *etag = hc_header(&r, "ETag");
    const char *ce = hc_header(&r, "Content-Encoding");
    if (r.status != 200 || !cl || !etag || strtoull(cl, NULL, 10) != r.body_len) {
        s_fail("%s: status %d, Content-Length %s, %zu bytes, ETag %s", what, r.status,
               cl ? cl : "-", r.body_len, etag ? etag : "-");
        hc_free(&r);
        return;
    }
    size_t len = r.body_len;
    char *body = NULL;
    if (ce && strcmp(ce, "gzip") == 0) {
        if (!(body = s_gunzip(r.body, r.body_len, &len)))
            s_fail("%s: the gzip body does not inflate (%zu bytes)", what, r.body_len);
    } else if ((body = malloc(len + 1))) {
        memcpy(body, r.body, len);
        body[len] = '\0';
    }
    if (body && !s_whole(q->kind, body, len)) {
        s_fail("%s: the body (%zu bytes) is not whole", what, len);
        free(body);
        body = NULL;
    }
    if (body)
        s_record(q->kind, etag, body, len, what);
    hc_free(&r);
}

static void *s_hammer(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    while (!atomic_load(&s_stop))
        s_one(&s_reqs[i++ % NREQS]);
    return NULL;
}

/* ---- the flood -------------------------------------------------------------------- */

static pid_t s_agent(const char *dir)
{
    char log[600], fixture[1024], agent[1024], spool[600];
    snprintf(log, sizeof log, "%s/agent-%s.log", s_stack.dir, dir);
    snprintf(spool, sizeof spool, "%s/spool-%s", s_stack.dir, dir);
    snprintf(fixture, sizeof fixture, "%s", stack_src_path(&s_stack, FIXTURE));
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&s_stack, "poe-agent"));
    const char *argv[] = { agent, "--crossing", "250401", "--direction", dir,
                           "--collector", s_stack.endpoint, "--replay", fixture,
                           "--speed", "1000", "--spool", spool, NULL };
    return proc_spawn(argv, log);
}

/* For each tag seen for both, the one crossing's document is the list's
 * entry for it. Returns the number of tags compared. */
static int s_check_across(void)
{
    int compared = 0;
    for (size_t i = 0; i < s_ndocs; i++) {
        if (s_docs[i].kind != D_ONE)
            continue;
        for (size_t k = 0; k < s_ndocs; k++) {
            if (s_docs[k].kind != D_LIST || strcmp(s_docs[k].etag, s_docs[i].etag) != 0)
                continue;
            json_t *one = json_loadb(s_docs[i].body, s_docs[i].len, 0, NULL);
            json_t *list = json_loadb(s_docs[k].body, s_docs[k].len, 0, NULL);
            json_t *a = json_array_get(json_object_get(one, "crossings"), 0), *b = NULL, *c;
            size_t n;
            json_array_foreach(json_object_get(list, "crossings"), n, c)
                if (strcmp(json_string_value(json_object_get(c, "id")), "250401") == 0)
                    b = c;
            bool same = a && b && json_equal(a, b);
            json_decref(one);
            json_decref(list);
            if (!same)
                fail_msg("under tag %s /v1/crossings/250401 differs from its entry in "
                         "/v1/crossings", s_docs[i].etag);
            compared++;
        }
    }
    return compared;
}

static int s_setup(void **state)
{
    (void)state;
    return stack_start(&s_stack);
}

static int s_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < s_ndocs; i++)
        free(s_docs[i].body);
    return stack_stop(&s_stack);
}

static void test_no_torn_bodies_while_ingesting(void **state)
{
    (void)state;
    pthread_t th[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, s_hammer, (void *)(uintptr_t)i), 0);
    pid_t north = s_agent("northbound"), south = s_agent("southbound");
    int sn = -1, ss = -1;
    bool done = north > 0 && south > 0 && proc_wait_exit(north, AGENT_TIMEOUT_MS, &sn) == 0 &&
                proc_wait_exit(south, AGENT_TIMEOUT_MS, &ss) == 0;
    nanosleep(&(struct timespec){ 1, 0 }, NULL);  /* the last versions, published */
    atomic_store(&s_stop, true);
    for (int i = 0; i < HAMMER_THREADS; i++)
        pthread_join(th[i], NULL);
    if (!done) {
        proc_stop(north, 2000);
        proc_stop(south, 2000);
        fail_msg("the agents did not finish their replays (logs in %s)", s_stack.dir);
    }
    assert_true(WIFEXITED(sn) && WEXITSTATUS(sn) == 0);
    assert_true(WIFEXITED(ss) && WEXITSTATUS(ss) == 0);
    if (s_failure[0])
        fail_msg("%s", s_failure);
    /* Tags are "<version>-<second>": count the versions. */
    size_t tags = 0, versions = 0;
    for (size_t i = 0; i < s_ndocs; i++) {
        if (s_docs[i].kind != D_LIST)
            continue;
        tags++;
        bool seen = false;
        size_t vlen = strcspn(s_docs[i].etag, "-");
        for (size_t k = 0; k < i && !seen; k++)
            seen = s_docs[k].kind == D_LIST && strncmp(s_docs[k].etag, s_docs[i].etag, vlen + 1) == 0;
        versions += !seen;
    }
    int across = s_check_across();
    fprintf(stderr, "test_serve_consistency: %ld responses, %zu tags (%zu state versions) of "
                    "/v1/crossings, %d compared across documents\n",
            atomic_load(&s_requests), tags, versions, across);
    if (versions < MIN_VERSIONS)
        fail_msg("the feed showed only %zu state versions while the agents replayed: "
                 "nothing was checked under change", versions);
    assert_true(across > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_torn_bodies_while_ingesting),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
