/* fetch — see fetch.h. The child is started by posix_spawn with only its
 * standard descriptors (the daemon's sockets and memfds stay closed to it),
 * its answer read from a pipe as it comes (a pipe holds 64 KB: a child
 * blocked on a full one would never exit), and it is reaped once that pipe
 * ends; a child still running at that moment is waited for by a short
 * timer, never by a blocking wait on the loop. */
#include "fetch.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define FETCH_REAP_RETRY_MS 10

struct fetch {
    struct event_base *base;
    fetch_done_fn *done;
    void *arg;
    pid_t pid;                       /* 0: none or reaped */
    int fd;                          /* the pipe's read end; -1 closed */
    struct event *ev_read, *ev_deadline, *ev_reap;
    char *buf;
    size_t len, cap, max;
    long deadline_s;
    bool killed;                     /* by the deadline */
    bool overflow;                   /* said more than an answer can be */
    int wstatus;
    char why[200];                   /* a failure before any answer */
};

static const char *s_names[FETCH_NOUTCOMES] = {
    "done", "timeout", "redirects", "too-large", "transport", "helper",
};

const char *fetch_outcome_name(enum fetch_outcome o)
{
    return (unsigned)o < FETCH_NOUTCOMES ? s_names[o] : "?";
}

/* dir/poe-fetch into path when it can be run. */
static bool s_helper_in(char *path, size_t size, const char *dir, size_t dirlen)
{
    int n = snprintf(path, size, "%.*s/poe-fetch", (int)dirlen, dir);
    return n > 0 && (size_t)n < size && access(path, X_OK) == 0;
}

const char *fetch_default_helper(void)
{
    static char path[4096];
    char self[4000];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash = n > 0 ? (self[n] = 0, strrchr(self, '/')) : NULL;
    if (slash && s_helper_in(path, sizeof path, self, (size_t)(slash - self)))
        return path;
    for (const char *p = getenv("PATH"); p && *p;) {
        size_t len = strcspn(p, ":");
        if (len && s_helper_in(path, sizeof path, p, len))
            return path;
        p += len + (p[len] == ':');
    }
    /* none: the path beside the program, for the error that names it */
    if (slash)
        snprintf(path, sizeof path, "%.*s/poe-fetch", (int)(slash - self), self);
    else
        path[0] = 0;
    return path;
}

/* ---- the answer ------------------------------------------------------------ */

static fetch_answer_t *s_failed(fetch_answer_t *a, enum fetch_outcome o)
{
    memset(a, 0, sizeof *a);
    a->outcome = o;
    a->body = "";
    return a;
}

static int s_outcome_of(const char *name, enum fetch_outcome *o)
{
    for (int i = 0; i < FETCH_HELPER; i++)
        if (strcmp(name, s_names[i]) == 0) {
            *o = (enum fetch_outcome)i;
            return 0;
        }
    return -1;
}

static int s_bad(fetch_answer_t *a, const char *why)
{
    a->outcome = FETCH_HELPER;
    snprintf(a->error, sizeof a->error, "poe-fetch's answer is malformed: %s", why);
    return -1;
}

int fetch_parse_answer(char *buf, size_t len, fetch_answer_t *a)
{
    s_failed(a, FETCH_HELPER);
    buf[len] = 0;
    size_t ml = strlen(FETCH_MAGIC);
    if (len < ml + 1 || memcmp(buf, FETCH_MAGIC, ml) != 0 || buf[ml] != '\n')
        return s_bad(a, "no 'poe-fetch 1' line");
    char *p = buf + ml + 1, *end = buf + len;
    bool have_outcome = false, have_length = false;
    unsigned long long length = 0;
    for (;;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return s_bad(a, "the head does not end");
        if (nl == p) {
            p = nl + 1;
            break;
        }
        *nl = 0;
        char *v = strchr(p, ' ');
        v = v ? (*v = 0, v + 1) : nl;
        if (strcmp(p, "outcome") == 0) {
            if (s_outcome_of(v, &a->outcome) != 0)
                return s_bad(a, "an unknown outcome");
            have_outcome = true;
        } else if (strcmp(p, "http") == 0) {
            a->http = strtol(v, NULL, 10);
        } else if (strcmp(p, "etag") == 0) {
            snprintf(a->etag, sizeof a->etag, "%s", v);
        } else if (strcmp(p, "last-modified") == 0) {
            snprintf(a->last_modified, sizeof a->last_modified, "%s", v);
        } else if (strcmp(p, "error") == 0) {
            snprintf(a->error, sizeof a->error, "%s", v);
        } else if (strcmp(p, "length") == 0) {
            char *e;
            errno = 0;
            length = strtoull(v, &e, 10);
            if (errno || e == v || *e)
                return s_bad(a, "a bad length");
            have_length = true;
        } /* other keys: a newer helper's, ignored */
        p = nl + 1;
    }
    if (!have_outcome || !have_length)
        return s_bad(a, "no outcome or length");
    if (a->outcome != FETCH_DONE)
        return 0; /* no body to take */
    if (length != (unsigned long long)(end - p))
        return s_bad(a, "the body's length is not the one announced");
    a->body = p;
    a->len = (size_t)length;
    return 0;
}

