/* cdp — see cdp.h. */
#include "cdp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "vec.h"

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cdp_chromium(void)
{
    const char *env = getenv("POE_CHROMIUM");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    return access("/usr/bin/chromium", X_OK) == 0 ? "/usr/bin/chromium" : NULL;
}

/* ---- messages ------------------------------------------------------------ */

static void s_note_error(cdp_t *c, const char *fmt, const char *a, const char *b)
{
    if (c->nerrors >= CDP_MAX_ERRORS)
        return;
    char line[1024];
    snprintf(line, sizeof line, fmt, a ? a : "", b ? b : "");
    c->errors[c->nerrors++] = strdup(line);
}

/* Events we care about: anything the page's console would show in red. */
static void s_event(cdp_t *c, json_t *msg)
{
    const char *m = json_string_value(json_object_get(msg, "method"));
    json_t *p = json_object_get(msg, "params");
    if (!m || !p)
        return;
    if (strcmp(m, "Runtime.exceptionThrown") == 0) {
        json_t *d = json_object_get(p, "exceptionDetails");
        json_t *ex = json_object_get(d, "exception");
        const char *desc = json_string_value(json_object_get(ex, "description"));
        s_note_error(c, "exception: %s %s", json_string_value(json_object_get(d, "text")), desc);
    } else if (strcmp(m, "Runtime.consoleAPICalled") == 0) {
        const char *type = json_string_value(json_object_get(p, "type"));
        if (type && (strcmp(type, "error") == 0 || strcmp(type, "assert") == 0)) {
            json_t *args = json_object_get(p, "args");
            json_t *a0 = json_array_get(args, 0);
            const char *v = json_string_value(json_object_get(a0, "value"));
            if (!v)
                v = json_string_value(json_object_get(a0, "description"));
            s_note_error(c, "console.%s: %s", type, v);
        }
    } else if (strcmp(m, "Log.entryAdded") == 0) {
        json_t *e = json_object_get(p, "entry");
        const char *level = json_string_value(json_object_get(e, "level"));
        if (level && strcmp(level, "error") == 0)
            s_note_error(c, "log: %s (%s)", json_string_value(json_object_get(e, "text")),
                         json_string_value(json_object_get(e, "url")));
    }
}

static int s_send(cdp_t *c, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        return -1;
    size_t n = strlen(text) + 1; /* the NUL ends the message */
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(c->to_fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(text);
            return -1;
        }
        off += (size_t)w;
    }
    free(text);
    return 0;
}

/* Next complete message (new reference), waiting until deadline. */
static json_t *s_next(cdp_t *c, long long deadline)
{
    for (;;) {
        char *nul = c->len ? memchr(c->buf, '\0', c->len) : NULL;
        if (nul) {
            size_t n = (size_t)(nul - c->buf);
            json_error_t err;
            json_t *msg = json_loadb(c->buf, n, 0, &err);
            memmove(c->buf, nul + 1, c->len - n - 1);
            c->len -= n + 1;
            if (msg)
                return msg;
            continue;
        }
        long long left = deadline - s_now_ms();
        if (left <= 0)
            return NULL;
        struct pollfd pfd = { .fd = c->from_fd, .events = POLLIN };
        int pr = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno != EINTR)
            return NULL;
        if (pr <= 0)
            continue;
        if (c->cap - c->len < 65536 && VEC_RESERVE(c->buf, c->cap, c->len + (1 << 20)) != 0)
            return NULL;
        ssize_t r = read(c->from_fd, c->buf + c->len, c->cap - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return NULL; /* the browser went away */
        c->len += (size_t)r;
    }
}

