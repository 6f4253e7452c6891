/* benchstack — see benchstack.h. */
#include "benchstack.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

static volatile sig_atomic_t s_interrupted;

static void s_on_signal(int sig)
{
    (void)sig;
    s_interrupted = 1;
}

void bstack_signals(void)
{
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
}

bool bstack_interrupted(void) { return s_interrupted != 0; }

int bstack_init(bstack_t *st, const char *name, const char *bin, const char *workdir)
{
    *st = (bstack_t){ .name = name, .bin = bin };
    if (!workdir)
        workdir = "/tmp";
    snprintf(st->dir, sizeof st->dir, "%s/%s-XXXXXX", workdir, name);
    if (!mkdtemp(st->dir)) {
        fprintf(stderr, "%s: cannot make a directory in %s: %s\n", name, workdir,
                strerror(errno));
        st->dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* Append more (NULL-terminated; NULL for none) to argv, NULL-terminated in
 * cap slots. 0, or -1 after a message when they do not fit. */
static int s_append(const bstack_t *st, const char **argv, size_t cap, const char *const *more)
{
    size_t n = 0;
    while (argv[n])
        n++;
    for (size_t i = 0; more && more[i]; i++) {
        if (n + 1 >= cap) {
            fprintf(stderr, "%s: too many arguments for %s\n", st->name, argv[0]);
            return -1;
        }
        argv[n++] = more[i];
    }
    argv[n] = NULL;
    return 0;
}

pid_t bstack_spawn(const bstack_t *st, const char *const argv[], const char *logname)
{
    char log[600];
    snprintf(log, sizeof log, "%s/%s.log", st->dir, logname);
    return proc_spawn(argv, log);
}

int bstack_start(bstack_t *st, const char *registry, const char *const *extra)
{
    st->rrdc = proc_start_rrdcached(st->dir, st->sock, sizeof st->sock);
    if (st->rrdc < 0) {
        fprintf(stderr, "%s: rrdcached did not start (see %s/rrdcached.log)\n", st->name, st->dir);
        return -1;
    }
    char coll[600], listen[64], http[64], rrdc[620], archive[600], state[600];
    st->zport = proc_free_port();
    st->hport = proc_free_port();
    snprintf(coll, sizeof coll, "%s/poe-collector", st->bin);
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", st->zport);
    snprintf(http, sizeof http, "127.0.0.1:%d", st->hport);
    snprintf(rrdc, sizeof rrdc, "unix:%s", st->sock);
    snprintf(archive, sizeof archive, "%s/archive", st->dir);
    snprintf(state, sizeof state, "%s/state", st->dir);
    /* BENCH_LOG_LEVEL=debug (with BENCH_KEEP=1) shows e.g. each sync's time. */
    const char *level = getenv("BENCH_LOG_LEVEL");
    const char *argv[40] = { coll, "--listen", listen, "--http", http, "--rrdcached", rrdc,
                             "--archive", archive, "--state", state, "--registry", registry,
                             "--rra-profile", "compact", "--log-level", level ? level : "warn" };
    if (s_append(st, argv, sizeof argv / sizeof *argv, extra) != 0)
        return -1;
    st->coll = bstack_spawn(st, argv, "collector");
    if (st->coll < 0 || proc_wait_tcp(st->hport, 15000) != 0 ||
        proc_wait_exit(st->coll, 0, NULL) == 0) {
        fprintf(stderr, "%s: poe-collector did not start (see %s/collector.log)\n", st->name,
                st->dir);
        return -1;
    }
    return 0;
}

pid_t bstack_spawn_agent(const bstack_t *st, const char *crossing, const char *direction,
                         const char *const *extra)
{
    char agent[600], coll[64], name[64], spool[600];
    snprintf(agent, sizeof agent, "%s/poe-agent", st->bin);
    snprintf(coll, sizeof coll, "tcp://127.0.0.1:%d", st->zport);
    snprintf(name, sizeof name, "agent-%s-%s", crossing, direction);
    snprintf(spool, sizeof spool, "%s/spool-%s-%s", st->dir, crossing, direction);
    const char *argv[40] = { agent, "--crossing", crossing, "--direction", direction,
                             "--collector", coll, "--spool", spool };
    static const char *const tail[] = { "--log-level", "warn", NULL };
    if (s_append(st, argv, sizeof argv / sizeof *argv, extra) != 0 ||
        s_append(st, argv, sizeof argv / sizeof *argv, tail) != 0)
        return -1;
    return bstack_spawn(st, argv, name);
}

void bstack_stop(bstack_t *st, bool failed)
{
    if (st->coll > 0)
        proc_stop(st->coll, 5000);
    /* Its cache holds every update (-w 3600) and the directory goes. */
    if (st->rrdc > 0)
        proc_stop(st->rrdc, 1000);
    st->coll = st->rrdc = 0;
    if (st->dir[0] != '/')
        return;
    if (!failed && !getenv("BENCH_KEEP")) {
        proc_rm_rf(st->dir);
    } else {
        char sub[600];
        snprintf(sub, sizeof sub, "%s/archive", st->dir);
        proc_rm_rf(sub);
        fprintf(stderr, "logs kept in %s\n", st->dir);
    }
    st->dir[0] = '\0';
}

long long bstack_cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15, counted after the command name's closing ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (long long)(ut + st);
}

long bstack_status_kb(pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && kb < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, name, strlen(name)) == 0)
            kb = atol(line + strlen(name));
    if (f)
        fclose(f);
    return kb;
}
