/* sse — the browsers' live stream (/v1/stream) with many clients.
 *
 * Owns a small deployment in a temporary directory: rrdcached and a
 * poe-collector (--feed on Unix sockets, --sse-clients above --clients)
 * with the shipped registry. Raises its own file-descriptor limit (and so
 * the collector's, which inherits it) to what --clients streams need.
 *
 * Opens --clients streams on /v1/stream from this one process (epoll,
 * non-blocking reads, tests/lib/sse_client; read by --readers threads, 4 by
 * default, like browsers that do not wait for each other) and waits until every one has
 * its snapshot, reading the collector's VmRSS before and after: memory
 * per stream. Then a sender thread plays an agent on a raw DEALER and
 * sends --updates intervals of 250401's passenger standard and ready
 * lanes at --rate a second (two queues change per interval: two updates;
 * the only agent: interval k makes updates base + 2k + 1 and + 2), while
 * the readers read every stream and this thread a ZeroMQ SUB on the live
 * feed. For every update and stream
 * it takes the time from the feed's publication (the SUB's receipt) and
 * from the agent's send to the stream's receipt, and checks the ids came
 * in order without a gap. Prints key=value lines (percentiles in ms,
 * memory in kB, the collector's cores); never judges the figures. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "benchstack.h"
#include "proc.h"
#include "sse_client.h"
#include "timeutil.h"
#include "wire.h"

#define S_INTERVAL_MS 5000
#define S_WAIT_MS 60000

typedef struct {
    const char *bin, *registry, *workdir, *threads;
    long clients, updates, rate;
    bstack_t st;
    char feed[700], snap[700];
    void *zctx, *sub;
    sse_client_t *c;
    uint64_t *next_id;          /* per stream: the id due next (0: snapshot not yet) */
    uint64_t base;              /* the feed's seq before the first interval */
    int64_t *t_pub;             /* per update (seq - base - 1): the SUB's receipt, us */
    int64_t *t_send;            /* per interval: the agent's send, us (sender thread) */
    atomic_bool send_failed;
    int64_t *t_recv;            /* per stream and update: the stream's receipt, us */
    double *lat_pub, *lat_send; /* per delivery, ms */
    size_t nlat;
    long gaps, out_of_order;
    long readers;               /* threads reading the streams */
    uint64_t last;              /* the last update's seq */
    atomic_long done;           /* streams that have every update */
    atomic_bool stop;
} s_bench_t;

/* One reading thread: the streams i with i % readers == index. */
typedef struct {
    s_bench_t *b;
    long index;
    int ep;
    long gaps, out_of_order;
    pthread_t th;
} s_reader_t;