json_t *cdp_call(cdp_t *c, bool to_page, const char *method, json_t *params, int timeout_ms)
{
    int id = ++c->next_id;
    json_t *msg = json_pack("{s:i, s:s, s:o}", "id", id, "method", method,
                            "params", params ? params : json_object());
    if (to_page && c->session[0])
        json_object_set_new(msg, "sessionId", json_string(c->session));
    int rc = s_send(c, msg);
    json_decref(msg);
    if (rc != 0) {
        fprintf(stderr, "cdp: cannot send %s\n", method);
        return NULL;
    }
    long long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        json_t *in = s_next(c, deadline);
        if (!in) {
            fprintf(stderr, "cdp: no reply to %s within %d ms\n", method, timeout_ms);
            return NULL;
        }
        json_t *jid = json_object_get(in, "id");
        if (!jid) {
            s_event(c, in);
            json_decref(in);
            continue;
        }
        if (json_integer_value(jid) != id) {
            json_decref(in);
            continue;
        }
        json_t *res = json_object_get(in, "result");
        if (!res) {
            char *e = json_dumps(json_object_get(in, "error"), JSON_COMPACT);
            fprintf(stderr, "cdp: %s failed: %s\n", method, e ? e : "?");
            free(e);
            json_decref(in);
            return NULL;
        }
        json_incref(res);
        json_decref(in);
        return res;
    }
}

/* ---- browser ------------------------------------------------------------- */

int cdp_start(cdp_t *c, const char *profile_dir, const char *log_path, int width, int height)
{
    memset(c, 0, sizeof *c);
    c->pid = -1;
    c->to_fd = c->from_fd = -1;
    const char *bin = cdp_chromium();
    if (!bin)
        return -1;
    int cmd[2], rep[2];
    if (pipe(cmd) != 0)
        return -1;
    if (pipe(rep) != 0) {
        close(cmd[0]);
        close(cmd[1]);
        return -1;
    }
    char profile[700], window[64];
    snprintf(profile, sizeof profile, "--user-data-dir=%s", profile_dir);
    snprintf(window, sizeof window, "--window-size=%d,%d", width, height);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        /* fd 3: commands in, fd 4: replies out (move both clear of 3/4 first) */
        int in = fcntl(cmd[0], F_DUPFD, 10), out = fcntl(rep[1], F_DUPFD, 10);
        if (in < 0 || out < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0)
            _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) {
            dup2(log, 1);
            dup2(log, 2);
        }
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        execl(bin, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
              "--force-device-scale-factor=1", "--remote-debugging-pipe", profile, window,
              "about:blank", (char *)NULL);
        dprintf(2, "cdp: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(cmd[0]);
    close(rep[1]);
    c->pid = pid;
    c->to_fd = cmd[1];
    c->from_fd = rep[0];
    fcntl(c->to_fd, F_SETFD, FD_CLOEXEC);
    fcntl(c->from_fd, F_SETFD, FD_CLOEXEC);

    json_t *r = cdp_call(c, false, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), 30000);
    const char *tid = r ? json_string_value(json_object_get(r, "targetId")) : NULL;
    json_t *a = tid ? cdp_call(c, false, "Target.attachToTarget",
                               json_pack("{s:s, s:b}", "targetId", tid, "flatten", 1), 10000)
                    : NULL;
    const char *sid = a ? json_string_value(json_object_get(a, "sessionId")) : NULL;
    if (sid)
        snprintf(c->session, sizeof c->session, "%s", sid);
    json_decref(r);
    json_decref(a);
    if (!c->session[0]) {
        fprintf(stderr, "cdp: could not open a page (log %s)\n", log_path);
        cdp_stop(c);
        return -1;
    }
    const char *enable[] = { "Runtime.enable", "Log.enable", "Page.enable" };
    for (size_t i = 0; i < sizeof enable / sizeof *enable; i++) {
        json_t *e = cdp_call(c, true, enable[i], NULL, 10000);
        if (!e) {
            cdp_stop(c);
            return -1;
        }
        json_decref(e);
    }
    json_t *m = cdp_call(c, true, "Emulation.setDeviceMetricsOverride",
                         json_pack("{s:i, s:i, s:i, s:b}", "width", width, "height", height,
                                   "deviceScaleFactor", 1, "mobile", 0), 10000);
    json_decref(m);
    return 0;
}

