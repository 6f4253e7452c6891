/* latency — benchmark of the live path: how long a sensor line takes to show
 * in the HTTP feed (sensor line -> poe-agent -> ZeroMQ -> poe-collector ->
 * rrdcached -> /v1/crossings/<id>).
 *
 * Owns a small deployment of its own in a temporary directory: rrdcached, a
 * poe-collector with the shipped registry, and three poe-agent --listen
 * tcp://... with --interval and --grace as given (default 1000 ms and the
 * agent's own grace) whose sensor lines this program writes, each
 * stamped with the current time. A line is one "arrive passenger standard
 * 1" at a random phase of its interval; it has shown when the queue's
 * `updated` (event time of the last interval received) reaches the end of
 * the line's interval. /v1/crossings/<id> is polled every 2 ms over one
 * keep-alive connection per stream.
 *
 * An agent closes an interval when an event at or after its end arrives,
 * or from its timer --grace ms (room for late lines) after the end. So two
 * kinds of sensor stream are measured: quiet (two streams; nothing follows
 * a line until it has shown: closed by the timer, interval + grace) and
 * busy (an event every 100 ms on another queue: closed by the next event).
 * Prints key=value lines for bench/run.sh; never judges the figures. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchstack.h"
#include "proc.h"
#include "timeutil.h"

#define L_WARMUP 2              /* first samples of a stream also create files: dropped */
#define L_MAX_SAMPLES 600
#define L_NSTREAMS 3
#define L_AGENT_GRACE_MS 250    /* AGENT_GRACE_MS in agent/main.c: the default */
#define L_FILL_MS 100           /* busy stream: one event this often */
#define L_NEVER INT64_MAX

typedef struct {
    int64_t t_ms, end_ms, seen_ms;   /* line written, its interval end, seen in the feed */
} s_sample_t;

typedef struct {
    const char *crossing, *direction;
    bool busy;
    int64_t iv;                      /* the agents' --interval, ms */
    pid_t pid;
    int port, fd, http_fd;
    long total, k, seen;             /* samples wanted, written, seen */
    int64_t next, next_fill;         /* wall ms of the next sample line / filler */
    unsigned rnd;
    s_sample_t s[L_MAX_SAMPLES];
} s_stream_t;

typedef struct {
    const char *bin, *registry, *workdir;
    long samples, interval_ms, grace_ms;   /* grace_ms < 0: the agent's default */
    bstack_t stack;
    s_stream_t st[L_NSTREAMS];
} s_lat_t;

/* ---- processes ----------------------------------------------------------------- */

static int s_start_agent(s_lat_t *l, s_stream_t *s)
{
    char listen[64];
    s->port = proc_free_port();
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", s->port);
    char iv[24], grace[24];
    snprintf(iv, sizeof iv, "%ld", l->interval_ms);
    snprintf(grace, sizeof grace, "%ld", l->grace_ms);
    const char *extra[] = { "--listen", listen, "--interval", iv,
                            l->grace_ms >= 0 ? "--grace" : NULL, grace, NULL };
    s->pid = bstack_spawn_agent(&l->stack, s->crossing, s->direction, extra);
    if (s->pid < 0 || proc_wait_tcp(s->port, 10000) != 0) {
        fprintf(stderr, "latency: poe-agent --listen did not start (see %s/agent-%s-%s.log)\n",
                l->stack.dir, s->crossing, s->direction);
        return -1;
    }
    return 0;
}

static void s_stop_all(s_lat_t *l, bool failed)
{
    for (int i = 0; i < L_NSTREAMS; i++) {
        s_stream_t *s = &l->st[i];
        if (s->fd > 0)
            close(s->fd);
        if (s->http_fd > 0)
            close(s->http_fd);
        if (s->pid > 0)
            proc_stop(s->pid, 3000);
    }
    bstack_stop(&l->stack, failed);
}

/* ---- sockets: the sensor streams and a keep-alive HTTP client --------------------- */

static int s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int s_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0 && errno != EINTR)
            return -1;
        buf += n > 0 ? n : 0;
        len -= n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* GET path over *fd, kept alive (opened when *fd <= 0). The body,
 * malloc'ed, or NULL (the connection is dropped and reopened next time). */
static char *s_get(int port, int *fd, const char *path)
{
    char req[256], buf[1 << 16];
    if (*fd <= 0 && (*fd = s_connect(port)) < 0)
        return NULL;
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    size_t len = 0, need = 0;
    if (s_send_all(*fd, req, (size_t)n) != 0)
        goto fail;
    while (!need || len < need) {
        ssize_t r = recv(*fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0)
            goto fail;
        len += (size_t)r;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "\r\nContent-Length:");
        if (end && cl && cl < end)
            need = (size_t)(end + 4 - buf) + (size_t)atol(cl + 17);
        if (len >= sizeof buf - 1)
            goto fail;
    }
    return strdup(strstr(buf, "\r\n\r\n") + 4);
