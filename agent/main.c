/* poe-agent — one crossing direction's sensor agent.
 *
 * Wires the parts together on one libevent loop (one thread): a source of
 * sensor lines (replay file, stdin, a listening socket, or the built-in
 * simulator) → the event-time aggregator → batches → the outbox → the link
 * to the collector. In replay mode it exits 0 once every batch it read has
 * been acknowledged and nothing of it was refused (4 when a collector
 * refused samples: a backfill must not "succeed" silently).
 *
 * Refused samples (a collector's Ack says how many, and why) are logged by
 * the links once a minute; here they join the status line and the exit
 * summary, and when more than AGENT_ALARM_SHARE of the samples are refused
 * by a collector the agent raises an ALARM, naming clock trouble (with the
 * offset it implies) when the refusals are about time. */
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zmq.h>

#include "aggregate.h"
#include "conf.h"
#include "curve.h"
#include "log.h"
#include "sdnotify.h"
#include "sender.h"
#include "simulate.h"
#include "source.h"
#include "taxonomy.h"
#include "timeutil.h"
#include "wire.h"

/* Live sources close a quiet interval this long after its end (--grace),
 * so lines stamped inside it that reach the agent late still count. Sensor
 * gateways run on the agent's host (docs/sensor-input.md): a line takes
 * milliseconds to arrive, a gateway that polls its sensors or flushes its
 * lines four times a second up to 250 ms. More would add to every quiet
 * interval's latency (docs/performance.md §2) what few lines need. */
#define AGENT_GRACE_MS 250
#define AGENT_GRACE_MAX_MS 60000
/* Housekeeping (simulator, retries of the spool, status): intervals are
 * closed and sent by their own timer and by the events, not by this. */
#define AGENT_TICK_MS 200
#define AGENT_STATUS_EVERY_S 60
/* Above this share of refused samples (at any one collector) the agent
 * says ALARM (docs/reliability.md): a stray sample is a sensor glitch, 1%
 * is a broken clock, configuration or sensor. */
#define AGENT_ALARM_SHARE 0.01
#define AGENT_EXIT_REFUSED 4

typedef struct {
    char *crossing, *direction, *collector, *replay, *listen, *sim_lanes, *log_level, *spool;
    char *curve_secret, *collector_key;
    double speed, sim_load;
    long interval_ms, grace_ms, window, batch_max, max_gap_s, sim_seed, spool_mb, clock_offset_s;
    bool simulate, spool_nosync;
} agent_opts_t;

typedef struct {
    agent_opts_t o;
    enum tax_dir dir;
    struct event_base *base;
    void *zctx;
    uint64_t epoch;
    aggregate_t *aggr;
    wire_batch_t *batch;
    sender_t *sender;
    uint8_t *unspooled;   /* a packed batch the spool could not take yet */
    size_t unspooled_len;
    uint64_t samples_lost;
    curve_pair_t key;
    source_t *source;
    sim_t *sim;
    struct event *ev_tick, *ev_close, *ev_sigint, *ev_sigterm;
    int64_t close_at;     /* agent clock the close timer is set for; 0 = not set */
    uint64_t bad_lines, samples;
    bool input_done;      /* replay reached its end */
    int64_t last_status;
    int64_t last_alarm;   /* monotonic ms of the last refusal ALARM */
} agent_t;

/* Spool the packed batch waiting (if any). 0 when nothing is left waiting. */
static int s_spool_pending(agent_t *a)
{
    if (!a->unspooled)
        return 0;
    if (sender_append(a->sender, a->unspooled, a->unspooled_len, tu_now_ms()) != 0)
        return -1; /* logged by the spool; retried on the next tick */
    free(a->unspooled);
    a->unspooled = NULL;
    return 0;
}

static void s_pack(agent_t *a)
{
    if (s_spool_pending(a) != 0 || wire_batch_count(a->batch) == 0)
        return;
    size_t len;
    uint8_t *buf = wire_batch_pack(a->batch, sender_next_seq(a->sender), a->bad_lines, &len);
    if (!buf) {
        log_error("out of memory packing a batch: exiting (the spool keeps what was sent)");
        exit(3);
    }
    a->unspooled = buf;
    a->unspooled_len = len;
    s_spool_pending(a);
    /* Backpressure: a fast replay runs no further ahead of the slowest
     * collector than a few windows. */
    if (a->source && sender_congested(a->sender))
        src_pause(a->source, true);
}