/* ---- the child ------------------------------------------------------------- */

static void s_finish(fetch_t *self)
{
    fetch_answer_t a;
    size_t n = sizeof a.error;
    if (self->why[0])
        snprintf(s_failed(&a, FETCH_HELPER)->error, n, "%s", self->why);
    else if (self->killed)
        snprintf(s_failed(&a, FETCH_TIMEOUT)->error, n,
                 "poe-fetch gave no answer within %ld s: killed", self->deadline_s);
    else if (self->overflow)
        snprintf(s_failed(&a, FETCH_HELPER)->error, n, "poe-fetch said more than %zu bytes",
                 self->max);
    else if (WIFSIGNALED(self->wstatus))
        snprintf(s_failed(&a, FETCH_HELPER)->error, n, "poe-fetch died of signal %d",
                 WTERMSIG(self->wstatus));
    else if (WEXITSTATUS(self->wstatus) != 0)
        snprintf(s_failed(&a, FETCH_HELPER)->error, n, "poe-fetch exited with status %d",
                 WEXITSTATUS(self->wstatus));
    else if (!self->buf)
        snprintf(s_failed(&a, FETCH_HELPER)->error, n, "poe-fetch ended without an answer");
    else
        fetch_parse_answer(self->buf, self->len, &a);
    self->done(self->arg, &a);
}

static void s_try_reap(fetch_t *self)
{
    if (self->pid > 0) {
        pid_t r = waitpid(self->pid, &self->wstatus, WNOHANG);
        if (r == 0) {
            struct timeval tv = { 0, FETCH_REAP_RETRY_MS * 1000 };
            evtimer_add(self->ev_reap, &tv);
            return;
        }
        if (r < 0)
            self->wstatus = 0x7f00; /* not ours to wait for: status 127 */
        self->pid = 0;
    }
    evtimer_del(self->ev_deadline);
    s_finish(self);
}

static void s_on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_try_reap(arg);
}

static void s_end_of_pipe(fetch_t *self)
{
    event_del(self->ev_read);
    close(self->fd);
    self->fd = -1;
    s_try_reap(self);
}

static void s_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    fetch_t *self = arg;
    for (;;) {
        size_t need = self->len + 65536 + 1; /* a read's room and the NUL */
        if (need > self->cap && !self->overflow) {
            size_t cap = self->cap * 2 > need ? self->cap * 2 : need;
            char *b = realloc(self->buf, cap);
            if (!b) {
                snprintf(self->why, sizeof self->why, "out of memory reading poe-fetch");
                kill(self->pid, SIGKILL);
                self->overflow = true;
            } else {
                self->buf = b;
                self->cap = cap;
            }
        }
        char sink[4096];
        bool keep = !self->overflow;
        ssize_t n = keep ? read(fd, self->buf + self->len, self->cap - self->len - 1)
                         : read(fd, sink, sizeof sink);
        if (n > 0) {
            if (keep)
                self->len += (size_t)n;
            if (self->len > self->max && !self->overflow) {
                self->overflow = true;
                kill(self->pid, SIGKILL);
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        s_end_of_pipe(self); /* EOF, or an error that ends it as well */
        return;
    }
}

static void s_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_t *self = arg;
    if (self->pid > 0 && kill(self->pid, SIGKILL) == 0)
        self->killed = true;
}