fail:
    close(*fd);
    *fd = -1;
    return NULL;
}

/* ---- one stream ------------------------------------------------------------------------ */

static const char *s_str(const json_t *j)
{
    const char *s = json_string_value(j);
    return s ? s : "";
}

/* Event time (ms) of the end of the last interval of the stream's queue
 * (passenger standard) in the feed; 0 when none yet. */
static int64_t s_updated_ms(s_lat_t *l, s_stream_t *s)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/crossings/%s", s->crossing);
    char *body = s_get(l->stack.hport, &s->http_fd, path);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    json_t *crossing = json_array_get(json_object_get(j, "crossings"), 0);
    json_t *dirs = json_object_get(crossing, "directions");
    int64_t ms = 0;
    size_t i, k;
    json_t *d, *q;
    json_array_foreach(dirs, i, d) {
        if (strcmp(s_str(json_object_get(d, "direction")), s->direction) != 0)
            continue;
        json_array_foreach(json_object_get(d, "queues"), k, q) {
            struct tm tm = { 0 };
            const char *up = json_string_value(json_object_get(q, "updated")), *rest;
            /* "...:SSZ", or "...:SS.mmmZ" for an interval ending inside a second */
            if (!strcmp(s_str(json_object_get(q, "mode")), "passenger") &&
                !strcmp(s_str(json_object_get(q, "lane")), "standard") && up &&
                (rest = strptime(up, "%Y-%m-%dT%H:%M:%S", &tm))) {
                ms = (int64_t)timegm(&tm) * 1000;
                if (rest[0] == '.')
                    ms += strtol(rest + 1, NULL, 10);
            }
        }
    }
    json_decref(j);
    return ms;
}

static int s_write_line(s_stream_t *s, const char *what, int64_t t_ms)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%lld %s\n", (long long)t_ms, what);
    return s_send_all(s->fd, line, (size_t)n);
}

/* Uniform in [0, interval) ms: any phase of an interval. */
static int64_t s_phase(s_stream_t *s)
{
    s->rnd = s->rnd * 1103515245u + 12345u;
    return (int64_t)((s->rnd >> 8) % (unsigned)s->iv);
}

/* Write what is due on stream s at wall time now. */
static int s_write_due(s_stream_t *s, int64_t now)
{
    if (s->busy && now >= s->next_fill) {
        if (s_write_line(s, "arrive passenger ready 1", now) != 0)
            return -1;
        s->next_fill = now + L_FILL_MS;
    }
    if (s->k < s->total && now >= s->next) {
        if (s_write_line(s, "arrive passenger standard 1", now) != 0)
            return -1;
        int64_t end = now - now % s->iv + s->iv;
        s->s[s->k++] = (s_sample_t){ .t_ms = now, .end_ms = end };
        /* Busy: the next one in the next interval. Quiet: once this one showed. */
        s->next = s->busy ? end + s_phase(s) : L_NEVER;
    }
    return 0;
}

/* Poll the feed while a line of s has not shown yet. */
static void s_poll(s_lat_t *l, s_stream_t *s)
{
    if (s->seen >= s->k)
        return;
    int64_t up = s_updated_ms(l, s), at = tu_now_ms();
    while (s->seen < s->k && s->s[s->seen].end_ms <= up)
        s->s[s->seen++].seen_ms = at;
    /* A uniform delay of up to an interval from any moment gives a uniform phase. */
    if (!s->busy && s->seen == s->k)
        s->next = at + s_phase(s);
}

