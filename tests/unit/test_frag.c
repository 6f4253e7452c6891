/* test_frag — the per-crossing fragments renders keep (collector/frag.c)
 * give byte for byte the documents a whole render gives: every document
 * of a snapshot rendered with the fragments and from scratch at the same
 * state and wall time, over a state that changes (measured intervals
 * through both commit paths, forecast runs, official values, notices)
 * while the wall time moves by steps from 1 ms to a minute across
 * staleness limits, the hours' closing minute, notice windows and official
 * values ageing. The fragments must actually be kept (otherwise the test
 * proves nothing) and a queue turning stale inside a second must show
 * stale at once, a port's date change at its midnight, while CBP's
 * per-second clock alone keeps the rest. Every change counted on its own
 * crossing. Joining: envelope without "[]", a missing fragment; a hole
 * filled once a second; a crossing's own document holding its fragment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcstore.h"
#include "feed.h"
#include "frag.h"
#include "http_snap.h"
#include "notices.h"
#include "registry.h"
#include "state.h"
#include "view_cbp.h"

#define STALE_MS 20000
#define OFF_STALE_S 30
/* 2022-10-17T21:58:30Z: 17:58:30 in New York, where Calais' US side closes
 * at 18:00 */
#define T0_MS 1666043910000LL

static const char s_reg[] =
    "crossings = (\n"
    "  { id = \"250401\"; bwt_id = \"09250401\"; border = \"MX\"; name = \"San Ysidro\";\n"
    "    port_name = \"San Ysidro\"; crossing_name = \"\"; other_name = \"Tijuana\";\n"
    "    us_tz = \"America/Los_Angeles\"; other_tz = \"America/Tijuana\";\n"
    "    max_lanes = { passenger = 24; pedestrian = 10; commercial = 0; };\n"
    "    lanes = { passenger = { ready = 8; nexus_sentri = 4; }; pedestrian = { ready = 2; }; };\n"
    "    hours = { us = { all = [ \"24h\" ]; }; other = \"unknown\"; }; },\n"
    "  { id = \"011502\"; bwt_id = \"05011502\"; border = \"CA\"; name = \"Calais - Milltown\";\n"
    "    port_name = \"Calais\"; crossing_name = \"Milltown & Co\"; other_name = \"St. Stephen\";\n"
    "    us_tz = \"America/New_York\"; other_tz = \"America/Moncton\";\n"
    "    max_lanes = { passenger = 1; pedestrian = 0; commercial = 2; };\n"
    "    hours = { us = { all = [ \"daily 06:00-18:00\" ]; };\n"
    "              other = { all = [ \"daily 07:00-19:00\" ]; }; }; },\n"
    "  { id = \"090101\"; bwt_id = \"07090101\"; border = \"CA\"; name = \"Buffalo Peace Bridge\";\n"
    "    port_name = \"Buffalo-Niagara Falls\"; crossing_name = \"Peace Bridge\";\n"
    "    other_name = \"Fort Erie\"; us_tz = \"America/New_York\"; other_tz = \"America/Toronto\";\n"
    "    max_lanes = { passenger = 5; pedestrian = 0; commercial = 3; }; },\n"
    "  { id = \"535501\"; bwt_id = \"02535501\"; border = \"MX\"; name = \"Laredo\";\n"
    "    port_name = \"Laredo\"; crossing_name = \"Bridge 1\"; other_name = \"Nuevo Laredo\";\n"
    "    us_tz = \"America/Chicago\"; other_tz = \"America/Matamoros\";\n"
    "    max_lanes = { passenger = 8; pedestrian = 4; commercial = 6; }; }\n"
    ");\n";

typedef struct {
    registry_t *reg;
    state_t *st;
    fcstore_t *fc;
    uint64_t rng;
} fix_t;

static int s_setup(void **state)
{
    char path[] = "/tmp/test_frag_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s_reg, strlen(s_reg)), (ssize_t)strlen(s_reg));
    close(fd);
    fix_t *f = calloc(1, sizeof *f);
    int nbad = -1;
    f->reg = reg_load(path, &nbad);
    unlink(path);
    assert_non_null(f->reg);
    assert_int_equal(nbad, 0);
    assert_non_null(f->st = state_new(f->reg));
    assert_non_null(f->fc = fcstore_new(f->st));
    f->rng = 0x9e3779b97f4a7c15ULL;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fix_t *f = *state;
    fcstore_destroy(&f->fc);
    state_destroy(&f->st);
    reg_destroy(&f->reg);
    free(f);
    return 0;
}

static uint64_t s_rand(fix_t *f, uint64_t n)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng % n;
}

/* ---- changes to the state --------------------------------------------- */

/* A measured interval ending lag ms before now on a random queue, through
 * state_apply or, as ingest does, a shadow copy and state_commit; then the
 * forecast observes it (and runs when due, as the collector's on_change). */
