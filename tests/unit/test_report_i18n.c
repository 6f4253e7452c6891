/* test_report_i18n — poe-report's Markdown in English, Spanish and French
 * (tools/report/rtext.c over the catalogs tools/report/i18n, loaded by
 * collector/catalog.c):
 *
 *   - the committed report catalogs load, with every key rtext.c lists, and
 *     every "report.*" key named in tools/report/ sources is in them;
 *   - the hours and bottlenecks Markdown, written from fixed figures in
 *     each language, show no raw key, and the Spanish and French ones none
 *     of the English template words (tests/lib/mdlang.c); numbers carry the
 *     language's decimal mark and dates its month names;
 *   - the CSV is the same in every language (English, machine-readable);
 *   - a missing, corrupt or incomplete catalog and an unknown language are
 *     refused with a specific reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mdlang.h"
#include "output.h"
#include "rtext.h"

#define T_MON 1772409600LL        /* Monday 2 March 2026 00:00 UTC */

static const char *const s_langs[] = { "en", "es", "fr" };

static const char *s_src(void)
{
    static char dir[1024];
    const char *src = getenv("POE_SRC");
    char cwd[900];
    snprintf(dir, sizeof dir, "%s", src ? src : getcwd(cwd, sizeof cwd) ? cwd : ".");
    return dir;
}

static const char *s_i18n(void)
{
    static char dir[1100];
    snprintf(dir, sizeof dir, "%s/tools/report/i18n", s_src());
    return dir;
}

static rtext_t *s_load(const char *lang)
{
    char why[600] = "";
    rtext_t *t = rtext_load(s_i18n(), lang, why, sizeof why);
    if (!t)
        fail_msg("report catalogs: %s", why);
    return t;
}

static void test_committed(void **state)
{
    (void)state;
    rtext_t *en = s_load("en"), *es = s_load("es"), *fr = s_load("fr");
    assert_string_equal(rtext_lang(es), "es");
    assert_string_equal(rtext_get(es, "report.hours.win.minutes"), "minutos");
    assert_string_equal(rtext_get(fr, "report.off.title"), "Attentes officielles et attentes mesurées");
    /* every key the report's sources name is in the catalogs */
    DIR *d = opendir(s_src());
    closedir(d);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/tools/report", s_src());
    d = opendir(dir);
    assert_non_null(d);
    int checked = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = proc_slurp(path, NULL);
        assert_non_null(text);
        for (char *p = text; (p = strstr(p, "\"report.")); p++) {
            char key[80];
            if (sscanf(p + 1, "%79[a-zA-Z0-9_.]", key) != 1 || key[strlen(key) - 1] == '.')
                continue;   /* a prefix built on, e.g. "report.month.%d" */
            char *q = p + 1 + strlen(key);
            if (*q != '"')
                continue;
            const char *got = rtext_get(en, key);
            if (strcmp(got, key) == 0)
                fail_msg("%s names '%s', not in the report catalogs", e->d_name, key);
            checked++;
        }
        free(text);
    }
    closedir(d);
    printf("report catalogs: %d key uses in tools/report found\n", checked);
    assert_true(checked > 60);
    /* every note of the hours learner (out->why = "..." in
     * collector/hours_obs.c) has its words in the report's languages */
    char path[1200];
    snprintf(path, sizeof path, "%s/collector/hours_obs.c", s_src());
    char *text = proc_slurp(path, NULL);
    assert_non_null(text);
    int notes = 0;
    for (char *p = text; (p = strstr(p, "out->why =")); p++) {
        char *end = strchr(p, ';');
        assert_non_null(end);
        for (char *q = strchr(p, '"'); q && q < end; q = strchr(q + 1, '"')) {
            char *e = strchr(q + 1, '"');
            char phrase[120], slug[160];
            snprintf(phrase, sizeof phrase, "%.*s", (int)(e - q - 1), q + 1);
            q = e;
            if (!phrase[0])
                continue;
            const char *t = rtext_phrase(es, "why", phrase, slug, sizeof slug);
            if (t == phrase)
                fail_msg("the hours learner's \"%s\" has no report.why.%s", phrase, slug);
            assert_true(rtext_phrase(fr, "why", phrase, slug, sizeof slug) != phrase);
            notes++;
        }
    }
    free(text);
    printf("hours learner notes translated: %d\n", notes);
    assert_true(notes >= 10);
    char buf[64];
    assert_string_equal(rtext_phrase(fr, "why", "not a note", buf, sizeof buf), "not a note");
    assert_string_equal(rtext_num(en, 12.345, 1, buf, sizeof buf), "12.3");
    assert_string_equal(rtext_num(es, 12.345, 1, buf, sizeof buf), "12,3");
    assert_string_equal(rtext_num(fr, NAN, 1, buf, sizeof buf), "–");
    assert_string_equal(rtext_date(en, T_MON + 14 * 3600 + 5 * 60, buf, sizeof buf), "March 2, 2026, 14:05 UTC");
    assert_string_equal(rtext_date(es, T_MON, buf, sizeof buf), "2 de marzo de 2026, 00:00 UTC");
    assert_string_equal(rtext_date(fr, T_MON + 150 * 86400, buf, sizeof buf), "30 juillet 2026, 00:00 UTC");
    rtext_destroy(&en);
    rtext_destroy(&es);
    rtext_destroy(&fr);
    assert_null(en);
}

