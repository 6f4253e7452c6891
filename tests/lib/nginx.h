/* nginx — run nginx beside a test or a benchmark as an ordinary process:
 * its own configuration in a directory of ours, one worker, on a loopback
 * port, serving deploy/nginx/poenet-feed.conf (the shipped site, with its
 * three POENET lines pointed at our port, docroot and collector).
 *
 * When we run as root the worker drops to nobody:nogroup (nginx's own
 * rule), so the directories it reads are made world-readable. Nothing is
 * written outside dir. */
#ifndef POE_TEST_NGINX_H
#define POE_TEST_NGINX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char dir[600];          /* nginx's own files: nginx.conf, site.conf, logs */
    int port;
    pid_t pid;              /* > 0 while running */
} ngx_t;

/* The nginx binary (/usr/sbin/nginx, else found in PATH), NULL if absent. */
const char *ngx_binary(void);

/* Write <dir>/nginx.conf and <dir>/site.conf: the site from site_conf
 * (deploy/nginx/poenet-feed.conf) listening on 127.0.0.1:port, with root
 * docroot and the collector at 127.0.0.1:coll_port. 0, or -1 after a
 * message. */
int ngx_configure(ngx_t *n, const char *dir, const char *site_conf, int port,
                  const char *docroot, int coll_port);

/* `nginx -t` on the configuration: 0 when nginx accepts it, else -1 (its
 * output is in <dir>/nginx-t.log). */
int ngx_check(const ngx_t *n);

/* Start nginx in the foreground and wait for its port: 0, or -1 after a
 * message naming the log. */
int ngx_start(ngx_t *n);

/* Write len bytes of data as <docroot>/<file>, making the directories on
 * the way (world-readable, for nginx's worker). 0, or -1. */
int ngx_docroot_put(const char *docroot, const char *file, const char *data, size_t len);

/* Stop it (safe when not running). */
void ngx_stop(ngx_t *n);

#endif
