/* http_snap — see http_snap.h. Documents are kept sorted by (kind, id)
 * so a worker finds one by binary search; the per-crossing ones are
 * rendered for every crossing of the state (the registry's). */
#include "http_snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "feed_hours.h"
#include "frag.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"
#include "view_cbp.h"
#include "view_cbsa.h"

struct http_snap {
    atomic_uint refs;
    uint64_t version;
    int64_t second;
    uint64_t feed_seq;
    int64_t mono_ms;                /* the render's monotonic time */
    http_cache_body_t *health, *metrics;
    size_t n, cap;
    http_snap_doc_t *docs;
};

static int s_cmp_doc(const void *a, const void *b)
{
    const http_snap_doc_t *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->id, y->id);
}

struct http_snap_frags {
    frag_cache_t *feed, *cbp, *xml;
    /* the render's /v1 envelope and XML head (they hold the time), made
     * once for its documents; NULL when out of memory */
    char *envelope, *xml_head;
};

http_snap_frags_t *http_snap_frags_new(void)
{
    http_snap_frags_t *self = calloc(1, sizeof *self);
    if (!self || !(self->feed = frag_cache_new(feed_crossing_fragment, NULL)) ||
        !(self->cbp = frag_cache_new(view_cbp_port_fragment, view_cbp_port_time)) ||
        !(self->xml = frag_cache_new(view_cbp_xml_fragment, NULL))) {
        log_error("http: out of memory");
        http_snap_frags_destroy(&self);
        return NULL;
    }
    return self;
}

void http_snap_frags_destroy(http_snap_frags_t **self_p)
{
    http_snap_frags_t *self = *self_p;
    if (!self)
        return;
    frag_cache_destroy(&self->feed);
    frag_cache_destroy(&self->cbp);
    frag_cache_destroy(&self->xml);
    free(self->envelope);
    free(self->xml_head);
    free(self);
    *self_p = NULL;
}

void http_snap_frags_rendered(const http_snap_frags_t *self, size_t *feed, size_t *cbp,
                              size_t *xml, size_t *count)
{
    *feed = frag_cache_rendered(self->feed);
    *cbp = frag_cache_rendered(self->cbp);
    *xml = frag_cache_rendered(self->xml);
    *count = frag_cache_count(self->feed);
}

/* The index of crossing id in the state (the fragments' order); the
 * state's count when unknown. */
static size_t s_index(state_t *st, const char *id)
{
    const xstate_t *x = id ? state_find(st, id) : NULL;
    return x ? (size_t)(x - state_at(st, 0)) : state_count(st);
}

/* The envelope and head of a render at now_ms, made once for its steps
 * and documents. */
static void s_envelopes(http_snap_frags_t *fr, const http_snap_src_t *src, int64_t now_ms)
{
    free(fr->envelope);
    free(fr->xml_head);
    fr->envelope = feed_crossings_envelope(now_ms);
    fr->xml_head = view_cbp_xml_head(src->state, now_ms);
    /* /v1/crossings/{id} and CBP's port documents made as each fragment
     * is (frag.h): the envelope around the fragment */
    (void)frag_cache_docs_in(fr->feed, fr->envelope);
    (void)frag_cache_docs(fr->cbp, "", "");
}

void http_snap_frags_begin(http_snap_frags_t *self, const http_snap_src_t *src, int64_t now_ms)
{
    s_envelopes(self, src, now_ms);
    frag_cache_restart(self->feed);
    frag_cache_restart(self->cbp);
    frag_cache_restart(self->xml);
}

bool http_snap_frags_step(http_snap_frags_t *self, const http_snap_src_t *src, int64_t now_ms,
                          int64_t deadline_mono_ms)
{
    frag_cache_t *c[] = { self->feed, self->cbp, self->xml };
    bool done = true;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        /* out of memory (-1) counts as done: the render tries once more */
        if (frag_cache_step(c[i], src->state, now_ms, src->stale_after_ms, deadline_mono_ms) == 0)
            done = false;
        if (!done && tu_mono_ms() >= deadline_mono_ms)
            break;
    }
    return done;
}

