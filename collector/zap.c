/* zap — see zap.h. */
#include "zap.h"

#include <errno.h>
#include <inttypes.h>
#include <event2/event.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"
#include "peerwatch.h"
#include "timeutil.h"
#include "zwatch.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES 7          /* version, id, domain, address, identity, mechanism, key */

struct zap {
    void *sock;
    zwatch_t *watch;
    char *path;
    zap_entry_t *v;
    int n;
    stats_t *stats;
    peerwatch_t *denied;        /* refused keys, counted once per episode of retries */
};

/* A key that keeps retrying within this counts (and is logged) once. */
#define ZAP_DENIED_WINDOW_MS 60000

static int s_entry(config_setting_t *e, const char *path, int i, zap_entry_t *out)
{
    const char *key = NULL, *crossing = NULL, *dir = NULL;
    int backfill = 0;
    int line = config_setting_source_line(e);
    config_setting_lookup_string(e, "key", &key);
    config_setting_lookup_string(e, "crossing", &crossing);
    config_setting_lookup_string(e, "direction", &dir);
    config_setting_lookup_bool(e, "backfill", &backfill);
    memset(out, 0, sizeof *out);
    if (!key || curve_load_public(key, out->key) != 0) {
        log_error("%s:%d: agent %d: key missing or not a Z85 public key / key file", path, line, i + 1);
        return -1;
    }
    /* "*" is a regional collector's key: it forwards for many crossings. */
    if (!crossing || (!tax_crossing_id_valid(crossing) && strcmp(crossing, "*") != 0)) {
        log_error("%s:%d: agent %d: crossing must be a 6-digit port number (or \"*\" for a "
                  "regional collector)", path, line, i + 1);
        return -1;
    }
    if (!dir || (tax_dir_parse(dir, &out->dir) != 0 && strcmp(dir, "*") != 0)) {
        log_error("%s:%d: agent %d: direction must be northbound, southbound or \"*\"", path, line,
                  i + 1);
        return -1;
    }
    if (strcmp(dir, "*") == 0)
        out->dir = (enum tax_dir)0;
    snprintf(out->crossing, sizeof out->crossing, "%s", crossing);
    out->backfill = backfill != 0;
    return 0;
}

/* Parse an allowlist file into entries: the count, or -1 (reason logged). */
static int s_parse_file(const char *path, zap_entry_t **out)
{
    config_t cfg;
    config_init(&cfg);
    *out = NULL;
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            log_error("%s: cannot read the agent allowlist", path);
        else
            log_error("%s:%d: %s", path, config_error_line(&cfg), config_error_text(&cfg));
        config_destroy(&cfg);
        return -1;
    }
    config_setting_t *list = config_lookup(&cfg, "agents");
    int n = list && config_setting_is_list(list) ? config_setting_length(list) : -1;
    if (n < 0) {
        log_error("%s: no 'agents = ( ... );' list", path);
        config_destroy(&cfg);
        return -1;
    }
    zap_entry_t *v = calloc((size_t)(n ? n : 1), sizeof *v);
    int rc = v ? n : -1;
    for (int i = 0; v && i < n && rc >= 0; i++)
        if (s_entry(config_setting_get_elem(list, (unsigned)i), path, i, &v[i]) != 0)
            rc = -1; /* one bad line rejects the file: a half-loaded allowlist is a surprise */
    config_destroy(&cfg);
    if (rc < 0) {
        free(v);
        return -1;
    }
    *out = v;
    return rc;
}

int zap_check_file(const char *allowlist)
{
    zap_entry_t *v;
    int n = s_parse_file(allowlist, &v);
    if (n >= 0)
        free(v);
    return n;
}

int zap_reload(zap_t *self)
{
    zap_entry_t *v;
    int n = s_parse_file(self->path, &v);
    if (n < 0) {
        log_error("allowlist %s not reloaded: the previous one stays in force", self->path);
        return -1;
    }
    free(self->v);
    self->v = v;
    self->n = n;
    log_info("allowlist %s: %d agent key(s)", self->path, n);
    return 0;
}

const zap_entry_t *zap_lookup(const zap_t *self, const char *key)
{
    for (int i = 0; key && i < self->n; i++)
        if (strcmp(self->v[i].key, key) == 0)
            return &self->v[i];
    return NULL;
}

static void s_send(void *sock, const char *s, int more)
{
    zmq_send(sock, s, strlen(s), more ? ZMQ_SNDMORE : 0);
}

