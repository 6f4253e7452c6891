/* http — see http.h. The server's main-loop half: the listening socket,
 * the publisher (renders a snapshot of every public document, /health's
 * body and /metrics' text when the state, the counters or the second
 * changed, at most every HTTP_PUBLISH_MS, and hands it to every worker;
 * the crossings' fragments are brought up to date first in steps of
 * HTTP_STEP_MS with the loop's other work between them),
 * and the jobs the workers pass back for what must be read on demand on
 * this loop (/v1/history from rrdcached, /v1/forecast, CBP's graph). The
 * HTTP protocol itself is in http_worker.c.
 *
 * Jobs arrive on a mutex-protected list and an eventfd wakes this loop;
 * their answers go back with http_worker_answer. */
#include "http.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bgjob.h"
#include "docroot.h"
#include "feed.h"
#include "giveway.h"
#include "http_ops.h"
#include "http_snap.h"
#include "http_worker.h"
#include "view_forecast.h"
#include "log.h"
#include "metrics.h"
#include "route.h"
#include "timeutil.h"

/* Connections served at once besides the live streams (--sse-clients);
 * more get a JSON 503 and are closed. */
#define HTTP_MAX_CONNECTIONS 512
/* How often the publisher looks for a new state version: a change reaches
 * the feed within this (plus a render), and a flood of changes costs at
 * most 1000 / HTTP_PUBLISH_MS renders a second. */
#define HTTP_PUBLISH_MS 100
#define HTTP_MAX_THREADS 16
/* Renders may take at most 1 / HTTP_PUBLISH_SHARE of the main loop over
 * time: the next one starts HTTP_PUBLISH_SHARE times what they have lately
 * been taking (HTTP_PUBLISH_SMOOTH) after this one started. */
#define HTTP_PUBLISH_SHARE 5
/* What renders take is a moving average over about this many renders,
 * not the last one alone: one render slowed by contention on a shared
 * machine used to hold every update back 5x its time (a 200 ms render, a
 * second); averaged, it costs a quarter of that, and steadily slow renders
 * still wait as long as before. */
#define HTTP_PUBLISH_SMOOTH 4
/* /health and /metrics are republished this often while the loop turns,
 * whether or not the documents' render waits for its share (a render of
 * 2 s would otherwise leave them 10 s old: HTTP_SNAP_STUCK_MS), and not
 * more often: at 834 agents their render (a line per agent in each) was a
 * sixth of the loop in a burst. They are rendered on a thread of their own
 * (collector/http_ops.c). Counters reach them within this. */
#define HTTP_OPS_EVERY_MS 1000
/* Documents this long or longer get their gzip form made before they are
 * published (s_gzip_then_hand_out); shorter ones by the first request
 * that asks (under a millisecond). The big documents are 130 KB-3.2 MB. */
#define HTTP_GZIP_EAGER_MIN HTTP_CACHE_MEMFD_MIN
/* The gzip thread's nice value: below the loop and the workers, whose
 * requests must not wait for it (a snapshot's forms are 12-25 ms of CPU,
 * once a second in a live burst); above nothing, as the reclaim thread. */
#define HTTP_GZIP_NICE 10
/* A render due while agents' frames wait is put off, by at most this: a
 * burst of 834 live batches took ~100 ms to accept, and a render in the
 * middle of it (all 417 crossings changed) held the rest 170-300 ms. */
#define HTTP_DEFER_MAX_MS 500
/* A render brings its fragments up to date in steps of this long, the
 * loop's other work running between them: a burst of agents' batches
 * changes every crossing, and rendering them all at once (~180 ms of
 * jansson at 10,000 series) held the batches that came meanwhile
 * (docs/performance.md §1p). */
#define HTTP_STEP_MS 5
/* ...for at most this long after it began; then the rest at once (a flood
 * that keeps changing crossings never lets a sweep find them all current). */
#define HTTP_STEPS_MAX_MS 1000