/* Bring the fragments of src up to date at now_ms, with the envelope and
 * head of this render. Out of memory for one fails the documents that
 * hold it (no body), as a whole render would; logged by frag. After
 * steps (http_snap_frags_step) at the same now_ms, only what changed
 * since is rendered. */
static void s_update_frags(const http_snap_src_t *src, int64_t now_ms)
{
    http_snap_frags_t *fr = src->frags;
    s_envelopes(fr, src, now_ms);
    (void)frag_cache_update(fr->feed, src->state, now_ms, src->stale_after_ms);
    (void)frag_cache_update(fr->cbp, src->state, now_ms, src->stale_after_ms);
    (void)frag_cache_update(fr->xml, src->state, now_ms, src->stale_after_ms);
}

/* Whether kind is made of fragments when there are some (src->frags). */
static bool s_of_frags(enum route_kind kind)
{
    return kind == ROUTE_CROSSINGS || kind == ROUTE_CBP_XML || kind == ROUTE_CBP_BWTNEW;
}

/* A document made of fragments (s_of_frags), one reference; the big ones
 * written straight into their memfds. NULL when out of memory. */
static http_cache_body_t *s_render_frags(const http_snap_src_t *src, enum route_kind kind)
{
    const http_snap_frags_t *fr = src->frags;
    size_t n = state_count(src->state);
    switch (kind) {
    case ROUTE_CROSSINGS: return frag_cache_join(fr->feed, fr->envelope, 0, n);
    case ROUTE_CBP_XML:
        return frag_cache_wrap(fr->xml, fr->xml_head, "", VIEW_CBP_XML_TAIL, 0, n);
    case ROUTE_CBP_BWTNEW: return frag_cache_join(fr->cbp, "[]", 0, n);
    default: return NULL;
    }
}

/* A malloc'ed body of kind (id for per-crossing views), its length in *len. */
static char *s_render(const http_snap_src_t *src, enum route_kind kind, const char *id,
                      int64_t now_ms, size_t *len)
{
    state_t *st = src->state;
    int64_t stale = src->stale_after_ms;
    char *out = NULL;
    switch (kind) {
    case ROUTE_CROSSINGS: out = feed_crossings_json(st, now_ms, stale, NULL); break;
    case ROUTE_CROSSING: out = feed_crossings_json(st, now_ms, stale, id); break;
    case ROUTE_CBP_XML: return view_cbp_xml(st, now_ms, stale, len);
    case ROUTE_CBP_BWTNEW: out = view_cbp_json(st, now_ms, stale, NULL); break;
    case ROUTE_CBP_PORT: out = view_cbp_json(st, now_ms, stale, id); break;
    case ROUTE_CBSA_CSV: out = view_cbsa_csv(st, now_ms, stale); break;
    case ROUTE_CBSA_JSON: out = view_cbsa_json(st, now_ms, stale); break;
    case ROUTE_CBSA_CSV_FR: out = view_cbsa_csv_lang(st, now_ms, stale, VIEW_CBSA_FR); break;
    case ROUTE_CBSA_JSON_FR: out = view_cbsa_json_lang(st, now_ms, stale, VIEW_CBSA_FR); break;
    case ROUTE_HOURS: out = feed_hours_json(src->registry, src->observed, now_ms / 1000, NULL); break;
    case ROUTE_HOURS_ONE: out = feed_hours_json(src->registry, src->observed, now_ms / 1000, id); break;
    case ROUTE_MISMATCHES:
        out = feed_mismatches_json(src->registry, src->observed, now_ms / 1000);
        break;
    default: break;
    }
    if (out)
        *len = strlen(out);
    return out;
}

/* Render one document into self. A per-crossing view that renders nothing
 * (memory, or a port CBP's view does not list) is kept with no body, so the
 * crossing is still known. Returns -1 only when the table cannot grow. */
