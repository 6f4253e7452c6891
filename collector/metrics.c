/* metrics — see metrics.h.
 *
 * Every family is written whole (HELP, TYPE, then all its samples), because
 * the exposition format requires a family's samples to be contiguous; the
 * per-agent families therefore walk the session table once each. Counters
 * are exact integers; ages and lags are seconds with millisecond digits.
 * An agent without archived data gets no lag sample rather than a made-up
 * one, the way the feed shows "no_data" instead of a zero. */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "textbuf.h"
#include "taxonomy.h"

/* A label value with \, " and newline escaped as the format requires. */
static void s_label_value(textbuf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            textbuf_append(b, "\\\\");
        else if (*v == '"')
            textbuf_append(b, "\\\"");
        else if (*v == '\n')
            textbuf_append(b, "\\n");
        else
            textbuf_append_n(b, v, 1);
    }
}

/* ---- families --------------------------------------------------------------- */

static void s_family(textbuf_t *b, const char *name, const char *type, const char *help)
{
    /* HELP texts are our own constants without \ or newline: no escaping. */
    textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void s_counter(textbuf_t *b, const char *name, const char *help, uint64_t v)
{
    s_family(b, name, "counter", help);
    textbuf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void s_gauge_ms(textbuf_t *b, const char *name, const char *help, int64_t ms)
{
    s_family(b, name, "gauge", help);
    textbuf_printf(b, "%s %.3f\n", name, ms / 1000.0);
}

static void s_rejections(textbuf_t *b, const stats_t *st)
{
    s_family(b, "poenet_rejected_total", "counter",
             "Frames, batches and samples refused, by reason (as in /health).");
    for (int r = 0; r < REJ_MAX; r++)
        textbuf_printf(b, "poenet_rejected_total{reason=\"%s\"} %" PRIu64 "\n",
                       stats_reject_name((enum stats_reject)r), st->rejected[r]);
}

static void s_collector(textbuf_t *b, const stats_t *st, bool archive_connected, int64_t now_ms)
{
    s_gauge_ms(b, "poenet_uptime_seconds", "Seconds since the collector started.",
               st->started_ms > 0 ? now_ms - st->started_ms : 0);
    /* The workers serve this text from the main loop's published snapshot:
     * time() minus this is how old every value here is. */
    s_gauge_ms(b, "poenet_published_timestamp_seconds",
               "Unix time the main loop read these values (the published snapshot's time).",
               now_ms);
    s_family(b, "poenet_archive_connected", "gauge",
             "1 when the connection to rrdcached is up, else 0.");
    textbuf_printf(b, "poenet_archive_connected %d\n", archive_connected ? 1 : 0);
    s_counter(b, "poenet_frames_received_total", "Frames received from agents, good or bad.",
              st->frames_in);
    s_counter(b, "poenet_batches_accepted_total",
              "Batches archived and acknowledged (at least one sample valid).",
              st->batches_accepted);
    s_counter(b, "poenet_batches_refused_total",
              "Batches acknowledged with every sample refused (the ack names the reasons).",
              st->batches_refused);
    s_counter(b, "poenet_batches_duplicate_total",
              "Batches received again after being archived: acknowledged, not re-applied.",
              st->batches_duplicate);
    s_counter(b, "poenet_samples_accepted_total", "Samples archived.", st->samples_accepted);
    s_counter(b, "poenet_samples_already_archived_total",
              "Samples at or before their file's last update (a resend): skipped.",
              st->samples_already_archived);
    s_counter(b, "poenet_heartbeats_received_total", "Heartbeats received from agents.",
              st->heartbeats_in);
    s_rejections(b, st);
    s_counter(b, "poenet_agent_bad_lines_reported_total",
              "Sensor lines the agents reported rejecting, summed over agents.",
              st->agent_bad_lines);
    s_counter(b, "poenet_handshake_denied_total",
              "Agent keys ZAP refused (unknown or revoked), each counted once while it keeps "
              "retrying (a minute apart at most).",
              st->handshake_denied);
    s_counter(b, "poenet_handshake_failed_total",
              "Peer addresses whose handshake failed otherwise (plaintext, wrong server key), "
              "each counted once while it keeps retrying (a minute apart at most).",
              st->handshake_failed);
    s_counter(b, "poenet_handshake_attempts_failed_total",
              "Every failed handshake attempt, libzmq's retries and ZAP denials included.",
              st->handshake_attempts_failed);
    s_family(b, "poenet_upstream_refused_samples_total", "counter",
             "Forwarded samples the upstream collector refused, by the reason it gave.");
    for (int r = 0; r < REJ_MAX; r++)
        if (stats_reject_in_ack((enum stats_reject)r))
            textbuf_printf(b, "poenet_upstream_refused_samples_total{reason=\"%s\"} %" PRIu64
                           "\n", stats_reject_name((enum stats_reject)r), st->upstream_refused[r]);
    textbuf_printf(b, "poenet_upstream_refused_samples_total{reason=\"other\"} %" PRIu64 "\n",
                   st->upstream_refused_other);
    s_family(b, "poenet_sse_clients", "gauge",
             "Browsers on the live stream /v1/stream now (0 without --feed).");
    textbuf_printf(b, "poenet_sse_clients %" PRIu64 "\n", st->sse_clients);
    s_family(b, "poenet_sse_max_clients", "gauge", "The bound on live streams (--sse-clients).");
    textbuf_printf(b, "poenet_sse_max_clients %" PRIu64 "\n", st->sse_max_clients);
    s_family(b, "poenet_sse_refused_total", "counter",
             "Live streams refused, by reason: at the bound, a Last-Event-ID that is not a "
             "sequence number, one ahead of the feed.");
    textbuf_printf(b, "poenet_sse_refused_total{reason=\"full\"} %" PRIu64 "\n", st->sse_refused_full);
    textbuf_printf(b, "poenet_sse_refused_total{reason=\"bad_last_event_id\"} %" PRIu64 "\n",
                   st->sse_refused_bad_id);
    textbuf_printf(b, "poenet_sse_refused_total{reason=\"future_last_event_id\"} %" PRIu64 "\n",
                   st->sse_refused_future_id);
    s_counter(b, "poenet_sse_dropped_total",
              "Live streams dropped because the browser stopped reading (it resumes on reconnect).",
              st->sse_dropped_slow);
    s_family(b, "poenet_lane_plans", "gauge",
             "Crossing directions whose lane plan (--lane-plans) the estimator uses.");
    textbuf_printf(b, "poenet_lane_plans %" PRIu64 "\n", st->lane_plans);
    s_counter(b, "poenet_lane_plan_reload_failures_total",
              "SIGHUP reloads of the lane plans refused for a broken file (the plans in use stay).",
              st->lane_plan_reload_failures);
    s_family(b, "poenet_notices", "gauge", "Port notices loaded (--notices), valid now or later.");
    textbuf_printf(b, "poenet_notices %" PRIu64 "\n", st->notices);
    s_counter(b, "poenet_notices_rejected_total", "Notice entries refused, every load counted (file:line logged).",
              st->notices_rejected);
    s_counter(b, "poenet_notice_reload_failures_total",
              "SIGHUP reloads of the notices refused for an unreadable file (the notices in use stay).",
              st->notice_reload_failures);
}

/* ---- per agent ---------------------------------------------------------------- */

typedef enum { A_LAG, A_SEEN, A_ACKED, A_DURABLE, A_SPOOL, A_UNACKED_AGE, A_BATCHES, A_DUPS,
               A_GAPS, A_DROPPED, A_BAD_LINES, A_COUNT } s_agent_metric_t;

static const struct {
    const char *name, *type, *help;
} s_agent_metrics[A_COUNT] = {
    [A_LAG] = { "poenet_agent_lag_seconds", "gauge",
                "Collector clock minus the newest sample end archived for the agent." },
    [A_SEEN] = { "poenet_agent_last_seen_seconds", "gauge",
                 "Seconds since the agent's last frame." },
    [A_ACKED] = { "poenet_agent_acked_seq", "gauge",
                  "Highest batch seq of the agent's epoch accepted by rrdcached." },
    [A_DURABLE] = { "poenet_agent_durable_seq", "gauge",
                    "Highest batch seq of the agent's epoch on the archive's disk." },
    [A_SPOOL] = { "poenet_agent_spool_batches", "gauge",
                  "Batches the agent holds that are not yet durable (its heartbeat)." },
    [A_UNACKED_AGE] = { "poenet_agent_oldest_unacked_seconds", "gauge",
                        "Age of the oldest batch the agent still holds (its heartbeat)." },
    [A_BATCHES] = { "poenet_agent_batches_total", "counter",
                    "Batches of the agent archived by this collector." },
    [A_DUPS] = { "poenet_agent_duplicates_total", "counter",
                 "Batches of the agent received again after being archived." },
    [A_GAPS] = { "poenet_agent_gaps_total", "counter",
                 "Batches of the agent that arrived after a gap (resend asked)." },
    [A_DROPPED] = { "poenet_agent_dropped_batches_total", "counter",
                    "Batches the agent no longer held, skipped over." },
    [A_BAD_LINES] = { "poenet_agent_bad_lines", "gauge",
                      "Sensor lines the agent's current run reported rejecting." },
};

/* The value of metric m for session s; false when it has none (no data
 * yet), so no sample is written. */
static bool s_agent_value(const sess_t *s, s_agent_metric_t m, int64_t now_ms, double *v)
{
    switch (m) {
    case A_LAG:
        *v = (now_ms - s->newest_ms) / 1000.0;
        return s->newest_ms > 0;
    case A_SEEN:
        *v = (now_ms - s->last_seen_ms) / 1000.0;
        return s->last_seen_ms > 0;
    case A_UNACKED_AGE:
        *v = (now_ms - s->oldest_unacked_ms) / 1000.0;
        return s->oldest_unacked_ms > 0;
    case A_ACKED: *v = (double)s->acked_seq; return true;
    case A_DURABLE: *v = (double)s->durable_seq; return true;
    case A_SPOOL: *v = (double)s->spool_batches; return true;
    case A_BATCHES: *v = (double)s->batches; return true;
    case A_DUPS: *v = (double)s->duplicates; return true;
    case A_GAPS: *v = (double)s->gaps; return true;
    case A_DROPPED: *v = (double)s->dropped; return true;
    case A_BAD_LINES: *v = (double)s->bad_lines; return true;
    case A_COUNT: break;
    }
    return false;
}

static void s_agent_labels(textbuf_t *b, const char *name, const sess_t *s);

static void s_agent_sample(textbuf_t *b, const char *name, const sess_t *s, double v)
{
    s_agent_labels(b, name, s);
    /* %.17g keeps every integer below 2^53 exact and seconds to the ms. */
    textbuf_printf(b, "\"} %.17g\n", v);
}

static void s_agent_labels(textbuf_t *b, const char *name, const sess_t *s)
{
    textbuf_printf(b, "%s{crossing=\"", name);
    s_label_value(b, s->crossing);
    textbuf_append(b, "\",direction=\"");
    s_label_value(b, tax_dir_valid((int)s->dir) ? tax_dir_name(s->dir) : "unknown");
}

/* Samples refused per agent and reason: an alert can fire for one
 * crossing direction whose clock went wrong. */
static void s_agent_refused(textbuf_t *b, const sess_table_t *sess, size_t n)
{
    const char *name = "poenet_agent_refused_samples_total";
    s_family(b, name, "counter",
             "Samples of the agent refused by validation (acknowledged, never archived), by "
             "reason; the agent is told in its acks.");
    for (size_t i = 0; i < n; i++) {
        const sess_t *s = sess_at(sess, i);
        for (int r = 0; r < REJ_MAX; r++) {
            if (!stats_reject_is_sample((enum stats_reject)r))
                continue;
            s_agent_labels(b, name, s);
            textbuf_printf(b, "\",reason=\"%s\"} %" PRIu64 "\n",
                           stats_reject_name((enum stats_reject)r), s->refused[r]);
        }
    }
}

static void s_agents(textbuf_t *b, const sess_table_t *sess, int64_t now_ms)
{
    size_t n = sess ? sess_count(sess) : 0;
    s_family(b, "poenet_agents", "gauge", "Agent sessions (crossing directions) the collector knows.");
    textbuf_printf(b, "poenet_agents %zu\n", n);
    for (int m = 0; m < A_COUNT; m++) {
        s_family(b, s_agent_metrics[m].name, s_agent_metrics[m].type, s_agent_metrics[m].help);
        for (size_t i = 0; i < n; i++) {
            const sess_t *s = sess_at(sess, i);
            double v;
            if (s_agent_value(s, (s_agent_metric_t)m, now_ms, &v))
                s_agent_sample(b, s_agent_metrics[m].name, s, v);
        }
    }
    s_agent_refused(b, sess, n);
}

/* ---- observed hours (collector/observed.c) ----------------------------------- */

static void s_hours(textbuf_t *b, const observed_counters_t *h)
{
    s_family(b, "poenet_hours_tracks", "gauge",
             "Observed-hours tracks (crossing, side, mode with lanes), by what their learned schedule "
             "says: known, unknown; and those with bad input in their 35-day window: stuck (stuck-sensor "
             "days), flapping (flapping days), silent_week (hours kept at low confidence: no data for "
             "7 days), no_data.");
    textbuf_printf(b, "poenet_hours_tracks{state=\"known\"} %u\n", h->known);
    textbuf_printf(b, "poenet_hours_tracks{state=\"unknown\"} %u\n", h->tracks - h->known);
    textbuf_printf(b, "poenet_hours_tracks{state=\"stuck\"} %u\n", h->stuck);
    textbuf_printf(b, "poenet_hours_tracks{state=\"flapping\"} %u\n", h->flapping);
    textbuf_printf(b, "poenet_hours_tracks{state=\"silent_week\"} %u\n", h->silent_week);
    textbuf_printf(b, "poenet_hours_tracks{state=\"no_data\"} %u\n", h->silent);
    s_counter(b, "poenet_hours_minutes_total", "Minutes of lanes stored for the observed hours.",
              h->minutes);
    s_family(b, "poenet_hours_refused_total", "counter",
             "Input the observed hours refused, by reason: clock_ahead (minutes more than 5 min "
             "ahead of the clock), clock_back (intervals ending before one already folded), too_old "
             "(minutes before a track's window).");
    textbuf_printf(b, "poenet_hours_refused_total{reason=\"clock_ahead\"} %" PRIu64 "\n", h->clock_jumps);
    textbuf_printf(b, "poenet_hours_refused_total{reason=\"clock_back\"} %" PRIu64 "\n", h->clock_back);
    textbuf_printf(b, "poenet_hours_refused_total{reason=\"too_old\"} %" PRIu64 "\n", h->too_old);
    s_counter(b, "poenet_hours_stuck_lanes_total",
              "Lane types found open a day without a departure (a stuck sensor): their open minutes "
              "are unknown until they depart or close.", h->stuck_lanes);
    s_counter(b, "poenet_hours_relearns_total", "Observed-hours tracks learned.", h->relearns);
    s_gauge_ms(b, "poenet_hours_load_seconds", "Time the start-up load from the archive took.",
               (int64_t)(h->load_s * 1000));
    s_gauge_ms(b, "poenet_hours_relearn_seconds", "Work time of the last relearn pass.",
               (int64_t)h->last_refresh_ms);
}

/* The official importers (collector/importer.c), labelled by source. */
static void s_official(textbuf_t *b, const stats_t *st, int64_t now_ms)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } fam[] = {
        { "poenet_official_polls_total", "Requests to an official feed, retries included.",
          offsetof(stats_official_t, polls) },
        { "poenet_official_taken_total", "Official documents parsed and applied.",
          offsetof(stats_official_t, taken) },
        { "poenet_official_not_modified_total", "304 answers to a conditional GET.",
          offsetof(stats_official_t, not_modified) },
        { "poenet_official_refused_total", "Polls that ended without a usable document.",
          offsetof(stats_official_t, refused) },
    };
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        s_family(b, fam[f].name, "counter", fam[f].help);
        for (int i = 0; i < OFF_NSOURCES; i++)
            if (st->official[i].configured)
                textbuf_printf(b, "%s{source=\"%s\"} %" PRIu64 "\n", fam[f].name,
                         off_source_name((enum off_source)i),
                         *(const uint64_t *)((const char *)&st->official[i] + fam[f].off));
    }
    s_family(b, "poenet_official_rejected_total", "counter",
             "Official documents, ports and queues refused, by source and reason (as in /health).");
    for (int i = 0; i < OFF_NSOURCES; i++)
        for (int r = 0; st->official[i].configured && r < OFF_R_MAX; r++)
            textbuf_printf(b, "poenet_official_rejected_total{source=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
                     off_source_name((enum off_source)i), off_reason_name((enum off_reason)r),
                     st->official[i].reasons[r]);
    s_family(b, "poenet_official_last_ok_age_seconds", "gauge",
             "Seconds since an official feed last answered with a usable document or 304.");
    for (int i = 0; i < OFF_NSOURCES; i++)
        if (st->official[i].configured && st->official[i].last_ok_ms > 0)
            textbuf_printf(b, "poenet_official_last_ok_age_seconds{source=\"%s\"} %.3f\n",
                     off_source_name((enum off_source)i),
                     (now_ms - st->official[i].last_ok_ms) / 1000.0);
}

char *metrics_render(const stats_t *st, const sess_table_t *sess, const observed_counters_t *hours,
                     bool archive_connected, int64_t now_ms)
{
    textbuf_t *b = textbuf_new();
    s_collector(b, st, archive_connected, now_ms);
    if (hours)
        s_hours(b, hours);
    s_agents(b, sess, now_ms);
    s_official(b, st, now_ms);
    return textbuf_take(&b);
}
