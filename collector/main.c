/* poe-collector — a region's collector.
 *
 * The main thread runs one libevent loop: the agents' ROUTER socket
 * (ingest), the publisher of the HTTP feed and its /health, /metrics and
 * /v1/history answers (http), a status timer and signal handlers. HTTP
 * requests are served by --http-threads worker threads (http_worker). The archive is
 * written through rrdcached, which the collector connects to; the registry
 * names the crossings it accepts. */
#include <errno.h>
#include <event2/event.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "archive.h"
#include "conf.h"
#include "http.h"
#include "importer.h"
#include "ingest.h"
#include "log.h"
#include "notices.h"
#include "registry.h"
#include "sdnotify.h"
#include "state.h"
#include "stats.h"
#include "timeutil.h"
#include "fcstore.h"
#include "forward.h"
#include "pubfeed.h"
#include "sse_ring.h"
#include "observed.h"
#include "zap.h"
#include "reclaim.h"

#define COLLECTOR_STATUS_EVERY_S 60
/* How often the heap's free pages are given back to the system
 * (malloc_trim): a flood leaves tens of MB freed between live blocks — ZeroMQ's
 * queued messages, the feed's JSON trees — that glibc keeps otherwise
 * (docs/performance.md §4: 10,000 series, VmRSS measured with and without).
 * The live stream does too, less: each render after a burst frees the
 * previous snapshot's documents and its own passing texts and trees, and
 * ZeroMQ's thread frees what it read, all between live blocks; a trim once
 * the resident size grew 4 MB (not 16) gives 2-27 MiB back in the live
 * phase at 10,000 series, VmRSS ~10 MB lower there (§1m). The live
 * phase's leftovers grow ~1 MB a second and a trim of them takes 3-4 ms:
 * one every 5 s once 2 MB grew keeps the sawtooth half as high (§1s). At
 * most one trim every COLLECTOR_TRIM_EVERY_S, looked for every second, and
 * none while agents' frames wait (ingest_busy): it holds the loop. */
#define COLLECTOR_TRIM_EVERY_S 5
#define COLLECTOR_TRIM_CHECK_MS 1000
#define COLLECTOR_TRIM_GROWTH (2LL << 20)

typedef struct {
    char *listen, *http, *rrdcached, *archive, *registry, *rra_profile, *log_level, *state_dir;
    char *curve_secret, *agent_keys, *feed, *feed_snapshot, *upstream, *upstream_key, *forward_spool;
    char *dashboards, *lane_plans, *notices, *publish_dir, *forecast_log;
    char *official_cbp, *official_cbsa, *official_fetcher;
    long official_interval_s, official_stale_after_s, official_connect_timeout_s, official_timeout_s;
    long stale_after_s, max_skew_s, sync_ms, max_age_s, max_samples_per_s, http_threads, hours_learn_s, sse_clients;
    bool allow_backfill, feed_curve, check;
} coll_opts_t;

struct collector;
/* One source's pass over the state writing its official rows (below). */
typedef struct {
    struct collector *c;
    enum off_source src;
    int64_t fetched_s;
    size_t next;                    /* the next crossing to archive */
    struct event *ev;               /* activated for each slice */
} off_archive_job_t;

typedef struct collector {
    coll_opts_t o;
    struct event_base *base;
    void *zctx;
    registry_t *registry;
    state_t *state;
    archive_t *archive;
    ingest_t *ingest;
    http_server_t *http;
    stats_t stats;
    struct event *ev_status, *ev_trim, *ev_sigint, *ev_sigterm, *ev_sighup, *ev_sigusr1;
    importer_t *importer;
    off_archive_job_t off_archive[OFF_NSOURCES]; /* the official rows being archived */
    char sessions_path[1024];
    curve_pair_t server_key;
    zap_t *zap;
    pubfeed_t *pub;
    sse_ring_t *sse;                /* the live feed's updates for /v1/stream */
    forward_t *fwd;
    plan_t *(*plans)[TAX_NDIRS];    /* per registry crossing and direction */
    fcstore_t *fc;                  /* the 24-hour forecasts */
    observed_t *observed;           /* hours learned from the lanes */
    int64_t trimmed_rss;            /* resident bytes after the last malloc_trim */
    int64_t trimmed_mono_ms;        /* when it ran; 0 never */
} collector_t;