static void s_interval(fix_t *f, int64_t now_ms)
{
    xstate_t *x = state_at(f->st, s_rand(f, state_count(f->st)));
    enum tax_dir d = (enum tax_dir)(TAX_NORTHBOUND + s_rand(f, 2));
    int k = (int)s_rand(f, TAX_NQUEUES);
    enum tax_mode m;
    enum tax_type t;
    tax_queue_from_index(k, &m, &t);
    est_input_t in = { .interval_ms = 5000, .arrivals = (uint32_t)s_rand(f, 30),
                       .departures = (uint32_t)s_rand(f, 30), .lanes_open = (uint32_t)s_rand(f, 4),
                       .has_queue_len = s_rand(f, 2) == 0, .queue_len = (uint32_t)s_rand(f, 50),
                       .tt_count = (uint32_t)s_rand(f, 3), .tt_sum_s = (uint32_t)s_rand(f, 900) };
    int64_t t_end = now_ms - (int64_t)s_rand(f, 3000);
    if (s_rand(f, 2)) {
        if (state_apply(f->st, x, d, &in, t_end, m, t, now_ms) != 1)
            return;
    } else {
        qstate_t shadow = *x->q[d - 1][k];
        if (qstate_apply(&shadow, &in, t_end, now_ms) != 1)
            return;
        assert_int_equal(state_commit(f->st, x, d, k, &shadow), 0);
    }
    fcstore_queue_changed(f->fc, x, d, k);
}

/* An official value of a random queue, updated up to OFF_STALE_S + 20 s
 * ago (so some arrive stale, others turn stale later). */
static void s_official(fix_t *f, int64_t now_ms)
{
    static const enum off_status st[] = { OFF_ST_DELAY, OFF_ST_NO_DELAY, OFF_ST_LANES_CLOSED,
                                          OFF_ST_UPDATE_PENDING, OFF_ST_NOT_APPLICABLE };
    xstate_t *x = state_at(f->st, s_rand(f, state_count(f->st)));
    off_rec_t rec = { .reg = x->reg, .dir = (enum tax_dir)(TAX_NORTHBOUND + s_rand(f, 2)),
                      .status = st[s_rand(f, 5)], .has_wait = s_rand(f, 3) != 0,
                      .wait_s = (int32_t)s_rand(f, 3600), .has_lanes = s_rand(f, 2) != 0,
                      .lanes_open = (int32_t)s_rand(f, 4),
                      .updated_s = s_rand(f, 8) ? now_ms / 1000 - (int64_t)s_rand(f, OFF_STALE_S + 20) : 0 };
    tax_queue_from_index((int)s_rand(f, TAX_NQUEUES), &rec.mode, &rec.type);
    off_doc_t doc = { .source = rec.dir == TAX_NORTHBOUND ? OFF_CBP : OFF_CBSA, .recs = &rec, .n = 1 };
    assert_int_equal(state_apply_official(f->st, &doc, now_ms / 1000, OFF_STALE_S), 1);
}

static void s_iso(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* New notices: windows that open and end within the next two minutes. */
static void s_notices(fix_t *f, int64_t now_ms)
{
    char path[] = "/tmp/test_frag_notices_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *o = fdopen(fd, "w");
    fprintf(o, "notices = (\n");
    for (int i = 0; i < 3; i++) {
        int64_t from = now_ms / 1000 - 30 + (int64_t)s_rand(f, 90);
        char a[32], b[32];
        s_iso(from, a, sizeof a);
        s_iso(from + 1 + (int64_t)s_rand(f, 60), b, sizeof b);
        fprintf(o, "  { crossing = \"%s\"; from = \"%s\"; until = \"%s\";\n"
                   "    text = { en = \"Notice %d\"; fr = \"Avis %d\"; }; }%s\n",
                state_at(f->st, s_rand(f, state_count(f->st)))->reg->id, a, b, i, i,
                i < 2 ? "," : "");
    }
    fprintf(o, ");\n");
    fclose(o);
    int nbad = -1;
    notices_t *n = notices_load(path, f->reg, &nbad);
    unlink(path);
    assert_non_null(n);
    assert_int_equal(nbad, 0);
    state_set_notices(f->st, n);
}

/* ---- comparing -------------------------------------------------------- */

/* b's bytes, in parts or not, as a text (malloc'ed). */
static char *s_bytes(const http_cache_body_t *b)
{
    struct iovec iov[1 + HTTP_CACHE_PARTS_MAX];
    size_t n = http_cache_body_iov(b, 0, iov, sizeof iov / sizeof iov[0]), o = 0;
    char *out = malloc(b->len + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + o, iov[i].iov_base, iov[i].iov_len);
        o += iov[i].iov_len;
    }
    assert_int_equal(o, b->len);
    out[o] = '\0';
    return out;
}

/* b holds want. */
static void s_holds(const http_cache_body_t *b, const char *want)
{
    char *got = s_bytes(b);
    assert_string_equal(got, want);
    free(got);
}

static http_snap_t *s_render(fix_t *f, http_snap_frags_t *frags, int64_t now_ms)
{
    /* without a registry: no /v1/hours documents, which fragments do not touch */
    http_snap_src_t src = { .state = f->st, .stale_after_ms = STALE_MS,
                            .started_s = T0_MS / 1000, .frags = frags };
    http_snap_t *s = http_snap_render(&src, NULL, now_ms);
    assert_non_null(s);
    return s;
}

