/* ingest — benchmark of the collector's ingest path into rrdcached.
 *
 * Owns the synthetic side of the measurement: a generated registry of CA
 * crossings 900000.. (16 lanes in every mode), an rrdcached and a
 * poe-collector of its own in a temporary directory, and a client playing
 * every agent — one per crossing direction, 12 queues each (the last one
 * fewer, so the series count is exact) — over a few DEALER sockets. Each
 * agent has its own epoch, so a cumulative Ack (epoch, acked_seq,
 * durable_seq) finds its agent whichever DEALER carried it.
 *
 * Phases: warm-up (seq 1 of every agent, which creates every RRD file,
 * timed on its own); flood (batches of K intervals of 5 s, event time
 * starting 20 h in the past, a window of unacknowledged batches per agent,
 * samples acknowledged as accepted and as durable counted for S seconds,
 * /health and /v1/crossings probed meanwhile); sync (heartbeats until
 * everything accepted is durable); and with --live S, real time: a new epoch per agent, every
 * agent sends the interval that ended 1 s ago every 5 s, as live agents
 * do, and the time to the accepted and to the durable acknowledgement is
 * measured per batch (also apart for the batches after each agent's first:
 * the first batches cross the gap in event time since the flood, in every
 * queue at once, as after an outage); --pause S waits S seconds between
 * the sync and the live phase; --spread 1 spreads the live agents' sends
 * evenly over the interval (agents whose clocks are not synchronised, or
 * whose intervals start at different times: batches arrive all the time,
 * also while the collector renders), instead of all at once. Prints key=value lines for bench/run.sh; never judges
 * the figures, fails only when a component does not start or the collector
 * refuses the batches. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "benchstack.h"
#include "nginx.h"
#include "proc.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "wire.h"
#include "vec.h"

#define B_INTERVAL_MS 5000
#define B_GRACE_MS 1000          /* live agents send an interval 1 s after its end */
#define B_QUEUES TAX_NQUEUES
#define B_FIRST_ID 900000
#define B_HISTORY_MS (20LL * 3600 * 1000)
#define B_RING 64                /* send times kept per agent (window <= this) */
#define B_HEARTBEAT_MS 250       /* while something is not durable yet */

typedef struct {
    char id[8];
    int dir, nq, dealer;
    uint64_t epoch, sent, acked, durable;   /* highest seq sent / accepted / durable */
    int64_t sent_at[B_RING], next_hb;       /* monotonic ms */
    wire_batch_t *batch;
} s_agent_t;

typedef struct {
    int64_t *v;
    size_t n, cap;
} s_lat_t;

/* /health; /v1/crossings plain and with Accept-Encoding: gzip (what apps
 * and browsers send); nginx's copy of both. */
#define S_NPROBES 5
#define S_GZIP "Accept-Encoding: gzip\r\n"

typedef struct {
    int port;
    const char *path, *name;    /* what it GETs; the name its figures carry */
    const char *headers;        /* more request headers, or NULL */
    const char *expect;         /* a header line the answer must have, or NULL */
    atomic_bool stop;
    long n, failed;
    int64_t worst_ms;
    s_lat_t ms;                 /* every probe's time, failed ones included */
    s_lat_t first;              /* the time to the answer's first byte */
    pthread_t thread;
    bool running;
} s_probe_t;

/* The collector's VmRSS read every 500 ms during the live phase: one
 * reading at the end lands anywhere between a trim's low and a render's
 * high (docs/performance.md §1m), so the median and the highest are
 * reported too. */
typedef struct {
    pid_t pid;
    atomic_bool stop;
    s_lat_t kb;
    pthread_t thread;
    bool running;
} s_rss_t;

static void s_lat_add(s_lat_t *l, int64_t ms);
static int s_cmp_i64(const void *x, const void *y);

enum s_until { UNTIL_DEADLINE, UNTIL_FIRST_ACKED, UNTIL_DURABLE };

typedef struct {
    long series, seconds, ipb, window, ndealers, live_s, pause_s, spread;
    const char *bin, *workdir;
    bstack_t st;
    void *zctx, **dealers;
    s_agent_t *agents;
    size_t nagents;
    uint64_t epoch0, limit, max_seq;
    int64_t t0_ms;
    bool counting, live, heartbeats;
    uint64_t counted[2], resends, errors;   /* samples accepted, made durable */
    double cpu_s[3];                        /* of the last timed phase: collector, rrdcached, us */
    /* live: ms to accepted, to durable, and to accepted of every agent's
     * batches after its first (the first crosses the gap in event time
     * since the flood's data, in every queue at once) */
    s_lat_t lat[3];
    s_rss_t rss;                            /* the collector's, live */
    s_probe_t probe[S_NPROBES];             /* /health, /v1/crossings plain and gzip; nginx's */
    ngx_t ngx;                              /* nginx serving that copy, when installed */
    const char *site;                       /* its site: deploy/nginx/poenet-feed.conf */
} s_bench_t;