static void test_pick_lang(void **state)
{
    (void)state;
    assert_string_equal(rtext_pick_lang("fr"), "fr");
    assert_null(rtext_pick_lang("de"));
    assert_null(rtext_pick_lang("french"));
    setenv("LC_ALL", "", 1);
    setenv("LC_MESSAGES", "es_MX.UTF-8", 1);
    setenv("LANG", "fr_CA.UTF-8", 1);
    assert_string_equal(rtext_pick_lang(NULL), "es");   /* LC_MESSAGES before LANG */
    setenv("LC_ALL", "C.UTF-8", 1);
    assert_string_equal(rtext_pick_lang(NULL), "en");   /* LC_ALL wins, and is not ours */
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    assert_string_equal(rtext_pick_lang(NULL), "fr");
    unsetenv("LANG");
    assert_string_equal(rtext_pick_lang(NULL), "en");
}

/* A catalog directory in a temp dir: the committed files, then edit. */
static void s_copy(const char *to)
{
    for (int i = 0; i < 3; i++) {
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s.json", s_i18n(), s_langs[i]);
        snprintf(b, sizeof b, "%s/%s.json", to, s_langs[i]);
        char *t = proc_slurp(a, NULL);
        assert_non_null(t);
        FILE *f = fopen(b, "w");
        assert_non_null(f);
        fputs(t, f);
        fclose(f);
        free(t);
    }
}

static void s_refused(const char *dir, const char *want)
{
    char why[600] = "";
    rtext_t *t = rtext_load(dir, "es", why, sizeof why);
    assert_null(t);
    printf("  refused: %s\n", why);
    if (!strstr(why, want))
        fail_msg("reason '%s' lacks '%s'", why, want);
}

static void test_bad_catalogs(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_report_i18n.XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_refused(dir, "en.json");                      /* none there */
    s_copy(dir);
    char path[200];
    snprintf(path, sizeof path, "%s/fr.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"report.decimal\": ", f);            /* corrupt */
    fclose(f);
    s_refused(dir, "fr.json:");
    s_copy(dir);
    /* a key gone from Spanish only: the catalogs disagree */
    char *t = proc_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/es.json", dir);
    free(t);
    t = proc_slurp(path, NULL);
    char *k = strstr(t, "  \"report.hours.run.opens\"");
    assert_non_null(k);
    char *nl = strchr(k, '\n');
    memmove(k, nl + 1, strlen(nl + 1) + 1);
    f = fopen(path, "w");
    fputs(t, f);
    fclose(f);
    free(t);
    s_refused(dir, "report.hours.run.opens");
    /* the same key gone from all three: the report's own list catches it */
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.json", dir, s_langs[i]);
        t = proc_slurp(path, NULL);
        k = strstr(t, "  \"report.hours.run.opens\"");
        if (k) {
            nl = strchr(k, '\n');
            memmove(k, nl + 1, strlen(nl + 1) + 1);
        }
        f = fopen(path, "w");
        fputs(t, f);
        fclose(f);
        free(t);
    }
    s_refused(dir, "poe-report needs it");
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.json", dir, s_langs[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Writes with fn to a string. */
static char *s_render(int (*fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, arg), 0);
    fclose(f);
    return buf;
}

static void s_check(const char *md, const char *lang, const char *what)
{
    char why[300];
    if (mdlang_check(md, lang, why, sizeof why) != 0)
        fail_msg("%s (%s): %s", what, lang, why);
}

