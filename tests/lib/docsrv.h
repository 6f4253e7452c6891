/* docsrv — a tiny HTTP server on loopback, on its own thread, serving a
 * few fixed documents (e.g. the official CBP and CBSA samples under
 * deploy/data) to a collector under test.
 *
 * Each document answers GET with 200, its Content-Type and an ETag, and a
 * request carrying that ETag in If-None-Match with 304, as the real feeds
 * do; any other path is 404. Documents are added before docsrv_start and
 * never change afterwards, so the server thread only reads them. */
#ifndef POE_TEST_DOCSRV_H
#define POE_TEST_DOCSRV_H

#include <stdint.h>

typedef struct docsrv docsrv_t;

docsrv_t *docsrv_new(void);
/* Serve the file at path (e.g. "/api/bwtnew"). 0, or -1 when unreadable. */
int docsrv_add_file(docsrv_t *self, const char *path, const char *file, const char *ctype);
/* Bind 127.0.0.1 on a free port and serve from a thread. 0 or -1. */
int docsrv_start(docsrv_t *self);
int docsrv_port(const docsrv_t *self);
/* GET requests answered so far (200 and 304), read from any thread. */
uint64_t docsrv_requests(const docsrv_t *self);
uint64_t docsrv_not_modified(const docsrv_t *self);
/* Stop the thread and free everything (NULL-safe). */
void docsrv_destroy(docsrv_t **self_p);

#endif
