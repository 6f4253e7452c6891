/* poe-sub — print a collector's live feed of wait updates, for people and
 * scripts.
 *
 * Subscribes first, then asks for a snapshot, prints it, and prints every
 * update newer than the snapshot. A sequence gap (an update lost at the
 * publisher's high-water mark or on the network, or seen through a
 * heartbeat) is reported and healed with a new snapshot, so what is shown
 * is never silently incomplete. */
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "conf.h"
#include "curve.h"
#include "curvesock.h"
#include "log.h"

typedef struct {
    char *feed, *snapshot, *topic, *curve_secret, *server_key;
    bool json;
    long count;
} sub_opts_t;

typedef struct {
    sub_opts_t o;
    void *ctx, *sub, *req;
    uint64_t last;       /* newest seq applied */
    long printed;
} sub_t;

static int s_recv_str(void *sock, char *buf, size_t len, int *more)
{
    int n = zmq_recv(sock, buf, len - 1, 0);
    if (n < 0)
        return -1;
    buf[(size_t)n < len - 1 ? (size_t)n : len - 1] = '\0';
    size_t ml = sizeof *more;
    zmq_getsockopt(sock, ZMQ_RCVMORE, more, &ml);
    return 0;
}

static uint64_t s_seq_of(json_t *j)
{
    return (uint64_t)json_integer_value(json_object_get(j, "seq"));
}

/* One update line: human or the JSON body as received. */
static void s_print(sub_t *s, const char *body, json_t *j)
{
    if (s->o.count > 0 && s->printed >= s->o.count)
        return;
    if (s->o.json) {
        printf("%s\n", body);
    } else {
        json_t *q = json_object_get(j, "queue");
        json_t *w = json_object_get(q, "wait_min");
        json_t *l = json_object_get(q, "lanes_open");
        char wait[32] = "-", lanes[16] = "-";
        if (json_is_integer(w))
            snprintf(wait, sizeof wait, "%" JSON_INTEGER_FORMAT " min", json_integer_value(w));
        if (json_is_integer(l))
            snprintf(lanes, sizeof lanes, "%" JSON_INTEGER_FORMAT, json_integer_value(l));
        printf("%-8" PRIu64 " %s %-10s into %s %-10s %-12s %-8s %-8s lanes %s  updated %s\n",
               s_seq_of(j), json_string_value(json_object_get(j, "crossing")),
               json_string_value(json_object_get(j, "direction")),
               json_string_value(json_object_get(j, "into")),
               json_string_value(json_object_get(q, "mode")),
               json_string_value(json_object_get(q, "lane")),
               json_string_value(json_object_get(q, "status")), wait, lanes,
               json_is_string(json_object_get(q, "updated"))
                   ? json_string_value(json_object_get(q, "updated")) : "-");
    }
    fflush(stdout);
    s->printed++;
}

/* Ask for the state under the topic prefix; print it; remember its seq. */
static int s_snapshot(sub_t *s)
{
    char req[128];
    snprintf(req, sizeof req, "SNAPSHOT %s", s->o.topic);
    if (zmq_send(s->req, req, strlen(req), 0) < 0)
        return -1;
    for (;;) {
        char topic[128], body[8192];
        int more = 0;
        if (s_recv_str(s->req, topic, sizeof topic, &more) != 0 || !more ||
            s_recv_str(s->req, body, sizeof body, &more) != 0) {
            log_error("no snapshot from %s", s->o.snapshot);
            return -1;
        }
        json_t *j = json_loads(body, 0, NULL);
        if (!j)
            continue;
        if (strcmp(topic, "END") == 0) {
            s->last = s_seq_of(j);
            json_decref(j);
            return 0;
        }
        s_print(s, body, j);
        json_decref(j);
    }
}