/* A refused handshake: counted once per key (per address for a non-CURVE
 * request) and episode, since libzmq retries every 100 ms; the retries are
 * in handshake_attempts_failed (ingest's monitor counts every attempt). */
static void s_denied(zap_t *self, const char *key, const char *addr_frame, size_t addr_len)
{
    char addr[PEERWATCH_ADDR_MAX], who[PEERWATCH_WHO_MAX];
    size_t n = addr_len < sizeof addr - 1 ? addr_len : sizeof addr - 1;
    memcpy(addr, addr_frame, n);
    addr[n] = '\0';
    snprintf(who, sizeof who, "%s", key ? key : addr);
    uint64_t attempts = 0;
    switch (peerwatch_seen(self->denied, who, tu_mono_ms(), &attempts)) {
    case PEERWATCH_NEW:
        self->stats->handshake_denied++;
        log_warn("handshake refused: %s key %s from %s is not in the allowlist (its retries are "
                 "counted once)", key ? "CURVE" : "non-CURVE", key ? key : "-", *addr ? addr : "?");
        break;
    case PEERWATCH_REMIND:
        log_warn("handshake refused: key %s from %s still trying, %" PRIu64 " attempts so far",
                 key ? key : "-", *addr ? addr : "?", attempts);
        break;
    case PEERWATCH_QUIET:
        break;
    }
}

/* Answer one request: frames are read whole, then judged. -1 when no
 * request was waiting. */
static int s_handle(zap_t *self)
{
    char frames[ZAP_FRAMES][256];
    size_t lens[ZAP_FRAMES];
    int nf = 0, more = 1;
    while (more) {
        char buf[256];
        int n = zmq_recv(self->sock, buf, sizeof buf, nf == 0 ? ZMQ_DONTWAIT : 0);
        if (n < 0)
            return -1;
        if (nf < ZAP_FRAMES) {
            size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
            memcpy(frames[nf], buf, len);
            lens[nf++] = len;
        }
        size_t ml = sizeof more;
        zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &ml);
    }
    char key[CURVE_KEY_Z85] = "";
    bool curve = nf == ZAP_FRAMES && lens[5] == 5 && memcmp(frames[5], "CURVE", 5) == 0 &&
                 lens[6] == 32;
    if (curve)
        zmq_z85_encode(key, (const uint8_t *)frames[6], 32);
    const zap_entry_t *e = curve ? zap_lookup(self, key) : NULL;
    s_send(self->sock, "1.0", 1);
    zmq_send(self->sock, nf >= 2 ? frames[1] : "", nf >= 2 ? lens[1] : 0, ZMQ_SNDMORE);
    if (e) {
        s_send(self->sock, "200", 1);
        s_send(self->sock, "OK", 1);
        s_send(self->sock, key, 1);
    } else {
        s_denied(self, curve ? key : NULL, nf >= 4 ? frames[3] : "", nf >= 4 ? lens[3] : 0);
        s_send(self->sock, "400", 1);
        s_send(self->sock, "key not allowed", 1);
        s_send(self->sock, "", 1);
    }
    s_send(self->sock, "", 0); /* metadata */
    return 0;
}

static int s_on_request(void *arg)
{
    return s_handle(arg);
}

zap_t *zap_new(struct event_base *base, void *zctx, const char *allowlist, stats_t *stats)
{
    zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->stats = stats;
    self->path = strdup(allowlist);
    self->denied = peerwatch_new(ZAP_DENIED_WINDOW_MS);
    if (!self->path || !self->denied || zap_reload(self) != 0)
        goto fail;
    self->sock = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (!self->sock || zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(self->sock, ZAP_ENDPOINT) != 0) {
        log_error("ZAP handler: %s", zmq_strerror(errno));
        goto fail;
    }
    zwatch_handlers_t h = { .on_message = s_on_request, .arg = self };
    self->watch = zwatch_new(base, self->sock, &h);
    if (!self->watch)
        goto fail;
    return self;
fail:
    zap_destroy(&self);
    return NULL;
}

void zap_destroy(zap_t **self_p)
{
    zap_t *self = *self_p;
    if (!self)
        return;
    zwatch_destroy(&self->watch);
    if (self->sock)
        zmq_close(self->sock);
    free(self->v);
    free(self->path);
    peerwatch_destroy(&self->denied);
    free(self);
    *self_p = NULL;
}