static void s_on_batch(void *arg, const Poenet__Batch *b, const wire_mask_t *valid_q,
                       const wire_mask_t *valid_l, bool resent)
{
    collector_t *c = arg;
    /* Resent after rrdcached lost it: the relay spool and the hours learned
     * have it already (the hours would count it as a clock that jumped
     * back). */
    if (resent)
        return;
    if (c->fwd)
        forward_batch(c->fwd, b, valid_q, valid_l);
    /* Every valid interval of the batch, not just the last per queue: a
     * replayed backlog carries many. */
    const reg_crossing_t *x = reg_find(c->registry, b->crossing);
    if (!c->observed || !x)
        return;
    int64_t now_s = tu_now_ms() / 1000;
    for (size_t i = 0; i < b->n_queues; i++) {
        const Poenet__QueueSample *q = b->queues[i];
        if (wire_mask_has(valid_q, i))
            observed_interval(c->observed, (size_t)(x - reg_at(c->registry, 0)),
                              (enum tax_dir)b->direction, (enum tax_mode)q->mode,
                              (enum tax_type)q->type, (int64_t)q->t_end_ms,
                              b->interval_ms, q->lanes_open, q->arrivals, q->departures, now_s);
    }
}

static void s_on_tap(void *arg, uint64_t seq, const char *crossing, const char *body)
{
    sse_ring_publish(arg, seq, crossing, body);
}

static void s_on_change(void *arg, const xstate_t *x, enum tax_dir d, int k)
{
    collector_t *c = arg;
    if (c->fc)
        fcstore_queue_changed(c->fc, (xstate_t *)x, d, k);
    if (c->pub)
        pubfeed_queue_changed(c->pub, x, d, k);
}

/* Crossings whose official rows are archived per turn of the loop: the
 * first poll of a fresh archive creates a file per queue (525 for CBP's
 * document, one rrdcached round trip each, 0.8-2 s in all; two crossings
 * are at most ~14 files, tens of milliseconds), and ingest
 * and the HTTP publisher must not wait that long behind it. */
#define OFF_ARCHIVE_SLICE 2

/* Every official value of a source as known at fetched_s (a new document
 * or a 304), one row per queue into its official RRD file: the series
 * keeps the value and its age at every poll. Runs in slices of
 * OFF_ARCHIVE_SLICE crossings, one per loop turn; a poll that lands while
 * a pass is under way restarts it at its own time (rows already written
 * at the earlier time stay). */
static void s_archive_official_slice(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    off_archive_job_t *job = arg;
    collector_t *c = job->c;
    enum off_source src = job->src;
    stats_official_t *st = &c->stats.official[src];
    uint64_t staged = 0;
    size_t end = job->next + OFF_ARCHIVE_SLICE;
    for (; job->next < state_count(c->state) && job->next < end; job->next++) {
        const xstate_t *x = state_at(c->state, job->next);
        for (int d = 0; d < TAX_NDIRS; d++)
            for (int k = 0; k < TAX_NQUEUES; k++) {
                const qofficial_t *o = &x->off[d][k];
                if (o->status == OFF_ST_NONE || o->source != src)
                    continue;
                enum tax_mode m;
                enum tax_type t;
                tax_queue_from_index(k, &m, &t);
                arch_official_row_t row = {
                    .t_s = job->fetched_s, .wait_s = o->has_wait ? o->wait_s : NAN,
                    .lanes_open = o->has_lanes ? o->lanes_open : NAN,
                    .updated_s = o->updated_s > 0 ? (double)o->updated_s : NAN,
                    .age_s = o->updated_s > 0 ? (double)(job->fetched_s - o->updated_s) : NAN,
                    .status = (double)o->status
                };
                if (arch_add_official(c->archive, x->reg->id, (enum tax_dir)(d + 1), m, t, &row) > 0)
                    staged++;
            }
    }
    char why[256];
    if (arch_commit(c->archive, why, sizeof why) != 0) {
        st->archive_failures++;
        log_warn("official %s: archive refused the official rows: %s", off_source_name(src), why);
        return; /* this pass ends; the next poll writes every queue again */
    }
    st->archived_rows += staged;
    if (job->next < state_count(c->state))
        event_active(job->ev, EV_TIMEOUT, 0);
}

static void s_archive_official(collector_t *c, enum off_source src, int64_t fetched_s)
{
    off_archive_job_t *job = &c->off_archive[src];
    job->fetched_s = fetched_s;
    job->next = 0;
    if (job->ev)
        event_active(job->ev, EV_TIMEOUT, 0);
}

/* Official documents land in the state beside the measured values (never
 * over them); the feeds render from there. */
static void s_on_official(void *arg, enum off_source src, const off_doc_t *doc, int64_t fetched_s)
{
    collector_t *c = arg;
    if (doc) {
        size_t n = state_apply_official(c->state, doc, fetched_s, c->o.official_stale_after_s);
        log_info("official %s: %zu of %zu ports in the registry, %zu queues applied",
                 off_source_name(src), doc->ports_imported, doc->ports, n);
        /* The live feed's subscribers see an official change as any other
         * change of the queue (its update carries the official value). */
        for (size_t i = 0; c->pub && i < doc->n; i++) {
            const off_rec_t *r = &doc->recs[i];
            const xstate_t *x = state_find(c->state, r->reg->id);
            if (x && tax_dir_valid(r->dir))
                pubfeed_queue_changed(c->pub, x, r->dir, tax_queue_index(r->mode, r->type));
        }
    }
    s_archive_official(c, src, fetched_s);
}