static int s_add(http_snap_t *self, const http_snap_src_t *src, const http_snap_t *prev,
                 enum route_kind kind, const char *id, int64_t now_ms)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        http_snap_doc_t *d = realloc(self->docs, cap * sizeof *d);
        if (!d)
            return -1;
        self->docs = d;
        self->cap = cap;
    }
    http_snap_doc_t *doc = &self->docs[self->n];
    memset(doc, 0, sizeof *doc);
    doc->kind = kind;
    snprintf(doc->id, sizeof doc->id, "%s", id ? id : "");
    doc->ctype = kind == ROUTE_CBP_XML    ? HTTP_CT_XML
                 : kind == ROUTE_CBSA_CSV || kind == ROUTE_CBSA_CSV_FR ? HTTP_CT_CSV
                                          : HTTP_CT_JSON;
    doc->cache = HTTP_CACHE_LIVE;
    doc->version = self->version;
    doc->second = self->second;
    uint64_t ov = src->observed ? observed_version(src->observed) : 0;
    if (kind == ROUTE_HOURS || kind == ROUTE_HOURS_ONE) {
        /* The registry never changes while running; the observed hours
         * change when relearned. */
        int64_t os = src->observed ? observed_changed_s(src->observed) : 0;
        doc->cache = HTTP_CACHE_HOURS;
        doc->version = ov;
        doc->second = os > src->started_s ? os : src->started_s;
    } else if (kind == ROUTE_MISMATCHES) {
        /* Windows are per week: a new representation once an hour at most,
         * or when the observed hours change. */
        doc->cache = HTTP_CACHE_HOURS;
        doc->version = 1 + ov;
        doc->second = now_ms / 1000 / 3600 * 3600;
    }
    atomic_init(&doc->gz, NULL);
    http_snap_doc_t *old = prev && (kind == ROUTE_HOURS || kind == ROUTE_HOURS_ONE ||
                                    kind == ROUTE_MISMATCHES)
                               ? http_snap_find(prev, kind, id)
                               : NULL;
    if (old && old->plain && old->version == doc->version && old->second == doc->second) {
        /* The same representation: shared, with its gzip form if made. */
        doc->plain = old->plain;
        http_cache_body_ref(doc->plain);
        http_cache_body_t *gz = atomic_load_explicit(&old->gz, memory_order_acquire);
        if (gz)
            http_cache_body_ref(gz);
        atomic_store_explicit(&doc->gz, gz, memory_order_relaxed);
    } else if (kind == ROUTE_CROSSING && src->frags) {
        doc->plain = frag_cache_doc(src->frags->feed, s_index(src->state, doc->id));
    } else if (kind == ROUTE_CBP_PORT && src->frags) {
        doc->plain = frag_cache_doc(src->frags->cbp, s_index(src->state, doc->id));
    } else if (src->frags && s_of_frags(kind)) {
        doc->plain = s_render_frags(src, kind);
    } else {
        size_t len = 0;
        char *data = s_render(src, kind, doc->id[0] ? doc->id : NULL, now_ms, &len);
        doc->plain = http_cache_body_new(data, len);
        /* /v1/hours and the mismatches stay for many snapshots (until the
         * observed hours change): held in a memfd, not the heap, as the
         * big documents are (collector/http.c; /v1/hours is 1.5 MB at
         * 10,000 series, docs/performance.md §1m). Failing, it stays. */
        if (doc->plain && (kind == ROUTE_HOURS || kind == ROUTE_MISMATCHES) &&
            len >= HTTP_CACHE_MEMFD_MIN)
            (void)http_cache_body_fd(doc->plain);
    }
    self->n++;
    return 0;
}

/* The render time and /health's and /metrics' bodies of src, referenced. */
static void s_take_ops(http_snap_t *self, const http_snap_src_t *src)
{
    self->mono_ms = src->mono_ms;
    if ((self->health = src->health))
        http_cache_body_ref(self->health);
    if ((self->metrics = src->metrics))
        http_cache_body_ref(self->metrics);
}