static int s_connect(sub_t *s)
{
    s->ctx = zmq_ctx_new();
    s->sub = zmq_socket(s->ctx, ZMQ_SUB);
    s->req = zmq_socket(s->ctx, ZMQ_DEALER);
    int linger = 0, timeout = 5000;
    zmq_setsockopt(s->req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s->sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (s->o.curve_secret) {
        curve_pair_t me;
        char server[CURVE_KEY_Z85];
        if (!s->o.server_key || curve_load_pair(s->o.curve_secret, &me) != 0 ||
            curve_load_public(s->o.server_key, server) != 0) {
            log_error("CURVE needs --curve-secret and --server-key");
            return -1;
        }
        if (curvesock_client(s->sub, &me, server) != 0 || curvesock_client(s->req, &me, server) != 0)
            return -1;
    }
    zmq_setsockopt(s->sub, ZMQ_SUBSCRIBE, s->o.topic, strlen(s->o.topic));
    zmq_setsockopt(s->sub, ZMQ_SUBSCRIBE, "hb", 2);
    return zmq_connect(s->sub, s->o.feed) == 0 && zmq_connect(s->req, s->o.snapshot) == 0 ? 0 : -1;
}

/* Apply one live message. Returns 1 when a gap needs a new snapshot. */
static int s_live(sub_t *s, const char *topic, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    if (!j)
        return 0;
    uint64_t seq = s_seq_of(j);
    int gap = 0;
    if (strcmp(topic, "hb") == 0) {
        gap = seq > s->last; /* updates we never saw (or filtered by topic: see below) */
    } else if (seq > s->last) {
        s_print(s, body, j);
        s->last = seq;
    }
    json_decref(j);
    return gap;
}

int main(int argc, char **argv)
{
    sub_t s = { .o = { .feed = "tcp://127.0.0.1:5556", .snapshot = "tcp://127.0.0.1:5557",
                       .topic = "wait." } };
    const conf_opt_t opts[] = {
        { "feed", CONF_STR, &s.o.feed, "ENDPOINT", "the collector's --feed [tcp://127.0.0.1:5556]" },
        { "snapshot", CONF_STR, &s.o.snapshot, "ENDPOINT", "its --feed-snapshot [tcp://127.0.0.1:5557]" },
        { "topic", CONF_STR, &s.o.topic, "PREFIX", "e.g. wait.250401. for one crossing [wait.]" },
        { "json", CONF_FLAG, &s.o.json, NULL, "print each update's JSON body, one per line" },
        { "curve-secret", CONF_STR, &s.o.curve_secret, "FILE", "this subscriber's key pair, for a feed run with --feed-curve" },
        { "server-key", CONF_STR, &s.o.server_key, "KEY", "the collector's public key (or .pub file)" },
        { "count", CONF_INT, &s.o.count, "N", "exit after printing N updates (snapshot included) [0 = never]" },
    };
    int nopts = (int)(sizeof opts / sizeof opts[0]);
    log_init("poe-sub", LOG_LVL_INFO);
    int rc = conf_parse(opts, nopts, argc, argv, "poe-sub",
                        "Prints a poenet collector's live wait updates: a snapshot, then every change.");
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    int exit_code = 0;
    if (s_connect(&s) != 0 || s_snapshot(&s) != 0) {
        exit_code = 1;
    } else {
        while (s.o.count == 0 || s.printed < s.o.count) {
            char topic[128], body[8192];
            int more = 0;
            if (s_recv_str(s.sub, topic, sizeof topic, &more) != 0) {
                log_warn("no heartbeat from %s for 5 s", s.o.feed);
                continue;
            }
            if (!more || s_recv_str(s.sub, body, sizeof body, &more) != 0)
                continue;
            /* With a topic filter, heartbeats count updates we filtered
             * out too: only the unfiltered feed can see gaps by them. */
            if (s_live(&s, topic, body) && strcmp(s.o.topic, "wait.") == 0) {
                log_warn("gap before seq %s: taking a new snapshot", body);
                if (s_snapshot(&s) != 0) {
                    exit_code = 1;
                    break;
                }
            }
        }
    }
    zmq_close(s.sub);
    zmq_close(s.req);
    zmq_ctx_term(s.ctx);
    conf_free(opts, nopts);
    return exit_code;
}