static int s_add_sample(agent_t *a, const wire_queue_sample_t *q, const wire_lane_sample_t *l)
{
    return q ? wire_batch_add_queue(a->batch, q) : wire_batch_add_lane(a->batch, l);
}

static void s_emit(void *arg, const wire_queue_sample_t *q, const wire_lane_sample_t *l)
{
    agent_t *a = arg;
    if (wire_batch_count(a->batch) >= (size_t)a->o.batch_max)
        s_pack(a);
    if (s_add_sample(a, q, l) != 0) {
        /* Only when the spool has refused writes for a long time. */
        a->samples_lost++;
        log_error("ALARM spool not writable and batch full: sample lost (%" PRIu64 " so far)",
                  a->samples_lost);
        return;
    }
    a->samples++;
}

/* The clock live data is stamped and closed by: the host's, or as far off
 * it as --clock-offset says (a skewed host, shown without changing the
 * host's clock: the network bench and the tests). */
static int64_t s_clock(const agent_t *a)
{
    return tu_now_ms() + (int64_t)a->o.clock_offset_s * 1000;
}

static void s_arm_close(agent_t *a);

/* Live sources: what an event or the close timer closed is spooled and
 * sent at once (a replay packs from the tick instead, into batches of up
 * to --batch-max samples, not one fdatasync per interval). */
static void s_send_closed(agent_t *a, uint64_t samples_before)
{
    if (a->samples != samples_before) {
        s_pack(a);
        sender_pump(a->sender);
    }
}

static int s_on_event(void *arg, const sensor_event_t *ev, char *why, size_t whylen)
{
    agent_t *a = arg;
    int64_t now = s_clock(a);
    /* Live data stamped far in the future would close intervals early and
     * make every later event "too old": refuse it here. */
    if (!a->o.replay && ev->t_ms > now + 60000) {
        snprintf(why, whylen, "time %" PRId64 " is %" PRId64 " s in the future", ev->t_ms,
                 (ev->t_ms - now) / 1000);
        return -1;
    }
    uint64_t before = a->samples;
    int rc = aggregate_event(a->aggr, ev, why, whylen);
    if (!a->o.replay) {
        s_send_closed(a, before);
        s_arm_close(a);
    }
    return rc;
}

static bool s_all_durable(const agent_t *a)
{
    return !a->unspooled && wire_batch_count(a->batch) == 0 && sender_all_durable(a->sender);
}

/* The ALARM for one collector's refusals, when they pass the share. */
static void s_alarm_one(const agent_t *a, const char *endpoint, const refusals_t *r)
{
    double share = a->samples ? (double)r->total / (double)a->samples : 1.0;
    if (r->total == 0 || share <= AGENT_ALARM_SHARE)
        return;
    char line[1024];
    refusals_format(r, false, line, sizeof line);
    log_error("ALARM collector %s refused %" PRIu64 " of %" PRIu64 " samples (%.1f%%, above "
              "%.0f%%): %s", endpoint, r->total, a->samples, 100.0 * share,
              100.0 * AGENT_ALARM_SHARE, line);
    const refusals_reason_t *t = refusals_time(r);
    if (!t)
        return;
    /* The transport compares the host's clock; samples are stamped by the
     * agent's, which --clock-offset moves. */
    int64_t off = t->offset_ms / 1000, host = r->clock_offset_ms / 1000 + a->o.clock_offset_s;
    if (strcmp(t->reason, "future") == 0)
        log_error("ALARM clock trouble: samples are stamped %" PRId64 " s ahead of the "
                  "collector's clock; this host's clock differs from the collector's by "
                  "%+" PRId64 " s%s. Fix the clock (NTP) of %s; the refused samples are lost",
                  off, host, r->have_clock ? "" : " (unknown)",
                  a->o.replay ? "whatever stamped the replay file" : "this host");
    else
        log_error("ALARM clock or backfill: samples are %" PRId64 " s older than the "
                  "collector's clock (this host's clock differs by %+" PRId64 " s); they are "
                  "past its horizon. Fix the clock, or have the key allowed to backfill "
                  "(allowlist backfill = true) and replay them", -off, host);
}

