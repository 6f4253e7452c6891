/* test_i18n — the dashboards' message catalogs (dashboards/i18n/<lang>.json,
 * collector/catalog): the committed English, Spanish and French catalogs
 * load with the same keys and placeholders; every key the pages name
 * literally (data-i18n attributes, T("...") calls) exists; a corrupt
 * catalog, a missing or extra key and a placeholder mismatch are each
 * refused with a specific error; Accept-Language picks the language, and
 * a 10 KB or malformed header is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"

static const char *s_dash(void)
{
    static char dir[1024];
    const char *src = getenv("POE_SRC");
    char cwd[900];
    snprintf(dir, sizeof dir, "%s/dashboards", src ? src : getcwd(cwd, sizeof cwd) ? cwd : ".");
    return dir;
}

static void test_committed(void **state)
{
    (void)state;
    char dir[1100], why[256] = "";
    snprintf(dir, sizeof dir, "%s/i18n", s_dash());
    catalog_t *c = catalog_load(dir, why, sizeof why);
    if (!c)
        fail_msg("committed catalogs: %s", why);
    assert_true(catalog_size(c) > 100);
    /* translated, not copied: the page title differs per language */
    assert_string_equal(catalog_get(c, "es", "board.title"), "Tiempos de espera en la frontera");
    assert_string_equal(catalog_get(c, "fr", "board.title"), "Temps d'attente à la frontière");
    assert_string_equal(catalog_get(c, "xx", "board.title"), "Border wait times");
    assert_null(catalog_get(c, "en", "no.such.key"));
    printf("catalogs: %zu keys in each of en, es, fr\n", catalog_size(c));

    /* every key a page or script names literally is in the catalogs */
    const char *files[] = { "index.html", "crossing.html", "board.js", "crossing.js", "common.js",
                            "watch.js" };
    const char *marks[] = { "data-i18n=\"", "data-i18n-placeholder=\"", "data-i18n-aria-label=\"",
                            "data-i18n-title=\"", "T(\"" };
    int checked = 0;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", s_dash(), files[f]);
        char *text = proc_slurp(path, NULL);
        assert_non_null(text);
        for (size_t m = 0; m < sizeof marks / sizeof *marks; m++) {
            for (char *p = text; (p = strstr(p, marks[m])); ) {
                bool word = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
                p += strlen(marks[m]);
                if (word)
                    continue;
                char *e = strchr(p, '"');
                assert_non_null(e);
                char key[128];
                snprintf(key, sizeof key, "%.*s", (int)(e - p), p);
                /* T("hours." + state): a prefix of dynamic keys, the browser test sees those */
                if (key[0] && key[strlen(key) - 1] != '.' && !catalog_get(c, "en", key))
                    fail_msg("%s names key '%s', which no catalog has", files[f], key);
                checked++;
                p = e;
            }
        }
        free(text);
    }
    printf("catalogs: %d literal key uses in the pages, all present\n", checked);
    assert_true(checked > 50);
    catalog_destroy(&c);
}

/* A temporary catalog directory: en as given, es and fr copies of es_text. */
static void s_write(const char *dir, const char *lang, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.json", dir, lang);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_expect_refused(const char *es, const char *want)
{
    char dir[] = "/tmp/poe-i18n-XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_write(dir, "en", "{\"a\": \"{n} of {total}\", \"b\": \"two\"}");
    s_write(dir, "fr", "{\"a\": \"{n} sur {total}\", \"b\": \"deux\"}");
    s_write(dir, "es", es);
    char why[256] = "";
    catalog_t *c = catalog_load(dir, why, sizeof why);
    if (c)
        fail_msg("catalog accepted: %s", es);
    if (!strstr(why, want))
        fail_msg("error '%s' does not say '%s'", why, want);
    printf("refused: %s\n", why);
    const char *langs[] = { "en", "es", "fr" };
    for (int i = 0; i < 3; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s.json", dir, langs[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_bad_catalogs(void **state)
{
    (void)state;
    s_expect_refused("{\"a\": \"{n} de {total}\", \"b\": \"dos\",}", "es.json:1:");
    s_expect_refused("{\"a\": \"{n} de {total}\"}", "es.json: key 'b' missing");
    s_expect_refused("{\"a\": \"{n} de {total}\", \"b\": \"dos\", \"c\": \"tres\"}", "key 'c' is not in en.json");
    s_expect_refused("{\"a\": \"{n} de {todo}\", \"b\": \"dos\"}", "key 'a' has placeholders");
    s_expect_refused("{\"a\": \"{n} de {total}\", \"b\": 2}", "key 'b' is not a non-empty string");
    s_expect_refused("{\"a\": \"{n} de {total}\", \"b\": \"\"}", "key 'b' is not a non-empty string");
    s_expect_refused("[\"a\"]", "es.json: not a JSON object");
    s_expect_refused("{\"a\": \"{n} de {total}\", \"a\": \"x\", \"b\": \"dos\"}", "es.json:1:");
    s_expect_refused("\xff\xfe{}", "es.json:");
}

static void test_accept_language(void **state)
{
    (void)state;
    char why[128];
    assert_string_equal(catalog_pick(NULL, why, sizeof why), "en");
    assert_string_equal(catalog_pick("", why, sizeof why), "en");
    assert_string_equal(catalog_pick("es-MX,es;q=0.9,en;q=0.8", why, sizeof why), "es");
    assert_string_equal(catalog_pick("fr-CA", why, sizeof why), "fr");
    assert_string_equal(catalog_pick("de-DE, fr;q=0.5, en;q=0.4", why, sizeof why), "fr");
    assert_string_equal(catalog_pick("en;q=0.2, es;q=0.7", why, sizeof why), "es");
    assert_string_equal(catalog_pick("de, *;q=0.1", why, sizeof why), "en");
    assert_string_equal(catalog_pick("es;q=0, fr;q=0.001", why, sizeof why), "fr");
    const char *bad[] = { "es;q=2", "es;x=1", ";;;", "es fr", "es;q=0.5x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why[0] = '\0';
        if (catalog_pick(bad[i], why, sizeof why))
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(why, "malformed Accept-Language"));
    }
    char *big = malloc(10241);
    assert_non_null(big);
    for (int i = 0; i < 10240; i++)
        big[i] = "es-MX,"[i % 6];
    big[10240] = '\0';
    assert_null(catalog_pick(big, why, sizeof why));
    assert_non_null(strstr(why, "Accept-Language header of 10240 bytes"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_committed),
        cmocka_unit_test(test_bad_catalogs),
        cmocka_unit_test(test_accept_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
