/* test_static — serving the dashboards' files (collector/static.c) must
 * never reach outside their directory: "..", ".", hidden files, escapes,
 * absolute paths, backslashes and symlinks that point out are refused;
 * symlinks that stay inside, types, caching by (inode, size, mtime), the
 * ETag changing with the file, gzip only for text, size limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "route.h"
#include "static.h"

static char *s_tmp;       /* <tmp>/, holding www/ (the root) and secret.txt */
static char s_root[600];

static void s_write(const char *rel, const char *text)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", s_tmp, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void s_link(const char *target, const char *rel)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", s_tmp, rel);
    assert_int_equal(symlink(target, path), 0);
}

static int s_setup(void **state)
{
    (void)state;
    s_tmp = proc_tmpdir();
    if (!s_tmp)
        return -1;
    snprintf(s_root, sizeof s_root, "%s/www", s_tmp);
    char sub[700];
    mkdir(s_root, 0755);
    snprintf(sub, sizeof sub, "%s/sub", s_root);
    mkdir(sub, 0755);
    snprintf(sub, sizeof sub, "%s/www-evil", s_tmp);   /* a sibling sharing the prefix */
    mkdir(sub, 0755);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    proc_rm_rf(s_tmp);
    free(s_tmp);
    return 0;
}

static int s_get(static_dir_t *d, const char *rel, static_file_t *f)
{
    int rc = static_get(d, rel, false, f);
    return rc;
}

static void s_release(static_file_t *f)
{
    http_cache_body_unref(f->body);
    http_cache_body_unref(f->gz);
}

static void test_path_syntax(void **state)
{
    (void)state;
    const char *good[] = { "index.html", "board.js", "sub/x.css", "a-b_c.1.svg", "img/logo.png" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!static_path_ok(good[i]))
            fail_msg("'%s' should be accepted", good[i]);
    const char *bad[] = {
        "", "/", "/etc/passwd", "..", "../secret.txt", "sub/../../secret.txt", "sub/..",
        "./index.html", "sub/./x.css", ".hidden", "sub/.git/config", "a//b.js", "sub/",
        "%2e%2e/secret.txt", "..%2fsecret.txt", "sub%2fx.css", "a\\b.js", "..\\secret.txt",
        "a b.js", "a\tb.js", "caf\xc3\xa9.js", "a?b.js", "a:b.js", "~root",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (static_path_ok(bad[i]))
            fail_msg("'%s' should be refused", bad[i]);
    assert_false(static_path_ok(NULL));
    char long_path[STATIC_MAX_PATH + 2];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    assert_false(static_path_ok(long_path));
    long_path[STATIC_MAX_PATH] = '\0';
    assert_true(static_path_ok(long_path));
}

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(static_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(static_content_type("a/b.js"), "text/javascript; charset=utf-8");
    assert_string_equal(static_content_type("s.css"), "text/css; charset=utf-8");
    assert_string_equal(static_content_type("g.svg"), "image/svg+xml");
    assert_string_equal(static_content_type("p.png"), "image/png");
    assert_null(static_content_type("Makefile"));
    assert_null(static_content_type("x.sh"));
    assert_null(static_content_type("x.html.bak"));
    assert_null(static_content_type("dir.js/file"));
    assert_null(static_content_type(NULL));
}

static void test_serves_inside_only(void **state)
{
    (void)state;
    s_write("secret.txt", "top secret\n");
    s_write("www-evil/x.txt", "sibling\n");
    s_write("www/index.html", "<!doctype html><title>x</title>\n");
    s_write("www/sub/x.css", "body{}\n");
    s_write("www/run.sh", "#!/bin/sh\n");
    s_link("../secret.txt", "www/out.txt");              /* relative link out */
    char abs[800];
    snprintf(abs, sizeof abs, "%s/secret.txt", s_tmp);
    s_link(abs, "www/abs.txt");                           /* absolute link out */
    s_link("../www-evil/x.txt", "www/sib.txt");           /* out, into a prefix-sharing sibling */
    s_link("..", "www/up");                               /* a directory link out */
    s_link("sub/x.css", "www/in.css");                    /* a link that stays inside */
    s_link("/etc", "www/etc");

    static_dir_t *d = static_new(s_root);
    assert_non_null(d);
    static_file_t f;
    assert_int_equal(s_get(d, "index.html", &f), 0);
    assert_string_equal(f.ctype, "text/html; charset=utf-8");
    assert_string_equal(f.cache, "no-cache");
    assert_memory_equal(f.body->data, "<!doctype html>", 15);
    assert_null(f.gz);
    s_release(&f);
    assert_int_equal(s_get(d, "sub/x.css", &f), 0);
    assert_string_equal(f.cache, "public, max-age=300");
    s_release(&f);
    assert_int_equal(s_get(d, "in.css", &f), 0);
    assert_memory_equal(f.body->data, "body{}", 6);
    s_release(&f);

    const char *refused[] = {
        "out.txt", "abs.txt", "sib.txt", "up/secret.txt", "etc/passwd", "etc/hostname",
        "../secret.txt", "sub/../../secret.txt", "%2e%2e/secret.txt", "run.sh", "sub",
        "missing.html", "sub/missing.css", "/index.html", abs,
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (s_get(d, refused[i], &f) != -1)
            fail_msg("'%s' should not be served", refused[i]);
        assert_null(f.body);
    }
    static_destroy(&d);
    assert_null(d);
    static_destroy(&d);   /* twice is harmless */
}

static void test_root_checks(void **state)
{
    (void)state;
    char missing[800];
    snprintf(missing, sizeof missing, "%s/nope", s_tmp);
    assert_null(static_new(missing));
    assert_null(static_new(NULL));
    char file[800];
    s_write("plain.txt", "x");
    snprintf(file, sizeof file, "%s/plain.txt", s_tmp);
    assert_null(static_new(file));
    static_file_t f;
    assert_int_equal(static_get(NULL, "index.html", false, &f), -1);
    /* A root given through a symlink resolves to the real directory. */
    char link[800];
    s_link("www", "www-link");
    snprintf(link, sizeof link, "%s/www-link", s_tmp);
    static_dir_t *d = static_new(link);
    assert_non_null(d);
    assert_non_null(strstr(static_root(d), "/www"));
    assert_null(strstr(static_root(d), "www-link"));
    static_destroy(&d);
}

static void test_cache_and_etag(void **state)
{
    (void)state;
    static_dir_t *d = static_new(s_root);
    assert_non_null(d);
    s_write("www/app.js", "var a = 1;\n");
    static_file_t f1, f2, f3;
    assert_int_equal(s_get(d, "app.js", &f1), 0);
    assert_int_equal(s_get(d, "app.js", &f2), 0);
    assert_ptr_equal(f1.body, f2.body);          /* served from the cache */
    assert_string_equal(f1.etag, f2.etag);
    assert_true(f1.etag[0] == '"' && f1.etag[strlen(f1.etag) - 1] == '"');
    /* A changed file (other size) is read again, with another tag. */
    s_write("www/app.js", "var a = 22;\n");
    assert_int_equal(s_get(d, "app.js", &f3), 0);
    assert_ptr_not_equal(f3.body, f1.body);
    assert_string_not_equal(f3.etag, f1.etag);
    assert_memory_equal(f3.body->data, "var a = 22;\n", 12);
    /* The old body stays valid for responses still holding it. */
    assert_memory_equal(f1.body->data, "var a = 1;\n", 11);
    s_release(&f1);
    s_release(&f2);
    s_release(&f3);
    static_destroy(&d);
}

static void test_gzip_only_for_text(void **state)
{
    (void)state;
    char big[4096];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = "abcdefgh\n"[i % 9];
    big[sizeof big - 1] = '\0';
    s_write("www/big.js", big);
    s_write("www/big.png", big);
    static_dir_t *d = static_new(s_root);
    static_file_t f;
    assert_int_equal(static_get(d, "big.js", true, &f), 0);
    assert_non_null(f.gz);
    assert_true(f.gz->len < f.body->len);
    s_release(&f);
    assert_int_equal(static_get(d, "big.js", false, &f), 0);
    assert_null(f.gz);
    s_release(&f);
    assert_int_equal(static_get(d, "big.png", true, &f), 0);
    assert_null(f.gz);
    s_release(&f);
    static_destroy(&d);
}

static void test_too_large(void **state)
{
    (void)state;
    char path[800];
    snprintf(path, sizeof path, "%s/huge.js", s_root);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), (off_t)STATIC_MAX_FILE + 1), 0);
    fclose(fp);
    static_dir_t *d = static_new(s_root);
    static_file_t f;
    assert_int_equal(static_get(d, "huge.js", false, &f), -1);
    static_destroy(&d);
}