/* At most once a minute (the first at once), and always with force. */
static void s_check_refusals(agent_t *a, bool force)
{
    int64_t now = tu_mono_ms();
    if (!force && a->last_alarm && now - a->last_alarm < AGENT_STATUS_EVERY_S * 1000)
        return;
    for (int i = 0; i < sender_ncollectors(a->sender); i++) {
        const refusals_t *r = sender_refusals(a->sender, i);
        if (r && r->total && (double)r->total > AGENT_ALARM_SHARE * (double)a->samples) {
            s_alarm_one(a, sender_endpoint(a->sender, i), r);
            a->last_alarm = now;
        }
    }
}

static void s_maybe_finish(agent_t *a)
{
    if (a->input_done && s_all_durable(a)) {
        uint64_t refused = sender_refused_max(a->sender);
        log_info("replay done: %" PRIu64 " samples in %" PRIu64 " batches delivered to %d "
                 "collector(s), %" PRIu64 " refused there, %" PRIu64 " bad lines",
                 a->samples, sender_last_seq(a->sender), sender_ncollectors(a->sender), refused,
                 a->bad_lines);
        if (refused) {
            sender_log_status(a->sender, tu_now_ms());
            s_check_refusals(a, true);
            log_error("replay incomplete: %" PRIu64 " samples were refused (above); exit "
                      "status %d", refused, AGENT_EXIT_REFUSED);
        }
        event_base_loopexit(a->base, NULL);
    }
}

static void s_on_eof(void *arg)
{
    agent_t *a = arg;
    aggregate_flush(a->aggr);
    s_pack(a);
    a->input_done = true;
    s_maybe_finish(a);
}

static void s_on_progress(void *arg)
{
    agent_t *a = arg;
    if (a->source && !sender_congested(a->sender))
        src_pause(a->source, false);
    s_maybe_finish(a);
}

static void s_on_sim_event(void *arg, const sensor_event_t *ev)
{
    agent_t *a = arg;
    char why[200];
    if (aggregate_event(a->aggr, ev, why, sizeof why) != 0) {
        a->bad_lines++;
        log_warn("simulator: %s", why);
    }
}

static void s_status(agent_t *a, int64_t now)
{
    if (now - a->last_status < AGENT_STATUS_EVERY_S * 1000)
        return;
    a->last_status = now;
    log_info("%s %s: %" PRIu64 " samples, %" PRIu64 " refused by a collector, %" PRIu64
             " bad lines", a->o.crossing, a->o.direction, a->samples,
             sender_refused_max(a->sender), a->bad_lines);
    sender_log_status(a->sender, now);
}

/* Live sources: close what end + grace has passed (a quiet queue still
 * reports), send it, and set the close timer again. */
static void s_close_due(agent_t *a)
{
    int64_t clock = s_clock(a);
    uint64_t before = a->samples;
    if (a->sim)
        sim_run_until(a->sim, clock, s_on_sim_event, a);
    aggregate_advance(a->aggr, clock - a->o.grace_ms);
    s_send_closed(a, before);
    s_arm_close(a);
}

/* The close timer at the interval's end + grace, on the agent's clock: a
 * quiet interval goes out as soon as the grace has passed, not at the next
 * turn of a free-running tick. Set again only when the deadline moved. */
static void s_arm_close(agent_t *a)
{
    int64_t due = aggregate_close_due(a->aggr, a->o.grace_ms);
    if (due == INT64_MAX || due == a->close_at)
        return;
    int64_t wait = due - s_clock(a);
    if (wait < 0)
        wait = 0;
    struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
    if (evtimer_add(a->ev_close, &tv) == 0)
        a->close_at = due;
}

static void s_on_close(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agent_t *a = arg;
    a->close_at = 0;   /* fired: an early wake-up is set again by s_close_due */
    s_close_due(a);
}

/* Housekeeping: the simulator's events, spooling what the spool refused
 * before, sending what the windows allow, the status line. */
