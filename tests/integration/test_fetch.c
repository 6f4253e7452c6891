/* test_fetch — collector/fetch.c: the helper's answer parsed, and children
 * that answer, fail, say too much, hang or vanish, each reported once as
 * its own outcome on the loop; the child sees none of the daemon's
 * descriptors and is always reaped. Helpers here are small shell scripts
 * in a temporary directory; the real poe-fetch is tested through the
 * importer (test_importer). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "timeutil.h"

typedef struct {
    char dir[64];
    struct event_base *base;
    int calls;
    fetch_answer_t a;
    char body[300000];
} s_ctx_t;

static int s_setup(void **state)
{
    s_ctx_t *c = calloc(1, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/test_fetch.XXXXXX");
    if (!c || !mkdtemp(c->dir))
        return -1;
    c->base = event_base_new();
    *state = c;
    return c->base ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_ctx_t *c = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", c->dir);
    if (system(cmd) != 0)
        return -1;
    event_base_free(c->base);
    free(c);
    return 0;
}

/* A helper script named name that runs sh_body. Static buffer. */
static const char *s_script(s_ctx_t *c, const char *name, const char *sh_body)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", sh_body);
    fclose(f);
    assert_int_equal(chmod(path, 0755), 0);
    return path;
}

static void s_done(void *arg, const fetch_answer_t *a)
{
    s_ctx_t *c = arg;
    c->calls++;
    c->a = *a;
    assert_true(a->len < sizeof c->body);
    memcpy(c->body, a->body, a->len);
    c->body[a->len] = 0;
    c->a.body = c->body;
}

/* Fetch with helper, run the loop until done (at most 15 s); ms taken. */
static int64_t s_run(s_ctx_t *c, const char *helper, long total_s, size_t max_bytes)
{
    fetch_req_t r = { .helper = helper, .url = "http://127.0.0.1:9/x", .user_agent = "t",
                      .connect_timeout_s = 1, .total_timeout_s = total_s,
                      .max_redirects = 5, .max_bytes = max_bytes };
    c->calls = 0;
    int64_t t0 = tu_mono_ms();
    fetch_t *f = fetch_new(c->base, &r, s_done, c);
    assert_non_null(f);
    while (c->calls == 0 && tu_mono_ms() - t0 < 15000)
        event_base_loop(c->base, EVLOOP_ONCE);
    int64_t took = tu_mono_ms() - t0;
    fetch_destroy(&f);
    assert_int_equal(c->calls, 1);
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left, not even a zombie */
    assert_int_equal(errno, ECHILD);
    return took;
}

static void test_answers_parsed(void **state)
{
    (void)state;
    fetch_answer_t a;
    char ok[] = "poe-fetch 1\noutcome done\nhttp 200\netag \"v1\"\nlast-modified Tue, 1 Dec 2026"
                "\nerror \nfuture something\nlength 5\n\nhello";
    assert_int_equal(fetch_parse_answer(ok, strlen(ok), &a), 0);
    assert_int_equal(a.outcome, FETCH_DONE);
    assert_int_equal(a.http, 200);
    assert_string_equal(a.etag, "\"v1\"");
    assert_string_equal(a.last_modified, "Tue, 1 Dec 2026");
    assert_int_equal(a.len, 5);
    assert_string_equal(a.body, "hello");

    char to[] = "poe-fetch 1\noutcome timeout\nhttp 0\nerror Timeout was reached\nlength 0\n\n";
    assert_int_equal(fetch_parse_answer(to, strlen(to), &a), 0);
    assert_int_equal(a.outcome, FETCH_TIMEOUT);
    assert_string_equal(a.error, "Timeout was reached");
    assert_int_equal(a.len, 0);

    static const char *bad[] = {
        "",
        "HTTP/1.1 200 OK\n\n",
        "poe-fetch 2\noutcome done\nlength 0\n\n",
        "poe-fetch 1\noutcome done\nlength 5\n\nhell",          /* short body */
        "poe-fetch 1\noutcome done\nlength 5\n\nhello!",        /* long body */
        "poe-fetch 1\noutcome done\nlength five\n\nhello",
        "poe-fetch 1\noutcome exploded\nlength 0\n\n",
        "poe-fetch 1\noutcome done\nlength 0\n",                /* head never ends */
        "poe-fetch 1\nhttp 200\nlength 0\n\n",                  /* no outcome */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[128];
        size_t n = strlen(bad[i]);
        memcpy(buf, bad[i], n + 1);
        assert_int_equal(fetch_parse_answer(buf, n, &a), -1);
        assert_int_equal(a.outcome, FETCH_HELPER);
        assert_non_null(strstr(a.error, "malformed"));
        assert_int_equal(a.len, 0);
    }
}

/* A body larger than a pipe holds arrives whole: the answer is read while
 * the child writes it. */