json_t *cdp_eval(cdp_t *c, const char *expr)
{
    json_t *r = cdp_call(c, true, "Runtime.evaluate",
                         json_pack("{s:s, s:b, s:b}", "expression", expr, "returnByValue", 1,
                                   "awaitPromise", 1), 20000);
    if (!r)
        return NULL;
    if (json_object_get(r, "exceptionDetails")) {
        char *e = json_dumps(json_object_get(r, "exceptionDetails"), JSON_COMPACT);
        fprintf(stderr, "cdp: evaluating %.80s threw: %.400s\n", expr, e ? e : "?");
        free(e);
        json_decref(r);
        return NULL;
    }
    json_t *v = json_object_get(json_object_get(r, "result"), "value");
    v = v ? json_incref(v) : json_null();
    json_decref(r);
    return v;
}

int cdp_goto(cdp_t *c, const char *url, const char *cond, int timeout_ms)
{
    json_t *r = cdp_call(c, true, "Page.navigate", json_pack("{s:s}", "url", url), 20000);
    if (!r)
        return -1;
    const char *err = json_string_value(json_object_get(r, "errorText"));
    if (err) {
        fprintf(stderr, "cdp: navigating to %s: %s\n", url, err);
        json_decref(r);
        return -1;
    }
    json_decref(r);
    long long deadline = s_now_ms() + timeout_ms;
    while (s_now_ms() < deadline) {
        json_t *v = cdp_eval(c, cond);
        bool ok = v && json_is_true(v);
        json_decref(v);
        if (ok)
            return 0;
        usleep(200 * 1000);
    }
    fprintf(stderr, "cdp: %s: '%s' not true within %d ms\n", url, cond, timeout_ms);
    return -1;
}

/* ---- screenshots ------------------------------------------------------------ */

static int s_b64(int ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

/* Decode base64 text into a malloc'ed buffer; NULL on bad input. */
static unsigned char *s_unbase64(const char *in, size_t *outlen)
{
    size_t n = strlen(in);
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=')
            break;
        int v = s_b64((unsigned char)in[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *outlen = o;
    return out;
}

int cdp_screenshot(cdp_t *c, const char *path, bool full_page)
{
    json_t *params = json_pack("{s:s}", "format", "png");
    if (full_page) {
        json_t *m = cdp_call(c, true, "Page.getLayoutMetrics", NULL, 10000);
        json_t *size = json_object_get(m, "cssContentSize");
        double w = json_number_value(json_object_get(size, "width"));
        double h = json_number_value(json_object_get(size, "height"));
        if (w > 0 && h > 0) {
            json_object_set_new(params, "captureBeyondViewport", json_true());
            json_object_set_new(params, "clip", json_pack("{s:i, s:i, s:f, s:f, s:i}", "x", 0, "y", 0,
                                                          "width", w, "height", h, "scale", 1));
        }
        json_decref(m);
    }
    json_t *r = cdp_call(c, true, "Page.captureScreenshot", params, 30000);
    const char *data = r ? json_string_value(json_object_get(r, "data")) : NULL;
    size_t n = 0;
    unsigned char *png = data ? s_unbase64(data, &n) : NULL;
    json_decref(r);
    if (!png || n < 8 || memcmp(png, "\x89PNG", 4) != 0) {
        free(png);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(png, 1, n, f) == n ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    free(png);
    return rc;
}

void cdp_clear_errors(cdp_t *c)
{
    for (int i = 0; i < c->nerrors; i++)
        free(c->errors[i]);
    c->nerrors = 0;
}

void cdp_stop(cdp_t *c)
{
    if (c->pid > 0 && c->to_fd >= 0) {
        json_t *r = cdp_call(c, false, "Browser.close", NULL, 5000);
        json_decref(r);
    }
    if (c->to_fd >= 0)
        close(c->to_fd);
    if (c->from_fd >= 0)
        close(c->from_fd);
    c->to_fd = c->from_fd = -1;
    if (c->pid > 0) {
        if (proc_wait_exit(c->pid, 5000, NULL) != 0)
            proc_stop(c->pid, 3000);
        /* helpers (renderer, zygote) of our own process group that outlive it */
        kill(-c->pid, SIGKILL);
        c->pid = -1;
    }
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
    cdp_clear_errors(c);
}