/* Every document of both, in the same order, with the same bytes. */
static void s_same(const http_snap_t *a, const http_snap_t *b, int64_t now_ms)
{
    assert_int_equal(http_snap_count(a), http_snap_count(b));
    for (size_t i = 0; i < http_snap_count(a); i++) {
        const http_snap_doc_t *x = http_snap_at(a, i), *y = http_snap_at(b, i);
        assert_int_equal(x->kind, y->kind);
        assert_string_equal(x->id, y->id);
        assert_non_null(x->plain);
        assert_non_null(y->plain);
        char *got = s_bytes(x->plain), *want = s_bytes(y->plain);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "kind %d id '%s' at %" PRId64 " differs:\nfragments: %s\nwhole:     %s\n",
                    (int)x->kind, x->id, now_ms, got, want);
            fail();
        }
        free(got);
        free(want);
    }
}

static void s_check(fix_t *f, http_snap_frags_t *frags, int64_t now_ms)
{
    http_snap_t *a = s_render(f, frags, now_ms), *b = s_render(f, NULL, now_ms);
    s_same(a, b, now_ms);
    http_snap_unref(a);
    http_snap_unref(b);
}

/* Bring the fragments up to date in steps first, one render a step (a
 * deadline already past), as the publisher does; then check. Returns the
 * fragments the steps rendered. */
static size_t s_check_stepped(fix_t *f, http_snap_frags_t *frags, int64_t now_ms)
{
    http_snap_src_t src = { .state = f->st, .stale_after_ms = STALE_MS, .frags = frags };
    http_snap_frags_begin(frags, &src, now_ms);
    int steps = 0;
    while (!http_snap_frags_step(frags, &src, now_ms, 0))
        assert_true(++steps < 100);
    size_t nf, nc, nxml, nx;
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    s_check(f, frags, now_ms);
    return nf;
}

/* ---- tests ------------------------------------------------------------ */

static void test_fragments_give_the_whole_render_bytes(void **state)
{
    fix_t *f = *state;
    http_snap_frags_t *frags = http_snap_frags_new();
    assert_non_null(frags);
    static const int64_t steps[] = { 0, 1, 7, 120, 499, 999, 1000, 1001, 4000, 19999, 61000 };
    int64_t now = T0_MS;
    size_t kept = 0, made = 0, renders = 0, cbp_made = 0;
    for (int i = 0; i < 1500; i++) {
        now += steps[s_rand(f, sizeof steps / sizeof steps[0])];
        int what = (int)s_rand(f, 20);
        if (what < 8)
            s_interval(f, now);
        else if (what < 10)
            s_official(f, now);
        else if (what == 10)
            s_notices(f, now);
        /* every other render in steps, as the publisher makes them */
        size_t stepped = 0;
        if (i % 2)
            stepped = s_check_stepped(f, frags, now);
        else
            s_check(f, frags, now);
        size_t nf, nc, nxml, nx;
        http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
        assert_int_equal(nx, state_count(f->st));
        if (i % 2)
            assert_int_equal(nf, 0);   /* the steps left nothing to the render */
        nf += stepped;
        made += nf;
        kept += nx - nf;
        cbp_made += nc;
        renders++;
    }
    /* the walk crossed Calais' closing minute (18:00 in New York) */
    assert_true(now > T0_MS + 2 * 60 * 1000);
    /* Most steps change the state or pass a second, and an official
     * value's age changes every second: still, many are kept. */
    print_message("%zu renders: %zu crossings rendered, %zu kept; CBP %zu rendered\n", renders,
                  made, kept, cbp_made);
    assert_true(kept * 2 > made);
    assert_true(cbp_made < made);   /* CBP's ports show no official age */
    http_snap_frags_destroy(&frags);
}

/* A queue whose data turns stale in the middle of a second shows stale
 * from that millisecond on, though the fragment was made in that second. */
static void test_stale_inside_a_second_is_seen(void **state)
{
    fix_t *f = *state;
    http_snap_frags_t *frags = http_snap_frags_new();
    xstate_t *x = state_find(f->st, "090101");
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .departures = 8, .lanes_open = 2 };
    int64_t t_end = T0_MS + 250;
    assert_int_equal(state_apply(f->st, x, TAX_SOUTHBOUND, &in, t_end, TAX_PASSENGER, TAX_STANDARD,
                                 t_end), 1);
    int64_t edge = t_end + STALE_MS + 1;   /* first stale millisecond, x.250 */
    s_check(f, frags, edge - 200);
    s_check(f, frags, edge - 1);
    size_t nf, nc, nxml, nx;
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    assert_int_equal(nf, 0);               /* kept within the second... */
    s_check(f, frags, edge);
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    assert_int_equal(nf, 1);               /* ...until the queue went stale */
    assert_int_equal(nc, 1);
    assert_int_equal(nxml, 1);
    char *doc = feed_crossings_json(f->st, edge, STALE_MS, "090101");
    assert_non_null(strstr(doc, "\"status\":\"stale\""));
    free(doc);
    /* a clock stepped back re-renders everything */
    s_check(f, frags, edge - 5000);
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    assert_int_equal(nf, nx);
    http_snap_frags_destroy(&frags);
}

