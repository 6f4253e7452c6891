/* docroot — the public documents written to a directory (--publish-dir),
 * so nginx or a CDN can serve the live feed while the collector keeps
 * serving history, health and metrics (deploy/nginx/poenet-feed.conf).
 *
 * Every document of a snapshot (http_snap.h) is written with its gzip
 * sibling (NAME.gz, for nginx's gzip_static), each by write + rename, so a
 * reader sees the old file or the new one, never a part. The file's mtime
 * is the document's Last-Modified second. A request path maps to a file as
 * docroot_file_for says (the extension makes nginx's Content-Type; the
 * shipped nginx site maps the extension-less paths).
 *
 * At most one write of the whole set per wall second (the documents carry
 * ages in seconds, so they change every second anyway): a burst of state
 * versions within a second reaches the directory with the next one.
 * Failures are logged once until the next success, and counted. Runs on
 * the collector's main loop. */
#ifndef POE_DOCROOT_H
#define POE_DOCROOT_H

#include <stddef.h>
#include <stdint.h>

#include "http_snap.h"

typedef struct docroot docroot_t;

/* Write into dir (created if missing, with its parents' existence
 * required). NULL when it cannot be used (logged). */
docroot_t *docroot_new(const char *dir);
void docroot_destroy(docroot_t **self_p);

/* Write every document of snap (skipped when this second was written).
 * Returns the number of files that could not be written. */
int docroot_write(docroot_t *self, const http_snap_t *snap);

/* The relative file of a document, e.g. "v1/crossings.json",
 * "v1/crossings/250401.json", "xml/bwt.xml" (buf >= 64 bytes). Returns
 * buf, NULL for a kind that is not written. */
char *docroot_file_for(enum route_kind kind, const char *id, char *buf, size_t len);

/* Files written, files that failed, since the start. */
uint64_t docroot_written(const docroot_t *self);
uint64_t docroot_failed(const docroot_t *self);

#endif