static reg_crossing_t s_crossing;

static void s_hours_fixture(out_hours_t *h, const rtext_t *tx)
{
    memset(&s_crossing, 0, sizeof s_crossing);
    snprintf(s_crossing.id, sizeof s_crossing.id, "250401");
    snprintf(s_crossing.name, sizeof s_crossing.name, "San Ysidro");
    snprintf(s_crossing.other_name, sizeof s_crossing.other_name, "Tijuana");
    snprintf(s_crossing.us_tz, sizeof s_crossing.us_tz, "America/Los_Angeles");
    snprintf(s_crossing.other_tz, sizeof s_crossing.other_tz, "America/Tijuana");
    memset(h, 0, sizeof *h);
    *h = (out_hours_t){ .c = &s_crossing, .from = T_MON, .to = T_MON + 7 * 86400,
                        .week_start = T_MON, .share = 0.98, .nmodes = 1, .tx = tx };
    out_hours_mode_t *m = &h->modes[0];
    m->mode = TAX_PASSENGER;
    snprintf(m->rules[0], sizeof m->rules[0], "daily 06:00-22:00");
    snprintf(m->rules[1], sizeof m->rules[1], "unknown");
    m->rules_known[0] = true;
    snprintf(m->observed[0], sizeof m->observed[0], "daily 06:00-22:00");
    m->obs_known[0] = true;
    m->obs_weeks[0] = 3;
    m->obs_exc[0] = 1;
    m->obs_conf[0] = 0.75;
    m->obs_level[0] = "medium";
    snprintf(m->observed[1], sizeof m->observed[1], "unknown (no data)");
    snprintf(m->obs_why[1], sizeof m->obs_why[1], "no data");   /* the learner's words */
    m->source[0] = "posted";
    m->source[1] = "unknown";
    m->open_min[0] = 16 * 60 * 7;
    m->open_min[1] = -1;
    m->windows[0] = (hw_span_t){ .start = 14 * 60,   /* 06:00 in Los Angeles (UTC-8 until 8 March) */ .len = 60, .open_side = HOURS_US, .demand = { 120.5, 3 } };
    m->nwin = 1;
    m->win_minutes = 60;
    for (int d = 0; d < 7; d++)
        m->runs[0][d] = (hw_span_t){ .start = d * 1440 + 14 * 60, .len = 960, .first_h = { 10.5, 2 },
                                     .last_h = { 4, 1.25 } };
    m->nruns[0] = 7;
    m->demand_total[0] = 12345;
    m->demand_total[1] = 678;
    m->both_open_share = 0.875;
    m->sched_hours = 112;
    m->sched_share = 0.9812;
    snprintf(m->sched_text, sizeof m->sched_text, "daily 06:00-22:00");
}

static int s_w_hours(FILE *f, const void *a) { return out_hours_markdown(f, a); }
static int s_w_hours_csv(FILE *f, const void *a) { return out_hours_csv(f, a); }

static void test_hours_markdown(void **state)
{
    (void)state;
    static const char *const want[3][5] = {
        { "# Hours of operation: 250401 San Ysidro / Tijuana", "March 2, 2026", "87.5 %", "| Mon 06:00 |", "| unknown (no data) |" },
        { "# Horarios de servicio: 250401 San Ysidro / Tijuana", "2 de marzo de 2026", "87,5 %", "| lun 06:00 |", "| desconocido (sin datos) |" },
        { "# Heures d'ouverture : 250401 San Ysidro / Tijuana", "2 mars 2026", "87,5 %", "| lun. 06:00 |", "| inconnu (aucune donnée) |" },
    };
    char *csv[3];
    out_hours_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    for (int l = 0; l < 3; l++) {
        rtext_t *tx = s_load(s_langs[l]);
        s_hours_fixture(h, tx);
        char *md = s_render(s_w_hours, h);
        for (int k = 0; k < 5; k++)
            if (!strstr(md, want[l][k]))
                fail_msg("hours (%s) lacks '%s':\n%s", s_langs[l], want[l][k], md);
        s_check(md, s_langs[l], "hours");
        if (l == 1)
            printf("%s", md);
        free(md);
        csv[l] = s_render(s_w_hours_csv, h);
        rtext_destroy(&tx);
    }
    /* the CSV does not follow the language */
    assert_string_equal(csv[0], csv[1]);
    assert_string_equal(csv[0], csv[2]);
    assert_non_null(strstr(csv[0], "250401,passenger,mismatch,US,Mon 06:00,"));
    for (int l = 0; l < 3; l++)
        free(csv[l]);
    free(h);
}