/* A port whose every queue is open shows its US date in CBP's XML: kept
 * in the evening, made again at its midnight. */
static void test_date_changes_at_local_midnight(void **state)
{
    fix_t *f = *state;
    const int64_t midnight = 1666065600000LL;   /* 2022-10-18T00:00 in New York */
    http_snap_frags_t *frags = http_snap_frags_new();
    xstate_t *x = state_find(f->st, "090101");
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .departures = 8, .lanes_open = 2 };
    for (int k = 0; k < TAX_NQUEUES; k++) {
        enum tax_mode m;
        enum tax_type t;
        tax_queue_from_index(k, &m, &t);
        assert_int_equal(state_apply(f->st, x, TAX_SOUTHBOUND, &in, midnight - 5000, m, t,
                                     midnight - 5000), 1);
    }
    s_check(f, frags, midnight - 1500);
    s_check(f, frags, midnight - 400);
    size_t nf, nc, nxml, nx;
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    assert_int_equal(nxml, 0);
    assert_int_equal(nc, 0);      /* another second: only CBP's clock changed */
    s_check(f, frags, midnight + 100);
    http_snap_frags_rendered(frags, &nf, &nc, &nxml, &nx);
    assert_int_equal(nxml, nx);   /* a new minute on every port's clock */
    http_snap_frags_destroy(&frags);
}

/* Every way the views' data of a crossing changes bumps its counter, and
 * only its own: an applied or committed interval, an official value, a
 * forecast run;
 * new notices bump every crossing. */
static void test_changes_are_counted(void **state)
{
    fix_t *f = *state;
    xstate_t *a = state_find(f->st, "090101"), *b = state_find(f->st, "535501");
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .departures = 8, .lanes_open = 2 };
    uint64_t a0 = a->changes, b0 = b->changes;
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &in, T0_MS, TAX_PASSENGER, TAX_STANDARD,
                                 T0_MS), 1);
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &in, T0_MS, TAX_PASSENGER, TAX_STANDARD,
                                 T0_MS), 0);       /* not applied: no change */
    assert_true(a->changes == a0 + 1 && b->changes == b0);
    qstate_t shadow = *a->q[1][0];
    assert_int_equal(qstate_apply(&shadow, &in, T0_MS + 5000, T0_MS + 5000), 1);
    assert_int_equal(state_commit(f->st, a, TAX_SOUTHBOUND, 0, &shadow), 0);
    assert_true(a->changes == a0 + 2 && b->changes == b0);
    off_rec_t rec = { .reg = a->reg, .dir = TAX_SOUTHBOUND, .mode = TAX_PASSENGER,
                      .type = TAX_STANDARD, .status = OFF_ST_DELAY, .has_wait = true,
                      .wait_s = 600, .updated_s = T0_MS / 1000 };
    off_doc_t doc = { .source = OFF_CBP, .recs = &rec, .n = 1 };
    assert_int_equal(state_apply_official(f->st, &doc, T0_MS / 1000, OFF_STALE_S), 1);
    assert_true(a->changes == a0 + 3 && b->changes == b0);
    uint64_t before[8];
    for (size_t i = 0; i < state_count(f->st); i++)
        before[i] = state_at(f->st, i)->changes;
    fcstore_queue_changed(f->fc, a, TAX_SOUTHBOUND, 0);   /* the first observation runs it */
    assert_true(a->changes > before[a - state_at(f->st, 0)]);
    uint64_t a1 = a->changes;
    assert_true(fcstore_refresh_all(f->fc) > 0);
    assert_true(a->changes > a1 && b->changes == before[b - state_at(f->st, 0)]);
    for (size_t i = 0; i < state_count(f->st); i++)
        before[i] = state_at(f->st, i)->changes;
    s_notices(f, T0_MS);
    for (size_t i = 0; i < state_count(f->st); i++)
        assert_true(state_at(f->st, i)->changes > before[i]);
}

static char *s_fragment(const state_t *st, const xstate_t *x, int64_t now_ms, int64_t stale,
                        int64_t *until)
{
    (void)st;
    (void)stale;
    *until = now_ms + 1000;
    return strcmp(x->reg->id, "090101") == 0 ? NULL : strdup(x->reg->id);
}

/* Joining: in place of the last "[]", or between a head and a tail; none,
 * a missing fragment or a range beyond the state give NULL. */