http_snap_t *http_snap_render(const http_snap_src_t *src, const http_snap_t *prev,
                              int64_t now_ms)
{
    http_snap_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("http: out of memory publishing the feed");
        return NULL;
    }
    atomic_init(&self->refs, 1);
    self->version = state_version(src->state);
    self->second = now_ms / 1000;
    self->feed_seq = src->feed_seq;
    if (src->keep_ops && prev) {
        http_snap_src_t ops = { .health = prev->health, .metrics = prev->metrics,
                                .mono_ms = prev->mono_ms };
        s_take_ops(self, &ops);
    } else {
        s_take_ops(self, src);
    }
    if (src->frags)
        s_update_frags(src, now_ms);
    static const enum route_kind whole[] = { ROUTE_CROSSINGS, ROUTE_CBP_XML, ROUTE_CBP_BWTNEW,
                                             ROUTE_CBSA_CSV, ROUTE_CBSA_JSON, ROUTE_CBSA_CSV_FR,
                                             ROUTE_CBSA_JSON_FR };
    int rc = 0;
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        rc |= s_add(self, src, prev, whole[i], NULL, now_ms);
    if (src->registry) {
        rc |= s_add(self, src, prev, ROUTE_HOURS, NULL, now_ms);
        rc |= s_add(self, src, prev, ROUTE_MISMATCHES, NULL, now_ms);
    }
    for (size_t i = 0; i < state_count(src->state); i++) {
        const char *id = state_at(src->state, i)->reg->id;
        rc |= s_add(self, src, prev, ROUTE_CROSSING, id, now_ms);
        rc |= s_add(self, src, prev, ROUTE_CBP_PORT, id, now_ms);
        if (src->registry)
            rc |= s_add(self, src, prev, ROUTE_HOURS_ONE, id, now_ms);
    }
    if (rc != 0 || !self->docs) {
        log_error("http: out of memory publishing the feed");
        http_snap_unref(self);
        return NULL;
    }
    qsort(self->docs, self->n, sizeof *self->docs, s_cmp_doc);
    return self;
}

http_snap_t *http_snap_with_ops(const http_snap_t *prev, const http_snap_src_t *src)
{
    http_snap_t *self = calloc(1, sizeof *self);
    http_snap_doc_t *docs = prev->n ? malloc(prev->n * sizeof *docs) : NULL;
    if (!self || (prev->n && !docs)) {
        log_error("http: out of memory publishing /health");
        free(self);
        free(docs);
        return NULL;
    }
    atomic_init(&self->refs, 1);
    self->version = prev->version;
    self->second = prev->second;
    self->feed_seq = prev->feed_seq;
    s_take_ops(self, src);
    for (size_t i = 0; i < prev->n; i++) {
        const http_snap_doc_t *o = &prev->docs[i];
        http_snap_doc_t *d = &docs[i];
        memcpy(d, o, offsetof(http_snap_doc_t, gz)); /* every field before the atomic one */
        if (d->plain)
            http_cache_body_ref(d->plain);
        /* A worker may install prev's gzip form meanwhile: either we see
         * it here, or a worker asking this snapshot makes its own. */
        http_cache_body_t *gz = atomic_load_explicit(&o->gz, memory_order_acquire);
        if (gz)
            http_cache_body_ref(gz);
        atomic_init(&d->gz, gz);
    }
    self->docs = docs;
    self->n = self->cap = prev->n;
    return self;
}

http_snap_t *http_snap_with_ops_of(const http_snap_t *prev, const http_snap_t *ops)
{
    http_snap_src_t src = { .health = ops->health, .metrics = ops->metrics,
                            .mono_ms = ops->mono_ms };
    return http_snap_with_ops(prev, &src);
}

int64_t http_snap_mono_ms(const http_snap_t *self) { return self->mono_ms; }

void http_snap_ref(http_snap_t *self)
{
    atomic_fetch_add_explicit(&self->refs, 1, memory_order_relaxed);
}

