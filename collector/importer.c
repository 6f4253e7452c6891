/* importer — see importer.h. libcurl's multi "socket" interface: curl
 * tells us which sockets to watch (s_on_socket) and when to call it back
 * (s_on_curl_timer); libevent watches them; finished transfers are picked
 * up in s_check_done. */
#include "importer.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "timeutil.h"

#define IMP_USER_AGENT "poenet-collector/1 (official wait-time importer; +https://github.com/poenet)"
#define IMP_MAX_REDIRS 5L
#define IMP_MIN_INTERVAL_S 60

typedef struct {
    struct importer *imp;
    enum off_source src;
    char *url;
    CURL *easy;                      /* the request in flight, or NULL */
    struct curl_slist *hdrs;
    char *body;
    size_t len, cap;
    bool too_large;
    char etag[256], last_modified[64];         /* of the last document taken */
    char new_etag[256], new_last_modified[64]; /* of the response in flight */
    int attempt;                     /* retries made since the last regular poll */
    int64_t started_ms;
    struct event *ev_timer;
} s_src_t;

struct importer {
    struct event_base *base;
    CURLM *multi;
    struct event *ev_curl_timer;
    importer_opts_t o;
    importer_apply_fn *apply;
    void *arg;
    s_src_t src[OFF_NSOURCES];
};

static void s_check_done(importer_t *self);

/* ---- libcurl ⇄ libevent ---------------------------------------------------- */

static void s_on_event(evutil_socket_t fd, short what, void *arg)
{
    importer_t *self = arg;
    int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(self->multi, fd, flags, &running);
    s_check_done(self);
}

static int s_on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)e;
    importer_t *self = userp;
    struct event *ev = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ev)
            event_free(ev);
        curl_multi_assign(self->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (ev) {
        event_del(ev);
        event_assign(ev, self->base, s, kind, s_on_event, self);
    } else {
        ev = event_new(self->base, s, kind, s_on_event, self);
        if (!ev)
            return -1;
        curl_multi_assign(self->multi, s, ev);
    }
    return event_add(ev, NULL);
}

static void s_on_curl_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    importer_t *self = arg;
    int running;
    curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(self);
}

static int s_on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    importer_t *self = userp;
    if (timeout_ms < 0)
        return evtimer_del(self->ev_curl_timer);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return evtimer_add(self->ev_curl_timer, &tv);
}

/* ---- one request --------------------------------------------------------- */

static size_t s_on_body(char *ptr, size_t size, size_t n, void *arg)
{
    s_src_t *s = arg;
    size_t add = size * n;
    if (s->len + add > OFF_MAX_DOC_BYTES) {
        s->too_large = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *b = realloc(s->body, cap);
        if (!b)
            return 0;
        s->body = b;
        s->cap = cap;
    }
    memcpy(s->body + s->len, ptr, add);
    s->len += add;
    s->body[s->len] = 0;
    return add;
}

/* Keep the validators of the final response (a redirect's are dropped). */
static size_t s_on_header(char *buf, size_t size, size_t n, void *arg)
{
    s_src_t *s = arg;
    size_t len = size * n;
    char line[320];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, l);
    line[l] = 0;
    while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == '\n'))
        line[--l] = 0;
    if (strncasecmp(line, "HTTP/", 5) == 0) {
        s->new_etag[0] = s->new_last_modified[0] = 0;
    } else if (strncasecmp(line, "ETag:", 5) == 0) {
        const char *v = line + 5 + strspn(line + 5, " \t");
        snprintf(s->new_etag, sizeof s->new_etag, "%s", v);
    } else if (strncasecmp(line, "Last-Modified:", 14) == 0) {
        const char *v = line + 14 + strspn(line + 14, " \t");
        snprintf(s->new_last_modified, sizeof s->new_last_modified, "%s", v);
    }
    return len;
}

static void s_schedule(s_src_t *s, long delay_s)
{
    struct timeval tv = { delay_s, 0 };
    evtimer_add(s->ev_timer, &tv);
}