/* ---- an HTTP probe: does the feed still answer meanwhile? ------------------------ */

/* Whether the head of the answer in buf (its body at off) has the line. */
static bool s_has_header(const char *buf, size_t off, const char *line)
{
    const char *h = strcasestr(buf, line);
    return h && (size_t)(h - buf) < off;
}

/* GET the probe's path every 250 ms (each bounded to 10 s by
 * proc_http_get_into); every probe's time is kept, a failed one's too (its time
 * is how long it took to fail). */
static void *s_probe_run(void *arg)
{
    s_probe_t *p = arg;
    /* One buffer for every GET: the probe times the collector, not its own
     * page faults on a fresh 145 KB buffer (costly on a virtual machine). */
    char *buf = NULL;
    size_t cap = 0, off, len;
    while (!atomic_load(&p->stop)) {
        int64_t t = tu_mono_ms();
        proc_http_times_t pt;
        int status = proc_http_get_with(p->port, p->path, p->headers, &buf, &cap, &off, &len,
                                        &pt);
        int64_t d = tu_mono_ms() - t;
        p->failed += status < 0 || (status > 0 && p->expect && !s_has_header(buf, off, p->expect));
        s_lat_add(&p->first, pt.first_ms < 0 ? pt.total_ms : pt.first_ms);
        p->n++;
        p->worst_ms = d > p->worst_ms ? d : p->worst_ms;
        s_lat_add(&p->ms, d);
        nanosleep(&(struct timespec){ 0, 250000000L }, NULL);
    }
    free(buf);
    return NULL;
}

static void s_probe_start(s_probe_t *p, int port, const char *path, bool gzip,
                          const char *name, const char *thread_name)
{
    *p = (s_probe_t){ .port = port, .path = path, .name = name,
                      .headers = gzip ? S_GZIP : NULL,
                      .expect = gzip ? "\r\nContent-Encoding: gzip\r\n" : NULL };
    atomic_init(&p->stop, false);
    p->running = pthread_create(&p->thread, NULL, s_probe_run, p) == 0;
    if (p->running)
        pthread_setname_np(p->thread, thread_name);   /* perf sched, top -H */
}

/* /health as "http_probe", /v1/crossings as "crossings_probe" (plain) and
 * "crossings_gzip_probe" (with Accept-Encoding: gzip: a gzip answer is
 * required, else the probe counts as failed), and the same bytes from
 * nginx (when it runs) as "nginx_crossings_probe" and
 * "nginx_crossings_gzip_probe": what the alternative a user would run
 * shows under the same load. */
static void s_probes_start(s_bench_t *b)
{
    s_probe_start(&b->probe[0], b->st.hport, "/health", false, "http_probe", "probe-health");
    s_probe_start(&b->probe[1], b->st.hport, "/v1/crossings", false, "crossings_probe",
                  "probe-crossings");
    s_probe_start(&b->probe[2], b->st.hport, "/v1/crossings", true, "crossings_gzip_probe",
                  "probe-cross-gz");
    if (b->ngx.pid > 0) {
        s_probe_start(&b->probe[3], b->ngx.port, "/v1/crossings", false,
                      "nginx_crossings_probe", "probe-nginx");
        s_probe_start(&b->probe[4], b->ngx.port, "/v1/crossings", true,
                      "nginx_crossings_gzip_probe", "probe-nginx-gz");
    }
}

/* The collector's gzip answer for /v1/crossings (fetched just after the
 * plain one: the same state, give or take its "generated" second) as the
 * gzip_static sibling of nginx's copy. */
static int s_put_gzip(s_bench_t *b, const char *docroot)
{
    char *buf = NULL;
    size_t cap = 0, off = 0, len = 0;
    int status = proc_http_get_with(b->st.hport, "/v1/crossings", S_GZIP, &buf, &cap, &off, &len,
                                    NULL);
    int rc = status == 200 && s_has_header(buf, off, "\r\nContent-Encoding: gzip\r\n") &&
                     ngx_docroot_put(docroot, "v1/crossings.json.gz", buf + off, len) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        printf("nginx_crossings_gzip_bytes=%zu\n", len);
    free(buf);
    return rc;
}