static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    agent_t *a = arg;
    int64_t now = tu_now_ms();
    if (!a->o.replay)
        s_close_due(a);
    s_pack(a);
    sender_pump(a->sender);
    s_status(a, now);
    s_check_refusals(a, false);
}

static void s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    agent_t *a = arg;
    log_info("signal %d: stopping; %" PRIu64 " batches not yet durable stay in the spool; "
             "%" PRIu64 " samples sent, %" PRIu64 " refused by a collector", (int)sig,
             sender_last_seq(a->sender) - sender_min_durable(a->sender), a->samples,
             sender_refused_max(a->sender));
    sender_log_status(a->sender, tu_now_ms());
    event_base_loopexit(a->base, NULL);
}

static int s_check_opts(agent_t *a)
{
    agent_opts_t *o = &a->o;
    if (!o->crossing || !tax_crossing_id_valid(o->crossing)) {
        log_error("--crossing wants the 6-digit CBP port number (e.g. 250401)");
        return -1;
    }
    if (!o->direction || tax_dir_parse(o->direction, &a->dir) != 0) {
        log_error("--direction wants northbound or southbound");
        return -1;
    }
    int inputs = (o->replay != NULL) + (o->listen != NULL) + o->simulate;
    if (inputs != 1) {
        log_error("choose exactly one input: --replay FILE|-, --listen SPEC or --simulate");
        return -1;
    }
    if (!wire_interval_valid(o->interval_ms)) {
        log_error("--interval wants ms that divide a second, from %d (100, 125, 200, 250, 500), "
                  "or whole seconds that divide a minute (1000..60000), got %ld",
                  WIRE_INTERVAL_MIN_MS, o->interval_ms);
        return -1;
    }
    if (o->grace_ms < 0 || o->grace_ms > AGENT_GRACE_MAX_MS) {
        log_error("--grace wants 0..%d ms, got %ld", AGENT_GRACE_MAX_MS, o->grace_ms);
        return -1;
    }
    if (o->speed < 0 || o->window < 1 || o->batch_max < 1 || o->batch_max > WIRE_MAX_QUEUE_SAMPLES ||
        o->max_gap_s * 1000 < o->interval_ms || o->spool_mb < 1 || o->spool_mb > 1 << 20) {
        log_error("--speed >= 0, --window >= 1, --batch-max 1..%d, --max-gap >= one interval "
                  "and --spool-mb 1..1048576 please", WIRE_MAX_QUEUE_SAMPLES);
        return -1;
    }
    return 0;
}

static int s_open_input(agent_t *a)
{
    src_sink_t sink = { .on_event = s_on_event, .on_eof = s_on_eof, .arg = a,
                        .bad_lines = &a->bad_lines };
    if (a->o.replay) {
        a->source = src_replay_new(a->base, a->o.replay, a->o.speed, &sink);
        return a->source ? 0 : -1;
    }
    if (a->o.listen) {
        a->source = src_listen_new(a->base, a->o.listen, &sink);
        return a->source ? 0 : -1;
    }
    int lanes[TAX_NMODES + 1];
    if (sim_parse_lanes(a->o.sim_lanes, lanes) != 0) {
        log_error("bad --sim-lanes '%s': want e.g. passenger=8,pedestrian=2,commercial=3",
                  a->o.sim_lanes);
        return -1;
    }
    uint64_t seed = a->o.sim_seed ? (uint64_t)a->o.sim_seed
                                  : (uint64_t)atoi(a->o.crossing) * 2 + (uint64_t)a->dir;
    a->sim = sim_new(seed, lanes, a->o.sim_load, s_clock(a));
    return a->sim ? 0 : -1;
}

/* The spool, and a link to each collector (sender.h has the rule for the
 * endpoint and key lists). */
