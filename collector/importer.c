/* importer — see importer.h. Each poll is one poe-fetch child
 * (collector/fetch.c); its answer comes back on the loop in s_on_answer. */
#include "importer.h"

#include <event2/event.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "timeutil.h"

#define IMP_USER_AGENT "poenet-collector/1 (official wait-time importer; +https://github.com/poenet)"
#define IMP_MAX_REDIRS 5L
#define IMP_MIN_INTERVAL_S 60

typedef struct {
    struct importer *imp;
    enum off_source src;
    char *url;
    fetch_t *fetch;                  /* the request in flight, or NULL */
    char etag[256], last_modified[64]; /* of the last document taken */
    int attempt;                     /* retries made since the last regular poll */
    int64_t started_ms;
    struct event *ev_timer;
} s_src_t;

struct importer {
    struct event_base *base;
    importer_opts_t o;
    char helper[4096];
    importer_apply_fn *apply;
    void *arg;
    s_src_t src[OFF_NSOURCES];
};

/* ---- one request --------------------------------------------------------- */

static void s_on_answer(void *arg, const fetch_answer_t *a);

static void s_schedule(s_src_t *s, long delay_s)
{
    struct timeval tv = { delay_s, 0 };
    evtimer_add(s->ev_timer, &tv);
}

static void s_start(s_src_t *s)
{
    importer_t *self = s->imp;
    if (s->fetch)
        return; /* one request at a time per source */
    stats_official_t *st = &self->o.stats->official[s->src];
    fetch_req_t req = { .helper = self->helper, .url = s->url, .user_agent = IMP_USER_AGENT,
                        .if_none_match = s->etag, .if_modified_since = s->last_modified,
                        .connect_timeout_s = self->o.connect_timeout_s,
                        .total_timeout_s = self->o.total_timeout_s,
                        .max_redirects = IMP_MAX_REDIRS, .max_bytes = OFF_MAX_DOC_BYTES };
    s->started_ms = tu_mono_ms();
    st->polls++;
    st->last_attempt_ms = tu_now_ms();
    s->fetch = fetch_new(self->base, &req, s_on_answer, s);
    if (!s->fetch) {
        st->reasons[OFF_R_TRANSPORT]++;
        s_schedule(s, self->o.interval_s);
    }
}

static void s_on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_start(arg);
}

/* Parse and apply a 200 body. Returns 0 when taken, else the reason. */
static int s_take(s_src_t *s, const fetch_answer_t *a, enum off_reason *why)
{
    importer_t *self = s->imp;
    stats_official_t *st = &self->o.stats->official[s->src];
    int64_t t0 = tu_mono_ms();
    int64_t now_s = tu_now_ms() / 1000;
    off_doc_t doc;
    int rc = s->src == OFF_CBP ? off_parse_cbp(a->body, a->len, self->o.registry, now_s, &doc)
                               : off_parse_cbsa(a->body, a->len, self->o.registry, now_s, &doc);
    for (int r = 0; r < OFF_R_MAX; r++)
        st->reasons[r] += doc.reasons[r];
    if (rc == 0) {
        self->apply(self->arg, s->src, &doc, now_s);
        st->ports = doc.ports;
        st->ports_imported = doc.ports_imported;
        st->queues = doc.n;
        snprintf(s->etag, sizeof s->etag, "%s", a->etag);
        snprintf(s->last_modified, sizeof s->last_modified, "%s", a->last_modified);
        for (int r = OFF_R_FIRST_ITEM; r < OFF_R_MAX; r++)
            if (doc.reasons[r])
                log_warn("official %s: %" PRIu64 " skipped: %s", off_source_name(s->src),
                         doc.reasons[r], off_reason_name((enum off_reason)r));
    } else {
        *why = doc.refused_why;
    }
    off_doc_free(&doc);
    st->last_parse_us = (tu_mono_ms() - t0) * 1000; /* ms resolution */
    return rc;
}

