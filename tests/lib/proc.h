/* proc — test helpers for processes, temporary directories and loopback
 * endpoints: run daemons (rrdcached, poe-collector, poe-agent) in their own
 * process group, wait for their sockets, stop them with bounded time, and
 * make a plain HTTP/1.0 GET. Plain POSIX; every wait has a timeout so a
 * broken daemon fails a test instead of hanging it. */
#ifndef POE_TEST_PROC_H
#define POE_TEST_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* A new empty directory /tmp/poenet-XXXXXX. Returns the malloc'ed path,
 * NULL on error. */
char *proc_tmpdir(void);

/* Remove dir and everything below it (symlinks are removed, not followed).
 * Refuses "", "/" and relative paths. 0 on success (also when dir does not
 * exist), -1 on error. */
int proc_rm_rf(const char *dir);

/* Start argv[0] (looked up in PATH) with argv, stdout and stderr appended
 * to log_path (NULL: inherited), stdin from /dev/null, in a new process
 * group whose id is the returned pid. -1 when fork fails; an exec failure
 * shows as exit status 127 and a line in the log. */
pid_t proc_spawn(const char *const argv[], const char *log_path);

/* Until connect() to the Unix socket path succeeds: 0, or -1 after
 * timeout_ms. */
int proc_wait_unix(const char *path, int timeout_ms);

/* A loopback TCP port that is free right now (the kernel's pick), or -1. */
int proc_free_port(void);

/* Until connect() to 127.0.0.1:port succeeds: 0, or -1 after timeout_ms. */
int proc_wait_tcp(int port, int timeout_ms);

/* Wait for pid (a child of ours) to exit, at most timeout_ms. 0 and the
 * raw wait status in *status (may be NULL) once reaped; -1 on timeout or
 * error (the child keeps running). */
int proc_wait_exit(pid_t pid, int timeout_ms, int *status);

/* SIGTERM to pid's process group, SIGKILL after timeout_ms, then reap.
 * Returns the exit code, 128 + signal number when killed by a signal, or
 * -1 on error (e.g. not our child). */
int proc_stop(pid_t pid, int timeout_ms);

/* Run rrdcached in the foreground in dir:
 *   rrdcached -g -l unix:<dir>/rrdcached.sock
 *             -p <dir>/rrdcached.pid -w 3600 -z 60 -t 1 -F
 * (no journal: a kill loses what was not yet written; logging to
 * <dir>/rrdcached.log) and wait up to 10 s for its socket. The socket path
 * goes to sock_out. Returns the pid, or -1 (the process is stopped) on
 * failure. */
pid_t proc_start_rrdcached(const char *dir, char *sock_out, size_t len);

/* GET path_and_query from 127.0.0.1:port over HTTP/1.0 (10 s bound).
 * Returns the malloc'ed, NUL-terminated body and the status code in
 * *status_out (may be NULL); NULL on a connection or parse error. */
char *proc_http_get(int port, const char *path_and_query, int *status_out);

/* Where a GET's time went, in ms from its start (-1: not reached). */
typedef struct {
    long long connect_ms;   /* connect() returned: the kernel's accept queue took it */
    long long first_ms;     /* the first byte of the answer read */
    long long total_ms;     /* the close read (or the failure) */
} proc_http_times_t;

/* The same GET into the caller's buffer *buf of *cap bytes (grown as
 * needed; the caller frees it after its last call), so that a caller
 * asking again and again (a latency probe) reuses its pages instead of
 * faulting in new ones each time. The whole response, NUL-terminated,
 * lands in *buf, its body at *body_off (*body_len bytes); where the time
 * went in *times (may be NULL). Returns the status code, or -1. */
int proc_http_get_into(int port, const char *path_and_query, char **buf, size_t *cap,
                       size_t *body_off, size_t *body_len, proc_http_times_t *times);

/* The same over HTTP/1.1 with "Connection: close", as browsers and apps
 * ask (nginx's gzip_static answers gzip to 1.1 only, by default), and more
 * request headers: each line ends in "\r\n" ("Accept-Encoding: gzip\r\n");
 * NULL none. The answer must not be chunked (the body is read as it
 * comes, up to the close). */
int proc_http_get_with(int port, const char *path_and_query, const char *headers, char **buf,
                       size_t *cap, size_t *body_off, size_t *body_len, proc_http_times_t *times);

/* GET /health as the collector rendered it after this call began. The
 * collector's HTTP workers serve /health from the snapshot its main loop
 * publishes (a tick, at most about a second, behind the counters), so
 * this asks again (every 20 ms, 5 s at most) until the body's "as_of_ms"
 * is at or after the call's wall time: whatever the caller did and saw
 * acknowledged before is then counted. Returns the last body as
 * proc_http_get does (even a stale one when 5 s ran out; NULL when none). */
char *proc_health(int port, int *status_out);

/* The same for /metrics: until its poenet_published_timestamp_seconds is at
 * or after the call's wall time. */
char *proc_metrics(int port, int *status_out);

/* The whole file, NUL-terminated, malloc'ed; its length in *len (may be
 * NULL). NULL when it cannot be read. */
char *proc_slurp(const char *path, size_t *len);

/* The last lines of the file at path to stderr, so a failure in CI (whose
 * temporary directory is gone afterwards) says why. */
void proc_print_tail(const char *path, int lines);

#endif
