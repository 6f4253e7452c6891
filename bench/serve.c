/* serve — the collector's HTTP server against nginx on the same bytes.
 *
 * Owns a small deployment in a temporary directory: rrdcached, a
 * poe-collector (--http-threads N, default its own default) with the
 * shipped registry and simulated agents on four crossings (as bench/feed),
 * and nginx (one worker, sendfile, keep-alive, open_file_cache) serving the
 * shipped site deploy/nginx/poenet-feed.conf from a docroot that holds the
 * very bodies the collector served a moment before (plain, and the gzip
 * form as NAME.gz for gzip_static).
 *
 * For each of /v1/crossings, /xml/bwt.xml and /api/bwtnew, without and
 * with "Accept-Encoding: gzip", it runs `wrk -t1 -c50 -d<S>s` against the
 * collector and against nginx, alternating (the order flips every round),
 * for --rounds rounds, and prints key=value lines: the body sizes, each
 * server's mean requests/s and their ratio, non-2xx answers and socket
 * errors. The collector keeps ingesting meanwhile, so its figures include
 * publishing new versions. Never judges the figures. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchstack.h"
#include "http_client.h"
#include "nginx.h"
#include "proc.h"
#include "timeutil.h"

#define S_NSIM 8
#define S_DATA_TIMEOUT_MS 30000

typedef struct {
    const char *key, *path, *file;
} s_doc_t;

static const s_doc_t s_docs[] = {
    { "crossings", "/v1/crossings", "v1/crossings.json" },
    { "bwtxml", "/xml/bwt.xml", "xml/bwt.xml" },
    { "bwtnew", "/api/bwtnew", "api/bwtnew.json" },
};
#define S_NDOCS (sizeof s_docs / sizeof s_docs[0])

typedef struct {
    const char *bin, *registry, *site, *workdir, *threads;
    long seconds, rounds;
    bstack_t st;
    pid_t sim[S_NSIM];
    ngx_t ngx;
    char docroot[700];
    /* [doc][gzip][0 collector, 1 nginx] */
    double rps[S_NDOCS][2][2];
    long non2xx[S_NDOCS][2][2], errors[S_NDOCS][2][2];
    size_t bytes[S_NDOCS][2];
} s_serve_t;

static int s_start_simulated(s_serve_t *s)
{
    static const char *const sims[S_NSIM / 2][2] = {
        { "090101", "passenger=8,commercial=3" }, { "380001", "passenger=8,commercial=3" },
        { "071201", "passenger=8,commercial=3" }, { "250401", "passenger=8,pedestrian=4" },
    };
    for (int i = 0; i < S_NSIM; i++) {
        const char *dir = i % 2 ? "southbound" : "northbound";
        const char *extra[] = { "--simulate", "--sim-lanes", sims[i / 2][1], NULL };
        if ((s->sim[i] = bstack_spawn_agent(&s->st, sims[i / 2][0], dir, extra)) < 0)
            return -1;
    }
    return 0;
}

static int s_wait_data(const s_serve_t *s)
{
    int64_t deadline = tu_mono_ms() + S_DATA_TIMEOUT_MS;
    while (!bstack_interrupted() && tu_mono_ms() < deadline) {
        int status = 0;
        char *body = proc_http_get(s->st.hport, "/health", &status);
        json_t *h = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
        free(body);
        json_int_t batches = json_integer_value(json_object_get(h, "batches_accepted"));
        json_decref(h);
        if (batches >= S_NSIM)
            return 0;
        nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
    }
    fprintf(stderr, "serve: simulated agents sent no data (logs in %s)\n", s->st.dir);
    return -1;
}

/* ---- the same bytes for nginx ------------------------------------------------------ */