/* nginx serving /v1/crossings as the collector renders it once every
 * crossing is known (after the warm-up), from a docroot of ours, through
 * the shipped site (--site, relative to the repository by default).
 * Without nginx, or when it does not start: no third probe (nginx=0). */
static int s_nginx_start(s_bench_t *b)
{
    if (!ngx_binary()) {
        printf("nginx=0\n");
        return 0;
    }
    char docroot[700], ndir[700], *buf = NULL;
    size_t cap = 0, off = 0, len = 0;
    snprintf(docroot, sizeof docroot, "%s/docroot", b->st.dir);
    snprintf(ndir, sizeof ndir, "%s/nginx", b->st.dir);
    int port = proc_free_port();
    int status = proc_http_get_into(b->st.hport, "/v1/crossings", &buf, &cap, &off, &len, NULL);
    int rc = status == 200 && port > 0 &&
                     ngx_docroot_put(docroot, "v1/crossings.json", buf + off, len) == 0 &&
                     s_put_gzip(b, docroot) == 0 &&
                     ngx_configure(&b->ngx, ndir, b->site, port, docroot, b->st.hport) == 0 &&
                     ngx_check(&b->ngx) == 0 && ngx_start(&b->ngx) == 0
                 ? 0
                 : -1;
    free(buf);
    if (rc != 0) {   /* the collector's own figures do not need it */
        fprintf(stderr, "ingest: nginx did not start (logs in %s); going on without it\n",
                ndir);
        ngx_stop(&b->ngx);
        printf("nginx=0\n");
    } else {
        printf("nginx=1\nnginx_crossings_bytes=%zu\n", len);
    }
    return 0;
}

/* l sorted, and its median, p99 and highest (-1 each when empty). */
typedef struct {
    long long p50, p99, max;
} s_stats_t;

static s_stats_t s_lat_stats(s_lat_t *l)
{
    if (l->n == 0)
        return (s_stats_t){ -1, -1, -1 };
    qsort(l->v, l->n, sizeof *l->v, s_cmp_i64);
    return (s_stats_t){ l->v[(l->n - 1) / 2], l->v[(l->n * 99 + 99) / 100 - 1], l->v[l->n - 1] };
}

/* "<prefix><name><what>_p50_ms=" and p99 of l (-1 when empty), which is emptied. */
static void s_quantiles_print(s_lat_t *l, const char *prefix, const char *name,
                              const char *what)
{
    s_stats_t q = s_lat_stats(l);
    printf("%s%s%s_p50_ms=%lld\n%s%s%s_p99_ms=%lld\n", prefix, name, what, q.p50, prefix, name,
           what, q.p99);
    free(l->v);
    *l = (s_lat_t){ 0 };
}

static void s_probe_report(s_probe_t *p, const char *prefix)
{
    atomic_store(&p->stop, true);
    if (p->running)
        pthread_join(p->thread, NULL);
    const char *n = p->name;
    printf("%s%ss=%ld\n%s%s_failed=%ld\n%s%s_worst_ms=%lld\n", prefix, n, p->n, prefix, n,
           p->failed, prefix, n, (long long)p->worst_ms);
    s_quantiles_print(&p->ms, prefix, n, "");
    s_quantiles_print(&p->first, prefix, n, "_first_byte");
}

static void s_probes_report(s_bench_t *b, const char *prefix)
{
    for (int i = 0; i < S_NPROBES; i++)
        if (b->probe[i].name)
            s_probe_report(&b->probe[i], prefix);
}

/* ---- agents ------------------------------------------------------------------------ */