void http_snap_unref(http_snap_t *self)
{
    if (!self || atomic_fetch_sub_explicit(&self->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < self->n; i++) {
        http_cache_body_unref(self->docs[i].plain);
        http_cache_body_unref(atomic_load_explicit(&self->docs[i].gz, memory_order_acquire));
    }
    http_cache_body_unref(self->health);
    http_cache_body_unref(self->metrics);
    free(self->docs);
    free(self);
}

uint64_t http_snap_version(const http_snap_t *self) { return self->version; }
int64_t http_snap_second(const http_snap_t *self) { return self->second; }
uint64_t http_snap_feed_seq(const http_snap_t *self) { return self->feed_seq; }

bool http_snap_stuck(int64_t published_mono_ms, int64_t now_mono_ms, int64_t limit_ms)
{
    return now_mono_ms - published_mono_ms > limit_ms;
}

void http_snap_ops_answer(const http_snap_t *self, enum route_kind kind, int64_t now_mono_ms,
                          http_snap_answer_t *out)
{
    int64_t age_ms = now_mono_ms - self->mono_ms;
    if (age_ms < 0) /* rendered after this worker read the clock */
        age_ms = 0;
    *out = (http_snap_answer_t){ .code = 200, .cache = HTTP_CACHE_NONE, .age_s = age_ms / 1000 };
    if (http_snap_stuck(self->mono_ms, now_mono_ms, HTTP_SNAP_STUCK_MS)) {
        char why[96];
        snprintf(why, sizeof why, "main loop has not published for %.1f s", age_ms / 1000.0);
        char *json = feed_error_json(503, why);
        *out = (http_snap_answer_t){ .code = 503, .ctype = HTTP_CT_JSON,
                                     .cache = HTTP_CACHE_NONE, .age_s = -1,
                                     .body = json ? http_cache_body_new(json, strlen(json)) : NULL };
        return;
    }
    if (kind == ROUTE_METRICS) {
        out->ctype = METRICS_CONTENT_TYPE;
        out->body = self->metrics;
    } else {
        out->ctype = HTTP_CT_JSON;
        out->body = self->health;
    }
    if (out->body)
        http_cache_body_ref(out->body);
}

http_snap_doc_t *http_snap_find(const http_snap_t *self, enum route_kind kind, const char *id)
{
    http_snap_doc_t key = { .kind = kind == ROUTE_CBP_WAITTIMES ? ROUTE_CBP_BWTNEW : kind };
    if (key.kind == ROUTE_CROSSING || key.kind == ROUTE_CBP_PORT || key.kind == ROUTE_HOURS_ONE)
        snprintf(key.id, sizeof key.id, "%s", id ? id : "");
    return bsearch(&key, self->docs, self->n, sizeof *self->docs, s_cmp_doc);
}

size_t http_snap_count(const http_snap_t *self) { return self->n; }

http_snap_doc_t *http_snap_at(const http_snap_t *self, size_t i)
{
    return i < self->n ? &self->docs[i] : NULL;
}

http_cache_body_t *http_snap_doc_gz(http_snap_doc_t *doc)
{
    http_cache_body_t *gz = atomic_load_explicit(&doc->gz, memory_order_acquire);
    if (!gz && doc->plain) {
        http_cache_body_t *made = http_cache_body_gzip(doc->plain);
        if (!made)
            return NULL;
        http_cache_body_t *expected = NULL;
        /* Two threads may race to make it: the loser drops its own. */
        if (atomic_compare_exchange_strong_explicit(&doc->gz, &expected, made,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            gz = made;
        } else {
            http_cache_body_unref(made);
            gz = expected;
        }
    }
    if (gz)
        http_cache_body_ref(gz);
    return gz;
}

int http_snap_gzip_from(http_snap_t *self, size_t min_len)
{
    int rc = 0;
    for (size_t i = 0; i < self->n; i++) {
        const http_cache_body_t *plain = self->docs[i].plain;
        if (!plain || plain->len < min_len)
            continue;
        http_cache_body_t *gz = http_snap_doc_gz(&self->docs[i]);
        rc |= gz ? 0 : -1;
        http_cache_body_unref(gz);
    }
    return rc;
}