static void test_a_long_answer_arrives_whole(void **state)
{
    s_ctx_t *c = *state;
    const char *h = s_script(c, "long.sh",
                             "printf 'poe-fetch 1\\noutcome done\\nhttp 200\\netag e\\nlength 200000\\n\\n'\n"
                             "head -c 200000 /dev/zero | tr '\\0' 'a'");
    s_run(c, h, 5, 1 << 20);
    assert_int_equal(c->a.outcome, FETCH_DONE);
    assert_int_equal(c->a.http, 200);
    assert_int_equal(c->a.len, 200000);
    assert_int_equal(strspn(c->body, "a"), 200000);
}

static void test_failures_are_outcomes(void **state)
{
    s_ctx_t *c = *state;
    s_run(c, s_script(c, "exit3.sh", "exit 3"), 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);
    assert_string_equal(c->a.error, "poe-fetch exited with status 3");

    s_run(c, s_script(c, "garbage.sh", "echo '<html>'"), 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);
    assert_non_null(strstr(c->a.error, "malformed"));

    s_run(c, s_script(c, "silent.sh", "exit 0"), 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);

    s_run(c, s_script(c, "killed.sh", "kill -9 $$"), 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);
    assert_string_equal(c->a.error, "poe-fetch died of signal 9");

    /* far more than an answer can be: stopped, not buffered */
    s_run(c, s_script(c, "flood.sh", "head -c 50000000 /dev/zero"), 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);
    assert_non_null(strstr(c->a.error, "said more than"));

    char missing[128];
    snprintf(missing, sizeof missing, "%s/no-such-helper", c->dir);
    s_run(c, missing, 5, 1000);
    assert_int_equal(c->a.outcome, FETCH_HELPER);
    assert_non_null(strstr(c->a.error, "cannot start"));
}

/* A child that never answers is killed at its deadline (the request's
 * total timeout and FETCH_GRACE_S), not waited for. */
static void test_a_hung_helper_is_killed(void **state)
{
    s_ctx_t *c = *state;
    int64_t took = s_run(c, s_script(c, "hang.sh", "exec sleep 60"), 1, 1000);
    assert_int_equal(c->a.outcome, FETCH_TIMEOUT);
    assert_non_null(strstr(c->a.error, "killed"));
    assert_true(took >= (1 + FETCH_GRACE_S) * 1000 - 50);
    assert_true(took < (1 + FETCH_GRACE_S) * 1000 + 5000);
}

/* Destroyed mid-request: the child is killed and reaped, nothing called. */
static void test_destroy_kills_the_child(void **state)
{
    s_ctx_t *c = *state;
    fetch_req_t r = { .helper = s_script(c, "hang2.sh", "exec sleep 60"), .url = "http://x/",
                      .connect_timeout_s = 1, .total_timeout_s = 30, .max_bytes = 10 };
    c->calls = 0;
    fetch_t *f = fetch_new(c->base, &r, s_done, c);
    assert_non_null(f);
    event_base_loop(c->base, EVLOOP_NONBLOCK);
    int64_t t0 = tu_mono_ms();
    fetch_destroy(&f);
    assert_null(f);
    assert_true(tu_mono_ms() - t0 < 2000);
    event_base_loop(c->base, EVLOOP_NONBLOCK);
    assert_int_equal(c->calls, 0);
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* The child has stdin, stdout and stderr, nothing of the daemon's. */
static void test_the_child_sees_no_descriptor_of_ours(void **state)
{
    s_ctx_t *c = *state;
    int marker = dup2(STDERR_FILENO, 200); /* not close-on-exec */
    assert_int_equal(marker, 200);
    const char *h = s_script(c, "fds.sh",
                             "l=$(ls /proc/$$/fd | sort -n | tr '\\n' ' ')\n"
                             "printf 'poe-fetch 1\\noutcome done\\nhttp 200\\nlength %d\\n\\n%s' "
                             "\"${#l}\" \"$l\"");
    s_run(c, h, 5, 1000);
    close(marker);
    assert_int_equal(c->a.outcome, FETCH_DONE);
    print_message("the child's descriptors: %s\n", c->body);
    assert_null(strstr(c->body, "200"));
    assert_int_equal(strncmp(c->body, "0 1 2 ", 6), 0);
}

/* The default helper: beside the running program, else on PATH, else the
 * path beside the program (which the importer's error then names). */
static void test_default_helper(void **state)
{
    s_ctx_t *c = *state;
    char self[1024], beside[1100];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(beside, sizeof beside, "%s/poe-fetch", self);
    assert_int_not_equal(access(beside, X_OK), 0); /* the tests' folder has none */
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    char path[256];
    snprintf(path, sizeof path, "/nonexistent::%s:/bin", c->dir);
    setenv("PATH", path, 1);
    assert_string_equal(fetch_default_helper(), beside); /* none on PATH yet */
    char want[128];
    snprintf(want, sizeof want, "%s", s_script(c, "poe-fetch", "exit 0"));
    assert_string_equal(fetch_default_helper(), want);
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_parsed),
        cmocka_unit_test_setup_teardown(test_a_long_answer_arrives_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failures_are_outcomes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_hung_helper_is_killed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_kills_the_child, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_the_child_sees_no_descriptor_of_ours, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_default_helper, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