static void test_join(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_fragment, NULL);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS, STALE_MS), -1); /* 090101: "memory" */
    http_cache_body_t *s = frag_cache_join(c, "{\"a\":[],\"b\":[]}", 0, 2);
    assert_string_equal(s->data, "{\"a\":[],\"b\":[250401,011502]}");
    assert_int_equal(s->len, strlen(s->data));
    http_cache_body_unref(s);
    s = frag_cache_join(c, "[]", 1, 0);
    assert_string_equal(s->data, "[]");
    http_cache_body_unref(s);
    s = frag_cache_copy(c, 3);
    assert_string_equal(s->data, "535501");
    http_cache_body_unref(s);
    s = frag_cache_wrap(c, "<a>", "", "</a>", 0, 2);
    assert_string_equal(s->data, "<a>250401011502</a>");
    assert_int_equal(s->len, strlen(s->data));
    http_cache_body_unref(s);
    assert_null(frag_cache_wrap(c, NULL, "", "", 0, 1));
    assert_null(frag_cache_join(c, "{}", 0, 1));
    assert_null(frag_cache_join(c, NULL, 0, 1));
    assert_null(frag_cache_join(c, "[]", 0, 3));     /* 090101 has none */
    assert_null(frag_cache_join(c, "[]", 3, 2));     /* beyond the state */
    assert_null(frag_cache_copy(c, 2));
    assert_null(frag_cache_copy(c, 4));
    /* the one that failed is made again at the next update, the rest kept */
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 10, STALE_MS), -1);
    assert_int_equal(frag_cache_rendered(c), 1);
    frag_cache_destroy(&c);
    frag_cache_destroy(&c);                                /* NULL: nothing */
}

static char *s_holed(const state_t *st, const xstate_t *x, int64_t now_ms, int64_t stale,
                     int64_t *until)
{
    (void)st;
    (void)x;
    (void)stale;
    *until = now_ms + 60000;
    return strdup("{\"a\":1,\"t\":" FRAG_HOLE ",\"b\":[]}");
}

static int s_fills;

static char *s_fill_second(const xstate_t *x, int64_t now_ms)
{
    (void)x;
    s_fills++;
    char buf[32];
    snprintf(buf, sizeof buf, "\"%" PRId64 "\"", now_ms / 1000);
    return strdup(buf);
}

/* Documents of one fragment each: made by the update with the head and
 * tail given, as joining the fragment alone gives (a body in parts, which
 * gets no memfd); kept while nothing changes, made again for a new head,
 * a new render or a hole's new second, the old document left as it was.
 * A holed fragment's document has that second's fill, later joins their
 * second's; a missing fragment, a crossing beyond the state or no
 * documents give NULL. */
static void test_doc(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_fragment, NULL);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS, STALE_MS), -1); /* 090101: "memory" */
    assert_null(frag_cache_doc(c, 0));                      /* no documents asked */
    assert_int_equal(frag_cache_docs_in(c, "{\"a\":[],\"b\":[]}"), 0);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 1, STALE_MS), -1);
    assert_int_equal(frag_cache_rendered(c), 1);            /* 090101 only */
    http_cache_body_t *d0 = frag_cache_doc(c, 0), *d1 = frag_cache_doc(c, 1);
    assert_non_null(d0);
    assert_non_null(d1);
    s_holds(d0, "{\"a\":[],\"b\":[250401]}");
    assert_int_equal(d0->len, strlen("{\"a\":[],\"b\":[250401]}"));
    s_holds(d1, "{\"a\":[],\"b\":[011502]}");
    assert_int_equal(http_cache_body_fd(d1), -1);          /* in parts: sent from them */
    assert_null(frag_cache_doc(c, 2));                      /* 090101 has none */
    assert_null(frag_cache_doc(c, 4));                      /* beyond the state */
    http_cache_body_unref(d1);
    http_cache_body_t *s = frag_cache_join(c, "[]", 0, 2);
    assert_string_equal(s->data, "[250401,011502]");
    http_cache_body_unref(s);
    /* nothing changed: the same document */
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 2, STALE_MS), -1);
    http_cache_body_t *same = frag_cache_doc(c, 0);
    assert_ptr_equal(same, d0);
    http_cache_body_unref(same);
    /* another head: documents anew from the kept fragments */
    assert_int_equal(frag_cache_docs(c, "<", ">"), 0);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 10, STALE_MS), -1);
    assert_int_equal(frag_cache_rendered(c), 1);
    http_cache_body_t *again = frag_cache_doc(c, 1);
    s_holds(again, "<011502>");
    s = frag_cache_wrap(c, "<", "|", ">", 0, 2);
    assert_string_equal(s->data, "<250401|011502>");
    http_cache_body_unref(s);
    /* rendered again: the documents held elsewhere stay as they were */
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 2000, STALE_MS), -1);
    assert_int_equal(frag_cache_rendered(c), 4);
    s_holds(d0, "{\"a\":[],\"b\":[250401]}");
    s_holds(again, "<011502>");
    s = frag_cache_copy(c, 0);
    assert_string_equal(s->data, "250401");
    http_cache_body_unref(s);
    http_cache_body_unref(d0);
    http_cache_body_unref(again);
    /* no "[]": no documents */
    assert_int_equal(frag_cache_docs_in(c, "{}"), -1);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 2001, STALE_MS), -1);
    assert_null(frag_cache_doc(c, 0));
    frag_cache_destroy(&c);
    /* a holed fragment: its document with that second's fill, later
     * joins with theirs */
    c = frag_cache_new(s_holed, s_fill_second);
    assert_int_equal(frag_cache_docs(c, "", ""), 0);
    assert_int_equal(frag_cache_update(c, f->st, 5000, STALE_MS), 0);
    d0 = frag_cache_doc(c, 0);
    s_holds(d0, "{\"a\":1,\"t\":\"5\",\"b\":[]}");
    assert_int_equal(frag_cache_update(c, f->st, 10500, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);
    d1 = frag_cache_doc(c, 0);                              /* "10": longer */
    s_holds(d1, "{\"a\":1,\"t\":\"10\",\"b\":[]}");
    assert_int_equal(frag_cache_update(c, f->st, 10900, STALE_MS), 0);
    same = frag_cache_doc(c, 0);                            /* the same second */
    assert_ptr_equal(same, d1);
    http_cache_body_unref(same);
    http_cache_body_unref(d1);
    s = frag_cache_join(c, "[]", 0, 2);
    assert_string_equal(s->data, "[{\"a\":1,\"t\":\"10\",\"b\":[]},{\"a\":1,\"t\":\"10\",\"b\":[]}]");
    http_cache_body_unref(s);
    assert_int_equal(frag_cache_update(c, f->st, 9000, STALE_MS), 0); /* back: "9" */
    s = frag_cache_join(c, "[]", 0, 2);
    assert_string_equal(s->data, "[{\"a\":1,\"t\":\"9\",\"b\":[]},{\"a\":1,\"t\":\"9\",\"b\":[]}]");
    assert_int_equal(s->len, strlen(s->data));
    http_cache_body_unref(s);
    s = frag_cache_copy(c, 1);
    assert_string_equal(s->data, "{\"a\":1,\"t\":\"9\",\"b\":[]}");
    http_cache_body_unref(s);
    s_holds(d0, "{\"a\":1,\"t\":\"5\",\"b\":[]}");
    http_cache_body_unref(d0);
    frag_cache_destroy(&c);
}