/* More distinct files than the cache holds: the least recently used goes,
 * every file is still served right. */
static void test_many_files(void **state)
{
    (void)state;
    static_dir_t *d = static_new(s_root);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < STATIC_MAX_FILES + 8; i++) {
            char rel[32], text[32];
            snprintf(rel, sizeof rel, "f%d.txt", i);
            snprintf(text, sizeof text, "file %d", i);
            if (round == 0) {
                char wrel[40];
                snprintf(wrel, sizeof wrel, "www/%s", rel);
                s_write(wrel, text);
            }
            static_file_t f;
            assert_int_equal(static_get(d, rel, false, &f), 0);
            assert_int_equal(f.body->len, strlen(text));
            assert_memory_equal(f.body->data, text, strlen(text));
            s_release(&f);
        }
    }
    static_destroy(&d);
}

/* The routes that lead here. */
static void test_routes(void **state)
{
    (void)state;
    char id[ROUTE_ID_MAX];
    assert_int_equal(route_match("/", id, sizeof id), ROUTE_DASH_BOARD);
    assert_int_equal(route_match("/crossing/250401", id, sizeof id), ROUTE_DASH_CROSSING);
    assert_string_equal(id, "250401");
    assert_int_equal(route_match("/crossing/", id, sizeof id), ROUTE_NONE);
    assert_int_equal(route_match("/crossing/250401/x", id, sizeof id), ROUTE_NONE);
    assert_int_equal(route_match("/dashboards/board.js", id, sizeof id), ROUTE_DASH_ASSET);
    assert_string_equal(route_asset_path("/dashboards/board.js"), "board.js");
    assert_string_equal(route_asset_path("/dashboards/../x"), "../x"); /* static refuses it */
    assert_null(route_asset_path("/dashboards/"));
    assert_null(route_asset_path("/dashboards"));
    assert_null(route_asset_path("/v1/crossings"));
    assert_null(route_asset_path(NULL));
    assert_int_equal(route_match("/dashboards/", id, sizeof id), ROUTE_NONE);
    assert_int_equal(route_match("//", id, sizeof id), ROUTE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_syntax),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_serves_inside_only),
        cmocka_unit_test(test_root_checks),
        cmocka_unit_test(test_cache_and_etag),
        cmocka_unit_test(test_gzip_only_for_text),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_many_files),
        cmocka_unit_test(test_routes),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