/* ---- figures ---------------------------------------------------------------------------- */

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values. */
static long long s_pct(const int64_t *v, long n, double p)
{
    long i = (long)(p * (double)n + 0.999999) - 1;
    return (long long)v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static long s_grace(const s_lat_t *l)
{
    return l->grace_ms >= 0 ? l->grace_ms : L_AGENT_GRACE_MS;
}

/* Latency over the quiet or the busy streams, and the part of it after the
 * agent could close the interval (quiet: its end + grace; busy: its end). */
static int s_report(const s_lat_t *l, bool busy, const char *name)
{
    int64_t lat[L_NSTREAMS * L_MAX_SAMPLES], after[L_NSTREAMS * L_MAX_SAMPLES];
    long n = 0;
    for (int i = 0; i < L_NSTREAMS; i++) {
        const s_stream_t *s = &l->st[i];
        for (long k = L_WARMUP; s->busy == busy && k < s->seen; k++, n++) {
            lat[n] = s->s[k].seen_ms - s->s[k].t_ms;
            after[n] = s->s[k].seen_ms - s->s[k].end_ms - (busy ? 0 : s_grace(l));
        }
    }
    if (n == 0) {
        fprintf(stderr, "latency: no %s sensor line reached the feed (logs in %s)\n", name,
                l->stack.dir);
        return -1;
    }
    qsort(lat, (size_t)n, sizeof *lat, s_cmp_i64);
    qsort(after, (size_t)n, sizeof *after, s_cmp_i64);
    printf("%s_samples=%ld\n%s_p50_ms=%lld\n%s_p99_ms=%lld\n%s_max_ms=%lld\n", name, n, name,
           s_pct(lat, n, 0.5), name, s_pct(lat, n, 0.99), name, s_pct(lat, n, 1.0));
    const char *after_what = busy ? "after_end" : "after_grace";
    printf("%s_%s_p50_ms=%lld\n%s_%s_p99_ms=%lld\n", name, after_what, s_pct(after, n, 0.5),
           name, after_what, s_pct(after, n, 0.99));
    return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static int s_measure(s_lat_t *l)
{
    static const char *const who[L_NSTREAMS][2] = {
        { "070801", "northbound" }, { "070801", "southbound" }, { "300401", "northbound" } };
    int64_t now = tu_now_ms();
    for (int i = 0; i < L_NSTREAMS; i++) {
        s_stream_t *s = &l->st[i];
        *s = (s_stream_t){ .crossing = who[i][0], .direction = who[i][1], .busy = i == 2,
                           .iv = l->interval_ms, .rnd = 7u + (unsigned)i, .next = now + 300 };
        /* Quiet streams share the samples; the busy one takes them all. */
        s->total = L_WARMUP + (s->busy ? l->samples : (l->samples + 1) / 2);
        if (s_start_agent(l, s) != 0 || (s->fd = s_connect(s->port)) < 0 ||
            s_write_line(s, "lane L1 passenger standard open", now) != 0)
            return -1;
    }
    int64_t deadline = tu_mono_ms() + (l->samples + L_WARMUP) * (2 * l->interval_ms +
                       s_grace(l) + 500) + 30000;
    bool done = false;
    while (!done && !bstack_interrupted() && tu_mono_ms() < deadline) {
        done = true;
        for (int i = 0; i < L_NSTREAMS; i++) {
            if (s_write_due(&l->st[i], tu_now_ms()) != 0)
                return -1;
            s_poll(l, &l->st[i]);
            done &= l->st[i].seen >= l->st[i].total;
        }
        nanosleep(&(struct timespec){ 0, 2000000L }, NULL);
    }
    return s_report(l, false, "quiet") | s_report(l, true, "busy");
}

int main(int argc, char **argv)
{
    s_lat_t l = { .registry = "deploy/registry.conf", .samples = 60, .interval_ms = 1000,
                  .grace_ms = -1 };
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--samples"))
            l.samples = atol(v);
        else if (v && !strcmp(argv[i], "--registry"))
            l.registry = v;
        else if (v && !strcmp(argv[i], "--workdir"))
            l.workdir = v;
        else if (v && !strcmp(argv[i], "--interval"))
            l.interval_ms = atol(v);
        else if (v && !strcmp(argv[i], "--grace"))
            l.grace_ms = atol(v);
        else
            l.samples = -1;
    }
    if (l.samples < 1 || l.samples + L_WARMUP > L_MAX_SAMPLES || l.interval_ms < 1 ||
        l.grace_ms < -1) {
        fprintf(stderr, "usage: latency [--samples N] [--interval MS] [--grace MS] "
                        "[--registry FILE] [--workdir DIR]  (env POE_BIN)\n");
        return 2;
    }
    if (!(l.bin = getenv("POE_BIN"))) {
        fprintf(stderr, "latency: set POE_BIN to the directory of poe-agent and poe-collector\n");
        return 2;
    }
    bstack_signals();
    int rc = -1;
    if (bstack_init(&l.stack, "latency", l.bin, l.workdir) == 0 &&
        bstack_start(&l.stack, l.registry, NULL) == 0) {
        fprintf(stderr, "latency: %ld sensor lines on quiet and on busy streams, --interval %ld, "
                "grace %ld ms\n", l.samples, l.interval_ms, s_grace(&l));
        rc = s_measure(&l);
        printf("interval_ms=%ld\ngrace_ms=%ld\n", l.interval_ms, s_grace(&l));
    }
    s_stop_all(&l, rc != 0);
    return rc == 0 ? 0 : 1;
}