struct http_server {
    http_ctx_t ctx;
    struct event_base *base;
    int listen_fd;
    int64_t started_s;
    http_worker_t *workers[HTTP_MAX_THREADS];
    int nworkers;
    atomic_int nconns;
    http_snap_t *snap;              /* the newest published */
    http_snap_frags_t *frags;       /* the crossings renders keep between them */
    int64_t next_publish_ms;        /* monotonic: not before (render cost cap) */
    giveway_t giveway;              /* a due render to the agents' frames */
    double render_ms;               /* what renders take, averaged (HTTP_PUBLISH_SMOOTH) */
    struct event *ev_publish;
    struct event *ev_step;          /* the next step of a render (s_step) */
    bool stepping;                  /* a render's fragments being brought up to date */
    int64_t step_now_ms, step_t0;   /* its wall time; its monotonic start */
    double step_busy_ms;            /* the loop time its steps took */
    docroot_t *docroot;             /* --publish-dir; NULL when off */
    http_ops_t *ops;                /* /health and /metrics rendered off the loop */
    bgjob_t *gzjob;                 /* the big documents' gzip forms, before publishing */
    http_snap_t *gz_doing;          /* rendered, its gzip forms being made */
    http_snap_t *gz_next;           /* rendered meanwhile: the next to make them for */
    int64_t gz_t0;                  /* monotonic start of the gzip job in hand */
    double gz_cpu_ms;               /* its CPU time (written by the gzip thread) */
    pthread_mutex_t mu;             /* guards jobs */
    http_job_t *jobs;
    int jobs_fd;                    /* eventfd: jobs are waiting */
    struct event *ev_jobs;
    bool archive_failing;           /* so a dead rrdcached is logged once, not per request */
    uint64_t rendered_obs;          /* observed hours version of the newest render */
    bool published_up;              /* the archive's connection /health and /metrics show */
};

/* The counters into *st, with the live stream's (kept by its ring, in
 * atomics). */
static void s_stats(const http_server_t *self, stats_t *st)
{
    memcpy(st, self->ctx.stats, sizeof *st);
    const sse_ring_t *r = self->ctx.sse;
    if (r) {
        st->sse_clients = (uint64_t)sse_ring_clients(r);
        st->sse_max_clients = (uint64_t)sse_ring_max_clients(r);
        st->sse_refused_full = sse_ring_counted(r, SSE_REFUSED_FULL);
        st->sse_refused_bad_id = sse_ring_counted(r, SSE_REFUSED_BAD_ID);
        st->sse_refused_future_id = sse_ring_counted(r, SSE_REFUSED_FUTURE_ID);
        st->sse_dropped_slow = sse_ring_counted(r, SSE_DROPPED_SLOW);
    }
}

static bool s_archive_up(const http_server_t *self)
{
    return self->ctx.archive && arch_connected(self->ctx.archive);
}

/* What /health and /metrics are rendered from, read on the main loop
 * where the counters, sessions and archive live, at now_ms (the counters
 * into *st and *oc). The archive's state is recorded as the published one. */
static http_ops_in_t s_ops_in(http_server_t *self, int64_t now_ms, int64_t mono, stats_t *st,
                              observed_counters_t *oc)
{
    bool up = s_archive_up(self);
    s_stats(self, st);
    self->published_up = up;
    if (self->ctx.observed)
        observed_counters(self->ctx.observed, oc);
    return (http_ops_in_t){ .stats = st, .sessions = self->ctx.sessions,
                            .hours = self->ctx.observed ? oc : NULL, .archive_up = up,
                            .now_ms = now_ms, .mono_ms = mono };
}

/* /health and /metrics rendered here, now (the first snapshot). */
static void s_render_ops(http_server_t *self, int64_t now_ms, int64_t mono,
                         http_cache_body_t **health, http_cache_body_t **metrics)
{
    stats_t st;
    observed_counters_t oc;
    http_ops_in_t in = s_ops_in(self, now_ms, mono, &st, &oc);
    http_ops_render(&in, health, metrics);
}