typedef struct {
    out_bn_ctx_t ctx;
    bn_result_t r[2];
} t_bn_t;

static int s_w_bn(FILE *f, const void *a)
{
    const t_bn_t *b = a;
    return out_bn_markdown(f, &b->ctx, b->r, 2);
}

static int s_w_bn_csv(FILE *f, const void *a)
{
    const t_bn_t *b = a;
    return out_bn_csv(f, &b->ctx, b->r, 2);
}

static void test_bottlenecks_markdown(void **state)
{
    (void)state;
    static const char *const want[3][3] = {
        { "# Bottlenecks, March 2, 2026, 00:00 UTC to March 9, 2026", "| 1 | 250401  | northbound | passenger-standard | 22.5 |", "75 s (lower bound)" },
        { "# Cuellos de botella, del 2 de marzo de 2026, 00:00 UTC al 9 de marzo de 2026", "| 1 | 250401  | hacia el norte | vehículos, carril general | 22,5 |", "75 s (cota inferior)" },
        { "# Goulets d'étranglement, du 2 mars 2026, 00:00 UTC au 9 mars 2026", "| 1 | 250401  | vers le nord | véhicules, voie ordinaire | 22,5 |", "75 s (borne inférieure)" },
    };
    t_bn_t *b = calloc(1, sizeof *b);
    assert_non_null(b);
    for (int i = 0; i < 2; i++) {
        bn_result_t *r = &b->r[i];
        snprintf(r->q.crossing, sizeof r->q.crossing, "250401");
        r->q.dir = TAX_NORTHBOUND;
        r->q.mode = i ? TAX_PEDESTRIAN : TAX_PASSENGER;
        r->q.type = i ? TAX_READY : TAX_STANDARD;
        r->p50_s = 1350;
        r->p85_s = 2000;
        r->p95_s = NAN;
        r->hours_above_week = 12.25;
        r->mu = 1.0 / 75;
        r->mu_busy = i;
        r->utilisation = i ? NAN : 0.913;
        r->arrivals_week = 9000;
        r->need_max = 9;
        for (int k = 0; k < BN_HOURS; k++) {
            r->need_how[k] = k % 3 == 0 ? BN_NO_DATA : k % 3 == 1 ? BN_CANNOT : 4;
            r->lanes_how[k] = 3;
        }
    }
    char *csv[3];
    for (int l = 0; l < 3; l++) {
        rtext_t *tx = s_load(s_langs[l]);
        b->ctx = (out_bn_ctx_t){ .from = T_MON, .to = T_MON + 7 * 86400, .target_s = 900, .tx = tx };
        char *md = s_render(s_w_bn, b);
        for (int k = 0; k < 3; k++)
            if (!strstr(md, want[l][k]))
                fail_msg("bottlenecks (%s) lacks '%s':\n%s", s_langs[l], want[l][k], md);
        s_check(md, s_langs[l], "bottlenecks");
        free(md);
        csv[l] = s_render(s_w_bn_csv, b);
        rtext_destroy(&tx);
    }
    assert_string_equal(csv[0], csv[1]);
    assert_string_equal(csv[0], csv[2]);
    assert_non_null(strstr(csv[0], ",northbound,passenger,standard,1350.0,"));
    for (int l = 0; l < 3; l++)
        free(csv[l]);
    free(b);
}

/* The check itself finds what it is for. */
static void test_mdlang_catches(void **state)
{
    (void)state;
    char why[300];
    assert_int_equal(mdlang_check("| lado | report.hours.col.zone |", "es", why, sizeof why), -1);
    assert_int_equal(mdlang_check("Llegadas hacia el norte, 3 weeks", "es", why, sizeof why), -1);
    assert_int_equal(mdlang_check("| lun. | âge p50 | Tijuana |", "fr", why, sizeof why), 0);
    assert_int_equal(mdlang_check("3 weeks", "en", why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed),         cmocka_unit_test(test_pick_lang),
        cmocka_unit_test(test_bad_catalogs),      cmocka_unit_test(test_hours_markdown),
        cmocka_unit_test(test_bottlenecks_markdown), cmocka_unit_test(test_mdlang_catches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