/* argv for the request; numbers in the caller's buffers. */
static void s_argv(const fetch_req_t *r, char nums[4][32], const char *argv[20])
{
    int i = 0;
    snprintf(nums[0], 32, "%ld", r->connect_timeout_s);
    snprintf(nums[1], 32, "%ld", r->total_timeout_s);
    snprintf(nums[2], 32, "%ld", r->max_redirects);
    snprintf(nums[3], 32, "%zu", r->max_bytes);
    argv[i++] = "poe-fetch";
    argv[i++] = "--connect-timeout";
    argv[i++] = nums[0];
    argv[i++] = "--timeout";
    argv[i++] = nums[1];
    argv[i++] = "--max-redirs";
    argv[i++] = nums[2];
    argv[i++] = "--max-bytes";
    argv[i++] = nums[3];
    if (r->user_agent) {
        argv[i++] = "--user-agent";
        argv[i++] = r->user_agent;
    }
    if (r->if_none_match && r->if_none_match[0]) {
        argv[i++] = "--if-none-match";
        argv[i++] = r->if_none_match;
    }
    if (r->if_modified_since && r->if_modified_since[0]) {
        argv[i++] = "--if-modified-since";
        argv[i++] = r->if_modified_since;
    }
    argv[i++] = "--";
    argv[i++] = r->url;
    argv[i] = NULL;
}

/* The child: the pipe as stdout, /dev/null as stdin, nothing else open;
 * default signal handling and an empty mask whatever the spawning thread
 * had. Returns the errno of a failed start, 0 once it runs. */
static int s_spawn(fetch_t *self, const fetch_req_t *r, int wfd)
{
    char nums[4][32];
    const char *argv[20];
    s_argv(r, nums, argv);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGHUP);
    sigaddset(&dfl, SIGCHLD);
    if (posix_spawn_file_actions_init(&fa) != 0)
        return ENOMEM;
    if (posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return ENOMEM;
    }
    int rc = posix_spawn_file_actions_adddup2(&fa, wfd, STDOUT_FILENO);
    if (!rc)
        rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
    if (!rc)
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(&at, &dfl);
    if (!rc)
        rc = posix_spawn(&self->pid, r->helper, &fa, &at, (char *const *)argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        self->pid = 0;
    return rc;
}

fetch_t *fetch_new(struct event_base *base, const fetch_req_t *req, fetch_done_fn *done, void *arg)
{
    fetch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base;
    self->done = done;
    self->arg = arg;
    self->fd = -1;
    self->max = FETCH_HEAD_MAX + req->max_bytes;
    self->deadline_s = req->total_timeout_s + FETCH_GRACE_S;
    self->ev_deadline = evtimer_new(base, s_on_deadline, self);
    self->ev_reap = evtimer_new(base, s_on_reap, self);
    if (!self->ev_deadline || !self->ev_reap) {
        fetch_destroy(&self);
        return NULL;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(self->why, sizeof self->why, "no pipe for poe-fetch: %s", strerror(errno));
        event_active(self->ev_reap, EV_TIMEOUT, 0);
        return self;
    }
    int rc = s_spawn(self, req, p[1]);
    close(p[1]);
    self->fd = p[0];
    if (rc == 0 && fcntl(self->fd, F_SETFL, O_NONBLOCK) == 0)
        self->ev_read = event_new(base, self->fd, EV_READ | EV_PERSIST, s_on_read, self);
    if (rc != 0 || !self->ev_read || event_add(self->ev_read, NULL) != 0) {
        snprintf(self->why, sizeof self->why, "cannot start %s: %s", req->helper,
                 rc ? strerror(rc) : "no event");
        if (self->pid > 0)
            kill(self->pid, SIGKILL);
        close(self->fd);
        self->fd = -1;
        event_active(self->ev_reap, EV_TIMEOUT, 0);
        return self;
    }
    struct timeval tv = { self->deadline_s, 0 };
    evtimer_add(self->ev_deadline, &tv);
    return self;
}

void fetch_destroy(fetch_t **self_p)
{
    fetch_t *self = *self_p;
    if (!self)
        return;
    if (self->pid > 0) {
        kill(self->pid, SIGKILL);
        while (waitpid(self->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (self->ev_read)
        event_free(self->ev_read);
    if (self->fd >= 0)
        close(self->fd);
    if (self->ev_deadline)
        event_free(self->ev_deadline);
    if (self->ev_reap)
        event_free(self->ev_reap);
    free(self->buf);
    free(self);
    *self_p = NULL;
}