static void s_on_sigusr1(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    collector_t *c = arg;
    log_info("SIGUSR1: polling the official feeds now");
    importer_poll_now(c->importer);
}

/* The official importer (docs/architecture.md: why in the collector). */
static int s_setup_importer(collector_t *c)
{
    importer_opts_t io = { .url = { c->o.official_cbp, c->o.official_cbsa },
                           .fetch_helper = c->o.official_fetcher,
                           .interval_s = c->o.official_interval_s,
                           .connect_timeout_s = c->o.official_connect_timeout_s,
                           .total_timeout_s = c->o.official_timeout_s, .retries = 3,
                           .backoff_s = 15, .registry = c->registry, .stats = &c->stats };
    if ((!io.url[0] || !io.url[0][0]) && (!io.url[1] || !io.url[1][0]))
        return 0;
    if (c->o.official_stale_after_s < 60) {
        log_error("--official-stale-after wants at least 60 s");
        return -1;
    }
    for (int i = 0; i < OFF_NSOURCES; i++) {
        off_archive_job_t *job = &c->off_archive[i];
        *job = (off_archive_job_t){ .c = c, .src = (enum off_source)i };
        job->ev = event_new(c->base, -1, 0, s_archive_official_slice, job);
        if (!job->ev)
            return -1;
    }
    c->importer = importer_new(c->base, &io, s_on_official, c);
    return c->importer ? 0 : -1;
}

static void s_on_status(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    collector_t *c = arg;
    uint64_t rejected = 0;
    for (int i = 0; i < REJ_MAX; i++)
        rejected += c->stats.rejected[i];
    log_info("%" PRIu64 " batches accepted, %" PRIu64 " duplicates, %" PRIu64
             " samples archived, %" PRIu64 " rejections, %zu agents, archive %s",
             c->stats.batches_accepted, c->stats.batches_duplicate, c->stats.samples_accepted,
             rejected, sess_count(ingest_sessions(c->ingest)),
             arch_connected(c->archive) ? "connected" : "DISCONNECTED");
    const sess_table_t *st = ingest_sessions(c->ingest);
    int64_t now = tu_now_ms();
    for (size_t i = 0; i < sess_count(st); i++) {
        const sess_t *s = sess_at(st, i);
        log_info("  agent %s/%s: acked %" PRIu64 ", durable %" PRIu64 ", lag %" PRId64
                 " s, %" PRIu64 " gaps, %" PRIu64 " duplicates, %" PRIu64 " dropped, spool %" PRIu64,
                 s->crossing, tax_dir_name(s->dir), s->acked_seq, s->durable_seq,
                 s->newest_ms ? (now - s->newest_ms) / 1000 : -1, s->gaps, s->duplicates,
                 s->dropped, s->spool_batches);
    }
}

/* Resident bytes now (/proc/self/statm), 0 when unknown. */
static int64_t s_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f)
        return 0;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    return n == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : 0;
}

/* Give the heap's free pages back: glibc returns only the top of a heap
 * by itself, and a flood's freed messages and documents lie between live
 * blocks. A trim walks the free lists and holds the loop (13-94 ms
 * measured at 10,000 series in a flood, 5-45 ms in the live phase), so it
 * runs only once the resident size grew COLLECTOR_TRIM_GROWTH since the
 * last, COLLECTOR_TRIM_EVERY_S after it at the earliest, and not while
 * agents' frames wait: it is then looked for again a second later. */
static void s_on_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    collector_t *c = arg;
    int64_t t0 = tu_mono_ms();
    if (c->trimmed_mono_ms && t0 - c->trimmed_mono_ms < COLLECTOR_TRIM_EVERY_S * 1000)
        return;
    int64_t rss = s_resident_bytes();
    if ((rss && rss < c->trimmed_rss + COLLECTOR_TRIM_GROWTH) || (c->ingest && ingest_busy(c->ingest)))
        return;
    int gave = malloc_trim(0);
    c->trimmed_rss = s_resident_bytes();
    c->trimmed_mono_ms = tu_mono_ms();
    log_debug("malloc_trim: %s in %" PRId64 " ms, resident %" PRId64 " -> %" PRId64 " MB",
              gave ? "memory returned" : "nothing to return", tu_mono_ms() - t0, rss >> 20,
              c->trimmed_rss >> 20);
}

static void s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    collector_t *c = arg;
    log_info("signal %d: stopping", (int)sig);
    event_base_loopexit(c->base, NULL);
}

static int s_load_plans(collector_t *c, bool reload);
static int s_load_notices(collector_t *c, bool reload);

static void s_on_sighup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    collector_t *c = arg;
    if (c->zap) {
        log_info("SIGHUP: reloading the agent allowlist");
        zap_reload(c->zap);
    }
    if (c->state) {
        (void)s_load_plans(c, true); /* a failure is logged and keeps the old plans */
        (void)s_load_notices(c, true);
    }
}