/* ---- publishing ------------------------------------------------------------ */

/* Whether the published /health and /metrics are recent enough to keep
 * (HTTP_OPS_EVERY_MS) and the archive's state they show still holds. */
static bool s_ops_fresh(const http_server_t *self, int64_t mono)
{
    return self->snap && mono - http_snap_mono_ms(self->snap) < HTTP_OPS_EVERY_MS &&
           self->published_up == s_archive_up(self);
}

/* This thread's CPU time in ms: the log says what a render cost apart
 * from the time other processes had the core. */
static double s_cpu_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* What a render of the documents is made from, at mono. */
static http_snap_src_t s_src(const http_server_t *self, int64_t mono)
{
    return (http_snap_src_t){ .state = self->ctx.state, .registry = self->ctx.registry,
                              .stale_after_ms = self->ctx.stale_after_ms,
                              .started_s = self->started_s, .observed = self->ctx.observed,
                              .feed_seq = self->ctx.sse ? sse_ring_seq(self->ctx.sse) : 0,
                              .mono_ms = mono, .frags = self->frags };
}

/* snap to every worker (and the docroot) as the newest: with the
 * published /health and /metrics when they are newer than its own (they
 * were refreshed while its gzip forms were made). Takes snap's reference. */
static void s_hand_out(http_server_t *self, http_snap_t *snap)
{
    if (self->snap && http_snap_mono_ms(self->snap) > http_snap_mono_ms(snap)) {
        http_snap_t *fresh = http_snap_with_ops_of(snap, self->snap);
        if (fresh) { /* out of memory (logged): its own older ones */
            http_snap_unref(snap);
            snap = fresh;
        }
    }
    for (int i = 0; i < self->nworkers; i++)
        http_worker_publish(self->workers[i], snap);
    http_snap_unref(self->snap);
    self->snap = snap;
    if (self->docroot)
        docroot_write(self->docroot, snap);
}

/* On the gzip thread: the big documents' gzip forms of the snapshot in
 * hand (the loop does not touch gz_doing until s_gzip_done). */
static void s_gzip_work(void *arg)
{
    http_server_t *self = arg;
    double cpu0 = s_cpu_ms();
    /* out of memory: the first request that asks makes it */
    (void)http_snap_gzip_from(self->gz_doing, HTTP_GZIP_EAGER_MIN);
    self->gz_cpu_ms = s_cpu_ms() - cpu0;
}

static void s_gzip_start(http_server_t *self, http_snap_t *snap);

static void s_gzip_done(void *arg)
{
    http_server_t *self = arg;
    http_snap_t *snap = self->gz_doing;
    self->gz_doing = NULL;
    log_debug("http: gzip forms of version %llu made in %lld ms (cpu %.1f ms)",
              (unsigned long long)http_snap_version(snap),
              (long long)(tu_mono_ms() - self->gz_t0), self->gz_cpu_ms);
    s_hand_out(self, snap);
    if (self->gz_next) {
        http_snap_t *next = self->gz_next;
        self->gz_next = NULL;
        s_gzip_start(self, next);
    }
}

static void s_gzip_start(http_server_t *self, http_snap_t *snap)
{
    self->gz_doing = snap;
    self->gz_t0 = tu_mono_ms();
    if (bgjob_run(self->gzjob, s_gzip_work, s_gzip_done, self) != 0) {
        self->gz_doing = NULL;
        s_hand_out(self, snap);
    }
}

/* A rendered snapshot published once its big documents' gzip forms are
 * made on their own thread: a worker asked for one would otherwise make
 * it (3.2 MB of /v1/crossings at 10,000 series: tens of ms that request
 * and the ones behind it on that worker waited, docs/performance.md §1r).
 * One is made at a time; a snapshot rendered meanwhile waits as the next,
 * replacing one that waited before it (never published: it is older).
 * Without the thread, and the first (the workers start with it), published
 * at once. Takes snap's reference. */
