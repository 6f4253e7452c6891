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
#include "vec.h"
#include "zwatch.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES 7          /* version, id, domain, address, identity, mechanism, key */

typedef struct {
    char crossing[7];
    char name[32];
    int line;               /* where it was first listed */
} zap_own_t;

/* A parsed allowlist: its keys and who owns which crossing. */
typedef struct {
    zap_entry_t *v;
    int n;
    zap_own_t *own;
    size_t n_own, cap_own;
} zap_list_t;

struct zap {
    void *sock;
    zwatch_t *watch;
    char *path;
    zap_list_t list;
    stats_t *stats;
    peerwatch_t *denied;        /* refused keys, counted once per episode of retries */
};

/* A key that keeps retrying within this counts (and is logged) once. */
#define ZAP_DENIED_WINDOW_MS 60000

static void s_list_free(zap_list_t *l)
{
    free(l->v);
    free(l->own);
    memset(l, 0, sizeof *l);
}

static const zap_own_t *s_own_find(const zap_own_t *own, size_t n, const char *crossing)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(own[i].crossing, crossing) == 0)
            return &own[i];
    return NULL;
}

static bool s_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* An entry's `crossings`: the region (its name) owns each. A crossing owned
 * under another name rejects the file: two owners would refuse each other. */
static int s_owns(config_setting_t *list, const char *path, int line, zap_entry_t *out,
                  zap_list_t *l)
{
    int n = config_setting_is_aggregate(list) ? config_setting_length(list) : -1;
    if (n <= 0 || !out->name[0] || strcmp(out->crossing, "*") != 0 || out->dir != 0) {
        log_error("%s:%d: crossings = [ ... ] wants a non-empty list, a name = \"...\" for the "
                  "region, and crossing and direction \"*\" (or left out)", path, line);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *c = config_setting_get_string_elem(list, i);
        if (!c || !tax_crossing_id_valid(c)) {
            log_error("%s:%d: crossings: entry %d is not a 6-digit port number", path, line, i + 1);
            return -1;
        }
        const zap_own_t *o = s_own_find(l->own, l->n_own, c);
        if (o && strcmp(o->name, out->name) != 0) {
            log_error("%s:%d: crossing %s is owned by region %s (line %d) and region %s: one "
                      "owner per crossing", path, line, c, o->name, o->line, out->name);
            return -1;
        }
        if (!o) {
            if (VEC_RESERVE(l->own, l->cap_own, l->n_own + 1) != 0)
                return -1;
            zap_own_t *w = &l->own[l->n_own++];
            snprintf(w->crossing, sizeof w->crossing, "%s", c);
            snprintf(w->name, sizeof w->name, "%s", out->name);
            w->line = line;
        }
    }
    out->owns = n;
    return 0;
}

static int s_entry(config_setting_t *e, const char *path, int i, zap_entry_t *out, zap_list_t *l)
{
    const char *key = NULL, *crossing = NULL, *dir = NULL, *name = NULL;
    int backfill = 0;
    int line = config_setting_source_line(e);
    config_setting_lookup_string(e, "key", &key);
    config_setting_lookup_string(e, "crossing", &crossing);
    config_setting_lookup_string(e, "direction", &dir);
    config_setting_lookup_string(e, "name", &name);
    config_setting_lookup_bool(e, "backfill", &backfill);
    config_setting_t *owns = config_setting_get_member(e, "crossings");
    memset(out, 0, sizeof *out);
    if (!key || curve_load_public(key, out->key) != 0) {
        log_error("%s:%d: agent %d: key missing or not a Z85 public key / key file", path, line, i + 1);
        return -1;
    }
    if (name && !s_name_valid(name)) {
        log_error("%s:%d: agent %d: name must be 1..31 letters, digits, '-', '_' or '.'", path,
                  line, i + 1);
        return -1;
    }
    /* A region's list of crossings implies it forwards for many. */
    if (owns && !crossing)
        crossing = "*";
    if (owns && !dir)
        dir = "*";
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
    snprintf(out->name, sizeof out->name, "%s", name ? name : "");
    out->backfill = backfill != 0;
    return owns ? s_owns(owns, path, line, out, l) : 0;
}