/* CURVE needs both halves: a server key and an allowlist (CURVE without a
 * ZAP handler accepts every client). */
static int s_setup_security(collector_t *c)
{
    if (!c->o.curve_secret && !c->o.agent_keys) {
        log_warn("no --curve-secret/--agent-keys: agents connect in PLAINTEXT and unauthenticated");
        return 0;
    }
    if (!c->o.curve_secret || !c->o.agent_keys) {
        log_error("CURVE needs both --curve-secret (this collector's key pair) and --agent-keys "
                  "(the allowlist)");
        return -1;
    }
    if (curve_load_pair(c->o.curve_secret, &c->server_key) != 0)
        return -1;
    c->zap = zap_new(c->base, c->zctx, c->o.agent_keys, &c->stats);
    if (!c->zap)
        return -1;
    log_info("CURVE on: server key %s, allowlist %s (SIGHUP reloads it)", c->server_key.public_key,
             c->o.agent_keys);
    return 0;
}

/* The ports' lane plans (--lane-plans DIR), handed to the estimator so it
 * sees shift changes coming. A broken plan file stops the start, like a
 * broken registry: a plan silently ignored would mislead every estimate.
 * On SIGHUP the directory is read again; a broken file there keeps every
 * plan in use (a port's half-edited file must not erase the others). */
static int s_load_plans(collector_t *c, bool reload)
{
    if (!c->o.lane_plans || !c->o.lane_plans[0])
        return 0;
    int found = 0;
    plan_t *(*plans)[TAX_NDIRS] = NULL;
    if (plan_load_dir(c->o.lane_plans, c->registry, &plans, &found) != 0) {
        if (reload) {
            c->stats.lane_plan_reload_failures++;
            log_error("SIGHUP: lane plans %s not reloaded (see above); the plans in use stay",
                      c->o.lane_plans);
        }
        return -1;
    }
    /* state_new made one xstate per registry entry, in registry order. The
     * estimator only borrows a plan during one update, on this thread. */
    for (size_t i = 0; i < state_count(c->state); i++)
        for (int d = 0; d < TAX_NDIRS; d++)
            state_at(c->state, i)->plan[d] = plans[i][d];
    if (c->plans)
        plan_free_all(&c->plans, reg_count(c->registry));
    c->plans = plans;
    c->stats.lane_plans = (uint64_t)found;
    log_info("%slane plans %s: %d crossing directions", reload ? "SIGHUP: reloaded " : "",
             c->o.lane_plans, found);
    return 0;
}

/* The port notices (--notices FILE, beside the registry). Bad entries are
 * refused with file:line and the good ones shown; a file that cannot be
 * read or parsed stops the start, and on SIGHUP keeps the notices in use. */
static int s_load_notices(collector_t *c, bool reload)
{
    if (!c->o.notices || !c->o.notices[0])
        return 0;
    int nbad = 0;
    notices_t *n = notices_load(c->o.notices, c->registry, &nbad);
    c->stats.notices_rejected += (uint64_t)nbad;
    if (!n) {
        if (reload) {
            c->stats.notice_reload_failures++;
            log_error("SIGHUP: notices %s not reloaded (see above); the notices in use stay", c->o.notices);
        }
        return -1;
    }
    c->stats.notices = notices_count(n);
    log_info("%snotices %s: %zu loaded, %d entries rejected", reload ? "SIGHUP: reloaded " : "",
             c->o.notices, notices_count(n), nbad);
    state_set_notices(c->state, n);
    return 0;
}

/* --check: read what a start or a SIGHUP reads (registry, lane plans, key
 * pair, allowlist), say what was found, and tell whether all of it would
 * be taken whole: 0, or 1 when anything is missing, broken or rejected
 * (each reason logged with file:line by its loader). Binds and writes
 * nothing, so it can run beside the daemon before `systemctl reload`. */