static int s_write_registry(const char *path, size_t ncrossings)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# generated by bench/ingest: %zu synthetic crossings\ncrossings = (\n",
            ncrossings);
    for (size_t i = 0; i < ncrossings; i++)
        fprintf(f,
                "  { id = \"%zu\"; bwt_id = \"01%zu\"; border = \"CA\"; name = \"Bench %zu\";\n"
                "    us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
                "    max_lanes = { passenger = 16; pedestrian = 16; commercial = 16; }; }%s\n",
                B_FIRST_ID + i, B_FIRST_ID + i, i, i + 1 < ncrossings ? "," : "");
    fprintf(f, ");\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* (Re)start every agent with a new epoch: a new session at the collector. */
static int s_new_epochs(s_bench_t *b)
{
    b->epoch0 = (uint64_t)tu_now_ms() * 1000;
    for (size_t i = 0; i < b->nagents; i++) {
        s_agent_t *a = &b->agents[i];
        snprintf(a->id, sizeof a->id, "%06u", (unsigned)((B_FIRST_ID + i / 2) % 1000000));
        a->dir = (int)(i % 2) + TAX_NORTHBOUND;
        long left = b->series - (long)i * B_QUEUES;
        a->nq = left < B_QUEUES ? (int)left : B_QUEUES;
        a->dealer = (int)(i % (size_t)b->ndealers);
        a->epoch = b->epoch0 + i;
        a->sent = a->acked = a->durable = 0;
        /* Untouched pages of a batch stay unmapped, so one each is cheap. */
        wire_batch_destroy(&a->batch);
        if (!(a->batch = wire_batch_new(a->id, a->dir, a->epoch, B_INTERVAL_MS)))
            return -1;
    }
    return 0;
}

static int s_connect(s_bench_t *b)
{
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", b->st.zport);
    b->zctx = zmq_ctx_new();
    b->dealers = calloc((size_t)b->ndealers, sizeof *b->dealers);
    if (!b->zctx || !b->dealers)
        return -1;
    for (long i = 0; i < b->ndealers; i++) {
        int linger = 0, hwm = 100000;
        if (!(b->dealers[i] = zmq_socket(b->zctx, ZMQ_DEALER)))
            return -1;
        zmq_setsockopt(b->dealers[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(b->dealers[i], ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(b->dealers[i], ZMQ_RCVHWM, &hwm, sizeof hwm);
        if (zmq_connect(b->dealers[i], ep) != 0)
            return -1;
    }
    return 0;
}

/* ---- sending ------------------------------------------------------------------------ */

/* Batch seq of agent a holds intervals (seq-1)*K+1 .. seq*K after t0. */
static void s_fill(const s_bench_t *b, s_agent_t *a, uint64_t seq)
{
    for (long j = 0; j < b->ipb; j++) {
        uint64_t n = (seq - 1) * (uint64_t)b->ipb + (uint64_t)j + 1;
        for (int q = 0; q < a->nq; q++) {
            enum tax_mode m;
            enum tax_type t;
            tax_queue_from_index(q, &m, &t);
            wire_queue_sample_t s = {
                .t_end_ms = b->t0_ms + (int64_t)n * B_INTERVAL_MS, .mode = m, .type = t,
                .arrivals = (uint32_t)((n * 7 + (uint64_t)q) % 11),
                .departures = (uint32_t)((n + (uint64_t)q) % 9),
                .lanes_open = 2 + (uint32_t)(q % 3),
                .has_queue_len = n % 4 == 0, .queue_len = (uint32_t)((n + (uint64_t)q) % 20) };
            wire_batch_add_queue(a->batch, &s);
        }
    }
}

/* Send a packed message on a's DEALER: 1 sent, 0 the socket is full, -1 error. */
static int s_send_buf(s_bench_t *b, s_agent_t *a, uint8_t *buf, size_t len)
{
    if (!buf)
        return -1;
    int rc = zmq_send(b->dealers[a->dealer], buf, len, ZMQ_DONTWAIT);
    free(buf);
    return rc >= 0 ? 1 : errno == EAGAIN ? 0 : -1;
}

static int s_send_batch(s_bench_t *b, s_agent_t *a)
{
    uint64_t seq = a->sent + 1;
    size_t len = 0;
    s_fill(b, a, seq);
    uint8_t *buf = wire_batch_pack(a->batch, seq, 0, &len);
    int rc = s_send_buf(b, a, buf, len);
    if (rc == 1) {
        a->sent = seq;
        a->sent_at[seq % B_RING] = tu_mono_ms();
    }
    return rc;
}

/* A live agent's heartbeat, answered with an Ack carrying durable_seq. */
static int s_send_heartbeat(s_bench_t *b, s_agent_t *a, int64_t now)
{
    if (!b->heartbeats || a->durable >= a->acked || now < a->next_hb)
        return 0;
    a->next_hb = now + B_HEARTBEAT_MS;
    wire_agent_status_t st = { .crossing = a->id, .direction = a->dir };
    size_t len = 0;
    uint8_t *buf = wire_pack_heartbeat(a->epoch, (uint64_t)tu_now_ms(), &st, &len);
    return s_send_buf(b, a, buf, len);
}

/* Fill every agent's window up to seq limit. Returns batches sent, -1 on error. */
static long s_pump(s_bench_t *b)
{
    long n = 0;
    int64_t now = tu_mono_ms(), wall = tu_now_ms();
    for (size_t i = 0; i < b->nagents; i++) {
        s_agent_t *a = &b->agents[i];
        /* Live: the intervals that ended at least the grace ago, each
         * agent i/n of an interval later with --spread 1. */
        int64_t phase = b->spread ? (int64_t)i * B_INTERVAL_MS / (int64_t)b->nagents : 0;
        if (b->live)
            b->limit = (uint64_t)((wall - B_GRACE_MS - phase - b->t0_ms) /
                                  (B_INTERVAL_MS * b->ipb));
        int rc = 1;
        while (rc == 1 && a->sent < b->limit && a->sent - a->acked < (uint64_t)b->window)
            n += (rc = s_send_batch(b, a)) == 1;
        if (rc < 0 || s_send_heartbeat(b, a, now) < 0)
            return -1;
    }
    return n;
}

/* ---- acknowledgements ------------------------------------------------------------ */

static void s_lat_add(s_lat_t *l, int64_t ms)
{
    if (VEC_RESERVE(l->v, l->cap, l->n + 1) != 0)
        return;
    l->v[l->n++] = ms;
}

/* Count what (*have, seq] acknowledges: samples, and in live mode the time
 * since each batch was sent. */
static void s_advance(s_bench_t *b, s_agent_t *a, uint64_t *have, uint64_t seq, int k)
{
    if (seq <= *have)
        return;
    int64_t now = tu_mono_ms();
    for (uint64_t s = *have + 1; b->counting && b->live && s <= seq; s++) {
        s_lat_add(&b->lat[k], now - a->sent_at[s % B_RING]);
        if (k == 0 && s > 1)
            s_lat_add(&b->lat[2], now - a->sent_at[s % B_RING]);
    }
    b->counted[k] += b->counting ? (seq - *have) * (uint64_t)(a->nq * b->ipb) : 0;
    *have = seq;
}

/* Acknowledgements are cumulative: acked_seq (rrdcached accepted the
 * batches) and durable_seq (flushed to the files by the collector's sync).
 * A resend rolls the agent back to acked_seq. */
static int s_on_ack(s_bench_t *b, const Poenet__Ack *ack)
{
    if (ack->epoch < b->epoch0 || ack->epoch - b->epoch0 >= b->nagents)
        return 0;
    s_agent_t *a = &b->agents[ack->epoch - b->epoch0];
    if (ack->error && ack->acked_seq == 0 && a->acked == 0) {
        fprintf(stderr, "ingest: collector refused agent %s/%d: %s\n", a->id, a->dir, ack->error);
        return -1;
    }
    s_advance(b, a, &a->acked, ack->acked_seq, 0);
    if (ack->has_durable_seq)
        s_advance(b, a, &a->durable, ack->durable_seq, 1);
    b->errors += ack->error != NULL;
    if (ack->error || (ack->has_resend && ack->resend)) {
        b->resends++;
        a->sent = a->acked = ack->acked_seq;   /* batches are rebuilt from their seq */
    }
    return 0;
}

static int s_read_dealer(s_bench_t *b, void *sock)
{
    for (int rc = 0; rc == 0;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return errno == EAGAIN ? 0 : -1;
        }
        Poenet__Envelope *env = NULL;
        char why[200];
        if (wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env, why, sizeof why) == 0 &&
            env->body_case == POENET__ENVELOPE__BODY_ACK)
            rc = s_on_ack(b, env->ack);
        wire_free(&env);
        zmq_msg_close(&msg);
    }
    return -1;
}

static int s_read_acks(s_bench_t *b, long timeout_ms)
{
    zmq_pollitem_t items[64];
    int n = (int)b->ndealers;
    for (int i = 0; i < n; i++)
        items[i] = (zmq_pollitem_t){ .socket = b->dealers[i], .events = ZMQ_POLLIN };
    if (zmq_poll(items, n, timeout_ms) < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++)
        if ((items[i].revents & ZMQ_POLLIN) && s_read_dealer(b, b->dealers[i]) != 0)
            return -1;
    return 0;
}

static bool s_reached(const s_bench_t *b, enum s_until until)
{
    for (size_t i = 0; until != UNTIL_DEADLINE && i < b->nagents; i++) {
        const s_agent_t *a = &b->agents[i];
        if ((until == UNTIL_FIRST_ACKED && a->acked < 1) ||
            (until == UNTIL_DURABLE && a->durable < a->sent))
            return false;
    }
    return until != UNTIL_DEADLINE;
}

/* ---- phases --------------------------------------------------------------------- */

/* Send and read until the condition holds (0) or the deadline (monotonic
 * ms) passes (0 for UNTIL_DEADLINE, -1 otherwise). */
static int s_drive(s_bench_t *b, int64_t deadline, enum s_until until)
{
    while (!bstack_interrupted() && tu_mono_ms() < deadline) {
        if (s_reached(b, until))
            return 0;
        long sent = s_pump(b);
        if (sent < 0 || s_read_acks(b, sent > 0 ? 0 : 5) != 0)
            return -1;
    }
    return until == UNTIL_DEADLINE && !bstack_interrupted() ? 0 : -1;
}

/* Run a timed phase; prints <prefix>seconds and the cores busy meanwhile,
 * and returns the seconds in *secs. */
static int s_timed(s_bench_t *b, const char *prefix, long ms, enum s_until until, double *secs)
{
    pid_t who[3] = { b->st.coll, b->st.rrdc, getpid() };
    long long c0[3] = { bstack_cpu_ticks(who[0]), bstack_cpu_ticks(who[1]),
                        bstack_cpu_ticks(who[2]) };
    int64_t t = tu_mono_ms();
    int rc = s_drive(b, t + ms, until);
    double hz = (double)sysconf(_SC_CLK_TCK);
    *secs = (double)(tu_mono_ms() - t) / 1000.0;
    for (int i = 0; i < 3; i++)
        b->cpu_s[i] = (double)(bstack_cpu_ticks(who[i]) - c0[i]) / hz;
    printf("%sseconds=%.2f\n%scollector_cpu=%.2f\n%srrdcached_cpu=%.2f\n%sclient_cpu=%.2f\n",
           prefix, *secs, prefix, b->cpu_s[0] / *secs, prefix, b->cpu_s[1] / *secs, prefix,
           b->cpu_s[2] / *secs);
    return rc;
}

static int s_flood(s_bench_t *b)
{
    double secs;
    b->limit = 1;
    if (s_timed(b, "warmup_", 300000, UNTIL_FIRST_ACKED, &secs) != 0) {
        fprintf(stderr, "ingest: warm-up did not finish (see %s/collector.log)\n", b->st.dir);
        return -1;
    }
    printf("files_per_s=%.0f\n", (double)b->series / secs);
    /* New files are written back by the kernel over the next seconds: let
     * that happen here rather than inside the measurement. */
    int64_t t = tu_mono_ms();
    int fd = open(b->st.dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        syncfs(fd);
        close(fd);
    }
    printf("writeback_seconds=%.2f\n", (double)(tu_mono_ms() - t) / 1000.0);
    if (s_nginx_start(b) != 0)
        return -1;
    b->limit = b->max_seq;
    if (s_drive(b, tu_mono_ms() + 1000, UNTIL_DEADLINE) != 0)   /* fill the pipeline */
        return -1;
    s_probes_start(b);
    b->counting = true;
    double flood_s;
    if (s_timed(b, "flood_", b->seconds * 1000, UNTIL_DEADLINE, &flood_s) != 0)
        return -1;
    b->counting = false;
    bool exhausted = false;
    for (size_t i = 0; i < b->nagents; i++)
        exhausted |= b->agents[i].sent >= b->max_seq;
    printf("samples_per_s=%.0f\ndurable_samples_per_s=%.0f\nevent_time_exhausted=%d\n",
           (double)b->counted[0] / flood_s, (double)b->counted[1] / flood_s, exhausted);
    /* CPU per sample: steadier than the rate on a shared machine. */
    if (b->counted[0] > 0)
        printf("flood_collector_us_per_sample=%.2f\nflood_rrdcached_us_per_sample=%.2f\n",
               b->cpu_s[0] * 1e6 / (double)b->counted[0], b->cpu_s[1] * 1e6 / (double)b->counted[0]);
    /* From the end of the flood until everything sent is on disk: how long
     * agents keep a burst in their spools. Slow is a figure, not a failure. */
    b->limit = 0;
    b->heartbeats = true;
    printf("settle_complete=%d\n", s_timed(b, "settle_", 120000, UNTIL_DURABLE, &secs) == 0);
    b->heartbeats = false;
    s_probes_report(b, "flood_");
    printf("resends=%" PRIu64 "\nack_errors=%" PRIu64 "\n", b->resends, b->errors);
    return bstack_interrupted() ? -1 : 0;
}

static void *s_rss_run(void *arg)
{
    s_rss_t *r = arg;
    while (!atomic_load(&r->stop)) {
        long kb = bstack_status_kb(r->pid, "VmRSS:");
        if (kb > 0)
            s_lat_add(&r->kb, kb);
        nanosleep(&(struct timespec){ 0, 500000000L }, NULL);
    }
    return NULL;
}

static void s_rss_start(s_rss_t *r, pid_t pid)
{
    *r = (s_rss_t){ .pid = pid };
    atomic_init(&r->stop, false);
    r->running = pthread_create(&r->thread, NULL, s_rss_run, r) == 0;
}

/* "<prefix>collector_vmrss_p50_kb=" and _max_kb (-1 when none read). */
static void s_rss_report(s_rss_t *r, const char *prefix)
{
    atomic_store(&r->stop, true);
    if (r->running)
        pthread_join(r->thread, NULL);
    s_stats_t q = s_lat_stats(&r->kb);
    printf("%scollector_vmrss_p50_kb=%lld\n%scollector_vmrss_max_kb=%lld\n", prefix, q.p50,
           prefix, q.max);
    free(r->kb.v);
    r->kb = (s_lat_t){ 0 };
}

/* Live agents for live_s seconds: every 5 s each sends the interval that
 * ended 1 s ago, all at once, as agents with synchronised clocks do. */
static int s_live(s_bench_t *b)
{
    if (s_new_epochs(b) != 0)
        return -1;
    int64_t now = tu_now_ms();
    b->t0_ms = (now - B_GRACE_MS) / B_INTERVAL_MS * B_INTERVAL_MS - B_INTERVAL_MS * b->ipb;
    b->live = b->heartbeats = b->counting = true;
    b->counted[0] = b->counted[1] = 0;
    s_probes_start(b);
    s_rss_start(&b->rss, b->st.coll);
    double secs;
    int rc = s_timed(b, "live_", b->live_s * 1000, UNTIL_DEADLINE, &secs);
    s_probes_report(b, "live_");
    s_rss_report(&b->rss, "live_");
    b->live = b->counting = false;
    printf("live_samples=%" PRIu64 "\nlive_durable_samples=%" PRIu64 "\n", b->counted[0],
           b->counted[1]);
    return rc;
}

static int s_cmp_i64(const void *x, const void *y)
{
    int64_t p = *(const int64_t *)x, q = *(const int64_t *)y;
    return (p > q) - (p < q);
}

static void s_lat_report(s_lat_t *l, const char *name)
{
    s_stats_t q = s_lat_stats(l);
    printf("%s_batches=%zu\n%s_p50_ms=%lld\n%s_p99_ms=%lld\n%s_max_ms=%lld\n", name, l->n, name,
           q.p50, name, q.p99, name, q.max);
}

/* The daemons' memory, and the collector's own count of archived samples
 * and rejections (a rejected sample is dropped, its batch still acked). */
static int s_end_report(const bstack_t *st)
{
    printf("collector_vmrss_kb=%ld\ncollector_vmhwm_kb=%ld\nrrdcached_vmrss_kb=%ld\n",
           bstack_status_kb(st->coll, "VmRSS:"), bstack_status_kb(st->coll, "VmHWM:"),
           bstack_status_kb(st->rrdc, "VmRSS:"));
    int status = 0;
    char *body = proc_http_get(st->hport, "/health", &status);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL, *v;
    free(body);
    if (!j || status != 200) {
        json_decref(j);
        fprintf(stderr, "ingest: GET /health failed\n");
        return -1;
    }
    json_int_t rejected = 0;
    const char *key;
    json_object_foreach(json_object_get(j, "rejected"), key, v)
        rejected += json_integer_value(v);
    printf("collector_samples_accepted=%" JSON_INTEGER_FORMAT "\ncollector_rejected=%"
           JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(j, "samples_accepted")),
           rejected);
    json_decref(j);
    return 0;
}

/* ---- main ---------------------------------------------------------------------- */

static int s_run(s_bench_t *b)
{
    char reg[600];
    if (bstack_init(&b->st, "ingest", b->bin, b->workdir) != 0)
        return -1;
    snprintf(reg, sizeof reg, "%s/registry.conf", b->st.dir);
    b->nagents = (size_t)((b->series + B_QUEUES - 1) / B_QUEUES);
    if (!(b->agents = calloc(b->nagents, sizeof *b->agents)) || s_new_epochs(b) != 0 ||
        s_write_registry(reg, (b->nagents + 1) / 2) != 0 ||
        bstack_start(&b->st, reg, NULL) != 0 || s_connect(b) != 0)
        return -1;
    int64_t now = tu_now_ms();
    b->t0_ms = (now - B_HISTORY_MS) / 60000 * 60000;
    b->max_seq = (uint64_t)((now - 10000 - b->t0_ms) / (B_INTERVAL_MS * b->ipb));
    printf("series=%ld\nagents=%zu\ncrossings=%zu\nbatch_samples=%ld\nwindow=%ld\n", b->series,
           b->nagents, (b->nagents + 1) / 2, B_QUEUES * b->ipb, b->window);
    fprintf(stderr, "ingest: %ld series, %zu agents, %ld samples per batch\n", b->series,
            b->nagents, B_QUEUES * b->ipb);
    if (s_flood(b) != 0 || s_end_report(&b->st) != 0)
        return -1;
    if (b->live_s <= 0)
        return 0;
    /* --pause: the daemons' work after the flood (rrdcached's writes, the
     * sync) done before the live phase, to tell its cost from the first
     * live batches' own. */
    if (b->pause_s > 0 && s_drive(b, tu_mono_ms() + b->pause_s * 1000, UNTIL_DEADLINE) != 0)
        return -1;
    fprintf(stderr, "ingest: %ld series in real time for %ld s\n", b->series, b->live_s);
    int rc = s_live(b);
    printf("live_collector_vmrss_kb=%ld\nlive_collector_vmhwm_kb=%ld\n",
           bstack_status_kb(b->st.coll, "VmRSS:"), bstack_status_kb(b->st.coll, "VmHWM:"));
    s_lat_report(&b->lat[0], "live_accepted");
    s_lat_report(&b->lat[2], "live_accepted_after_first");
    s_lat_report(&b->lat[1], "live_durable");
    return rc;
}

static void s_teardown(s_bench_t *b, bool failed)
{
    for (long i = 0; b->dealers && i < b->ndealers; i++)
        if (b->dealers[i])
            zmq_close(b->dealers[i]);
    if (b->zctx)
        zmq_ctx_term(b->zctx);
    for (size_t i = 0; b->agents && i < b->nagents; i++)
        wire_batch_destroy(&b->agents[i].batch);
    free(b->agents);
    free(b->dealers);
    for (int i = 0; i < 3; i++)
        free(b->lat[i].v);
    ngx_stop(&b->ngx);
    bstack_stop(&b->st, failed);
}

int main(int argc, char **argv)
{
    s_bench_t b = { .series = 1000, .seconds = 10, .ipb = 1, .window = 4, .ndealers = 8,
                    .site = "deploy/nginx/poenet-feed.conf" };
    static const char *const names[] = { "--series", "--seconds", "--intervals", "--window",
                                          "--dealers", "--live", "--pause", "--spread", NULL };
    long *vals[] = { &b.series, &b.seconds, &b.ipb, &b.window, &b.ndealers, &b.live_s,
                     &b.pause_s, &b.spread };
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        int k = 0;
        while (names[k] && strcmp(argv[i], names[k]) != 0)
            k++;
        if (names[k])
            *vals[k] = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--workdir"))
            b.workdir = argv[i + 1];
        else if (!strcmp(argv[i], "--site"))
            b.site = argv[i + 1];
        else
            ok = false;
    }
    if (!ok || b.series < 1 || b.series > 12L * 2 * 99999 || b.seconds < 1 || b.ipb < 1 ||
        b.ipb * B_QUEUES > WIRE_MAX_QUEUE_SAMPLES || b.window < 1 || b.window >= B_RING ||
        b.ndealers < 1 || b.ndealers > 64) {
        fprintf(stderr, "usage: ingest [--series N] [--seconds S] [--intervals K] [--window W]"
                        " [--dealers D] [--live S] [--pause S] [--spread 0|1] [--workdir DIR]"
                        " [--site NGINX_SITE]"
                        "  (env POE_BIN)\n");
        return 2;
    }
    if (!(b.bin = getenv("POE_BIN"))) {
        fprintf(stderr, "ingest: set POE_BIN to the directory of poe-collector\n");
        return 2;
    }
    bstack_signals();
    int rc = s_run(&b);
    s_teardown(&b, rc != 0);
    return rc == 0 ? 0 : 1;
}
