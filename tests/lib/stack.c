/* stack — see stack.h. */
#include "stack.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"

static void s_dirs(teststack_t *s)
{
    const char *bin = getenv("POE_BIN");
    const char *src = getenv("POE_SRC");
    snprintf(s->bin, sizeof s->bin, "%s", bin ? bin : "build/bin");
    if (src) {
        snprintf(s->src, sizeof s->src, "%s", src);
    } else if (!getcwd(s->src, sizeof s->src)) {
        snprintf(s->src, sizeof s->src, ".");
    }
}

const char *stack_src_path(const teststack_t *s, const char *rel)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", s->src, rel);
    return path;
}

const char *stack_bin_path(const teststack_t *s, const char *prog)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", s->bin, prog);
    return path;
}

static int s_start(teststack_t *s, int instance, const char *agent_endpoint);

int stack_start_collector(teststack_t *s)
{
    char rrd[600], archive[600], http[64], log[600], registry[1024], coll[1024], state[600];
    snprintf(rrd, sizeof rrd, "unix:%s", s->rrd_sock);
    snprintf(archive, sizeof archive, "%s/archive", s->dir);
    snprintf(state, sizeof state, "%s/collector-state", s->dir);
    snprintf(http, sizeof http, "127.0.0.1:%d", s->http_port);
    snprintf(log, sizeof log, "%s/collector.log", s->dir);
    snprintf(registry, sizeof registry, "%s", stack_src_path(s, "deploy/registry.conf"));
    snprintf(coll, sizeof coll, "%s", stack_bin_path(s, "poe-collector"));
    const char *argv[20 + STACK_MAX_EXTRA] = { coll, "--listen", s->endpoint, "--http", http, "--rrdcached", rrd,
                             "--archive", archive, "--registry", registry, "--rra-profile",
                             "compact", "--state", state, "--allow-backfill", "--log-level",
                             "debug", NULL };
    int n = 0;
    while (argv[n])
        n++;
    for (int i = 0; i < STACK_MAX_EXTRA && s->extra[i]; i++)
        argv[n++] = s->extra[i];
    argv[n] = NULL;
    s->collector = proc_spawn(argv, log);
    if (s->collector < 0 || proc_wait_tcp(s->http_port, 10000) != 0) {
        fprintf(stderr, "stack: collector did not start (log %s)\n", log);
        return -1;
    }
    if (proc_wait_exit(s->collector, 0, NULL) == 0) { /* the port answered, but not ours */
        fprintf(stderr, "stack: collector exited at start (log %s)\n", log);
        s->collector = -1;
        return -1;
    }
    return 0;
}

int stack_start_rrdcached(teststack_t *s)
{
    s->rrdcached = proc_start_rrdcached(s->dir, s->rrd_sock, sizeof s->rrd_sock);
    return s->rrdcached < 0 ? -1 : 0;
}

int stack_start_args(teststack_t *s, int instance, const char *const *extra)
{
    const char *keep[STACK_MAX_EXTRA] = { 0 };
    int i = 0;
    for (; i < STACK_MAX_EXTRA - 1 && extra && extra[i]; i++)
        keep[i] = extra[i];
    assert(!extra || !extra[i]); /* all of them, never some */
    memset(s, 0, sizeof *s);
    memcpy(s->extra, keep, sizeof keep);
    return s_start(s, instance, NULL);
}

int stack_start_n(teststack_t *s, int instance, const char *agent_endpoint)
{
    memset(s, 0, sizeof *s);
    return s_start(s, instance, agent_endpoint);
}

/* True when nothing listens on 127.0.0.1:port (a bind succeeds). */
static bool s_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The pid-derived base, or the next one whose two ports are free: other
 * test programs (or a developer's collector) may hold them, and a collector
 * that cannot listen would leave the test talking to someone else's. */
static int s_free_base(int base)
{
    for (int i = 0; i < 64; i++) {
        int b = 20000 + (base - 20000 + i * 97) % 13000;
        if (s_port_free(b) && s_port_free(b + 1))
            return b;
    }
    return base;
}

static int s_start(teststack_t *s, int instance, const char *agent_endpoint)
{
    s_dirs(s);
    s->rrdcached = s->collector = -1;
    s->dir = proc_tmpdir();
    if (!s->dir)
        return -1;
    int base = s_free_base(20000 + (int)(getpid() % 13000) + instance * 3);
    s->http_port = base + 1;
    if (agent_endpoint)
        snprintf(s->endpoint, sizeof s->endpoint, "%s", agent_endpoint);
    else
        snprintf(s->endpoint, sizeof s->endpoint, "tcp://127.0.0.1:%d", base);
    if (stack_start_rrdcached(s) != 0 || stack_start_collector(s) != 0) {
        fprintf(stderr, "stack: failed to start (logs in %s)\n", s->dir);
        stack_stop(s);
        return -1;
    }
    return 0;
}

int stack_start(teststack_t *s) { return stack_start_n(s, 0, NULL); }

void stack_kill9(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        proc_wait_exit(*pid, 5000, NULL);
        *pid = -1;
    }
}

static void s_dump_log(const teststack_t *s, const char *name)
{
    char path[600], line[512];
    snprintf(path, sizeof path, "%s/%s", s->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

/* SIGTERM, then the exit status: a clean daemon exits 0. */
static int s_stop_one(teststack_t *s, pid_t *pid, const char *name, const char *log)
{
    if (*pid <= 0)
        return 0;
    int code = proc_stop(*pid, 5000);
    *pid = -1;
    if (code == 0)
        return 0;
    fprintf(stderr, "stack: %s exited with %d\n", name, code);
    if (s->dir)
        s_dump_log(s, log);
    return -1;
}

int stack_stop(teststack_t *s)
{
    int rc = 0;
    rc |= s_stop_one(s, &s->collector, "poe-collector", "collector.log");
    rc |= s_stop_one(s, &s->rrdcached, "rrdcached", "rrdcached.log");
    if (s->dir) {
        if (getenv("POE_KEEP_TMP"))
            fprintf(stderr, "stack: keeping %s\n", s->dir);
        else
            proc_rm_rf(s->dir);
        free(s->dir);
        s->dir = NULL;
    }
    return rc;
}