static int64_t s_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int s_raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if ((long)rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < need) {
        fprintf(stderr, "sse: %ld file descriptors needed, the hard limit is %ld\n", need,
                (long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)need;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- the agent (its own thread) ------------------------------------------------- */

static void *s_sender(void *arg)
{
    s_bench_t *b = arg;
    void *dealer = zmq_socket(b->zctx, ZMQ_DEALER);
    int linger = 0, timeout = 10000;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", b->st.zport);
    if (zmq_connect(dealer, ep) != 0) {
        atomic_store(&b->send_failed, true);
        zmq_close(dealer);
        return NULL;
    }
    int64_t t0 = (tu_now_ms() / S_INTERVAL_MS - b->updates - 10) * S_INTERVAL_MS;
    int64_t start = s_us(), every = 1000000 / b->rate;
    for (long k = 0; k < b->updates && !bstack_interrupted(); k++) {
        int64_t due = start + k * every, now = s_us();
        if (due > now)
            usleep((useconds_t)(due - now));
        wire_batch_t *w = wire_batch_new("250401", 1, 7, S_INTERVAL_MS);
        for (int type = 1; type <= 2; type++) {
            wire_queue_sample_t q = { .t_end_ms = t0 + k * S_INTERVAL_MS, .mode = 1, .type = type,
                                      .arrivals = (uint32_t)k, .departures = 1, .lanes_open = 4 };
            wire_batch_add_queue(w, &q);
        }
        size_t len;
        uint8_t *buf = wire_batch_pack(w, (uint64_t)k + 1, 0, &len);
        wire_batch_destroy(&w);
        b->t_send[k] = s_us();
        int rc = zmq_send(dealer, buf, len, 0);
        free(buf);
        uint8_t reply[512];
        if (rc < 0 || zmq_recv(dealer, reply, sizeof reply, 0) <= 0) {
            fprintf(stderr, "sse: interval %ld not acknowledged\n", k);
            atomic_store(&b->send_failed, true);
            break;
        }
    }
    zmq_close(dealer);
    return NULL;
}

/* ---- the feed and the streams -------------------------------------------------- */

/* Every update the SUB has: its receipt time and interval. */
static void s_drain_sub(s_bench_t *b)
{
    char topic[128], body[8192];
    for (;;) {
        int n = zmq_recv(b->sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        int64_t t = s_us();
        n = zmq_recv(b->sub, body, sizeof body - 1, 0);
        if (n < 0)
            return;
        body[n] = '\0';
        json_t *j = json_loads(body, 0, NULL);
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
        json_decref(j);
        if (seq > b->base && seq <= b->base + 2 * (uint64_t)b->updates)
            b->t_pub[seq - b->base - 1] = t;
    }
}

/* Read stream i; account for every event it completed (gaps and
 * disorder into *gaps and *ooo). */
static void s_read_stream(s_bench_t *b, long i, int64_t t, long *gaps, long *ooo)
{
    sse_client_t *c = &b->c[i];
    if (sse_client_read(c) < 0 && !c->closed)
        return;
    sse_client_event_t ev;
    while (sse_client_next(c, &ev) == 1) {
        if (!strcmp(ev.event, "snapshot")) {
            b->next_id[i] = ev.id + 1;
        } else if (!strcmp(ev.event, "wait") && ev.has_id) {
            if (ev.id > b->next_id[i])
                (*gaps)++;
            else if (ev.id < b->next_id[i])
                (*ooo)++;
            b->next_id[i] = ev.id + 1;
            if (ev.id > b->base && ev.id <= b->base + 2 * (uint64_t)b->updates)
                b->t_recv[(size_t)i * 2 * (size_t)b->updates + (ev.id - b->base - 1)] = t;
        }
        sse_client_event_free(&ev);
    }
}

static void *s_reader(void *arg)
{
    s_reader_t *r = arg;
    s_bench_t *b = r->b;
    struct epoll_event evs[256];
    while (!atomic_load(&b->stop)) {
        int n = epoll_wait(r->ep, evs, 256, 50);
        int64_t t = s_us();
        for (int k = 0; k < n; k++) {
            long i = (long)evs[k].data.u64;
            bool was = b->next_id[i] > b->last;
            s_read_stream(b, i, t, &r->gaps, &r->out_of_order);
            if (!was && b->next_id[i] > b->last)
                atomic_fetch_add(&b->done, 1);
            if (b->c[i].closed)
                epoll_ctl(r->ep, EPOLL_CTL_DEL, b->c[i].fd, NULL);
        }
    }
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double s_pct(double *v, size_t n, double p)
{
    return n ? v[(size_t)((double)(n - 1) * p)] : -1;
}

/* Sort v and keep only non-negative values; their count. */
static size_t s_sorted(double *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] >= 0)
            v[m++] = v[i];
    qsort(v, m, sizeof *v, s_cmp);
    return m;
}

static int s_run(s_bench_t *b)
{
    if (s_raise_nofile(b->clients + 256) != 0) {
        fprintf(stderr, "sse: cannot raise the file-descriptor limit to %ld\n", b->clients + 256);
        return -1;
    }
    if (bstack_init(&b->st, "sse", b->bin, b->workdir) != 0)
        return -1;
    snprintf(b->feed, sizeof b->feed, "ipc://%s/feed", b->st.dir);
    snprintf(b->snap, sizeof b->snap, "ipc://%s/snap", b->st.dir);
    char max[32];
    snprintf(max, sizeof max, "%ld", b->clients + 16);
    const char *extra[] = { "--feed", b->feed, "--feed-snapshot", b->snap, "--sse-clients", max,
                            "--stale-after", "86400", b->threads ? "--http-threads" : NULL,
                            b->threads, NULL };
    if (bstack_start(&b->st, b->registry, extra) != 0)
        return -1;
    b->zctx = zmq_ctx_new();
    b->sub = zmq_socket(b->zctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(b->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(b->sub, ZMQ_SUBSCRIBE, "wait.", 5);
    if (zmq_connect(b->sub, b->feed) != 0)
        return -1;

    long rss0 = bstack_status_kb(b->st.coll, "VmRSS:");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    b->c = calloc((size_t)b->clients, sizeof *b->c);
    b->next_id = calloc((size_t)b->clients, sizeof *b->next_id);
    size_t nupd = 2 * (size_t)b->updates;
    b->t_pub = calloc(nupd, sizeof *b->t_pub);
    b->t_send = calloc((size_t)b->updates, sizeof *b->t_send);
    b->t_recv = calloc(nupd * (size_t)b->clients, sizeof *b->t_recv);
    b->lat_pub = calloc(nupd * (size_t)b->clients, sizeof *b->lat_pub);
    b->lat_send = calloc(nupd * (size_t)b->clients, sizeof *b->lat_send);
    if (ep < 0 || !b->c || !b->next_id || !b->t_pub || !b->t_send || !b->t_recv ||
        !b->lat_pub || !b->lat_send) {
        fprintf(stderr, "sse: out of memory\n");
        return -1;
    }
    int64_t t_open = s_us();
    for (long i = 0; i < b->clients; i++) {
        if (sse_client_open(&b->c[i], b->st.hport, "/v1/stream", NULL) != 0) {
            fprintf(stderr, "sse: stream %ld: cannot connect: %s\n", i, strerror(errno));
            return -1;
        }
        struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, b->c[i].fd, &e);
    }
    /* every stream has its snapshot */
    long ready = 0, refused = 0;
    struct epoll_event evs[256];
    int64_t deadline = tu_mono_ms() + S_WAIT_MS;
    while (ready + refused < b->clients && tu_mono_ms() < deadline && !bstack_interrupted()) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int k = 0; k < n; k++) {
            long i = (long)evs[k].data.u64;
            bool had = b->next_id[i] != 0;
            s_read_stream(b, i, s_us(), &b->gaps, &b->out_of_order);
            if (!had && b->next_id[i])
                ready++;
            else if (b->c[i].hdr_end && b->c[i].status != 200 && b->c[i].closed &&
                     b->c[i].fd >= 0) {
                refused++;
                epoll_ctl(ep, EPOLL_CTL_DEL, b->c[i].fd, NULL);
            }
        }
    }
    int64_t t_ready = s_us();
    long rss1 = bstack_status_kb(b->st.coll, "VmRSS:");
    if (ready < b->clients) {
        fprintf(stderr, "sse: %ld of %ld streams got their snapshot (%ld refused)\n", ready,
                b->clients, refused);
        return -1;
    }
    /* the feed's position: every stream's snapshot id */
    b->base = b->next_id[0] - 1;
    for (long i = 1; i < b->clients; i++)
        if (b->next_id[i] - 1 != b->base) {
            fprintf(stderr, "sse: snapshots at different sequence numbers (%llu, %llu)\n",
                    (unsigned long long)b->base, (unsigned long long)(b->next_id[i] - 1));
            return -1;
        }
    /* the streams to their reading threads */
    close(ep);
    s_reader_t *rd = calloc((size_t)b->readers, sizeof *rd);
    if (!rd)
        return -1;
    b->last = b->base + nupd;
    int rc = 0;
    long started = 0;
    for (long r = 0; r < b->readers; r++) {
        rd[r] = (s_reader_t){ .b = b, .index = r, .ep = epoll_create1(EPOLL_CLOEXEC) };
        for (long i = r; i < b->clients && rd[r].ep >= 0; i += b->readers) {
            struct epoll_event e = { .events = EPOLLIN, .data.u64 = (uint64_t)i };
            epoll_ctl(rd[r].ep, EPOLL_CTL_ADD, b->c[i].fd, &e);
        }
        if (rd[r].ep < 0 || pthread_create(&rd[r].th, NULL, s_reader, &rd[r]) != 0) {
            rc = -1;
            break;
        }
        started++;
    }
    usleep(200 * 1000);   /* the SUB's subscription reaches the publisher */
    long long cpu0 = bstack_cpu_ticks(b->st.coll);
    int64_t t_send0 = s_us();
    pthread_t th;
    bool sending = rc == 0 && pthread_create(&th, NULL, s_sender, b) == 0;
    /* until every stream has every update, or the sender failed, or the
     * bound: this thread stamps the feed's updates as they come */
    int64_t deadline2 = tu_mono_ms() + S_WAIT_MS + 1000 * b->updates / b->rate;
    while (sending && atomic_load(&b->done) < b->clients && tu_mono_ms() < deadline2 &&
           !bstack_interrupted() && !atomic_load(&b->send_failed)) {
        zmq_pollitem_t it = { .socket = b->sub, .events = ZMQ_POLLIN };
        if (zmq_poll(&it, 1, 20) > 0)
            s_drain_sub(b);
    }
    atomic_store(&b->stop, true);
    if (sending)
        pthread_join(th, NULL);
    for (long r = 0; r < started; r++) {
        pthread_join(rd[r].th, NULL);
        b->gaps += rd[r].gaps;
        b->out_of_order += rd[r].out_of_order;
    }
    for (long r = 0; r < b->readers; r++)
        if (rd[r].ep >= 0)
            close(rd[r].ep);
    free(rd);
    long done = atomic_load(&b->done);
    if (rc != 0 || !sending)
        return -1;
    s_drain_sub(b);
    for (size_t k = 0; k < nupd * (size_t)b->clients; k++) {
        size_t u = k % nupd;
        if (!b->t_recv[k])
            continue;
        b->lat_pub[b->nlat] = b->t_pub[u] ? (double)(b->t_recv[k] - b->t_pub[u]) / 1000.0 : -1;
        /* only this agent sends: interval j made updates 2j + 1 and 2j + 2 */
        b->lat_send[b->nlat] = (double)(b->t_recv[k] - b->t_send[u / 2]) / 1000.0;
        b->nlat++;
    }
    double secs = (double)(s_us() - t_send0) / 1e6;
    long long cpu1 = bstack_cpu_ticks(b->st.coll);
    long rss2 = bstack_status_kb(b->st.coll, "VmRSS:");
    int status = 0;
    char *h = proc_http_get(b->st.hport, "/health", &status);
    json_t *hj = h ? json_loads(h, 0, NULL) : NULL;
    free(h);
    long streams = (long)json_integer_value(json_object_get(json_object_get(hj, "stream"), "clients"));
    json_decref(hj);
    size_t np = s_sorted(b->lat_pub, b->nlat), ns = s_sorted(b->lat_send, b->nlat);
    printf("sse_clients=%ld\nsse_updates=%zu\nsse_rate_per_s=%ld\nsse_readers=%ld\n", b->clients,
           nupd, 2 * b->rate, b->readers);
    printf("sse_connect_all_ms=%.0f\n", (double)(t_ready - t_open) / 1000.0);
    printf("sse_deliveries=%zu\nsse_deliveries_expected=%zu\nsse_streams_complete=%ld\n", b->nlat,
           nupd * (size_t)b->clients, done);
    printf("sse_gaps=%ld\nsse_out_of_order=%ld\nsse_streams_at_collector=%ld\n", b->gaps,
           b->out_of_order, streams);
    printf("sse_pub_p50_ms=%.1f\nsse_pub_p99_ms=%.1f\nsse_pub_max_ms=%.1f\n",
           s_pct(b->lat_pub, np, 0.50), s_pct(b->lat_pub, np, 0.99), s_pct(b->lat_pub, np, 1.0));
    printf("sse_send_p50_ms=%.1f\nsse_send_p99_ms=%.1f\nsse_send_max_ms=%.1f\n",
           s_pct(b->lat_send, ns, 0.50), s_pct(b->lat_send, ns, 0.99), s_pct(b->lat_send, ns, 1.0));
    printf("collector_vmrss_before_kb=%ld\ncollector_vmrss_streams_kb=%ld\n"
           "collector_vmrss_after_kb=%ld\n", rss0, rss1, rss2);
    printf("collector_rssanon_after_kb=%ld\ncollector_rssshmem_after_kb=%ld\n",
           bstack_status_kb(b->st.coll, "RssAnon:"), bstack_status_kb(b->st.coll, "RssShmem:"));
    printf("collector_kb_per_stream=%.1f\ncollector_kb_per_stream_after=%.1f\n",
           (double)(rss1 - rss0) / (double)b->clients, (double)(rss2 - rss0) / (double)b->clients);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench_cpu_s=%.2f\n", (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    printf("collector_cpu=%.2f\n",
           secs > 0 ? (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / secs : 0.0);
    bool ok = done == b->clients && b->gaps == 0 && b->out_of_order == 0 &&
              !atomic_load(&b->send_failed);
    if (!ok)
        fprintf(stderr, "sse: %ld of %ld streams complete, %ld gaps, %ld out of order\n", done,
                b->clients, b->gaps, b->out_of_order);
    return ok ? 0 : -1;
}

static void s_free(s_bench_t *b)
{
    for (long i = 0; b->c && i < b->clients; i++)
        if (b->c[i].raw || b->c[i].body || b->c[i].fd > 0)
            sse_client_close(&b->c[i]);
    free(b->c);
    free(b->next_id);
    free(b->t_pub);
    free(b->t_send);
    free(b->t_recv);
    free(b->lat_pub);
    free(b->lat_send);
    if (b->sub)
        zmq_close(b->sub);
    if (b->zctx)
        zmq_ctx_term(b->zctx);
}

int main(int argc, char **argv)
{
    s_bench_t b = { .registry = "deploy/registry.conf", .clients = 1000, .updates = 100,
                    .rate = 10, .readers = 4 };
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--clients"))
            b.clients = atol(v);
        else if (v && !strcmp(argv[i], "--updates"))
            b.updates = atol(v);
        else if (v && !strcmp(argv[i], "--rate"))
            b.rate = atol(v);
        else if (v && !strcmp(argv[i], "--readers"))
            b.readers = atol(v);
        else if (v && !strcmp(argv[i], "--registry"))
            b.registry = v;
        else if (v && !strcmp(argv[i], "--http-threads"))
            b.threads = v;
        else if (v && !strcmp(argv[i], "--workdir"))
            b.workdir = v;
        else
            b.clients = -1;
    }
    if (b.clients < 1 || b.updates < 1 || b.rate < 1 || b.rate > 1000 || b.readers < 1 ||
        b.readers > 64) {
        fprintf(stderr, "usage: sse [--clients N] [--updates N] [--rate PER_S] [--readers N] [--http-threads N] "
                        "[--registry FILE] [--workdir DIR]  (env POE_BIN)\n");
        return 2;
    }
    if (!(b.bin = getenv("POE_BIN"))) {
        fprintf(stderr, "sse: set POE_BIN to the directory of poe-agent and poe-collector\n");
        return 2;
    }
    bstack_signals();
    int rc = s_run(&b);
    s_free(&b);
    bstack_stop(&b.st, rc != 0);
    return rc == 0 ? 0 : 1;
}
