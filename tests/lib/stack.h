/* stack — start a whole poenet stack for a test: rrdcached, poe-collector
 * (and agents via proc_spawn), in one temporary directory on loopback, and
 * tear it down with bounded time. Ports are derived from the test's pid so
 * parallel runs do not collide. */
#ifndef POE_TEST_STACK_H
#define POE_TEST_STACK_H

#include <sys/types.h>

typedef struct {
    char *dir;                 /* temporary directory, removed by stack_stop */
    char rrd_sock[512];
    char endpoint[64];         /* collector's agent endpoint */
    int http_port;
    pid_t rrdcached, collector;
    char bin[512];             /* where poe-agent and poe-collector are */
#define STACK_MAX_EXTRA 24
    const char *extra[STACK_MAX_EXTRA]; /* more collector arguments, NULL-terminated (set before start) */
    char src[512];             /* the repository root */
} teststack_t;

/* Start rrdcached and a collector with the repository's registry. 0 or -1
 * (whatever started is stopped again). */
int stack_start(teststack_t *s);

/* The same for a second (third...) stack in one test: instance picks the
 * ports; agent_endpoint, when not NULL, is where the collector listens for
 * agents (e.g. on a veth address the test created). */
int stack_start_n(teststack_t *s, int instance, const char *agent_endpoint);

/* Like stack_start_n, with more collector arguments (NULL-terminated, at
 * most STACK_MAX_EXTRA - 1; more is a programmer error). */
int stack_start_args(teststack_t *s, int instance, const char *const *extra);

/* (Re)start one daemon of the stack in its directory (same socket, ports,
 * archive and state): after a kill, to test recovery. */
int stack_start_collector(teststack_t *s);
int stack_start_rrdcached(teststack_t *s);

/* kill -9 and reap; *pid becomes -1. */
void stack_kill9(pid_t *pid);

/* Stop everything started and remove the directory. Returns 0 when every
 * daemon exited 0 on SIGTERM (a sanitizer report or a leak makes the exit
 * status non-zero), -1 otherwise, after printing the daemon's log. */
int stack_stop(teststack_t *s);

/* Path of a file in the repository (tests/fixtures/...), static buffer. */
const char *stack_src_path(const teststack_t *s, const char *rel);

/* Path of a program in POE_BIN, static buffer. */
const char *stack_bin_path(const teststack_t *s, const char *prog);

#endif