static char *s_long(const state_t *st, const xstate_t *x, int64_t now_ms, int64_t stale,
                    int64_t *until)
{
    (void)st;
    (void)stale;
    *until = now_ms + 60000;
    char *t = malloc(9001);
    if (t) {
        memset(t, x->reg->id[1], 9000);  /* 250401 '5', 011502 '1', 090101 '9' */
        t[9000] = '\0';
    }
    return t;
}

/* A crossing's document copies nothing: head, the fragment's own bytes,
 * tail. The documents of two seconds (two heads) share the fragment's
 * bytes, which stay while an old document is held after the fragment was
 * rendered again. A long join goes straight into a memfd. */
static void test_doc_shares_the_fragment(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_long, NULL);
    assert_int_equal(frag_cache_docs(c, "<", ">"), 0);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS, STALE_MS), 0);
    http_cache_body_t *d = frag_cache_doc(c, 1);
    assert_non_null(d);
    assert_int_equal(d->len, 9002);
    assert_null(d->data);
    assert_int_equal(d->fd, -1);
    struct iovec a[1 + HTTP_CACHE_PARTS_MAX], b[1 + HTTP_CACHE_PARTS_MAX];
    assert_int_equal(http_cache_body_iov(d, 0, a, 6), 3);
    assert_int_equal(a[1].iov_len, 9000);
    assert_int_equal(((char *)a[1].iov_base)[0], '1');
    /* from an offset inside the fragment, as a short write leaves it */
    assert_int_equal(http_cache_body_iov(d, 5, b, 6), 2);
    assert_ptr_equal(b[0].iov_base, (char *)a[1].iov_base + 4);
    assert_int_equal(b[0].iov_len, 8996);
    assert_int_equal(http_cache_body_iov(d, 9001, b, 6), 1);   /* the tail */
    assert_int_equal(http_cache_body_iov(d, 9002, b, 6), 0);
    /* the next second's head: a new document, the same fragment bytes */
    assert_int_equal(frag_cache_docs(c, "<<", ">"), 0);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 1000, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);
    http_cache_body_t *e = frag_cache_doc(c, 1);
    assert_ptr_not_equal(e, d);
    assert_int_equal(http_cache_body_iov(e, 0, b, 6), 3);
    assert_ptr_equal(b[1].iov_base, a[1].iov_base);
    /* rendered again: d still holds its fragment (ASan: no use after free) */
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 61000, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 4);
    http_cache_body_unref(e);
    assert_int_equal(http_cache_body_iov(d, 0, b, 6), 3);
    assert_int_equal(((char *)b[1].iov_base)[8999], '1');
    http_cache_body_unref(d);
    http_cache_body_t *s = frag_cache_wrap(c, "", "|", "", 1, 2);
    assert_non_null(s);
    assert_true(s->fd >= 0);                               /* 18,001 bytes: a memfd */
    assert_int_equal(s->len, 9000 * 2 + 1);
    assert_int_equal(s->data[0], '1');
    assert_int_equal(s->data[8999], '1');
    assert_int_equal(s->data[9000], '|');
    assert_int_equal(s->data[9001], '9');
    assert_int_equal(s->data[18001], '\0');
    http_cache_body_unref(s);
    frag_cache_destroy(&c);
}

