/* test_notify — both daemons speak systemd's notify protocol (Type=notify,
 * WatchdogSec=; common/sdnotify.h), checked from the manager's side: the
 * test plays systemd with a Unix datagram socket in a temporary directory
 * as NOTIFY_SOCKET and WATCHDOG_USEC set, reads the sender's pid from
 * SCM_CREDENTIALS as systemd does (NotifyAccess=main), and expects from
 * the daemon itself READY=1, then WATCHDOG=1 within every period, then
 * STOPPING=1 on SIGTERM. The module's own edges (abstract socket, a
 * watchdog meant for another pid, no manager) are checked in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "sdnotify.h"
#include "stack.h"
#include "timeutil.h"

/* Pings due every second, sent every 0.5 s: a period long enough that a
 * loaded machine or a sanitizer build does not miss one by slowness alone. */
#define WATCHDOG_USEC "1000000"
#define WATCHDOG_MS 1000
#define PINGS_READ_MS 4000
#define MAX_MSGS 256

typedef struct {
    pid_t pid;
    char text[256];
    int64_t at_ms;
} msg_t;

typedef struct {
    int fd;
    char path[600];
    msg_t msgs[MAX_MSGS];
    int n;
} manager_t;

/* Bind the datagram socket systemd would own, with sender credentials on. */
static int s_manager_open(manager_t *m, const char *dir)
{
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s/notify.sock", dir);
    m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int on = 1;
    if (strlen(m->path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, m->path, strlen(m->path) + 1);
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        setsockopt(m->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
        return -1;
    return 0;
}

/* Collect datagrams for ms milliseconds. */
static void s_manager_read(manager_t *m, int ms)
{
    int64_t end = tu_mono_ms() + ms;
    for (int64_t left; (left = end - tu_mono_ms()) > 0 && m->n < MAX_MSGS;) {
        struct pollfd p = { .fd = m->fd, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        msg_t *g = &m->msgs[m->n];
        char cbuf[CMSG_SPACE(sizeof(struct ucred))];
        struct iovec iov = { .iov_base = g->text, .iov_len = sizeof g->text - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        ssize_t len = recvmsg(m->fd, &mh, 0);
        if (len < 0)
            continue;
        g->text[len] = '\0';
        g->at_ms = tu_mono_ms();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(c), sizeof cred);
                g->pid = cred.pid;
            }
        m->n++;
    }
}

/* Index of the first message from pid containing line (exactly, as one
 * line of the datagram) at or after index from; -1 when none. */
static int s_find(const manager_t *m, pid_t pid, const char *line, int from)
{
    size_t n = strlen(line);
    for (int i = from; i < m->n; i++) {
        if (m->msgs[i].pid != pid)
            continue;
        for (const char *p = m->msgs[i].text; (p = strstr(p, line)); p += n)
            if ((p == m->msgs[i].text || p[-1] == '\n') && (p[n] == '\0' || p[n] == '\n'))
                return i;
    }
    return -1;
}

/* READY=1 from pid, then pings at least every period (WATCHDOG_MS) after it. */
static void s_expect_ready_and_pings(const manager_t *m, pid_t pid, const char *who)
{
    int ready = s_find(m, pid, "READY=1", 0);
    if (ready < 0)
        fail_msg("%s (pid %d) sent no READY=1 (%d datagrams)", who, (int)pid, m->n);
    int pings = 0;
    int64_t last = m->msgs[ready].at_ms, worst = 0;
    for (int i = ready; (i = s_find(m, pid, "WATCHDOG=1", i + 1)) >= 0;) {
        pings++;
        if (m->msgs[i].at_ms - last > worst)
            worst = m->msgs[i].at_ms - last;
        last = m->msgs[i].at_ms;
    }
    fprintf(stderr, "notify: %s sent READY=1 and %d watchdog pings, at most %lld ms apart\n",
            who, pings, (long long)worst);
    assert_true(pings >= 4);              /* 4 s at a 500 ms rhythm: about 7 */
    assert_true(worst < WATCHDOG_MS);     /* never a missed period */
}

static void test_collector_notifies(void **state)
{
    (void)state;
    char *dir = proc_tmpdir();
    assert_non_null(dir);
    manager_t m;
    assert_int_equal(s_manager_open(&m, dir), 0);
    setenv("NOTIFY_SOCKET", m.path, 1);
    setenv("WATCHDOG_USEC", WATCHDOG_USEC, 1);
    teststack_t st;
    int up = stack_start_n(&st, 11, NULL);
    unsetenv("NOTIFY_SOCKET"); /* rrdcached inherited it too: credentials tell them apart */
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(up, 0);
    pid_t pid = st.collector;
    s_manager_read(&m, PINGS_READ_MS);
    s_expect_ready_and_pings(&m, pid, "poe-collector");
    assert_int_equal(stack_stop(&st), 0);
    s_manager_read(&m, 300);
    assert_true(s_find(&m, pid, "STOPPING=1", 0) >= 0);
    close(m.fd);
    proc_rm_rf(dir);
    free(dir);
}

static void test_agent_notifies(void **state)
{
    (void)state;
    teststack_t st;
    assert_int_equal(stack_start_n(&st, 12, NULL), 0);
    manager_t m;
    assert_int_equal(s_manager_open(&m, st.dir), 0);
    char agent[1024], spool[700], log[700];
    snprintf(agent, sizeof agent, "%s", stack_bin_path(&st, "poe-agent"));
    snprintf(spool, sizeof spool, "%s/spool", st.dir);
    snprintf(log, sizeof log, "%s/agent.log", st.dir);
    const char *argv[] = { agent, "--crossing", "250401", "--direction", "northbound",
                           "--collector", st.endpoint, "--simulate", "--spool", spool,
                           "--spool-nosync", NULL };
    setenv("NOTIFY_SOCKET", m.path, 1);
    setenv("WATCHDOG_USEC", WATCHDOG_USEC, 1);
    pid_t pid = proc_spawn(argv, log);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    assert_true(pid > 0);
    s_manager_read(&m, PINGS_READ_MS);
    s_expect_ready_and_pings(&m, pid, "poe-agent");
    assert_int_equal(proc_stop(pid, 5000), 0);
    s_manager_read(&m, 300);
    assert_true(s_find(&m, pid, "STOPPING=1", 0) >= 0);
    close(m.fd);
    assert_int_equal(stack_stop(&st), 0);
}

/* The module alone: an abstract socket ("@name"), the watchdog period
 * only for the process WATCHDOG_PID names, nothing without a manager. */
static void test_protocol_edges(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "@poenet-notify-test-%d", (int)getpid());
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    sa.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)), 0);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(sdnotify_send("STATUS=abstract"), 1);
    char buf[64] = { 0 };
    assert_int_equal(recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT), 15);
    assert_string_equal(buf, "STATUS=abstract");

    char pid[16];
    setenv("WATCHDOG_USEC", "300000", 1);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sdnotify_watchdog_usec(), 300000);
    snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sdnotify_watchdog_usec(), 0);  /* another process's watchdog */
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "soon", 1);
    assert_int_equal(sdnotify_watchdog_usec(), 0);

    /* With a watchdog, new() pings at once; destroy() says STOPPING=1. */
    setenv("WATCHDOG_USEC", "300000", 1);
    struct event_base *base = event_base_new();
    sdnotify_t *sn = sdnotify_new(base);
    assert_non_null(sn);
    sdnotify_ready(sn, "testing");
    sdnotify_destroy(&sn);
    assert_null(sn);
    const char *want[] = { "WATCHDOG=1", "READY=1\nSTATUS=testing", "STOPPING=1" };
    for (int i = 0; i < 3; i++) {
        memset(buf, 0, sizeof buf);
        assert_true(recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT) > 0);
        assert_string_equal(buf, want[i]);
    }
    event_base_free(base);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(sdnotify_send("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(sdnotify_send("READY=1"), 0);  /* no manager: nothing to do */
    sn = sdnotify_new(NULL);                       /* and no timer either */
    assert_non_null(sn);
    sdnotify_destroy(&sn);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_edges),
        cmocka_unit_test(test_collector_notifies),
        cmocka_unit_test(test_agent_notifies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
