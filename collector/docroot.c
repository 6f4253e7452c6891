/* docroot — see docroot.h. */
#include "docroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

struct docroot {
    char dir[PATH_MAX];
    int64_t written_second;
    uint64_t written, failed;
    bool failing;             /* log a failure once, until a success */
};

char *docroot_file_for(enum route_kind kind, const char *id, char *buf, size_t len)
{
    const char *fmt = NULL;
    switch (kind) {
    case ROUTE_CROSSINGS: fmt = "v1/crossings.json"; break;
    case ROUTE_CROSSING: fmt = "v1/crossings/%s.json"; break;
    case ROUTE_CBP_XML: fmt = "xml/bwt.xml"; break;
    case ROUTE_CBP_BWTNEW: fmt = "api/bwtnew.json"; break;
    case ROUTE_CBP_WAITTIMES: fmt = "api/waittimes.json"; break;
    case ROUTE_CBP_PORT: fmt = "api/bwtpublicmod/%s.json"; break;
    case ROUTE_CBSA_CSV: fmt = "bwt-taf/bwt-eng.csv"; break;
    case ROUTE_CBSA_JSON: fmt = "bwt-taf/bwt-eng.json"; break;
    case ROUTE_CBSA_CSV_FR: fmt = "bwt-taf/bwt-fra.csv"; break;
    case ROUTE_CBSA_JSON_FR: fmt = "bwt-taf/bwt-fra.json"; break;
    case ROUTE_HOURS: fmt = "v1/hours.json"; break;
    case ROUTE_MISMATCHES: fmt = "v1/hours/mismatches.json"; break;
    default: return NULL;
    }
    if (strchr(fmt, '%') && (!id || !tax_crossing_id_valid(id)))
        return NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    int n = snprintf(buf, len, fmt, id ? id : "");
#pragma GCC diagnostic pop
    return n > 0 && (size_t)n < len ? buf : NULL;
}

static int s_mkdirs(const char *root, const char *rel)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path)
        return -1;
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* root/rel (+ suffix) := body, by a temporary file in the same directory
 * and rename; mtime second. */
static int s_put(const char *root, const char *rel, const char *suffix,
                 const http_cache_body_t *body, int64_t second)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s%s", root, rel, suffix) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    struct timespec t[2] = { { .tv_sec = second }, { .tv_sec = second } };
    int rc = http_cache_body_write(body, fd);
    if (rc == 0)
        rc = futimens(fd, t);
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

docroot_t *docroot_new(const char *dir)
{
    if (!dir || !*dir) {
        log_error("--publish-dir: empty");
        return NULL;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        log_error("--publish-dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    docroot_t *self = calloc(1, sizeof *self);
    if (!self || !realpath(dir, self->dir)) {
        log_error("--publish-dir %s: %s", dir, self ? strerror(errno) : "out of memory");
        free(self);
        return NULL;
    }
    self->written_second = -1;
    log_info("publishing the public documents to %s", self->dir);
    return self;
}

void docroot_destroy(docroot_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

/* One document and its gzip sibling; 0, or the number of files failed. */
static int s_put_doc(docroot_t *self, http_snap_doc_t *doc, enum route_kind as, int *tried)
{
    char rel[64];
    if (!doc->plain || !docroot_file_for(as, doc->id, rel, sizeof rel))
        return 0;
    *tried += 2;
    if (s_mkdirs(self->dir, rel) != 0)
        return 2;
    http_cache_body_t *gz = http_snap_doc_gz(doc);
    /* The gzip first: a reader of the new plain file finds a .gz at least
     * as new (nginx checks the .gz first). */
    int bad = (!gz || s_put(self->dir, rel, ".gz", gz, doc->second) != 0);
    http_cache_body_unref(gz);
    bad += s_put(self->dir, rel, "", doc->plain, doc->second) != 0;
    return bad;
}

int docroot_write(docroot_t *self, const http_snap_t *snap)
{
    if (http_snap_second(snap) == self->written_second)
        return 0;
    self->written_second = http_snap_second(snap);
    int bad = 0, n = 0;
    for (size_t i = 0; i < http_snap_count(snap); i++) {
        http_snap_doc_t *doc = http_snap_at(snap, i);
        bad += s_put_doc(self, doc, doc->kind, &n);
        if (doc->kind == ROUTE_CBP_BWTNEW) /* the same body under CBP's other name */
            bad += s_put_doc(self, doc, ROUTE_CBP_WAITTIMES, &n);
    }
    self->written += (uint64_t)(n - bad);
    self->failed += (uint64_t)bad;
    if (bad && !self->failing)
        log_error("--publish-dir %s: %d files not written (%s); retried every second",
                  self->dir, bad, strerror(errno));
    else if (!bad && self->failing)
        log_info("--publish-dir %s: written again", self->dir);
    self->failing = bad > 0;
    return bad;
}

uint64_t docroot_written(const docroot_t *self) { return self->written; }
uint64_t docroot_failed(const docroot_t *self) { return self->failed; }