static int s_check(const coll_opts_t *o)
{
    int bad = 0, nbad = 0;
    if (strcmp(o->rra_profile, "full") != 0 && strcmp(o->rra_profile, "compact") != 0) {
        log_error("--rra-profile wants full or compact");
        bad = 1;
    }
    registry_t *reg = reg_load(o->registry, &nbad);
    if (!reg) {
        bad = 1;
    } else {
        printf("registry %s: %zu crossings, %d entries rejected\n", o->registry, reg_count(reg),
               nbad);
        bad |= nbad > 0;
    }
    if (reg && o->lane_plans && o->lane_plans[0]) {
        plan_t *(*plans)[TAX_NDIRS] = NULL;
        int found = 0;
        if (plan_load_dir(o->lane_plans, reg, &plans, &found) != 0) {
            bad = 1;
        } else {
            printf("lane plans %s: %d crossing directions\n", o->lane_plans, found);
            plan_free_all(&plans, reg_count(reg));
        }
    }
    if (reg && o->notices && o->notices[0]) {
        int nn = 0;
        notices_t *n = notices_load(o->notices, reg, &nn);
        if (!n)
            bad = 1;
        else
            printf("notices %s: %zu loaded, %d entries rejected\n", o->notices, notices_count(n), nn);
        bad |= nn > 0;
        notices_destroy(&n);
    }
    if (!o->curve_secret != !o->agent_keys) {
        log_error("CURVE needs both --curve-secret and --agent-keys");
        bad = 1;
    }
    curve_pair_t pair;
    if (o->curve_secret && curve_load_pair(o->curve_secret, &pair) != 0)
        bad = 1;
    else if (o->curve_secret)
        printf("key pair %s: public key %s\n", o->curve_secret, pair.public_key);
    int nkeys = o->agent_keys ? zap_check_file(o->agent_keys, reg) : 0;
    if (nkeys < 0)
        bad = 1;
    else if (o->agent_keys)
        printf("allowlist %s: %d agent key(s)\n", o->agent_keys, nkeys);
    reg_destroy(&reg);
    printf("check: %s\n", bad ? "FAILED (reasons above)" : "ok");
    return bad;
}

static int s_setup(collector_t *c)
{
    enum arch_profile profile = ARCH_FULL;
    if (strcmp(c->o.rra_profile, "compact") == 0)
        profile = ARCH_COMPACT;
    else if (strcmp(c->o.rra_profile, "full") != 0) {
        log_error("--rra-profile wants full or compact");
        return -1;
    }
    int nbad = 0;
    c->registry = reg_load(c->o.registry, &nbad);
    if (!c->registry)
        return -1;
    log_info("registry %s: %zu crossings, %d entries rejected", c->o.registry,
             reg_count(c->registry), nbad);
    c->state = state_new(c->registry);
    if (c->state && (s_load_plans(c, false) != 0 || s_load_notices(c, false) != 0))
        return -1;
    c->archive = arch_new(c->o.rrdcached, c->o.archive, profile);
    c->base = event_base_new();
    c->zctx = zmq_ctx_new();
    if (!c->state || !c->archive || !c->base || !c->zctx)
        return -1;
    c->stats.started_ms = tu_now_ms();
    c->fc = fcstore_new(c->state);
    if (!c->fc)
        return -1;
    if (c->o.forecast_log && fcstore_log_to(c->fc, c->o.forecast_log) != 0)
        return -1;
    if (fcstore_start(c->fc, c->base, FCSTORE_BUDGET_MS) != 0)
        return -1;
    int64_t t0 = tu_mono_ms();
    int learned = fcstore_learn(c->fc, c->archive, c->stats.started_ms / 1000);
    if (learned >= 0)
        log_info("forecast: profiles of %d archived queue(s) learned in %" PRId64 " ms", learned,
                 tu_mono_ms() - t0);
    c->observed = observed_new(c->base, c->registry, (int)c->o.hours_learn_s);
    if (!c->observed)
        return -1;
    if (observed_load_async(c->observed, c->archive, tu_now_ms() / 1000) != 0)
        log_warn("observed hours: the archive load could not be scheduled; learning from live data only");
    if (s_setup_security(c) != 0)
        return -1;
    if (c->o.max_age_s < 0) /* the spool horizon (7 days) and a day of margin */
        c->o.max_age_s = c->zap ? 8 * 86400 : 0;
    if (c->o.allow_backfill)
        log_warn("--allow-backfill: samples of ANY age are accepted from EVERY agent");
    else if (c->o.max_age_s == 0)
        log_warn("no --max-age: samples of any age are accepted");
    if (mkdir(c->o.state_dir, 0750) != 0 && errno != EEXIST) {
        log_error("--state %s: %s", c->o.state_dir, strerror(errno));
        return -1;
    }
    snprintf(c->sessions_path, sizeof c->sessions_path, "%s/sessions", c->o.state_dir);
    ingest_ctx_t ictx = { .state = c->state, .archive = c->archive, .registry = c->registry,
                          .stats = &c->stats, .max_skew_ms = c->o.max_skew_s * 1000,
                          .sync_ms = c->o.sync_ms, .sessions_path = c->sessions_path,
                          .server_key = c->zap ? &c->server_key : NULL, .zap = c->zap,
                          .max_age_ms = c->o.max_age_s * 1000,
                          .allow_backfill = c->o.allow_backfill,
                          .max_samples_per_s = (double)c->o.max_samples_per_s,
                          .on_change = s_on_change, .on_change_arg = c,
                          .on_batch = s_on_batch, .on_batch_arg = c };
    if (c->o.upstream) {
        char spool[1024];
        snprintf(spool, sizeof spool, "%s/forward", c->o.state_dir);
        forward_opts_t fo = { .upstreams = c->o.upstream,
                              .spool_dir = c->o.forward_spool ? c->o.forward_spool : spool,
                              .key = c->zap ? &c->server_key : NULL,
                              .upstream_keys = c->o.upstream_key, .spool_mb = 512,
                              .stats = &c->stats };
        c->fwd = forward_new(c->base, c->zctx, &fo);
        if (!c->fwd)
            return -1;
    }
    if (c->o.feed_curve && !c->zap) {
        log_error("--feed-curve needs --curve-secret and --agent-keys");
        return -1;
    }
    if (c->o.feed) {
        c->pub = pubfeed_new(c->base, c->zctx, c->o.feed, c->o.feed_snapshot, c->state,
                         c->o.stale_after_s * 1000, c->o.feed_curve ? &c->server_key : NULL);
        if (!c->pub)
            return -1;
        if (c->o.sse_clients < 1 || c->o.sse_clients > 100000) {
            log_error("--sse-clients wants 1 to 100000");
            return -1;
        }
        c->sse = sse_ring_new(c->base, (int)c->o.sse_clients);
        if (!c->sse)
            return -1;
        pubfeed_set_tap(c->pub, s_on_tap, c->sse);
    }
    c->ingest = ingest_new(c->base, c->zctx, c->o.listen, &ictx);
    if (!c->ingest)
        return -1;
    fcstore_set_busy(c->fc, ingest_busy, c->ingest);
    http_ctx_t hctx = { .state = c->state, .archive = c->archive, .registry = c->registry,
                        .stats = &c->stats, .sessions = ingest_sessions(c->ingest),
                        .stale_after_ms = c->o.stale_after_s * 1000,
                        .dashboards = c->o.dashboards[0] ? c->o.dashboards : NULL,
                        .observed = c->observed,
                        .threads = (int)c->o.http_threads,
                        .publish_dir = c->o.publish_dir, .sse = c->sse,
                        .busy = ingest_busy, .busy_arg = c->ingest };
    if (c->o.http_threads < 1 || c->o.http_threads > 16) {
        log_error("--http-threads wants 1 to 16");
        return -1;
    }
    c->http = http_new(c->base, c->o.http, &hctx);
    if (!c->http)
        return -1;
    if (s_setup_importer(c) != 0)
        return -1;
    c->ev_status = event_new(c->base, -1, EV_PERSIST, s_on_status, c);
    c->ev_sigusr1 = evsignal_new(c->base, SIGUSR1, s_on_sigusr1, c);
    event_add(c->ev_sigusr1, NULL);
    c->ev_sigint = evsignal_new(c->base, SIGINT, s_on_signal, c);
    c->ev_sigterm = evsignal_new(c->base, SIGTERM, s_on_signal, c);
    c->ev_sighup = evsignal_new(c->base, SIGHUP, s_on_sighup, c);
    struct timeval every = { COLLECTOR_STATUS_EVERY_S, 0 };
    event_add(c->ev_status, &every);
    c->ev_trim = event_new(c->base, -1, EV_PERSIST, s_on_trim, c);
    struct timeval trim_every = { 0, COLLECTOR_TRIM_CHECK_MS * 1000 };
    if (c->ev_trim)
        event_add(c->ev_trim, &trim_every);
    event_add(c->ev_sigint, NULL);
    event_add(c->ev_sigterm, NULL);
    event_add(c->ev_sighup, NULL);
    return 0;
}