/* Parse an allowlist file: 0, or -1 (reason logged). */
static int s_parse_file(const char *path, zap_list_t *out)
{
    config_t cfg;
    config_init(&cfg);
    memset(out, 0, sizeof *out);
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
    out->v = calloc((size_t)(n ? n : 1), sizeof *out->v);
    int rc = out->v ? 0 : -1;
    for (int i = 0; out->v && i < n && rc == 0; i++)
        if (s_entry(config_setting_get_elem(list, (unsigned)i), path, i, &out->v[i], out) != 0)
            rc = -1; /* one bad line rejects the file: a half-loaded allowlist is a surprise */
    config_destroy(&cfg);
    if (rc < 0) {
        s_list_free(out);
        return -1;
    }
    out->n = n;
    return 0;
}

/* Crossings of l the registry does not have, each logged. */
static int s_unknown_crossings(const zap_list_t *l, const char *path, const registry_t *reg)
{
    int bad = 0;
    for (size_t i = 0; i < l->n_own; i++)
        if (!reg_find(reg, l->own[i].crossing)) {
            log_error("%s:%d: region %s owns crossing %s, which is not in the registry: its "
                      "samples would all be refused", path, l->own[i].line, l->own[i].name,
                      l->own[i].crossing);
            bad++;
        }
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].crossing, "*") != 0 && !reg_find(reg, l->v[i].crossing)) {
            log_error("%s: agent %d%s%s is bound to crossing %s, which is not in the registry: "
                      "its samples would all be refused", path, i + 1, l->v[i].name[0] ? " " : "",
                      l->v[i].name, l->v[i].crossing);
            bad++;
        }
    return bad;
}

int zap_check_file(const char *allowlist, const registry_t *reg)
{
    zap_list_t l;
    if (s_parse_file(allowlist, &l) != 0)
        return -1;
    int n = reg && s_unknown_crossings(&l, allowlist, reg) > 0 ? -1 : l.n;
    s_list_free(&l);
    return n;
}

int zap_reload(zap_t *self)
{
    zap_list_t l;
    if (s_parse_file(self->path, &l) != 0) {
        log_error("allowlist %s not reloaded: the previous one stays in force", self->path);
        return -1;
    }
    s_list_free(&self->list);
    self->list = l;
    log_info("allowlist %s: %d agent key(s), %zu crossing(s) owned by regions", self->path, l.n,
             l.n_own);
    return 0;
}

const zap_entry_t *zap_lookup(const zap_t *self, const char *key)
{
    for (int i = 0; key && i < self->list.n; i++)
        if (strcmp(self->list.v[i].key, key) == 0)
            return &self->list.v[i];
    return NULL;
}

const char *zap_owner(const zap_t *self, const char *crossing)
{
    const zap_own_t *o = crossing ? s_own_find(self->list.own, self->list.n_own, crossing) : NULL;
    return o ? o->name : NULL;
}

void zap_describe(const zap_entry_t *e, char *buf, size_t len)
{
    if (strcmp(e->crossing, "*") != 0)
        snprintf(buf, len, "key of %s/%s%s%s%s", e->crossing, e->dir ? tax_dir_name(e->dir) : "*",
                 e->name[0] ? " (" : "", e->name, e->name[0] ? ")" : "");
    else if (e->name[0])
        snprintf(buf, len, "region %s", e->name);
    else
        snprintf(buf, len, "region key %.12s...", e->key);
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

zap_t *zap_load(const char *allowlist)
{
    zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->path = strdup(allowlist);
    if (!self->path || zap_reload(self) != 0)
        zap_destroy(&self);
    return self;
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
    s_list_free(&self->list);
    free(self->path);
    peerwatch_destroy(&self->denied);
    free(self);
    *self_p = NULL;
}
