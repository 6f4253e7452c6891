/* proc — see proc.h. */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vec.h"
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_POLL_MS 10
#define PROC_HTTP_TIMEOUT_MS 10000

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- directories ---------------------------------------------------------- */

char *proc_tmpdir(void)
{
    char tmpl[] = "/tmp/poenet-XXXXXX";
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int s_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int proc_rm_rf(const char *dir)
{
    if (!dir || dir[0] != '/' || strcmp(dir, "/") == 0)
        return -1;
    struct stat st;
    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    /* Depth first so directories are empty when removed; FTW_PHYS so a
     * symlink is removed rather than followed out of dir. */
    return nftw(dir, s_rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* ---- processes -------------------------------------------------------------- */

pid_t proc_spawn(const char *const argv[], const char *log_path)
{
    fflush(NULL);   /* or buffered test output would be written twice */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            setpgid(pid, pid);   /* also in the child: whichever runs first */
        return pid;
    }
    setpgid(0, 0);
#ifdef __linux__
    /* A test that crashes (an ASan abort skips every teardown) must not
     * leave its daemons running. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
#endif
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) {
        dup2(in, STDIN_FILENO);
        close(in);
    }
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
    }
    /* The test runner may have set these; a daemon should start clean. */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(argv[0], (char *const *)argv);
    dprintf(STDERR_FILENO, "proc_spawn: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int proc_wait_exit(pid_t pid, int timeout_ms, int *status)
{
    long long deadline = s_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (status)
                *status = st;
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        if (s_now_ms() >= deadline)
            return -1;
        s_sleep_ms(PROC_POLL_MS);
    }
}

static int s_exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int proc_stop(pid_t pid, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    /* The group, so that anything the daemon started goes too; a group
     * that is already gone still leaves pid to reap. */
    if (kill(-pid, SIGTERM) != 0)
        kill(pid, SIGTERM);
    /* A stopped process would hold SIGTERM until the timeout. */
    if (kill(-pid, SIGCONT) != 0)
        kill(pid, SIGCONT);
    int st;
    if (proc_wait_exit(pid, timeout_ms, &st) == 0)
        return s_exit_code(st);
    if (kill(-pid, SIGKILL) != 0)
        kill(pid, SIGKILL);
    if (proc_wait_exit(pid, 5000, &st) == 0)
        return s_exit_code(st);
    return -1;
}

/* ---- sockets ------------------------------------------------------------------ */

static int s_try_connect(int family, const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, sa, len);
    close(fd);
    return rc;
}

int proc_wait_unix(const char *path, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    strcpy(sa.sun_path, path);
    long long deadline = s_now_ms() + timeout_ms;
    while (s_try_connect(AF_UNIX, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (s_now_ms() >= deadline)
            return -1;
        s_sleep_ms(PROC_POLL_MS);
    }
    return 0;
}

static struct sockaddr_in s_loopback(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

int proc_wait_tcp(int port, int timeout_ms)
{
    struct sockaddr_in sa = s_loopback(port);
    long long deadline = s_now_ms() + timeout_ms;
    while (s_try_connect(AF_INET, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (s_now_ms() >= deadline)
            return -1;
        s_sleep_ms(PROC_POLL_MS);
    }
    return 0;
}

/* ---- rrdcached -------------------------------------------------------------------- */

pid_t proc_start_rrdcached(const char *dir, char *sock_out, size_t len)
{
    char sock[512], pidf[512], logf[512];
    size_t n = (size_t)snprintf(sock, sizeof sock, "%s/rrdcached.sock", dir);
    if (n >= sizeof sock || n >= len)
        return -1;
    snprintf(pidf, sizeof pidf, "%s/rrdcached.pid", dir);
    snprintf(logf, sizeof logf, "%s/rrdcached.log", dir);
    char listen[520];
    snprintf(listen, sizeof listen, "unix:%s", sock);
    /* No -j: replaying a journal after a kill -9 can leave a hole (values
     * journaled after a file's write began are dropped by the "wrote" line
     * that follows them), and the rows after the hole then hide it from the
     * collector's time guard. Without it, what a kill loses is exactly what
     * was not yet durable, which the collector's rollback has sent again
     * (docs/archive.md). */
    const char *argv[] = { "rrdcached", "-g", "-l", listen, "-p", pidf,
                           "-w", "3600", "-z", "60", "-t", "1", "-F", NULL };
    pid_t pid = proc_spawn(argv, logf);
    if (pid < 0)
        return -1;
    /* A socket file left by a killed rrdcached refuses connections until
     * the new one has replaced it, so waiting on connect() is enough. */
    if (proc_wait_unix(sock, 10000) != 0) {
        proc_stop(pid, 5000);
        return -1;
    }
    snprintf(sock_out, len, "%s", sock);
    return pid;
}

/* ---- HTTP ----------------------------------------------------------------------------- */

static int s_send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read until EOF (HTTP/1.0: the server closes), bounded in time, into
 * *buf (grown as needed, NUL-terminated); the monotonic ms of the first
 * byte into *first_ms. 0, or -1. */
static int s_read_all(int fd, char **buf, size_t *cap, size_t *out_len, long long *first_ms)
{
    size_t len = 0;
    long long deadline = s_now_ms() + PROC_HTTP_TIMEOUT_MS;
    for (;;) {
        long long left = deadline - s_now_ms();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (left <= 0 || (poll(&p, 1, (int)left) < 0 && errno != EINTR))
            return -1;
        if (len + 1 >= *cap && VEC_RESERVE(*buf, *cap, len + 8192) != 0)
            return -1;
        ssize_t n = recv(fd, *buf + len, *cap - len - 1, MSG_DONTWAIT);
        if (n == 0) {
            (*buf)[len] = '\0';
            *out_len = len;
            return 0;
        }
        if (n > 0 && len == 0)
            *first_ms = s_now_ms();
        if (n > 0)
            len += (size_t)n;
        else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

static int s_http_get(int port, const char *proto, const char *path_and_query,
                      const char *headers, char **buf, size_t *cap, size_t *body_off,
                      size_t *body_len, proc_http_times_t *times)
{
    long long t0 = s_now_ms(), t_conn = -1, t_first = -1;
    int status = -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = s_loopback(port);
    headers = headers ? headers : "";
    size_t len = 0, reqcap = strlen(path_and_query) + strlen(headers) + 64;
    char *req = malloc(reqcap);
    int n = req ? snprintf(req, reqcap, "GET %s %s\r\nHost: 127.0.0.1\r\n%s\r\n",
                           path_and_query, proto, headers)
                : -1;
    if (fd < 0 || n < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto done;
    t_conn = s_now_ms();
    if (s_send_all(fd, req, (size_t)n) != 0 || s_read_all(fd, buf, cap, &len, &t_first) != 0)
        goto done;
    char *hdr_end = strstr(*buf, "\r\n\r\n");
    if (sscanf(*buf, "HTTP/%*d.%*d %d", &status) != 1 || !hdr_end) {
        status = -1;
        goto done;
    }
    *body_off = (size_t)(hdr_end + 4 - *buf);
    *body_len = len - *body_off;
done:
    if (times)
        *times = (proc_http_times_t){ .connect_ms = t_conn < 0 ? -1 : t_conn - t0,
                                      .first_ms = t_first < 0 ? -1 : t_first - t0,
                                      .total_ms = s_now_ms() - t0 };
    free(req);
    if (fd >= 0)
        close(fd);
    return status;
}

int proc_http_get_into(int port, const char *path_and_query, char **buf, size_t *cap,
                       size_t *body_off, size_t *body_len, proc_http_times_t *times)
{
    return s_http_get(port, "HTTP/1.0", path_and_query, NULL, buf, cap, body_off, body_len,
                      times);
}

int proc_http_get_with(int port, const char *path_and_query, const char *headers, char **buf,
                       size_t *cap, size_t *body_off, size_t *body_len, proc_http_times_t *times)
{
    char h[512];
    if (snprintf(h, sizeof h, "%sConnection: close\r\n", headers ? headers : "") >= (int)sizeof h)
        return -1;
    return s_http_get(port, "HTTP/1.1", path_and_query, h, buf, cap, body_off, body_len, times);
}

char *proc_http_get(int port, const char *path_and_query, int *status_out)
{
    char *resp = NULL, *body = NULL;
    size_t cap = 0, off = 0, len = 0;
    int status = proc_http_get_into(port, path_and_query, &resp, &cap, &off, &len, NULL);
    if (status >= 0 && (body = malloc(len + 1))) {
        memcpy(body, resp + off, len + 1);   /* with the NUL */
        if (status_out)
            *status_out = status;
    }
    free(resp);
    return body;
}

/* Wall-clock ms, as the collector stamps as_of_ms. */
static int64_t s_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET path until the number after key in its body is at least t0 (times
 * scale: ms per unit of the number), 5 s at most; the last body. */
static char *s_get_fresh(int port, const char *path, const char *key, double scale,
                         int *status_out)
{
    int64_t t0 = s_wall_ms();
    char *body = NULL;
    for (int i = 0; i < 250; i++) {
        free(body);
        body = proc_http_get(port, path, status_out);
        const char *p = body ? strstr(body, key) : NULL;
        if (p && strtod(p + strlen(key), NULL) * scale >= (double)t0)
            break;
        struct timespec pause = { 0, 20 * 1000000L };
        nanosleep(&pause, NULL);
    }
    return body;
}

char *proc_health(int port, int *status_out)
{
    return s_get_fresh(port, "/health", "\"as_of_ms\":", 1.0, status_out);
}

char *proc_metrics(int port, int *status_out)
{
    return s_get_fresh(port, "/metrics", "\npoenet_published_timestamp_seconds ", 1000.0,
                       status_out);
}

int proc_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

char *proc_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

void proc_print_tail(const char *path, int lines)
{
    size_t n = 0;
    char *buf = proc_slurp(path, &n);
    if (!buf) {
        fprintf(stderr, "---- %s: cannot be read\n", path);
        return;
    }
    size_t from = n;
    for (int seen = 0; from > 0; from--)
        if (buf[from - 1] == '\n' && from != n && ++seen == lines)
            break;
    fprintf(stderr, "---- %s (last %d lines)\n%s", path, lines, buf + from);
    free(buf);
}