static void s_gzip_then_hand_out(http_server_t *self, http_snap_t *snap)
{
    if (!self->gzjob || !self->snap) {
        s_hand_out(self, snap);
    } else if (self->gz_doing) {
        http_snap_unref(self->gz_next);
        self->gz_next = snap;
    } else {
        s_gzip_start(self, snap);
    }
}

/* The newest snapshot rendered: waiting for its gzip forms or published. */
static const http_snap_t *s_newest(const http_server_t *self)
{
    return self->gz_next ? self->gz_next : self->gz_doing ? self->gz_doing : self->snap;
}

/* Render and publish every document at now_ms; its steps (s_step) took
 * step_ms of the loop before. */
static int s_publish(http_server_t *self, int64_t now_ms, double step_ms)
{
    int64_t t0 = tu_mono_ms();
    double cpu0 = s_cpu_ms();
    http_snap_src_t src = s_src(self, t0);
    uint64_t ov = self->ctx.observed ? observed_version(self->ctx.observed) : 0;
    /* /health and /metrics go their own way (s_refresh_ops), but the first
     * snapshot has none to keep. */
    if (self->snap)
        src.keep_ops = true;
    else
        s_render_ops(self, now_ms, t0, &src.health, &src.metrics);
    http_snap_t *snap = http_snap_render(&src, self->snap, now_ms);
    http_cache_body_unref(src.health);   /* the snapshot holds its own */
    http_cache_body_unref(src.metrics);
    if (!snap)
        return -1;
    /* The big documents are sent by sendfile, as nginx sends a file (no
     * copy per response); without a memfd they go from memory, as the
     * small ones do. Their gzip forms are made once per snapshot by the
     * first worker asked (http_snap_doc_gz), off this loop: it is the
     * ingest's. */
    static const enum route_kind big[] = { ROUTE_CROSSINGS, ROUTE_CBP_XML, ROUTE_CBP_BWTNEW,
                                           ROUTE_CBSA_CSV, ROUTE_CBSA_JSON };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        http_snap_doc_t *doc = http_snap_find(snap, big[i], NULL);
        if (doc && doc->plain && doc->plain->len >= HTTP_CACHE_MEMFD_MIN)
            (void)http_cache_body_fd(doc->plain);
    }
    self->rendered_obs = ov;
    s_gzip_then_hand_out(self, snap);
    /* Rendering takes the main loop from ingest: the next render waits
     * HTTP_PUBLISH_SHARE times what renders lately took (from its start:
     * renders of 20 ms, one every 100 ms). Wall time, not CPU time: the
     * loop serves nothing while it renders, whoever has the core. */
    double took = (double)(tu_mono_ms() - t0) + step_ms;
    self->render_ms = self->render_ms > 0
                          ? self->render_ms + (took - self->render_ms) / HTTP_PUBLISH_SMOOTH
                          : (double)took;
    int64_t wait = (int64_t)(self->render_ms * HTTP_PUBLISH_SHARE);
    self->next_publish_ms = t0 + (wait > HTTP_PUBLISH_MS ? wait : HTTP_PUBLISH_MS);
    size_t nfeed, ncbp, nxml, nx;
    http_snap_frags_rendered(self->frags, &nfeed, &ncbp, &nxml, &nx);
    log_debug("http: published version %llu in %.0f ms (steps %.0f ms; cpu %.1f ms; crossings "
              "rendered at the end: feed %zu, cbp %zu, xml %zu of %zu; next in %lld ms)",
              (unsigned long long)http_snap_version(snap), took, step_ms, s_cpu_ms() - cpu0,
              nfeed, ncbp, nxml, nx, (long long)(self->next_publish_ms - t0));
    return 0;
}