static char *s_id(const state_t *st, const xstate_t *x, int64_t now_ms, int64_t stale,
                  int64_t *until)
{
    (void)st;
    (void)stale;
    *until = now_ms + 60000;
    return strdup(x->reg->id);
}

/* Steps: each stops once a fragment was rendered past its deadline and
 * the next goes on from there; done when a whole sweep renders nothing.
 * A crossing that changes behind a sweep is rendered in the next one. */
static void test_steps(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_id, NULL);
    frag_cache_restart(c);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(frag_cache_step(c, f->st, T0_MS, STALE_MS, 0), 0);
        assert_int_equal(frag_cache_rendered(c), i + 1);
    }
    assert_int_equal(frag_cache_step(c, f->st, T0_MS, STALE_MS, 0), 1);
    assert_int_equal(frag_cache_rendered(c), 4);
    http_cache_body_t *s = frag_cache_join(c, "[]", 0, 4);
    assert_string_equal(s->data, "[250401,011502,090101,535501]");
    http_cache_body_unref(s);
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 1, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);
    /* 250401 changes, is rendered; then changes again behind the sweep,
     * with 535501 ahead of it */
    xstate_t *a = state_find(f->st, "250401"), *d = state_find(f->st, "535501");
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .departures = 8, .lanes_open = 2 };
    int64_t t = T0_MS;
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &in, t, TAX_PASSENGER, TAX_STANDARD, t), 1);
    frag_cache_restart(c);
    assert_int_equal(frag_cache_step(c, f->st, T0_MS + 2, STALE_MS, 0), 0);
    assert_int_equal(frag_cache_rendered(c), 1);
    t += 5000;
    assert_int_equal(state_apply(f->st, a, TAX_SOUTHBOUND, &in, t, TAX_PASSENGER, TAX_STANDARD, t), 1);
    assert_int_equal(state_apply(f->st, d, TAX_SOUTHBOUND, &in, t, TAX_PASSENGER, TAX_STANDARD, t), 1);
    assert_int_equal(frag_cache_step(c, f->st, T0_MS + 2, STALE_MS, INT64_MAX), 1);
    assert_int_equal(frag_cache_rendered(c), 3);   /* 250401, 535501, 250401 again */
    assert_int_equal(frag_cache_update(c, f->st, T0_MS + 3, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);   /* every one current */
    frag_cache_destroy(&c);
}

/* A fragment's hole is filled once per second, in joins and copies, and
 * the rest kept. */
static void test_hole(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_holed, s_fill_second);
    assert_int_equal(frag_cache_update(c, f->st, 5000, STALE_MS), 0);
    assert_int_equal(frag_cache_update(c, f->st, 5999, STALE_MS), 0);
    assert_int_equal(s_fills, 4);
    http_cache_body_t *s = frag_cache_copy(c, 0);
    assert_string_equal(s->data, "{\"a\":1,\"t\":\"5\",\"b\":[]}");
    assert_int_equal(s->len, strlen(s->data));
    http_cache_body_unref(s);
    assert_int_equal(frag_cache_update(c, f->st, 6000, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);
    assert_int_equal(s_fills, 8);
    s = frag_cache_join(c, "[]", 1, 2);
    assert_string_equal(s->data, "[{\"a\":1,\"t\":\"6\",\"b\":[]},{\"a\":1,\"t\":\"6\",\"b\":[]}]");
    assert_int_equal(s->len, strlen(s->data));
    http_cache_body_unref(s);
    frag_cache_destroy(&c);
}

/* Long holed fragments that say how often their crossing was rendered;
 * the last render of each kept to build what documents must hold. */
static char *s_last[4];
static int s_nrender[4];

static char *s_long_holed(const state_t *st, const xstate_t *x, int64_t now_ms, int64_t stale,
                          int64_t *until)
{
    (void)stale;
    size_t i = (size_t)(x - state_at((state_t *)st, 0));
    *until = now_ms + 3600000;
    char pad[6001];
    memset(pad, x->reg->id[1], 6000);
    pad[6000] = '\0';
    char *t = malloc(6200);
    if (!t)
        return NULL;
    snprintf(t, 6200, "{\"id\":\"%s\",\"n\":%d,\"pad\":\"%s\",\"t\":" FRAG_HOLE "}", x->reg->id,
             ++s_nrender[i], pad);
    free(s_last[i]);
    s_last[i] = strdup(t);
    return t;
}

/* What fragments 0..3 joined make at second now_s: head, each with its
 * hole filled as s_fill_second fills it, sep between, tail. */
static char *s_expect(const char *head, const char *sep, const char *tail, int64_t now_s)
{
    char fill[32];
    snprintf(fill, sizeof fill, "\"%" PRId64 "\"", now_s);
    size_t cap = 4 * 6300 + 64, n = 0;
    char *out = malloc(cap);
    n += (size_t)snprintf(out + n, cap - n, "%s", head);
    for (int i = 0; i < 4; i++) {
        const char *h = strstr(s_last[i], FRAG_HOLE);
        n += (size_t)snprintf(out + n, cap - n, "%s%.*s%s%s", i ? sep : "", (int)(h - s_last[i]),
                              s_last[i], fill, h + strlen(FRAG_HOLE));
    }
    snprintf(out + n, cap - n, "%s", tail);
    return out;
}