static void s_start(s_src_t *s)
{
    importer_t *self = s->imp;
    if (s->easy)
        return; /* one request at a time per source */
    stats_official_t *st = &self->o.stats->official[s->src];
    s->len = 0;
    s->too_large = false;
    s->new_etag[0] = s->new_last_modified[0] = 0;
    s->easy = curl_easy_init();
    if (!s->easy) {
        st->reasons[OFF_R_TRANSPORT]++;
        s_schedule(s, self->o.interval_s);
        return;
    }
    char h[320];
    if (s->etag[0]) {
        snprintf(h, sizeof h, "If-None-Match: %s", s->etag);
        s->hdrs = curl_slist_append(s->hdrs, h);
    }
    if (s->last_modified[0]) {
        snprintf(h, sizeof h, "If-Modified-Since: %s", s->last_modified);
        s->hdrs = curl_slist_append(s->hdrs, h);
    }
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding libcurl decodes */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, self->o.connect_timeout_s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, self->o.total_timeout_s);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, IMP_MAX_REDIRS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, IMP_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    s->started_ms = tu_mono_ms();
    st->polls++;
    st->last_attempt_ms = tu_now_ms();
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        s->easy = NULL;
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
static int s_take(s_src_t *s, enum off_reason *why)
{
    importer_t *self = s->imp;
    stats_official_t *st = &self->o.stats->official[s->src];
    int64_t t0 = tu_mono_ms();
    int64_t now_s = tu_now_ms() / 1000;
    off_doc_t doc;
    int rc = s->src == OFF_CBP ? off_parse_cbp(s->body ? s->body : "", s->len, self->o.registry, now_s, &doc)
                               : off_parse_cbsa(s->body ? s->body : "", s->len, self->o.registry, now_s, &doc);
    for (int r = 0; r < OFF_R_MAX; r++)
        st->reasons[r] += doc.reasons[r];
    if (rc == 0) {
        self->apply(self->arg, s->src, &doc, now_s);
        st->ports = doc.ports;
        st->ports_imported = doc.ports_imported;
        st->queues = doc.n;
        snprintf(s->etag, sizeof s->etag, "%s", s->new_etag);
        snprintf(s->last_modified, sizeof s->last_modified, "%s", s->new_last_modified);
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

static void s_finish(s_src_t *s, CURLcode res)
{
    importer_t *self = s->imp;
    stats_official_t *st = &self->o.stats->official[s->src];
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(self->multi, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    st->last_duration_ms = tu_mono_ms() - s->started_ms;
    st->last_http_status = (int)code;
    bool ok = false, retry = false;
    enum off_reason why = OFF_R_TRANSPORT;
    if (res == CURLE_OK && code == 304) {
        st->not_modified++;
        ok = true;
        self->apply(self->arg, s->src, NULL, tu_now_ms() / 1000);
    } else if (res == CURLE_OK && code >= 200 && code < 300) {
        ok = s_take(s, &why) == 0;
        if (ok)
            st->taken++;
    } else if (res == CURLE_OK) {
        why = OFF_R_HTTP_STATUS;
        retry = code >= 500 || code == 429;
        st->reasons[why]++;
    } else {
        why = res == CURLE_OPERATION_TIMEDOUT  ? OFF_R_TIMEOUT
              : res == CURLE_TOO_MANY_REDIRECTS ? OFF_R_REDIRECTS
              : s->too_large                    ? OFF_R_TOO_LARGE
                                                : OFF_R_TRANSPORT;
        retry = why == OFF_R_TIMEOUT || why == OFF_R_TRANSPORT;
        st->reasons[why]++;
    }
    if (ok) {
        st->last_ok_ms = tu_now_ms();
        s->attempt = 0;
        s_schedule(s, self->o.interval_s);
        return;
    }
    st->refused++;
    log_warn("official %s: %s (%s, HTTP %ld, %s); the last good values stay",
             off_source_name(s->src), off_reason_name(why), s->url, code,
             res == CURLE_OK ? "transfer complete" : curl_easy_strerror(res));
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

static void s_check_done(importer_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_src_t *s = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (s)
            s_finish(s, msg->data.result);
    }
}

/* ---- life cycle ------------------------------------------------------------ */

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
    /* Once per process, from the thread that builds the collector (libcurl's
     * global init is not thread-safe). */
    static bool s_global;
    if (!s_global) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        s_global = true;
    }
    importer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->o = *opts;
    self->apply = apply;
    self->arg = arg;
    self->multi = curl_multi_init();
    self->ev_curl_timer = evtimer_new(base, s_on_curl_timeout, self);
    if (!self->multi || !self->ev_curl_timer) {
        importer_destroy(&self);
        return NULL;
    }
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_on_curl_timer);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
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
        if (self->src[i].url && !self->src[i].easy) {
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
        if (s->easy) {
            curl_multi_remove_handle(self->multi, s->easy);
            curl_easy_cleanup(s->easy);
        }
        curl_slist_free_all(s->hdrs);
        if (s->ev_timer)
            event_free(s->ev_timer);
        free(s->url);
        free(s->body);
    }
    if (self->multi)
        curl_multi_cleanup(self->multi);
    if (self->ev_curl_timer)
        event_free(self->ev_curl_timer);
    free(self);
    *self_p = NULL;
}