/* Whether the newest snapshot's documents (published or on their way,
 * s_newest) are current: same state version, wall second and observed
 * hours. A new second republishes even when nothing changed: the
 * documents' "generated" moves. */
static bool s_published_current(const http_server_t *self, int64_t now_ms)
{
    const http_snap_t *snap = s_newest(self);
    return snap && http_snap_version(snap) == state_version(self->ctx.state) &&
           http_snap_second(snap) == now_ms / 1000 &&
           (!self->ctx.observed ||
            observed_version(self->ctx.observed) == self->rendered_obs);
}

/* New /health and /metrics with the newest snapshot's documents: each a
 * reference, so it does not wait for the documents' render. */
static void s_publish_ops(http_server_t *self, http_cache_body_t *health,
                          http_cache_body_t *metrics, int64_t mono_ms)
{
    http_snap_src_t src = { .mono_ms = mono_ms, .health = health, .metrics = metrics };
    http_snap_t *snap = self->snap ? http_snap_with_ops(self->snap, &src) : NULL;
    http_cache_body_unref(health);
    http_cache_body_unref(metrics);
    if (!snap)
        return; /* logged; the old one stays */
    for (int i = 0; i < self->nworkers; i++)
        http_worker_publish(self->workers[i], snap);
    http_snap_unref(self->snap);
    self->snap = snap;
}

static void s_ops_done(void *arg, http_cache_body_t *health, http_cache_body_t *metrics,
                       int64_t mono_ms)
{
    s_publish_ops(arg, health, metrics, mono_ms);
}

/* /health and /metrics once they are HTTP_OPS_EVERY_MS old or the
 * archive's connection changed: /health's Age and the workers' stuck-loop
 * check (HTTP_SNAP_STUCK_MS) rest on their time. Rendered on their own
 * thread (collector/http_ops.c); here when it could not be made. */
static void s_refresh_ops(http_server_t *self, int64_t now_ms, int64_t mono)
{
    if (s_ops_fresh(self, mono) || (self->ops && http_ops_busy(self->ops)))
        return;
    stats_t st;
    observed_counters_t oc;
    http_ops_in_t in = s_ops_in(self, now_ms, mono, &st, &oc);
    if (self->ops && http_ops_start(self->ops, &in) == 0)
        return;
    http_cache_body_t *health, *metrics;
    http_ops_render(&in, &health, &metrics);
    s_publish_ops(self, health, metrics, mono);
}

/* Whether a due render waits for the agents' frames (see HTTP_DEFER_MAX_MS).
 * The first snapshot never does. */
static bool s_defer(http_server_t *self, int64_t mono)
{
    return self->snap && giveway_wait(&self->giveway, mono);
}

/* One step of a render: fragments for HTTP_STEP_MS, then back to the
 * loop (a zero timer: its other events are polled first); the render
 * itself once a sweep found every fragment current, or HTTP_STEPS_MAX_MS
 * after it began. */
static void s_step(http_server_t *self)
{
    int64_t t = tu_mono_ms();
    http_snap_src_t src = s_src(self, t);
    bool done = http_snap_frags_step(self->frags, &src, self->step_now_ms, t + HTTP_STEP_MS);
    int64_t end = tu_mono_ms();
    self->step_busy_ms += (double)(end - t);
    if (!done && end - self->step_t0 < HTTP_STEPS_MAX_MS) {
        static const struct timeval now = { 0, 0 };
        if (event_add(self->ev_step, &now) == 0)
            return;
    }
    self->stepping = false;
    /* out of memory: logged, the old one stays */
    (void)s_publish(self, self->step_now_ms, self->step_busy_ms);
}

static void s_on_step(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_step(arg);
}

static void s_begin_render(http_server_t *self, int64_t now_ms, int64_t mono)
{
    http_snap_src_t src = s_src(self, mono);
    self->stepping = true;
    self->step_now_ms = now_ms;
    self->step_t0 = mono;
    self->step_busy_ms = 0;
    http_snap_frags_begin(self->frags, &src, now_ms);
    s_step(self);
}