/* Fetch each document from the collector, plain and gzip, into the docroot. */
static int s_copy_bodies(s_serve_t *s)
{
    snprintf(s->docroot, sizeof s->docroot, "%s/docroot", s->st.dir);
    for (size_t d = 0; d < S_NDOCS; d++) {
        for (int gz = 0; gz < 2; gz++) {
            const char *hdrs[] = { gz ? "Accept-Encoding: gzip" : NULL, NULL };
            hc_response_t r;
            char why[256], path[800];
            const char *ce = NULL;
            if (hc_get(s->st.hport, s_docs[d].path, hdrs, &r, why, sizeof why) != 0 ||
                r.status != 200 || (gz && (!(ce = hc_header(&r, "Content-Encoding")) ||
                                           strcmp(ce, "gzip") != 0))) {
                fprintf(stderr, "serve: GET %s%s failed (%s)\n", s_docs[d].path,
                        gz ? " gzip" : "", r.status ? "bad answer" : why);
                hc_free(&r);
                return -1;
            }
            snprintf(path, sizeof path, "%s%s", s_docs[d].file, gz ? ".gz" : "");
            s->bytes[d][gz] = r.body_len;
            int rc = ngx_docroot_put(s->docroot, path, r.body, r.body_len);
            hc_free(&r);
            if (rc != 0) {
                fprintf(stderr, "serve: cannot write %s\n", path);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- wrk ------------------------------------------------------------------------------- */

static int s_wrk_parse(const char *path, double *rps, long *non2xx, long *errors)
{
    FILE *fp = fopen(path, "r");
    char line[256];
    long a, b, c, d;
    *rps = -1;
    *non2xx = *errors = 0;
    while (fp && fgets(line, sizeof line, fp)) {
        if (sscanf(line, " Requests/sec: %lf", rps) == 1 ||
            sscanf(line, " Non-2xx or 3xx responses: %ld", non2xx) == 1)
            continue;
        if (sscanf(line, " Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b,
                   &c, &d) == 4)
            *errors = a + b + c + d;
    }
    if (fp)
        fclose(fp);
    return *rps < 0 ? -1 : 0;
}

static int s_wrk(s_serve_t *s, size_t d, int gz, int server)
{
    char url[160], dur[32], log[700];
    int port = server ? s->ngx.port : s->st.hport;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, s_docs[d].path);
    snprintf(dur, sizeof dur, "%lds", s->seconds);
    snprintf(log, sizeof log, "%s/wrk-%s-%s-%s.log", s->st.dir, s_docs[d].key,
             gz ? "gzip" : "plain", server ? "nginx" : "collector");
    unlink(log);
    const char *argv[] = { "wrk", "-t1", "-c50", "-d", dur, "-H",
                           gz ? "Accept-Encoding: gzip" : "Accept-Encoding: identity", url,
                           NULL };
    pid_t wrk = proc_spawn(argv, log);
    int status = 0;
    if (wrk < 0 || proc_wait_exit(wrk, (int)(s->seconds + 30) * 1000, &status) != 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (wrk > 0)
            proc_stop(wrk, 1000);
        fprintf(stderr, "serve: wrk failed (see %s)\n", log);
        return -1;
    }
    double rps;
    long non2xx, errors;
    if (s_wrk_parse(log, &rps, &non2xx, &errors) != 0) {
        fprintf(stderr, "serve: no result from wrk (see %s)\n", log);
        return -1;
    }
    s->rps[d][gz][server] += rps / (double)s->rounds;
    s->non2xx[d][gz][server] += non2xx;
    s->errors[d][gz][server] += errors;
    return 0;
}

static int s_measure(s_serve_t *s)
{
    for (long round = 0; round < s->rounds && !bstack_interrupted(); round++)
        for (size_t d = 0; d < S_NDOCS; d++)
            for (int gz = 0; gz < 2; gz++)
                for (int k = 0; k < 2; k++) {
                    int server = (int)((round + k) % 2); /* who goes first flips */
                    if (s_wrk(s, d, gz, server) != 0)
                        return -1;
                }
    return bstack_interrupted() ? -1 : 0;
}

static void s_report(const s_serve_t *s)
{
    printf("serve_threads=%s\nserve_rounds=%ld\nserve_seconds=%ld\n",
           s->threads ? s->threads : "default", s->rounds, s->seconds);
    for (size_t d = 0; d < S_NDOCS; d++)
        for (int gz = 0; gz < 2; gz++) {
            const char *k = s_docs[d].key, *e = gz ? "gzip" : "plain";
            double c = s->rps[d][gz][0], n = s->rps[d][gz][1];
            printf("serve_%s_%s_bytes=%zu\n", k, e, s->bytes[d][gz]);
            printf("serve_%s_%s_collector_rps=%.0f\n", k, e, c);
            printf("serve_%s_%s_nginx_rps=%.0f\n", k, e, n);
            printf("serve_%s_%s_ratio=%.2f\n", k, e, n > 0 ? c / n : 0);
            printf("serve_%s_%s_non2xx=%ld/%ld\n", k, e, s->non2xx[d][gz][0], s->non2xx[d][gz][1]);
            printf("serve_%s_%s_socket_errors=%ld/%ld\n", k, e, s->errors[d][gz][0],
                   s->errors[d][gz][1]);
        }
}

/* ---- main ------------------------------------------------------------------------------ */

static int s_run(s_serve_t *s)
{
    const char *extra[] = { "--http-threads", s->threads, NULL };
    char ndir[700];
    if (bstack_init(&s->st, "serve", s->bin, s->workdir) != 0 ||
        bstack_start(&s->st, s->registry, s->threads ? extra : NULL) != 0 ||
        s_start_simulated(s) != 0 || s_wait_data(s) != 0 || s_copy_bodies(s) != 0)
        return -1;
    snprintf(ndir, sizeof ndir, "%s/nginx", s->st.dir);
    int port = proc_free_port();
    if (port < 0 || ngx_configure(&s->ngx, ndir, s->site, port, s->docroot, s->st.hport) != 0 ||
        ngx_check(&s->ngx) != 0 || ngx_start(&s->ngx) != 0) {
        fprintf(stderr, "serve: nginx did not start (logs in %s)\n", ndir);
        return -1;
    }
    fprintf(stderr, "serve: wrk -t1 -c50 -d%lds, %ld rounds, collector vs nginx\n", s->seconds,
            s->rounds);
    if (s_measure(s) != 0)
        return -1;
    s_report(s);
    return 0;
}

int main(int argc, char **argv)
{
    s_serve_t s = { .registry = "deploy/registry.conf", .site = "deploy/nginx/poenet-feed.conf",
                    .seconds = 4, .rounds = 2 };
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--seconds"))
            s.seconds = atol(v);
        else if (v && !strcmp(argv[i], "--rounds"))
            s.rounds = atol(v);
        else if (v && !strcmp(argv[i], "--registry"))
            s.registry = v;
        else if (v && !strcmp(argv[i], "--site"))
            s.site = v;
        else if (v && !strcmp(argv[i], "--http-threads"))
            s.threads = v;
        else if (v && !strcmp(argv[i], "--workdir"))
            s.workdir = v;
        else
            s.seconds = -1;
    }
    if (s.seconds < 1 || s.rounds < 1) {
        fprintf(stderr, "usage: serve [--seconds S] [--rounds N] [--http-threads N] "
                        "[--registry FILE] [--site NGINX_SITE] [--workdir DIR]  (env POE_BIN)\n");
        return 2;
    }
    if (!(s.bin = getenv("POE_BIN"))) {
        fprintf(stderr, "serve: set POE_BIN to the directory of poe-agent and poe-collector\n");
        return 2;
    }
    bstack_signals();
    int rc = s_run(&s);
    ngx_stop(&s.ngx);
    for (int i = 0; i < S_NSIM; i++)
        if (s.sim[i] > 0)
            proc_stop(s.sim[i], 3000);
    bstack_stop(&s.st, rc != 0);
    return rc == 0 ? 0 : 1;
}
