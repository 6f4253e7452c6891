/* static — see static.h. The path is checked twice: syntactically
 * (static_path_ok: nothing that could climb or hide) and after resolution
 * (realpath must stay under the root, so a symlink out is refused even
 * when its name is plain). The file is opened O_NOFOLLOW by its resolved
 * path and checked with fstat, so what is read is what was checked. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* HTML is revalidated every time (ETag → 304), so a new deploy shows at
 * once; the assets it loads may be reused for a few minutes. */
#define CACHE_HTML "no-cache"
#define CACHE_ASSET "public, max-age=300"
/* Below this, gzip costs more than it saves. */
#define GZIP_MIN 512

typedef struct {
    char rel[STATIC_MAX_PATH + 1];
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    http_cache_body_t *body, *gz;
    uint64_t used;            /* last use, for eviction */
} s_entry_t;

struct static_dir {
    char root[PATH_MAX];
    size_t rootlen;
    s_entry_t files[STATIC_MAX_FILES];
    uint64_t clock;
};

static const struct {
    const char *ext, *ctype;
    bool text;
} s_types[] = {
    { ".html", "text/html; charset=utf-8", true },
    { ".css", "text/css; charset=utf-8", true },
    { ".js", "text/javascript; charset=utf-8", true },
    { ".json", "application/json; charset=utf-8", true },
    { ".svg", "image/svg+xml", true },
    { ".txt", "text/plain; charset=utf-8", true },
    { ".png", "image/png", false },
    { ".ico", "image/x-icon", false },
    { ".woff2", "font/woff2", false },
};

static int s_type_index(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *dot = strrchr(slash ? slash : rel, '.');
    if (!dot)
        return -1;
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (strcmp(dot, s_types[i].ext) == 0)
            return (int)i;
    return -1;
}

const char *static_content_type(const char *rel)
{
    int i = rel ? s_type_index(rel) : -1;
    return i < 0 ? NULL : s_types[i].ctype;
}

static bool s_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

bool static_path_ok(const char *rel)
{
    if (!rel || !*rel || strlen(rel) > STATIC_MAX_PATH)
        return false;
    bool seg_start = true;
    for (const char *p = rel; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '/') {
            if (seg_start)          /* leading '/', or "//" */
                return false;
            seg_start = true;
            continue;
        }
        if (!s_name_char(c))        /* '%', '\\', controls, non-ASCII, ... */
            return false;
        if (seg_start && c == '.')  /* ".", "..", hidden files */
            return false;
        seg_start = false;
    }
    return !seg_start;              /* no trailing '/' */
}

static_dir_t *static_new(const char *dir)
{
    static_dir_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("dashboards: out of memory");
        return NULL;
    }
    struct stat st;
    errno = 0;
    if (!dir || !realpath(dir, self->root) || stat(self->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_warn("dashboards: %s is not a directory (%s): dashboards not served",
                 dir ? dir : "(none)", errno ? strerror(errno) : "not a directory");
        free(self);
        return NULL;
    }
    self->rootlen = strlen(self->root);
    return self;
}

static void s_entry_clear(s_entry_t *e)
{
    http_cache_body_unref(e->body);
    http_cache_body_unref(e->gz);
    memset(e, 0, sizeof *e);
}

void static_destroy(static_dir_t **self_p)
{
    static_dir_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < STATIC_MAX_FILES; i++)
        s_entry_clear(&self->files[i]);
    free(self);
    *self_p = NULL;
}

const char *static_root(const static_dir_t *self) { return self->root; }

/* Open rel under the root: -1 unless it resolves inside it to a regular
 * file of acceptable size. */
static int s_open(const static_dir_t *self, const char *rel, struct stat *st)
{
    char joined[PATH_MAX], resolved[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", self->root, rel) >= sizeof joined)
        return -1;
    if (!realpath(joined, resolved))
        return -1;
    /* "/" as root would make every path "inside"; rootlen 1 is handled by
     * the separator check being the root's own last byte. */
    if (strncmp(resolved, self->root, self->rootlen) != 0 ||
        (resolved[self->rootlen] != '/' && self->root[self->rootlen - 1] != '/'))
        return -1;
    int fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size < 0 ||
        (uint64_t)st->st_size > STATIC_MAX_FILE) {
        close(fd);
        return -1;
    }
    return fd;
}

static char *s_read_all(int fd, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {   /* error, or the file shrank under us */
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    return buf;
}

static int64_t s_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* rel's cache entry, else an empty one, else the least recently used. */
static s_entry_t *s_slot_for(static_dir_t *self, const char *rel)
{
    s_entry_t *empty = NULL, *lru = &self->files[0];
    for (int i = 0; i < STATIC_MAX_FILES; i++) {
        s_entry_t *e = &self->files[i];
        if (!e->body) {
            if (!empty)
                empty = e;
        } else if (strcmp(e->rel, rel) == 0) {
            return e;
        } else if (e->used < lru->used) {
            lru = e;
        }
    }
    return empty ? empty : lru;
}

int static_get(static_dir_t *self, const char *rel, bool want_gz, static_file_t *out)
{
    memset(out, 0, sizeof *out);
    int ti = static_path_ok(rel) ? s_type_index(rel) : -1;
    if (!self || ti < 0)
        return -1;
    struct stat st;
    int fd = s_open(self, rel, &st);
    if (fd < 0)
        return -1;
    s_entry_t *e = s_slot_for(self, rel);
    bool same = e->body && strcmp(e->rel, rel) == 0 && e->dev == st.st_dev &&
                e->ino == st.st_ino && e->size == st.st_size && e->mtime_ns == s_mtime_ns(&st);
    if (!same) {
        s_entry_clear(e);
        char *data = s_read_all(fd, (size_t)st.st_size);
        if (!data) {
            close(fd);
            return errno == ENOMEM ? -2 : -1;
        }
        e->body = http_cache_body_new(data, (size_t)st.st_size);
        if (!e->body) {
            close(fd);
            return -2;
        }
        snprintf(e->rel, sizeof e->rel, "%s", rel);
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        e->size = st.st_size;
        e->mtime_ns = s_mtime_ns(&st);
    }
    close(fd);
    e->used = ++self->clock;
    if (want_gz && s_types[ti].text && e->body->len >= GZIP_MIN && !e->gz)
        e->gz = http_cache_body_gzip(e->body);  /* NULL when out of memory: plain then */
    out->ctype = s_types[ti].ctype;
    out->cache = strcmp(s_types[ti].ext, ".html") == 0 ? CACHE_HTML : CACHE_ASSET;
    snprintf(out->etag, sizeof out->etag, "\"s%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
             (uint64_t)e->ino, (uint64_t)e->size, (uint64_t)e->mtime_ns);
    out->mtime_s = (int64_t)st.st_mtim.tv_sec;
    http_cache_body_ref(e->body);
    out->body = e->body;
    if (want_gz && e->gz) {
        http_cache_body_ref(e->gz);
        out->gz = e->gz;
    }
    return 0;
}