static void s_on_publish(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_server_t *self = arg;
    int64_t now_ms = tu_now_ms(), mono = tu_mono_ms();
    s_refresh_ops(self, now_ms, mono);
    if (self->stepping || s_published_current(self, now_ms))
        return;
    if (mono >= self->next_publish_ms && !s_defer(self, mono))
        s_begin_render(self, now_ms, mono);
}

/* ---- jobs: /v1/history, /v1/forecast, CBP's graph ----------------------------- */

static void s_answer_json(http_job_t *job, int code, const char *cache, char *json)
{
    job->code = code;
    job->ctype = HTTP_CT_JSON;
    job->cache = cache;
    job->body = json ? http_cache_body_new(json, strlen(json)) : NULL;
}

static void s_answer_error(http_job_t *job, int code, const char *reason)
{
    s_answer_json(job, code, HTTP_CACHE_NONE, feed_error_json(code, reason));
}

/* Log the archive going away and coming back, not every failed request. */
static void s_note_archive(http_server_t *self, bool ok, const char *why)
{
    if (!ok && !self->archive_failing)
        log_warn("http: history unavailable: %s", why);
    else if (ok && self->archive_failing)
        log_info("http: history available again");
    self->archive_failing = !ok;
}

static bool s_known_crossing(const http_server_t *self, const char *id)
{
    if (!tax_crossing_id_valid(id))
        return false;
    if (self->ctx.registry)
        return reg_find(self->ctx.registry, id) != NULL;
    return state_find(self->ctx.state, id) != NULL;
}

/* History bodies are made per request (any range), so is their gzip form:
 * a week of minute rows is ~300 KB of JSON that gzip makes 2.5-3x smaller
 * (measured: 4,302 -> 1,732 bytes for two hours in test_http), and planners
 * fetch weeks. Small bodies go as they are. */
#define HISTORY_GZIP_MIN 1024

static void s_answer_history(http_job_t *job, char *json)
{
    s_answer_json(job, 200, HTTP_CACHE_HISTORY, json);
    job->vary = true;
    if (job->body && job->body->len >= HISTORY_GZIP_MIN && job->gzip_ok) {
        http_cache_body_t *gz = http_cache_body_gzip(job->body);
        if (gz) { /* out of memory: the identity body is still right */
            http_cache_body_unref(job->body);
            job->body = gz;
            job->is_gz = true;
        }
    }
}

static void s_history(http_server_t *self, http_job_t *job)
{
    route_history_t q;
    char why[256];
    if (route_parse_history(job->query, tu_now_ms() / 1000, &q, why, sizeof why) != 0) {
        s_answer_error(job, 400, why);
        return;
    }
    if (!s_known_crossing(self, q.crossing)) {
        snprintf(why, sizeof why, "unknown crossing '%s'", q.crossing);
        s_answer_error(job, 404, why);
        return;
    }
    if (!self->ctx.archive) {
        s_answer_error(job, 503, "history archive not configured");
        return;
    }
    arch_series_t s = { .start = q.from, .end = q.to, .step = q.step };
    why[0] = '\0';
    int rc = arch_fetch_queue(self->ctx.archive, q.crossing, q.dir, q.mode, q.type, q.from,
                              q.to, q.step, &s, why, sizeof why);
    s_note_archive(self, rc >= 0, why);
    if (rc < 0) {
        s_answer_error(job, 503, "history archive unavailable");
        return;
    }
    if (rc == 1) /* nothing archived for this queue yet: an empty series */
        s = (arch_series_t){ .start = q.from, .end = q.to, .step = q.step };
    /* The official series beside it (docs/archive.md); missing or unreadable
     * leaves its columns null rather than failing the measured history. */
    arch_series_t off = { 0 };
    int orc = arch_fetch_official(self->ctx.archive, q.crossing, q.dir, q.mode, q.type, q.from,
                                  q.to, s.step > 0 ? s.step : q.step, &off, why, sizeof why);
    char *json = feed_history_official_json(&s, &off);
    if (orc == 0)
        arch_series_free(&off);
    if (rc == 0)
        arch_series_free(&s);
    s_answer_history(job, json);
}