static void s_teardown(collector_t *c)
{
    if (c->ev_status)
        event_free(c->ev_status);
    if (c->ev_trim)
        event_free(c->ev_trim);
    if (c->ev_sigint)
        event_free(c->ev_sigint);
    if (c->ev_sigterm)
        event_free(c->ev_sigterm);
    if (c->ev_sighup)
        event_free(c->ev_sighup);
    if (c->ev_sigusr1)
        event_free(c->ev_sigusr1);
    importer_destroy(&c->importer);
    for (int i = 0; i < OFF_NSOURCES; i++)
        if (c->off_archive[i].ev)
            event_free(c->off_archive[i].ev);
    http_destroy(&c->http);
    if (c->ingest)
        ingest_sync(c->ingest); /* what is accepted goes to disk before we go */
    if (c->fc)
        fcstore_set_busy(c->fc, NULL, NULL);
    ingest_destroy(&c->ingest);
    pubfeed_destroy(&c->pub);
    sse_ring_destroy(&c->sse);   /* after the HTTP workers and the feed that fed it */
    forward_destroy(&c->fwd);
    zap_destroy(&c->zap);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    observed_destroy(&c->observed);
    arch_destroy(&c->archive);
    fcstore_destroy(&c->fc);
    state_destroy(&c->state);
    if (c->registry)
        plan_free_all(&c->plans, reg_count(c->registry));
    reg_destroy(&c->registry);
    if (c->base)
        event_base_free(c->base);
}

