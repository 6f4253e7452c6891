/* fetch — one HTTP GET made by a child process, poe-fetch (tools/fetch),
 * and its answer read on a libevent base.
 *
 * Why a process: libcurl brings TLS, Kerberos, LDAP and their kin into
 * whatever links it, ~5 MB of resident memory for a request made every few
 * minutes (docs/performance.md 1s), and a fault in that stack while it talks
 * to a server on the Internet would take the daemon down with it. The child
 * lives for one request; the collector links no HTTP client.
 *
 * Contract: fetch_new starts the child and returns at once; the loop reads
 * its answer and `done` is called exactly once on that base — unless
 * fetch_destroy comes first, which kills and reaps the child and calls
 * nothing. Whatever goes wrong (no helper, a helper killed or silent past
 * the request's timeout plus FETCH_GRACE_S, an answer that is not one) is
 * an outcome of the answer, never a stall: the helper is killed at that
 * deadline. The answer and its body belong to the fetch; they live until
 * `done` returns. */
#ifndef POE_FETCH_H
#define POE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

/* What became of a request. The helper decides the first five. */
enum fetch_outcome {
    FETCH_DONE = 0,      /* a response was read whole (any HTTP status) */
    FETCH_TIMEOUT,       /* the connect or total timeout passed */
    FETCH_REDIRECTS,     /* more redirects than allowed */
    FETCH_TOO_LARGE,     /* the body passed max_bytes */
    FETCH_TRANSPORT,     /* DNS, connect, TLS, a broken response... */
    FETCH_HELPER,        /* the helper did not run or gave no answer */
    FETCH_NOUTCOMES
};

/* The helper's answer on its standard output: "poe-fetch 1\n", then
 * "key value\n" lines (outcome, http, etag, last-modified, error, length),
 * an empty line and `length` bytes of body (decoded). */
#define FETCH_MAGIC "poe-fetch 1"
#define FETCH_HEAD_MAX 4096
#define FETCH_GRACE_S 5

typedef struct {
    const char *helper;              /* path of poe-fetch */
    const char *url;
    const char *user_agent;
    const char *if_none_match;       /* NULL or "": not sent */
    const char *if_modified_since;
    long connect_timeout_s, total_timeout_s;
    long max_redirects;
    size_t max_bytes;
} fetch_req_t;

typedef struct {
    enum fetch_outcome outcome;
    long http;                       /* the final response's status; 0 none */
    char etag[256], last_modified[64]; /* of the final response */
    char error[200];                 /* why, for the log; "" when FETCH_DONE */
    const char *body;                /* NUL-terminated; len bytes */
    size_t len;
} fetch_answer_t;

typedef void(fetch_done_fn)(void *arg, const fetch_answer_t *answer);

typedef struct fetch fetch_t;

/* NULL only when the base cannot take its events (allocation); a helper
 * that cannot be started is reported through `done` on the next turn. */
fetch_t *fetch_new(struct event_base *base, const fetch_req_t *req, fetch_done_fn *done,
                   void *arg);
void fetch_destroy(fetch_t **self_p);

/* Parse a helper's whole output into *a (body pointing into buf, which
 * must hold one byte more than len for the terminating NUL). 0, or -1
 * with a->error saying what is wrong. */
int fetch_parse_answer(char *buf, size_t len, fetch_answer_t *a);

const char *fetch_outcome_name(enum fetch_outcome o);

/* The poe-fetch beside the running program (/proc/self/exe), else the
 * first on PATH; when there is none, the path beside the program (for the
 * error that names it), "" when that cannot be told. Static buffer. */
const char *fetch_default_helper(void);

#endif