static int s_open_sender(agent_t *a)
{
    if (a->o.curve_secret && curve_load_pair(a->o.curve_secret, &a->key) != 0)
        return -1;
    char dir[512];
    if (a->o.spool)
        snprintf(dir, sizeof dir, "%s", a->o.spool);
    else
        snprintf(dir, sizeof dir, "/var/lib/poenet/spool/%s-%s", a->o.crossing, a->o.direction);
    sender_opts_t so = { .endpoints = a->o.collector, .spool_dir = dir,
                         .spool_mb = (unsigned)a->o.spool_mb, .spool_nosync = a->o.spool_nosync,
                         .window = (size_t)a->o.window, .crossing = a->o.crossing,
                         .direction = (int)a->dir,
                         .key = a->o.curve_secret ? &a->key : NULL,
                         .server_keys = a->o.collector_key, .on_progress = s_on_progress,
                         .arg = a };
    a->sender = sender_new(a->base, a->zctx, &so);
    if (!a->sender)
        return -1;
    a->epoch = sender_epoch(a->sender);
    return 0;
}

static int s_setup(agent_t *a)
{
    a->base = event_base_new();
    a->zctx = zmq_ctx_new();
    if (!a->base || !a->zctx || s_open_sender(a) != 0)
        return -1;
    a->batch = wire_batch_new(a->o.crossing, (int)a->dir, a->epoch, (uint32_t)a->o.interval_ms);
    /* The re-identification salt must not be guessable: the kernel's
     * random bytes, the clock only if they are unavailable. */
    uint64_t salt;
    if (getrandom(&salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        salt = (uint64_t)tu_now_ms() * 6364136223846793005ULL ^ (uint64_t)tu_mono_ms();
    a->aggr = aggregate_new((uint32_t)a->o.interval_ms, a->o.max_gap_s * 1000, s_emit, a, salt);
    if (!a->batch || !a->aggr || s_open_input(a) != 0)
        return -1;
    a->ev_tick = event_new(a->base, -1, EV_PERSIST, s_on_tick, a);
    a->ev_close = evtimer_new(a->base, s_on_close, a);
    a->ev_sigint = evsignal_new(a->base, SIGINT, s_on_signal, a);
    a->ev_sigterm = evsignal_new(a->base, SIGTERM, s_on_signal, a);
    if (!a->ev_tick || !a->ev_close || !a->ev_sigint || !a->ev_sigterm) {
        log_error("out of memory setting up the agent's events");
        return -1;
    }
    struct timeval tick = { 0, AGENT_TICK_MS * 1000 };
    event_add(a->ev_tick, &tick);
    event_add(a->ev_sigint, NULL);
    event_add(a->ev_sigterm, NULL);
    return 0;
}

static void s_teardown(agent_t *a)
{
    if (a->ev_tick)
        event_free(a->ev_tick);
    if (a->ev_close)
        event_free(a->ev_close);
    if (a->ev_sigint)
        event_free(a->ev_sigint);
    if (a->ev_sigterm)
        event_free(a->ev_sigterm);
    src_destroy(&a->source);
    sim_destroy(&a->sim);
    aggregate_destroy(&a->aggr);
    wire_batch_destroy(&a->batch);
    free(a->unspooled);
    sender_destroy(&a->sender);
    if (a->zctx)
        zmq_ctx_term(a->zctx);
    if (a->base)
        event_base_free(a->base);
}

int main(int argc, char **argv)
{
    agent_t a = { 0 };
    a.o = (agent_opts_t){ .collector = "tcp://127.0.0.1:5555", .speed = 1.0, .interval_ms = 5000,
                          .grace_ms = AGENT_GRACE_MS,
                          .window = 32, .batch_max = 512, .max_gap_s = 3600,
                          .sim_lanes = "passenger=8,commercial=3", .sim_load = 1.0,
                          .log_level = "info", .spool_mb = 512 };
    agent_opts_t *o = &a.o;
    const conf_opt_t opts[] = {
        { "crossing", CONF_STR, &o->crossing, "ID", "6-digit CBP port number, e.g. 250401 (required)" },
        { "direction", CONF_STR, &o->direction, "DIR", "northbound|southbound (required)" },
        { "collector", CONF_STR, &o->collector, "ENDPOINTS", "collector endpoint(s), comma-separated; each gets every batch [tcp://127.0.0.1:5555]" },
        { "curve-secret", CONF_STR, &o->curve_secret, "FILE", "this agent's CURVE key pair (poe-keygen NAME -> NAME.secret)" },
        { "collector-key", CONF_STR, &o->collector_key, "KEYS", "collector public key(s) or .pub file(s), comma-separated: one for all, or one per --collector in order" },
        { "spool", CONF_STR, &o->spool, "DIR", "spool directory [/var/lib/poenet/spool/<crossing>-<direction>]" },
        { "spool-mb", CONF_INT, &o->spool_mb, "MB", "spool disk budget; beyond it the oldest data goes, with an alarm [512]" },
        { "spool-nosync", CONF_FLAG, &o->spool_nosync, NULL, "do not fdatasync each spooled batch (faster; a power cut may lose the last ones)" },
        { "replay", CONF_STR, &o->replay, "FILE", "read sensor lines from FILE ('-' = stdin); exit 0 when all acknowledged, 4 when a collector refused samples" },
        { "speed", CONF_DOUBLE, &o->speed, "X", "replay speed: 1 real time, 10 ten times faster, 0 as fast as possible [1]" },
        { "listen", CONF_STR, &o->listen, "SPEC", "accept sensor lines on unix:PATH or tcp://127.0.0.1:PORT" },
        { "simulate", CONF_FLAG, &o->simulate, NULL, "built-in simulated sensors (demo)" },
        { "sim-lanes", CONF_STR, &o->sim_lanes, "SPEC", "simulated lanes per mode [passenger=8,commercial=3]" },
        { "sim-load", CONF_DOUBLE, &o->sim_load, "X", "simulated demand relative to staffed capacity [1.0]" },
        { "sim-seed", CONF_INT, &o->sim_seed, "N", "simulator seed [from crossing and direction]" },
        { "clock-offset", CONF_INT, &o->clock_offset_s, "S", "live data: this agent's clock runs S seconds ahead (negative: behind) of the host's, a skewed host for tests [0]" },
        { "interval", CONF_INT, &o->interval_ms, "MS", "aggregation interval in ms: a part of a second (250, 500) or whole seconds dividing a minute; the feed shows a line within about one interval + --grace, so --interval 500 for p99 under 1 s [5000]" },
        { "grace", CONF_INT, &o->grace_ms, "MS", "live sources: a quiet interval is closed and sent this long after its end, so lines stamped in it that arrive late still count (a later event closes it at once) [250]" },
        { "window", CONF_INT, &o->window, "N", "batches in flight before waiting for acknowledgements [32]" },
        { "batch-max", CONF_INT, &o->batch_max, "N", "samples per batch at most [512]" },
        { "max-gap", CONF_INT, &o->max_gap_s, "S", "silence longer than this is an outage, not zero traffic [3600]" },
        { "log-level", CONF_STR, &o->log_level, "LEVEL", "error|warn|info|debug [info]" },
    };
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    log_init("poe-agent", LOG_LVL_INFO);
    int rc = conf_parse(opts, nopts, argc, argv, "poe-agent",
                        "Reads one crossing direction's sensor events, aggregates them in event time "
                        "and streams sequenced batches to a poenet collector.");
    if (rc != 0) {
        conf_free(opts, nopts);
        return rc > 0 ? 0 : 2;
    }
    log_init_named("poe-agent", o->log_level);
    if (s_check_opts(&a) != 0) {
        conf_free(opts, nopts);
        return 2;
    }
    int exit_code = 0;
    if (s_setup(&a) != 0) {
        exit_code = 1;
    } else {
        log_info("agent %s %s (epoch %" PRIu64 ") -> %s", o->crossing, o->direction, a.epoch,
                 o->collector);
        sdnotify_t *notify = sdnotify_new(a.base); /* systemd Type=notify, WatchdogSec */
        sdnotify_ready(notify, "sending");
        event_base_dispatch(a.base);
        sdnotify_destroy(&notify);
        if (o->replay && !(a.input_done && s_all_durable(&a)))
            exit_code = 1; /* stopped before everything was durable: the spool keeps it */
        else if (o->replay && sender_refused_max(a.sender) > 0)
            exit_code = AGENT_EXIT_REFUSED;
    }
    s_teardown(&a);
    conf_free(opts, nopts);
    return exit_code;
}
