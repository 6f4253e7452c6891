/* static — the dashboards' files (dashboards/: HTML, CSS, JS, SVG, PNG)
 * served by the collector, from one directory and never from outside it.
 *
 * A request names a file by a relative path of plain segments
 * ([A-Za-z0-9_-][A-Za-z0-9._-]*, joined by single '/'): no "..", no ".",
 * no hidden files, no '%' escapes, no backslash, no absolute path. The
 * file is then resolved with realpath() and must still lie under the
 * directory (a symlink pointing out is refused), be a regular file, no
 * larger than STATIC_MAX_FILE, and have an extension with a known
 * Content-Type (anything else is not served). Bodies are cached in memory
 * per file and revalidated by (inode, size, mtime) on every request, which
 * also makes the ETag. Single-threaded (the collector's loop). */
#ifndef POE_STATIC_H
#define POE_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_cache.h"

#define STATIC_MAX_FILE (4u << 20)   /* 4 MiB: dashboards are small */
#define STATIC_MAX_PATH 255          /* longest relative path served */
#define STATIC_MAX_FILES 64          /* files cached at once */

typedef struct static_dir static_dir_t;

/* One served file: a body reference (the caller owns one reference and
 * must http_cache_body_unref it), its gzip form when asked and worthwhile (NULL
 * otherwise; also one reference), its type, cache policy, tag and mtime. */
typedef struct {
    http_cache_body_t *body, *gz;
    const char *ctype, *cache;
    char etag[64];
    int64_t mtime_s;
} static_file_t;

/* True when rel (no leading '/') is a path static would look up: plain
 * segments only (see above), at most STATIC_MAX_PATH bytes. */
bool static_path_ok(const char *rel);

/* The Content-Type for rel's extension, NULL when that type is not served. */
const char *static_content_type(const char *rel);

/* Serve files from dir (resolved now with realpath; NULL when it is not a
 * readable directory — logged). */
static_dir_t *static_new(const char *dir);
void static_destroy(static_dir_t **self_p);

/* The resolved directory. */
const char *static_root(const static_dir_t *self);

/* Look rel up. 0 and *out filled (gz only when want_gz and the type is
 * text); -1 when it is not served (bad path, outside the directory, not a
 * regular file, unknown type, too large, unreadable: all look the same to
 * a client, a 404), -2 when out of memory. */
int static_get(static_dir_t *self, const char *rel, bool want_gz, static_file_t *out);

#endif