/* glibc's malloc serves a block of M_MMAP_THRESHOLD or more by mmap and
 * gives it back at free, but by default it raises that threshold to the
 * size of any such block freed (up to 32 MB): after the first render the
 * publisher's documents (/v1/crossings 4.4 MB, CBP's XML and JSON, CBSA's,
 * /metrics, joined anew at every render and freed a render later) come
 * from the heap and leave it holed, resident, between live blocks.
 * Setting the thresholds fixes them (no more raising): blocks of 256 KB or
 * more are mapped and unmapped, and free memory over 1 MB at the heap's
 * top goes back at once. Measured at 10,000 series (docs/performance.md
 * §1h, live phase): the main heap's free space 26 -> 12 MB (with the
 * memfd bodies, collector/http_cache.c), collector
 * VmRSS 140 and 153 MB against 155-162 MB without, the same CPU per
 * sample within the machine's noise. Called before any thread starts, so
 * every arena is made under these settings. */
static void s_malloc_setup(void)
{
    if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1 || mallopt(M_TRIM_THRESHOLD, 1 << 20) != 1)
        log_warn("mallopt refused: memory freed by renders may stay resident");
}

int main(int argc, char **argv)
{
    collector_t c;
    memset(&c, 0, sizeof c);
    s_malloc_setup();
    coll_opts_t *o = &c.o;
    *o = (coll_opts_t){ .listen = "tcp://127.0.0.1:5555", .http = "127.0.0.1:8080",
                        .rrdcached = "unix:/run/poenet/rrdcached.sock",
                        .archive = "/var/lib/poenet/archive",
                        .registry = "/etc/poenet/registry.conf", .rra_profile = "full",
                        .log_level = "info", .stale_after_s = 120, .max_skew_s = 30,
                        .state_dir = "/var/lib/poenet/collector", .sync_ms = 1000,
                        .max_age_s = -1, .max_samples_per_s = 20000, .http_threads = 2,
                        .sse_clients = SSE_DEFAULT_CLIENTS,
                        .feed_snapshot = "tcp://127.0.0.1:5557",
                        .dashboards = "/usr/local/share/poenet/dashboards", .hours_learn_s = 300,
                        .official_interval_s = 300, .official_stale_after_s = 7200,
                        .official_connect_timeout_s = 10, .official_timeout_s = 30 };
    const conf_opt_t opts[] = {
        { "listen", CONF_STR, &o->listen, "ENDPOINT", "ZeroMQ endpoint for agents [tcp://127.0.0.1:5555]" },
        { "http", CONF_STR, &o->http, "ADDR:PORT", "HTTP feed address [127.0.0.1:8080]" },
        { "http-threads", CONF_INT, &o->http_threads, "N", "threads serving HTTP requests, 1 to 16 [2]" },
        { "sse-clients", CONF_INT, &o->sse_clients, "N", "browsers on the live stream /v1/stream at once, across the HTTP threads (needs --feed; each takes a file descriptor) [256]" },
        { "publish-dir", CONF_STR, &o->publish_dir, "DIR", "also write the public documents (with .gz) to DIR for nginx or a CDN (deploy/nginx) [off]" },
        { "rrdcached", CONF_STR, &o->rrdcached, "unix:PATH", "rrdcached socket [unix:/run/poenet/rrdcached.sock]" },
        { "archive", CONF_STR, &o->archive, "DIR", "RRD archive directory [/var/lib/poenet/archive]" },
        { "registry", CONF_STR, &o->registry, "FILE", "crossing registry [/etc/poenet/registry.conf]" },
        { "state", CONF_STR, &o->state_dir, "DIR", "where agent sessions persist across restarts [/var/lib/poenet/collector]" },
        { "sync-ms", CONF_INT, &o->sync_ms, "MS", "how often accepted rows are flushed to disk and acknowledged as durable [1000]" },
        { "curve-secret", CONF_STR, &o->curve_secret, "FILE", "this collector's CURVE key pair (poe-keygen); needs --agent-keys" },
        { "agent-keys", CONF_STR, &o->agent_keys, "FILE", "allowlist of agent keys, each bound to a crossing direction (SIGHUP reloads)" },
        { "max-age", CONF_INT, &o->max_age_s, "S", "refuse samples older than this unless the agent may backfill; 0 = no limit [8 days with CURVE, none in plaintext]" },
        { "allow-backfill", CONF_FLAG, &o->allow_backfill, NULL, "accept samples of any age from every agent (replays, migrations; logged)" },
        { "max-samples-per-s", CONF_INT, &o->max_samples_per_s, "N", "per-agent rate limit, bursts of 10 s allowed; 0 = none [20000]" },
        { "feed", CONF_STR, &o->feed, "ENDPOINT", "live feed of wait updates (ZeroMQ PUB), e.g. tcp://127.0.0.1:5556 [off]" },
        { "feed-curve", CONF_FLAG, &o->feed_curve, NULL, "CURVE on the live feed: subscribers need an allowlisted key (with --curve-secret)" },
        { "feed-snapshot", CONF_STR, &o->feed_snapshot, "ENDPOINT", "where the live feed answers SNAPSHOT requests [tcp://127.0.0.1:5557]" },
        { "upstream", CONF_STR, &o->upstream, "ENDPOINTS", "forward every archived series to higher-level collector(s), comma-separated, at most 8 [off]" },
        { "upstream-key", CONF_STR, &o->upstream_key, "KEYS", "the upstream collectors' public keys (with --curve-secret): one for all, or one per --upstream in order" },
        { "forward-spool", CONF_STR, &o->forward_spool, "DIR", "spools for forwarding [<state>/forward]" },
        { "dashboards", CONF_STR, &o->dashboards, "DIR", "web pages served at / and /crossing/{id}; \"\" = none [/usr/local/share/poenet/dashboards]" },
        { "forecast-log", CONF_STR, &o->forecast_log, "FILE", "append every queue's forecast issued at each whole hour of event time (CSV; the inputs of the forecasts to FILE.in; the forecast harness, docs/forecast.md) [none]" },
        { "lane-plans", CONF_STR, &o->lane_plans, "DIR", "the ports' lane plans, DIR/<crossing>-<direction>.csv (docs/accuracy.md; SIGHUP reloads) [none]" },
        { "notices", CONF_STR, &o->notices, "FILE", "the ports' notices, beside the registry (docs/registry.md; SIGHUP reloads) [none]" },
        { "official-cbp", CONF_STR, &o->official_cbp, "URL", "import CBP's official waits (its /api/bwtnew JSON) from URL, e.g. https://bwt.cbp.gov/api/bwtnew [off]" },
        { "official-cbsa", CONF_STR, &o->official_cbsa, "URL", "import CBSA's official waits (its bwt-eng.csv) from URL, e.g. https://www.cbsa-asfc.gc.ca/bwt-taf/bwt-eng.csv [off]" },
        { "official-interval", CONF_INT, &o->official_interval_s, "S", "poll the official feeds every S seconds, at least 60 (SIGUSR1 polls at once) [300]" },
        { "official-stale-after", CONF_INT, &o->official_stale_after_s, "S", "an official value whose update time is older than this is stale [7200]" },
        { "official-connect-timeout", CONF_INT, &o->official_connect_timeout_s, "S", "connect timeout of an official poll [10]" },
        { "official-timeout", CONF_INT, &o->official_timeout_s, "S", "total time an official poll may take [30]" },
        { "official-fetcher", CONF_STR, &o->official_fetcher, "PATH", "the program that makes each official poll (collector/fetch.h) [poe-fetch beside poe-collector, else on PATH]" },
        { "rra-profile", CONF_STR, &o->rra_profile, "NAME", "full (years) or compact (tests) [full]" },
        { "hours-learn", CONF_INT, &o->hours_learn_s, "S", "relearn the observed hours of changed tracks this often [300]" },
        { "stale-after", CONF_INT, &o->stale_after_s, "S", "a queue without data this long is stale [120]" },
        { "max-skew", CONF_INT, &o->max_skew_s, "S", "how far ahead of our clock a sample may be [30]" },
        { "log-level", CONF_STR, &o->log_level, "LEVEL", "error|warn|info|debug [info]" },
        { "check", CONF_FLAG, &o->check, NULL, "read the registry, lane plans and keys as a start would, report, exit 0 if all are whole (before a reload)" },
    };
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    log_init("poe-collector", LOG_LVL_INFO);
    int rc = conf_parse(opts, nopts, argc, argv, "poe-collector",
                        "Receives agents' batches, archives every series in RRD through rrdcached, "
                        "estimates waits and serves the feed over HTTP.");
    if (rc != 0) {
        conf_free(opts, nopts);
        return rc > 0 ? 0 : 2;
    }
    log_init_named("poe-collector", o->log_level);
    signal(SIGPIPE, SIG_IGN); /* a client hanging up must not kill the daemon */
    if (o->check) {
        int bad = s_check(o);
        conf_free(opts, nopts);
        return bad;
    }
    int exit_code = 0;
    if (s_setup(&c) != 0) {
        log_error("collector failed to start");
        exit_code = 1;
    } else {
        log_info("collector up: agents %s, feed http://%s/v1/crossings", o->listen, o->http);
        /* Big bodies' pages go back on a thread of their own (common/reclaim.h). */
        if (reclaim_start() != 0)
            log_warn("reclaim thread not started (%s): bodies are freed where dropped",
                     strerror(errno));
        sdnotify_t *notify = sdnotify_new(c.base); /* systemd Type=notify, WatchdogSec */
        sdnotify_ready(notify, "serving");
        event_base_dispatch(c.base);
        sdnotify_destroy(&notify);
    }
    s_teardown(&c);
    reclaim_stop();   /* after the last snapshot went: frees what waits */
    conf_free(opts, nopts);
    return exit_code;
}
