/* feed — benchmark of the HTTP feed: GET /v1/crossings with keep-alive,
 * driven by wrk, while simulated agents keep the collector's state moving.
 *
 * Owns a small deployment of its own in a temporary directory: rrdcached, a
 * poe-collector with the shipped registry (every crossing in the body) and
 * poe-agent --simulate on both directions of four crossings, with lanes
 * within what the registry gives them. Once every simulated agent has a
 * batch archived, it reports the body (bytes, crossings, open queues), runs
 * `wrk -t2 -c32 -d<S>s --latency` on /v1/crossings and reports requests/s,
 * latency percentiles, non-2xx answers and the collector's CPU meanwhile.
 * Prints key=value lines for bench/run.sh; never judges the figures. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchstack.h"
#include "proc.h"
#include "timeutil.h"

#define F_NSIM 8
#define F_DATA_TIMEOUT_MS 30000

typedef struct {
    const char *bin, *registry, *workdir;
    long seconds;
    bstack_t st;
    pid_t sim[F_NSIM];
} s_feed_t;

/* ---- processes ----------------------------------------------------------------- */

static int s_start_simulated(s_feed_t *f)
{
    static const char *const sims[F_NSIM / 2][2] = {
        { "090101", "passenger=8,commercial=3" }, { "380001", "passenger=8,commercial=3" },
        { "071201", "passenger=8,commercial=3" }, { "250401", "passenger=8,pedestrian=4" },
    };
    for (int i = 0; i < F_NSIM; i++) {
        const char *dir = i % 2 ? "southbound" : "northbound";
        const char *extra[] = { "--simulate", "--sim-lanes", sims[i / 2][1], NULL };
        if ((f->sim[i] = bstack_spawn_agent(&f->st, sims[i / 2][0], dir, extra)) < 0)
            return -1;
    }
    return 0;
}

static bool s_agents_alive(const s_feed_t *f)
{
    for (int i = 0; i < F_NSIM; i++)
        if (proc_wait_exit(f->sim[i], 0, NULL) == 0) {
            fprintf(stderr, "feed: a simulated poe-agent exited (logs in %s)\n", f->st.dir);
            return false;
        }
    return true;
}

static void s_stop_all(s_feed_t *f, bool failed)
{
    for (int i = 0; i < F_NSIM; i++)
        if (f->sim[i] > 0)
            proc_stop(f->sim[i], 3000);
    bstack_stop(&f->st, failed);
}

/* ---- the body --------------------------------------------------------------------- */

static json_t *s_get_json(const s_feed_t *f, const char *path, size_t *len)
{
    int status = 0;
    char *body = proc_http_get(f->st.hport, path, &status);
    json_t *j = body && status == 200 ? json_loads(body, 0, NULL) : NULL;
    if (len)
        *len = body ? strlen(body) : 0;
    free(body);
    return j;
}

/* Until every simulated agent has had a batch archived. */
static int s_wait_data(const s_feed_t *f)
{
    int64_t deadline = tu_mono_ms() + F_DATA_TIMEOUT_MS;
    while (!bstack_interrupted() && tu_mono_ms() < deadline && s_agents_alive(f)) {
        json_t *h = s_get_json(f, "/health", NULL);
        json_int_t batches = json_integer_value(json_object_get(h, "batches_accepted"));
        json_decref(h);
        if (batches >= F_NSIM)
            return 0;
        nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
    }
    fprintf(stderr, "feed: simulated agents sent no data (logs in %s)\n", f->st.dir);
    return -1;
}

static const char *s_str(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

/* The body /v1/crossings serves now: its size, crossings and open queues. */
static int s_body_report(const s_feed_t *f)
{
    size_t len = 0, i, k, m, open = 0, queues = 0;
    json_t *j = s_get_json(f, "/v1/crossings", &len), *c, *d, *q;
    if (!j) {
        fprintf(stderr, "feed: GET /v1/crossings failed\n");
        return -1;
    }
    json_array_foreach(json_object_get(j, "crossings"), i, c) {
        json_array_foreach(json_object_get(c, "directions"), k, d) {
            json_array_foreach(json_object_get(d, "queues"), m, q) {
                queues++;
                open += !strcmp(s_str(json_object_get(q, "status")), "open");
            }
        }
    }
    printf("body_bytes=%zu\nbody_crossings=%zu\nbody_queues=%zu\nbody_open_queues=%zu\n", len,
           json_array_size(json_object_get(j, "crossings")), queues, open);
    json_decref(j);
    return 0;
}

/* ---- wrk ------------------------------------------------------------------------------- */

/* A wrk latency figure ("850.00us", "1.23ms", "1.02s") in ms. */
static double s_wrk_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return !strncmp(end, "us", 2) ? v / 1000 : !strncmp(end, "ms", 2) ? v : v * 1000;
}