static void s_on_answer(void *arg, const fetch_answer_t *a)
{
    s_src_t *s = arg;
    importer_t *self = s->imp;
    stats_official_t *st = &self->o.stats->official[s->src];
    long code = a->http;
    st->last_duration_ms = tu_mono_ms() - s->started_ms;
    st->last_http_status = (int)code;
    bool ok = false, retry = false;
    enum off_reason why = OFF_R_TRANSPORT;
    if (a->outcome == FETCH_DONE && code == 304) {
        st->not_modified++;
        ok = true;
        self->apply(self->arg, s->src, NULL, tu_now_ms() / 1000);
    } else if (a->outcome == FETCH_DONE && code >= 200 && code < 300) {
        ok = s_take(s, a, &why) == 0;
        if (ok)
            st->taken++;
    } else if (a->outcome == FETCH_DONE) {
        why = OFF_R_HTTP_STATUS;
        retry = code >= 500 || code == 429;
        st->reasons[why]++;
    } else {
        why = a->outcome == FETCH_TIMEOUT     ? OFF_R_TIMEOUT
              : a->outcome == FETCH_REDIRECTS ? OFF_R_REDIRECTS
              : a->outcome == FETCH_TOO_LARGE ? OFF_R_TOO_LARGE
                                              : OFF_R_TRANSPORT;
        retry = why == OFF_R_TIMEOUT || why == OFF_R_TRANSPORT;
        st->reasons[why]++;
    }
    if (!ok)
        log_warn("official %s: %s (%s, HTTP %ld, %s); the last good values stay",
                 off_source_name(s->src), off_reason_name(why), s->url, code,
                 a->outcome == FETCH_DONE ? "transfer complete" : a->error);
    fetch_destroy(&s->fetch); /* the answer is not used past here */
    if (ok) {
        st->last_ok_ms = tu_now_ms();
        s->attempt = 0;
        s_schedule(s, self->o.interval_s);
        return;
    }
    st->refused++;
    if (retry && s->attempt < self->o.retries) {
        long delay = self->o.backoff_s << s->attempt;
        s->attempt++;
        st->retries++;
        s_schedule(s, delay < self->o.interval_s ? delay : self->o.interval_s);
    } else {
        s->attempt = 0;
        s_schedule(s, self->o.interval_s);
    }
}

/* ---- life cycle ------------------------------------------------------------ */

static const char *s_helper(const importer_opts_t *o)
{
    return o->fetch_helper && o->fetch_helper[0] ? o->fetch_helper : fetch_default_helper();
}

int importer_check_opts(const importer_opts_t *o)
{
    if (o->interval_s < IMP_MIN_INTERVAL_S) {
        log_error("--official-interval %ld: the official feeds may be polled at most once a minute",
                  o->interval_s);
        return -1;
    }
    if (o->connect_timeout_s < 1 || o->total_timeout_s < 1 || o->total_timeout_s < o->connect_timeout_s) {
        log_error("official importer: timeouts must be >= 1 s, the total >= the connect timeout");
        return -1;
    }
    if (o->retries < 0 || o->retries > 10 || o->backoff_s < 1) {
        log_error("official importer: retries 0..10 and a backoff >= 1 s");
        return -1;
    }
    for (int i = 0; i < OFF_NSOURCES; i++)
        if (o->url[i] && o->url[i][0] && strncmp(o->url[i], "http://", 7) != 0 &&
            strncmp(o->url[i], "https://", 8) != 0) {
            log_error("official %s URL '%s' is not http:// or https://",
                      off_source_name((enum off_source)i), o->url[i]);
            return -1;
        }
    const char *helper = s_helper(o);
    if (access(helper, X_OK) != 0) {
        log_error("official importer: the fetch helper '%s' cannot be run (%s); install "
                  "poe-fetch beside poe-collector or on PATH, or name it with official-fetcher",
                  helper[0] ? helper : "poe-fetch",
                  helper[0] ? strerror(errno) : "the collector's own path is unknown");
        return -1;
    }
    return 0;
}

importer_t *importer_new(struct event_base *base, const importer_opts_t *opts,
                         importer_apply_fn *apply, void *arg)
{
    bool any = false;
    for (int i = 0; i < OFF_NSOURCES; i++)
        any |= opts->url[i] && opts->url[i][0];
    if (!any || importer_check_opts(opts) != 0)
        return NULL;
    importer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->o = *opts;
    self->apply = apply;
    self->arg = arg;
    snprintf(self->helper, sizeof self->helper, "%s", s_helper(opts));
    for (int i = 0; i < OFF_NSOURCES; i++) {
        s_src_t *s = &self->src[i];
        s->imp = self;
        s->src = (enum off_source)i;
        if (!opts->url[i] || !opts->url[i][0])
            continue;
        s->url = strdup(opts->url[i]);
        s->ev_timer = evtimer_new(base, s_on_poll_timer, s);
        if (!s->url || !s->ev_timer) {
            importer_destroy(&self);
            return NULL;
        }
        opts->stats->official[i].configured = true;
        s_schedule(s, 0);
        log_info("official %s: polling %s every %ld s", off_source_name(s->src), s->url,
                 opts->interval_s);
    }
    return self;
}

void importer_poll_now(importer_t *self)
{
    for (int i = 0; self && i < OFF_NSOURCES; i++)
        if (self->src[i].url && !self->src[i].fetch) {
            evtimer_del(self->src[i].ev_timer);
            s_start(&self->src[i]);
        }
}

void importer_destroy(importer_t **self_p)
{
    importer_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < OFF_NSOURCES; i++) {
        s_src_t *s = &self->src[i];
        fetch_destroy(&s->fetch);
        if (s->ev_timer)
            event_free(s->ev_timer);
        free(s->url);
    }
    free(self);
    *self_p = NULL;
}
