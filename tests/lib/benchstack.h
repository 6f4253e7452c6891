/* benchstack — the deployment a benchmark program (bench/) runs against:
 * its run directory <workdir>/<bench>-XXXXXX, an rrdcached and a
 * poe-collector in it on free loopback ports, the processes it spawns there
 * (each with <name>.log in the directory), the benchmark's SIGINT/SIGTERM
 * flag, and the teardown that removes the directory but keeps the logs
 * after a failure. What each benchmark measures, and its agents or clients,
 * stay in the benchmark. Messages start with the benchmark's name. */
#ifndef POE_TEST_BENCHSTACK_H
#define POE_TEST_BENCHSTACK_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    const char *name;          /* the benchmark: names the directory, starts messages */
    const char *bin;           /* where poe-collector and poe-agent are */
    char dir[512];             /* the run directory; "" when there is none */
    char sock[600];            /* rrdcached's Unix socket */
    pid_t rrdc, coll;          /* > 0 while running */
    int zport, hport;          /* the collector's agent (ZeroMQ) and HTTP ports */
} bstack_t;

/* Make the run directory <workdir>/<name>-XXXXXX (workdir NULL: /tmp) for
 * the benchmark name, whose daemons are in bin; st is reset first. 0, or
 * -1 after a message (st->dir is then ""). */
int bstack_init(bstack_t *st, const char *name, const char *bin, const char *workdir);

/* Start argv with stdout and stderr to <dir>/<logname>.log (proc_spawn).
 * The pid, or -1 when it could not be started. */
pid_t bstack_spawn(const bstack_t *st, const char *const argv[], const char *logname);

/* Start rrdcached and poe-collector in the run directory: the collector
 * listens for agents on 127.0.0.1:<zport> and for HTTP on <hport> (free
 * ports), with --archive <dir>/archive --state <dir>/state --registry
 * registry --rra-profile compact --log-level warn, then extra
 * (NULL-terminated; NULL for none). 0 once its HTTP port answers, or -1
 * after a message naming the log to read. */
int bstack_start(bstack_t *st, const char *registry, const char *const *extra);

/* Start poe-agent for crossing/direction against the collector, spooling
 * in <dir>/spool-<crossing>-<direction> and logging to
 * <dir>/agent-<crossing>-<direction>.log, with extra (NULL-terminated: its
 * source and options) before --log-level warn. The pid, or -1. */
pid_t bstack_spawn_agent(const bstack_t *st, const char *crossing, const char *direction,
                         const char *const *extra);

/* Stop the collector and rrdcached (whose unflushed cache is not waited
 * for) and remove the run directory; after a failure keep the logs in it
 * (the archive and journal go) and say where. Stop the benchmark's own
 * processes first. Safe on a zeroed st and after a failed bstack_init. */
void bstack_stop(bstack_t *st, bool failed);

/* SIGINT and SIGTERM set the flag bstack_interrupted() reads; SIGPIPE is
 * ignored (a peer that goes away shows as a failed send). */
void bstack_signals(void);

/* True once SIGINT or SIGTERM arrived: the benchmark should wind down. */
bool bstack_interrupted(void);

/* CPU time (utime + stime) pid has used, in clock ticks; 0 when unknown. */
long long bstack_cpu_ticks(pid_t pid);

/* A "Name:  N kB" line of /proc/<pid>/status (name with its colon, e.g.
 * "VmRSS:"), in kB; -1 when unknown. */
long bstack_status_kb(pid_t pid, const char *name);

#endif