static int s_wrk_parse(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[256], val[64];
    double rps = -1;
    long non2xx = 0, errors = 0, a, b, c, d;
    while (fp && fgets(line, sizeof line, fp)) {
        if (sscanf(line, " Requests/sec: %lf", &rps) == 1 ||
            sscanf(line, " Non-2xx or 3xx responses: %ld", &non2xx) == 1)
            continue;
        if (sscanf(line, " Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b,
                   &c, &d) == 4)
            errors = a + b + c + d;
        else if (sscanf(line, " 50%% %63s", val) == 1)
            printf("wrk_p50_ms=%.2f\n", s_wrk_ms(val));
        else if (sscanf(line, " 99%% %63s", val) == 1)
            printf("wrk_p99_ms=%.2f\n", s_wrk_ms(val));
    }
    if (fp)
        fclose(fp);
    if (rps < 0) {
        fprintf(stderr, "feed: no result from wrk (see %s)\n", path);
        return -1;
    }
    printf("wrk_requests_per_s=%.0f\nwrk_non2xx=%ld\nwrk_socket_errors=%ld\n", rps, non2xx,
           errors);
    return 0;
}

static int s_wrk(const s_feed_t *f)
{
    char url[128], dur[32], log[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/crossings", f->st.hport);
    snprintf(dur, sizeof dur, "%lds", f->seconds);
    snprintf(log, sizeof log, "%s/wrk.log", f->st.dir);
    const char *argv[] = { "wrk", "-t2", "-c32", "-d", dur, "--latency", url, NULL };
    long long c0 = bstack_cpu_ticks(f->st.coll);
    int64_t t0 = tu_mono_ms();
    pid_t wrk = proc_spawn(argv, log);
    int status = 0;
    if (wrk < 0 || proc_wait_exit(wrk, (int)(f->seconds + 30) * 1000, &status) != 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (wrk > 0)
            proc_stop(wrk, 1000);
        fprintf(stderr, "feed: wrk failed (see %s)\n", log);
        return -1;
    }
    double secs = (double)(tu_mono_ms() - t0) / 1000.0;
    printf("wrk_collector_cpu=%.2f\n",
           (double)(bstack_cpu_ticks(f->st.coll) - c0) / (double)sysconf(_SC_CLK_TCK) / secs);
    return s_wrk_parse(log);
}

/* ---- main ------------------------------------------------------------------------------ */

static int s_run(s_feed_t *f)
{
    if (bstack_init(&f->st, "feed", f->bin, f->workdir) != 0 ||
        bstack_start(&f->st, f->registry, NULL) != 0 || s_start_simulated(f) != 0 ||
        s_wait_data(f) != 0 || s_body_report(f) != 0)
        return -1;
    fprintf(stderr, "feed: wrk -t2 -c32 -d%lds on /v1/crossings\n", f->seconds);
    if (s_wrk(f) != 0)
        return -1;
    return s_agents_alive(f) ? 0 : -1;
}

int main(int argc, char **argv)
{
    s_feed_t f = { .registry = "deploy/registry.conf", .seconds = 10 };
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--seconds"))
            f.seconds = atol(v);
        else if (v && !strcmp(argv[i], "--registry"))
            f.registry = v;
        else if (v && !strcmp(argv[i], "--workdir"))
            f.workdir = v;
        else
            f.seconds = -1;
    }
    if (f.seconds < 1) {
        fprintf(stderr, "usage: feed [--seconds S] [--registry FILE] [--workdir DIR]"
                        "  (env POE_BIN)\n");
        return 2;
    }
    if (!(f.bin = getenv("POE_BIN"))) {
        fprintf(stderr, "feed: set POE_BIN to the directory of poe-agent and poe-collector\n");
        return 2;
    }
    bstack_signals();
    int rc = s_run(&f);
    s_stop_all(&f, rc != 0);
    return rc == 0 ? 0 : 1;
}