static void s_join_is(http_cache_body_t *b, const char *want)
{
    assert_non_null(b);
    assert_true(b->fd >= 0);   /* past HTTP_CACHE_MEMFD_MIN: a memfd */
    s_holds(b, want);
    assert_int_equal(b->len, strlen(want));
}

/* A join of every fragment becomes where their texts are: the cache then
 * holds none of its own, and later joins (from that document's file),
 * with fills of later seconds, a crossing rendered again, another
 * separator, and a crossing's own document give the same bytes as from
 * the renders. A document joined before stays whole while held. */
static void test_joined_document_holds_the_texts(void **state)
{
    fix_t *f = *state;
    frag_cache_t *c = frag_cache_new(s_long_holed, s_fill_second);
    assert_int_equal(frag_cache_docs(c, "<", ">"), 0);
    int64_t t = T0_MS;
    assert_int_equal(frag_cache_update(c, f->st, t, STALE_MS), 0);
    assert_true(frag_cache_own_bytes(c) > 4 * 6000);
    http_cache_body_t *first = frag_cache_join(c, "[]", 0, 4);
    char *want = s_expect("[", ",", "]", t / 1000);
    s_join_is(first, want);
    free(want);
    assert_int_equal(frag_cache_own_bytes(c), 0);
    /* the next second: new fills, nothing rendered; the crossing's own
     * document from the joined one */
    t += 1000;
    assert_int_equal(frag_cache_update(c, f->st, t, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 0);
    http_cache_body_t *d = frag_cache_doc(c, 2);
    {
        const char *h = strstr(s_last[2], FRAG_HOLE);
        char doc[6400];
        snprintf(doc, sizeof doc, "<%.*s\"%" PRId64 "\"%s>", (int)(h - s_last[2]), s_last[2],
                 t / 1000, h + strlen(FRAG_HOLE));
        s_holds(d, doc);
        FILE *tf = tmpfile();
        assert_int_equal(http_cache_body_write(d, fileno(tf)), 0);
        char back[6400] = { 0 };
        assert_int_equal(pread(fileno(tf), back, sizeof back - 1, 0), (ssize_t)strlen(doc));
        assert_string_equal(back, doc);
        fclose(tf);
    }
    http_cache_body_unref(d);
    http_cache_body_t *b = frag_cache_join(c, "[]", 0, 4);
    want = s_expect("[", ",", "]", t / 1000);
    s_join_is(b, want);
    free(want);
    http_cache_body_unref(b);
    /* 011502 rendered again: its own text until the next join */
    xstate_t *x = state_find(f->st, "011502");
    est_input_t in = { .interval_ms = 5000, .arrivals = 10, .departures = 8, .lanes_open = 2 };
    assert_int_equal(state_apply(f->st, x, TAX_SOUTHBOUND, &in, t, TAX_PASSENGER, TAX_STANDARD, t), 1);
    t += 1000;
    assert_int_equal(frag_cache_update(c, f->st, t, STALE_MS), 0);
    assert_int_equal(frag_cache_rendered(c), 1);
    assert_int_equal(frag_cache_own_bytes(c), strlen(s_last[1]));
    b = frag_cache_wrap(c, "<", "|", ">", 0, 4);
    want = s_expect("<", "|", ">", t / 1000);
    s_join_is(b, want);
    free(want);
    http_cache_body_unref(b);
    assert_int_equal(frag_cache_own_bytes(c), 0);
    /* back to "," after "|", then a part of them and one alone */
    b = frag_cache_join(c, "[]", 0, 4);
    want = s_expect("[", ",", "]", t / 1000);
    s_join_is(b, want);
    free(want);
    http_cache_body_unref(b);
    b = frag_cache_copy(c, 3);
    const char *h = strstr(s_last[3], FRAG_HOLE);
    char alone[6400];
    snprintf(alone, sizeof alone, "%.*s\"%" PRId64 "\"%s", (int)(h - s_last[3]), s_last[3],
             t / 1000, h + strlen(FRAG_HOLE));
    s_holds(b, alone);
    http_cache_body_unref(b);
    /* the first document, held all along, unchanged */
    assert_int_equal(first->data[0], '[');
    assert_int_equal(first->data[first->len - 1], ']');
    assert_non_null(strstr(first->data, "\"id\":\"011502\",\"n\":1,"));
    http_cache_body_unref(first);
    frag_cache_destroy(&c);
    for (int i = 0; i < 4; i++) {
        free(s_last[i]);
        s_last[i] = NULL;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fragments_give_the_whole_render_bytes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stale_inside_a_second_is_seen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_date_changes_at_local_midnight, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_changes_are_counted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_join, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_hole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_steps, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_doc, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_doc_shares_the_fragment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_joined_document_holds_the_texts, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