/* /v1/forecast and CBP's wait-time graph (collector/view_forecast.c): on
 * the main loop, which owns the state, the forecasts and the zone cache. */
static void s_lookahead(http_server_t *self, http_job_t *job)
{
    int status = 500;
    char *body;
    if (job->kind == ROUTE_FORECAST)
        body = view_forecast_request(self->ctx.state, job->query, &status);
    else
        body = view_cbp_graph_request(self->ctx.state, self->ctx.archive, job->id,
                                      tu_now_ms() / 1000, &status);
    s_answer_json(job, status, status == 200 ? HTTP_CACHE_LIVE : HTTP_CACHE_NONE, body);
}

/* Called on a worker's thread: queue only. */
static void s_post_job(void *arg, http_job_t *job)
{
    http_server_t *self = arg;
    pthread_mutex_lock(&self->mu);
    job->next = self->jobs;
    self->jobs = job;
    pthread_mutex_unlock(&self->mu);
    uint64_t one = 1;
    if (write(self->jobs_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("http: eventfd: %s", strerror(errno));
}

static http_job_t *s_take_jobs(http_server_t *self)
{
    pthread_mutex_lock(&self->mu);
    http_job_t *list = self->jobs;
    self->jobs = NULL;
    pthread_mutex_unlock(&self->mu);
    http_job_t *fifo = NULL; /* the list is newest first */
    while (list) {
        http_job_t *next = list->next;
        list->next = fifo;
        fifo = list;
        list = next;
    }
    return fifo;
}

static void s_on_jobs(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    http_server_t *self = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        log_warn("http: eventfd: %s", strerror(errno));
    for (http_job_t *job = s_take_jobs(self), *next; job; job = next) {
        next = job->next;
        if (job->kind == ROUTE_FORECAST || job->kind == ROUTE_CBP_GRAPH)
            s_lookahead(self, job);
        else
            s_history(self, job);
        http_worker_answer(job->worker, job);
    }
}

/* ---- server ------------------------------------------------------------- */

/* The listening socket every worker accepts on. Accepted sockets inherit
 * TCP_NODELAY from it on Linux; without it a 50 KB body waits ~40 ms on
 * Nagle and delayed ACK. */
static int s_listen(const char *addr_port)
{
    char addr[INET_ADDRSTRLEN];
    uint16_t port;
    if (route_parse_listen(addr_port, addr, sizeof addr, &port) != 0) {
        log_error("http: bad listen address '%s' (want A.B.C.D:PORT)",
                  addr_port ? addr_port : "");
        return -1;
    }
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, SOMAXCONN) != 0) {
        log_error("http: cannot listen on %s: %s", addr_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        log_warn("http: TCP_NODELAY not set (%s): large responses will be slow",
                 strerror(errno));
    return fd;
}

static int s_start_workers(http_server_t *self, int n)
{
    http_worker_cfg_t cfg = { .listen_fd = self->listen_fd, .dashboards = self->ctx.dashboards,
                              .has_registry = self->ctx.registry != NULL,
                              .nconns = &self->nconns,
                              .max_conns = HTTP_MAX_CONNECTIONS +
                                           (self->ctx.sse ? sse_ring_max_clients(self->ctx.sse) : 0),
                              .job_fn = s_post_job, .job_arg = self, .sse = self->ctx.sse };
    for (int i = 0; i < n; i++) {
        if (!(self->workers[i] = http_worker_new(&cfg, i)))
            return -1;
        self->nworkers++;
        http_worker_publish(self->workers[i], self->snap);
    }
    for (int i = 0; i < n; i++)
        if (http_worker_start(self->workers[i]) != 0)
            return -1;
    return 0;
}

http_server_t *http_new(struct event_base *base, const char *addr_port, const http_ctx_t *ctx)
{
    int threads = ctx->threads > 0 ? ctx->threads : 1;
    if (threads > HTTP_MAX_THREADS) {
        log_error("http: at most %d threads", HTTP_MAX_THREADS);
        return NULL;
    }
    http_server_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("http: out of memory");
        return NULL;
    }
    self->ctx = *ctx;
    self->base = base;
    giveway_init(&self->giveway, ctx->busy, ctx->busy_arg, HTTP_DEFER_MAX_MS);
    self->started_s = tu_now_ms() / 1000;
    self->jobs_fd = -1;
    self->listen_fd = -1;
    atomic_init(&self->nconns, 0);
    pthread_mutex_init(&self->mu, NULL);
    if ((self->listen_fd = s_listen(addr_port)) < 0)
        goto fail;
    if (ctx->publish_dir && !(self->docroot = docroot_new(ctx->publish_dir)))
        goto fail;
    if (!(self->frags = http_snap_frags_new()))
        goto fail;
    self->ops = http_ops_new(base, s_ops_done, self);   /* NULL: rendered here (logged) */
    if (!(self->gzjob = bgjob_new_nice(base, "poe-gzip", HTTP_GZIP_NICE)))
        log_warn("http: no gzip thread (%s): gzip forms made on demand", strerror(errno));
    struct timeval every = { 0, HTTP_PUBLISH_MS * 1000 };
    if ((self->jobs_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        !(self->ev_jobs = event_new(base, self->jobs_fd, EV_READ | EV_PERSIST, s_on_jobs, self)) ||
        event_add(self->ev_jobs, NULL) != 0 ||
        !(self->ev_publish = event_new(base, -1, EV_PERSIST, s_on_publish, self)) ||
        !(self->ev_step = evtimer_new(base, s_on_step, self)) ||
        event_add(self->ev_publish, &every) != 0) {
        log_error("http: cannot set up: %s", strerror(errno));
        goto fail;
    }
    if (s_publish(self, tu_now_ms(), 0) != 0 || s_start_workers(self, threads) != 0)
        goto fail;
    log_info("http: listening on %s, %d thread%s", addr_port, threads, threads > 1 ? "s" : "");
    return self;
fail:
    http_destroy(&self);
    return NULL;
}

void http_destroy(http_server_t **self_p)
{
    http_server_t *self = *self_p;
    if (!self)
        return;
    http_ops_destroy(&self->ops);   /* a render still running is published first */
    /* The snapshot waiting is dropped first: the done of the one in hand
     * (called by bgjob_destroy, which hands it out) must not start
     * another job on a runner that is stopping. */
    http_snap_unref(self->gz_next);
    self->gz_next = NULL;
    bgjob_destroy(&self->gzjob);
    for (int i = 0; i < self->nworkers; i++)
        http_worker_stop(self->workers[i]);
    /* Every worker has stopped: what is still waiting for this loop is
     * answered (503) so its request is freed with its worker. */
    if (self->jobs_fd >= 0) {
        for (http_job_t *job = s_take_jobs(self), *next; job; job = next) {
            next = job->next;
            s_answer_error(job, 503, "shutting down");
            http_worker_answer(job->worker, job);
        }
    }
    for (int i = 0; i < self->nworkers; i++)
        http_worker_destroy(&self->workers[i]);
    if (self->ev_publish)
        event_free(self->ev_publish);
    if (self->ev_step)
        event_free(self->ev_step);
    if (self->ev_jobs)
        event_free(self->ev_jobs);
    if (self->jobs_fd >= 0)
        close(self->jobs_fd);
    if (self->listen_fd >= 0)
        close(self->listen_fd);
    http_snap_unref(self->snap);
    http_snap_frags_destroy(&self->frags);
    docroot_destroy(&self->docroot);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}
